package node_test

import (
	"slices"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/framework/api"
	"github.com/constellation-chain/constellation/framework/group"
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
	// The black hole that takes the last join may also be the rotation
	// beacon that opens cluster 2, so the six may never be seen at once.
	waitFor2(t, 2*time.Minute, "the galaxy lists six candidates of cluster 0 or opens cluster 2", func() bool {
		return len(a.Beaconer().Candidates(0)) >= 6 || a.Beaconer().Clusters() > 2
	})
	var opening interfaces.Opening
	var firstSet []interfaces.StarID
	gx := a.GalaxyGroup()
	var next uint64 = 1
	waitFor2(t, 2*time.Minute, "a beacon that opens cluster 2", func() bool {
		newBeacons(t, gx, &next, func(_ uint64, p interfaces.BeaconPayload) {
			if len(p.Opens) == 0 || len(firstSet) > 0 {
				return
			}
			opening = p.Opens[0]
			// The clusters' sets, then the galaxy's at a galaxy rotation
			// beacon (every fourth).
			sets := slices.DeleteFunc(slices.Clone(p.Sets), func(s interfaces.DelegateSet) bool { return s.Cluster == interfaces.GalaxyCluster })
			if len(sets) != 3 || p.Sets[2].Cluster != 2 {
				t.Fatalf("the opening beacon publishes sets %v", p.Sets)
			}
			firstSet = p.Sets[2].Members
		})
		return len(firstSet) > 0
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
	if got := clusterCounts(t, gx); !slices.Contains(got, 3) {
		t.Fatalf("no black hole counts three clusters: %v", got)
	}
	checkSupply(t, tt)
}

// clusterCounts checks that every black hole of the galaxy's chain gx
// carries the number of clusters in force once it is applied
// (BlockMeta.Clusters): the two genesis clusters, plus those the beacons
// it and the black holes before it hold opened, less those whose closing
// they finished. It returns the distinct counts, in chain order.
func clusterCounts(t *testing.T, gx *group.Group) []uint32 {
	t.Helper()
	head, _ := gx.Head()
	want := uint32(2)
	var seen []uint32
	for h := uint64(1); h <= head; h++ {
		b, err := gx.Block(h)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range beaconsOf(t, b) {
			p := x.p
			want += uint32(len(p.Opens))
			for _, c := range p.Closes {
				if c.Done {
					want--
				}
			}
		}
		if b.Meta.Clusters != want {
			t.Fatalf("black hole %d counts %d clusters, want %d", h, b.Meta.Clusters, want)
		}
		if len(seen) == 0 || seen[len(seen)-1] != want {
			seen = append(seen, want)
		}
	}
	return seen
}

// TestAClusterBelowItsMinimumMergesBack opens cluster 2 as
// TestAClusterOverItsBoundSplitsAndTheNewOneRuns does, with a minimum of
// two candidates. Then two of its three stars stand down (member leave,
// ordered by cluster 2's chain), so it holds one candidate. A rotation
// beacon starts closing it into cluster 0, the cluster it split from;
// once the galaxy's chain shows that nothing is in flight to it (every
// cluster claimed that beacon, and every receipt batch sent to it was
// credited), a later beacon finishes the closing. Its last star's node
// then moves to cluster 0's chain by itself, the galaxy draws for clusters
// 0 and 1 only and takes no more of cluster 2's checkpoints, and supply is
// conserved.
func TestAClusterBelowItsMinimumMergesBack(t *testing.T) {
	if testing.Short() {
		t.Skip("runs key generations in a hierarchy")
	}
	cands := map[string]interfaces.ClusterID{"p": 0, "q": 0, "r": 0, "s": 0}
	tt := startTiersOpts(t, tiersOpts{members: tierMembers, every: 4, seats: 2, split: 4, merge: 2, candidates: cands})
	a := tt.node("a")
	names := map[interfaces.StarID]string{}
	for nm := range cands {
		names[interfaces.DevStar(nm)] = nm
	}
	var opened []interfaces.StarID
	waitFor2(t, 3*time.Minute, "cluster 2 opens and its stars keep its chain", func() bool {
		opened = a.Beaconer().Candidates(2)
		if len(opened) != 3 {
			return false
		}
		for _, s := range opened {
			g := tt.node(names[s]).ClusterGroup()
			if g.Cluster() != 2 {
				return false
			}
			if h, _ := g.Head(); h < 2 {
				return false
			}
		}
		return true
	})
	// Two stand down; a seated one keeps its seat until the rotation.
	for _, s := range opened[1:] {
		// A moved star stands again in its new cluster's chain; it stands
		// down after that.
		var c api.Candidacy
		waitFor(t, "a moved star's candidacy in cluster 2's chain", func() bool {
			var err error
			c, err = tt.node(names[s]).Candidacy(s)
			return err == nil && c.Seq > 0 && c.Standing
		})
		n := tt.node(names[s])
		var err error
		var prev interfaces.Hash
		if c.Seq > 0 {
			if prev, err = interfaces.ParseHash(c.Last); err != nil {
				t.Fatal(err)
			}
		}
		tx, err := interfaces.NewMemberTx(interfaces.DevKey(names[s]), c.Seq+1, prev, interfaces.MemberPayload{Action: interfaces.MemberLeave, Cluster: 2})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Submit(tx); err != nil {
			t.Fatal(err)
		}
	}
	waitFor2(t, 2*time.Minute, "the galaxy counts one candidate of cluster 2", func() bool {
		return len(a.Beaconer().Candidates(2)) == 1
	})
	last := a.Beaconer().Candidates(2)[0]
	// The closing starts, then finishes.
	gx := a.GalaxyGroup()
	var start, done *interfaces.Closing
	var startSeq, doneSeq uint64
	var next uint64 = 1
	waitFor2(t, 3*time.Minute, "a beacon that finishes closing cluster 2", func() bool {
		newBeacons(t, gx, &next, func(seq uint64, p interfaces.BeaconPayload) {
			for _, cl := range p.Closes {
				if cl.Done {
					done, doneSeq = &cl, seq
				} else {
					start, startSeq = &cl, seq
				}
			}
			if done != nil && slices.ContainsFunc(p.Sets, func(s interfaces.DelegateSet) bool { return s.Cluster == 2 }) {
				t.Fatalf("beacon %d, after cluster 2 closed, draws for it: %v", seq, p.Sets)
			}
		})
		return done != nil
	})
	if start == nil || start.Cluster != 2 || start.Into != 0 || startSeq >= doneSeq {
		t.Fatalf("closing started %+v (beacon %d), finished %+v (beacon %d)", start, startSeq, done, doneSeq)
	}
	// The last candidate leaves at the start if it has no seat (the two
	// that stood down may hold theirs until the rotation), else at the
	// finish.
	if done.Cluster != 2 || done.Into != 0 || !slices.Contains(append(start.Stars, done.Stars...), last) {
		t.Fatalf("the closing beacons (%+v, %+v) do not send cluster 2's last star %s to cluster 0", start, done, last.Short())
	}
	t.Logf("closing of cluster 2 started at beacon %d, finished at beacon %d", startSeq, doneSeq)
	// The last star's node moves to cluster 0's chain and follows it.
	waitFor2(t, 2*time.Minute, "cluster 2's last star keeps cluster 0's chain", func() bool {
		g := tt.node(names[last]).ClusterGroup()
		if g.Cluster() != 0 {
			return false
		}
		h, _ := g.Head()
		ah, _ := a.ClusterGroup().Head()
		return h > 0 && h+8 >= ah
	})
	for _, nm := range []string{"a", "b"} {
		// Each folds the finishing beacon once it committed its black hole.
		bc := tt.node(nm).Beaconer()
		waitFor(t, "galaxy member "+nm+" counts cluster 2 closed", func() bool { return bc.Closed(2) })
		if len(bc.Candidates(2)) != 0 || !slices.Contains(bc.Candidates(0), last) {
			t.Fatalf("galaxy member %s: cluster 2's candidates %v, cluster 0's %v", nm, bc.Candidates(2), bc.Candidates(0))
		}
	}
	fin, _ := a.Finalized(2)
	time.Sleep(2 * time.Second) // cluster 2's chain stopped; nothing of it may finalize

	if again, _ := a.Finalized(2); again != fin {
		t.Fatalf("the galaxy finalized cluster 2 from %d to %d after it closed", fin, again)
	}
	if got := clusterCounts(t, gx); !slices.Equal(got, []uint32{2, 3, 2}) {
		t.Fatalf("the black holes count %v clusters in turn, want 2, 3, then 2", got)
	}
	checkSupply(t, tt)
}

// newBeacons calls fn with each beacon (its Seq and payload) of the
// galaxy's blocks from *next to its head, and moves *next past them.
func newBeacons(t *testing.T, gx *group.Group, next *uint64, fn func(seq uint64, p interfaces.BeaconPayload)) {
	t.Helper()
	head, _ := gx.Head()
	for ; *next <= head; *next++ {
		b, err := gx.Block(*next)
		if err != nil {
			return
		}
		for _, x := range beaconsOf(t, b) {
			fn(x.seq, x.p)
		}
	}
}

// seqBeacon is a beacon and its transaction's Seq.
type seqBeacon struct {
	seq uint64
	p   interfaces.BeaconPayload
}

// beaconsOf returns the beacons black hole b holds, in block order.
func beaconsOf(t *testing.T, b *interfaces.Block) []seqBeacon {
	t.Helper()
	var out []seqBeacon
	for _, tx := range b.Txs {
		if tx.Kind != interfaces.TxBeacon {
			continue
		}
		p, err := interfaces.DecodeBeaconPayload(tx.Payload)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, seqBeacon{tx.Seq, p})
	}
	return out
}
