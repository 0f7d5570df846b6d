package node_test

import (
	"slices"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/framework/ledger"
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

// TestACandidateJoinsAndIsDrawn starts the two-cluster network rotating
// every 2 black holes with e, a star with no genesis seat, keeping cluster
// 0's chain. Once it has caught up, e stands for cluster 0's seats: its
// candidacy is in cluster 0's chain, the checkpoint carries it to the
// galaxy, and the galaxy's registry lists it. Delegate a then pays e, so
// e earns the admission credit of the newcomer quota; a later rotation
// draws it, e deals and takes its seat, and cluster 0's blocks carry its
// contributions. Supply is conserved throughout.
func TestACandidateJoinsAndIsDrawn(t *testing.T) {
	if testing.Short() {
		t.Skip("runs key generations in a hierarchy")
	}
	a := interfaces.DevStar("a")
	tt := startTiersOpts(t, tiersOpts{
		members:    tierMembers,
		every:      2,
		candidates: map[string]interfaces.ClusterID{"e": 0},
		alloc:      []ledger.Allocation{{Star: a, Amount: 100}},
	})
	e := interfaces.DevStar("e")
	c0 := tt.nodes["a"].ClusterGroup()
	// The candidacy, in cluster 0's chain and metadata.
	waitFor(t, "e's candidacy committed in cluster 0", func() bool {
		seq, _, err := c0.ChainHead(interfaces.MemberStar(e))
		return err == nil && seq == 1
	})
	var joinedAt uint64
	head, _ := c0.Head()
	for h := uint64(1); h <= head && joinedAt == 0; h++ {
		b, err := c0.Block(h)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(b.Meta.Candidacy, interfaces.Candidacy{Star: e, Action: interfaces.MemberJoin}) {
			joinedAt = h
		}
	}
	if joinedAt == 0 {
		t.Fatal("e's candidacy is in its membership chain but in no block's metadata")
	}
	// The galaxy's registry, on both galaxy members.
	waitFor(t, "the galaxy lists e as a candidate of cluster 0", func() bool {
		for _, n := range []string{"a", "b"} {
			if !slices.Contains(tt.nodes[n].Beaconer().Candidates(0), e) {
				return false
			}
		}
		return true
	})
	if got := tt.nodes["a"].Beaconer().Candidates(1); slices.Contains(got, e) {
		t.Fatal("e stands for cluster 1 too")
	}
	// Vouching: a pays e, one noO at a time, through a's own node.
	var prev interfaces.Hash
	for seq := uint64(1); seq <= 20; seq++ {
		tx, err := interfaces.NewTransfer(interfaces.DevKey("a"), seq, prev, e, 1)
		if err != nil {
			t.Fatal(err)
		}
		prev = tx.ID()
		if err := tt.nodes["a"].Submit(tx); err != nil {
			t.Fatalf("a's transfer %d: %v", seq, err)
		}
	}
	// Drawn, then seated: a handover names e, and e proposes.
	eg := tt.nodes["e"].ClusterGroup()
	waitFor2(t, 3*time.Minute, "e drawn, handed over to and proposing in cluster 0", func() bool {
		h, _ := eg.Head()
		for i := joinedAt; i <= h; i++ {
			b, err := eg.Block(i)
			if err != nil {
				return false
			}
			if slices.Contains(b.Meta.Proposers, e) {
				return true
			}
		}
		return false
	})
	checkSupply(t, tt)
}

// TestSeatsGrowAClusterWithItsCandidates: with three seats per cluster,
// cluster 0 (two genesis delegates and the candidate e) grows to all three
// at a rotation, with no vouching needed, and e proposes; cluster 1, with
// two candidates, keeps drawing both.
func TestSeatsGrowAClusterWithItsCandidates(t *testing.T) {
	if testing.Short() {
		t.Skip("runs key generations in a hierarchy")
	}
	tt := startTiersOpts(t, tiersOpts{members: tierMembers, every: 2, seats: 3, candidates: map[string]interfaces.ClusterID{"e": 0}})
	e := interfaces.DevStar("e")
	handovers := func(n string) [][]interfaces.StarID {
		g := tt.nodes[n].ClusterGroup()
		head, _ := g.Head()
		var out [][]interfaces.StarID
		for h := uint64(1); h <= head; h++ {
			if b, err := g.Block(h); err == nil && b.Meta.Handover != nil {
				out = append(out, b.Meta.Handover.Members)
			}
		}
		return out
	}
	eg := tt.nodes["e"].ClusterGroup()
	waitFor2(t, 2*time.Minute, "cluster 0 handed over to three members, e among them, and e proposing", func() bool {
		hs := handovers("e")
		if len(hs) == 0 || len(hs[len(hs)-1]) != 3 || !slices.Contains(hs[len(hs)-1], e) {
			return false
		}
		h, _ := eg.Head()
		b, err := eg.Block(h)
		return err == nil && slices.Contains(b.Meta.Proposers, e)
	})
	for _, hs := range handovers("b") {
		if len(hs) != 2 {
			t.Fatalf("cluster 1 handed over to %d members; it has two candidates", len(hs))
		}
	}
	checkSupply(t, tt)
}

// TestAKilledDelegateIsReplacedAtTheNextRotation: cluster 0 has four
// delegates (a, c, f, g) and the candidate e, four seats, rotating every 2
// black holes. g is killed. The cluster goes on with three, the galaxy's
// reputation sees g stop contributing, and a later rotation seats e in
// g's place: the handover's members are a, c, e and f.
func TestAKilledDelegateIsReplacedAtTheNextRotation(t *testing.T) {
	if testing.Short() {
		t.Skip("runs key generations in a hierarchy")
	}
	members := map[string][]string{"cluster/0": {"a", "c", "f", "g"}, "cluster/1": {"b", "d"}, "galaxy": {"a", "b"}}
	tt := startTiersOpts(t, tiersOpts{members: members, every: 2, candidates: map[string]interfaces.ClusterID{"e": 0}})
	e, g := interfaces.DevStar("e"), interfaces.DevStar("g")
	waitFor(t, "the galaxy lists e as a candidate of cluster 0", func() bool {
		return slices.Contains(tt.nodes["a"].Beaconer().Candidates(0), e)
	})
	tt.stop["g"]()
	c0 := tt.nodes["a"].ClusterGroup()
	var killedAt uint64
	killedAt, _ = c0.Head()
	waitFor2(t, 3*time.Minute, "a handover after the kill that seats e and not g", func() bool {
		head, _ := c0.Head()
		for h := killedAt; h <= head; h++ {
			b, err := c0.Block(h)
			if err != nil || b.Meta.Handover == nil {
				continue
			}
			if ms := b.Meta.Handover.Members; slices.Contains(ms, e) && !slices.Contains(ms, g) && len(ms) == 4 {
				return true
			}
		}
		return false
	})
	checkSupply(t, tt)
}
