package loadgen

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/constellation-chain/constellation/interfaces"
)

// Sink is where a Driver hands its batches: the nodes' APIs, or a fake in
// tests. SubmitBatch may be called from many goroutines at once.
type Sink interface {
	// SubmitBatch hands txs to node (an index Options.Route chose) and
	// returns one error per transaction, nil for accepted. A refusal
	// worth retrying later (the node's pool is full) wraps ErrBusy. An
	// error of its own means no transaction is known to have been
	// handed over (the node did not answer).
	SubmitBatch(ctx context.Context, node int, txs []*interfaces.Transaction) ([]error, error)
}

// ErrBusy marks a transaction the node refused for now (its pool is
// full): the Driver submits it again after Options.Backoff, so its
// sender's chain stays whole.
var ErrBusy = errors.New("node busy")

// Options configure a Driver. Zero fields take the defaults named.
type Options struct {
	// Rate is the offered load in transactions per second (required).
	Rate float64
	// MaxBatch bounds a batch (default 256). A batch goes out when
	// MaxBatch transactions are due, or when Flush has passed since the
	// last one and any are due (default 20 ms): at low rates batches are
	// small and latency low, at high rates they fill.
	MaxBatch int
	Flush    time.Duration
	// MaxInFlight bounds the batches submitted and not yet answered
	// (default 64). The Driver starts a submission whenever a batch is
	// due and a slot is free, so as many are in flight as the rate needs;
	// when every slot is taken it waits, and the offered rate falls below
	// Rate: the nodes' APIs are the limit.
	MaxInFlight int
	// Limit, when above 0, ends Run after that many transactions were
	// offered (and answered); otherwise Run lasts until ctx ends.
	Limit int
	// Route picks the node of each transaction (an index for Sink); nil
	// sends every batch to node 0.
	Route func(*interfaces.Transaction) int
	// Head reads an account's committed chain head. With it the Driver
	// counts committed transactions every CheckEvery (default 3 s) as
	// the sum of its accounts' committed sequence numbers less that at
	// the start, sets refused senders back to their committed head, and
	// resynchronises accounts whose committed chain has not moved for
	// StallAfter (default 10 s) while transactions of theirs are pending
	// (Generator.Stalled: they were probably lost). It may be called
	// from several goroutines at once.
	Head       func(interfaces.StarID) (uint64, interfaces.Hash, error)
	CheckEvery time.Duration
	StallAfter time.Duration
	// Behind reports whether a refusal means the Driver's view of the
	// sender is behind its chain (stale sequence, wrong previous
	// transaction), so the sender is set back to its committed head at
	// once. A refusal it answers false for is left to the stall check:
	// another transaction at that sequence waits in the pool, and may
	// yet commit. Nil treats every refusal as behind.
	Behind func(error) bool
	// Retries bounds the submissions of one busy transaction (default
	// 100), Backoff the pause between them (default 50 ms).
	Retries int
	Backoff time.Duration
	// Log, when set, hears refusals and read failures (debug level).
	Log func(msg string, args ...any)
}

func (o *Options) defaults() {
	if o.MaxBatch <= 0 {
		o.MaxBatch = 256
	}
	if o.Flush <= 0 {
		o.Flush = 20 * time.Millisecond
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 64
	}
	if o.CheckEvery <= 0 {
		o.CheckEvery = 3 * time.Second
	}
	if o.StallAfter <= 0 {
		o.StallAfter = 10 * time.Second
	}
	if o.Behind == nil {
		o.Behind = func(error) bool { return true }
	}
	if o.Retries <= 0 {
		o.Retries = 100
	}
	if o.Backoff <= 0 {
		o.Backoff = 50 * time.Millisecond
	}
	if o.Log == nil {
		o.Log = func(string, ...any) {}
	}
}

// Stats is a Driver's account of a run so far. After Run returns,
// Offered = Accepted + Refused + GaveUp + Unsent.
type Stats struct {
	Elapsed time.Duration // since Run started
	Target  float64       // Options.Rate
	// Offered counts the transactions the Driver made and handed to the
	// Sink (each once, however often it was retried).
	Offered uint64
	// Accepted counts those a node accepted, Refused those it refused for
	// good (invalid, duplicate, out of sequence), GaveUp those still
	// busy after Options.Retries submissions, and Unsent those still
	// waiting for an answer or a retry when Run ended.
	Accepted, Refused, GaveUp, Unsent uint64
	// Retried counts resubmissions of busy transactions.
	Retried uint64
	// Batches counts submissions; PeakInFlight is the most in flight at
	// once, of Options.MaxInFlight.
	Batches                   uint64
	PeakInFlight, MaxInFlight int
	// Committed counts the Driver's accounts' transactions committed
	// since Run started, as of the last check (CommittedKnown: Head is
	// set and a check has run).
	Committed      uint64
	CommittedKnown bool
}

// Rate returns n per second of Elapsed.
func (s Stats) Rate(n uint64) float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(n) / s.Elapsed.Seconds()
}

// Limit names the stage that held the committed rate down: the one that
// passed on the smallest share of what reached it, if under 95 % (the
// margin absorbs what is in flight at the end). The stages, in the order
// load flows: submission (offered against Target: the generator could
// not make and hand out the rate, either because every submission slot
// was waiting on the nodes' APIs or, with slots free, because it could
// not sign fast enough), admission (accepted against offered: the nodes
// refused transactions) and consensus (committed against accepted: the
// blocks took fewer than the pools received).
func (s Stats) Limit() string {
	if s.Offered == 0 {
		return "nothing was offered"
	}
	share := func(a, b float64) float64 {
		if b <= 0 {
			return 1
		}
		return a / b
	}
	offered := share(s.Rate(s.Offered), s.Target)
	accepted := share(float64(s.Accepted), float64(s.Offered))
	committed := 1.0
	if s.CommittedKnown {
		committed = share(float64(s.Committed), float64(s.Accepted))
	}
	least := min(offered, accepted, committed)
	switch {
	case least >= 0.95 && !s.CommittedKnown:
		return "unknown: committed transactions were not counted; offered and accepted kept up"
	case least >= 0.95:
		return "none: the network commits what is offered; raise the rate to find its limit"
	case least == offered && s.MaxInFlight > 0 && s.PeakInFlight < s.MaxInFlight:
		return fmt.Sprintf("submission: offered %.0f of %.0f tx/s with submission slots free (up to %d of %d in flight): the generator could not sign and send faster on this machine", s.Rate(s.Offered), s.Target, s.PeakInFlight, s.MaxInFlight)
	case least == offered:
		return fmt.Sprintf("submission: offered %.0f of %.0f tx/s with all %d submission slots waiting on the nodes' APIs", s.Rate(s.Offered), s.Target, s.PeakInFlight)
	case least == accepted:
		return fmt.Sprintf("admission: the nodes accepted %.0f%% of what was offered (see refused and gave up)", 100*accepted)
	default:
		return fmt.Sprintf("consensus: blocks committed %.0f%% of what the nodes accepted; the rest waits in the pools", 100*committed)
	}
}

// Driver offers a Generator's transactions to nodes at a rate, in
// batches, with as many batches in flight as the rate needs, and counts
// what was offered, accepted and committed. Run is called once; Stats
// and CountCommitted may be called from any goroutine, during or after
// Run.
type Driver struct {
	g    *Generator
	sink Sink
	opt  Options

	started, ended                             atomic.Int64 // unix nanoseconds
	offered, accepted, refused, gaveUp, unsent atomic.Uint64
	retried, batches                           atomic.Uint64
	inFlight, peak                             atomic.Int64

	mu        sync.Mutex
	base, now map[interfaces.StarID]uint64 // committed sequences: first and last read
	resync    map[interfaces.StarID]bool   // senders refused since the last resync
}

// NewDriver returns a driver offering g's transactions to sink. g must
// be positioned already (Generator.Sync) and is used by Run alone.
func NewDriver(g *Generator, sink Sink, opt Options) *Driver {
	opt.defaults()
	return &Driver{g: g, sink: sink, opt: opt, base: map[interfaces.StarID]uint64{}, now: map[interfaces.StarID]uint64{}, resync: map[interfaces.StarID]bool{}}
}

// Stats returns the counts so far.
func (d *Driver) Stats() Stats {
	s := Stats{
		Target: d.opt.Rate, Offered: d.offered.Load(), Accepted: d.accepted.Load(), Refused: d.refused.Load(),
		GaveUp: d.gaveUp.Load(), Unsent: d.unsent.Load(), Retried: d.retried.Load(), Batches: d.batches.Load(),
		PeakInFlight: int(d.peak.Load()), MaxInFlight: d.opt.MaxInFlight,
	}
	if st := d.started.Load(); st != 0 {
		end := d.ended.Load()
		if end == 0 {
			end = time.Now().UnixNano()
		}
		s.Elapsed = time.Duration(end - st)
	}
	d.mu.Lock()
	if len(d.now) > 0 {
		s.CommittedKnown = true
		for id, n := range d.now {
			s.Committed += n - d.base[id]
		}
	}
	d.mu.Unlock()
	return s
}

// CountCommitted reads every account's committed head (Options.Head) and
// updates Stats().Committed; Run does it every CheckEvery and at its
// start. An account that cannot be read keeps its last count. Calling it
// once more after Run returns counts what committed meanwhile.
func (d *Driver) CountCommitted() {
	if d.opt.Head == nil {
		return
	}
	for _, id := range d.g.Accounts() {
		if seq, _, err := d.opt.Head(id); err == nil {
			d.saw(id, seq)
		}
	}
}

// saw records a committed sequence read for id.
func (d *Driver) saw(id interfaces.StarID, seq uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.base[id]; !ok {
		d.base[id] = seq
	}
	if seq >= d.now[id] {
		d.now[id] = seq
	}
}

// Run offers transactions until ctx ends or Options.Limit were offered,
// then waits for the submissions in flight. It returns an error only for
// options it cannot run with.
func (d *Driver) Run(ctx context.Context) error {
	o := d.opt
	if o.Rate <= 0 {
		return fmt.Errorf("loadgen: rate %v: want transactions per second above 0", o.Rate)
	}
	start := time.Now()
	d.started.Store(start.UnixNano())
	defer func() { d.ended.Store(time.Now().UnixNano()) }()
	d.CountCommitted()
	d.opt.Log("load generator started", "rate", o.Rate, "max_batch", o.MaxBatch, "max_in_flight", o.MaxInFlight)
	lastCheck := start
	// The periodic check reads every account's head, which takes a while
	// over an API: a goroutine reads, and the loop applies the snapshot
	// (the generator is the loop's alone).
	snapshots := make(chan map[interfaces.StarID]head, 1)
	reading := false
	lastStall := start

	slots := make(chan struct{}, o.MaxInFlight)
	var wg sync.WaitGroup
	defer wg.Wait()
	// made counts the transactions made; paced those the clock owed,
	// less any backlog forgiven.
	made, skipped := 0, 0
	lastFlush := start
	backlog := o.MaxBatch * o.MaxInFlight
	for ctx.Err() == nil && (o.Limit <= 0 || made < o.Limit) {
		now := time.Now()
		if o.Head != nil {
			select {
			case snap := <-snapshots:
				reading = false
				if time.Since(lastStall) >= o.StallAfter {
					lastStall = time.Now()
					d.applyCheck(snap)
				}
			default:
			}
			if !reading && now.Sub(lastCheck) >= o.CheckEvery {
				lastCheck, reading = now, true
				wg.Add(1)
				go func() {
					defer wg.Done()
					snapshots <- d.readHeads()
				}()
			}
			d.resyncRefused()
		}
		due := int(now.Sub(start).Seconds()*o.Rate) - made - skipped
		if due > backlog {
			// The nodes held the submissions up for longer than the slots
			// cover: what was not offered then is not made up in a burst.
			skipped += due - backlog
			due = backlog
		}
		if o.Limit > 0 {
			due = min(due, o.Limit-made)
		}
		if due <= 0 || (due < o.MaxBatch && now.Sub(lastFlush) < o.Flush) {
			wait := o.Flush - now.Sub(lastFlush)
			full := start.Add(time.Duration(float64(made+skipped+o.MaxBatch) / o.Rate * float64(time.Second))).Sub(now)
			if due <= 0 {
				// Nothing is due: wait for the first transaction to be.
				wait = max(wait, start.Add(time.Duration(float64(made+skipped+1)/o.Rate*float64(time.Second))).Sub(now))
			}
			sleep(ctx, max(min(wait, full), 100*time.Microsecond))
			continue
		}
		// Take a slot before making the batch, so a busy node slows the
		// generator instead of piling up batches.
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		n := min(due, o.MaxBatch)
		parts := map[int][]*interfaces.Transaction{}
		var order []int
		for range n {
			// Signed by the submission, so the signatures of batches in
			// flight are made on as many goroutines.
			tx := d.g.NextUnsigned()
			node := 0
			if o.Route != nil {
				node = o.Route(tx)
			}
			if _, ok := parts[node]; !ok {
				order = append(order, node)
			}
			parts[node] = append(parts[node], tx)
		}
		made += n
		lastFlush = now
		for i, node := range order {
			if i > 0 {
				// One slot per submission: the first part has the one
				// taken above.
				select {
				case slots <- struct{}{}:
				case <-ctx.Done():
					for _, rest := range order[i:] {
						d.offered.Add(uint64(len(parts[rest])))
						d.unsent.Add(uint64(len(parts[rest])))
					}
					return nil
				}
			}
			txs := parts[node]
			d.offered.Add(uint64(len(txs)))
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-slots }()
				d.submit(ctx, node, txs)
			}()
		}
	}
	return nil
}

// submit hands txs to node, resubmitting the busy ones after a backoff.
func (d *Driver) submit(ctx context.Context, node int, txs []*interfaces.Transaction) {
	if n := d.inFlight.Add(1); n > d.peak.Load() {
		for p := d.peak.Load(); n > p && !d.peak.CompareAndSwap(p, n); p = d.peak.Load() {
		}
	}
	defer d.inFlight.Add(-1)
	pending := txs[:0:0]
	for _, tx := range txs {
		if err := d.g.Sign(tx); err != nil {
			d.refused.Add(1)
			d.opt.Log("transaction not signed", "error", err)
			continue
		}
		pending = append(pending, tx)
	}
	if len(pending) == 0 {
		return
	}
	for attempt := 1; ; attempt++ {
		d.batches.Add(1)
		errs, err := d.sink.SubmitBatch(ctx, node, pending)
		if err == nil && len(errs) != len(pending) {
			err = fmt.Errorf("%d answers for %d transactions", len(errs), len(pending))
		}
		var again []*interfaces.Transaction
		if err != nil {
			if ctx.Err() != nil {
				d.unsent.Add(uint64(len(pending)))
				return
			}
			d.opt.Log("batch not submitted", "node", node, "txs", len(pending), "error", err)
			again = pending // the node did not answer: it may be restarting
		} else {
			for i, e := range errs {
				switch {
				case e == nil:
					d.accepted.Add(1)
				case errors.Is(e, ErrBusy):
					again = append(again, pending[i])
				default:
					d.refused.Add(1)
					if d.opt.Behind(e) {
						d.refusedSender(pending[i].Sender)
					}
					d.opt.Log("transaction refused", "error", e)
				}
			}
		}
		if len(again) == 0 {
			return
		}
		if attempt >= d.opt.Retries {
			d.gaveUp.Add(uint64(len(again)))
			for _, tx := range again {
				d.refusedSender(tx.Sender)
			}
			return
		}
		if !sleep(ctx, d.opt.Backoff) {
			d.unsent.Add(uint64(len(again)))
			return
		}
		d.retried.Add(uint64(len(again)))
		pending = again
	}
}

func (d *Driver) refusedSender(s interfaces.StarID) {
	d.mu.Lock()
	d.resync[s] = true
	d.mu.Unlock()
}

// resyncRefused sets the senders refused since the last call back to
// their committed head: their later transactions would not chain.
func (d *Driver) resyncRefused() {
	d.mu.Lock()
	if len(d.resync) == 0 {
		d.mu.Unlock()
		return
	}
	senders := d.resync
	d.resync = map[interfaces.StarID]bool{}
	d.mu.Unlock()
	for s := range senders {
		if seq, last, err := d.opt.Head(s); err == nil {
			d.opt.Log("refused sender resynchronised to its committed head", "account", s.Short(), "seq", seq)
			d.g.Resync(s, seq, last)
			d.saw(s, seq)
		}
	}
}

// head is one account's committed chain head as read.
type head struct {
	seq  uint64
	last interfaces.Hash
	err  error
}

// readHeads reads every account's head and counts committed
// transactions. Safe to run beside Run's loop: it touches no generator
// state (the accounts are fixed at New).
func (d *Driver) readHeads() map[interfaces.StarID]head {
	out := map[interfaces.StarID]head{}
	for _, id := range d.g.Accounts() {
		seq, last, err := d.opt.Head(id)
		if err == nil {
			d.saw(id, seq)
		}
		out[id] = head{seq, last, err}
	}
	return out
}

// applyCheck resynchronises the accounts a snapshot of heads shows
// stalled (Generator.Stalled).
func (d *Driver) applyCheck(snap map[interfaces.StarID]head) {
	read := func(s interfaces.StarID) (uint64, interfaces.Hash, error) {
		h, ok := snap[s]
		if !ok {
			return 0, interfaces.Hash{}, errors.New("not read")
		}
		return h.seq, h.last, h.err
	}
	stalled, _ := d.g.Stalled(read)
	for _, s := range stalled {
		h := snap[s]
		d.opt.Log("account stalled: resynchronised to its committed head", "account", s.Short(), "seq", h.seq)
		d.g.Resync(s, h.seq, h.last)
	}
}

// sleep waits d or until ctx ends, reporting whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
