package simtest

import (
	"bytes"
	"fmt"

	"github.com/constellation-chain/constellation/interfaces"
)

// ACSFactory builds ACS engines: a small asynchronous common subset in the
// shape of HoneyBadgerBFT (Miller et al., CCS 2016, §4.4) — N Bracha
// reliable broadcasts carrying full contributions (no erasure coding) and N
// binary agreements after Mostéfaoui, Moumen and Raynal (PODC 2014), with a
// TERM message that stands for BVAL and AUX in every later round, as
// HoneyBadger implementations do.
//
// Its coin is a public hash of (epoch, instance, round), so an adversary who
// controls scheduling and knows the coin could delay termination; the
// simulator's scheduler does not look at the coin, so the engine terminates
// there. It is a reference subject for the Byzantine cases of the
// conformance suite, not an engine to deploy: it hides nothing and signs
// nothing (CapCensorship is not claimed).
type ACSFactory struct{}

// Info implements interfaces.Plugin.
func (ACSFactory) Info() interfaces.PluginInfo {
	return interfaces.PluginInfo{
		Kind:        interfaces.KindConsensus,
		Name:        "acs-test",
		Version:     "0.1.0",
		APIVersions: []int{interfaces.APIVersion},
		Capabilities: []string{interfaces.CapMultiMember, interfaces.CapFaultTolerance,
			interfaces.CapAsynchronous, interfaces.CapFaultEvidence},
	}
}

// NewConsensus implements interfaces.ConsensusFactory.
func (ACSFactory) NewConsensus(cfg interfaces.ConsensusConfig) (interfaces.Consensus, error) {
	return NewACS(cfg)
}

// Message types of the ACS wire format.
const (
	acsVal   = 1 // proposer's contribution: data
	acsEcho  = 2 // instance, data
	acsReady = 3 // instance, hash of data
	acsBval  = 4 // instance, round, bit
	acsAux   = 5 // instance, round, bit
	acsTerm  = 6 // instance, bit: decided; counts as BVAL and AUX in every later round
)

// maxRounds bounds binary agreement rounds; messages for later rounds are
// treated as malformed.
const maxRounds = 200

// acsMsg is one decoded ACS message.
type acsMsg struct {
	typ   uint8
	epoch uint64
	inst  int
	round int
	bit   uint8
	data  []byte
	hash  interfaces.Hash
}

func (m *acsMsg) encode() []byte {
	e := interfaces.NewEncoder(32 + len(m.data))
	e.U8(1)
	e.U8(m.typ)
	e.U64(m.epoch)
	switch m.typ {
	case acsVal:
		e.VarBytes(m.data)
	case acsEcho:
		e.Uvarint(uint64(m.inst))
		e.VarBytes(m.data)
	case acsReady:
		e.Uvarint(uint64(m.inst))
		e.Fixed(m.hash[:])
	case acsBval, acsAux:
		e.Uvarint(uint64(m.inst))
		e.Uvarint(uint64(m.round))
		e.U8(m.bit)
	case acsTerm:
		e.Uvarint(uint64(m.inst))
		e.U8(m.bit)
	}
	return e.Bytes()
}

// decodeACS decodes a message for a cluster of n members.
func decodeACS(b []byte, n int) (*acsMsg, error) {
	d := interfaces.NewDecoder(b)
	m := &acsMsg{}
	if v := d.U8(); d.Err() == nil && v != 1 {
		d.Fail(fmt.Errorf("acs message version %d, want 1", v))
	}
	m.typ = d.U8()
	m.epoch = d.U64()
	inst := func() {
		v := d.Uvarint()
		if d.Err() == nil && v >= uint64(n) {
			d.Fail(fmt.Errorf("instance %d of %d", v, n))
		}
		m.inst = int(v)
	}
	bit := func() {
		m.bit = d.U8()
		if d.Err() == nil && m.bit > 1 {
			d.Fail(fmt.Errorf("bit value %d", m.bit))
		}
	}
	switch m.typ {
	case acsVal:
		m.data = d.VarBytes(MaxContribution)
	case acsEcho:
		inst()
		m.data = d.VarBytes(MaxContribution)
	case acsReady:
		inst()
		d.Fixed(m.hash[:])
	case acsBval, acsAux:
		inst()
		r := d.Uvarint()
		if d.Err() == nil && r >= maxRounds {
			d.Fail(fmt.Errorf("round %d beyond %d", r, maxRounds))
		}
		m.round = int(r)
		bit()
	case acsTerm:
		inst()
		bit()
	default:
		if d.Err() == nil {
			d.Fail(fmt.Errorf("unknown acs message type %d", m.typ))
		}
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("decode acs message: %w", err)
	}
	return m, nil
}

// ACS is one member's state machine. It is not safe for concurrent use.
type ACS struct {
	cfg    interfaces.ConsensusConfig
	n, f   int
	me     int
	epoch  uint64 // oldest undecided epoch; the host proposes to it once
	epochs map[uint64]*acsEpoch
	out    interfaces.Output
	local  []*acsMsg // messages to self, processed before returning
}

type acsEpoch struct {
	proposed bool
	rbc      []*rbcState
	aba      []*abaState
	decided  bool
}

type rbcState struct {
	echo      []*interfaces.Hash // per sender, first echo's hash
	echoData  map[interfaces.Hash][]byte
	echoCount map[interfaces.Hash]int
	ready     []*interfaces.Hash
	readyCnt  map[interfaces.Hash]int
	sentEcho  bool
	sentReady bool
	delivered []byte
	done      bool
}

type abaState struct {
	input    bool
	est      uint8
	round    int
	rounds   map[int]*abaRound
	term     []int8 // per sender: -1, or the bit it TERMed
	termCnt  [2]int
	decided  bool
	decision uint8
}

type abaRound struct {
	bval     [2][]bool
	bvalCnt  [2]int
	sentBval [2]bool
	bin      [2]bool
	aux      []int8
	sentAux  bool
}

// NewACS checks cfg and returns a fresh instance at cfg.Epoch.
func NewACS(cfg interfaces.ConsensusConfig) (*ACS, error) {
	me := cfg.Index(cfg.Self)
	if me < 0 {
		return nil, fmt.Errorf("acs: self %s is not a member", cfg.Self.Short())
	}
	for i := 1; i < len(cfg.Members); i++ {
		if !cfg.Members[i-1].Less(cfg.Members[i]) {
			return nil, fmt.Errorf("acs: members are not sorted and unique")
		}
	}
	n, f := len(cfg.Members), cfg.F()
	if 3*f >= n && n > 1 {
		return nil, fmt.Errorf("acs: f=%d needs more than %d members", f, 3*f)
	}
	return &ACS{cfg: cfg, n: n, f: f, me: me, epoch: cfg.Epoch, epochs: map[uint64]*acsEpoch{}}, nil
}

// Epoch implements interfaces.Consensus: the oldest undecided epoch.
func (a *ACS) Epoch() uint64 { return a.epoch }

// Propose implements interfaces.Consensus.
func (a *ACS) Propose(c []byte) (interfaces.Output, error) {
	if len(c) > MaxContribution {
		return interfaces.Output{}, fmt.Errorf("acs: contribution of %d bytes exceeds %d", len(c), MaxContribution)
	}
	ep := a.state(a.epoch)
	if ep.proposed {
		return interfaces.Output{}, fmt.Errorf("acs: already proposed for epoch %d", a.epoch)
	}
	ep.proposed = true
	a.broadcast(&acsMsg{typ: acsVal, epoch: a.epoch, data: bytes.Clone(c)})
	a.drain()
	return a.flush(), nil
}

// Step implements interfaces.Consensus.
func (a *ACS) Step(from interfaces.StarID, payload []byte) (interfaces.Output, error) {
	j := a.cfg.Index(from)
	if j < 0 || j == a.me {
		return interfaces.Output{}, nil
	}
	m, err := decodeACS(payload, a.n)
	if err != nil {
		a.fault(j, interfaces.FaultMalformed, a.epoch, payload)
		return a.flush(), nil
	}
	if m.epoch < a.epoch {
		return interfaces.Output{}, nil // a closed epoch: late or replayed
	}
	if m.epoch-a.epoch > MaxAhead {
		// Too far ahead to buffer. An honest member cannot tell a fast
		// honest peer from a hostile one here, so it blames nobody.
		return interfaces.Output{}, nil
	}
	a.handle(j, m)
	a.drain()
	return a.flush(), nil
}

func (a *ACS) flush() interfaces.Output {
	o := a.out
	a.out = interfaces.Output{}
	return o
}

func (a *ACS) fault(j int, k interfaces.FaultKind, epoch uint64, evidence []byte) {
	a.out.Faults = append(a.out.Faults, interfaces.Fault{Star: a.cfg.Members[j], Kind: k, Epoch: epoch, Evidence: bytes.Clone(evidence)})
}

// broadcast sends m to every other member and queues it for self.
func (a *ACS) broadcast(m *acsMsg) {
	if a.n > 1 {
		a.out.Messages = append(a.out.Messages, interfaces.OutMessage{To: interfaces.Broadcast, Payload: m.encode()})
	}
	a.local = append(a.local, m)
}

// drain processes messages to self. Each handler sends a bounded number of
// messages per (epoch, instance, round), so the loop ends.
func (a *ACS) drain() {
	for len(a.local) > 0 {
		m := a.local[0]
		a.local = a.local[1:]
		if m.epoch >= a.epoch {
			a.handle(a.me, m)
		}
	}
	a.local = nil
}

func (a *ACS) state(e uint64) *acsEpoch {
	if s := a.epochs[e]; s != nil {
		return s
	}
	s := &acsEpoch{rbc: make([]*rbcState, a.n), aba: make([]*abaState, a.n)}
	for i := range s.rbc {
		s.rbc[i] = &rbcState{
			echo: make([]*interfaces.Hash, a.n), echoData: map[interfaces.Hash][]byte{}, echoCount: map[interfaces.Hash]int{},
			ready: make([]*interfaces.Hash, a.n), readyCnt: map[interfaces.Hash]int{},
		}
		s.aba[i] = &abaState{rounds: map[int]*abaRound{}, term: make([]int8, a.n)}
		for k := range s.aba[i].term {
			s.aba[i].term[k] = -1
		}
	}
	a.epochs[e] = s
	return s
}

func (a *ACS) handle(j int, m *acsMsg) {
	ep := a.state(m.epoch)
	switch m.typ {
	case acsVal:
		// Sent by the proposer itself; the instance is the sender.
		r := ep.rbc[j]
		if !r.sentEcho {
			r.sentEcho = true
			a.broadcast(&acsMsg{typ: acsEcho, epoch: m.epoch, inst: j, data: m.data})
		}
	case acsEcho:
		r := ep.rbc[m.inst]
		h := interfaces.Sum(m.data)
		if prev := r.echo[j]; prev != nil {
			if *prev != h {
				a.fault(j, interfaces.FaultEquivocation, m.epoch, m.encode())
			}
			return
		}
		r.echo[j] = &h
		r.echoCount[h]++
		if _, ok := r.echoData[h]; !ok {
			r.echoData[h] = m.data
		}
		if r.echoCount[h] >= a.n-a.f && !r.sentReady {
			r.sentReady = true
			a.broadcast(&acsMsg{typ: acsReady, epoch: m.epoch, inst: m.inst, hash: h})
		}
		a.tryDeliver(m.epoch, m.inst, h)
	case acsReady:
		r := ep.rbc[m.inst]
		if prev := r.ready[j]; prev != nil {
			if *prev != m.hash {
				a.fault(j, interfaces.FaultEquivocation, m.epoch, m.encode())
			}
			return
		}
		h := m.hash
		r.ready[j] = &h
		r.readyCnt[h]++
		if r.readyCnt[h] >= a.f+1 && !r.sentReady {
			r.sentReady = true
			a.broadcast(&acsMsg{typ: acsReady, epoch: m.epoch, inst: m.inst, hash: h})
		}
		a.tryDeliver(m.epoch, m.inst, h)
	case acsBval, acsAux, acsTerm:
		a.handleABA(j, m)
	}
	a.tryDecide(m.epoch)
}

// tryDeliver delivers instance inst's broadcast once 2f+1 READY name hash h
// and some ECHO carried data with that hash (Bracha's delivery rule).
func (a *ACS) tryDeliver(e uint64, inst int, h interfaces.Hash) {
	r := a.epochs[e].rbc[inst]
	if r.done || r.readyCnt[h] < 2*a.f+1 {
		return
	}
	data, ok := r.echoData[h]
	if !ok {
		return
	}
	r.done, r.delivered = true, data
	a.abaInput(e, inst, 1)
}

func (a *ACS) abaInput(e uint64, inst int, v uint8) {
	b := a.epochs[e].aba[inst]
	if b.input {
		return
	}
	b.input, b.est = true, v
	a.sendBval(e, inst, b.round, v)
}

func (b *abaState) roundState(r, n int) *abaRound {
	if s := b.rounds[r]; s != nil {
		return s
	}
	s := &abaRound{bval: [2][]bool{make([]bool, n), make([]bool, n)}, aux: make([]int8, n)}
	for k := range s.aux {
		s.aux[k] = -1
	}
	b.rounds[r] = s
	return s
}

func (a *ACS) sendBval(e uint64, inst, r int, v uint8) {
	rs := a.epochs[e].aba[inst].roundState(r, a.n)
	if rs.sentBval[v] {
		return
	}
	rs.sentBval[v] = true
	a.broadcast(&acsMsg{typ: acsBval, epoch: e, inst: inst, round: r, bit: v})
}

func (a *ACS) handleABA(j int, m *acsMsg) {
	b := a.epochs[m.epoch].aba[m.inst]
	if b.decided && j != a.me {
		// Terminated: TERM already stands for our later messages.
		return
	}
	switch m.typ {
	case acsBval:
		a.recordBval(m.epoch, m.inst, m.round, j, m.bit)
	case acsAux:
		a.recordAux(m.epoch, m.inst, m.round, j, m.bit)
	case acsTerm:
		if b.term[j] >= 0 {
			if b.term[j] != int8(m.bit) {
				a.fault(j, interfaces.FaultEquivocation, m.epoch, m.encode())
			}
			return
		}
		b.term[j] = int8(m.bit)
		b.termCnt[m.bit]++
		if b.termCnt[m.bit] >= a.f+1 {
			a.decide(m.epoch, m.inst, m.bit)
			return
		}
		for r := b.round; r < maxRounds; r++ {
			if _, ok := b.rounds[r]; !ok && r > b.round {
				break
			}
			a.recordBval(m.epoch, m.inst, r, j, m.bit)
			a.recordAux(m.epoch, m.inst, r, j, m.bit)
		}
	}
	a.advance(m.epoch, m.inst)
}

func (a *ACS) recordBval(e uint64, inst, r, j int, v uint8) {
	b := a.epochs[e].aba[inst]
	rs := b.roundState(r, a.n)
	if rs.bval[v][j] {
		return
	}
	rs.bval[v][j] = true
	rs.bvalCnt[v]++
	if rs.bvalCnt[v] >= a.f+1 {
		a.sendBval(e, inst, r, v)
	}
	if rs.bvalCnt[v] >= 2*a.f+1 && !rs.bin[v] {
		rs.bin[v] = true
		if !rs.sentAux {
			rs.sentAux = true
			a.broadcast(&acsMsg{typ: acsAux, epoch: e, inst: inst, round: r, bit: v})
		}
	}
}

func (a *ACS) recordAux(e uint64, inst, r, j int, v uint8) {
	rs := a.epochs[e].aba[inst].roundState(r, a.n)
	if rs.aux[j] < 0 {
		rs.aux[j] = int8(v)
	}
}

// advance runs the MMR round rule: once N-f AUX carry values from bin_values,
// compare with the coin and move to the next round.
func (a *ACS) advance(e uint64, inst int) {
	b := a.epochs[e].aba[inst]
	for !b.decided && b.input && b.round < maxRounds-1 {
		rs := b.roundState(b.round, a.n)
		if !rs.bin[0] && !rs.bin[1] {
			return
		}
		count := 0
		var vals [2]bool
		for _, v := range rs.aux {
			if v >= 0 && rs.bin[v] {
				count++
				vals[v] = true
			}
		}
		if count < a.n-a.f {
			return
		}
		coin := a.coin(e, inst, b.round)
		switch {
		case vals[0] && vals[1]:
			b.est = coin
		case vals[coin]:
			b.est = coin
			a.decide(e, inst, coin)
			return
		case vals[0]:
			b.est = 0
		default:
			b.est = 1
		}
		b.round++
		// Terms stand for BVAL and AUX in the new round.
		for j, t := range b.term {
			if t >= 0 {
				a.recordBval(e, inst, b.round, j, uint8(t))
				a.recordAux(e, inst, b.round, j, uint8(t))
			}
		}
		a.sendBval(e, inst, b.round, b.est)
	}
}

// coin is the round's common coin: a public hash, the same at every member.
func (a *ACS) coin(e uint64, inst, r int) uint8 {
	enc := interfaces.NewEncoder(24)
	enc.U64(e)
	enc.U64(uint64(inst))
	enc.U64(uint64(r))
	return interfaces.DomainSum("constellation/simtest/acs-coin/v1", enc.Bytes())[0] & 1
}

func (a *ACS) decide(e uint64, inst int, v uint8) {
	ep := a.epochs[e]
	b := ep.aba[inst]
	if b.decided {
		return
	}
	b.decided, b.decision = true, v
	a.broadcast(&acsMsg{typ: acsTerm, epoch: e, inst: inst, bit: v})
	// Once N-f instances decided 1, vote 0 on every instance not yet input.
	ones := 0
	for _, x := range ep.aba {
		if x.decided && x.decision == 1 {
			ones++
		}
	}
	if ones >= a.n-a.f {
		for i, x := range ep.aba {
			if !x.input {
				a.abaInput(e, i, 0)
			}
		}
	}
}

// tryDecide outputs every finished epoch in order: all agreements decided
// and every accepted broadcast delivered.
func (a *ACS) tryDecide(uint64) {
	for {
		ep := a.epochs[a.epoch]
		if ep == nil || ep.decided {
			return
		}
		d := interfaces.Decision{Epoch: a.epoch}
		for i, b := range ep.aba {
			if !b.decided {
				return
			}
			if b.decision == 1 {
				if !ep.rbc[i].done {
					return
				}
				d.Contributions = append(d.Contributions, interfaces.ContributionFrom{Proposer: a.cfg.Members[i], Data: bytes.Clone(ep.rbc[i].delivered)})
			}
		}
		ep.decided = true
		a.out.Decisions = append(a.out.Decisions, d)
		delete(a.epochs, a.epoch)
		a.epoch++
	}
}
