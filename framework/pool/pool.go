// Package pool is the node's transaction pool: transactions arrive from the
// API and gossip, wait here, and are reaped into the node's next consensus
// contribution. It deduplicates, bounds memory, keeps each sender's
// transactions in sequence order so a reaped batch applies cleanly, and
// serves senders by priority (their reputation) instead of fees:
// low-priority senders wait longer but are never dropped while there is room.
// Only what can never be included is evicted: transactions a committed one
// made obsolete, those the ledger refused for good, those left behind a
// gap in their sender's sequence for Options.GapBlocks blocks, and those
// whose sender's balance stayed short for Options.ShortBlocks decided
// blocks. Each leaves a reason Status answers with.
package pool

import (
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/constellation-chain/constellation/framework/sigcache"
	"github.com/constellation-chain/constellation/interfaces"
)

// Errors returned by Add and AddBatch. Each is wrapped with the transaction it concerns.
var (
	ErrFull      = errors.New("transaction pool is full")
	ErrDuplicate = errors.New("transaction already in the pool")
	ErrConflict  = errors.New("another transaction with the same sender and sequence is in the pool")
	ErrStale     = errors.New("sequence already committed")
	ErrInvalid   = errors.New("invalid transaction")
	// ErrWrongPrev: the transaction is the sender's next, but it does not
	// chain from the sender's last committed one, so it can never be
	// included.
	ErrWrongPrev = errors.New("previous-transaction hash is not the sender's last committed transaction")
	// ErrTooFarAhead: the sequence is more than MaxAhead past the sender's
	// committed one.
	ErrTooFarAhead = errors.New("sequence too far ahead of the sender's committed one")
)

// Options bound the pool.
type Options struct {
	MaxTxs   int // most transactions held; default 100,000
	MaxBytes int // most encoded bytes held; default 256 MiB
	// Priority ranks senders; higher is served first. Nil serves everyone
	// alike, in arrival order.
	Priority func(interfaces.StarID) int64
	// Committed returns a sender's committed sequence number (0 for none).
	// Nil means every sender starts at 0. Head, if set, takes its place.
	Committed func(interfaces.StarID) uint64
	// Head returns a sender's committed sequence number and the id of its
	// last committed transaction (zero for none). With it the pool refuses
	// a sender's next transaction that does not chain from that id, and
	// evicts one after each block (Committed) when it no longer does.
	Head func(interfaces.StarID) (uint64, interfaces.Hash)
	// MaxAhead bounds how far past its committed sequence a sender's
	// transactions may run (the pending window); default 1024.
	MaxAhead uint64
	// GapBlocks bounds how many blocks (calls to Committed) a sender's
	// transactions may wait behind a gap in its sequence, with none of
	// the sender's admitted or committed meanwhile, before the pool
	// evicts them: the missing one was lost (dropped with a node that
	// crashed, say) and the sender has moved on. Default 256.
	GapBlocks uint64
	// ShortBlocks bounds how many decided blocks may refuse a transaction
	// because its sender's balance is short (Short) before the pool drops
	// it and the sender's later ones: a payment to the sender may be on
	// its way (the pool does not refuse such a transaction at admission,
	// since credits from other clusters and funding still in flight make
	// a balance grow), but one that stays short would be proposed, and
	// refused, in every block. Default 256, as GapBlocks.
	ShortBlocks uint32
	// Certified checks a transaction whose kind a group certificate
	// authenticates (interfaces.TxKind.Certified) before it is admitted,
	// so forged ones never reach a proposal; nil refuses every such
	// transaction.
	Certified func(*interfaces.Transaction) error
	// Signatures, when set, remembers the transactions whose signatures
	// verified, so a copy that arrives again is not verified again and the
	// ledger can trust the pool's check (nil verifies every arrival).
	Signatures *sigcache.Cache
	// Forgot, when set, is told the reason kind (Forgot*) of each
	// transaction dropped uncommitted; it is called under the pool's lock
	// and must not call back into the pool.
	Forgot func(kind string)
}

// The kinds of reason a transaction is dropped uncommitted for
// (Options.Forgot).
const (
	ForgotSuperseded = "superseded" // another transaction took its sequence
	ForgotWrongPrev  = "wrong_prev" // it, or one before it, does not chain from the committed head
	ForgotGap        = "gap"        // it waited behind a gap in its sender's sequence
	ForgotRefused    = "refused"    // the ledger refused it
	ForgotShort      = "short"      // its sender's balance stayed short, or that of one before it
)

type entry struct {
	tx *interfaces.Transaction
	id interfaces.Hash
	// short counts the decided blocks that refused it for its sender's
	// short balance (Options.ShortBlocks).
	short uint32
}

type sender struct {
	id      interfaces.StarID
	txs     map[uint64]entry // by sequence
	arrival uint64           // order of the sender's first waiting tx
	// base is the committed sequence when ready was last computed, and
	// ready the run of consecutive sequences waiting after it: the
	// sender's includable transactions.
	base, ready uint64
	// touched is the pool's block count when the sender's last
	// transaction was admitted or committed (Options.GapBlocks).
	touched uint64
}

// Pool is safe for concurrent use.
type Pool struct {
	opts Options

	mu      sync.Mutex
	ids     map[interfaces.Hash]struct{}
	senders map[interfaces.StarID]*sender
	count   int
	bytes   int
	clock   uint64
	// includable is the sum of every sender's ready run (Includable).
	includable int
	// blocks counts the calls to Committed; evicted the senders evicted
	// for waiting behind a gap.
	blocks, evicted uint64
	// why says, for the transactions the pool dropped last without their
	// being committed, why (Status); forgotten holds their ids in the
	// order they were dropped, the oldest forgotten first past maxWhy.
	why       map[interfaces.Hash]string
	forgotten []interfaces.Hash
}

// maxWhy bounds the dropped transactions whose reason the pool keeps.
const maxWhy = 8192

// New returns an empty pool.
func New(opts Options) *Pool {
	if opts.MaxTxs <= 0 {
		opts.MaxTxs = 100_000
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 256 << 20
	}
	if opts.MaxAhead == 0 {
		opts.MaxAhead = 1024
	}
	if opts.GapBlocks == 0 {
		opts.GapBlocks = 256
	}
	if opts.ShortBlocks == 0 {
		opts.ShortBlocks = 256
	}
	return &Pool{opts: opts, ids: map[interfaces.Hash]struct{}{}, senders: map[interfaces.StarID]*sender{}, why: map[interfaces.Hash]string{}}
}

// Status says whether the pool holds the transaction id (pending), or
// else why it dropped it without its being committed (reason, "" when it
// never held it or forgot: it keeps the last maxWhy reasons).
func (p *Pool) Status(id interfaces.Hash) (pending bool, reason string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.ids[id]; ok {
		return true, ""
	}
	return false, p.why[id]
}

// forgetLocked drops one waiting transaction that will never be
// included, and keeps why for Status.
func (p *Pool) forgetLocked(s *sender, seq uint64, kind, why string) {
	id := s.txs[seq].id
	if p.opts.Forgot != nil {
		p.opts.Forgot(kind)
	}
	p.dropLocked(s, seq)
	if _, ok := p.why[id]; !ok {
		p.forgotten = append(p.forgotten, id)
	}
	p.why[id] = why
	if len(p.forgotten) > maxWhy {
		delete(p.why, p.forgotten[0])
		p.forgotten = p.forgotten[1:]
	}
}

func txSize(t *interfaces.Transaction) int { return 170 + len(t.Payload) + len(t.CounterSig) }

// Add checks tx without state (kind, payload size, signatures) and queues it.
// The signature check runs outside the lock so many callers verify at once.
func (p *Pool) Add(tx *interfaces.Transaction) error {
	id, err := checkStateless(tx)
	if err != nil {
		return err
	}
	if err := p.opts.Signatures.Verify(id, tx); err != nil {
		return fmt.Errorf("add transaction %s: %w: %w", id.Short(), ErrInvalid, err)
	}
	return p.admit(tx, id)
}

// AddBatch is Add for many transactions, such as a gossiped batch:
// errs[i] is what Add(txs[i]) would return (same checks, same errors),
// but the signatures of every transaction that passes the stateless
// checks are verified together in batches (sigcache.VerifyBatch), which
// costs less per signature than verifying them one by one. The
// transactions are then queued in the order given, so a sender's
// consecutive transactions in one batch are admitted as Add would admit
// them one after another. Safe for concurrent use.
func (p *Pool) AddBatch(txs []*interfaces.Transaction) []error {
	errs := make([]error, len(txs))
	ids := make([]interfaces.Hash, 0, len(txs))
	checked := make([]*interfaces.Transaction, 0, len(txs))
	at := make([]int, 0, len(txs))
	for i, tx := range txs {
		id, err := checkStateless(tx)
		if err != nil {
			errs[i] = err
			continue
		}
		ids, checked, at = append(ids, id), append(checked, tx), append(at, i)
	}
	sigErrs := p.opts.Signatures.VerifyBatch(ids, checked)
	for j, tx := range checked {
		i, id := at[j], ids[j]
		if err := sigErrs[j]; err != nil {
			errs[i] = fmt.Errorf("add transaction %s: %w: %w", id.Short(), ErrInvalid, err)
			continue
		}
		errs[i] = p.admit(tx, id)
	}
	return errs
}

// checkStateless runs the checks of Add that need neither state nor
// signatures, and returns tx's id.
func checkStateless(tx *interfaces.Transaction) (interfaces.Hash, error) {
	if tx == nil {
		return interfaces.Hash{}, fmt.Errorf("add transaction: %w: nil", ErrInvalid)
	}
	id := tx.ID()
	if !tx.Kind.Valid() {
		return id, fmt.Errorf("add transaction %s: %w: unknown kind %d", id.Short(), ErrInvalid, tx.Kind)
	}
	if tx.Seq == 0 {
		return id, fmt.Errorf("add transaction %s: %w: sequence numbers start at 1", id.Short(), ErrInvalid)
	}
	if len(tx.Payload) > interfaces.MaxTxPayload {
		return id, fmt.Errorf("add transaction %s: %w: payload of %d bytes exceeds %d", id.Short(), ErrInvalid, len(tx.Payload), interfaces.MaxTxPayload)
	}
	return id, nil
}

// admit runs the checks of Add that follow the signatures' (certificates,
// then the sender's chain and the pool's bounds) and queues tx.
func (p *Pool) admit(tx *interfaces.Transaction, id interfaces.Hash) error {
	if tx.Kind.Certified() {
		if p.opts.Certified == nil {
			return fmt.Errorf("add transaction %s: %w: this chain takes no %s transactions", id.Short(), ErrInvalid, tx.Kind)
		}
		if err := p.opts.Certified(tx); err != nil {
			return fmt.Errorf("add transaction %s: %w: %w", id.Short(), ErrInvalid, err)
		}
	}
	committed, last, known := p.head(tx.Chain())
	if tx.Seq <= committed {
		return fmt.Errorf("add transaction %s: %w (sender %s is at %d)", id.Short(), ErrStale, tx.Sender.Short(), committed)
	}
	if tx.Seq > committed+p.opts.MaxAhead {
		return fmt.Errorf("add transaction %s: %w (seq %d; sender %s is at %d, and the pool holds at most %d ahead)", id.Short(), ErrTooFarAhead, tx.Seq, tx.Sender.Short(), committed, p.opts.MaxAhead)
	}
	// Certified kinds chain by their own rules (a checkpoint names the
	// previous header, a credit none); the ledger checks those.
	if known && !tx.Kind.Certified() && tx.Seq == committed+1 && tx.Prev != last {
		return fmt.Errorf("add transaction %s: %w (prev %s, the sender's last committed is %s)", id.Short(), ErrWrongPrev, tx.Prev.Short(), last.Short())
	}
	size := txSize(tx)

	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.ids[id]; ok {
		return fmt.Errorf("add transaction %s: %w", id.Short(), ErrDuplicate)
	}
	s := p.senders[tx.Chain()]
	if s != nil {
		if _, ok := s.txs[tx.Seq]; ok {
			return fmt.Errorf("add transaction %s: %w (seq %d)", id.Short(), ErrConflict, tx.Seq)
		}
	}
	if p.count+1 > p.opts.MaxTxs || p.bytes+size > p.opts.MaxBytes {
		return fmt.Errorf("add transaction %s: %w (%d transactions, %d bytes held); retry after the next block", id.Short(), ErrFull, p.count, p.bytes)
	}
	if s == nil {
		p.clock++
		s = &sender{id: tx.Chain(), txs: map[uint64]entry{}, arrival: p.clock, base: committed}
		p.senders[tx.Chain()] = s
	}
	s.txs[tx.Seq] = entry{tx: tx, id: id}
	s.touched = p.blocks
	p.ids[id] = struct{}{}
	p.count++
	p.bytes += size
	p.extend(s)
	return nil
}

// extend grows s's ready run over the sequences now waiting after it.
func (p *Pool) extend(s *sender) {
	for {
		if _, ok := s.txs[s.base+s.ready+1]; !ok {
			return
		}
		s.ready++
		p.includable++
	}
}

// recount recomputes s's ready run from its committed sequence.
func (p *Pool) recount(s *sender) {
	committed, _, _ := p.head(s.id)
	p.recountFrom(s, committed)
}

// recountFrom recomputes s's ready run after committed.
func (p *Pool) recountFrom(s *sender, committed uint64) {
	p.includable -= int(s.ready)
	s.ready, s.base = 0, committed
	p.extend(s)
}

// head returns a sender's committed sequence and last id, and whether the
// id is known (Options.Head is set).
func (p *Pool) head(s interfaces.StarID) (uint64, interfaces.Hash, bool) {
	if p.opts.Head != nil {
		seq, last := p.opts.Head(s)
		return seq, last, true
	}
	if p.opts.Committed != nil {
		return p.opts.Committed(s), interfaces.Hash{}, false
	}
	return 0, interfaces.Hash{}, false
}

// Includable returns how many waiting transactions a proposal could take
// now: for each sender, the run of consecutive sequence numbers following
// its committed one. Transactions behind a gap wait for it to fill and do
// not count, so a pool of stuck transactions does not make a node propose
// early. It is kept up to date as transactions arrive and blocks commit,
// so asking costs nothing.
func (p *Pool) Includable() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.includable
}

// Len returns how many transactions wait.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.count
}

// Reap returns up to max transactions for the next contribution without
// removing them: for each sender, the run of consecutive sequence numbers
// following its committed one. Senders are taken by priority, then by the
// arrival of their oldest waiting transaction, then by StarID, so the result
// does not depend on map order.
func (p *Pool) Reap(max int) []*interfaces.Transaction {
	p.mu.Lock()
	defer p.mu.Unlock()
	order := make([]*sender, 0, len(p.senders))
	prio := make(map[interfaces.StarID]int64, len(p.senders))
	for _, s := range p.senders {
		order = append(order, s)
		if p.opts.Priority != nil {
			prio[s.id] = p.opts.Priority(s.id)
		}
	}
	sort.Slice(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if prio[a.id] != prio[b.id] {
			return prio[a.id] > prio[b.id]
		}
		if a.arrival != b.arrival {
			return a.arrival < b.arrival
		}
		return a.id.Less(b.id)
	})
	var out []*interfaces.Transaction
	for _, s := range order {
		committed, _, _ := p.head(s.id)
		next := committed + 1
		for len(out) < max {
			e, ok := s.txs[next]
			if !ok {
				break
			}
			out = append(out, e.tx)
			next++
		}
		if len(out) >= max {
			break
		}
	}
	return out
}

// Committed drops every waiting transaction a new block made obsolete: the
// ones it included and any other whose sequence is now committed. Call it
// after the block is durable.
func (p *Pool) Committed(block []*interfaces.Transaction) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.blocks++
	defer p.evictGapsLocked()
	// Each sender once, at the highest sequence the block holds for it.
	top := map[interfaces.StarID]uint64{}
	included := map[interfaces.Hash]struct{}{}
	for _, tx := range block {
		if _, ok := p.senders[tx.Chain()]; ok {
			top[tx.Chain()] = max(top[tx.Chain()], tx.Seq)
			included[tx.ID()] = struct{}{}
		}
	}
	for id, inBlock := range top {
		s := p.senders[id]
		committed, last, known := p.head(id)
		if committed < inBlock {
			committed = inBlock
			known = false // the store is behind this block: no recheck
		}
		for seq, e := range s.txs {
			switch _, in := included[e.id]; {
			case seq > committed:
			case in:
				p.dropLocked(s, seq)
			default:
				p.forgetLocked(s, seq, ForgotSuperseded, fmt.Sprintf("another transaction of sender %s took sequence %d", id.Short(), seq))
			}
		}
		// Recheck: a waiting next transaction that no longer chains from
		// the committed one (another with its sequence was committed)
		// can never be included, nor can what follows it.
		if e, ok := s.txs[committed+1]; known && ok && !e.tx.Kind.Certified() && e.tx.Prev != last {
			for seq := range s.txs {
				why := fmt.Sprintf("it follows sequence %d, which can never be included", committed+1)
				if seq == committed+1 {
					why = fmt.Sprintf("it names previous transaction %s, and sender %s's last committed one is %s", e.tx.Prev.Short(), id.Short(), last.Short())
				}
				p.forgetLocked(s, seq, ForgotWrongPrev, why)
			}
		}
		if _, ok := p.senders[id]; ok {
			s.touched = p.blocks
		}
		p.recountFrom(s, committed)
	}
}

// gapSweep is how often, in blocks, Committed looks for senders stuck
// behind a gap.
const gapSweep = 16

// evictGapsLocked drops, every gapSweep blocks, the transactions of each
// sender that none can be included of (its next sequence is missing) and
// that has seen nothing admitted or committed for Options.GapBlocks
// blocks. Such transactions never reach a proposal, but they would hold
// the pool's room, and the senders' sequences, forever.
func (p *Pool) evictGapsLocked() {
	if p.blocks%gapSweep != 0 {
		return
	}
	for _, s := range p.senders {
		if s.ready > 0 || p.blocks-s.touched < p.opts.GapBlocks {
			continue
		}
		why := fmt.Sprintf("it waited %d blocks behind a gap: sender %s's sequence %d never arrived", p.opts.GapBlocks, s.id.Short(), s.base+1)
		for seq := range s.txs {
			p.forgetLocked(s, seq, ForgotGap, why)
		}
		p.evicted++
	}
}

// Evicted returns how many senders' transactions were evicted for
// waiting behind a gap (Options.GapBlocks).
func (p *Pool) Evicted() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.evicted
}

// dropLocked removes one waiting transaction. The caller recounts the
// sender (recount) once it has removed what it will.
func (p *Pool) dropLocked(s *sender, seq uint64) {
	e := s.txs[seq]
	delete(s.txs, seq)
	delete(p.ids, e.id)
	p.count--
	p.bytes -= txSize(e.tx)
	if len(s.txs) == 0 {
		delete(p.senders, s.id)
	}
}

// Short counts, for each of txs a decided block held and the ledger
// refused because its sender's balance was short, one more such block;
// at Options.ShortBlocks the pool drops it and the sender's later
// transactions (which chain from it), with the reason.
func (p *Pool) Short(txs []*interfaces.Transaction) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, tx := range txs {
		s := p.senders[tx.Chain()]
		if s == nil {
			continue
		}
		e, ok := s.txs[tx.Seq]
		if !ok || e.id != tx.ID() {
			continue
		}
		e.short++
		s.txs[tx.Seq] = e
		if e.short < p.opts.ShortBlocks {
			continue
		}
		what := "what it spends"
		if t, err := interfaces.DecodeTransferPayload(tx.Payload); err == nil && tx.Kind == interfaces.TxTransfer {
			what = fmt.Sprintf("the %d it sends", t.Amount)
		}
		for seq := range s.txs {
			switch {
			case seq == tx.Seq:
				p.forgetLocked(s, seq, ForgotShort, fmt.Sprintf("%d decided blocks refused it: sender %s's balance stayed short of %s", e.short, tx.Sender.Short(), what))
			case seq > tx.Seq:
				p.forgetLocked(s, seq, ForgotShort, fmt.Sprintf("it follows sequence %d, which its sender's balance could not pay", tx.Seq))
			}
		}
		p.recount(s) // a sender left with nothing still gives back its ready run
	}
}

// Drop removes transactions the ledger refused for good (bad signature,
// wrong previous hash, replay, double spend), so they are not proposed again.
// why, when not nil, holds the ledger's reason for each (Status).
func (p *Pool) Drop(txs []*interfaces.Transaction, why []error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, tx := range txs {
		s := p.senders[tx.Chain()]
		if s == nil {
			continue
		}
		if e, ok := s.txs[tx.Seq]; ok && e.id == tx.ID() {
			reason := "the ledger refused it"
			if i < len(why) && why[i] != nil {
				reason = "the ledger refused it: " + why[i].Error()
			}
			p.forgetLocked(s, tx.Seq, ForgotRefused, reason)
			p.recount(s)
		}
	}
}
