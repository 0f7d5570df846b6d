package bench

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"time"

	sha256 "github.com/minio/sha256-simd"

	"github.com/constellation-chain/constellation/interfaces"
)

// Config is one benchmark point: an engine, a cluster size, a load and a
// mode. The zero values of the optional fields select the definition's
// defaults.
type Config struct {
	// Factory builds the engines. When it implements interfaces.KeyDealer
	// the harness deals keys with it from a seeded stream.
	Factory interfaces.ConsensusFactory
	// Params is the engine's config block (JSON) for every member.
	Params []byte
	// N is the number of members; f is ⌊(N−1)/3⌋.
	N int
	// TxPerNode is B/N, the transactions each member proposes per epoch.
	TxPerNode int
	// TxSize is the size of a transaction's encoding; 0 means 250.
	TxSize int
	// Signed selects ed25519-signed transactions in TxBatch contributions,
	// verified by every honest member (modes B and C); false proposes raw
	// random bytes (mode A).
	Signed bool
	// Silent is the number of members that never send (at most f).
	Silent int
	// Warmup and Measured are the epochs before and inside the measured
	// window; Measured must be at least 1.
	Warmup, Measured int
	// Seed fixes keys, transactions, engine seeds and the delivery order.
	Seed uint64
	// Verifiers is the number of signature-verifying goroutines; 0 means
	// GOMAXPROCS.
	Verifiers int
	// PregenBudget bounds the memory (bytes) of transactions generated
	// before the measured window; past it transactions are generated on
	// the fly and their cost subtracted. 0 means 128 MiB; negative never
	// pregenerates.
	PregenBudget int64
	// ExtraCPU, when set, returns CPU time spent outside this process on
	// the benchmark's behalf (a plugin's child process); it is sampled at
	// both ends of the window.
	ExtraCPU func() time.Duration
	// Progress, when set, receives progress lines.
	Progress func(format string, args ...any)
	// MaxDeliveries bounds the delivery loop; 0 means a generous default.
	MaxDeliveries int64
	// BatchDelivery delivers, with each randomly picked message, every
	// other message in flight to the same member, in random order and in
	// one interfaces.StepAll call (one round trip for an engine in another
	// process). The out-of-process comparison uses it on both sides.
	BatchDelivery bool
	// SignMessages does what a node does to every consensus message: the
	// sender signs it once (interfaces.SignedMessage, ed25519 over the
	// instance, epoch, recipient and payload) and each recipient decodes
	// and verifies it before the engine sees the payload. It measures what
	// provable evidence costs.
	SignMessages bool
}

// Result is one repetition's measurement.
type Result struct {
	N, Faulty, Silent, TxPerNode, TxSize int
	Signed                               bool
	Epochs                               int           // measured epochs
	UniqueTxs                            int64         // unique transactions committed in the measured epochs
	DuplicateTxs                         int64         // committed again, or twice in one epoch, in the measured epochs
	Wall                                 time.Duration // measured window, generation excluded
	CPU                                  time.Duration // process (+ExtraCPU) CPU in the window, generation excluded
	Messages                             int64         // messages sent in the window (a broadcast counts N−1)
	Bytes                                int64         // their payload bytes
	Latencies                            []time.Duration
	Generated                            time.Duration // generation wall time subtracted from Wall
	Verified                             int64         // signatures verified in the whole run (all members)
}

// TxPerSec returns unique committed transactions per second.
func (r Result) TxPerSec() float64 {
	if r.Wall <= 0 {
		return 0
	}
	return float64(r.UniqueTxs) / r.Wall.Seconds()
}

// MsPerEpoch returns wall milliseconds per measured epoch.
func (r Result) MsPerEpoch() float64 { return r.perEpoch(float64(r.Wall) / 1e6) }

// MessagesPerEpoch returns messages sent per measured epoch.
func (r Result) MessagesPerEpoch() float64 { return r.perEpoch(float64(r.Messages)) }

// BytesPerEpoch returns payload bytes sent per measured epoch.
func (r Result) BytesPerEpoch() float64 { return r.perEpoch(float64(r.Bytes)) }

// CPUPerEpoch returns CPU seconds per measured epoch.
func (r Result) CPUPerEpoch() float64 { return r.perEpoch(r.CPU.Seconds()) }

func (r Result) perEpoch(v float64) float64 {
	if r.Epochs == 0 {
		return 0
	}
	return v / float64(r.Epochs)
}

// Latency returns the nearest-rank q-quantile (0 < q ≤ 1) of the measured
// epochs' latencies.
func (r Result) Latency(q float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	s := slices.Clone(r.Latencies)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.999999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

// ErrDisagreement is returned when honest members decide differently.
var ErrDisagreement = errors.New("honest members disagree")

// ErrStalled is returned when no message is in flight but the run is not
// finished.
var ErrStalled = errors.New("consensus stalled")

func (c *Config) check() error {
	if c.Factory == nil {
		return errors.New("no consensus factory")
	}
	if c.N < 1 {
		return fmt.Errorf("N=%d, want at least 1", c.N)
	}
	if c.TxPerNode < 1 {
		return fmt.Errorf("%d transactions per member, want at least 1", c.TxPerNode)
	}
	if c.TxSize == 0 {
		c.TxSize = DefaultTxSize
	}
	if f := (c.N - 1) / 3; c.Silent < 0 || c.Silent > f {
		return fmt.Errorf("%d silent members at N=%d, want 0 to f=%d", c.Silent, c.N, f)
	}
	if c.Warmup < 0 || c.Measured < 1 {
		return fmt.Errorf("%d warm-up and %d measured epochs, want ≥0 and ≥1", c.Warmup, c.Measured)
	}
	if c.Verifiers <= 0 {
		c.Verifiers = runtime.GOMAXPROCS(0)
	}
	if c.PregenBudget == 0 {
		c.PregenBudget = 128 << 20
	}
	if c.MaxDeliveries <= 0 {
		c.MaxDeliveries = int64(c.Warmup+c.Measured) * int64(c.N) * int64(c.N) * 20000
	}
	return nil
}

// member is one member's host-side state.
type member struct {
	idx      int
	id       interfaces.StarID
	eng      interfaces.Consensus // nil for a silent member
	pool     pool
	gen      *txGen
	stream   []poolTx // pregenerated transactions, consumed from the front
	decided  uint64   // epochs decided so far (the next expected decision)
	proposed uint64   // epochs proposed to so far
}

// message is one serialized message in flight.
type message struct {
	from, to int
	payload  []byte
}

// epochStat is what the harness knows of one epoch.
type epochStat struct {
	start     time.Time
	first     []interfaces.ContributionFrom // the first honest decision, until all agreed
	seen      bool                          // an honest member has decided it
	decided   int                           // honest members that decided it
	verified  int                           // honest members that verified it (signed mode)
	end       time.Time
	completed bool
}

// runner is one repetition in progress. Only the driver goroutine touches
// its fields, except those under mu, which the verifiers share.
type runner struct {
	cfg Config
	// signing holds each member's ed25519 key (aligned with ids) and
	// instance the instance id, for SignMessages.
	signing  []ed25519.PrivateKey
	instance interfaces.InstanceID
	total    int
	honest   int
	members  []*member
	ids      []interfaces.StarID
	rng      *rand.Rand
	queue    []message
	seen     map[txKey]struct{}
	res      Result

	windowOpen bool
	t0         time.Time
	cpu0       time.Duration
	genWall    time.Duration
	genCPU     time.Duration
	onTheFly   bool

	jobs chan verifyJob
	wg   sync.WaitGroup
	mu   sync.Mutex
	cond *sync.Cond
	ep   []epochStat // under mu
	verr error       // under mu: first verification failure
	nver int64       // under mu
}

type verifyJob struct {
	member int
	epoch  uint64
	data   []interfaces.ContributionFrom
}

// Run runs one repetition of cfg and returns its measurement, or an error
// if the engine misbehaves (disagreement, stall, a bad signature decided)
// or cannot be built.
func Run(cfg Config) (res Result, err error) {
	if err := cfg.check(); err != nil {
		return Result{}, fmt.Errorf("benchmark config: %w", err)
	}
	r := &runner{
		cfg:    cfg,
		total:  cfg.Warmup + cfg.Measured,
		honest: cfg.N - cfg.Silent,
		rng:    rand.New(rand.NewPCG(cfg.Seed, 0x62656e6368)),
		seen:   map[txKey]struct{}{},
		ep:     make([]epochStat, cfg.Warmup+cfg.Measured),
	}
	r.cond = sync.NewCond(&r.mu)
	r.res = Result{N: cfg.N, Faulty: (cfg.N - 1) / 3, Silent: cfg.Silent, TxPerNode: cfg.TxPerNode,
		TxSize: cfg.TxSize, Signed: cfg.Signed, Epochs: cfg.Measured}

	// The driver's thread CPU is sampled around transaction generation.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	if err := r.setup(); err != nil {
		r.closeEngines()
		return Result{}, err
	}
	defer r.closeEngines()
	if cfg.Signed {
		r.jobs = make(chan verifyJob, cfg.N*4)
		for range cfg.Verifiers {
			r.wg.Add(1)
			go r.verifier()
		}
		defer func() {
			close(r.jobs)
			r.wg.Wait()
		}()
	}
	if err := r.drive(); err != nil {
		return Result{}, err
	}
	return r.res, nil
}

// seeded derives a 32-byte seed for purpose and index from the run seed.
func (r *runner) seeded(purpose string, i int) [32]byte {
	var b [8 + 8]byte
	binary.BigEndian.PutUint64(b[:8], r.cfg.Seed)
	binary.BigEndian.PutUint64(b[8:], uint64(i))
	return sha256.Sum256(append([]byte("constellation/bench/"+purpose+"/"), b[:]...))
}

func (r *runner) setup() error {
	cfg := r.cfg
	f := (cfg.N - 1) / 3
	type kp struct {
		id interfaces.StarID
		i  int
	}
	keys := make([]kp, cfg.N)
	for i := range keys {
		s := r.seeded("member", i)
		pk := ed25519.NewKeyFromSeed(s[:]).Public().(ed25519.PublicKey)
		id, err := interfaces.StarIDFromPublicKey(pk)
		if err != nil {
			return fmt.Errorf("make member identity: %w", err)
		}
		keys[i] = kp{id, i}
	}
	slices.SortFunc(keys, func(a, b kp) int { return bytes.Compare(a.id[:], b.id[:]) })
	r.ids = make([]interfaces.StarID, cfg.N)
	r.signing = make([]ed25519.PrivateKey, cfg.N)
	for i, k := range keys {
		r.ids[i] = k.id
		s := r.seeded("member", k.i)
		r.signing[i] = ed25519.NewKeyFromSeed(s[:])
	}
	r.instance = interfaces.NewInstanceID("bench", "cluster/0", 0, r.ids)
	var dealt [][]byte
	if d, ok := cfg.Factory.(interfaces.KeyDealer); ok {
		s := r.seeded("dealer", 0)
		var err error
		dealt, err = d.DealKeys(slices.Clone(r.ids), f, rand.NewChaCha8(s))
		if err != nil {
			return fmt.Errorf("deal keys for %d members: %w", cfg.N, err)
		}
		if len(dealt) != cfg.N {
			return fmt.Errorf("deal keys: dealer returned %d key sets for %d members", len(dealt), cfg.N)
		}
	}
	// Silent members are the last cfg.Silent in member order.
	perMember := int64(3*cfg.TxPerNode + r.total*cfg.TxPerNode)
	r.onTheFly = cfg.PregenBudget < 0 || perMember*int64(r.honest)*int64(cfg.TxSize+64) > cfg.PregenBudget
	for i := range cfg.N {
		m := &member{idx: i, id: r.ids[i]}
		r.members = append(r.members, m)
		if i >= r.honest {
			continue
		}
		var keysI []byte
		if dealt != nil {
			keysI = dealt[i]
		}
		eng, err := cfg.Factory.NewConsensus(interfaces.ConsensusConfig{
			Self:      m.id,
			Members:   slices.Clone(r.ids),
			Faulty:    f,
			Keys:      keysI,
			Seed:      interfaces.Hash(r.seeded("engine", i)),
			BatchSize: cfg.N * cfg.TxPerNode,
			Params:    cfg.Params,
		})
		if err != nil {
			return fmt.Errorf("create engine for member %d of %d: %w", i, cfg.N, err)
		}
		m.eng = eng
		if m.gen, err = newTxGen(r.seeded("txs", i), cfg.TxSize, cfg.Signed); err != nil {
			return fmt.Errorf("transactions for member %d: %w", i, err)
		}
		if !r.onTheFly {
			m.stream = make([]poolTx, 0, perMember)
			for range perMember {
				t, err := m.gen.make()
				if err != nil {
					return err
				}
				m.stream = append(m.stream, t)
			}
		}
		if err := r.refill(m); err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) closeEngines() {
	for _, m := range r.members {
		if c, ok := m.eng.(io.Closer); ok {
			c.Close()
		}
	}
}

// refill tops m's pool up to three batches, timing generation done inside
// the measured window so it can be subtracted.
func (r *runner) refill(m *member) error {
	want := 3 * r.cfg.TxPerNode
	if len(m.pool.txs) >= want {
		return nil
	}
	var w0 time.Time
	var c0 time.Duration
	timed := r.onTheFly && r.windowOpen
	if timed {
		w0, c0 = time.Now(), threadCPU()
	}
	for len(m.pool.txs) < want {
		if len(m.stream) > 0 {
			m.pool.txs = append(m.pool.txs, m.stream[0])
			m.stream[0] = poolTx{}
			m.stream = m.stream[1:]
			continue
		}
		t, err := m.gen.make()
		if err != nil {
			return fmt.Errorf("refill the pool of member %d: %w", m.idx, err)
		}
		m.pool.txs = append(m.pool.txs, t)
	}
	if timed {
		r.genWall += time.Since(w0)
		r.genCPU += threadCPU() - c0
	}
	return nil
}

// drive runs the delivery loop until every honest member has decided (and
// verified) every epoch.
func (r *runner) drive() error {
	for _, m := range r.members[:r.honest] {
		if err := r.maybePropose(m); err != nil {
			return err
		}
	}
	for steps := int64(0); ; steps++ {
		if err := r.verifyError(); err != nil {
			return err
		}
		if r.allDecided() {
			break
		}
		if steps >= r.cfg.MaxDeliveries {
			return fmt.Errorf("%w: %d deliveries without finishing (%s)", ErrStalled, steps, r.status())
		}
		if len(r.queue) == 0 {
			return fmt.Errorf("%w: no message in flight (%s)", ErrStalled, r.status())
		}
		i := r.rng.IntN(len(r.queue))
		msg := r.queue[i]
		last := len(r.queue) - 1
		r.queue[i] = r.queue[last]
		r.queue[last] = message{}
		r.queue = r.queue[:last]
		m := r.members[msg.to]
		var out interfaces.Output
		var err error
		first, err := r.open(msg.from, msg.payload)
		if err != nil {
			return fmt.Errorf("member %d: a message from member %d: %w", msg.to, msg.from, err)
		}
		if r.cfg.BatchDelivery {
			batch := []interfaces.Inbound{{From: r.ids[msg.from], Payload: first}}
			rest := r.queue[:0]
			for _, q := range r.queue {
				if q.to == msg.to {
					p, err := r.open(q.from, q.payload)
					if err != nil {
						return fmt.Errorf("member %d: a message from member %d: %w", q.to, q.from, err)
					}
					batch = append(batch, interfaces.Inbound{From: r.ids[q.from], Payload: p})
				} else {
					rest = append(rest, q)
				}
			}
			clear(r.queue[len(rest):])
			r.queue = rest
			r.rng.Shuffle(len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] })
			out, err = interfaces.StepAll(m.eng, batch)
		} else {
			out, err = m.eng.Step(r.ids[msg.from], first)
		}
		if err != nil {
			return fmt.Errorf("member %d: step a message from member %d: %w", msg.to, msg.from, err)
		}
		if err := r.handle(m, out); err != nil {
			return err
		}
	}
	r.queue = nil
	// Wait for the verifiers to finish every epoch: they run concurrently,
	// so the last epoch may be verified before an earlier one.
	r.mu.Lock()
	for r.verr == nil && !r.allCompletedLocked() {
		r.cond.Wait()
	}
	verr := r.verr
	r.mu.Unlock()
	if verr != nil {
		return verr
	}
	return r.finish()
}

// allCompletedLocked reports whether every epoch is decided and verified
// by every honest member. r.mu must be held.
func (r *runner) allCompletedLocked() bool {
	for e := range r.ep[:r.total] {
		if !r.ep[e].completed {
			return false
		}
	}
	return true
}

func (r *runner) allDecided() bool {
	for _, m := range r.members[:r.honest] {
		if m.decided < uint64(r.total) {
			return false
		}
	}
	return true
}

func (r *runner) status() string {
	var b bytes.Buffer
	b.WriteString("epochs decided per member:")
	for _, m := range r.members {
		if m.eng == nil {
			b.WriteString(" silent")
			continue
		}
		fmt.Fprintf(&b, " %d", m.decided)
	}
	return b.String()
}

// handle acts on one engine output of member m: sends its messages,
// checks and records its decisions, and proposes when m is ready.
func (r *runner) handle(m *member, out interfaces.Output) error {
	if err := r.sendAll(m, out.Messages); err != nil {
		return err
	}
	for _, d := range out.Decisions {
		if err := r.decided(m, d); err != nil {
			return err
		}
	}
	return r.maybePropose(m)
}

// sendAll sends member m's messages, expanding broadcasts.
func (r *runner) sendAll(m *member, msgs []interfaces.OutMessage) error {
	for _, om := range msgs {
		payload := om.Payload
		if r.cfg.SignMessages {
			sm := interfaces.SignedMessage{Instance: r.instance, Epoch: om.Epoch, To: om.To, Payload: om.Payload}
			sm.Sign(r.signing[m.idx])
			payload = sm.Encode()
		}
		if om.To == interfaces.Broadcast {
			for j := range r.members {
				if j != m.idx {
					r.send(m.idx, j, payload)
				}
			}
			continue
		}
		j := slices.IndexFunc(r.ids, func(id interfaces.StarID) bool { return id == om.To })
		if j < 0 || j == m.idx {
			return fmt.Errorf("member %d addressed a message to %s, not another member", m.idx, om.To.Short())
		}
		r.send(m.idx, j, payload)
	}
	return nil
}

// open is what a node does with a consensus message before its engine
// sees it: decode the signed envelope, check sender and signature.
func (r *runner) open(from int, raw []byte) ([]byte, error) {
	if !r.cfg.SignMessages {
		return raw, nil
	}
	sm, err := interfaces.DecodeSignedMessage(raw)
	if err != nil {
		return nil, err
	}
	if sm.From != r.ids[from] || sm.Instance != r.instance {
		return nil, fmt.Errorf("signed message from member %d names %s", from, sm.From.Short())
	}
	if err := sm.Verify(); err != nil {
		return nil, err
	}
	return sm.Payload, nil
}

// send serializes one message for one recipient: the payload is copied, as
// a wire would, and counted.
func (r *runner) send(from, to int, payload []byte) {
	if r.windowOpen {
		r.res.Messages++
		r.res.Bytes += int64(len(payload))
	}
	if r.members[to].eng == nil {
		return // silent members receive nothing that matters
	}
	r.queue = append(r.queue, message{from: from, to: to, payload: bytes.Clone(payload)})
}

// maybePropose proposes m's next epoch once m has decided every earlier
// one (lock step), within the run's epochs.
func (r *runner) maybePropose(m *member) error {
	for guard := 0; guard < r.total+1; guard++ {
		e := m.decided
		if e >= uint64(r.total) || m.proposed > e {
			return nil
		}
		if got := m.eng.Epoch(); got != e {
			return fmt.Errorf("member %d: engine is at epoch %d after deciding %d epochs", m.idx, got, e)
		}
		if r.cfg.Signed && e >= 2 {
			if err := r.waitVerified(e - 2); err != nil {
				return err
			}
		}
		if err := r.refill(m); err != nil {
			return err
		}
		if int(e) == r.cfg.Warmup && !r.windowOpen {
			r.windowOpen = true
			r.t0 = time.Now()
			r.cpu0 = r.processCPU()
		}
		r.mu.Lock()
		if r.ep[e].start.IsZero() {
			r.ep[e].start = time.Now()
		}
		r.mu.Unlock()
		txs := m.pool.sample(r.rng, r.cfg.TxPerNode, e)
		out, err := m.eng.Propose(encodeContribution(txs, r.cfg.TxSize, r.cfg.Signed, e))
		if err != nil {
			return fmt.Errorf("member %d: propose to epoch %d: %w", m.idx, e, err)
		}
		m.proposed = e + 1
		// The output may hold decisions; the loop proposes again if they
		// make m ready.
		if err := r.sendAll(m, out.Messages); err != nil {
			return err
		}
		for _, d := range out.Decisions {
			if err := r.decided(m, d); err != nil {
				return err
			}
		}
	}
	return fmt.Errorf("member %d: proposal loop did not settle", m.idx)
}

// decided checks one decision of member m against the epoch order and the
// other honest members, counts its transactions at the first decider, and
// hands it to the verifiers.
func (r *runner) decided(m *member, d interfaces.Decision) error {
	if d.Epoch != m.decided {
		return fmt.Errorf("%w: member %d decided epoch %d, expected epoch %d next", ErrDisagreement, m.idx, d.Epoch, m.decided)
	}
	if d.Epoch >= uint64(r.total) {
		m.decided++
		return nil // past the run; not measured, not checked
	}
	m.decided++
	own := false
	for _, c := range d.Contributions {
		if c.Proposer == m.id {
			own = true
		}
	}
	if own {
		m.pool.committed(d.Epoch)
	} else {
		m.pool.settle(d.Epoch)
	}
	now := time.Now()
	r.mu.Lock()
	st := &r.ep[d.Epoch]
	first := !st.seen
	if first {
		st.first, st.seen = d.Contributions, true
	}
	r.mu.Unlock()
	if first {
		if err := r.count(d); err != nil {
			return fmt.Errorf("member %d, epoch %d: %w", m.idx, d.Epoch, err)
		}
	} else if err := sameDecision(st.first, d.Contributions); err != nil {
		return fmt.Errorf("%w in epoch %d: member %d: %w", ErrDisagreement, d.Epoch, m.idx, err)
	}
	r.mu.Lock()
	st.decided++
	if st.decided == r.honest {
		st.first = nil
		if !r.cfg.Signed {
			st.end, st.completed = now, true
		}
	}
	r.mu.Unlock()
	if r.cfg.Signed {
		r.jobs <- verifyJob{member: m.idx, epoch: d.Epoch, data: d.Contributions}
	}
	if r.cfg.Progress != nil && st.decided == r.honest && (d.Epoch+1)%10 == 0 {
		r.cfg.Progress("  epoch %d of %d decided by all", d.Epoch+1, r.total)
	}
	return nil
}

// sameDecision reports how b differs from a.
func sameDecision(a, b []interfaces.ContributionFrom) error {
	if len(a) != len(b) {
		return fmt.Errorf("%d contributions, the first decider had %d", len(b), len(a))
	}
	for i := range a {
		if a[i].Proposer != b[i].Proposer {
			return fmt.Errorf("contribution %d from %s, the first decider had it from %s", i, b[i].Proposer.Short(), a[i].Proposer.Short())
		}
		if !bytes.Equal(a[i].Data, b[i].Data) {
			return fmt.Errorf("contribution %d (from %s) differs from the first decider's", i, b[i].Proposer.Short())
		}
	}
	return nil
}

// count adds an agreed decision's transactions to the unique set.
func (r *runner) count(d interfaces.Decision) error {
	measured := d.Epoch >= uint64(r.cfg.Warmup)
	for _, c := range d.Contributions {
		if slices.Index(r.ids, c.Proposer) < 0 {
			return fmt.Errorf("decided a contribution from %s, not a member", c.Proposer.Short())
		}
		txs, err := splitContribution(c.Data, r.cfg.TxSize, r.cfg.Signed)
		if err != nil {
			return fmt.Errorf("contribution from %s: %w", c.Proposer.Short(), err)
		}
		for _, t := range txs {
			k := keyOf(t)
			if _, dup := r.seen[k]; dup {
				if measured {
					r.res.DuplicateTxs++
				}
				continue
			}
			r.seen[k] = struct{}{}
			if measured {
				r.res.UniqueTxs++
			}
		}
	}
	return nil
}

// verifier is one of the goroutines that verify decided batches as each
// member's host would.
func (r *runner) verifier() {
	defer r.wg.Done()
	for j := range r.jobs {
		var n int64
		var err error
		for _, c := range j.data {
			k, e := verifyContribution(c.Data)
			n += int64(k)
			if e != nil {
				err = fmt.Errorf("member %d verifying epoch %d, contribution from %s: %w", j.member, j.epoch, c.Proposer.Short(), e)
				break
			}
		}
		now := time.Now()
		r.mu.Lock()
		r.nver += n
		if err != nil && r.verr == nil {
			r.verr = err
		}
		st := &r.ep[j.epoch]
		st.verified++
		if st.verified == r.honest {
			st.end, st.completed = now, true
		}
		r.cond.Broadcast()
		r.mu.Unlock()
	}
}

func (r *runner) verifyError() error {
	if !r.cfg.Signed {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.verr
}

// waitVerified blocks until every honest member has verified epoch e: the
// host applies at most two epochs behind what it proposes, which bounds
// the memory of a run whose verification is slower than agreement.
func (r *runner) waitVerified(e uint64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for r.verr == nil && !r.ep[e].completed {
		r.cond.Wait()
	}
	return r.verr
}

// finish closes the window and fills in the result.
func (r *runner) finish() error {
	cpu1 := r.processCPU()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res.Verified = r.nver
	var end time.Time
	for e := r.cfg.Warmup; e < r.total; e++ {
		st := r.ep[e]
		if !st.completed || st.start.IsZero() {
			return fmt.Errorf("epoch %d did not complete", e)
		}
		if st.end.After(end) {
			end = st.end
		}
		r.res.Latencies = append(r.res.Latencies, st.end.Sub(st.start))
	}
	r.res.Generated = r.genWall
	r.res.Wall = end.Sub(r.t0) - r.genWall
	r.res.CPU = cpu1 - r.cpu0 - r.genCPU
	if r.res.Wall <= 0 {
		return errors.New("measured window has no duration")
	}
	return nil
}

// processCPU returns this process's user+system CPU time plus ExtraCPU.
func (r *runner) processCPU() time.Duration {
	d := rusage(syscall.RUSAGE_SELF)
	if r.cfg.ExtraCPU != nil {
		d += r.cfg.ExtraCPU()
	}
	return d
}

// threadCPU returns the calling OS thread's CPU time (the driver is locked
// to its thread).
func threadCPU() time.Duration { return rusage(syscall.RUSAGE_THREAD) }

func rusage(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// RunMedian runs reps repetitions (seeds Seed, Seed+1, …) and returns the
// repetition with the median throughput, and all of them.
func RunMedian(cfg Config, reps int) (Result, []Result, error) {
	if reps < 1 {
		reps = 1
	}
	all := make([]Result, 0, reps)
	for i := range reps {
		c := cfg
		c.Seed = cfg.Seed + uint64(i)
		res, err := Run(c)
		if err != nil {
			return Result{}, nil, fmt.Errorf("repetition %d of %d: %w", i+1, reps, err)
		}
		all = append(all, res)
		if cfg.Progress != nil {
			cfg.Progress("  repetition %d/%d: %.0f tx/s, %.1f ms/epoch", i+1, reps, res.TxPerSec(), res.MsPerEpoch())
		}
	}
	sorted := slices.Clone(all)
	slices.SortStableFunc(sorted, func(a, b Result) int {
		switch {
		case a.TxPerSec() < b.TxPerSec():
			return -1
		case a.TxPerSec() > b.TxPerSec():
			return 1
		}
		return 0
	})
	return sorted[(len(sorted)-1)/2], all, nil
}
