package ledger

import (
	"errors"
	"testing"

	"pgregory.net/rapid"

	"github.com/constellation-chain/constellation/interfaces"
)

func TestEncodedTxSizeMatchesEncoding(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		tx := &interfaces.Transaction{
			Seq:     rapid.Uint64().Draw(t, "seq"),
			Kind:    interfaces.TxKind(rapid.Uint8().Draw(t, "kind")),
			Payload: make([]byte, rapid.IntRange(0, 70_000).Draw(t, "payload")),
		}
		if rapid.Bool().Draw(t, "counterSigned") {
			tx.CounterSig = make([]byte, 64)
		}
		if got, want := encodedTxSize(tx), len(tx.Encode()); got != want {
			t.Fatalf("encodedTxSize %d, encoding has %d bytes", got, want)
		}
	})
}

func TestFullBlockRefusesTransactionsWithoutValidating(t *testing.T) {
	g := Genesis{Seed: "full", Allocations: []Allocation{{Star: interfaces.DevStar("a"), Amount: 10}}}
	st, err := NewMemState(g)
	if err != nil {
		t.Fatal(err)
	}
	b := NewBuilder(st, 0, st.Parent())
	b.txBytes = MaxBlockTxBytes - 100
	tx, err := interfaces.NewTransfer(interfaces.DevKey("a"), 1, interfaces.ZeroHash, interfaces.DevStar("b"), 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Apply(tx); !errors.Is(err, ErrBlockFull) || errors.Is(err, ErrInvalidTx) {
		t.Fatalf("got %v, want ErrBlockFull only", err)
	}
	b.txBytes = 0
	if err := b.Apply(tx); err != nil {
		t.Fatalf("after room is made: %v", err)
	}
}
