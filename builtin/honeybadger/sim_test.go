package honeybadger_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/constellation-chain/constellation/builtin/honeybadger"
	"github.com/constellation-chain/constellation/conformance/sim"
	"github.com/constellation-chain/constellation/interfaces"
)

// mutatorBehaviour adapts a honeybadger.Mutator to the simulator's
// Behaviour hook: every message the node's honest engine sends passes
// through the mutator, per recipient.
type mutatorBehaviour struct {
	sim.Honest
	name    string
	members []interfaces.StarID
	m       honeybadger.Mutator
}

func (b *mutatorBehaviour) Name() string { return b.name }

func (b *mutatorBehaviour) Output(_ *sim.Env, out []sim.Send) []sim.Send {
	var res []sim.Send
	for _, s := range out {
		for _, p := range b.m(b.members[s.To], s.Payload) {
			res = append(res, sim.Send{To: s.To, Payload: p, Delay: s.Delay})
		}
	}
	return res
}

// The format-aware Byzantine behaviours, run in the shared simulator with
// adversarial delays: honest members still agree and terminate, and report
// the fault the behaviour leaves.
func TestFormatAwareByzantineInSimulator(t *testing.T) {
	noSchedule := []byte(`{"coin_schedule": false}`)
	cases := []struct {
		name   string
		params []byte
		make   func(members []interfaces.StarID, seed uint64) honeybadger.Mutator
		want   interfaces.FaultKind
	}{
		{"invalid-coin-shares", noSchedule, func([]interfaces.StarID, uint64) honeybadger.Mutator { return honeybadger.InvalidCoinShares() }, interfaces.FaultInvalidShare},
		{"invalid-decryption-shares", nil, func([]interfaces.StarID, uint64) honeybadger.Mutator { return honeybadger.InvalidDecryptionShares() }, interfaces.FaultInvalidShare},
		{"rbc-equivocation", nil, func(ms []interfaces.StarID, seed uint64) honeybadger.Mutator {
			return honeybadger.RBCEquivocation(ms, 0, seed)
		}, interfaces.FaultEquivocation},
		{"corrupt-shards", nil, func([]interfaces.StarID, uint64) honeybadger.Mutator { return honeybadger.CorruptShards() }, interfaces.FaultInvalidMerkle},
	}
	for _, tc := range cases {
		for _, n := range []int{4, 7} {
			t.Run(fmt.Sprintf("%s/N=%d", tc.name, n), func(t *testing.T) {
				f := (n - 1) / 3
				members := sim.Members(n)
				behaviours := make([]sim.Behaviour, n)
				for i := range f {
					behaviours[1+2*i] = &mutatorBehaviour{name: tc.name, members: members, m: tc.make(members, uint64(i))}
				}
				res := sim.Run(sim.Config{
					Factory: honeybadger.Factory{},
					N:       n,
					Seed:    sim.SeedFromUint64(uint64(77 + n)),
					Epochs:  2,
					Contribution: func(node int, epoch uint64) []byte {
						return []byte(fmt.Sprintf("node %d epoch %d", node, epoch))
					},
					Params: tc.params,
					Delay: sim.LongTail{
						Base:     sim.Exponential{Min: sim.Millisecond, Mean: 10 * sim.Millisecond},
						Slow:     sim.Uniform{Min: 100 * sim.Millisecond, Max: sim.Second},
						SlowProb: 0.1,
					},
					Behaviours: behaviours,
				})
				if res.Reason != sim.Done {
					t.Fatalf("run ended with %q (%v %s)", res.Reason, res.Errors, res.Panic)
				}
				hon := res.Honest()
				ref := res.Nodes[hon[0]].Decisions
				reported := 0
				for _, i := range hon {
					d := res.Nodes[i].Decisions
					for e := range 2 {
						if len(d[e].Contributions) != len(ref[e].Contributions) {
							t.Fatalf("agreement: nodes %d and %d differ in epoch %d", hon[0], i, e)
						}
						for k := range d[e].Contributions {
							if !bytes.Equal(d[e].Contributions[k].Data, ref[e].Contributions[k].Data) {
								t.Fatalf("agreement: nodes %d and %d differ in epoch %d", hon[0], i, e)
							}
						}
						if len(d[e].Contributions) < n-f {
							t.Fatalf("validity: epoch %d has %d contributions", e, len(d[e].Contributions))
						}
					}
					for _, fr := range res.Nodes[i].Faults {
						j := res.IndexOf(fr.Fault.Star)
						if behaviours[j] == nil {
							t.Fatalf("node %d blamed honest node %d: %v", i, j, fr.Fault.Kind)
						}
						if fr.Fault.Kind == tc.want {
							reported++
						}
					}
				}
				if reported == 0 {
					t.Fatalf("no %v reported", tc.want)
				}
			})
		}
	}
}
