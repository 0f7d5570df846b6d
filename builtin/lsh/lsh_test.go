package lsh

import (
	"encoding/binary"
	"fmt"
	"math"
	"testing"

	"github.com/constellation-chain/constellation/conformance"
	"github.com/constellation-chain/constellation/interfaces"
)

func star(i int) interfaces.StarID {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(i))
	return interfaces.StarID(interfaces.DomainSum("lsh-test", b[:]))
}

func TestConformance(t *testing.T) { conformance.RunPartitioner(t, Factory{}) }

// TestPlacementIsUniform: 20,000 senders over 16 clusters; every cluster's
// share is within 5 standard deviations of 1/16 (a fixed sample, so the
// test is deterministic).
func TestPlacementIsUniform(t *testing.T) {
	const n, k = 20000, 16
	p, _ := Factory{}.NewPartitioner(k, nil)
	counts := make([]int, k)
	for i := 0; i < n; i++ {
		counts[p.(*Partitioner).Owner(star(i))]++
	}
	mean := float64(n) / k
	sd := math.Sqrt(n * (1.0 / k) * (1 - 1.0/k))
	for c, got := range counts {
		if math.Abs(float64(got)-mean) > 5*sd {
			t.Fatalf("cluster %d owns %d senders, expected %.0f ± %.0f", c, got, mean, 5*sd)
		}
	}
}

// TestAddingAClusterMovesOnlyWhatItWins: going from k to k+1 clusters,
// every sender either stays or moves to the new cluster, and about 1/(k+1)
// of them move.
func TestAddingAClusterMovesOnlyWhatItWins(t *testing.T) {
	const n, k = 10000, 8
	a, _ := Factory{}.NewPartitioner(k, nil)
	b, _ := Factory{}.NewPartitioner(k+1, nil)
	moved := 0
	for i := 0; i < n; i++ {
		s := star(i)
		from, to := a.(*Partitioner).Owner(s), b.(*Partitioner).Owner(s)
		if from != to {
			if int(to) != k {
				t.Fatalf("sender %d moved from %d to %d, not to the new cluster", i, from, to)
			}
			moved++
		}
	}
	if share := float64(moved) / n; math.Abs(share-1.0/(k+1)) > 0.02 {
		t.Fatalf("%.3f of senders moved, want about %.3f", share, 1.0/(k+1))
	}
}

func TestConfigIsRefused(t *testing.T) {
	if _, err := (Factory{}).NewPartitioner(4, []byte(`{"locality": true}`)); err == nil {
		t.Fatal("a config the partitioner does not read was accepted")
	}
	if _, err := (Factory{}).NewPartitioner(0, nil); err == nil {
		t.Fatal("zero clusters accepted")
	}
}

// TestOpeningAClusterMovesCommunitiesOnlyIntoIt: forty two-account
// communities placed in two clusters; told of a third, the learner moves
// some communities into it at the next relabelling under the same key, and
// none between the first two.
func TestOpeningAClusterMovesCommunitiesOnlyIntoIt(t *testing.T) {
	l := NewLocality(2, 5)
	var stars []interfaces.StarID
	for i := range 40 {
		a, b := interfaces.DevStar(fmt.Sprintf("x%d", i)), interfaces.DevStar(fmt.Sprintf("y%d", i))
		for range 3 {
			l.LearnEdges([]interfaces.Edge{{From: a, To: b}})
		}
		stars = append(stars, a, b)
	}
	key := interfaces.Hash{9}
	l.Relabel(key)
	before := map[interfaces.StarID]interfaces.ClusterID{}
	l.Placed(func(s interfaces.StarID, c interfaces.ClusterID) { before[s] = c })
	if len(before) != len(stars) {
		t.Fatalf("%d of %d accounts placed", len(before), len(stars))
	}
	l.SetClusters(3)
	l.Relabel(key)
	moved := 0
	l.Placed(func(s interfaces.StarID, c interfaces.ClusterID) {
		switch {
		case c == before[s]:
		case c == 2:
			moved++
		default:
			t.Fatalf("%s moved from cluster %d to %d, not to the new one", s.Short(), before[s], c)
		}
	})
	if moved == 0 || moved == len(stars) {
		t.Fatalf("%d of %d accounts moved to the new cluster", moved, len(stars))
	}
}

// TestEveryClusterReceivesACommunity: two communities learned under one
// cluster, then a second cluster opened, under 32 keys. Rendezvous hashing alone lands both in one cluster for
// about half the keys; the learner moves one of them into the empty
// cluster, the one that ranks it higher, and is the same on a replay.
func TestEveryClusterReceivesACommunity(t *testing.T) {
	for k := range 32 {
		l := NewLocality(1, 5)
		for g := range 2 {
			var prev interfaces.StarID
			for i := range 6 {
				s := interfaces.DevStar(fmt.Sprintf("g%d-%d", g, i))
				if i > 0 {
					for range 3 {
						l.LearnEdges([]interfaces.Edge{{From: prev, To: s}})
					}
				}
				prev = s
			}
		}
		key := interfaces.Hash{byte(k), 7}
		l.Relabel(key) // learned under one cluster, as before an opening
		l.SetClusters(2)
		l.Relabel(key)
		if n := l.Labels(); n != 2 {
			t.Fatalf("key %d: %d communities, want 2", k, n)
		}
		got := map[interfaces.ClusterID]int{}
		l.Placed(func(_ interfaces.StarID, c interfaces.ClusterID) { got[c]++ })
		if got[0] != 6 || got[1] != 6 {
			t.Fatalf("key %d: clusters hold %v accounts, want 6 and 6", k, got)
		}
	}
}

// TestNoCommunityOutgrowsTheCap: eight groups of eight accounts, each
// account also paying every account of the next group nearly as often as
// its own, which lets label propagation run one label over every account.
// Under a cap of half a cluster's share, at least two communities remain
// for one cluster and four for two, so an opened cluster can receive one.
func TestNoCommunityOutgrowsTheCap(t *testing.T) {
	for _, k := range []int{1, 2} {
		l := NewLocality(k, 10)
		star := func(g, i int) interfaces.StarID { return interfaces.DevStar(fmt.Sprintf("cap%d-%d", g, i)) }
		for g := range 8 {
			for i := range 8 {
				for j := range 8 {
					if i != j {
						l.LearnEdges([]interfaces.Edge{{From: star(g, i), To: star(g, j)}, {From: star(g, i), To: star(g, j)}})
					}
					l.LearnEdges([]interfaces.Edge{{From: star(g, i), To: star((g+1)%8, j)}, {From: star(g, i), To: star((g+1)%8, j)}})
				}
			}
		}
		l.Relabel(interfaces.Hash{5})
		sizes := l.LabelSizes()
		if len(sizes) < 2*k || sizes[0] > 64/(2*k) {
			t.Fatalf("k=%d: communities of sizes %v, want %d or more of at most %d", k, sizes, 2*k, 64/(2*k))
		}
	}
}
