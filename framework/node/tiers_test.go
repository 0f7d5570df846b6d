package node_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/builtin/honeybadger"
	"github.com/constellation-chain/constellation/builtin/lsh"
	"github.com/constellation-chain/constellation/builtin/memnet"
	"github.com/constellation-chain/constellation/framework/keys"
	"github.com/constellation-chain/constellation/framework/ledger"
	"github.com/constellation-chain/constellation/framework/node"
	"github.com/constellation-chain/constellation/interfaces"
)

// tiers is a small hierarchical network in one process: cluster 0 of
// stars a and c, cluster 1 of b and d, and a galaxy of a and b, over
// memnet.
type tiers struct {
	h       *node.Hierarchy
	nodes   map[string]*node.Node
	genesis ledger.Genesis
	owner   func(interfaces.StarID) interfaces.ClusterID
	cancel  context.CancelFunc
	done    chan error
}

var tierMembers = map[string][]string{"cluster/0": {"a", "c"}, "cluster/1": {"b", "d"}, "galaxy": {"a", "b"}}

// devIn returns a development star that cluster c owns, with a name
// starting with prefix.
func devIn(owner func(interfaces.StarID) interfaces.ClusterID, prefix string, c interfaces.ClusterID) string {
	for i := 0; ; i++ {
		nm := fmt.Sprintf("%s-%d", prefix, i)
		if owner(interfaces.DevStar(nm)) == c {
			return nm
		}
	}
}

func startTiers(t *testing.T) *tiers {
	t.Helper()
	part, err := lsh.Factory{}.NewPartitioner(2, nil)
	if err != nil {
		t.Fatal(err)
	}
	owner := node.CachedOwner(part)
	gf := &keys.GenesisFile{Network: "devnet", Seed: "tiers", Engine: honeybadger.Name}
	shares := map[string]map[string][]byte{} // group -> member -> keys
	for gname, names := range tierMembers {
		var members []interfaces.StarID
		for _, nm := range names {
			members = append(members, interfaces.DevStar(nm))
		}
		slices.SortFunc(members, interfaces.CompareStars)
		dealt, err := honeybadger.Factory{}.DealKeys(members, 0, rand.NewChaCha8([32]byte{byte(len(gname))}))
		if err != nil {
			t.Fatal(err)
		}
		shares[gname] = map[string][]byte{}
		for _, nm := range names {
			shares[gname][nm] = dealt[slices.Index(members, interfaces.DevStar(nm))]
		}
		pub, err := honeybadger.Factory{}.GroupKey(dealt[0])
		if err != nil {
			t.Fatal(err)
		}
		gf.SetGroup(gname, members, pub)
	}
	h, err := node.HierarchyFrom(gf, 2, honeybadger.Factory{}, owner)
	if err != nil {
		t.Fatal(err)
	}
	tt := &tiers{h: h, nodes: map[string]*node.Node{}, owner: owner, done: make(chan error, 4)}
	tt.genesis = ledger.Genesis{Seed: "tiers", Allocations: []ledger.Allocation{
		{Star: interfaces.DevStar(devIn(owner, "alice", 0)), Amount: 1000},
		{Star: interfaces.DevStar(devIn(owner, "bob", 1)), Amount: 500},
	}}
	hub := memnet.NewHub()
	for _, nm := range []string{"a", "b", "c", "d"} {
		tr, err := hub.Join(interfaces.DevStar(nm), 4096)
		if err != nil {
			t.Fatal(err)
		}
		cfg := func(gname string, c interfaces.ClusterID) *node.Config {
			ks, ok := shares[gname][nm]
			if !ok {
				return nil
			}
			return &node.Config{
				Cluster: c, Key: interfaces.DevKey(nm), DataDir: t.TempDir(), Genesis: tt.genesis,
				Members: h.Clusters[0].Members, Consensus: honeybadger.Factory{}, ConsensusKeys: ks,
				BatchSize: 40, Interval: 20 * time.Millisecond, SyncInterval: 200 * time.Millisecond,
			}
		}
		cl := cfg("cluster/0", 0)
		if cl == nil {
			cl = cfg("cluster/1", 1)
			cl.Members = h.Clusters[1].Members
		}
		gx := cfg("galaxy", interfaces.GalaxyCluster)
		if gx != nil {
			gx.Members = h.Galaxy.Members
		}
		n, err := node.OpenTiers(h, tr, nil, cl, gx)
		if err != nil {
			t.Fatal(err)
		}
		tt.nodes[nm] = n
	}
	ctx, cancel := context.WithCancel(context.Background())
	tt.cancel = cancel
	for _, n := range tt.nodes {
		go func() { tt.done <- n.Run(ctx) }()
	}
	t.Cleanup(func() {
		cancel()
		for range tt.nodes {
			if err := <-tt.done; err != nil {
				t.Error(err)
			}
		}
	})
	return tt
}

// waitFor polls cond for up to 60 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTransfersAcrossClustersFinalizeAndConserveSupply: alice (cluster 0)
// pays bob (cluster 1) three times and carol (cluster 0) once. Cluster 0
// debits and issues receipts, the galaxy finalizes its checkpoints in
// certified black holes, and cluster 1 credits each receipt batch exactly
// once; the sum of every balance in both clusters equals the genesis
// supply when nothing is in flight.
func TestTransfersAcrossClustersFinalizeAndConserveSupply(t *testing.T) {
	tt := startTiers(t)
	alice := devIn(tt.owner, "alice", 0)
	bob := interfaces.DevStar(devIn(tt.owner, "bob", 1))
	carol := interfaces.DevStar(devIn(tt.owner, "carol", 0))
	var prev interfaces.Hash
	for i, p := range []struct {
		to     interfaces.StarID
		amount uint64
	}{{bob, 10}, {bob, 20}, {carol, 5}, {bob, 30}} {
		tx, err := interfaces.NewTransfer(interfaces.DevKey(alice), uint64(i+1), prev, p.to, p.amount)
		if err != nil {
			t.Fatal(err)
		}
		prev = tx.ID()
		// Submitted through a node of the other cluster: it routes the
		// transaction to alice's cluster.
		if err := tt.nodes["d"].Submit(tx); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "bob credited 60", func() bool {
		v, err := tt.nodes["b"].Balance(bob)
		return err == nil && v == 560
	})
	waitFor(t, "every member of cluster 1 credited", func() bool {
		v, err := tt.nodes["d"].Balance(bob)
		return err == nil && v == 560
	})
	if v, _ := tt.nodes["a"].Balance(carol); v != 5 {
		t.Fatalf("carol has %d, want 5", v)
	}
	if _, err := tt.nodes["a"].Balance(bob); !errors.Is(err, node.ErrNotHere) {
		t.Fatalf("cluster 0's node answered for bob's account: %v", err)
	}
	// Supply: the two clusters' committed balances, nothing in flight.
	var total uint64
	for _, nm := range []string{"a", "b"} {
		snap := snapshot(t, tt.nodes[nm].ClusterGroup().Store())
		total += snap
	}
	if total != 1500 {
		t.Fatalf("supply is %d across clusters, genesis was 1500", total)
	}
	// The galaxy's chain holds cluster 0's checkpoints in order, and its
	// black holes carry certificates that verify under the galaxy key.
	g := tt.nodes["a"].GalaxyGroup()
	waitFor(t, "a certified black hole", func() bool {
		h, _ := g.Head()
		c, _ := g.Certificate(h)
		return h > 0 && c != nil
	})
	h, _ := g.Head()
	for bh := uint64(1); bh <= h; bh++ {
		cert, _ := g.Certificate(bh)
		if cert == nil {
			continue
		}
		b, err := g.Block(bh)
		if err != nil {
			t.Fatal(err)
		}
		if err := tt.h.VerifyBlackHole(&b.Header, cert); err != nil {
			t.Fatalf("black hole %d: %v", bh, err)
		}
		for _, tx := range b.Txs {
			if tx.Kind != interfaces.TxCheckpoint {
				t.Fatalf("black hole %d holds a %s transaction", bh, tx.Kind)
			}
		}
	}
	seq, _, err := g.ChainHead(interfaces.ClusterStar(0))
	if err != nil || seq == 0 {
		t.Fatalf("the galaxy includes no checkpoint of cluster 0 (%v)", err)
	}
}

// snapshot sums every balance in a store.
func snapshot(t *testing.T, st interface {
	Snapshot() (*ledger.Snapshot, error)
}) uint64 {
	t.Helper()
	s, err := st.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	return s.Supply()
}
