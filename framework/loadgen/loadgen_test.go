package loadgen

import (
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
