package node_test

import (
	"slices"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/interfaces"
)

// TestAClusterOverItsBoundSplitsAndTheNewOneRuns starts the two-cluster
// network with two seats per cluster, a bound of four candidates, rotation
// every 4 black holes, and four stars (p, q, r, s) with no genesis seat
// keeping cluster 0's chain. Once they stand, cluster 0 has six candidates,
// and a rotation beacon opens cluster 2 with three of them, none of
// cluster 0's seated delegates. Cluster 0's chain, claiming that beacon,
// generates cluster 2's first keys among the two drawn for it; the block
// after names them (BlockMeta.Founded). The three stars then move: their
// nodes reopen on cluster 2's chain, the two first members run its
// consensus with the keys they generated, and the galaxy finalizes its
// checkpoints under the founded key. The galaxy counts three clusters,
// later beacons draw for all three, and supply is conserved.
func TestAClusterOverItsBoundSplitsAndTheNewOneRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("runs key generations in a hierarchy")
	}
	cands := map[string]interfaces.ClusterID{"p": 0, "q": 0, "r": 0, "s": 0}
	tt := startTiersOpts(t, tiersOpts{members: tierMembers, every: 4, seats: 2, split: 4, candidates: cands})
	a := tt.node("a")
	waitFor2(t, 2*time.Minute, "the galaxy lists six candidates of cluster 0", func() bool {
		return len(a.Beaconer().Candidates(0)) == 6
	})
	var opening interfaces.Opening
	var firstSet []interfaces.StarID
	gx := a.GalaxyGroup()
	waitFor2(t, 2*time.Minute, "a beacon that opens cluster 2", func() bool {
		head, _ := gx.Head()
		for h := uint64(1); h <= head; h++ {
			b, err := gx.Block(h)
			if err != nil {
				return false
			}
			for _, tx := range b.Txs {
				if tx.Kind != interfaces.TxBeacon {
					continue
				}
				p, err := interfaces.DecodeBeaconPayload(tx.Payload)
				if err != nil {
					t.Fatal(err)
				}
				if len(p.Opens) == 0 {
					continue
				}
				opening = p.Opens[0]
				if len(p.Sets) != 3 || p.Sets[2].Cluster != 2 {
					t.Fatalf("the opening beacon publishes sets %v", p.Sets)
				}
				firstSet = p.Sets[2].Members
				return true
			}
		}
		return false
	})
	if opening.Parent != 0 || opening.Cluster != 2 || len(opening.Stars) != 3 {
		t.Fatalf("the beacon opens %+v, want three of cluster 0's candidates in cluster 2", opening)
	}
	for _, s := range opening.Stars {
		if s == interfaces.DevStar("a") || s == interfaces.DevStar("c") {
			t.Fatalf("seated delegate %s left cluster 0", s.Short())
		}
	}
	if len(firstSet) != 2 {
		t.Fatalf("cluster 2's first set is %v, want two of its stars", firstSet)
	}
	// Cluster 0's chain founds it.
	c0 := a.ClusterGroup()
	var founding interfaces.Founding
	waitFor2(t, 2*time.Minute, "cluster 0's chain founds cluster 2", func() bool {
		head, _ := c0.Head()
		for h := uint64(1); h <= head; h++ {
			if b, err := c0.Block(h); err == nil && len(b.Meta.Founded) > 0 {
				founding = b.Meta.Founded[0]
				return true
			}
		}
		return false
	})
	if founding.Cluster != 2 || !slices.Equal(founding.Members, firstSet) {
		t.Fatalf("cluster 0 founds %d with %v, the beacon drew %v", founding.Cluster, founding.Members, firstSet)
	}
	// The moved stars keep cluster 2's chain; its first members commit.
	names := map[interfaces.StarID]string{}
	for nm := range cands {
		names[interfaces.DevStar(nm)] = nm
	}
	waitFor2(t, 2*time.Minute, "the moved stars keep cluster 2's chain, and it grows", func() bool {
		for _, s := range opening.Stars {
			g := tt.node(names[s]).ClusterGroup()
			if g.Cluster() != 2 {
				return false
			}
			if h, _ := g.Head(); h < 3 {
				return false
			}
		}
		return true
	})
	mover := tt.node(names[firstSet[0]]).ClusterGroup()
	head, _ := mover.Head()
	for h := uint64(1); h <= head; h++ {
		b, err := mover.Block(h)
		if err != nil {
			t.Fatal(err)
		}
		if b.Header.Cluster != 2 {
			t.Fatalf("block %d of cluster 2's chain names cluster %d", h, b.Header.Cluster)
		}
		if h == 1 && !slices.Equal(b.Meta.Members, founding.Members) {
			t.Fatalf("cluster 2's first block is decided by %v, founded %v", b.Meta.Members, founding.Members)
		}
	}
	// The galaxy finalizes its checkpoints and draws for three clusters.
	waitFor2(t, 2*time.Minute, "the galaxy finalizes cluster 2's checkpoints", func() bool {
		fin, _ := a.Finalized(2)
		return fin >= 2
	})
	for _, nm := range []string{"a", "b"} {
		bc := tt.node(nm).Beaconer()
		if bc.Clusters() != 3 || !slices.Equal(bc.Candidates(2), opening.Stars) {
			t.Fatalf("galaxy member %s counts %d clusters, cluster 2's candidates %v", nm, bc.Clusters(), bc.Candidates(2))
		}
		if slices.ContainsFunc(bc.Candidates(0), func(s interfaces.StarID) bool { return slices.Contains(opening.Stars, s) }) {
			t.Fatalf("galaxy member %s still counts a moved star for cluster 0", nm)
		}
	}
	if ts, _ := tt.node(names[firstSet[0]]).Tiers(); ts.Cluster != 2 {
		t.Fatalf("a moved node reports cluster %d", ts.Cluster)
	}
	checkSupply(t, tt)
}
