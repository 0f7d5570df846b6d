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
