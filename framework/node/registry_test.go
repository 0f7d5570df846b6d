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
