package node

import (
	"bytes"
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
//
// It also knows how many clusters there are: the genesis clusters and
// those the beacons opened (Opening), each splitting candidates from its
// parent, and each cluster's seated delegates (its genesis delegates,
// then the set each rotation beacon published for it), which a split
// leaves with the parent.
//
// And it knows who stopped contributing: for each delegate, how many of
// its cluster's finalized blocks in a row, of those whose epoch it sits
// in, decided without its contribution (missed). A delegate that missed
// absentBlocks or more is left out of the next rotation's draw, so a
// killed or silent delegate is replaced at the next rotation whatever its
// score. The counts start again at every rotation beacon: a star is left
// out of one draw for each time it is seen absent, and may be drawn again
// later, when its reputation decides.
//
// And who stands for the galaxy (galaxy.go): its genesis members from the
// start, and every star whose join naming the galaxy a black hole holds,
// until a leave there; with, for each, how many rotation beacons in a row
// found its score at or above the bar.
type registry struct {
	mu       sync.Mutex
	clusters int
	of       map[interfaces.StarID]interfaces.ClusterID
	seated   map[interfaces.ClusterID][]interfaces.StarID
	missed   map[interfaces.StarID]uint64
	every    uint64 // the rotation period (0: no rotation)
	height   uint64 // the last black hole folded
	genesis  int    // the genesis clusters, which never close
	seq      uint64 // the last beacon folded (its transaction's Seq)
	// The clusters closing and closed (closing.go), the cluster each
	// opened one split from, and the flow of receipts as the finalized
	// cluster blocks record it (BlockMeta.Flow).
	closing  map[interfaces.ClusterID]closingState
	closed   map[interfaces.ClusterID]bool
	parent   map[interfaces.ClusterID]interfaces.ClusterID
	members  map[interfaces.ClusterID][]interfaces.StarID // of each cluster's last finalized block
	claimed  map[interfaces.ClusterID]uint64              // the last beacon each cluster claimed
	sent     map[[2]interfaces.ClusterID]uint64           // (src, dst): the last batch src sent dst
	credited map[[2]interfaces.ClusterID]uint64           // (src, dst): the last batch of src dst credited
	// The galaxy's candidates and their streaks (galaxy.go), and the
	// score the streaks read (the galaxy reputation's; nil: no streaks).
	galaxy map[interfaces.StarID]bool
	streak map[interfaces.StarID]uint64
	score  func(interfaces.StarID) interfaces.Score
}

// absentBlocks is how many of its cluster's blocks in a row a delegate
// must miss to be left out of the next draw. A live delegate's
// contribution is in nearly every block (HoneyBadger decides at least
// N−f of the N); four in a row without it is a delegate that stopped.
const absentBlocks = 4

func newRegistry(h *Hierarchy) *registry {
	r := &registry{clusters: len(h.Clusters), genesis: len(h.Clusters), of: map[interfaces.StarID]interfaces.ClusterID{}, seated: map[interfaces.ClusterID][]interfaces.StarID{}, missed: map[interfaces.StarID]uint64{}, every: h.RotateEvery,
		closing: map[interfaces.ClusterID]closingState{}, closed: map[interfaces.ClusterID]bool{}, parent: map[interfaces.ClusterID]interfaces.ClusterID{},
		members: map[interfaces.ClusterID][]interfaces.StarID{}, claimed: map[interfaces.ClusterID]uint64{}, sent: map[[2]interfaces.ClusterID]uint64{}, credited: map[[2]interfaces.ClusterID]uint64{},
		galaxy: map[interfaces.StarID]bool{}, streak: map[interfaces.StarID]uint64{}}
	for _, s := range h.Galaxy.Members {
		r.galaxy[s] = true
	}
	r.seated[interfaces.GalaxyCluster] = slices.Clone(h.Galaxy.Members)
	for c, g := range h.Clusters {
		for _, s := range g.Members {
			r.of[s] = interfaces.ClusterID(c)
		}
		r.seated[interfaces.ClusterID(c)] = slices.Clone(g.Members)
	}
	return r
}

// observe folds black hole bh: the clusters its beacon opens, the sets a
// rotation beacon seats, then the candidacies and the contributions of
// the cluster blocks it finalizes, in its order.
func (r *registry) observe(bh *interfaces.Block) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if bh.Header.Height != r.height+1 {
		return fmt.Errorf("candidates: black hole %d after %d", bh.Header.Height, r.height)
	}
	r.height = bh.Header.Height
	for _, tx := range bh.Txs {
		if tx.Kind != interfaces.TxBeacon {
			continue
		}
		p, err := interfaces.DecodeBeaconPayload(tx.Payload)
		if err != nil {
			return fmt.Errorf("candidates: black hole %d: %w", bh.Header.Height, err)
		}
		for _, o := range p.Opens {
			if int(o.Cluster) != r.clusters || int(o.Parent) >= r.clusters {
				// The ledger checked the beacon against this registry.
				return fmt.Errorf("candidates: black hole %d opens cluster %d from %d, and there are %d", bh.Header.Height, o.Cluster, o.Parent, r.clusters)
			}
			r.clusters++
			r.parent[o.Cluster] = o.Parent
			for _, s := range o.Stars {
				r.of[s] = o.Cluster
			}
		}
		if err := r.foldClosesLocked(bh.Header.Height, tx.Seq, p.Closes); err != nil {
			return err
		}
		r.seq = tx.Seq
		if r.every > 0 && p.Height%r.every == 0 {
			for _, set := range p.Sets {
				r.seated[set.Cluster] = slices.Clone(set.Members)
			}
			clear(r.missed)
			r.foldStreaksLocked()
		}
	}
	r.foldGalaxyCandidaciesLocked(bh)
	for _, b := range FinalizedBlocks(bh) {
		c := b.Header.Cluster
		if int(c) >= r.clusters {
			continue // the ledger admitted it, so this cannot happen
		}
		r.members[c] = b.Meta.Members
		r.foldFlowLocked(c, b.Meta.Flow)
		for _, m := range b.Meta.Members {
			if slices.Contains(b.Meta.Proposers, m) {
				delete(r.missed, m)
			} else {
				r.missed[m]++
			}
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
	return r.candidatesLocked(c)
}

func (r *registry) candidatesLocked(c interfaces.ClusterID) []interfaces.StarID {
	var out []interfaces.StarID
	for s, x := range r.of {
		if x == c {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, interfaces.CompareStars)
	return out
}

// drawable returns cands without the stars that stopped contributing
// (missed absentBlocks blocks in a row), or cands itself when fewer than
// seats would remain: leaving them out would shrink the cluster's set,
// and with it the faults the set tolerates.
func (r *registry) drawable(cands []interfaces.StarID, seats int) []interfaces.StarID {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.DeleteFunc(slices.Clone(cands), func(s interfaces.StarID) bool { return r.missed[s] >= absentBlocks })
	if len(out) < seats {
		return cands
	}
	return out
}

// absent returns the stars that stopped contributing, sorted.
func (r *registry) absent() []interfaces.StarID {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []interfaces.StarID
	for s, n := range r.missed {
		if n >= absentBlocks {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, interfaces.CompareStars)
	return out
}

// count returns how many clusters there are.
func (r *registry) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.clusters
}

// splits returns the clusters a rotation beacon opens when each cluster
// may hold at most above candidates: in cluster order, every cluster with
// more opens the next cluster id and gives it half its candidates (rounded
// down), taken from those not seated there, in the order of their hash
// under the beacon (which nobody knew when they stood). The parent keeps
// its seated delegates, so it runs on while the new cluster starts.
func (r *registry) splits(beacon interfaces.Hash, above int) []interfaces.Opening {
	if above <= 0 {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []interfaces.Opening
	for c := range r.clusters {
		cands := r.candidatesLocked(interfaces.ClusterID(c))
		if len(cands) <= above || len(out) == interfaces.MaxOpens || r.clusters+len(out) >= interfaces.MaxClusters {
			continue
		}
		seated := r.seated[interfaces.ClusterID(c)]
		var free []interfaces.StarID
		for _, s := range cands {
			if !slices.Contains(seated, s) {
				free = append(free, s)
			}
		}
		order := func(s interfaces.StarID) interfaces.Hash {
			return interfaces.DomainSum("constellation/split/v1", beacon[:], s[:])
		}
		slices.SortFunc(free, func(a, b interfaces.StarID) int {
			ha, hb := order(a), order(b)
			return bytes.Compare(ha[:], hb[:])
		})
		stars := slices.Clone(free[:min(len(cands)/2, len(free))])
		if len(stars) == 0 {
			continue
		}
		slices.SortFunc(stars, interfaces.CompareStars)
		out = append(out, interfaces.Opening{Parent: interfaces.ClusterID(c), Cluster: interfaces.ClusterID(r.clusters + len(out)), Stars: stars})
	}
	return out
}

// candidatesAfter returns the stars standing for cluster c once opens and
// closes took effect, sorted. The stars a closing sends to another
// cluster stand for it from the next beacon on (they still follow the
// closing cluster's chain when this one is drawn), so they are in neither
// here.
func (r *registry) candidatesAfter(c interfaces.ClusterID, opens []interfaces.Opening, closes []interfaces.Closing) []interfaces.StarID {
	out := r.candidates(c)
	for _, cl := range closes {
		if c == cl.Cluster {
			out = slices.DeleteFunc(out, func(s interfaces.StarID) bool { return slices.Contains(cl.Stars, s) })
		}
	}
	for _, o := range opens {
		switch c {
		case o.Cluster:
			return slices.Clone(o.Stars)
		case o.Parent:
			out = slices.DeleteFunc(out, func(s interfaces.StarID) bool {
				_, found := slices.BinarySearchFunc(o.Stars, s, interfaces.CompareStars)
				return found
			})
		}
	}
	return out
}

// standing returns the cluster star s stands for, if any.
func (r *registry) standing(s interfaces.StarID) (interfaces.ClusterID, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.of[s]
	return c, ok
}
