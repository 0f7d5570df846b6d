package sim_test

import (
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/constellation-chain/constellation/conformance/sim"
	"github.com/constellation-chain/constellation/conformance/sim/simtest"
	"github.com/constellation-chain/constellation/interfaces"
)

func contribution(node int, epoch uint64) []byte {
	return []byte(fmt.Sprintf("node %d epoch %d", node, epoch))
}

func baseConfig(n int, seed uint64) sim.Config {
	return sim.Config{
		Factory:      simtest.AllcastFactory{},
		N:            n,
		Seed:         sim.SeedFromUint64(seed),
		FirstEpoch:   1,
		Epochs:       4,
		Contribution: contribution,
		Delay:        sim.Uniform{Min: sim.Millisecond, Max: 20 * sim.Millisecond},
	}
}

// honestAgree fails the test unless every honest node decided the same
// sequence as the first honest node, up to the shorter of the two.
func honestAgree(t *testing.T, r *sim.Result) {
	t.Helper()
	h := r.Honest()
	if len(h) == 0 {
		return
	}
	ref := r.Nodes[h[0]].Decisions
	for _, i := range h[1:] {
		got := r.Nodes[i].Decisions
		for k := 0; k < min(len(ref), len(got)); k++ {
			if !ref[k].Equal(got[k]) {
				t.Fatalf("node %d and node %d disagree on decision %d (epoch %d vs %d)", h[0], i, k, ref[k].Epoch, got[k].Epoch)
			}
		}
	}
}

func requireDone(t *testing.T, r *sim.Result) {
	t.Helper()
	if r.Reason != sim.Done {
		t.Fatalf("run ended with %q after %d steps at %v (err %v, panic %s)", r.Reason, r.Steps, r.Time, r.Err, r.Panic)
	}
}

func TestSameSeedGivesSameRunBitForBit(t *testing.T) {
	mk := func() sim.Config {
		c := baseConfig(5, 7)
		c.DuplicateProb = 0.2
		c.Partitions = []sim.Partition{{Isolated: []int{1, 3}, Start: 5 * sim.Millisecond, Heal: 80 * sim.Millisecond}}
		c.Crashes = []sim.Crash{{Node: 2, AfterSteps: 6, Downtime: 30 * sim.Millisecond}}
		return c
	}
	a, b := sim.Run(mk()), sim.Run(mk())
	requireDone(t, a)
	if a.Digest != b.Digest || a.Steps != b.Steps || a.Time != b.Time {
		t.Fatalf("two runs with one seed differ: digest %s/%s, steps %d/%d, time %v/%v", a.Digest.Short(), b.Digest.Short(), a.Steps, b.Steps, a.Time, b.Time)
	}
}

func TestDifferentSeedsGiveDifferentRuns(t *testing.T) {
	seen := map[interfaces.Hash]uint64{}
	for seed := range uint64(8) {
		r := sim.Run(baseConfig(4, seed))
		requireDone(t, r)
		if prev, ok := seen[r.Digest]; ok {
			t.Fatalf("seeds %d and %d gave the same digest %s", prev, seed, r.Digest.Short())
		}
		seen[r.Digest] = seed
	}
}

func TestAdversarialScheduleStillDeliversEverything(t *testing.T) {
	c := baseConfig(7, 3)
	c.Delay = sim.LongTail{Base: sim.Exponential{Min: sim.Millisecond, Mean: 5 * sim.Millisecond}, Slow: sim.Uniform{Min: 200 * sim.Millisecond, Max: 2 * sim.Second}, SlowProb: 0.1}
	c.DuplicateProb = 0.3
	c.Partitions = []sim.Partition{{Isolated: []int{0, 1, 2}, Start: 0, Heal: 500 * sim.Millisecond}}
	r := sim.Run(c)
	requireDone(t, r)
	honestAgree(t, r)
}

func TestPartitionHoldsMessagesUntilItHeals(t *testing.T) {
	c := baseConfig(4, 11)
	heal := 3 * sim.Second
	c.Partitions = []sim.Partition{{Isolated: []int{2}, Start: 0, Heal: heal}}
	r := sim.Run(c)
	requireDone(t, r)
	// Allcast needs every member, so nothing can be decided before healing.
	for i, n := range r.Nodes {
		if n.DecidedAt[0] < heal {
			t.Fatalf("node %d decided epoch %d at %v, before the partition healed at %v", i, n.Decisions[0].Epoch, n.DecidedAt[0], heal)
		}
	}
}

func TestCrashRestartReplaysTheLogWithoutResending(t *testing.T) {
	c := baseConfig(4, 5)
	c.Crashes = []sim.Crash{{Node: 1, AfterSteps: 5, Downtime: 100 * sim.Millisecond}, {Node: 3, At: 30 * sim.Millisecond, Downtime: 50 * sim.Millisecond}}
	r := sim.Run(c)
	requireDone(t, r)
	honestAgree(t, r)
	if r.Nodes[1].Restarts != 1 || r.Nodes[3].Restarts != 1 {
		t.Fatalf("restarts: node 1 %d, node 3 %d, want 1 each", r.Nodes[1].Restarts, r.Nodes[3].Restarts)
	}
	if len(r.Divergences) > 0 {
		t.Fatalf("deterministic engine diverged on replay: %+v", r.Divergences)
	}
	// Each member broadcasts once per epoch; a replay that re-sent would show.
	want := c.Epochs * (c.N - 1)
	for i, n := range r.Nodes {
		if n.Sent != want {
			t.Fatalf("node %d sent %d messages, want %d (one broadcast per epoch)", i, n.Sent, want)
		}
		for k, d := range n.Decisions {
			if d.Epoch != c.FirstEpoch+uint64(k) {
				t.Fatalf("node %d decision %d is epoch %d, want %d (replayed decisions must not repeat)", i, k, d.Epoch, c.FirstEpoch+uint64(k))
			}
		}
	}
}

// counterFactory builds Allcast engines whose messages carry a counter
// shared by all instances: a deliberately non-deterministic engine.
type counterFactory struct {
	simtest.AllcastFactory
	counter *int
}

type counterEngine struct {
	*simtest.Allcast
	counter *int
}

func (f counterFactory) NewConsensus(cfg interfaces.ConsensusConfig) (interfaces.Consensus, error) {
	a, err := simtest.NewAllcast(cfg)
	return &counterEngine{a, f.counter}, err
}

func (e *counterEngine) Step(from interfaces.StarID, p []byte) (interfaces.Output, error) {
	out, err := e.Allcast.Step(from, p)
	*e.counter++
	out.Faults = append(out.Faults, interfaces.Fault{Star: from, Epoch: uint64(*e.counter)})
	return out, err
}

func TestReplayDivergenceIsDetected(t *testing.T) {
	c := baseConfig(4, 2)
	c.Factory = counterFactory{counter: new(int)}
	c.Crashes = []sim.Crash{{Node: 0, AfterSteps: 4, Downtime: 10 * sim.Millisecond}}
	r := sim.Run(c)
	if len(r.Divergences) == 0 {
		t.Fatal("an engine with hidden shared state replayed without any divergence being recorded")
	}
}

// scribbleFactory builds engines that overwrite every payload they are
// given after using it, as a careless engine might reuse a buffer.
type scribbleFactory struct{ simtest.AllcastFactory }

type scribbler struct{ *simtest.Allcast }

func (scribbleFactory) NewConsensus(cfg interfaces.ConsensusConfig) (interfaces.Consensus, error) {
	a, err := simtest.NewAllcast(cfg)
	return scribbler{a}, err
}

func (s scribbler) Step(from interfaces.StarID, p []byte) (interfaces.Output, error) {
	out, err := s.Allcast.Step(from, p)
	for i := range p {
		p[i] = 0xAA
	}
	return out, err
}

func TestPayloadsAreCopiedBetweenStateMachines(t *testing.T) {
	c := baseConfig(4, 9)
	c.Factory = scribbleFactory{}
	c.DuplicateProb = 1
	r := sim.Run(c)
	requireDone(t, r)
	honestAgree(t, r)
	for i, n := range r.Nodes {
		if len(n.Faults) > 0 {
			t.Fatalf("node %d saw a fault (%s): a scribbled buffer reached another machine", i, n.Faults[0].Fault.Kind)
		}
	}
}

func TestLimitsAreReported(t *testing.T) {
	c := baseConfig(4, 1)
	c.MaxSteps = 10
	if r := sim.Run(c); r.Reason != sim.StepLimit || r.Steps != 10 {
		t.Fatalf("step-limited run: reason %q steps %d", r.Reason, r.Steps)
	}
	c = baseConfig(4, 1)
	c.MaxTime = 2 * sim.Millisecond
	if r := sim.Run(c); r.Reason != sim.TimeLimit {
		t.Fatalf("time-limited run: reason %q at %v", r.Reason, r.Time)
	}
	c = baseConfig(4, 1)
	c.Behaviours = make([]sim.Behaviour, 4)
	c.Behaviours[0] = sim.Silent{}
	if r := sim.Run(c); r.Reason != sim.Stalled {
		t.Fatalf("allcast with a silent member: reason %q, want stalled", r.Reason)
	}
}

func TestBadConfigFailsSetup(t *testing.T) {
	for name, mut := range map[string]func(*sim.Config){
		"no factory": func(c *sim.Config) { c.Factory = nil },
		"zero nodes": func(c *sim.Config) { c.N = 0 },
		"partition never heals": func(c *sim.Config) {
			c.Partitions = []sim.Partition{{Isolated: []int{0}, Start: 5, Heal: 5}}
		},
		"crash without restart": func(c *sim.Config) { c.Crashes = []sim.Crash{{Node: 0, At: 5}} },
		"bad probability":       func(c *sim.Config) { c.DuplicateProb = 2 },
	} {
		c := baseConfig(4, 1)
		mut(&c)
		if r := sim.Run(c); r.Reason != sim.SetupFailed || r.Err == nil {
			t.Errorf("%s: reason %q err %v, want setup failure", name, r.Reason, r.Err)
		}
	}
}

func TestBehavioursOnlyImplicateTheByzantineNode(t *testing.T) {
	for _, b := range []func() sim.Behaviour{
		func() sim.Behaviour { return sim.Garbage{} },
		func() sim.Behaviour { return sim.BitFlip{} },
		func() sim.Behaviour { return sim.Replay(time500ms) },
		func() sim.Behaviour { return sim.Equivocate() },
		func() sim.Behaviour { return sim.CrashAt(3) },
	} {
		beh := b()
		t.Run(beh.Name(), func(t *testing.T) {
			c := baseConfig(4, 4)
			c.Behaviours = make([]sim.Behaviour, 4)
			c.Behaviours[3] = beh
			r := sim.Run(c)
			if r.Reason == sim.Panicked {
				t.Fatalf("engine panicked: %s", r.Panic)
			}
			faults := 0
			for _, i := range r.Honest() {
				for _, f := range r.Nodes[i].Faults {
					faults++
					if j := r.IndexOf(f.Fault.Star); j != 3 {
						t.Fatalf("node %d blamed node %d (%s) under %s", i, j, f.Fault.Kind, beh.Name())
					}
				}
			}
			switch beh.Name() {
			case "garbage", "bitflip":
				if faults == 0 {
					t.Fatalf("%s produced no fault at any honest node", beh.Name())
				}
			case "replay":
				requireDone(t, r)
				honestAgree(t, r)
				if r.Nodes[3].Sent <= c.Epochs*(c.N-1) {
					t.Fatalf("replay node sent %d messages, no more than an honest node", r.Nodes[3].Sent)
				}
			case "equivocate":
				// Allcast is not fault tolerant: the two halves must see
				// different contributions from node 3, which shows the
				// behaviour really equivocates.
				if !strings.Contains(fmt.Sprint(decided(r, 2)), "/equivocation") || strings.Contains(fmt.Sprint(decided(r, 0)), "/equivocation") {
					t.Fatalf("node 0 decided %q, node 2 decided %q: no equivocation visible", decided(r, 0), decided(r, 2))
				}
			}
		})
	}
}

const time500ms = 500 * sim.Millisecond

func decided(r *sim.Result, node int) []string {
	var out []string
	for _, d := range r.Nodes[node].Decisions {
		for _, c := range d.Contributions {
			out = append(out, string(c.Data))
		}
	}
	return out
}

// TestRunsAreDeterministicAndLive is the simulator's property: for any
// network parameters, Allcast with all members honest finishes, every node
// decides the same sequence, and rerunning the same config gives the same
// digest.
func TestRunsAreDeterministicAndLive(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 7).Draw(rt, "n")
		c := baseConfig(n, rapid.Uint64().Draw(rt, "seed"))
		c.Epochs = rapid.IntRange(1, 4).Draw(rt, "epochs")
		c.Delay = sim.Exponential{Min: 0, Mean: sim.Time(rapid.Int64Range(0, 50_000).Draw(rt, "mean"))}
		c.DuplicateProb = rapid.Float64Range(0, 0.5).Draw(rt, "dup")
		if rapid.Bool().Draw(rt, "partition") {
			start := sim.Time(rapid.Int64Range(0, 100_000).Draw(rt, "start"))
			c.Partitions = []sim.Partition{{
				Isolated: []int{rapid.IntRange(0, n-1).Draw(rt, "isolated")},
				Start:    start,
				Heal:     start + 1 + sim.Time(rapid.Int64Range(0, 1_000_000).Draw(rt, "length")),
			}}
		}
		if rapid.Bool().Draw(rt, "crash") {
			c.Crashes = []sim.Crash{{Node: rapid.IntRange(0, n-1).Draw(rt, "crashed"), AfterSteps: rapid.IntRange(1, 10).Draw(rt, "steps"), Downtime: 1 + sim.Time(rapid.Int64Range(0, 100_000).Draw(rt, "down"))}}
		}
		a, b := sim.Run(c), sim.Run(c)
		if a.Reason != sim.Done {
			rt.Fatalf("run ended with %q", a.Reason)
		}
		if a.Digest != b.Digest {
			rt.Fatalf("same config, digests %s and %s", a.Digest.Short(), b.Digest.Short())
		}
		if len(a.Divergences) > 0 {
			rt.Fatalf("replay diverged: %+v", a.Divergences)
		}
		ref := a.Nodes[0].Decisions
		for i, nd := range a.Nodes {
			if len(nd.Decisions) < c.Epochs {
				rt.Fatalf("node %d decided %d epochs", i, len(nd.Decisions))
			}
			for k := range c.Epochs {
				if !ref[k].Equal(nd.Decisions[k]) {
					rt.Fatalf("node %d disagrees with node 0 at decision %d", i, k)
				}
			}
		}
	})
}

func BenchmarkAllcastN16(b *testing.B) {
	for i := 0; b.Loop(); i++ {
		c := baseConfig(16, uint64(i))
		c.Epochs = 10
		if r := sim.Run(c); r.Reason != sim.Done {
			b.Fatalf("run ended with %q", r.Reason)
		}
	}
}
