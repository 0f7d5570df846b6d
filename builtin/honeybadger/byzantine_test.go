package honeybadger

import (
	"fmt"
	"testing"

	"pgregory.net/rapid"

	"github.com/constellation-chain/constellation/interfaces"
)

// Full HoneyBadger epochs with up to f Byzantine members; every case checks
// agreement, validity (≥ N−f contributions), termination and that no honest
// member is blamed, and the Byzantine ones the fault it must leave.

func noSchedule() Params {
	p := DefaultParams()
	p.CoinSchedule = false // every agreement round flips the threshold coin
	return p
}

func TestByzantineMembers(t *testing.T) {
	type setup func(net *testNet, byz []int)
	cases := []struct {
		name   string
		n      int
		p      Params
		epochs int
		seeds  int
		setup  setup
		want   interfaces.FaultKind // reported against every Byzantine node; 0 for none
	}{
		{"silent/N4/full", 4, DefaultParams(), 2, 2, func(net *testNet, byz []int) {
			for _, b := range byz {
				net.kind[b] = silent
			}
		}, 0},
		{"silent/N7/full-no-schedule", 7, noSchedule(), 1, 1, func(net *testNet, byz []int) {
			for _, b := range byz {
				net.kind[b] = silent
			}
		}, 0},
		{"rbc-equivocation/N4", 4, modeA(), 3, 4, func(net *testNet, byz []int) {
			for _, b := range byz {
				net.kind[b] = mutate
				net.mutators[b] = RBCEquivocation(net.members, 0, 7)
			}
		}, interfaces.FaultEquivocation},
		{"corrupt-shards/N7", 7, modeA(), 2, 2, func(net *testNet, byz []int) {
			for _, b := range byz {
				net.kind[b] = mutate
				net.mutators[b] = CorruptShards()
			}
		}, interfaces.FaultInvalidMerkle},
		{"invalid-coin-shares/N4", 4, noSchedule(), 2, 2, func(net *testNet, byz []int) {
			for _, b := range byz {
				net.kind[b] = mutate
				net.mutators[b] = InvalidCoinShares()
			}
		}, interfaces.FaultInvalidShare},
		{"invalid-decryption-shares/N4", 4, DefaultParams(), 2, 2, func(net *testNet, byz []int) {
			for _, b := range byz {
				net.kind[b] = mutate
				net.mutators[b] = InvalidDecryptionShares()
			}
		}, interfaces.FaultInvalidShare},
		{"double-votes/N4", 4, DefaultParams(), 2, 2, func(net *testNet, byz []int) {
			for _, b := range byz {
				net.kind[b] = mutate
				net.mutators[b] = DoubleVotes()
			}
		}, interfaces.FaultEquivocation},
		{"garbage/N4", 4, modeA(), 2, 2, func(net *testNet, byz []int) {
			for _, b := range byz {
				net.kind[b] = mutate
				net.mutators[b] = Garbage()
			}
		}, interfaces.FaultMalformed},
		{"replay/N4", 4, modeA(), 6, 2, func(net *testNet, byz []int) {
			for _, b := range byz {
				net.kind[b] = mutate
				net.mutators[b] = ReplayOld(2)
			}
		}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := (tc.n - 1) / 3
			for s := range tc.seeds {
				net := newTestNet(t, tc.n, uint64(100+s), tc.p)
				net.epochs = tc.epochs
				byz := make([]int, f)
				for i := range byz {
					byz[i] = (s + 2*i + 1) % tc.n
				}
				tc.setup(net, byz)
				net.run(1 << 22)
				net.checkAgreement()
				for _, b := range byz {
					t.Logf("seed %d: faults against Byzantine node %d: %v", s, b, net.faultKinds(b))
				}
				if tc.want != 0 {
					for _, b := range byz {
						if net.faultKinds(b)[tc.want] == 0 {
							t.Fatalf("seed %d: no %v reported against Byzantine node %d (got %v)", s, tc.want, b, net.faultKinds(b))
						}
					}
				}
				// What the engine reports with its evidence, its own
				// checker must accept: that is what lets a fault reach a
				// block. Two faults stay local by nature: decryption
				// shares need the agreed ciphertext to check, and a
				// proposer that sends different VALs to different members
				// is caught through other members' ECHOs, so no single
				// member holds two VALs signed by it.
				localOnly := tc.name == "invalid-decryption-shares/N4" || tc.name == "rbc-equivocation/N4"
				proven := net.provenKinds()
				for _, b := range byz {
					if tc.want != 0 && !localOnly && proven[b][tc.want] == 0 {
						t.Fatalf("seed %d: no %v against Byzantine node %d passes CheckFault (reported %v)", s, tc.want, b, net.faultKinds(b))
					}
				}
				for j, kinds := range proven {
					if net.kind[j] == honest && len(kinds) > 0 {
						t.Fatalf("seed %d: evidence against honest node %d passes CheckFault: %v", s, j, kinds)
					}
				}
			}
		})
	}
}

// A proposer that broadcasts something that is not a valid ciphertext is
// dropped by every honest member alike, and reported.
func TestUndecryptableProposalDroppedDeterministically(t *testing.T) {
	for _, n := range []int{4, 7} {
		net := newTestNet(t, n, 9, DefaultParams())
		net.epochs = 2
		net.kind[0] = mutate // Byzantine, but sends what its engine makes
		net.nodes[0].cs = nil
		net.run(1 << 22)
		net.checkAgreement()
		hon := net.honestNodes()
		for _, d := range net.decisions[hon[0]] {
			for _, c := range d.Contributions {
				if c.Proposer == net.members[0] {
					t.Fatalf("N=%d: epoch %d includes the undecryptable proposal", n, d.Epoch)
				}
			}
		}
		if net.faultKinds(0)[interfaces.FaultInvalidBlock] == 0 {
			t.Fatalf("N=%d: no FaultInvalidBlock against the proposer: %v", n, net.faultKinds(0))
		}
	}
}

// Property: for any seed, cluster size and assignment of up to f Byzantine
// members to any mix of the behaviours above, honest members agree, decide
// at least N−f contributions per epoch, terminate and never blame each
// other, not even with evidence their checker would accept (protocol-only
// mode, so many cases run quickly).
func TestAgreementUnderRandomByzantineMix(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.SampledFrom([]int{4, 5, 7}).Draw(rt, "n")
		f := (n - 1) / 3
		seed := rapid.Uint64().Draw(rt, "seed")
		net := newTestNet(rt, n, seed, modeA())
		net.epochs = 3
		byz := rapid.IntRange(0, f).Draw(rt, "byzantine")
		for k := range byz {
			i := (int(seed%uint64(n)) + k) % n
			switch rapid.IntRange(0, 6).Draw(rt, fmt.Sprintf("behaviour%d", k)) {
			case 0:
				net.kind[i] = silent
			case 1:
				net.kind[i], net.mutators[i] = mutate, RBCEquivocation(net.members, 0, seed)
			case 2:
				net.kind[i], net.mutators[i] = mutate, CorruptShards()
			case 3:
				net.kind[i], net.mutators[i] = mutate, Garbage()
			case 4:
				net.kind[i], net.mutators[i] = mutate, ReplayOld(1)
			case 5:
				net.kind[i], net.mutators[i] = mutate, Chain(RBCEquivocation(net.members, 0, seed), CorruptShards())
			case 6:
				net.kind[i], net.mutators[i] = mutate, DoubleVotes()
			}
		}
		net.run(1 << 22)
		net.checkAgreement()
		for j, kinds := range net.provenKinds() {
			if net.kind[j] == honest && len(kinds) > 0 {
				rt.Fatalf("evidence against honest node %d passes CheckFault: %v", j, kinds)
			}
		}
	})
}
