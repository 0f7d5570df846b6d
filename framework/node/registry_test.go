package node

import (
	"slices"
	"testing"

	"github.com/constellation-chain/constellation/interfaces"
)

// blackHoleOf returns black hole height finalizing one checkpoint of
// cluster c whose metadata lists cands.
func blackHoleOf(height uint64, c interfaces.ClusterID, cands ...interfaces.Candidacy) *interfaces.Block {
	b := &interfaces.Block{Header: interfaces.BlockHeader{Cluster: c, Height: height}, Meta: interfaces.BlockMeta{Candidacy: cands}}
	b.Seal()
	cp := interfaces.Checkpoint(b, nil)
	return &interfaces.Block{
		Header: interfaces.BlockHeader{Cluster: interfaces.GalaxyCluster, Height: height},
		Txs:    []*interfaces.Transaction{{Kind: interfaces.TxCheckpoint, Sender: interfaces.ClusterStar(c), Seq: height, Payload: cp.Encode()}},
	}
}

// The registry starts from the genesis delegates, follows joins and
// leaves in the clusters that ordered them, moves a star that joins
// another cluster, ignores a leave from a cluster the star does not stand
// for, and never empties a cluster.
func TestRegistryFollowsFinalizedCandidacies(t *testing.T) {
	s := interfaces.DevStar
	h := &Hierarchy{Clusters: []GroupKey{{Members: []interfaces.StarID{s("a")}}, {Members: []interfaces.StarID{s("b")}}}}
	r := newRegistry(h)
	join := func(n string) interfaces.Candidacy {
		return interfaces.Candidacy{Star: s(n), Action: interfaces.MemberJoin}
	}
	leave := func(n string) interfaces.Candidacy {
		return interfaces.Candidacy{Star: s(n), Action: interfaces.MemberLeave}
	}
	want := func(c interfaces.ClusterID, names ...string) {
		t.Helper()
		var w []interfaces.StarID
		for _, n := range names {
			w = append(w, s(n))
		}
		slices.SortFunc(w, interfaces.CompareStars)
		if got := r.candidates(c); !slices.Equal(got, w) {
			t.Fatalf("cluster %d candidates %v, want %v", c, got, w)
		}
	}
	steps := []struct {
		c     interfaces.ClusterID
		cands []interfaces.Candidacy
	}{
		{0, []interfaces.Candidacy{join("e"), join("f")}}, // 1
		{1, []interfaces.Candidacy{join("f")}},            // 2: f moves to cluster 1
		{1, []interfaces.Candidacy{leave("e")}},           // 3: e stands for 0, not 1: ignored
		{0, []interfaces.Candidacy{leave("a")}},           // 4
		{0, []interfaces.Candidacy{leave("e")}},           // 5: e is cluster 0's last: ignored
		{1, []interfaces.Candidacy{leave("b")}},           // 6
	}
	for i, st := range steps {
		if err := r.observe(blackHoleOf(uint64(i+1), st.c, st.cands...)); err != nil {
			t.Fatal(err)
		}
		switch i + 1 {
		case 1:
			want(0, "a", "e", "f")
		case 2:
			want(0, "a", "e")
			want(1, "b", "f")
		case 3:
			want(0, "a", "e")
		case 4, 5:
			want(0, "e")
		case 6:
			want(1, "f")
		}
	}
	if err := r.observe(blackHoleOf(9, 0)); err == nil {
		t.Fatal("a black hole out of order was folded")
	}
}

// A cluster with more candidates than the bound splits at a rotation
// beacon: half its candidates, none of its seated delegates, leave for the
// next cluster id, chosen by the beacon; folding the beacon that publishes
// the opening makes it so, and the new cluster then follows its own
// candidacies. A beacon that names another cluster id is refused.
func TestASplitOpensTheNextClusterWithHalfTheUnseated(t *testing.T) {
	s := interfaces.DevStar
	h := &Hierarchy{RotateEvery: 2, Clusters: []GroupKey{{Members: []interfaces.StarID{s("a"), s("b")}}}}
	r := newRegistry(h)
	var joins []interfaces.Candidacy
	for _, n := range []string{"c", "d", "e", "f", "g", "h"} {
		joins = append(joins, interfaces.Candidacy{Star: s(n), Action: interfaces.MemberJoin})
	}
	if err := r.observe(blackHoleOf(1, 0, joins...)); err != nil {
		t.Fatal(err)
	}
	if got := r.splits(interfaces.Hash{1}, 8); got != nil {
		t.Fatalf("8 candidates within a bound of 8 split: %v", got)
	}
	opens := r.splits(interfaces.Hash{1}, 5)
	if len(opens) != 1 || opens[0].Parent != 0 || opens[0].Cluster != 1 || len(opens[0].Stars) != 4 {
		t.Fatalf("8 candidates over a bound of 5 open %v, want 4 stars of cluster 0 in cluster 1", opens)
	}
	for _, seated := range []interfaces.StarID{s("a"), s("b")} {
		if slices.Contains(opens[0].Stars, seated) {
			t.Fatalf("seated delegate %s leaves its cluster", seated.Short())
		}
	}
	differs := false
	for i := byte(2); i < 12 && !differs; i++ {
		differs = !slices.Equal(r.splits(interfaces.Hash{i}, 5)[0].Stars, opens[0].Stars)
	}
	if !differs {
		t.Fatal("ten beacons split the candidates the same way")
	}
	after0 := r.candidatesAfter(0, opens, nil)
	if len(after0) != 4 || slices.ContainsFunc(after0, func(x interfaces.StarID) bool { return slices.Contains(opens[0].Stars, x) }) {
		t.Fatalf("cluster 0 keeps %v after the split of %v", after0, opens[0].Stars)
	}

	beacon := func(height uint64, p interfaces.BeaconPayload) *interfaces.Block {
		bh := blackHoleOf(height, 0)
		bh.Txs = append(bh.Txs, interfaces.BeaconTx(height, p))
		return bh
	}
	bad := interfaces.BeaconPayload{Height: 2, Opens: []interfaces.Opening{{Parent: 0, Cluster: 2, Stars: opens[0].Stars}}}
	if err := newRegistryAt(t, h, joins).observe(beacon(2, bad)); err == nil {
		t.Fatal("a beacon opening cluster 2 of 1 was folded")
	}
	ok := interfaces.BeaconPayload{Height: 2, Opens: opens, Sets: []interfaces.DelegateSet{{Cluster: 0, Members: after0[:2]}, {Cluster: 1, Members: opens[0].Stars[:2]}}}
	if err := r.observe(beacon(2, ok)); err != nil {
		t.Fatal(err)
	}
	if r.count() != 2 || !slices.Equal(r.candidates(0), after0) || !slices.Equal(r.candidates(1), opens[0].Stars) {
		t.Fatalf("after the opening: %d clusters, %v and %v", r.count(), r.candidates(0), r.candidates(1))
	}
	if !slices.Equal(r.seated[1], opens[0].Stars[:2]) {
		t.Fatalf("cluster 1 seats %v, the rotation beacon published %v", r.seated[1], opens[0].Stars[:2])
	}
	if err := r.observe(blackHoleOf(3, 1, interfaces.Candidacy{Star: s("z"), Action: interfaces.MemberJoin})); err != nil {
		t.Fatal(err)
	}
	if c, ok := r.standing(s("z")); !ok || c != 1 {
		t.Fatalf("a join ordered by the new cluster stands for %d (%v)", c, ok)
	}
}

// newRegistryAt is a registry of h that folded black hole 1 with joins in
// cluster 0.
func newRegistryAt(t *testing.T, h *Hierarchy, joins []interfaces.Candidacy) *registry {
	t.Helper()
	r := newRegistry(h)
	if err := r.observe(blackHoleOf(1, 0, joins...)); err != nil {
		t.Fatal(err)
	}
	return r
}

// A delegate whose contribution is missing from absentBlocks finalized
// blocks in a row is left out of the draw, unless that leaves fewer
// candidates than seats; one contribution, or the next rotation beacon,
// starts its count again.
func TestADelegateThatStoppedIsLeftOutOfTheDraw(t *testing.T) {
	s := interfaces.DevStar
	members := []interfaces.StarID{s("a"), s("b"), s("c"), s("d")}
	slices.SortFunc(members, interfaces.CompareStars)
	h := &Hierarchy{RotateEvery: 4, Clusters: []GroupKey{{Members: members}}}
	r := newRegistryAt(t, h, []interfaces.Candidacy{{Star: s("e"), Action: interfaces.MemberJoin}})
	height := uint64(1)
	block := func(proposers ...string) {
		t.Helper()
		height++
		bh := blackHoleOf(height, 0)
		b := &interfaces.Block{Header: interfaces.BlockHeader{Cluster: 0, Height: height}, Meta: interfaces.BlockMeta{Members: members}}
		for _, p := range proposers {
			b.Meta.Proposers = append(b.Meta.Proposers, s(p))
		}
		b.Seal()
		cp := interfaces.Checkpoint(b, nil)
		bh.Txs[0].Payload = cp.Encode()
		if height%4 == 0 {
			bh.Txs = append(bh.Txs, interfaces.BeaconTx(height, interfaces.BeaconPayload{Height: height, Sets: []interfaces.DelegateSet{{Cluster: 0, Members: members}}}))
		}
		if err := r.observe(bh); err != nil {
			t.Fatal(err)
		}
	}
	cands := r.candidates(0)
	drawn := func() []interfaces.StarID { return r.drawable(cands, 4) }
	block("a", "b", "c") // 2
	block("a", "b", "c") // 3
	block("a", "b", "c") // 4: a rotation beacon; d's count starts again with this block
	block("a", "b", "c") // 5
	block("a", "b", "c") // 6
	if got := drawn(); !slices.Equal(got, cands) {
		t.Fatalf("d missed 3 blocks since the beacon and is left out: %v", got)
	}
	block("a", "b", "c") // 7
	if got := drawn(); slices.Contains(got, s("d")) {
		t.Fatalf("d missed 4 blocks in a row and is drawn from: %v", got)
	}
	block("a", "b", "c", "d") // 8: a beacon again, and d contributed
	block("a", "b", "c")      // 9
	block("a", "b", "c")      // 10
	block("a", "b", "c")      // 11
	if got := drawn(); !slices.Equal(got, cands) {
		t.Fatalf("d missed 3 blocks and is left out: %v", got)
	}
	block("a", "b", "c") // 12: a beacon; the count starts at this block
	block("a", "b", "c") // 13
	block("a", "b", "c") // 14
	block("a", "b", "c") // 15: the fourth
	if got := drawn(); slices.Contains(got, s("d")) {
		t.Fatalf("d missed 4 blocks in a row and is drawn from: %v", got)
	}
	block("a", "b", "c") // 16
	if got := drawn(); !slices.Equal(got, cands) {
		t.Fatalf("the beacon of 16 did not start the counts again: %v", got)
	}
	block("a", "b", "c") // 17
	block("a", "b", "c") // 18
	block("a", "b", "c") // 19
	got := drawn()
	if len(got) != 4 || slices.Contains(got, s("d")) {
		t.Fatalf("d missed 4 blocks in a row; the draw is from %v", got)
	}
	if !slices.Equal(r.absent(), []interfaces.StarID{s("d")}) {
		t.Fatalf("absent: %v", r.absent())
	}
	if got := r.drawable(cands, 5); !slices.Equal(got, cands) {
		t.Fatalf("leaving d out of 5 candidates for 5 seats draws from %v", got)
	}
	block("a", "b", "c", "d") // 20 (a beacon too)
	block("a", "b", "c", "d") // 21
	if got := drawn(); !slices.Equal(got, cands) {
		t.Fatalf("d contributed again and is still left out: %v", got)
	}
}

// A closing finishes only once nothing can reach the cluster: it owns no
// account, every live cluster claimed the last beacon that moved one from
// or to it, and it credited every batch sent to it. Each condition alone
// holds the closing back.
func TestAClosingFinishesOnlyWhenNothingIsInFlight(t *testing.T) {
	s := interfaces.DevStar
	h := &Hierarchy{RotateEvery: 2, Clusters: []GroupKey{{Members: []interfaces.StarID{s("a"), s("b")}}}}
	r := newRegistry(h)
	r.clusters, r.parent[1] = 2, 0
	r.of[s("c")], r.of[s("d")] = 1, 1
	r.seated[1] = []interfaces.StarID{s("c")}
	r.claimed[1] = 3
	starts := r.closes(true, 3, 8, nil)
	if len(starts) != 1 || starts[0].Cluster != 1 || starts[0].Into != 0 || starts[0].Done || !slices.Equal(starts[0].Stars, []interfaces.StarID{s("d")}) {
		t.Fatalf("cluster 1 of two candidates for a minimum of 3 starts %+v", starts)
	}
	if got := r.closes(false, 3, 8, nil); len(got) != 0 {
		t.Fatalf("a beacon that is no rotation starts %+v", got)
	}
	if got := r.closes(true, 3, 2, nil); len(got) != 0 {
		t.Fatalf("a merge beyond max_candidates starts %+v", got)
	}
	if err := r.foldClosesLocked(5, 7, starts); err != nil {
		t.Fatal(err)
	}
	if c, _ := r.standing(s("d")); c != 0 {
		t.Fatalf("d stands for %d after the start", c)
	}
	if err := r.foldClosesLocked(5, 7, starts); err == nil {
		t.Fatal("a second start of the same closing was folded")
	}
	owned, moved := 0, uint64(9)
	placer := func(interfaces.ClusterID) (int, uint64) { return owned, moved }
	done := func() bool {
		t.Helper()
		got := r.closes(false, 3, 8, placer)
		return len(got) == 1 && got[0].Done && got[0].Into == 0 && slices.Equal(got[0].Stars, []interfaces.StarID{s("c")})
	}
	r.claimed[0], r.claimed[1] = 9, 9
	r.sent[[2]interfaces.ClusterID{0, 1}], r.credited[[2]interfaces.ClusterID{0, 1}] = 4, 4
	if !done() {
		t.Fatal("nothing in flight, and the closing does not finish")
	}
	owned = 1
	if done() {
		t.Fatal("the cluster owns an account, and the closing finishes")
	}
	owned = 0
	r.claimed[0] = 8
	if done() {
		t.Fatal("cluster 0 has not claimed the last beacon that moved an account, and the closing finishes")
	}
	r.claimed[0] = 9
	r.sent[[2]interfaces.ClusterID{0, 1}] = 5
	if done() {
		t.Fatal("a batch to the cluster is not credited, and the closing finishes")
	}
	r.credited[[2]interfaces.ClusterID{0, 1}] = 5
	if !done() {
		t.Fatal("the last batch was credited, and the closing does not finish")
	}
	fin := r.closes(false, 3, 8, placer)
	if err := r.foldClosesLocked(6, 8, fin); err != nil {
		t.Fatal(err)
	}
	if !r.isClosed(1) || slices.Contains(r.live(), 1) || len(r.candidates(1)) != 0 || len(r.candidates(0)) != 4 {
		t.Fatalf("after the finish: closed %v, live %v, candidates %v and %v", r.isClosed(1), r.live(), r.candidates(1), r.candidates(0))
	}
	if got := r.closes(true, 3, 8, placer); len(got) != 0 {
		t.Fatalf("a closed cluster closes again: %+v", got)
	}
}
