package honeybadger

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"

	"github.com/constellation-chain/constellation/builtin/honeybadger/tcrypto"
	"github.com/constellation-chain/constellation/interfaces"
)

// maxEvidence bounds the evidence kept with a fault. Evidence names the
// offending payloads exactly as received (interfaces.PayloadEvidence) so
// the host can find their signatures; a fault whose payloads are larger is
// reported without them, as a local observation only.
const maxEvidence = interfaces.MaxEvidenceBytes / 2

// Buffer bounds for messages of epochs beyond the live window: per sender,
// so one hostile member cannot crowd out the others, and in total.
const (
	maxFutureMsgsPerSender  = 1 << 14
	maxFutureBytesPerSender = 16 << 20
	maxFutureBytes          = 128 << 20
	// maxBufferedAhead: messages this many epochs beyond the window are
	// dropped outright rather than buffered; no honest member gets that
	// far ahead without this member's help for thousands of epochs.
	maxBufferedAhead = 1024
)

type futureMsg struct {
	from int
	m    *Message
	size int
}

// Engine is the HoneyBadger state machine of one member. It implements
// interfaces.Consensus: Propose and Step must be called from one goroutine,
// and each returned Output acted on before the next call (see
// interfaces.Consensus for the write-ahead duty). It owns no goroutines,
// reads no clock and does no I/O; its only randomness is a ChaCha8 stream
// derived from ConsensusConfig.Seed, so a run replays bit for bit.
//
// Epochs are pipelined: every epoch in [lowest, lowest+window) runs at
// once (lowest is the oldest epoch not yet decided), so a member that is
// behind still helps the others and a member that is ahead never waits for
// its own proposal. Decisions are released strictly in epoch order.
// Messages for later epochs are buffered (bounded per sender) and replayed
// when the window reaches them; messages for decided epochs are ignored.
type Engine struct {
	cfg    interfaces.ConsensusConfig
	params Params
	n, f   int
	self   int
	index  map[interfaces.StarID]int

	hs   *hasher
	cd   *coder
	coin coinSource
	cs   *cipherSuite // nil when encryption is off
	// pks and sk are the member's threshold keys; nil without key
	// material (protocol-only mode).
	pks *tcrypto.PublicKeySet
	sk  *tcrypto.SecretShare

	lowest uint64 // oldest epoch not yet decided
	next   uint64 // epoch of the next Propose
	window uint64
	epochs map[uint64]*epoch

	held        []heldProposal // own proposals beyond the window, in epoch order
	future      []futureMsg
	futureCount []int
	futureBytes []int
	futureTotal int

	out interfaces.Output
}

var _ interfaces.Consensus = (*Engine)(nil)

// New builds an engine from cfg, its Params parsed as a manifest's config
// block (so with encryption and the threshold coin on).
func New(cfg interfaces.ConsensusConfig) (*Engine, error) {
	params, err := ParseParams(cfg.Params)
	if err != nil {
		return nil, err
	}
	return newEngine(cfg, params)
}

// newEngine builds an engine with params in force. Key material is
// required unless both encryption and the threshold coin are off
// (benchmark mode A, ProtocolOnly).
func newEngine(cfg interfaces.ConsensusConfig, params Params) (*Engine, error) {
	n := len(cfg.Members)
	if n == 0 || n > MaxMembers {
		return nil, fmt.Errorf("honeybadger: %d members, want 1 to %d", n, MaxMembers)
	}
	for i := 1; i < n; i++ {
		if !cfg.Members[i-1].Less(cfg.Members[i]) {
			return nil, fmt.Errorf("honeybadger: members are not sorted and unique at position %d", i)
		}
	}
	self := cfg.Index(cfg.Self)
	if self < 0 {
		return nil, fmt.Errorf("honeybadger: self %s is not a member", cfg.Self.Short())
	}
	f := cfg.F()
	if f < 0 || 3*f+1 > n {
		return nil, fmt.Errorf("honeybadger: f=%d needs at least %d members, have %d", f, 3*f+1, n)
	}
	cd, err := newCoder(n, f)
	if err != nil {
		return nil, fmt.Errorf("honeybadger: set up erasure code for n=%d f=%d: %w", n, f, err)
	}
	e := &Engine{
		cfg:         cfg,
		params:      params,
		n:           n,
		f:           f,
		self:        self,
		index:       make(map[interfaces.StarID]int, n),
		hs:          newHasher(),
		cd:          cd,
		lowest:      cfg.Epoch,
		next:        cfg.Epoch,
		window:      uint64(params.MaxFutureEpochs),
		epochs:      make(map[uint64]*epoch),
		futureCount: make([]int, n),
		futureBytes: make([]int, n),
	}
	for i, m := range cfg.Members {
		e.index[m] = i
	}
	needKeys := params.Encrypt || params.ThresholdCoin
	var pks *tcrypto.PublicKeySet
	var sk *tcrypto.SecretShare
	if needKeys || len(cfg.Keys) > 0 {
		k, err := DecodeKeys(cfg.Keys)
		if err != nil {
			return nil, fmt.Errorf("honeybadger: read key material: %w", err)
		}
		if err := k.check(n, f, self); err != nil {
			return nil, fmt.Errorf("honeybadger: key material does not fit this cluster: %w", err)
		}
		pks, sk = k.Public, k.Secret
	}
	e.pks, e.sk = pks, sk
	if params.ThresholdCoin {
		e.coin = &thresholdCoin{pks: pks, sk: sk, schedule: params.CoinSchedule}
	} else {
		e.coin = hashCoin{}
	}
	if params.Encrypt {
		e.cs = &cipherSuite{pks: pks, sk: sk}
	}
	return e, nil
}

// Epoch returns the epoch the next Propose contributes to: the oldest epoch
// neither proposed to nor decided.
func (e *Engine) Epoch() uint64 { return max(e.next, e.lowest) }

// Propose encrypts contribution under the cluster key (unless encryption is
// off) and starts its reliable broadcast in Epoch(). The contribution is
// whatever the host picked; HoneyBadger's random B/N sample of the pool is
// the host's job. A proposal for an epoch beyond the pipeline window is
// held and broadcast when the window reaches it; proposing more than a
// second window ahead is an error (the host is running away).
func (e *Engine) Propose(contribution []byte) (interfaces.Output, error) {
	ep := e.Epoch()
	if e.cfg.LastEpoch != 0 && ep > e.cfg.LastEpoch {
		return interfaces.Output{}, fmt.Errorf("honeybadger: propose to epoch %d: this instance ends with epoch %d", ep, e.cfg.LastEpoch)
	}
	if ep >= e.lowest+2*e.window {
		return interfaces.Output{}, fmt.Errorf("honeybadger: propose to epoch %d: more than two pipeline windows ahead (oldest undecided %d, window %d)", ep, e.lowest, e.window)
	}
	if len(contribution) > tcrypto.MaxPlaintext {
		return interfaces.Output{}, fmt.Errorf("honeybadger: propose to epoch %d: contribution of %d bytes exceeds %d", ep, len(contribution), tcrypto.MaxPlaintext)
	}
	p := heldProposal{epoch: ep, value: contribution}
	if e.cs != nil {
		var err error
		p.ct, p.value, err = e.cs.encrypt(e.epochRand(ep), contribution)
		if err != nil {
			return interfaces.Output{}, fmt.Errorf("honeybadger: propose to epoch %d: %w", ep, err)
		}
	}
	e.next = ep + 1
	e.out = interfaces.Output{}
	if ep >= e.lowest+e.window {
		e.held = append(e.held, p)
		return e.take(), nil
	}
	if err := e.start(p); err != nil {
		e.out = interfaces.Output{}
		return interfaces.Output{}, err
	}
	e.flush()
	return e.take(), nil
}

// heldProposal is a proposal waiting for the pipeline window.
type heldProposal struct {
	epoch uint64
	value []byte // what reliable broadcast carries (the ciphertext when encrypting)
	ct    *tcrypto.Ciphertext
}

func (e *Engine) start(p heldProposal) error {
	st := e.getEpoch(p.epoch)
	st.ownCT, st.ownValue = p.ct, p.value
	if err := st.propose(p.value); err != nil {
		return fmt.Errorf("honeybadger: propose to epoch %d: erasure-code the proposal: %w", p.epoch, err)
	}
	return nil
}

// epochRand returns the deterministic random stream for epoch ep's
// encryption, derived from the seed so it does not depend on call history.
func (e *Engine) epochRand(ep uint64) *rand.ChaCha8 {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], ep)
	return rand.NewChaCha8(interfaces.DomainSum("constellation/honeybadger/encrypt/v1", e.cfg.Seed[:], b[:]))
}

// Step handles one message from member from. Garbage yields a
// FaultMalformed; messages from non-members and from Self are ignored.
func (e *Engine) Step(from interfaces.StarID, payload []byte) (interfaces.Output, error) {
	j, ok := e.index[from]
	if !ok || j == e.self {
		return interfaces.Output{}, nil
	}
	e.out = interfaces.Output{}
	m, err := DecodeMessage(payload)
	if err != nil {
		e.faultRaw(j, interfaces.FaultMalformed, e.lowest, payload)
		return e.take(), nil
	}
	e.route(j, m, len(payload))
	e.flush()
	return e.take(), nil
}

func (e *Engine) take() interfaces.Output {
	o := e.out
	e.out = interfaces.Output{}
	return o
}

func (e *Engine) route(j int, m *Message, size int) {
	switch {
	case e.cfg.LastEpoch != 0 && m.Epoch > e.cfg.LastEpoch:
		// Beyond this instance's membership epoch: the next instance's.
	case m.Epoch < e.lowest:
		// A decided epoch: late honest messages are normal under
		// asynchrony, so they are ignored rather than reported.
	case m.Epoch >= e.lowest+e.window:
		if m.Epoch-e.lowest >= e.window+maxBufferedAhead {
			return
		}
		if e.futureCount[j] >= maxFutureMsgsPerSender || e.futureBytes[j]+size > maxFutureBytesPerSender || e.futureTotal+size > maxFutureBytes {
			return // dropped: a sender this far ahead will bring us along with TERM and READY quorums or is hostile
		}
		e.futureCount[j]++
		e.futureBytes[j] += size
		e.futureTotal += size
		e.future = append(e.future, futureMsg{from: j, m: m, size: size})
	default:
		e.getEpoch(m.Epoch).handle(j, m)
	}
}

func (e *Engine) getEpoch(num uint64) *epoch {
	if ep, ok := e.epochs[num]; ok {
		return ep
	}
	ep := newEpoch(e, num)
	e.epochs[num] = ep
	return ep
}

// flush releases finished epochs in order and replays buffered messages
// that the advancing window now covers.
func (e *Engine) flush() {
	for {
		ep, ok := e.epochs[e.lowest]
		if !ok || !ep.done {
			return
		}
		e.out.Decisions = append(e.out.Decisions, ep.decision)
		delete(e.epochs, e.lowest)
		e.lowest++
		for len(e.held) > 0 && e.held[0].epoch < e.lowest+e.window {
			p := e.held[0]
			e.held = e.held[1:]
			// Splitting cannot fail for a value that fits the size limit
			// checked in Propose; if it ever did, the member simply
			// contributes nothing to that epoch.
			_ = e.start(p)
		}
		if len(e.future) == 0 {
			continue
		}
		pending := e.future
		e.future = nil
		for i := range e.futureCount {
			e.futureCount[i], e.futureBytes[i] = 0, 0
		}
		e.futureTotal = 0
		for _, fm := range pending {
			e.route(fm.from, fm.m, fm.size)
		}
	}
}

func (e *Engine) broadcast(m *Message) {
	if e.n == 1 {
		return
	}
	e.out.Messages = append(e.out.Messages, interfaces.OutMessage{To: interfaces.Broadcast, Epoch: m.Epoch, Payload: m.Encode()})
}

func (e *Engine) send(to int, m *Message) {
	e.out.Messages = append(e.out.Messages, interfaces.OutMessage{To: e.cfg.Members[to], Epoch: m.Epoch, Payload: m.Encode()})
}

func (e *Engine) fault(from int, kind interfaces.FaultKind, epoch uint64, m *Message) {
	e.faultRaw(from, kind, epoch, m.Encode())
}

// equivocation reports that member from sent first and then second, which
// conflict; both re-encode to the bytes received (the decoder is
// canonical), so the host can find both signatures.
func (e *Engine) equivocation(from int, epoch uint64, first, second *Message) {
	e.report(from, interfaces.FaultEquivocation, epoch, first.Encode(), second.Encode())
}

func (e *Engine) faultRaw(from int, kind interfaces.FaultKind, epoch uint64, evidence []byte) {
	e.report(from, kind, epoch, evidence)
}

func (e *Engine) report(from int, kind interfaces.FaultKind, epoch uint64, payloads ...[]byte) {
	var evidence []byte
	size := 0
	for _, p := range payloads {
		size += len(p)
	}
	if size <= maxEvidence {
		evidence = interfaces.PayloadEvidence(payloads...)
	}
	e.out.Faults = append(e.out.Faults, interfaces.Fault{
		Star:     e.cfg.Members[from],
		Kind:     kind,
		Epoch:    epoch,
		Evidence: evidence,
	})
}
