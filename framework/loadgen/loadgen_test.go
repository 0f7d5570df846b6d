package loadgen

import (
	"errors"
	"slices"
	"testing"

	"github.com/constellation-chain/constellation/interfaces"
)

func TestStreamChainsEachSender(t *testing.T) {
	g := New(interfaces.DevKey("faucet"), 4, 1000, 1)
	last := map[interfaces.StarID]*interfaces.Transaction{}
	for i := 0; i < 50; i++ {
		tx, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.VerifySignatures(); err != nil {
			t.Fatal(err)
		}
		if p := last[tx.Sender]; p != nil {
			if tx.Seq != p.Seq+1 || tx.Prev != p.ID() {
				t.Fatalf("tx %d does not chain to the sender's previous one", i)
			}
		} else if tx.Seq != 1 || !tx.Prev.IsZero() {
			t.Fatalf("first tx of a sender has seq %d", tx.Seq)
		}
		last[tx.Sender] = tx
		if i < 4 && tx.Sender != interfaces.DevStar("faucet") {
			t.Fatalf("tx %d is not a funding payment", i)
		}
	}
}

func TestUndoReissuesTheSameSequence(t *testing.T) {
	g := New(interfaces.DevKey("faucet"), 2, 1000, 1)
	a, _ := g.Next()
	g.Undo(a)
	b, _ := g.Next()
	if b.Seq != a.Seq || b.Prev != a.Prev || b.Sender != a.Sender {
		t.Fatalf("after undo got seq %d, want %d", b.Seq, a.Seq)
	}
}

func TestStalledAccountsAreResyncedToTheirCommittedHead(t *testing.T) {
	g := New(interfaces.DevKey("faucet"), 2, 1000, 1)
	committed := map[interfaces.StarID]uint64{}
	head := func(s interfaces.StarID) (uint64, interfaces.Hash, error) {
		return committed[s], interfaces.Hash{}, nil
	}
	tx, _ := g.Next() // the faucet is now ahead of its committed chain
	if s, _ := g.Stalled(head); len(s) != 0 {
		t.Fatalf("stalled after one look: %v", s)
	}
	s, _ := g.Stalled(head)
	if len(s) != 1 || s[0] != tx.Sender {
		t.Fatalf("stalled = %v, want the faucet", s)
	}
	g.Resync(tx.Sender, 0, interfaces.Hash{})
	again, _ := g.Next()
	if again.Seq != 1 {
		t.Fatalf("after resync seq %d, want 1", again.Seq)
	}
	committed[tx.Sender] = 1 // it moves: not stalled
	if s, _ := g.Stalled(head); len(s) != 0 {
		t.Fatalf("moving account reported stalled: %v", s)
	}
}

func TestCommunitiesKeepMostTransfersInside(t *testing.T) {
	g := New(interfaces.DevKey("faucet"), 64, 1000, 1).WithCommunities(8, 0.9)
	index := map[interfaces.StarID]int{}
	for i, s := range g.Accounts()[1:] {
		index[s] = i
	}
	inside, n := 0, 0
	for i := 0; i < 64+4000; i++ {
		tx, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		if i < 64 {
			continue // funding
		}
		p, _ := interfaces.DecodeTransferPayload(tx.Payload)
		from, to := index[tx.Sender], index[p.To]
		if from == to {
			t.Fatalf("wallet %d pays itself", from)
		}
		n++
		if from%8 == to%8 {
			inside++
		}
	}
	// 0.9 stay by choice, and 1/8 of the rest by chance.
	if share := float64(inside) / float64(n); share < 0.88 || share > 0.94 {
		t.Fatalf("%.3f of transfers stay in their community, want about 0.91", share)
	}
}

// TestOneUnreadableAccountDoesNotHideTheStalledOnes: an account whose head
// cannot be read (in migration between clusters) is skipped; the stalled
// faucet is still reported.
func TestOneUnreadableAccountDoesNotHideTheStalledOnes(t *testing.T) {
	g := New(interfaces.DevKey("faucet"), 3, 1000, 1)
	var faucet interfaces.StarID
	for range 4 { // funds the three wallets, then one wallet pays
		tx, _ := g.Next()
		if faucet.IsZero() {
			faucet = tx.Sender
		}
	}
	lost := g.Accounts()[1]
	head := func(s interfaces.StarID) (uint64, interfaces.Hash, error) {
		if s == lost {
			return 0, interfaces.Hash{}, errors.New("account in migration")
		}
		return 0, interfaces.Hash{}, nil
	}
	g.Stalled(head)
	s, err := g.Stalled(head)
	if err != nil || !slices.Contains(s, faucet) || slices.Contains(s, lost) {
		t.Fatalf("stalled = %v, %v; want the faucet and not the unreadable account", s, err)
	}
}

// TestUnsignedStreamIsTheSignedStream: NextUnsigned then Sign makes the
// transactions Next makes, so signing can move to other goroutines
// without changing the stream.
func TestUnsignedStreamIsTheSignedStream(t *testing.T) {
	a := New(interfaces.DevKey("faucet"), 4, 1000, 3)
	b := New(interfaces.DevKey("faucet"), 4, 1000, 3)
	for i := 0; i < 40; i++ {
		want, err := a.Next()
		if err != nil {
			t.Fatal(err)
		}
		got := b.NextUnsigned()
		if got.ID() != want.ID() {
			t.Fatalf("tx %d: unsigned stream differs", i)
		}
		if err := b.Sign(got); err != nil {
			t.Fatal(err)
		}
		if err := got.VerifySignatures(); err != nil || got.Sig != want.Sig {
			t.Fatalf("tx %d: signature %v", i, err)
		}
	}
	stranger, _ := interfaces.NewTransfer(interfaces.DevKey("x"), 1, interfaces.Hash{}, interfaces.DevStar("y"), 1)
	if err := b.Sign(stranger); err == nil {
		t.Fatal("signed for an account the generator does not hold")
	}
}
