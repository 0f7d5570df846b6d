package pool

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"

	"github.com/constellation-chain/constellation/interfaces"
	"pgregory.net/rapid"
)

func transfer(t testing.TB, key ed25519.PrivateKey, seq uint64, amount uint64) *interfaces.Transaction {
	t.Helper()
	tx, err := interfaces.NewTransfer(key, seq, interfaces.Hash{byte(seq)}, interfaces.DevStar("sink"), amount)
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

func TestAddRejectsDuplicatesConflictsAndBadSignatures(t *testing.T) {
	p := New(Options{})
	k := interfaces.DevKey("alice")
	tx := transfer(t, k, 1, 5)
	if err := p.Add(tx); err != nil {
		t.Fatal(err)
	}
	if err := p.Add(tx); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate: %v", err)
	}
	if err := p.Add(transfer(t, k, 1, 6)); !errors.Is(err, ErrConflict) {
		t.Fatalf("conflict: %v", err)
	}
	bad := transfer(t, k, 2, 5)
	bad.Sig[0] ^= 1
	if err := p.Add(bad); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad signature: %v", err)
	}
	if p.Len() != 1 {
		t.Fatalf("len %d, want 1", p.Len())
	}
}

func TestFullPoolSaysSo(t *testing.T) {
	p := New(Options{MaxTxs: 2})
	k := interfaces.DevKey("alice")
	for seq := uint64(1); seq <= 2; seq++ {
		if err := p.Add(transfer(t, k, seq, 1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Add(transfer(t, k, 3, 1)); !errors.Is(err, ErrFull) {
		t.Fatalf("err = %v, want ErrFull", err)
	}
}

func TestReapTakesConsecutiveSequencesOnly(t *testing.T) {
	committed := map[interfaces.StarID]uint64{}
	p := New(Options{Committed: func(s interfaces.StarID) uint64 { return committed[s] }})
	k := interfaces.DevKey("alice")
	for _, seq := range []uint64{1, 2, 4} {
		if err := p.Add(transfer(t, k, seq, 1)); err != nil {
			t.Fatal(err)
		}
	}
	got := p.Reap(10)
	if len(got) != 2 || got[0].Seq != 1 || got[1].Seq != 2 {
		t.Fatalf("reaped %v", seqs(got))
	}
	committed[got[0].Sender] = 2
	p.Committed(got)
	if p.Len() != 1 {
		t.Fatalf("len %d after commit, want 1 (seq 4 waits for 3)", p.Len())
	}
	if got := p.Reap(10); len(got) != 0 {
		t.Fatalf("reaped %v across a gap", seqs(got))
	}
	if err := p.Add(transfer(t, k, 2, 9)); !errors.Is(err, ErrStale) {
		t.Fatalf("stale: %v", err)
	}
}

func TestHigherPriorityServedFirstLowerNeverDropped(t *testing.T) {
	low, high := interfaces.DevKey("low"), interfaces.DevKey("high")
	lowID := interfaces.DevStar("low")
	p := New(Options{Priority: func(s interfaces.StarID) int64 {
		if s == lowID {
			return 0
		}
		return 10
	}})
	_ = p.Add(transfer(t, low, 1, 1))
	_ = p.Add(transfer(t, high, 1, 1))
	got := p.Reap(1)
	if len(got) != 1 || got[0].Sender == lowID {
		t.Fatal("low-priority sender served before high")
	}
	got = p.Reap(2)
	if len(got) != 2 {
		t.Fatalf("low-priority sender dropped while there is capacity: %d reaped", len(got))
	}
}

func seqs(txs []*interfaces.Transaction) []string {
	var out []string
	for _, t := range txs {
		out = append(out, fmt.Sprintf("%s#%d", t.Sender.Short(), t.Seq))
	}
	return out
}

// TestReapIsDeterministicAndAccountingHolds checks, for random arrival
// sequences, that Reap's order does not depend on map iteration and that the
// pool's counters match its contents after commits.
func TestReapIsDeterministicAndAccountingHolds(t *testing.T) {
	keys := []ed25519.PrivateKey{interfaces.DevKey("a"), interfaces.DevKey("b"), interfaces.DevKey("c")}
	rapid.Check(t, func(rt *rapid.T) {
		committed := map[interfaces.StarID]uint64{}
		opts := Options{Committed: func(s interfaces.StarID) uint64 { return committed[s] }}
		p1, p2 := New(opts), New(opts)
		n := rapid.IntRange(1, 30).Draw(rt, "n")
		for i := 0; i < n; i++ {
			k := keys[rapid.IntRange(0, 2).Draw(rt, "key")]
			seq := rapid.Uint64Range(1, 8).Draw(rt, "seq")
			tx := transfer(t, k, seq, 1)
			e1, e2 := p1.Add(tx), p2.Add(tx)
			if (e1 == nil) != (e2 == nil) {
				rt.Fatalf("pools disagree on add: %v vs %v", e1, e2)
			}
		}
		r1, r2 := p1.Reap(100), p2.Reap(100)
		if fmt.Sprint(seqs(r1)) != fmt.Sprint(seqs(r2)) {
			rt.Fatalf("reap differs: %v vs %v", seqs(r1), seqs(r2))
		}
		for _, tx := range r1 {
			if tx.Seq > committed[tx.Sender] {
				committed[tx.Sender] = tx.Seq
			}
		}
		p1.Committed(r1)
		total, bytes := 0, 0
		for _, s := range p1.senders {
			for seq, e := range s.txs {
				if seq <= committed[s.id] {
					rt.Fatalf("committed seq %d still pooled", seq)
				}
				total++
				bytes += txSize(e.tx)
			}
		}
		if total != p1.count || bytes != p1.bytes || total != len(p1.ids) {
			rt.Fatalf("accounting: count %d/%d bytes %d/%d ids %d", p1.count, total, p1.bytes, bytes, len(p1.ids))
		}
	})
}

// chained returns n transfers from key chained by Prev from last.
func chained(t interface {
	Helper()
	Fatal(...any)
}, key ed25519.PrivateKey, from uint64, last interfaces.Hash, n int) []*interfaces.Transaction {
	t.Helper()
	var out []*interfaces.Transaction
	for i := range n {
		tx, err := interfaces.NewTransfer(key, from+uint64(i), last, interfaces.DevStar("sink"), 1)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tx)
		last = tx.ID()
	}
	return out
}

type heads map[interfaces.StarID]struct {
	seq  uint64
	last interfaces.Hash
}

func (h heads) head(s interfaces.StarID) (uint64, interfaces.Hash) { return h[s].seq, h[s].last }

// TestAdmissionChecksTheCommittedHead: the sender's next transaction must
// chain from its last committed one, and none may run more than MaxAhead
// past it; both refusals name the rule.
func TestAdmissionChecksTheCommittedHead(t *testing.T) {
	k := interfaces.DevKey("alice")
	alice := interfaces.DevStar("alice")
	h := heads{}
	p := New(Options{Head: h.head, MaxAhead: 8})
	txs := chained(t, k, 1, interfaces.Hash{}, 3)
	wrong, _ := interfaces.NewTransfer(k, 1, interfaces.Hash{7}, interfaces.DevStar("sink"), 1)
	if err := p.Add(wrong); !errors.Is(err, ErrWrongPrev) {
		t.Fatalf("wrong prev: %v", err)
	}
	far := chained(t, k, 10, interfaces.Hash{9}, 1)[0]
	if err := p.Add(far); !errors.Is(err, ErrTooFarAhead) {
		t.Fatalf("seq 10 with a window of 8: %v", err)
	}
	for _, tx := range txs {
		if err := p.Add(tx); err != nil {
			t.Fatal(err)
		}
	}
	if p.Includable() != 3 {
		t.Fatalf("includable %d, want 3", p.Includable())
	}
	h[alice] = struct {
		seq  uint64
		last interfaces.Hash
	}{1, txs[0].ID()}
	p.Committed(txs[:1])
	if p.Len() != 2 || p.Includable() != 2 {
		t.Fatalf("after commit: len %d includable %d, want 2 and 2", p.Len(), p.Includable())
	}
}

// TestRecheckEvictsWhatCanNoLongerBeIncluded: when another transaction
// with the sender's next sequence is committed (it signed two), the
// waiting one and everything chained after it can never be included and
// are evicted at once, instead of holding the pool and proposals forever.
func TestRecheckEvictsWhatCanNoLongerBeIncluded(t *testing.T) {
	k := interfaces.DevKey("alice")
	alice := interfaces.DevStar("alice")
	h := heads{}
	p := New(Options{Head: h.head})
	mine := chained(t, k, 1, interfaces.Hash{}, 4)
	for _, tx := range mine[1:] { // 2..4 wait behind 1
		if err := p.Add(tx); err != nil {
			t.Fatal(err)
		}
	}
	if p.Includable() != 0 {
		t.Fatalf("includable %d behind a gap, want 0", p.Includable())
	}
	other2, _ := interfaces.NewTransfer(k, 1, interfaces.Hash{}, interfaces.DevStar("elsewhere"), 2) // the same seq 1, another transfer
	h[alice] = struct {
		seq  uint64
		last interfaces.Hash
	}{1, other2.ID()}
	p.Committed([]*interfaces.Transaction{other2})
	if p.Len() != 0 || p.Includable() != 0 {
		t.Fatalf("after a conflicting commit: len %d includable %d, want 0 and 0", p.Len(), p.Includable())
	}
}

// TestIncludableMatchesReapProperty: whatever arrives in whatever order
// and whatever commits, Includable equals what an unbounded Reap returns.
func TestIncludableMatchesReapProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		h := heads{}
		p := New(Options{Head: h.head})
		keys := []ed25519.PrivateKey{interfaces.DevKey("a"), interfaces.DevKey("b"), interfaces.DevKey("c")}
		chains := make([][]*interfaces.Transaction, len(keys))
		for i, k := range keys {
			chains[i] = chained(rt, k, 1, interfaces.Hash{}, 6)
		}
		for range rapid.IntRange(1, 40).Draw(rt, "steps") {
			i := rapid.IntRange(0, len(keys)-1).Draw(rt, "sender")
			star := interfaces.DevStar([]string{"a", "b", "c"}[i])
			if rapid.Bool().Draw(rt, "commit") {
				seq := h[star].seq
				if int(seq) < len(chains[i]) {
					tx := chains[i][seq]
					h[star] = struct {
						seq  uint64
						last interfaces.Hash
					}{seq + 1, tx.ID()}
					p.Committed([]*interfaces.Transaction{tx})
				}
			} else {
				j := rapid.IntRange(0, len(chains[i])-1).Draw(rt, "seq")
				p.Add(chains[i][j])
			}
			if got, want := p.Includable(), len(p.Reap(1<<20)); got != want {
				rt.Fatalf("includable %d, reap %d", got, want)
			}
		}
	})
}
