package node_test

import (
	"testing"

	"github.com/constellation-chain/constellation/interfaces"
)

// TestClustersRotateAndTheGalaxyFollowsTheirKeys runs the two-cluster
// network with rotation every 2 black holes: each cluster claims the
// beacons, its drawn delegates generate new keys through its own chain and
// hand over, and the galaxy keeps finalizing its checkpoints under the
// handed-over keys; a transfer across clusters after the rotations is
// still credited exactly once.
func TestClustersRotateAndTheGalaxyFollowsTheirKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("runs key generations in a hierarchy")
	}
	tt := startTiersRotating(t, tierMembers, nil, 4)
	// The height of each cluster's second handover, once there is one.
	second := func(n string) uint64 {
		g := tt.nodes[n].ClusterGroup()
		head, _ := g.Head()
		count := 0
		for h := uint64(1); h <= head; h++ {
			if b, err := g.Block(h); err == nil && b.Meta.Handover != nil {
				if count++; count == 2 {
					return h
				}
			}
		}
		return 0
	}
	waitFor(t, "two handovers in each cluster, and checkpoints under the second one's key finalized", func() bool {
		for _, n := range []string{"a", "b"} { // a: cluster 0, b: cluster 1
			h := second(n)
			if fin, _ := finalizedOf(tt, n); h == 0 || fin <= h+1 {
				return false
			}
		}
		return true
	})
	bob, _ := tt.payBob(t, "c", 7)
	waitFor(t, "bob credited after the rotations, on both members of his cluster", func() bool {
		vb, errb := tt.nodes["b"].Balance(bob)
		vd, errd := tt.nodes["d"].Balance(bob)
		return errb == nil && errd == nil && vb == 507 && vd == 507
	})
	checkSupply(t, tt)
}

// finalizedOf returns the highest checkpoint of node n's cluster the
// galaxy finalized, as galaxy member a knows it.
func finalizedOf(tt *tiers, n string) (uint64, uint64) {
	var c interfaces.ClusterID
	if n == "b" || n == "d" {
		c = 1
	}
	return tt.nodes["a"].Finalized(c)
}
