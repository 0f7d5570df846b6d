package honeybadger

import (
	"testing"
)

func TestEpochsAgreeUnderRandomOrder(t *testing.T) {
	for _, tc := range []struct {
		name   string
		n      int
		p      Params
		epochs int
		seeds  int
	}{
		{"N4/protocol-only", 4, modeA(), 5, 5},
		{"N7/protocol-only", 7, modeA(), 3, 3},
		{"N4/full", 4, DefaultParams(), 3, 2},
		{"N7/full", 7, DefaultParams(), 2, 1},
		{"N1/full", 1, DefaultParams(), 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for s := range tc.seeds {
				net := newTestNet(t, tc.n, uint64(s), tc.p)
				net.epochs = tc.epochs
				net.run(1 << 22)
				net.checkAgreement()
			}
		})
	}
}

// A host that proposes eagerly, ahead of decisions, gets its proposals
// pipelined: those beyond the window are held and broadcast when the window
// reaches them, and all epochs still agree.
func TestEagerProposalsArePipelined(t *testing.T) {
	p := modeA()
	p.MaxFutureEpochs = 2
	net := newTestNet(t, 4, 3, p)
	net.epochs = 4
	for i := range net.nodes {
		for range 4 {
			net.proposeNext(i)
		}
	}
	if _, err := net.nodes[0].Propose([]byte("too far")); err == nil {
		t.Fatal("proposal two windows ahead accepted")
	}
	net.run(1 << 22)
	net.checkAgreement()
}

// ACS outputs at least N−f contributions even when the scheduler holds back
// one honest proposer's broadcast until everything else is delivered; the
// held-back proposer's contribution may be left out, but all agree.
func TestACSOutputsAtLeastNMinusFWithSlowProposer(t *testing.T) {
	for _, n := range []int{4, 7} {
		for seed := range uint64(3) {
			net := newTestNet(t, n, seed, modeA())
			net.epochs = 2
			net.priority = func(q []packet) int {
				start := net.rng.IntN(len(q))
				for k := range q {
					i := (start + k) % len(q)
					if q[i].from != 0 || q[i].payload[1] != byte(MsgVal) {
						return i
					}
				}
				return -1
			}
			net.run(1 << 22)
			net.checkAgreement()
		}
	}
}
