package pool

import (
	"errors"
	"testing"

	"github.com/constellation-chain/constellation/framework/sigcache"
	"github.com/constellation-chain/constellation/interfaces"
)

// gossiped returns a batch as gossip brings it: valid chained transfers
// of two senders, a duplicate, a conflict, a broken signature, a stale
// one, one too far ahead, a nil, an unknown kind, sequence 0, a
// certified kind, and a chain whose first link has the wrong prev.
func gossiped(t *testing.T) []*interfaces.Transaction {
	t.Helper()
	a, b := interfaces.DevKey("alice"), interfaces.DevKey("bob")
	alice := chained(t, a, 1, interfaces.Hash{}, 40)
	bob := chained(t, b, 1, interfaces.Hash{}, 30)
	broken := *alice[7]
	broken.Sig[1] ^= 1
	conflict, _ := interfaces.NewTransfer(a, 3, alice[1].ID(), interfaces.DevStar("other"), 9)
	far := chained(t, b, 500, interfaces.Hash{1}, 1)[0]
	unknown := *alice[0]
	unknown.Kind = 99
	zero := *bob[0]
	zero.Seq = 0
	checkpoint := &interfaces.Transaction{Sender: interfaces.ClusterStar(1), Seq: 1, Kind: interfaces.TxCheckpoint}
	wrongPrev, _ := interfaces.NewTransfer(interfaces.DevKey("carol"), 1, interfaces.Hash{3}, interfaces.DevStar("sink"), 1)
	stale, _ := interfaces.NewTransfer(interfaces.DevKey("dave"), 3, interfaces.Hash{3}, interfaces.DevStar("sink"), 1)
	var out []*interfaces.Transaction
	out = append(out, &broken) // before the original: refused, then the original is admitted
	for i := range 40 {
		out = append(out, alice[i])
		if i < len(bob) {
			out = append(out, bob[i])
		}
	}
	return append(out, alice[5], conflict, far, nil, &unknown, &zero, checkpoint, wrongPrev, stale)
}

// AddBatch gives each transaction of a batch exactly the verdict Add gives
// it, with the same error, and leaves the pool as the Adds do, with or
// without a signature cache, and when the cache already holds some.
func TestAddBatchGivesEachTransactionAddsVerdict(t *testing.T) {
	txs := gossiped(t)
	carol := interfaces.DevStar("carol")
	opts := func() Options {
		h := heads{}
		h[carol] = struct {
			seq  uint64
			last interfaces.Hash
		}{0, interfaces.Hash{}}
		h[interfaces.DevStar("dave")] = struct {
			seq  uint64
			last interfaces.Hash
		}{5, interfaces.Hash{5}}
		return Options{Head: h.head, MaxAhead: 64, Signatures: sigcache.New(0)}
	}
	one := New(opts())
	want := make([]error, len(txs))
	for i, tx := range txs {
		want[i] = one.Add(tx)
	}
	for name, o := range map[string]Options{
		"cache":    opts(),
		"no cache": func() Options { o := opts(); o.Signatures = nil; return o }(),
		"warm cache": func() Options {
			o := opts()
			for _, tx := range txs[10:30] {
				_ = o.Signatures.Verify(tx.ID(), tx)
			}
			return o
		}(),
	} {
		p := New(o)
		got := p.AddBatch(txs)
		for i := range txs {
			if (got[i] == nil) != (want[i] == nil) || (got[i] != nil && got[i].Error() != want[i].Error()) {
				t.Errorf("%s: tx %d: AddBatch %v, Add %v", name, i, got[i], want[i])
			}
			for _, sentinel := range []error{ErrInvalid, ErrDuplicate, ErrConflict, ErrStale, ErrWrongPrev, ErrTooFarAhead, ErrFull, interfaces.ErrBadSignature} {
				if errors.Is(got[i], sentinel) != errors.Is(want[i], sentinel) {
					t.Errorf("%s: tx %d: AddBatch %v, Add %v", name, i, got[i], want[i])
				}
			}
		}
		if p.Len() != one.Len() || p.Includable() != one.Includable() {
			t.Errorf("%s: len %d includable %d, Add gives %d and %d", name, p.Len(), p.Includable(), one.Len(), one.Includable())
		}
	}
	if one.Len() != 70 {
		t.Fatalf("Add admitted %d, want the 70 valid transfers", one.Len())
	}
}
