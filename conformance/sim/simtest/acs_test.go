package simtest_test

import (
	"fmt"
	"testing"

	"pgregory.net/rapid"

	"github.com/constellation-chain/constellation/conformance/sim"
	"github.com/constellation-chain/constellation/conformance/sim/simtest"
)

var behaviours = []func() sim.Behaviour{
	func() sim.Behaviour { return sim.Silent{} },
	func() sim.Behaviour { return sim.CrashAt(5) },
	func() sim.Behaviour { return sim.Garbage{} },
	func() sim.Behaviour { return sim.BitFlip{} },
	func() sim.Behaviour { return sim.Replay(sim.Second) },
	func() sim.Behaviour { return sim.Equivocate() },
	simtest.ACSFlipVotes,
}

// TestACSAgreementAndTerminationWithByzantineMembers is the reference
// engine's property: with up to f Byzantine members of any built-in kind
// and random delays and duplicates, every honest member decides the same
// epochs, each with at least N-f contributions, and honest proposers'
// contributions are decided unchanged.
func TestACSAgreementAndTerminationWithByzantineMembers(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 7).Draw(rt, "n")
		f := (n - 1) / 3
		c := sim.Config{
			Factory:    simtest.ACSFactory{},
			N:          n,
			Seed:       sim.SeedFromUint64(rapid.Uint64().Draw(rt, "seed")),
			FirstEpoch: 1,
			Epochs:     rapid.IntRange(1, 3).Draw(rt, "epochs"),
			Contribution: func(node int, epoch uint64) []byte {
				return []byte(fmt.Sprintf("node %d epoch %d", node, epoch))
			},
			Delay:         sim.Exponential{Min: sim.Millisecond, Mean: sim.Time(rapid.Int64Range(1, 50_000).Draw(rt, "mean"))},
			DuplicateProb: rapid.Float64Range(0, 0.3).Draw(rt, "dup"),
			Behaviours:    make([]sim.Behaviour, n),
		}
		for _, i := range rapid.SliceOfNDistinct(rapid.IntRange(0, n-1), 0, f, rapid.ID[int]).Draw(rt, "byzantine") {
			c.Behaviours[i] = behaviours[rapid.IntRange(0, len(behaviours)-1).Draw(rt, "behaviour")]()
		}
		r := sim.Run(c)
		if r.Reason != sim.Done {
			rt.Fatalf("run ended with %q after %d steps (panic %s)", r.Reason, r.Steps, r.Panic)
		}
		h := r.Honest()
		ref := r.Nodes[h[0]].Decisions
		for _, i := range h {
			for k, d := range r.Nodes[i].Decisions[:c.Epochs] {
				if len(d.Contributions) < n-f {
					rt.Fatalf("node %d epoch %d: %d contributions, want at least %d", i, d.Epoch, len(d.Contributions), n-f)
				}
				if !d.Equal(ref[k]) {
					rt.Fatalf("node %d and node %d disagree on epoch %d", i, h[0], d.Epoch)
				}
				for _, x := range d.Contributions {
					p := r.IndexOf(x.Proposer)
					if !r.Nodes[p].Byzantine && string(x.Data) != fmt.Sprintf("node %d epoch %d", p, d.Epoch) {
						rt.Fatalf("node %d epoch %d: honest node %d's contribution decided as %q", i, d.Epoch, p, x.Data)
					}
				}
			}
			for _, fr := range r.Nodes[i].Faults {
				if !r.Nodes[r.IndexOf(fr.Fault.Star)].Byzantine {
					rt.Fatalf("node %d blamed honest node %d (%s)", i, r.IndexOf(fr.Fault.Star), fr.Fault.Kind)
				}
			}
		}
	})
}

func BenchmarkACSSimulatedEpochN16(b *testing.B) {
	for i := 0; b.Loop(); i++ {
		r := sim.Run(sim.Config{
			Factory: simtest.ACSFactory{}, N: 16, Seed: sim.SeedFromUint64(uint64(i)), FirstEpoch: 1, Epochs: 1,
			Contribution: func(node int, epoch uint64) []byte { return make([]byte, 256) },
		})
		if r.Reason != sim.Done {
			b.Fatalf("run ended with %q", r.Reason)
		}
	}
}
