package partsim_test

import (
	"math"
	"testing"

	"github.com/constellation-chain/constellation/builtin/lsh"
	"github.com/constellation-chain/constellation/conformance/partsim"
	"github.com/constellation-chain/constellation/interfaces"
)

func workload(seed uint64) partsim.Workload {
	return partsim.Workload{Accounts: 20000, Communities: 128, Transfers: 100000, Zipf: 0.8, Intra: 0.9, Seed: seed}
}

// TestHashPlacementCrossesOneMinusOneOverK is the baseline's target: on a
// workload with strong community structure, rendezvous placement still
// sends 1 − 1/k of transfers across clusters, within 2 points, for k = 4
// and 16.
func TestHashPlacementCrossesOneMinusOneOverK(t *testing.T) {
	g, err := partsim.Generate(workload(1))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []int{4, 16} {
		p, err := lsh.Factory{}.NewPartitioner(k, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, want := partsim.CrossShare(p, g), 1-1/float64(k)
		t.Logf("k=%d: %.2f%% of transfers cross clusters (1 - 1/k = %.2f%%)", k, 100*got, 100*want)
		if math.Abs(got-want) > 0.02 {
			t.Fatalf("k=%d: cross-cluster share %.3f, want %.3f ± 0.02", k, got, want)
		}
	}
}

// TestTheWorkloadHasCommunities: the generator plants what it says — most
// transfers stay in their community, and activity is skewed.
func TestTheWorkloadHasCommunities(t *testing.T) {
	g, err := partsim.Generate(workload(2))
	if err != nil {
		t.Fatal(err)
	}
	intra := 0
	sent := map[int]int{}
	for _, tr := range g.Transfers {
		if g.Community[tr.From] == g.Community[tr.To] {
			intra++
		}
		sent[tr.From]++
	}
	if share := float64(intra) / float64(len(g.Transfers)); share < 0.85 {
		t.Fatalf("%.2f of transfers stay in their community, want about 0.9", share)
	}
	busiest := 0
	for _, n := range sent {
		busiest = max(busiest, n)
	}
	if busiest < len(g.Transfers)/50 {
		t.Fatalf("the busiest account sent %d of %d transfers: activity is not skewed", busiest, len(g.Transfers))
	}
	again, _ := partsim.Generate(workload(2))
	for i := range g.Transfers {
		if g.Transfers[i] != again.Transfers[i] {
			t.Fatal("the same seed generated another workload")
		}
	}
}

func TestBadWorkloadsAreRefused(t *testing.T) {
	for _, w := range []partsim.Workload{
		{Accounts: 1, Communities: 1, Transfers: 1, Zipf: 1.5},
		{Accounts: 10, Communities: 11, Transfers: 1, Zipf: 1.5},
		{Accounts: 10, Communities: 2, Transfers: 0, Zipf: 1.5},
		{Accounts: 10, Communities: 2, Transfers: 5, Zipf: 0},
		{Accounts: 10, Communities: 2, Transfers: 5, Zipf: 1.5, Intra: 2},
	} {
		if _, err := partsim.Generate(w); err == nil {
			t.Errorf("workload %+v accepted", w)
		}
	}
}

// TestLocalityPlacementCutsCrossClusterTransfers is the locality target.
// The second half of the workload is placed in five windows; before each,
// the learner has seen every earlier transfer and relabels under one
// beacon (one placement era). At k = 16 at most 20 % of the second half's
// transfers cross clusters (hash placement: 1 − 1/k = 93.75 %), without
// piling the load on one cluster.
func TestLocalityPlacementCutsCrossClusterTransfers(t *testing.T) {
	g, err := partsim.Generate(workload(2))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []int{4, 16} {
		got, moved := partsim.Learned(lsh.NewLocality(k, 10), g, 5, interfaces.Sum([]byte("beacon")))
		base, _ := lsh.Factory{}.NewPartitioner(k, nil)
		hash := partsim.Place(base, g, len(g.Transfers)/2, len(g.Transfers))
		t.Logf("k=%d: locality %.2f%% cross (busiest cluster %.2f× the mean; %d account moves between windows), hash %.2f%% (%.2f×)", k, 100*got.Cross, got.Imbalance, moved, 100*hash.Cross, hash.Imbalance)
		if k == 16 && got.Cross > 0.20 {
			t.Fatalf("k=16: locality placement crosses %.3f, want at most 0.20", got.Cross)
		}
		if got.Cross >= hash.Cross {
			t.Fatalf("k=%d: locality %.3f is no better than hash %.3f", k, got.Cross, hash.Cross)
		}
		if got.Imbalance > 2.5 {
			t.Fatalf("k=%d: the busiest cluster carries %.2f× the mean load", k, got.Imbalance)
		}
	}
}

// TestDeployedLocalityPlacement measures placement as a network runs it:
// the lsh partitioner's learner, fed only blocks' edge samples (at most
// interfaces.MaxEdges transfers of each block), accounts placed where it
// wants them and otherwise where hash placement put them. With blocks of
// 32 transfers the galaxy sees every transfer; with blocks of 320 it sees
// one in ten and needs ten times the history (1M transfers) to place as
// well. Both stay at or under 20 % at k = 16. With blocks of 1000 (one in
// 31 sampled) it is logged, not held to the target.
func TestDeployedLocalityPlacement(t *testing.T) {
	short, err := partsim.Generate(workload(2))
	if err != nil {
		t.Fatal(err)
	}
	w := workload(2)
	w.Transfers = 1_000_000
	long, err := partsim.Generate(w)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		g      *partsim.Generated
		per    int
		target bool
	}{{short, interfaces.MaxEdges, true}, {long, 320, true}, {long, 1000, false}} {
		p, err := lsh.Factory{}.NewPartitioner(16, []byte(`{"placement":"locality","relabel_every":1}`))
		if err != nil {
			t.Fatal(err)
		}
		l := p.(interface {
			Learner() interfaces.PlacementLearner
		}).Learner()
		got, moved := partsim.Deployed(l, p, c.g, c.per, 5, interfaces.Sum([]byte("beacon")))
		t.Logf("k=16, %d transfers, blocks of %d (%d sampled): %.2f%% cross (busiest cluster %.2f× the mean; %d moves)", len(c.g.Transfers), c.per, interfaces.MaxEdges, 100*got.Cross, got.Imbalance, moved)
		if c.target && got.Cross > 0.20 {
			t.Fatalf("blocks of %d: deployed locality placement crosses %.3f, want at most 0.20", c.per, got.Cross)
		}
		if got.Cross >= 0.9375 {
			t.Fatalf("blocks of %d: no better than hash placement (%.3f)", c.per, got.Cross)
		}
		if got.Imbalance > 2.5 {
			t.Fatalf("blocks of %d: the busiest cluster carries %.2f× the mean load", c.per, got.Imbalance)
		}
	}
}
