package meme

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

// refreshTPRMax recomputes the largest r over all stars; max is order-free.
func (r *Reputation) refreshTPRMax() {
	var mx uint64
	for _, m := range r.stars {
		if m.tprR > mx {
			mx = m.tprR
		}
	}
	r.tprMax = mx
}
