package sim

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"math/rand/v2"
	"runtime/debug"
	"slices"

	sha256 "github.com/minio/sha256-simd"

	"github.com/constellation-chain/constellation/interfaces"
)

// Config describes one simulated run. The zero value of every optional field
// is a sensible default; Factory, N, Epochs and Contribution (or
// ContributionAt) are required.
type Config struct {
	Factory interfaces.ConsensusFactory
	// N is the number of members; node i is Members[i] (sorted by StarID).
	N int
	// Faulty is passed to every ConsensusConfig.Faulty (0: engine default).
	Faulty int
	// Seed decides everything random in the run.
	Seed interfaces.Hash
	// FirstEpoch is every instance's ConsensusConfig.Epoch.
	FirstEpoch uint64
	// Epochs is the goal: the run ends once every honest node has decided
	// this many epochs.
	Epochs int
	// ProposeEpochs bounds proposals: node i is given a contribution for
	// epochs FirstEpoch .. FirstEpoch+ProposeEpochs-1 only. 0 means Epochs.
	ProposeEpochs int
	// Contribution returns node's contribution for epoch. It is called once
	// per (node, epoch), as soon as the node's Epoch() reaches epoch; the
	// simulator copies the result before handing it to the engine.
	Contribution func(node int, epoch uint64) []byte
	// BatchSize and Params are passed to every ConsensusConfig.
	BatchSize int
	Params    []byte

	// Delay is the network's delay distribution; nil means Uniform{1ms, 10ms}.
	Delay Delay
	// DuplicateProb is the probability that a sent message is delivered
	// twice (the copy with its own delay).
	DuplicateProb float64
	// Partitions hold back messages across a cut until it heals.
	Partitions []Partition
	// Crashes stop nodes and restart them from their input log.
	Crashes []Crash
	// Censor, if set, is a scheduler that reads every message in the clear:
	// a message for which it returns true is withheld past MaxTime, so it
	// is never delivered within the run (an asynchronous network may delay
	// any message for any finite time). It models the adversary threshold
	// encryption defends against: one that recognises a transaction in the
	// proposals it carries and holds them back.
	Censor func(payload []byte) bool
	// RecordSent keeps every message each engine emits in
	// NodeResult.SentLog, for checks across restarts.
	RecordSent bool
	// Behaviours, if non-nil, has length N; a node with a non-nil Behaviour
	// is Byzantine and is excluded from the goal and from honest results.
	Behaviours []Behaviour

	// MaxSteps bounds the number of state machine calls (0: 2,000,000).
	MaxSteps int
	// MaxTime bounds virtual time (0: one virtual hour).
	MaxTime Time

	// Costs, if set, charges every call CPU time and every message a time
	// on the wire (see Costs); nil keeps calls instantaneous and messages
	// timed by Delay.
	Costs Costs
	// ContributionAt, if set, is used instead of Contribution and is also
	// told the virtual time at which the host picks the contribution (a
	// host whose pool fills over time). Contribution may then be nil.
	ContributionAt func(node int, epoch uint64, at Time) []byte
	// ProposeAfterDecide makes the host propose as framework/group does:
	// a node is given its contribution for an epoch only once it has
	// decided every earlier epoch of the run, so it has one open proposal
	// at a time. false proposes as soon as the engine's Epoch() allows.
	ProposeAfterDecide bool
}

// StopReason says why a run ended.
type StopReason string

const (
	// Done: every honest node decided Config.Epochs epochs.
	Done StopReason = "done"
	// StepLimit: Config.MaxSteps state machine calls were made first.
	StepLimit StopReason = "step limit"
	// TimeLimit: virtual time passed Config.MaxTime first.
	TimeLimit StopReason = "virtual time limit"
	// Stalled: no message was in flight and the goal was not reached.
	Stalled StopReason = "stalled (no message in flight)"
	// Panicked: an engine call panicked; Result.Panic has the text.
	Panicked StopReason = "engine panicked"
	// SetupFailed: keys or instances could not be built; Result.Err says why.
	SetupFailed StopReason = "setup failed"
)

// Proposal is one contribution the host gave a node.
type Proposal struct {
	Epoch uint64
	Data  []byte
}

// FaultReport is a fault a node's engine reported, with when it did.
type FaultReport struct {
	At    Time
	Fault interfaces.Fault
}

// CallError is an error an engine returned from a call.
type CallError struct {
	Node  int
	At    Time
	Input string // "propose epoch E" or "step from node J"
	Err   error
}

func (e CallError) Error() string {
	return fmt.Sprintf("node %d at %v on %s: %v", e.Node, e.At, e.Input, e.Err)
}

// ReplayDivergence records that a restarted node, fed its own input log,
// produced different output for one logged input than it did the first time:
// the engine is not deterministic, and after restart it may send messages
// that conflict with what it sent before the crash.
type ReplayDivergence struct {
	Node  int
	Input int // index in the node's input log
	Want  interfaces.Hash
	Got   interfaces.Hash
}

// NodeResult is what one node did during a run.
type NodeResult struct {
	ID        interfaces.StarID
	Byzantine bool
	Behaviour string // the Behaviour's name, "" for honest nodes
	// Decisions are the node's decisions in the order its engine emitted
	// them, each recorded once (replayed decisions are not repeated).
	Decisions []interfaces.Decision
	// DecidedAt is the virtual time of each decision, aligned with Decisions.
	DecidedAt []Time
	Faults    []FaultReport
	Proposals []Proposal
	// Sent and Received count messages after Behaviour interception.
	Sent, Received int
	Restarts       int
	// SentLog is, with Config.RecordSent, every message the node's engine
	// emitted (before Behaviour interception), in order; replayed output
	// is not in it, since it is never sent again.
	SentLog []SentMessage
}

// SentMessage is one engine message in NodeResult.SentLog.
type SentMessage struct {
	To      interfaces.StarID
	Epoch   uint64
	Payload []byte
	// Life is how many times the node had restarted when it sent this.
	Life int
}

// Result is the outcome of a run.
type Result struct {
	Reason  StopReason
	Steps   int
	Time    Time
	Members []interfaces.StarID
	Configs []interfaces.ConsensusConfig
	Nodes   []NodeResult
	// Digest hashes every delivered message, decision and fault in order.
	Digest interfaces.Hash
	// Errors are the errors engines returned. For network input (Step) any
	// error breaks the Consensus contract.
	Errors []CallError
	// Divergences lists replays that did not reproduce the original outputs.
	Divergences []ReplayDivergence
	// Panic is the panic text and stack when Reason is Panicked.
	Panic string
	// Err is set when Reason is SetupFailed.
	Err error
}

// Honest lists the indices of nodes without a Behaviour.
func (r *Result) Honest() []int {
	var out []int
	for i, n := range r.Nodes {
		if !n.Byzantine {
			out = append(out, i)
		}
	}
	return out
}

// IndexOf returns the node index of s, or -1.
func (r *Result) IndexOf(s interfaces.StarID) int {
	for i, m := range r.Members {
		if m == s {
			return i
		}
	}
	return -1
}

// Members returns n deterministic member identities, sorted by StarID as
// ConsensusConfig requires.
func Members(n int) []interfaces.StarID {
	out := make([]interfaces.StarID, n)
	for i := range out {
		out[i] = interfaces.DevStar(fmt.Sprintf("constellation/sim/member/%d", i))
	}
	slices.SortFunc(out, func(a, b interfaces.StarID) int { return bytes.Compare(a[:], b[:]) })
	return out
}

// Configs builds the ConsensusConfig of every member for a run: sorted
// members, keys dealt by f's KeyDealer (if it is one) from a reader seeded by
// seed, and per-node engine seeds derived from seed.
func Configs(f interfaces.ConsensusFactory, n, faulty int, firstEpoch uint64, seed interfaces.Hash, batchSize int, params []byte) ([]interfaces.ConsensusConfig, error) {
	if n < 1 {
		return nil, fmt.Errorf("build configs: need at least one member, got %d", n)
	}
	members := Members(n)
	cfgs := make([]interfaces.ConsensusConfig, n)
	for i := range cfgs {
		var ib [8]byte
		binary.BigEndian.PutUint64(ib[:], uint64(i))
		cfgs[i] = interfaces.ConsensusConfig{
			Self:      members[i],
			Members:   members,
			Faulty:    faulty,
			Epoch:     firstEpoch,
			Seed:      interfaces.DomainSum("constellation/sim/node-seed/v1", seed[:], ib[:]),
			BatchSize: batchSize,
			Params:    params,
		}
	}
	if d, ok := f.(interfaces.KeyDealer); ok {
		ks := interfaces.DomainSum("constellation/sim/dealer/v1", seed[:])
		keys, err := d.DealKeys(members, cfgs[0].F(), rand.NewChaCha8(ks))
		if err != nil {
			return nil, fmt.Errorf("build configs: deal keys for %d members: %w", n, err)
		}
		if len(keys) != n {
			return nil, fmt.Errorf("build configs: dealer returned %d keys for %d members", len(keys), n)
		}
		for i := range cfgs {
			cfgs[i].Keys = keys[i]
		}
	}
	return cfgs, nil
}

// logEntry is one input a node's state machine consumed, as the host's WAL
// would record it. out hashes the engine's raw output for that input so a
// replay can be checked against it.
type logEntry struct {
	propose bool
	from    interfaces.StarID
	payload []byte
	out     interfaces.Hash
}

type node struct {
	idx      int
	cfg      interfaces.ConsensusConfig
	machine  interfaces.Consensus
	down     bool
	log      []logEntry
	proposed []uint64 // epochs proposed, ascending
	held     []*event // deliveries that arrived while down
	busy     Time     // with Config.Costs: the node works until then
	inbox    []*event // with Config.Costs: deliveries waiting for the node
	wake     bool     // with Config.Costs: an evWake is scheduled
	steps    int      // inputs processed since the run began
	beh      Behaviour
	env      *Env
	res      *NodeResult
	crashed  []bool // per Config.Crashes entry aimed at this node: already done
}

// simulation is the state of one Run.
type simulation struct {
	cfg     Config
	rng     *rand.Rand
	queue   eventQueue
	seq     uint64
	now     Time
	nodes   []*node
	res     *Result
	digest  hash.Hash
	goal    int
	limit   uint64 // proposals only for epochs < limit
	stopped bool
}

// errPanic carries an engine panic out of a call.
type errPanic struct{ text string }

func (e *errPanic) Error() string { return e.text }

// Run executes one simulated run and returns its result. It never panics on
// engine misbehaviour: an engine panic ends the run with Reason Panicked.
// Run is not safe for concurrent use of one Config's Behaviours (they hold
// state); separate runs with separate Behaviour values may run in parallel.
func Run(cfg Config) *Result {
	s := &simulation{cfg: cfg, res: &Result{}, digest: sha256.New()}
	if err := s.setup(); err != nil {
		s.res.Reason = SetupFailed
		s.res.Err = err
		return s.res
	}
	s.loop()
	copy(s.res.Digest[:], s.digest.Sum(nil))
	s.res.Time = s.now
	return s.res
}

func (s *simulation) setup() error {
	c := &s.cfg
	switch {
	case c.Factory == nil:
		return errors.New("sim: Config.Factory is nil")
	case c.N < 1:
		return fmt.Errorf("sim: Config.N is %d, need at least 1", c.N)
	case c.Epochs < 1:
		return fmt.Errorf("sim: Config.Epochs is %d, need at least 1", c.Epochs)
	case c.Contribution == nil && c.ContributionAt == nil:
		return errors.New("sim: Config.Contribution is nil")
	case c.Behaviours != nil && len(c.Behaviours) != c.N:
		return fmt.Errorf("sim: %d behaviours for %d nodes", len(c.Behaviours), c.N)
	case !validProb(c.DuplicateProb):
		return fmt.Errorf("sim: duplicate probability %v outside [0,1]", c.DuplicateProb)
	}
	for i, p := range c.Partitions {
		if p.Heal <= p.Start {
			return fmt.Errorf("sim: partition %d heals at %v, not after its start %v", i, p.Heal, p.Start)
		}
		for _, x := range p.Isolated {
			if x < 0 || x >= c.N {
				return fmt.Errorf("sim: partition %d names node %d of %d", i, x, c.N)
			}
		}
	}
	for i, cr := range c.Crashes {
		if cr.Node < 0 || cr.Node >= c.N {
			return fmt.Errorf("sim: crash %d names node %d of %d", i, cr.Node, c.N)
		}
		if cr.Downtime <= 0 {
			return fmt.Errorf("sim: crash %d has downtime %v; a crashed node must restart", i, cr.Downtime)
		}
		if cr.At <= 0 && cr.AfterSteps <= 0 {
			return fmt.Errorf("sim: crash %d has neither a time nor a step count", i)
		}
	}
	if c.Delay == nil {
		c.Delay = Uniform{Millisecond, 10 * Millisecond}
	}
	if c.MaxSteps <= 0 {
		c.MaxSteps = 2_000_000
	}
	if c.MaxTime <= 0 {
		c.MaxTime = 3600 * Second
	}
	pe := c.ProposeEpochs
	if pe <= 0 {
		pe = c.Epochs
	}
	s.limit = c.FirstEpoch + uint64(pe)
	s.goal = c.Epochs
	s.rng = newRand(c.Seed, "network")

	cfgs, err := Configs(c.Factory, c.N, c.Faulty, c.FirstEpoch, c.Seed, c.BatchSize, c.Params)
	if err != nil {
		return err
	}
	s.res.Configs = cfgs
	s.res.Members = cfgs[0].Members
	s.res.Nodes = make([]NodeResult, c.N)
	s.nodes = make([]*node, c.N)
	for i := range s.nodes {
		n := &node{idx: i, cfg: cfgs[i], res: &s.res.Nodes[i]}
		n.res.ID = cfgs[i].Self
		if c.Behaviours != nil && c.Behaviours[i] != nil {
			n.beh = c.Behaviours[i]
			n.res.Byzantine = true
			n.res.Behaviour = n.beh.Name()
		}
		n.env = &Env{Node: i, N: c.N, Config: cfgs[i], Factory: c.Factory, Rand: s.rng, ProposeLimit: s.limit, sim: s}
		s.nodes[i] = n
	}
	for i, cr := range c.Crashes {
		if cr.At > 0 {
			s.schedule(&event{at: cr.At, kind: evCrash, node: cr.Node, crash: i})
		}
	}
	for _, n := range s.nodes {
		m, err := s.newMachine(n)
		if err != nil {
			return err
		}
		n.machine = m
	}
	// Start every node: the host proposes for the first epoch.
	for _, n := range s.nodes {
		if s.stopped {
			break
		}
		s.now = 0 // with Config.Costs a proposal moves time on; each node starts at 0
		s.proposeIfDue(n)
	}
	return nil
}

func (s *simulation) newMachine(n *node) (m interfaces.Consensus, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("sim: NewConsensus for node %d panicked: %v", n.idx, v)
		}
	}()
	m, err = s.cfg.Factory.NewConsensus(n.cfg)
	if err != nil {
		return nil, fmt.Errorf("sim: build instance for node %d: %w", n.idx, err)
	}
	if m == nil {
		return nil, fmt.Errorf("sim: factory returned a nil instance for node %d", n.idx)
	}
	return m, nil
}

func (s *simulation) schedule(e *event) {
	s.seq++
	e.seq = s.seq
	s.queue.push(e)
}

func (s *simulation) loop() {
	for !s.stopped {
		if s.done() {
			s.res.Reason = Done
			return
		}
		if s.res.Steps >= s.cfg.MaxSteps {
			s.res.Reason = StepLimit
			return
		}
		if len(s.queue) == 0 {
			s.res.Reason = Stalled
			return
		}
		e := s.queue.pop()
		if e.at > s.cfg.MaxTime {
			s.res.Reason = TimeLimit
			return
		}
		s.now = e.at
		switch e.kind {
		case evDeliver:
			if s.cfg.Costs != nil {
				s.arrive(e)
			} else {
				s.deliver(e)
			}
		case evWake:
			s.wakeUp(s.nodes[e.node])
		case evCrash:
			s.crash(s.nodes[e.node], e.crash)
		case evRestart:
			s.restart(s.nodes[e.node])
		}
	}
}

func (s *simulation) done() bool {
	for _, n := range s.nodes {
		if n.beh == nil && len(n.res.Decisions) < s.goal {
			return false
		}
	}
	return true
}

func (s *simulation) deliver(e *event) {
	n := s.nodes[e.node]
	if s.cfg.Censor != nil && e.at <= s.cfg.MaxTime && s.cfg.Censor(e.payload) {
		e.at = s.cfg.MaxTime + 1
		s.schedule(e)
		return
	}
	for i := range s.cfg.Partitions {
		p := &s.cfg.Partitions[i]
		if p.cuts(e.from, e.node, e.at) {
			// Hold it until the partition heals, then give it a fresh delay.
			e.at = p.Heal + s.cfg.Delay.Sample(s.rng)
			s.schedule(e)
			return
		}
	}
	if n.down {
		n.held = append(n.held, e)
		return
	}
	payload := e.payload
	if n.beh != nil {
		n.env.Now = s.now
		var ok bool
		payload, ok = n.beh.Input(n.env, e.from, payload)
		if !ok {
			return
		}
	}
	if n.beh != nil {
		// The behaviour may keep and later change what it returned; the log
		// must hold exactly what the machine consumed.
		payload = bytes.Clone(payload)
	}
	n.res.Received++
	s.hashDelivery(e.from, n.idx, payload)
	from := s.res.Members[e.from]
	s.call(n, logEntry{from: from, payload: payload}, input{from: e.from})
}

// input describes a call for error messages; it is formatted only when one
// is needed.
type input struct {
	propose bool
	epoch   uint64
	from    int
}

func (i input) String() string {
	if i.propose {
		return fmt.Sprintf("propose epoch %d", i.epoch)
	}
	return fmt.Sprintf("step from node %d", i.from)
}

// call feeds one input to n's machine, logs it, acts on the output and
// proposes if the node's epoch moved.
func (s *simulation) call(n *node, in logEntry, what input) {
	out, err := s.invoke(n.machine, in)
	s.res.Steps++
	n.steps++
	var perr *errPanic
	if errors.As(err, &perr) {
		s.res.Reason = Panicked
		s.res.Panic = fmt.Sprintf("node %d on %s: %s", n.idx, what, perr.text)
		s.stopped = true
		return
	}
	if err != nil {
		s.res.Errors = append(s.res.Errors, CallError{Node: n.idx, At: s.now, Input: what.String(), Err: err})
	}
	if s.keepLog() {
		in.out = outputHash(out, err)
		n.log = append(n.log, in)
	}
	if s.cfg.Costs != nil {
		s.charge(n, in, what, out)
	}
	s.act(n, out)
	if s.stopped {
		return
	}
	for i, cr := range s.cfg.Crashes {
		if cr.Node == n.idx && cr.AfterSteps > 0 && n.steps == cr.AfterSteps && !n.down {
			s.crash(n, i)
			return
		}
	}
	s.proposeIfDue(n)
}

func (s *simulation) invoke(m interfaces.Consensus, in logEntry) (out interfaces.Output, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &errPanic{text: fmt.Sprintf("%v\n%s", v, debug.Stack())}
		}
	}()
	if in.propose {
		return m.Propose(bytes.Clone(in.payload))
	}
	return m.Step(in.from, bytes.Clone(in.payload))
}

// proposeIfDue gives n its contribution for its current epoch if the host
// has not yet done so and the epoch is within the proposal bound. A bounded
// loop covers engines whose Epoch() moves on as soon as they propose.
func (s *simulation) proposeIfDue(n *node) {
	for range s.limit - s.cfg.FirstEpoch + 1 {
		if s.stopped || n.down {
			return
		}
		ep, err := s.epochOf(n)
		if err != nil {
			s.res.Reason = Panicked
			s.res.Panic = fmt.Sprintf("node %d in Epoch(): %v", n.idx, err)
			s.stopped = true
			return
		}
		if ep < s.cfg.FirstEpoch || ep >= s.limit || slices.Contains(n.proposed, ep) {
			return
		}
		if s.cfg.ProposeAfterDecide && uint64(len(n.res.Decisions)) < ep-s.cfg.FirstEpoch {
			return
		}
		data := bytes.Clone(s.contribution(n.idx, ep))
		n.proposed = append(n.proposed, ep)
		n.res.Proposals = append(n.res.Proposals, Proposal{Epoch: ep, Data: bytes.Clone(data)})
		if n.beh != nil {
			n.env.Now = s.now
			data = n.beh.Propose(n.env, ep, data)
		}
		s.call(n, logEntry{propose: true, payload: data}, input{propose: true, epoch: ep})
	}
}

// keepLog says whether nodes keep their input log. Only a restart reads
// it, so a run with Config.Costs and no crashes (a long throughput run)
// does not keep it.
func (s *simulation) keepLog() bool { return s.cfg.Costs == nil || len(s.cfg.Crashes) > 0 }

// contribution is the host's contribution for node and epoch, picked now.
func (s *simulation) contribution(node int, epoch uint64) []byte {
	if s.cfg.ContributionAt != nil {
		return s.cfg.ContributionAt(node, epoch, s.now)
	}
	return s.cfg.Contribution(node, epoch)
}

func (s *simulation) epochOf(n *node) (ep uint64, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%v\n%s", v, debug.Stack())
		}
	}()
	return n.machine.Epoch(), nil
}

// act delivers an output: messages through the Behaviour onto the network,
// decisions and faults into the node's result.
func (s *simulation) act(n *node, out interfaces.Output) {
	if s.cfg.RecordSent {
		for _, m := range out.Messages {
			n.res.SentLog = append(n.res.SentLog, SentMessage{To: m.To, Epoch: m.Epoch, Payload: bytes.Clone(m.Payload), Life: n.res.Restarts})
		}
	}
	sends := s.expand(n, out.Messages)
	if n.beh != nil {
		n.env.Now = s.now
		sends = n.beh.Output(n.env, sends)
	}
	for _, m := range sends {
		s.send(n.idx, m)
	}
	for _, d := range out.Decisions {
		d = cloneDecision(d)
		n.res.Decisions = append(n.res.Decisions, d)
		n.res.DecidedAt = append(n.res.DecidedAt, s.now)
		s.hashDecision(n.idx, d)
	}
	for _, f := range out.Faults {
		f.Evidence = bytes.Clone(f.Evidence)
		n.res.Faults = append(n.res.Faults, FaultReport{At: s.now, Fault: f})
		s.hashFault(n.idx, f)
	}
}

// expand turns engine messages into one Send per destination, copying each
// payload so no two state machines share a buffer. Messages to unknown
// stars are dropped (an engine bug the suite notices as lost liveness).
func (s *simulation) expand(n *node, msgs []interfaces.OutMessage) []Send {
	var out []Send
	for _, m := range msgs {
		if m.To == interfaces.Broadcast {
			for j := range s.nodes {
				if j != n.idx {
					out = append(out, Send{To: j, Payload: bytes.Clone(m.Payload)})
				}
			}
			continue
		}
		if j := s.res.IndexOf(m.To); j >= 0 {
			out = append(out, Send{To: j, Payload: bytes.Clone(m.Payload)})
		}
	}
	return out
}

func (s *simulation) send(from int, m Send) {
	if m.To < 0 || m.To >= len(s.nodes) {
		return
	}
	s.nodes[from].res.Sent++
	copies := 1
	if s.cfg.DuplicateProb > 0 && s.rng.Float64() < s.cfg.DuplicateProb {
		copies = 2
	}
	for c := range copies {
		p := m.Payload
		if c > 0 {
			p = bytes.Clone(p)
		}
		at := s.now + max(m.Delay, 0)
		if s.cfg.Costs != nil {
			at += max(s.cfg.Costs.Wire(from, m.To, len(p), at, s.rng), 0)
		} else {
			at += s.cfg.Delay.Sample(s.rng)
		}
		s.schedule(&event{at: at, kind: evDeliver, node: m.To, from: from, payload: p})
	}
}

func (s *simulation) crash(n *node, idx int) {
	if n.crashed == nil {
		n.crashed = make([]bool, len(s.cfg.Crashes))
	}
	if n.down || n.crashed[idx] {
		return
	}
	n.crashed[idx] = true
	n.down = true
	n.machine = nil
	s.schedule(&event{at: s.now + s.cfg.Crashes[idx].Downtime, kind: evRestart, node: n.idx})
}

// restart builds a fresh instance and replays the node's input log into it,
// exactly as the host replays its WAL: outputs are checked against the
// original run and discarded, never sent again.
func (s *simulation) restart(n *node) {
	m, err := s.newMachine(n)
	if err != nil {
		s.res.Reason = Panicked
		s.res.Panic = fmt.Sprintf("restart of node %d: %v", n.idx, err)
		s.stopped = true
		return
	}
	n.res.Restarts++
	for i, in := range n.log {
		out, err := s.invoke(m, in)
		var perr *errPanic
		if errors.As(err, &perr) {
			s.res.Reason = Panicked
			s.res.Panic = fmt.Sprintf("node %d replaying log entry %d: %s", n.idx, i, perr.text)
			s.stopped = true
			return
		}
		if got := outputHash(out, err); got != in.out {
			s.res.Divergences = append(s.res.Divergences, ReplayDivergence{Node: n.idx, Input: i, Want: in.out, Got: got})
		}
	}
	n.machine = m
	n.down = false
	held := n.held
	n.held = nil
	for _, e := range held {
		e.at = s.now + s.cfg.Delay.Sample(s.rng)
		s.schedule(e)
	}
	s.proposeIfDue(n)
}

func cloneDecision(d interfaces.Decision) interfaces.Decision {
	c := interfaces.Decision{Epoch: d.Epoch, Contributions: make([]interfaces.ContributionFrom, len(d.Contributions))}
	for i, x := range d.Contributions {
		c.Contributions[i] = interfaces.ContributionFrom{Proposer: x.Proposer, Data: bytes.Clone(x.Data)}
	}
	return c
}

// outputHash is a canonical digest of one call's raw output.
func outputHash(o interfaces.Output, err error) interfaces.Hash {
	e := interfaces.NewEncoder(256)
	e.Uvarint(uint64(len(o.Messages)))
	for _, m := range o.Messages {
		e.Fixed(m.To[:])
		e.VarBytes(m.Payload)
	}
	e.Uvarint(uint64(len(o.Decisions)))
	for _, d := range o.Decisions {
		encodeDecision(e, d)
	}
	e.Uvarint(uint64(len(o.Faults)))
	for _, f := range o.Faults {
		encodeFault(e, f)
	}
	e.Bool(err != nil)
	return interfaces.DomainSum("constellation/sim/output/v1", e.Bytes())
}

func encodeDecision(e *interfaces.Encoder, d interfaces.Decision) {
	e.U64(d.Epoch)
	e.Uvarint(uint64(len(d.Contributions)))
	for _, c := range d.Contributions {
		e.Fixed(c.Proposer[:])
		e.VarBytes(c.Data)
	}
}

func encodeFault(e *interfaces.Encoder, f interfaces.Fault) {
	e.Fixed(f.Star[:])
	e.U8(uint8(f.Kind))
	e.U64(f.Epoch)
	e.VarBytes(f.Evidence)
}

func (s *simulation) hashDelivery(from, to int, payload []byte) {
	e := interfaces.NewEncoder(32 + len(payload))
	e.U8(1)
	e.I64(int64(s.now))
	e.Uvarint(uint64(from))
	e.Uvarint(uint64(to))
	e.VarBytes(payload)
	s.digest.Write(e.Bytes())
}

func (s *simulation) hashDecision(node int, d interfaces.Decision) {
	e := interfaces.NewEncoder(64)
	e.U8(2)
	e.I64(int64(s.now))
	e.Uvarint(uint64(node))
	encodeDecision(e, d)
	s.digest.Write(e.Bytes())
}

func (s *simulation) hashFault(node int, f interfaces.Fault) {
	e := interfaces.NewEncoder(64)
	e.U8(3)
	e.I64(int64(s.now))
	e.Uvarint(uint64(node))
	encodeFault(e, f)
	s.digest.Write(e.Bytes())
}
