package node

import (
	"fmt"
	"slices"
	"sync"

	"github.com/constellation-chain/constellation/interfaces"
)

// registry is who stands for each cluster's seats, as the galaxy's chain
// records it: every genesis delegate of a cluster from the start, and
// every star whose join a finalized checkpoint of that cluster lists
// (BlockMeta.Candidacy), until a leave there. A join replaces the star's
// candidacy elsewhere; a leave counts only in the cluster the star stands
// for, and is ignored when it would leave that cluster with no candidate
// (a cluster always has someone to draw). It is a deterministic function
// of the galaxy's chain, folded with every black hole on the reputation's
// paths (live, after a restart, in chain verify and reputation replay),
// so every member draws from the same candidates.
type registry struct {
	mu       sync.Mutex
	clusters int
	of       map[interfaces.StarID]interfaces.ClusterID
	height   uint64 // the last black hole folded
}

func newRegistry(h *Hierarchy) *registry {
	r := &registry{clusters: len(h.Clusters), of: map[interfaces.StarID]interfaces.ClusterID{}}
	for c, g := range h.Clusters {
		for _, s := range g.Members {
			r.of[s] = interfaces.ClusterID(c)
		}
	}
	return r
}

// observe folds the candidacies of the cluster blocks black hole bh
// finalizes, in its order.
func (r *registry) observe(bh *interfaces.Block) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if bh.Header.Height != r.height+1 {
		return fmt.Errorf("candidates: black hole %d after %d", bh.Header.Height, r.height)
	}
	r.height = bh.Header.Height
	for _, b := range FinalizedBlocks(bh) {
		c := b.Header.Cluster
		if int(c) >= r.clusters {
			continue // the ledger admitted it, so this cannot happen
		}
		for _, m := range b.Meta.Candidacy {
			switch m.Action {
			case interfaces.MemberJoin:
				r.of[m.Star] = c
			case interfaces.MemberLeave:
				if x, ok := r.of[m.Star]; ok && x == c && r.countLocked(c) > 1 {
					delete(r.of, m.Star)
				}
			}
		}
	}
	return nil
}

func (r *registry) countLocked(c interfaces.ClusterID) int {
	n := 0
	for _, x := range r.of {
		if x == c {
			n++
		}
	}
	return n
}

// candidates returns the stars standing for cluster c, sorted.
func (r *registry) candidates(c interfaces.ClusterID) []interfaces.StarID {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []interfaces.StarID
	for s, x := range r.of {
		if x == c {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, interfaces.CompareStars)
	return out
}

// standing returns the cluster star s stands for, if any.
func (r *registry) standing(s interfaces.StarID) (interfaces.ClusterID, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.of[s]
	return c, ok
}
