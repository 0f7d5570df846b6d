package repsim

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/constellation-chain/constellation/interfaces"
)

// Scenario names one attacker strategy.
type Scenario string

// The scenarios of the simulation; docs/reputation.md describes each.
const (
	// ScenarioStatic: every Byzantine delegate attacks in every epoch it
	// sits in (withholds its contribution; equivocates provably with
	// probability FaultProb).
	ScenarioStatic Scenario = "static"
	// ScenarioSybil: as static, plus SybilCount extra attacker identities
	// that interact only among themselves and reach the honest region
	// through AttackEdges edges.
	ScenarioSybil Scenario = "sybil"
	// ScenarioWhitewash: as static, and a Byzantine star with a provable
	// fault leaves and rejoins under a fresh identity the next round.
	ScenarioWhitewash Scenario = "whitewash"
	// ScenarioOnOff: Byzantine stars behave for OnOffBehave rounds, attack
	// for OnOffAttack rounds, and repeat.
	ScenarioOnOff Scenario = "on-off"
	// ScenarioCollusion: as static, and the Byzantine stars pay each other
	// heavily over a dense ring to pump each other's interaction scores.
	ScenarioCollusion Scenario = "collusion"
	// ScenarioSleeper: Byzantine stars behave perfectly until the defect
	// round, half-way through the measured window (defectRound), then
	// attack for good.
	ScenarioSleeper Scenario = "sleeper"
	// ScenarioAdaptive: the adaptive sleeper. Byzantine stars behave
	// perfectly, and strike — every Byzantine delegate of the committee
	// attacks — in each round in which they hold at least ⌈k/3⌉ of its
	// seats, enough to stall or fork the epoch; then they behave again
	// and wait for the next such round. Its capture rate is its strike
	// rate.
	ScenarioAdaptive Scenario = "adaptive-sleeper"
	// ScenarioGrinding: as static, and a Byzantine proposer chooses the
	// selection seed among GrindCandidates block hashes, keeping the one
	// that gives attackers the most seats (what the raw block hash would
	// allow; the threshold-signature beacon rules it out).
	ScenarioGrinding Scenario = "grinding"
	// ScenarioPatient: Byzantine stars behave perfectly throughout and
	// only collect seats, as sleepers do before they defect. It is the
	// baseline of the stuffing scenario.
	ScenarioPatient Scenario = "patient"
	// ScenarioStuffing: as patient, and a Byzantine proposer stuffs its
	// block with StuffTransfers transfers among Byzantine stars, all to one
	// of them, to inflate the Temporal PageRank values every star's
	// interaction feature is compared with. Every block precedes a
	// selection here, so it is always the last block before one. The world
	// (stars, graph, beacons) is the patient scenario's, so the difference
	// in seats is the stuffing's alone.
	ScenarioStuffing Scenario = "stuffing"
	// ScenarioChurn: as static, and SleepyShare of the genuine stars, honest
	// and Byzantine alike, sleep and wake at random: an awake sleepy star
	// falls asleep with probability SleepProb per round and a sleeping one
	// wakes with WakeProb. A sleeping star is no candidate and pays nobody.
	ScenarioChurn Scenario = "churn"
)

// AllScenarios lists every scenario in report order.
var AllScenarios = []Scenario{ScenarioStatic, ScenarioSybil, ScenarioWhitewash, ScenarioOnOff, ScenarioCollusion, ScenarioSleeper, ScenarioAdaptive, ScenarioGrinding, ScenarioPatient, ScenarioStuffing, ScenarioChurn}

// Observable reports whether a scenario's attackers misbehave where a
// reputation can see it (faults, omissions, Sybil regions, fresh
// identities, ground seeds). The others — sleeper before it defects,
// adaptive sleeper, patient, and stuffing, a patient attacker whose only
// act is to fill its blocks — behave perfectly as delegates, and no
// record can tell them from honest stars; stuffing is judged by what it
// adds over patient.
func (s Scenario) Observable() bool {
	switch s {
	case ScenarioSleeper, ScenarioAdaptive, ScenarioPatient, ScenarioStuffing:
		return false
	}
	return true
}

// ParseScenario checks a scenario name.
func ParseScenario(s string) (Scenario, error) {
	for _, x := range AllScenarios {
		if string(x) == s {
			return x, nil
		}
	}
	return "", fmt.Errorf("unknown scenario %q (known: %v)", s, AllScenarios)
}

// ParseMethod checks a method name.
func ParseMethod(s string) (Method, error) {
	for _, m := range Methods {
		if string(m) == s {
			return m, nil
		}
	}
	return "", fmt.Errorf("unknown method %q (known: %v)", s, Methods)
}

// Method names a delegate-selection method under test.
type Method string

// The compared methods.
const (
	MethodMeme    Method = "Proof-of-Meme"
	MethodUniform Method = "uniform"
	MethodStake   Method = "stake-weighted"
)

// Methods lists the compared methods in report order.
var Methods = []Method{MethodMeme, MethodUniform, MethodStake}

// Model constants. They are part of the documented model
// (docs/reputation.md, "Simulation model").
const (
	// ParetoAlpha and ParetoXm parametrize stakes: P(stake > x) = (Xm/x)^α
	// for x ≥ Xm. α = 1.16 is the "80/20" shape (20 % of stars hold 80 %
	// of the stake). Byzantine stars draw from the same distribution, so
	// in expectation they hold the same share of stake as of identities.
	ParetoAlpha = 1.16
	ParetoXm    = 1.0
	// stakeUnit converts a stake to the integer weights of the
	// stake-weighted baseline (milli-units); stakes are capped at 1e9 units.
	stakeUnit = 1000
	stakeCap  = 1e9

	// Degree is how many random partners each genuine star links to when
	// it joins (the honest economy is a sparse random graph of mean
	// degree 2·Degree).
	Degree = 4
	// EconomyInteractions is the number of finalized payments per round
	// along the economy graph, amounts uniform in 1..10.
	EconomyInteractions = 200
	// SybilCount identities form the Sybil region; each links to
	// SybilDegree others, SybilInteractions payments per round run inside
	// it, and AttackEdges fixed honest→Sybil edges each carry a payment
	// with probability AttackEdgeRate per round.
	SybilCount        = 1000
	SybilDegree       = 8
	SybilInteractions = 200
	AttackEdges       = 10
	AttackEdgeRate    = 0.1
	// CollusionDegree and CollusionInteractions shape the collusion ring:
	// each Byzantine star links to CollusionDegree others, and
	// CollusionInteractions payments of 10..100 run over the ring per round.
	CollusionDegree       = 16
	CollusionInteractions = 300
	// ChurnEvery: every ChurnEvery rounds one honest star leaves and an
	// honest newcomer joins (linked to Degree honest stars); the newcomers
	// measure how fast honest stars enter.
	ChurnEvery = 20
	// NewcomerWindow is the horizon of the newcomer metric.
	NewcomerWindow = 200
	// FaultProb is the probability that an attacking Byzantine delegate's
	// misbehaviour leaves a provable fault (an equivocation) rather than a
	// plain omission.
	FaultProb = 0.3
	// HonestCrashProb is the probability an honest delegate is not seen
	// in an epoch (crash, partition).
	HonestCrashProb = 0.01
	// OnOffBehave and OnOffAttack are the on-off attacker's phases.
	OnOffBehave = 150
	OnOffAttack = 50
	// GrindCandidates is how many block hashes a grinding proposer tries.
	GrindCandidates = 16
	// LatencyMin and LatencySpread: a contributing delegate's latency is
	// uniform in [LatencyMin, LatencyMin+LatencySpread) milliseconds.
	LatencyMin    = 50
	LatencySpread = 350
	// StuffTransfers is how many transfers a stuffing proposer adds to its
	// block (20 000, as in the attack first reported).
	StuffTransfers = 20000
	// SleepyShare, SleepProb and WakeProb shape the churn scenario: 30 %
	// of the stars are sleepy, and one sleeps and wakes every 100 rounds on
	// average, so about half of them are asleep at any time.
	SleepyShare = 0.3
	SleepProb   = 0.01
	WakeProb    = 0.01
)

// Params configures a Run. Zero fields take the defaults noted.
type Params struct {
	// Factory builds the Proof-of-Meme (or any reputation) instance under
	// test; Config is passed to NewReputation (nil: the plugin's defaults).
	Factory interfaces.ReputationFactory
	Config  []byte

	Stars      int   // genuine stars N (default 2000)
	Rounds     int   // rounds per run including warm-up (default 10000)
	Warmup     int   // rounds excluded from the metrics (default Rounds/5)
	Seeds      int   // independent runs per cell (default 20)
	Committees []int // committee sizes k (default 31, 100)
	// Byzantine lists the Byzantine shares in percent swept for the static
	// scenario (default 10, 20, 25, 33, 45); ScenarioByzantine lists those
	// run for every other scenario (default 25).
	Byzantine         []int
	ScenarioByzantine []int
	Scenarios         []Scenario // default AllScenarios
	Methods           []Method   // default Methods
	// Workers bounds the runs executed in parallel (default 1). Results do
	// not depend on it.
	Workers int
	// Progress, if set, is called after each finished run with the number
	// done and the total, from the goroutine that called Run.
	Progress func(done, total int, label string)
}

func (p Params) withDefaults() Params {
	if p.Stars == 0 {
		p.Stars = 2000
	}
	if p.Rounds == 0 {
		p.Rounds = 10000
	}
	if p.Warmup == 0 {
		p.Warmup = p.Rounds / 5
	}
	if p.Seeds == 0 {
		p.Seeds = 20
	}
	if len(p.Committees) == 0 {
		p.Committees = []int{31, 100}
	}
	if len(p.Byzantine) == 0 {
		p.Byzantine = []int{10, 20, 25, 33, 45}
	}
	if len(p.ScenarioByzantine) == 0 {
		p.ScenarioByzantine = []int{25}
	}
	if len(p.Scenarios) == 0 {
		p.Scenarios = AllScenarios
	}
	if len(p.Methods) == 0 {
		p.Methods = Methods
	}
	if p.Workers <= 0 {
		p.Workers = 1
	}
	return p
}

func (p Params) validate() error {
	if p.Stars < 10 {
		return fmt.Errorf("need at least 10 stars, got %d", p.Stars)
	}
	if p.Rounds < 10 || p.Warmup < 0 || p.Warmup >= p.Rounds {
		return fmt.Errorf("need rounds ≥ 10 and 0 ≤ warm-up < rounds, got %d and %d", p.Rounds, p.Warmup)
	}
	for _, k := range p.Committees {
		if k < 1 || k > p.Stars/2 {
			return fmt.Errorf("committee size %d out of range 1..%d", k, p.Stars/2)
		}
	}
	for _, b := range append(slices.Clone(p.Byzantine), p.ScenarioByzantine...) {
		if b < 0 || b >= 100 {
			return fmt.Errorf("Byzantine share %d%% out of range 0..99", b)
		}
	}
	for _, m := range p.Methods {
		if m == MethodMeme && p.Factory == nil {
			return errors.New("the Proof-of-Meme method needs a reputation factory")
		}
	}
	return nil
}

// defectRound is when sleepers defect: half-way through the measured
// window, so that the good phase in which they collect seats is measured
// for as long as the attack phase (the warm-up never swallows it).
func defectRound(p *Params) int {
	return p.Warmup + 1 + (p.Rounds-p.Warmup)/2
}

// cell identifies one configuration; a run is a cell plus a seed.
type cell struct {
	scenario Scenario
	beta     int
	k        int
	method   Method
}

// runResult is what one run records.
type runResult struct {
	byz, sybil      []uint16 // attacker and Sybil seats per round (index round-1)
	newcomers       int      // honest newcomers eligible for the newcomer metric
	newcomersPicked int      // of which picked within NewcomerWindow rounds
	newcomersAgain  int      // of which picked twice within NewcomerWindow rounds
	// Churn: honest sleepy stars' wakes after warm-up, how many of them
	// led to a seat before the star slept again or the run ended, and the
	// rounds from each such wake to that seat.
	wakes, wakesPicked int
	wakeDelays         []int
}

// star is one identity in the simulated world.
type star struct {
	id     interfaces.StarID
	byz    bool // controlled by the attacker (includes Sybils)
	sybil  bool
	active bool
	joined int // round of arrival; 0 for the initial population
	picked int // first round selected; 0 if never
	again  int // second round selected; 0 if never
	stake  uint64
	adj    []int32 // economy/ring/Sybil-region partners
	// Churn: sleepy stars sleep and wake; woke is the round of the latest
	// wake not yet followed by a seat (0: none pending).
	sleepy, asleep bool
	woke           int
}

// world is the state of one run.
type world struct {
	p       *Params
	c       cell
	seed    uint64
	defect  int
	stars   []*star
	byID    map[interfaces.StarID]int32
	honest  []int32 // active honest genuine stars
	byzGen  []int32 // active Byzantine genuine (non-Sybil) stars
	genuine []int32 // active genuine stars, honest and Byzantine
	sybils  []int32
	attack  [][2]int32 // honest → Sybil attack edges
	sel     selector
	label   []byte // seed material for hashes
}

func (w *world) newStar(rng *rand.Rand, byz, sybil bool, round int) int32 {
	i := int32(len(w.stars))
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(i))
	h := interfaces.DomainSum("constellation/repsim/star", w.label, b[:])
	s := &star{active: true, byz: byz, sybil: sybil, joined: round}
	copy(s.id[:], h[:])
	if sybil {
		s.stake = uint64(ParetoXm * stakeUnit) // the minimum bond
	} else {
		s.stake = paretoStake(rng)
	}
	w.stars = append(w.stars, s)
	w.byID[s.id] = i
	return i
}

// paretoStake draws a stake from Pareto(ParetoXm, ParetoAlpha) by inversion.
func paretoStake(rng *rand.Rand) uint64 {
	u := 1 - rng.Float64() // (0, 1]
	x := ParetoXm / math.Pow(u, 1/ParetoAlpha)
	return uint64(math.Min(x, stakeCap) * stakeUnit)
}

func (w *world) link(rng *rand.Rand, i int32, pool []int32, n int) {
	if len(pool) == 0 {
		return
	}
	for range n {
		j := pool[rng.IntN(len(pool))]
		if j == i {
			continue
		}
		w.stars[i].adj = append(w.stars[i].adj, j)
		w.stars[j].adj = append(w.stars[j].adj, i)
	}
}

func removeAt(list []int32, v int32) []int32 {
	if i := slices.Index(list, v); i >= 0 {
		list[i] = list[len(list)-1]
		return list[:len(list)-1]
	}
	return list
}

func u64(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}

func newWorld(p *Params, c cell, seed uint64, sel selector) *world {
	w := &world{p: p, c: c, seed: seed, sel: sel, byID: map[interfaces.StarID]int32{}, defect: defectRound(p)}
	world := c.scenario
	if world == ScenarioStuffing {
		world = ScenarioPatient // the same stars, graph and beacons
	}
	w.label = append(append(append([]byte(world), byte(c.beta), 0, 0), u64(uint64(c.k))...), u64(seed)...)
	// The world depends on (scenario, β, k, seed) but not on the method, so
	// the methods face the same stars, stakes and graph.
	rng := rand.New(rand.NewPCG(seed, uint64(c.beta)<<32|uint64(c.k)))
	nByz := p.Stars * c.beta / 100
	for i := range p.Stars {
		j := w.newStar(rng, i < nByz, false, 0)
		if i < nByz {
			w.byzGen = append(w.byzGen, j)
		} else {
			w.honest = append(w.honest, j)
		}
		w.genuine = append(w.genuine, j)
	}
	for _, i := range w.genuine {
		w.link(rng, i, w.genuine, Degree)
	}
	if c.scenario == ScenarioCollusion {
		for _, i := range w.byzGen {
			w.link(rng, i, w.byzGen, CollusionDegree/2)
		}
	}
	if c.scenario == ScenarioChurn {
		for _, i := range w.genuine {
			w.stars[i].sleepy = rng.Float64() < SleepyShare
		}
	}
	if c.scenario == ScenarioSybil {
		for range SybilCount {
			w.sybils = append(w.sybils, w.newStar(rng, true, true, 0))
		}
		for _, i := range w.sybils {
			w.link(rng, i, w.sybils, SybilDegree/2)
		}
		for range AttackEdges {
			w.attack = append(w.attack, [2]int32{w.honest[rng.IntN(len(w.honest))], w.sybils[rng.IntN(len(w.sybils))]})
		}
	}
	return w
}

// attacking reports whether Byzantine delegates misbehave in round r, in
// which they hold byz of the committee's seats.
func (w *world) attacking(r, byz int) bool {
	switch w.c.scenario {
	case ScenarioAdaptive:
		return 3*byz >= w.c.k
	case ScenarioOnOff:
		return r%(OnOffBehave+OnOffAttack) >= OnOffBehave
	case ScenarioSleeper:
		return r >= w.defect
	case ScenarioPatient, ScenarioStuffing:
		return false
	default:
		return true
	}
}

func (w *world) candidates() []interfaces.StarID {
	out := make([]interfaces.StarID, 0, len(w.genuine)+len(w.sybils))
	for _, i := range w.genuine {
		if !w.stars[i].asleep {
			out = append(out, w.stars[i].id)
		}
	}
	for _, i := range w.sybils {
		out = append(out, w.stars[i].id)
	}
	return out
}

func (w *world) attackerSeats(committee []interfaces.StarID) (byz, sybil int) {
	for _, id := range committee {
		s := w.stars[w.byID[id]]
		if s.byz {
			byz++
		}
		if s.sybil {
			sybil++
		}
	}
	return byz, sybil
}

// seed returns round r's selection seed. Normally it is the beacon: the
// hash of the round's simulated threshold signature, which no proposer
// controls. In the grinding scenario a Byzantine proposer instead tries
// GrindCandidates block hashes and keeps the best for the attacker.
func (w *world) roundSeed(rng *rand.Rand, r int, cands []interfaces.StarID, proposerByz bool) (interfaces.Hash, error) {
	beacon := interfaces.DomainSum("constellation/repsim/beacon", w.label, u64(uint64(r)))
	if w.c.scenario != ScenarioGrinding || !proposerByz {
		return beacon, nil
	}
	best, bestSeats := beacon, -1
	for j := range GrindCandidates {
		h := interfaces.DomainSum("constellation/repsim/blockhash", w.label, u64(uint64(r)), u64(uint64(j)))
		com, err := w.sel.Select(cands, w.c.k, h)
		if err != nil {
			return h, fmt.Errorf("grind candidate %d: %w", j, err)
		}
		if n, _ := w.attackerSeats(com); n > bestSeats {
			best, bestSeats = h, n
		}
	}
	return best, nil
}

// run simulates one run and returns what it measured.
func (w *world) run() (*runResult, error) {
	p := w.p
	res := &runResult{byz: make([]uint16, p.Rounds), sybil: make([]uint16, p.Rounds)}
	proposerByz := false
	var rejoin []int32
	for r := 1; r <= p.Rounds; r++ {
		rng := rand.New(rand.NewPCG(w.seed^0x9e3779b97f4a7c15, uint64(r)<<16|uint64(w.c.k)))
		// Churn: an honest star leaves, an honest newcomer joins.
		if r%ChurnEvery == 0 && len(w.honest) > Degree+1 {
			out := w.honest[rng.IntN(len(w.honest))]
			w.stars[out].active = false
			w.honest = removeAt(w.honest, out)
			w.genuine = removeAt(w.genuine, out)
			in := w.newStar(rng, false, false, r)
			w.link(rng, in, w.honest, Degree)
			w.honest = append(w.honest, in)
			w.genuine = append(w.genuine, in)
		}
		// Whitewashing: last round's faulty Byzantine identities return
		// under fresh ones, linked to the attacker's own stars only.
		for _, old := range rejoin {
			w.stars[old].active = false
			w.byzGen = removeAt(w.byzGen, old)
			w.genuine = removeAt(w.genuine, old)
			in := w.newStar(rng, true, false, r)
			w.stars[in].stake = w.stars[old].stake
			w.link(rng, in, w.byzGen, Degree)
			w.byzGen = append(w.byzGen, in)
			w.genuine = append(w.genuine, in)
		}
		rejoin = rejoin[:0]
		if w.c.scenario == ScenarioChurn {
			w.sleepAndWake(r, res)
		}

		cands := w.candidates()
		seed, err := w.roundSeed(rng, r, cands, proposerByz)
		if err != nil {
			return nil, fmt.Errorf("round %d: %w", r, err)
		}
		committee, err := w.sel.Select(cands, w.c.k, seed)
		if err != nil {
			return nil, fmt.Errorf("round %d: select %d delegates: %w", r, w.c.k, err)
		}
		if len(committee) != w.c.k {
			return nil, fmt.Errorf("round %d: selection returned %d delegates, want %d", r, len(committee), w.c.k)
		}
		byz, syb := w.attackerSeats(committee)
		res.byz[r-1], res.sybil[r-1] = uint16(byz), uint16(syb)
		for _, id := range committee {
			s := w.stars[w.byID[id]]
			if s.woke != 0 {
				res.wakesPicked++
				res.wakeDelays = append(res.wakeDelays, r-s.woke)
				s.woke = 0
			}
			switch {
			case s.picked == 0:
				s.picked = r
			case s.again == 0:
				s.again = r
			}
		}
		proposerByz = w.stars[w.byID[committee[rng.IntN(len(committee))]]].byz

		obs, faulty := w.epoch(rng, r, committee, w.attacking(r, byz))
		if w.c.scenario == ScenarioStuffing && proposerByz {
			obs.Interactions = append(obs.Interactions, w.stuff(r)...)
		}
		if w.c.scenario == ScenarioWhitewash {
			rejoin = append(rejoin, faulty...)
		}
		if err := w.sel.Observe(obs); err != nil {
			return nil, fmt.Errorf("round %d: observe: %w", r, err)
		}
	}
	for _, s := range w.stars {
		if s.byz || s.joined == 0 || s.joined <= p.Warmup || s.joined+NewcomerWindow > p.Rounds {
			continue
		}
		res.newcomers++
		if s.picked != 0 && s.picked < s.joined+NewcomerWindow {
			res.newcomersPicked++
		}
		if s.again != 0 && s.again < s.joined+NewcomerWindow {
			res.newcomersAgain++
		}
	}
	return res, nil
}

// sleepAndWake moves the churn scenario's sleepy stars between sleeping
// and awake for round r, from a generator of its own so that the run's
// other draws are not shifted by it. An honest
// star's wake after warm-up is counted, and timed until its next seat.
func (w *world) sleepAndWake(r int, res *runResult) {
	rng := rand.New(rand.NewPCG(w.seed^0x5eed5eed, uint64(r)))
	for _, i := range w.genuine {
		s := w.stars[i]
		if !s.sleepy {
			continue
		}
		switch {
		case s.asleep && rng.Float64() < WakeProb:
			s.asleep = false
			if !s.byz && r > w.p.Warmup {
				s.woke = r
				res.wakes++
			}
		case !s.asleep && rng.Float64() < SleepProb:
			s.asleep = true
			s.woke = 0 // slept again before being picked
		}
	}
}

// stuff returns a stuffing proposer's extra transfers for round r's block:
// StuffTransfers payments of one unit from random Byzantine stars to the
// first Byzantine star, which concentrates all the walk mass on it. They
// come from a generator of their own, so that the run's other draws are
// not shifted by them.
func (w *world) stuff(r int) []interfaces.Interaction {
	if len(w.byzGen) < 2 {
		return nil
	}
	rng := rand.New(rand.NewPCG(w.seed^0x57aff, uint64(r)))
	to := w.stars[w.byzGen[0]].id
	out := make([]interfaces.Interaction, 0, StuffTransfers)
	for range StuffTransfers {
		from := w.byzGen[1+rng.IntN(len(w.byzGen)-1)]
		out = append(out, interfaces.Interaction{From: w.stars[from].id, To: to, Amount: 1})
	}
	return out
}

// epoch simulates the committee's epoch (attack: whether Byzantine
// delegates misbehave in it) and returns the observation of the
// finalized block and the Byzantine stars that left a provable fault.
//
// Honest delegates contribute with a latency uniform in
// [LatencyMin, LatencyMin+LatencySpread) ms, except with HonestCrashProb
// they are not seen. Byzantine delegates behave the same when not
// attacking; attacking, they withhold their contribution (not seen), or
// with FaultProb equivocate, which is seen and leaves a provable fault. The
// decided set is the k − f earliest contributions (f = ⌊(k−1)/3⌋, as
// HoneyBadger's ACS decides N − f), in latency order.
func (w *world) epoch(rng *rand.Rand, r int, committee []interfaces.StarID, attack bool) (interfaces.Observation, []int32) {
	k := len(committee)
	lat := make([]uint32, k)
	type contrib struct {
		lat uint32
		i   int
	}
	var contribs []contrib
	var faults []interfaces.Fault
	var faulty []int32
	for i, id := range committee {
		si := w.byID[id]
		s := w.stars[si]
		l := uint32(LatencyMin + rng.IntN(LatencySpread))
		switch {
		case s.byz && attack:
			if rng.Float64() < FaultProb {
				lat[i] = l
				faults = append(faults, interfaces.Fault{Star: id, Kind: interfaces.FaultEquivocation, Epoch: uint64(r), Evidence: []byte("repsim")})
				faulty = append(faulty, si)
			}
		case !s.byz && rng.Float64() < HonestCrashProb:
		default:
			lat[i] = l
			contribs = append(contribs, contrib{l, i})
		}
	}
	slices.SortFunc(contribs, func(a, b contrib) int {
		if a.lat != b.lat {
			return int(a.lat) - int(b.lat)
		}
		return a.i - b.i
	})
	decided := k - (k-1)/3
	if len(contribs) > decided {
		contribs = contribs[:decided]
	}
	proposers := make([]interfaces.StarID, 0, len(contribs))
	for _, c := range contribs {
		proposers = append(proposers, committee[c.i])
	}
	return interfaces.Observation{
		Height:       uint64(r),
		Epoch:        uint64(r),
		Timestamp:    int64(r) * 1000,
		Meta:         interfaces.BlockMeta{Proposers: proposers, Members: committee, Faults: faults, LatencyMillis: lat},
		Interactions: w.interactions(rng),
	}, faulty
}

// interactions draws the round's finalized payments.
func (w *world) interactions(rng *rand.Rand) []interfaces.Interaction {
	var out []interfaces.Interaction
	pay := func(from, to int32, amount uint64) {
		a, b := w.stars[from], w.stars[to]
		if from != to && a.active && b.active && !a.asleep && !b.asleep {
			out = append(out, interfaces.Interaction{From: w.stars[from].id, To: w.stars[to].id, Amount: amount})
		}
	}
	walk := func(pool []int32, n int, amount func() uint64, inside func(*star) bool) {
		if len(pool) == 0 {
			return
		}
		for range n {
			u := pool[rng.IntN(len(pool))]
			adj := w.stars[u].adj
			if len(adj) == 0 {
				continue
			}
			v := adj[rng.IntN(len(adj))]
			if inside(w.stars[v]) {
				pay(u, v, amount())
			}
		}
	}
	small := func() uint64 { return 1 + rng.Uint64N(10) }
	walk(w.genuine, EconomyInteractions, small, func(s *star) bool { return !s.sybil })
	switch w.c.scenario {
	case ScenarioSybil:
		walk(w.sybils, SybilInteractions, small, func(s *star) bool { return s.sybil })
		for _, e := range w.attack {
			if rng.Float64() < AttackEdgeRate {
				pay(e[0], e[1], small())
			}
		}
	case ScenarioCollusion:
		walk(w.byzGen, CollusionInteractions, func() uint64 { return 10 + rng.Uint64N(91) }, func(s *star) bool { return s.byz })
	}
	return out
}
