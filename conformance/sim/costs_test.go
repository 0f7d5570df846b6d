package sim_test

import (
	"math/rand/v2"
	"testing"

	"github.com/constellation-chain/constellation/conformance/sim"
)

// recordingCosts charges every call the same work and every message the
// same wire time, and records the calls it saw.
type recordingCosts struct {
	work, wire sim.Time
	calls      []sim.Call
}

func (c *recordingCosts) Work(call sim.Call) sim.Time {
	call.Payload = nil // the simulator owns it; the checks read only Node and At
	c.calls = append(c.calls, call)
	return c.work
}

func (c *recordingCosts) Wire(_, _, _ int, _ sim.Time, _ *rand.Rand) sim.Time { return c.wire }

// A node under a cost model is one server: its calls never overlap, each
// starts no earlier than the previous one's work ended, and the run is
// still a function of its seed.
func TestCostsMakeEachNodeASingleServer(t *testing.T) {
	run := func() (*sim.Result, *recordingCosts) {
		costs := &recordingCosts{work: 3 * sim.Millisecond, wire: sim.Millisecond}
		c := baseConfig(4, 9)
		c.Costs = costs
		return sim.Run(c), costs
	}
	r, costs := run()
	requireDone(t, r)
	honestAgree(t, r)
	last := map[int]sim.Time{}
	seen := map[int]bool{}
	for _, call := range costs.calls {
		if seen[call.Node] && call.At < last[call.Node]+costs.work {
			t.Fatalf("node %d started a call at %v, before its previous one ended at %v", call.Node, call.At, last[call.Node]+costs.work)
		}
		seen[call.Node], last[call.Node] = true, call.At
	}
	// Each decision is recorded when the work of the call that made it ends.
	for i, n := range r.Nodes {
		for _, at := range n.DecidedAt {
			if at < costs.work+costs.wire {
				t.Fatalf("node %d decided at %v, before one call and one message could be done", i, at)
			}
		}
	}
	r2, _ := run()
	if r.Digest != r2.Digest {
		t.Fatal("the same config with costs gave two different runs")
	}
	// Without costs the same config is untouched by the option.
	plain := sim.Run(baseConfig(4, 9))
	requireDone(t, plain)
	if plain.Digest == r.Digest {
		t.Fatal("charging costs changed nothing in the run")
	}
	if again := sim.Run(baseConfig(4, 9)); again.Digest != plain.Digest {
		t.Fatal("a run without costs is no longer deterministic")
	}
}

// ProposeAfterDecide gives a node its contribution for an epoch only after
// it decided the one before, and ContributionAt is told when.
func TestProposeAfterDecideOpensOneProposalAtATime(t *testing.T) {
	type pick struct {
		epoch uint64
		at    sim.Time
	}
	picks := map[int][]pick{}
	c := baseConfig(4, 3)
	c.Contribution = nil
	c.ContributionAt = func(node int, epoch uint64, at sim.Time) []byte {
		picks[node] = append(picks[node], pick{epoch, at})
		return contribution(node, epoch)
	}
	c.ProposeAfterDecide = true
	c.Costs = &recordingCosts{work: sim.Millisecond, wire: 2 * sim.Millisecond}
	r := sim.Run(c)
	requireDone(t, r)
	honestAgree(t, r)
	for node, ps := range picks {
		for _, p := range ps {
			k := int(p.epoch - c.FirstEpoch)
			if k == 0 {
				continue
			}
			decided := r.Nodes[node].DecidedAt
			if k > len(decided) || p.at < decided[k-1] {
				t.Fatalf("node %d was asked for epoch %d at %v, before it decided epoch %d", node, p.epoch, p.at, p.epoch-1)
			}
		}
	}
}
