package node

import (
	"fmt"
	"slices"

	"github.com/constellation-chain/constellation/interfaces"
)

// Closing a cluster. With the genesis rotation block's min_candidates, a
// cluster the beacons opened whose candidates fall below the minimum
// merges back into the cluster it split from (or, if that one closed, the
// nearest live one it descends from). It takes two beacons, both decided
// by the galaxy from its chain alone:
//
//  1. A rotation beacon starts the closing (Closing, Done false), when no
//     other closing is under way and the two clusters' candidates together
//     stay within max_candidates (so the merge does not split again at
//     once). The candidates that are neither the cluster's delegates nor
//     drawn to be stand for Into from then on, and their nodes move there.
//     The placement stops placing accounts in the cluster and queues a
//     move to Into for every account it owns.
//  2. Any later beacon finishes it (Done true) once the galaxy's chain
//     shows that nothing more can reach the cluster: it owns no account
//     and no move to it is queued; every live cluster (itself included)
//     claimed the last beacon that moved an account from or to it, so none
//     routes receipts to it any more and it sent all its accounts away;
//     and it credited every receipt batch any cluster sent it (its
//     forwards are then in its own finalized blocks). Everyone still
//     standing for it stands for Into, its nodes move there, and the
//     galaxy takes no more of its checkpoints.
//
// The flow comes from the finalized cluster blocks' BlockMeta.Flow, which
// every cluster's ledger computes, so every galaxy member decides alike.

// closingState is a closing under way: into which cluster, and the beacon
// that started it.
type closingState struct {
	into  interfaces.ClusterID
	since uint64 // the starting beacon's Seq
}

// foldFlowLocked folds a finalized block of cluster c's flow.
func (r *registry) foldFlowLocked(c interfaces.ClusterID, f *interfaces.Flow) {
	if f == nil {
		return
	}
	r.claimed[c] = max(r.claimed[c], f.Claimed)
	for _, s := range f.Sent {
		k := [2]interfaces.ClusterID{c, s.Cluster}
		r.sent[k] = max(r.sent[k], s.Seq)
	}
	for _, x := range f.Credited {
		k := [2]interfaces.ClusterID{x.Cluster, c}
		r.credited[k] = max(r.credited[k], x.Seq)
	}
}

// foldClosesLocked folds the closings of the beacon of Seq seq in black
// hole height.
func (r *registry) foldClosesLocked(height, seq uint64, closes []interfaces.Closing) error {
	for _, cl := range closes {
		c := cl.Cluster
		if !cl.Done {
			if _, busy := r.closing[c]; busy || !r.liveLocked(c) || int(c) < r.genesis || !r.liveLocked(cl.Into) {
				return fmt.Errorf("candidates: black hole %d starts closing cluster %d into %d, which the registry does not allow", height, c, cl.Into)
			}
			r.closing[c] = closingState{into: cl.Into, since: seq}
		} else {
			st, ok := r.closing[c]
			if !ok || st.into != cl.Into {
				return fmt.Errorf("candidates: black hole %d finishes closing cluster %d into %d, which is not closing so", height, c, cl.Into)
			}
			delete(r.closing, c)
			r.closed[c] = true
			delete(r.seated, c)
		}
		for _, s := range cl.Stars {
			r.of[s] = cl.Into
			delete(r.missed, s)
		}
	}
	return nil
}

// liveLocked says whether cluster c exists and has not closed.
func (r *registry) liveLocked(c interfaces.ClusterID) bool {
	return int(c) < r.clusters && !r.closed[c]
}

// live returns the clusters that exist and have not closed, in order.
func (r *registry) live() []interfaces.ClusterID {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []interfaces.ClusterID
	for c := range r.clusters {
		if !r.closed[interfaces.ClusterID(c)] {
			out = append(out, interfaces.ClusterID(c))
		}
	}
	return out
}

// isClosed says whether cluster c closed.
func (r *registry) isClosed(c interfaces.ClusterID) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed[c]
}

// closes returns the closings the beacon of the black hole folded last
// decides: it finishes every closing whose flow drained, and a rotation
// beacon (rotation true) may start one when below > 0 (see the top of
// this file). owned reports, for the placement, how many accounts cluster
// c owns or is queued to receive, and the last beacon that published a
// move from or to c (nil: nothing ever moves).
func (r *registry) closes(rotation bool, below, above int, owned func(interfaces.ClusterID) (int, uint64)) []interfaces.Closing {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []interfaces.Closing
	var ids []interfaces.ClusterID
	for c := range r.closing {
		ids = append(ids, c)
	}
	slices.Sort(ids)
	for _, c := range ids {
		st := r.closing[c]
		if r.drainedLocked(c, st, owned) {
			stars := r.candidatesLocked(c)
			out = append(out, interfaces.Closing{Cluster: c, Into: st.into, Done: true, Stars: stars})
		}
	}
	if !rotation || below <= 0 || len(r.closing) > 0 {
		return out
	}
	for c := interfaces.ClusterID(r.genesis); int(c) < r.clusters; c++ {
		if r.closed[c] || r.claimed[c] == 0 {
			continue // closed, or not yet running (it claims every beacon from the first)
		}
		cands := r.candidatesLocked(c)
		if len(cands) >= below {
			continue
		}
		into := r.parent[c]
		for r.closed[into] {
			into = r.parent[into] // genesis clusters never close, so this ends
		}
		if above > 0 && len(cands)+len(r.candidatesLocked(into)) > above {
			continue
		}
		// The delegates stay to run the chain until it drains: those seated
		// now, those the last rotation drew, and those of its newest
		// finalized block.
		var stars []interfaces.StarID
		for _, s := range cands {
			if !slices.Contains(r.seated[c], s) && !slices.Contains(r.members[c], s) {
				stars = append(stars, s)
			}
		}
		return append(out, interfaces.Closing{Cluster: c, Into: into, Stars: stars})
	}
	return out
}

// drainedLocked says whether nothing more can reach closing cluster c.
func (r *registry) drainedLocked(c interfaces.ClusterID, st closingState, owned func(interfaces.ClusterID) (int, uint64)) bool {
	last := st.since
	if owned != nil {
		n, moved := owned(c)
		if n > 0 {
			return false
		}
		last = max(last, moved)
	}
	for x := range r.clusters {
		if xc := interfaces.ClusterID(x); !r.closed[xc] && r.claimed[xc] < last {
			return false
		}
	}
	for x := range r.clusters {
		k := [2]interfaces.ClusterID{interfaces.ClusterID(x), c}
		if r.credited[k] < r.sent[k] {
			return false
		}
	}
	return true
}
