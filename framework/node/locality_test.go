package node_test

import (
	"testing"
	"time"

	"github.com/constellation-chain/constellation/interfaces"
)

// TestLocalityMovesAccountsThatTransactTogetherAndLosesNothing: alice
// (cluster 0) and bob (cluster 1) pay each other back and forth. The
// galaxy's locality placement learns from the checkpoints' edge samples
// that they belong together and publishes a move in a beacon; both
// clusters apply it, the account's balance and chain head travel by a move
// receipt, and it goes on transacting in its new cluster. No noOs are lost
// or made, and no node ever answers for the account from two clusters.
func TestLocalityMovesAccountsThatTransactTogetherAndLosesNothing(t *testing.T) {
	tt := startTiersPlaced(t, tierMembers, []byte(`{"placement":"locality","relabel_every":2}`))
	names := map[interfaces.StarID]string{}
	alice := interfaces.DevStar(devIn(tt.owner, "alice", 0))
	bob := interfaces.DevStar(devIn(tt.owner, "bob", 1))
	names[alice], names[bob] = devIn(tt.owner, "alice", 0), devIn(tt.owner, "bob", 1)
	// keeper returns the one cluster node of a and b whose chain holds s's
	// chain head (and so orders its transactions), with that head. Nodes'
	// views of who owns s may overlap for a moment, one cluster having
	// claimed the move's beacon before the other; two holders never may.
	keeper := func(s interfaces.StarID) (string, uint64, interfaces.Hash, bool) {
		found, n := "", 0
		var seq uint64
		var last interfaces.Hash
		for _, nm := range []string{"a", "b"} {
			g := tt.nodes[nm].ClusterGroup()
			rseq, rlast, err := g.ChainHead(interfaces.PlacementStar(s))
			if err != nil {
				t.Fatal(err)
			}
			held := rseq == 0 && tt.owner(s) == g.Cluster()
			if p := interfaces.UnpackPlacement(rlast); rseq > 0 && p.Holds && p.Owner == g.Cluster() {
				held = true
			}
			if !held {
				continue
			}
			if q, l, err := g.ChainHead(s); err == nil {
				found, seq, last = nm, q, l
				n++
			}
		}
		if n > 1 {
			t.Fatalf("both clusters hold %s's chain", names[s])
		}
		return found, seq, last, n == 1
	}
	// pay has from pay to 1 noOs as its next transaction, resubmitted
	// until committed wherever from lives (while it moves, its clusters
	// refuse it).
	pay := func(from, to interfaces.StarID) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		var tx *interfaces.Transaction
		for {
			_, seq, last, ok := keeper(from)
			if ok && tx != nil && seq >= tx.Seq {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s's transfer never committed", names[from])
			}
			if ok && (tx == nil || tx.Seq != seq+1) {
				var err error
				if tx, err = interfaces.NewTransfer(interfaces.DevKey(names[from]), seq+1, last, to, 1); err != nil {
					t.Fatal(err)
				}
			}
			if tx != nil {
				_ = tt.nodes["c"].Submit(tx) // refused while the account is in flight; retried
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	moved := func() (interfaces.StarID, bool) {
		for _, s := range []interfaces.StarID{alice, bob} {
			if tt.nodes["a"].Owner(s) != tt.owner(s) && tt.nodes["b"].Owner(s) != tt.owner(s) {
				return s, true
			}
		}
		return interfaces.StarID{}, false
	}
	var mover interfaces.StarID
	for round := 0; ; round++ {
		if s, ok := moved(); ok {
			mover = s
			break
		}
		if round == 40 {
			t.Fatal("40 rounds of transfers between alice and bob moved neither")
		}
		pay(alice, bob)
		pay(bob, alice)
	}
	t.Logf("%s moved from cluster %d to cluster %d", names[mover], tt.owner(mover), tt.nodes["a"].Owner(mover))
	if tt.nodes["a"].Owner(alice) != tt.nodes["a"].Owner(bob) {
		t.Fatalf("alice and bob are still in different clusters after the move")
	}
	// The mover goes on in its new cluster, where the other pays it
	// without a receipt.
	pay(alice, bob)
	pay(bob, alice)
	if nm, _, _, _ := keeper(mover); nm == "" || tt.nodes[nm].ClusterGroup().Cluster() == tt.owner(mover) {
		t.Fatalf("%s is kept by %q, its old cluster", names[mover], nm)
	}
	waitFor(t, "every transfer and move credited", func() bool {
		held, genesis, minted := supply(t, tt)
		return held == genesis+minted
	})
}
