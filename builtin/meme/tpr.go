package meme

import (
	"slices"

	"github.com/constellation-chain/constellation/interfaces"
)

// Temporal PageRank (Rozenshtein & Gionis, "Temporal PageRank", ECML-PKDD
// 2016, Algorithm 1). It counts temporal walks — walks whose edges respect
// time order — ending at each node, with α the probability that a walk
// continues (1−α is the restart/jump mass every edge's source receives)
// and β the transition decay: the probability that walk mass arriving at a
// node waits there for a later edge instead of following the current one.
// The streaming update per edge (u, v, t), processed in time order, is
//
//	r(u) += 1−α;  s(u) += 1−α
//	r(v) += α·s(u)
//	if β < 1:  s(v) += α·(1−β)·s(u);  s(u) = β·s(u)
//	else:      s(v) += α·s(u);        s(u) = 0
//
// r is the (unnormalized) temporal PageRank and s the walk mass currently
// active at a node. Everything here is fixed point in units of q, with
// saturating addition. On top of the paper's update, r and s decay by
// Config.Decay each round (decayAll), which is the paper's suggestion for
// emphasizing recent activity and bounds both values: with D edges per
// round, r stays below D/Decay.
func tprStep(u, v *meme, alpha, beta uint64) {
	jump := q - alpha
	u.tprR = addSat(u.tprR, jump)
	u.tprS = addSat(u.tprS, jump)
	v.tprR = addSat(v.tprR, mulQ(alpha, u.tprS))
	if beta < q {
		v.tprS = addSat(v.tprS, mulQ(alpha, mulQ(q-beta, u.tprS)))
		u.tprS = mulQ(beta, u.tprS)
	} else {
		v.tprS = addSat(v.tprS, mulQ(alpha, u.tprS))
		u.tprS = 0
	}
}

// refreshTPRNorm recomputes the Temporal PageRank normalizer: the (lower)
// median of r over the evaluators (configured seeds and fault-free recent
// members, see evaluators) whose r is positive. A star's interaction
// feature is r over this value, capped at 1 and by its flow credit.
//
// The normalizer used to be the largest r of all stars. Any star can raise
// its own r at will by paying itself round a ring, and a proposer can put
// thousands of such payments in one block, so the largest r was the
// attacker's to choose: one stuffed block pushed every honest star's
// feature towards 0 and honest stars down a bucket. The median over the
// evaluators moves only within the honest evaluators' values while the
// attackers hold less than a third of the evaluators with positive r:
// raising their own r as far as they like lifts it at most to the honest
// 75th percentile, and zeros do not count. Only membership and validation
// feedback make an evaluator, and a star with a fault is none, so stuffing
// cannot buy seats in this set. Sorting values makes it order-free.
func (r *Reputation) refreshTPRNorm() {
	vals := r.normScratch[:0]
	seeds := r.cfg.Seeds // sorted (ParseConfig)
	for s, m := range r.stars {
		if m.tprR == 0 {
			continue
		}
		if _, seed := slices.BinarySearchFunc(seeds, s, interfaces.CompareStars); seed || r.evaluatesByMembership(m) {
			vals = append(vals, m.tprR)
		}
	}
	r.tprNorm = 0
	if len(vals) > 0 {
		slices.Sort(vals)
		r.tprNorm = vals[(len(vals)-1)/2]
	}
	r.normScratch = vals
}
