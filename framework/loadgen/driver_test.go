package loadgen

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/interfaces"
)

// fakeNodes is an in-memory Sink: decide says what happens to each
// submitted transaction, accepted ones are kept, and commit makes each
// sender's run of consecutive accepted sequences committed.
type fakeNodes struct {
	mu        sync.Mutex
	decide    func(tx *interfaces.Transaction, seen int) error // seen: earlier submissions of tx
	seen      map[interfaces.Hash]int
	accepted  map[interfaces.StarID]map[uint64]interfaces.Hash
	committed map[interfaces.StarID]uint64
	calls     int
	byNode    map[int][]*interfaces.Transaction
	hold      func() // called (unlocked) at the start of each SubmitBatch
}

func newFakeNodes(decide func(*interfaces.Transaction, int) error) *fakeNodes {
	if decide == nil {
		decide = func(*interfaces.Transaction, int) error { return nil }
	}
	return &fakeNodes{decide: decide, seen: map[interfaces.Hash]int{}, accepted: map[interfaces.StarID]map[uint64]interfaces.Hash{},
		committed: map[interfaces.StarID]uint64{}, byNode: map[int][]*interfaces.Transaction{}}
}

func (f *fakeNodes) SubmitBatch(_ context.Context, node int, txs []*interfaces.Transaction) ([]error, error) {
	if f.hold != nil {
		f.hold()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	errs := make([]error, len(txs))
	for i, tx := range txs {
		id := tx.ID()
		if err := tx.VerifySignatures(); err != nil {
			errs[i] = err // the driver hands over signed transactions only
			continue
		}
		errs[i] = f.decide(tx, f.seen[id])
		f.seen[id]++
		if errs[i] == nil {
			if f.accepted[tx.Sender] == nil {
				f.accepted[tx.Sender] = map[uint64]interfaces.Hash{}
			}
			f.accepted[tx.Sender][tx.Seq] = id
			f.byNode[node] = append(f.byNode[node], tx)
		}
	}
	return errs, nil
}

// commit commits every sender's consecutive accepted transactions.
func (f *fakeNodes) commit() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for s, txs := range f.accepted {
		for {
			if _, ok := txs[f.committed[s]+1]; !ok {
				break
			}
			f.committed[s]++
		}
	}
}

func (f *fakeNodes) head(s interfaces.StarID) (uint64, interfaces.Hash, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	seq := f.committed[s]
	return seq, f.accepted[s][seq], nil
}

// fast offers as fast as the driver can: the tests bound runs by count.
func fast(o Options) Options {
	o.Rate = 1e9
	if o.MaxBatch == 0 {
		o.MaxBatch = 16
	}
	o.Backoff = time.Millisecond
	return o
}

func checkBalance(t *testing.T, s Stats) {
	t.Helper()
	if s.Offered != s.Accepted+s.Refused+s.GaveUp+s.Unsent {
		t.Fatalf("offered %d != accepted %d + refused %d + gave up %d + unsent %d", s.Offered, s.Accepted, s.Refused, s.GaveUp, s.Unsent)
	}
}

// TestOfferedAcceptedAndCommittedAreCountedSeparately: a run of 500
// transactions that the nodes accept, of which the chain commits only
// those made before a cut, counts 500 offered, 500 accepted and the
// committed ones exactly.
func TestOfferedAcceptedAndCommittedAreCountedSeparately(t *testing.T) {
	f := newFakeNodes(nil)
	g := New(interfaces.DevKey("faucet"), 8, 1000, 1)
	d := NewDriver(g, f, fast(Options{Limit: 500, Head: f.head}))
	if err := d.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := d.Stats()
	if s.Offered != 500 || s.Accepted != 500 || s.Refused != 0 || s.Unsent != 0 {
		t.Fatalf("stats %+v, want 500 offered and accepted", s)
	}
	if !s.CommittedKnown || s.Committed != 0 {
		t.Fatalf("committed %d (known %v) before any block, want 0", s.Committed, s.CommittedKnown)
	}
	f.commit()
	d.CountCommitted()
	if s = d.Stats(); s.Committed != 500 {
		t.Fatalf("committed %d after every transaction landed, want 500", s.Committed)
	}
	checkBalance(t, s)
}

// TestCommittedCountsOnlyWhatLandedSinceTheStart: transactions the chain
// held before the run are not counted, and a sender whose chain stops
// at a gap counts up to the gap.
func TestCommittedCountsOnlyWhatLandedSinceTheStart(t *testing.T) {
	g := New(interfaces.DevKey("faucet"), 4, 1000, 1)
	// History: 30 transactions already committed.
	f := newFakeNodes(nil)
	for range 30 {
		tx, _ := g.Next()
		f.SubmitBatch(context.Background(), 0, []*interfaces.Transaction{tx})
	}
	f.commit()
	// The run: the nodes lose every transaction of wallet 0 after its
	// first one in the run; the chain commits the rest.
	w0 := g.Accounts()[1]
	first := true
	f.decide = func(tx *interfaces.Transaction, _ int) error {
		if tx.Sender == w0 {
			if first {
				first = false
				return nil
			}
			return errors.New("lost")
		}
		return nil
	}
	d := NewDriver(g, f, fast(Options{Limit: 200, Head: f.head}))
	if err := d.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.commit()
	d.CountCommitted()
	s := d.Stats()
	checkBalance(t, s)
	if s.Accepted+s.Refused != 200 {
		t.Fatalf("stats %+v", s)
	}
	// Wallet 0's refused transactions were never committed; everything
	// accepted chains (refused senders are resynchronised), so all the
	// accepted ones but those of wallet 0 past a gap land.
	f.mu.Lock()
	var want uint64
	for _, id := range g.Accounts() {
		want += f.committed[id]
	}
	f.mu.Unlock()
	if s.Committed != want-30 {
		t.Fatalf("committed %d, want %d (the chain's %d less the 30 before the run)", s.Committed, want-30, want)
	}
}

// TestBusyTransactionsAreRetriedNotRecounted: a node that answers busy
// to each transaction's first submission gets it again; it is offered
// and accepted once.
func TestBusyTransactionsAreRetriedNotRecounted(t *testing.T) {
	f := newFakeNodes(func(_ *interfaces.Transaction, seen int) error {
		if seen == 0 {
			return ErrBusy
		}
		return nil
	})
	d := NewDriver(New(interfaces.DevKey("faucet"), 8, 1000, 1), f, fast(Options{Limit: 300}))
	if err := d.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := d.Stats()
	if s.Offered != 300 || s.Accepted != 300 || s.Retried != 300 || s.CommittedKnown {
		t.Fatalf("stats %+v, want 300 offered, accepted and retried, committed unknown", s)
	}
	checkBalance(t, s)
}

// TestRefusalsAreCountedAsRefused: with no resynchronisation (no Head)
// the stream is the generator's, so the refused count is exactly the
// number of its transactions the node's rule refuses.
func TestRefusalsAreCountedAsRefused(t *testing.T) {
	refuse := func(tx *interfaces.Transaction) bool { return tx.ID()[0]%4 == 0 }
	twin := New(interfaces.DevKey("faucet"), 8, 1000, 7)
	var want uint64
	for range 400 {
		tx, _ := twin.Next()
		if refuse(tx) {
			want++
		}
	}
	f := newFakeNodes(func(tx *interfaces.Transaction, _ int) error {
		if refuse(tx) {
			return errors.New("invalid")
		}
		return nil
	})
	d := NewDriver(New(interfaces.DevKey("faucet"), 8, 1000, 7), f, fast(Options{Limit: 400}))
	if err := d.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := d.Stats()
	if s.Refused != want || s.Accepted != 400-want || want == 0 {
		t.Fatalf("stats %+v, want %d refused", s, want)
	}
	checkBalance(t, s)
}

// TestBusyForeverGivesUpAfterTheRetries: a transaction still busy after
// Options.Retries submissions is given up, and the run ends.
func TestBusyForeverGivesUpAfterTheRetries(t *testing.T) {
	f := newFakeNodes(func(*interfaces.Transaction, int) error { return ErrBusy })
	d := NewDriver(New(interfaces.DevKey("faucet"), 2, 1000, 1), f, fast(Options{Limit: 40, Retries: 3}))
	if err := d.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := d.Stats()
	if s.GaveUp != 40 || s.Retried != 80 || s.Accepted != 0 {
		t.Fatalf("stats %+v, want 40 given up after 2 retries each", s)
	}
	checkBalance(t, s)
}

// TestAnEndedRunLeavesNothingUncounted: when the context ends while
// every transaction is busy, what was offered is unsent, not lost from
// the counts.
func TestAnEndedRunLeavesNothingUncounted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var f *fakeNodes
	f = newFakeNodes(func(*interfaces.Transaction, int) error {
		if f.calls >= 20 {
			cancel()
		}
		return ErrBusy
	})
	d := NewDriver(New(interfaces.DevKey("faucet"), 4, 1000, 1), f, fast(Options{}))
	if err := d.Run(ctx); err != nil {
		t.Fatal(err)
	}
	s := d.Stats()
	if s.Offered == 0 || s.Accepted != 0 || s.Unsent == 0 {
		t.Fatalf("stats %+v, want offered transactions left unsent", s)
	}
	checkBalance(t, s)
}

// TestTheDriverKeepsAsManyBatchesInFlightAsItMay: submissions that do
// not answer until MaxInFlight of them wait together are all started,
// and never more than MaxInFlight.
func TestTheDriverKeepsAsManyBatchesInFlightAsItMay(t *testing.T) {
	const slots = 6
	f := newFakeNodes(nil)
	var mu sync.Mutex
	waiting, peak, released := 0, 0, false
	release := make(chan struct{})
	f.hold = func() {
		mu.Lock()
		waiting++
		peak = max(peak, waiting)
		if waiting == slots && !released {
			released = true
			close(release)
		}
		mu.Unlock()
		<-release // a bound: the test's own timeout ends it if the slots never fill
		mu.Lock()
		waiting--
		mu.Unlock()
	}
	d := NewDriver(New(interfaces.DevKey("faucet"), 8, 1000, 1), f, fast(Options{Limit: slots * 16 * 3, MaxInFlight: slots}))
	if err := d.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := d.Stats()
	if peak != slots || s.PeakInFlight != slots || s.Accepted != slots*16*3 {
		t.Fatalf("peak %d (driver says %d), accepted %d; want %d in flight and all accepted", peak, s.PeakInFlight, s.Accepted, slots)
	}
}

// TestEachSubmissionGoesToTheRoutedNode: a batch is split by Route, and
// each part reaches its node.
func TestEachSubmissionGoesToTheRoutedNode(t *testing.T) {
	route := func(tx *interfaces.Transaction) int { return int(tx.Sender[0] % 3) }
	f := newFakeNodes(nil)
	d := NewDriver(New(interfaces.DevKey("faucet"), 16, 1000, 1), f, fast(Options{Limit: 300, Route: route}))
	if err := d.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	total := 0
	for node, txs := range f.byNode {
		for _, tx := range txs {
			if route(tx) != node {
				t.Fatalf("a transaction routed to %d reached node %d", route(tx), node)
			}
		}
		total += len(txs)
	}
	if total != 300 || len(f.byNode) < 2 {
		t.Fatalf("%d transactions over %d nodes", total, len(f.byNode))
	}
}

// TestLimitNamesTheStageThatHeldTheRateDown reads Stats.Limit over the
// stages in the order load flows.
func TestLimitNamesTheStageThatHeldTheRateDown(t *testing.T) {
	sec := time.Second
	for _, c := range []struct {
		s    Stats
		want string
	}{
		{Stats{Elapsed: sec, Target: 1000, Offered: 400, Accepted: 400, Committed: 400, CommittedKnown: true, PeakInFlight: 64, MaxInFlight: 64}, "submission: offered 400 of 1000 tx/s with all 64"},
		{Stats{Elapsed: sec, Target: 1000, Offered: 400, Accepted: 400, Committed: 400, CommittedKnown: true, PeakInFlight: 3, MaxInFlight: 64}, "submission: offered 400 of 1000 tx/s with submission slots free"},
		{Stats{Elapsed: sec, Target: 1000, Offered: 1000, Accepted: 500, Committed: 500, CommittedKnown: true}, "admission"},
		{Stats{Elapsed: sec, Target: 1000, Offered: 1000, Accepted: 1000, Committed: 300, CommittedKnown: true}, "consensus"},
		// Offered fell short, but consensus passed on a smaller share.
		{Stats{Elapsed: sec, Target: 3000, Offered: 1700, Accepted: 1600, Committed: 400, CommittedKnown: true}, "consensus"},
		{Stats{Elapsed: sec, Target: 1000, Offered: 1000, Accepted: 1000, Committed: 990, CommittedKnown: true}, "none"},
		{Stats{Elapsed: sec, Target: 1000, Offered: 1000, Accepted: 1000}, "unknown"},
		{Stats{}, "nothing"},
	} {
		if got := c.s.Limit(); !strings.HasPrefix(got, c.want) {
			t.Errorf("%+v: limit %q, want %s", c.s, got, c.want)
		}
	}
}
