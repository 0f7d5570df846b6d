package conformance

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/constellation-chain/constellation/conformance/sim"
	"github.com/constellation-chain/constellation/interfaces"
)

// RunConsensus runs the consensus conformance suite against f as Go
// subtests of t. Call it from the engine's own test:
//
//	func TestConformance(t *testing.T) { conformance.RunConsensus(t, myengine.Factory{}) }
//
// With -short it runs GridShort (N = 4 and 7, three seeds), so a fast
// engine passes in seconds; without it GridFull (N ∈ {4, 7, 10, 16}, ten
// seeds per case). ConsensusOptions.Grid picks another grid.
func RunConsensus(t *testing.T, f interfaces.ConsensusFactory) {
	ConsensusSuite(FromTesting(t), f)
}

// ConsensusSuite runs the same cases on any TB (the CLI's Runner uses it).
// Each case is a sub-case named after the property it checks, with one
// sub-case per cluster size ("agreement/N=7"), and runs the engine in the
// deterministic simulator (package sim) over several seeds:
//
//   - agreement: all honest members decide the same contributions in the
//     same order for every epoch, each epoch exactly once and in order;
//   - validity: every decided epoch holds at least N-f contributions from
//     distinct members (at least one for engines that are not fault
//     tolerant), and an honest proposer's contribution is decided exactly
//     as the host proposed it for that epoch;
//   - termination-under-asynchrony: with long-tailed delays, reordering,
//     duplicates and a partition that heals, every honest member decides
//     the goal within the simulator's step and virtual-time bounds;
//   - byzantine/<behaviour>: up to f members silent, crashing mid-epoch,
//     sending garbage, flipping bits, replaying old messages or
//     equivocating (plus engine-specific behaviours from
//     ConsensusOptions); agreement, validity and termination still hold;
//   - censorship-resilience: a transaction held by the N-f honest members
//     is committed within censorshipBound epochs while f members are silent;
//   - censorship-plaintext-scheduler: the same, but the network is a
//     scheduler that reads every message and withholds each one that
//     carries a fragment of the marker; only an engine that hides
//     contributions until they are agreed (threshold encryption) commits it;
//   - crash-restart-replay: members crash and restart from their input log;
//     the replay reproduces their earlier output exactly (so nothing they
//     send afterwards conflicts with what they sent before) and they keep
//     agreeing;
//   - restart-at-any-point: one member crashes again and again, at a
//     spread of points in its run; every replay reproduces what it sent
//     before, and (for engines that implement interfaces.FaultChecker) no
//     two messages it sent, before and after any restart, prove an
//     equivocation by the engine's own rules;
//   - threshold-signature: for engines claiming CapThresholdSignature
//     (interfaces.ThresholdSigner), any f+1 members' shares on a message
//     combine into one and the same group signature, which every member
//     verifies; f shares, or a share on another message, do not make one;
//   - robustness: malformed, truncated, bit-flipped, empty and
//     unknown-sender input never makes Step panic or return an error;
//   - determinism: two runs from one seed are identical, message for
//     message.
//
// Every run also fails on an engine panic, an error from Step, and (for
// engines claiming CapFaultEvidence) any fault that names an honest member.
//
// Cases that need a capability the engine does not claim in
// f.Info().Capabilities are skipped with the capability named: without
// interfaces.CapMultiMember only N = 1 runs; without CapFaultTolerance the
// Byzantine cases are skipped; without CapCensorship the censorship case;
// without CapFaultEvidence the fault-evidence checks are not made.
//
// Every failure names the property, the case, N, f, the seed, the network
// and the nodes and epoch involved. Runs are deterministic, so rerunning
// the named sub-case reproduces a failure exactly.
func ConsensusSuite(t TB, f interfaces.ConsensusFactory) {
	ConsensusSuiteWith(t, f, ConsensusOptions{})
}

// ConsensusOptions extends the suite for one engine.
type ConsensusOptions struct {
	// Behaviours are engine-specific Byzantine behaviours, run by the
	// byzantine case beside the built-in ones with up to f such members.
	// They let an engine test attacks that need its wire format (an invalid
	// coin share, a bad decryption share) through the same checks.
	Behaviours []ByzantineBehaviour
	// Params is passed as every instance's ConsensusConfig.Params (the
	// engine's config block as JSON); nil leaves the engine's defaults.
	Params []byte
	// Grid is the grid of cluster sizes, seeds and epochs the suite runs;
	// GridAuto (the zero value) is GridShort under -short (a Runner's
	// ShortMode) and GridFull otherwise.
	Grid Grid
	// Sizes, Seeds and Epochs override the grid's cluster sizes, seeds per
	// case and epochs per run (zero values keep the grid's). A slow engine
	// may trim its -short run with them; its full run should keep the
	// grid's.
	Sizes  []int
	Seeds  int
	Epochs int
}

// Grid names how much of the consensus suite a run covers. Every grid runs
// every case (every property, every Byzantine behaviour) at N=4 and N=7;
// the grids differ in the larger sizes, the seeds per case and the epochs
// per run. None weakens what a case checks.
type Grid int

const (
	// GridAuto is GridShort under -short and GridFull otherwise.
	GridAuto Grid = iota
	// GridShort is the quick subset: N ∈ {4, 7}, 3 seeds, 3 epochs.
	GridShort
	// GridDefault is what `constellation conformance` runs unless told
	// otherwise, sized for a plugin author's CI (a few minutes on two
	// cores for HoneyBadger out of process): N ∈ {4, 7}, 4 seeds, 4 epochs.
	GridDefault
	// GridFull is the whole grid: N ∈ {4, 7, 10, 16}, 10 seeds, 6 epochs.
	GridFull
)

// GridSpec is a grid's cluster sizes, seeds per case and epochs per run.
type GridSpec struct {
	Sizes  []int
	Seeds  int
	Epochs int
}

// Spec returns the grid's sizes, seeds and epochs; short resolves
// GridAuto.
func (g Grid) Spec(short bool) GridSpec {
	switch g.resolve(short) {
	case GridShort:
		return GridSpec{Sizes: []int{4, 7}, Seeds: 3, Epochs: 3}
	case GridDefault:
		return GridSpec{Sizes: []int{4, 7}, Seeds: 4, Epochs: 4}
	default:
		return GridSpec{Sizes: []int{4, 7, 10, 16}, Seeds: 10, Epochs: 6}
	}
}

func (g Grid) resolve(short bool) Grid {
	if g != GridAuto {
		return g
	}
	if short {
		return GridShort
	}
	return GridFull
}

// String is the grid's name: "short", "default" or "full" ("auto" for
// GridAuto).
func (g Grid) String() string {
	switch g {
	case GridAuto:
		return "auto"
	case GridShort:
		return "short"
	case GridDefault:
		return "default"
	case GridFull:
		return "full"
	}
	return fmt.Sprintf("Grid(%d)", int(g))
}

// String describes the spec as a run prints it: "N=4,7; 4 seeds per case;
// 4 epochs per run".
func (g GridSpec) String() string {
	ns := make([]string, len(g.Sizes))
	for i, n := range g.Sizes {
		ns[i] = fmt.Sprint(n)
	}
	return fmt.Sprintf("N=%s; %d seeds per case; %d epochs per run", strings.Join(ns, ","), g.Seeds, g.Epochs)
}

// ByzantineBehaviour names a Byzantine behaviour for the byzantine case.
type ByzantineBehaviour struct {
	// Name is the sub-case name, such as "invalid-coin-share".
	Name string
	// New returns a fresh behaviour for one Byzantine node of one run. seed
	// is the run's seed and n its cluster size; a behaviour must draw its
	// randomness from the Env it is given, not from elsewhere.
	New func(seed uint64, n int) sim.Behaviour
	// MustReportFault: an engine claiming CapFaultEvidence must report at
	// least one fault by a Byzantine member over the seeds of each N.
	MustReportFault bool
}

// RunConsensusWith is RunConsensus with engine-specific extensions.
func RunConsensusWith(t *testing.T, f interfaces.ConsensusFactory, opts ConsensusOptions) {
	ConsensusSuiteWith(FromTesting(t), f, opts)
}

// ConsensusSuiteWith is ConsensusSuite with engine-specific extensions.
func ConsensusSuiteWith(t TB, f interfaces.ConsensusFactory, opts ConsensusOptions) {
	info := f.Info()
	if info.Kind != interfaces.KindConsensus {
		t.Fatalf("consensus suite: plugin %q is of kind %q, not %q", info.Name, info.Kind, interfaces.KindConsensus)
	}
	grid := opts.Grid.Spec(t.Short())
	if len(opts.Sizes) > 0 {
		grid.Sizes = opts.Sizes
	}
	if opts.Seeds > 0 {
		grid.Seeds = opts.Seeds
	}
	if opts.Epochs > 0 {
		grid.Epochs = opts.Epochs
	}
	s := &consensusSuite{f: f, info: info, extra: opts.Behaviours, params: opts.Params, grid: grid}
	t.Logf("consensus suite for %s %s, capabilities %v, %s grid: %s", info.Name, info.Version, info.SortedCapabilities(), opts.Grid.resolve(t.Short()), grid)
	t.Run("agreement", s.agreement)
	t.Run("validity", s.validity)
	t.Run("termination-under-asynchrony", s.termination)
	t.Run("byzantine", s.byzantine)
	t.Run("censorship-resilience", s.censorship)
	t.Run("censorship-plaintext-scheduler", s.censorshipPlaintext)
	t.Run("crash-restart-replay", s.crashRestart)
	t.Run("restart-at-any-point", s.restartAnyPoint)
	t.Run("robustness", s.robustness)
	t.Run("determinism", s.determinism)
	t.Run("threshold-signature", s.thresholdSignature)
}

type consensusSuite struct {
	f      interfaces.ConsensusFactory
	info   interfaces.PluginInfo
	extra  []ByzantineBehaviour
	params []byte
	// grid is the run's grid with ConsensusOptions' overrides applied.
	grid GridSpec
}

const (
	// censorshipBound is how many epochs, counted from the first epoch in
	// which N-f honest members hold a transaction, may pass before it must
	// be committed. With at least N-f contributions decided per epoch and
	// N-f holders, N-2f >= f+1 holders' contributions are decided in every
	// epoch, so a censorship-resilient engine commits it in the first; the
	// bound leaves room for engines that pipeline.
	consCensorshipBound = 3
)

func (s *consensusSuite) seeds() int { return s.grid.Seeds }

func (s *consensusSuite) epochs() int { return s.grid.Epochs }

// forSizes runs body once per cluster size as sub-cases "N=4" and so on. An
// engine without CapMultiMember runs N=1 only and sees every larger size
// skipped, visibly.
func (s *consensusSuite) forSizes(t TB, body func(t TB, n int)) {
	sizes := s.grid.Sizes
	multi := s.info.Has(interfaces.CapMultiMember)
	if !multi {
		t.Run("N=1", func(t TB) { body(t, 1) })
	}
	for _, n := range sizes {
		t.Run(fmt.Sprintf("N=%d", n), func(t TB) {
			if !multi {
				t.Skipf("engine %s lacks capability %q: multi-member cases run with N=1 only", s.info.Name, interfaces.CapMultiMember)
			}
			body(t, n)
		})
	}
}

func (s *consensusSuite) require(t TB, capability, what string) {
	if !s.info.Has(capability) {
		t.Skipf("engine %s lacks capability %q: %s not checked", s.info.Name, capability, what)
	}
}

// faultyCount is the f the suite configures: (N-1)/3 for fault-tolerant
// engines, 0 otherwise.
func (s *consensusSuite) faultyCount(n int) int {
	if s.info.Has(interfaces.CapFaultTolerance) {
		return (n - 1) / 3
	}
	return 0
}

// consBenign is a network with random delays (so messages are reordered) and
// occasional duplicates.
func consBenign() consNetwork {
	return consNetwork{
		name:  "random-delay",
		delay: sim.Uniform{Min: sim.Millisecond, Max: 50 * sim.Millisecond},
		dup:   0.05,
	}
}

// consAdversarial schedules messages against the protocol: exponential delays
// with a long tail of very late messages, duplicates, and a partition that
// cuts `cut` nodes off until it heals.
func consAdversarial(n int, cut []int) consNetwork {
	nw := consNetwork{
		name: "adversarial",
		delay: sim.LongTail{
			Base:     sim.Exponential{Min: sim.Millisecond, Mean: 10 * sim.Millisecond},
			Slow:     sim.Uniform{Min: 200 * sim.Millisecond, Max: 2 * sim.Second},
			SlowProb: 0.1,
		},
		dup: 0.2,
	}
	if n > 1 && len(cut) > 0 {
		nw.partitions = []sim.Partition{{Isolated: cut, Start: 20 * sim.Millisecond, Heal: 1500 * sim.Millisecond}}
	}
	return nw
}

// consPick draws k distinct node indices from [0, n) with a generator seeded by
// the scenario's seed, sorted.
func consPick(seed uint64, purpose string, n, k int) []int {
	r := rand.New(rand.NewPCG(seed, uint64(len(purpose))*0x9E3779B97F4A7C15+uint64(n)))
	perm := r.Perm(n)
	out := append([]int(nil), perm[:k]...)
	slices.Sort(out)
	return out
}

func (s *consensusSuite) agreement(t TB) {
	s.forSizes(t, func(t TB, n int) {
		for i := range s.seeds() {
			sc := s.newScenario("agreement", n, uint64(i+1), consBenign())
			r := s.run(t, sc)
			c := s.check(t, sc, r)
			c.agreement()
			c.termination()
			if t.Failed() {
				return
			}
		}
	})
}

func (s *consensusSuite) validity(t TB) {
	s.forSizes(t, func(t TB, n int) {
		for i := range s.seeds() {
			sc := s.newScenario("validity", n, uint64(1000+i), consBenign())
			r := s.run(t, sc)
			c := s.check(t, sc, r)
			c.validity()
			if t.Failed() {
				return
			}
		}
	})
}

func (s *consensusSuite) termination(t TB) {
	s.forSizes(t, func(t TB, n int) {
		for i := range s.seeds() {
			seed := uint64(2000 + i)
			cut := consPick(seed, "partition", n, max(1, s.faultyCount(n)))
			sc := s.newScenario("termination under asynchrony", n, seed, consAdversarial(n, cut))
			r := s.run(t, sc)
			c := s.check(t, sc, r)
			c.termination()
			c.agreement()
			c.validity()
			if t.Failed() {
				return
			}
		}
	})
}

// consBuiltinBehaviours are the engine-independent Byzantine behaviours every
// fault-tolerant engine is run against.
var consBuiltinBehaviours = []ByzantineBehaviour{
	{Name: "silent", New: func(uint64, int) sim.Behaviour { return sim.Silent{} }},
	{Name: "crash-mid-epoch", New: func(seed uint64, n int) sim.Behaviour {
		// A few messages in: the node has started the first epoch.
		return sim.CrashAt(1 + int(seed%uint64(2*n)))
	}},
	{Name: "garbage", New: func(uint64, int) sim.Behaviour { return sim.Garbage{} }, MustReportFault: true},
	{Name: "bitflip", New: func(uint64, int) sim.Behaviour { return sim.BitFlip{} }},
	{Name: "replay-old-messages", New: func(uint64, int) sim.Behaviour { return sim.Replay(3 * sim.Second) }},
	{Name: "equivocation", New: func(uint64, int) sim.Behaviour { return sim.Equivocate() }},
}

func (s *consensusSuite) byzantine(t TB) {
	for _, bc := range append(slices.Clone(consBuiltinBehaviours), s.extra...) {
		t.Run(bc.Name, func(t TB) {
			s.require(t, interfaces.CapMultiMember, "Byzantine members")
			s.require(t, interfaces.CapFaultTolerance, "Byzantine members")
			s.forSizes(t, func(t TB, n int) {
				f := s.faultyCount(n)
				if f == 0 {
					t.Skipf("N=%d tolerates no Byzantine member", n)
				}
				reported := 0
				for i := range s.seeds() {
					seed := uint64(3000 + i)
					byz := consPick(seed, "byzantine", n, f)
					sc := s.newScenario("byzantine/"+bc.Name, n, seed, consAdversarial(n, nil))
					sc.byzantine = byz
					sc.behaviour = func() sim.Behaviour { return bc.New(seed, n) }
					r := s.run(t, sc)
					c := s.check(t, sc, r)
					c.termination()
					c.agreement()
					c.validity()
					reported += c.faultsReported()
					if t.Failed() {
						return
					}
				}
				if bc.MustReportFault && s.info.Has(interfaces.CapFaultEvidence) && reported == 0 {
					t.Errorf("fault evidence: N=%d f=%d, %d seeds from %d: engine claims %q but no honest node reported any fault from a %s member",
						n, f, s.seeds(), 3000, interfaces.CapFaultEvidence, bc.Name)
				}
			})
		})
	}
}

// consCensorshipMarker is the transaction whose inclusion the censorship case
// tracks.
func consCensorshipMarker(seed uint64) []byte {
	return consDataTx("conformance/censorship-client", 1, fmt.Sprintf("censorship marker, seed %d", seed)).Encode()
}

func (s *consensusSuite) censorship(t TB) {
	s.require(t, interfaces.CapCensorship, "censorship resilience")
	s.forSizes(t, func(t TB, n int) {
		for i := range s.seeds() {
			seed := uint64(4000 + i)
			f := s.faultyCount(n)
			byz := consPick(seed, "byzantine", n, f)
			sc := s.newScenario("censorship resilience", n, seed, consAdversarial(n, nil))
			sc.epochs = max(sc.epochs, consCensorshipBound)
			sc.byzantine = byz
			sc.behaviour = func() sim.Behaviour { return sim.Silent{} }
			// Every honest node, N-f of them, holds the marker from the
			// first epoch on.
			sc.marker = consCensorshipMarker(seed)
			r := s.run(t, sc)
			c := s.check(t, sc, r)
			c.termination()
			c.agreement()
			c.committedWithin(sc.marker, consCensorshipBound)
			if t.Failed() {
				return
			}
		}
	})
}

// consPlaintextMarker is the marker of the plaintext-scheduler case: a
// transaction whose payload repeats consPlaintextFragment so often that
// every piece of a contribution holding it, however an engine splits or
// erasure-codes it, still carries the fragment in the clear.
func consPlaintextMarker(seed uint64) []byte {
	payload := strings.Repeat(consPlaintextFragment, 96) + fmt.Sprintf(" seed %d", seed)
	return consDataTx("conformance/censorship-client", 1, payload).Encode()
}

const consPlaintextFragment = "censor me|"

func (s *consensusSuite) censorshipPlaintext(t TB) {
	s.require(t, interfaces.CapCensorship, "censorship resilience against a plaintext-reading scheduler")
	s.forSizes(t, func(t TB, n int) {
		for i := range s.seeds() {
			seed := uint64(4500 + i)
			sc := s.newScenario("censorship resilience against a plaintext-reading scheduler", n, seed, consBenign())
			sc.net.name = "random-delay, censoring scheduler"
			sc.epochs = max(sc.epochs, consCensorshipBound)
			sc.marker = consPlaintextMarker(seed)
			fragment := []byte(consPlaintextFragment)
			sc.censor = func(p []byte) bool { return bytes.Contains(p, fragment) }
			r := s.run(t, sc)
			c := s.check(t, sc, r)
			c.committedWithin(sc.marker, consCensorshipBound)
			c.termination()
			c.agreement()
			if t.Failed() {
				return
			}
		}
	})
}

// restartAnyPoint crashes one member at several points of its run, each
// time restarting it from its input log.
func (s *consensusSuite) restartAnyPoint(t TB) {
	s.forSizes(t, func(t TB, n int) {
		if n < 2 {
			t.Skipf("N=%d: a lone member has nobody to contradict", n)
		}
		for i := range min(s.seeds(), 3) {
			seed := uint64(5500 + i)
			victim := consPick(seed, "restart", n, 1)[0]
			nw := consBenign()
			nw.name = "random-delay, repeated crash-restart"
			// Crash points spread over the run: a few inputs in, and then
			// later and later, so a restart lands mid-broadcast, mid-
			// agreement and between epochs.
			for k, after := range []int{1, 3, 7, 15, 31, 63} {
				nw.crashes = append(nw.crashes, sim.Crash{Node: victim, AfterSteps: after + int(seed%5) + k, Downtime: 50 * sim.Millisecond})
			}
			sc := s.newScenario("restart at any point", n, seed, nw)
			sc.record = true
			r := s.run(t, sc)
			c := s.check(t, sc, r)
			c.termination()
			c.agreement()
			c.replayConsistent()
			c.restarted(victim)
			c.noSelfEquivocation(victim)
			if t.Failed() {
				return
			}
		}
	})
}

func (s *consensusSuite) crashRestart(t TB) {
	s.forSizes(t, func(t TB, n int) {
		for i := range s.seeds() {
			seed := uint64(5000 + i)
			victim := consPick(seed, "crash", n, 1)[0]
			nw := consBenign()
			nw.name = "random-delay, crash-restart"
			nw.crashes = []sim.Crash{{Node: victim, AfterSteps: 1 + int(seed%uint64(n)), Downtime: 300 * sim.Millisecond}}
			if n >= 4 {
				// A second node crashes at a point in time, mid-run.
				other := (victim + 1 + int(seed%uint64(n-1))) % n
				nw.crashes = append(nw.crashes, sim.Crash{Node: other, At: 60 * sim.Millisecond, Downtime: 500 * sim.Millisecond})
			}
			sc := s.newScenario("crash-restart replay", n, seed, nw)
			r := s.run(t, sc)
			c := s.check(t, sc, r)
			c.termination()
			c.agreement()
			c.validity()
			c.replayConsistent()
			c.restarted(victim)
			if t.Failed() {
				return
			}
		}
	})
}

func (s *consensusSuite) determinism(t TB) {
	s.forSizes(t, func(t TB, n int) {
		for i := range min(s.seeds(), 2) {
			seed := uint64(6000 + i)
			nw := consAdversarial(n, consPick(seed, "partition", n, max(1, s.faultyCount(n))))
			nw.crashes = []sim.Crash{{Node: consPick(seed, "crash", n, 1)[0], AfterSteps: 2 + n, Downtime: 200 * sim.Millisecond}}
			sc := s.newScenario("engine determinism", n, seed, nw)
			a, b := s.run(t, sc), s.run(t, sc)
			s.check(t, sc, a).sameRun(b)
			if t.Failed() {
				return
			}
		}
	})
}

func (s *consensusSuite) thresholdSignature(t TB) {
	s.require(t, interfaces.CapThresholdSignature, "group threshold signatures")
	s.forSizes(t, func(t TB, n int) {
		sc := s.newScenario("threshold signature", n, 7000, consBenign())
		sc.epochs = 1
		r := s.run(t, sc)
		if len(r.Configs) != n {
			t.Fatalf("threshold signature [case %s]: %s: the run set up %d members", sc.property, sc, len(r.Configs))
		}
		signers := make([]interfaces.ThresholdSigner, n)
		for i, cfg := range r.Configs {
			c, err := s.f.NewConsensus(cfg)
			if err != nil {
				t.Fatalf("threshold signature [case %s]: %s: new instance for %s: %v", sc.property, sc, cfg.Self.Short(), err)
			}
			defer closeIfCloser(c)
			ts, ok := c.(interfaces.ThresholdSigner)
			if !ok {
				t.Fatalf("threshold signature [case %s]: %s: engine %s claims %q but its instances do not implement interfaces.ThresholdSigner", sc.property, sc, s.info.Name, interfaces.CapThresholdSignature)
			}
			signers[i] = ts
		}
		f := sc.f
		msg := []byte("conformance: a decided block's hash")
		shares := make([]interfaces.SignatureShare, n)
		for i, ts := range signers {
			sh, err := ts.SignShare(msg)
			if err != nil {
				t.Fatalf("threshold signature violated [case %s]: %s: member %d cannot sign a share: %v", sc.property, sc, i, err)
			}
			shares[i] = interfaces.SignatureShare{Member: r.Configs[i].Self, Share: sh}
			for j, other := range signers {
				if err := other.VerifyShare(shares[i].Member, msg, sh); err != nil {
					t.Fatalf("threshold signature violated [case %s]: %s: member %d refuses member %d's share: %v", sc.property, sc, j, i, err)
				}
			}
			if err := signers[(i+1)%n].VerifyShare(shares[i].Member, []byte("another message"), sh); err == nil && n > 1 {
				t.Errorf("threshold signature violated [case %s]: %s: member %d's share verifies on another message", sc.property, sc, i)
			}
		}
		first, err := signers[0].CombineShares(msg, shares[:f+1])
		if err != nil {
			t.Fatalf("threshold signature violated [case %s]: %s: %d shares do not combine: %v", sc.property, sc, f+1, err)
		}
		last, err := signers[n-1].CombineShares(msg, shares[n-f-1:])
		if err != nil {
			t.Fatalf("threshold signature violated [case %s]: %s: the last %d shares do not combine: %v", sc.property, sc, f+1, err)
		}
		if !bytes.Equal(first, last) {
			t.Errorf("threshold signature violated [case %s]: %s: two sets of %d shares combine into different signatures; a group signature must be unique", sc.property, sc, f+1)
		}
		for i, ts := range signers {
			if err := ts.VerifyGroupSignature(msg, first); err != nil {
				t.Errorf("threshold signature violated [case %s]: %s: member %d refuses the group signature: %v", sc.property, sc, i, err)
			}
			if err := ts.VerifyGroupSignature([]byte("another message"), first); err == nil {
				t.Errorf("threshold signature violated [case %s]: %s: member %d accepts the group signature on another message", sc.property, sc, i)
			}
		}
		if f > 0 {
			if _, err := signers[0].CombineShares(msg, shares[:f]); err == nil {
				t.Errorf("threshold signature violated [case %s]: %s: %d shares (f) made a group signature", sc.property, sc, f)
			}
		}
	})
}
