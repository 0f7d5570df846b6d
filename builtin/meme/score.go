package meme

import (
	"github.com/constellation-chain/constellation/interfaces"
)

// Feature names, in the fixed order Explain lists them.
const (
	FeatureTrust         = "trust"
	FeatureParticipation = "participation"
	FeatureLiveness      = "liveness"
	FeatureLatency       = "latency"
	FeatureUptime        = "uptime"
	FeatureAge           = "age"
	FeatureResources     = "resources"
	FeatureInteraction   = "interaction"
)

// normalized is a meme's features mapped to [0, q], in Explain order.
type normalized [8]uint64

// normalize maps a meme's raw features to [0, q]. With c = proposed /
// (proposed + 1), the confidence that comes from recent membership:
//
//	trust         = trust                                   (validation feedback)
//	participation = included / (included + ParticipationHalf)
//	liveness      = seen / (proposed + 1)
//	latency       = c · ref / (ref + ewma latency)           (0 before the first sample)
//	uptime        = seen / (seen + UptimeHalf)
//	age           = c · a / (a + AgeHalf), a = lastMember − firstMember + 1
//	resources     = resources / (resources + ResourcesHalf)
//	interaction   = min(r / r_e, 1, flow credit)             (TPR capped by NetFlow)
//
// The count-like features follow x/(x+h): diminishing returns, so piling
// up one dimension buys less and less. The +1 in liveness (a prior of one
// missed epoch) and the factor c make the quality features fade with the
// decayed membership count, so an idle star's whole score decays towards
// the newcomer's 0 rather than resting on a ratio of old events. Age is
// tenure (first to latest membership), so it does not grow while idle.
// r_e is the median r of the evaluators (refreshTPRNorm), which stuffing a
// block with payments cannot move.
func (r *Reputation) normalize(m *meme) normalized {
	var f normalized
	c := saturate(m.proposed, q)
	f[0] = m.trust
	f[1] = saturate(m.included, r.cfg.ParticipationHalf)
	f[2] = ratioQ(m.seen, addSat(m.proposed, q))
	if m.latencySamples > 0 {
		ref := r.cfg.LatencyRefMillis * 1000
		f[3] = mulQ(c, mulDiv(q, ref, addSat(ref, m.latencyMicros)))
	}
	f[4] = saturate(m.seen, r.cfg.UptimeHalf)
	if m.firstMember != 0 {
		f[5] = mulQ(c, saturate(m.lastMember-m.firstMember+1, r.cfg.AgeHalf))
	}
	f[6] = saturate(m.resources, r.cfg.ResourcesHalf)
	f[7] = minU(ratioQ(m.tprR, r.tprNorm), m.flow)
	return f
}

func (r *Reputation) weights() [8]uint64 {
	c := &r.cfg
	return [8]uint64{c.WeightTrust, c.WeightParticipation, c.WeightLiveness, c.WeightLatency,
		c.WeightUptime, c.WeightAge, c.WeightResources, c.WeightInteraction}
}

// faultPenalty is the share of the score a star's recent faults take away:
// faults/(faults + FaultHalf), so one fresh fault with the default
// FaultHalf of 0.1 removes 91% of the score, on top of the trust dock.
func (r *Reputation) faultPenalty(m *meme) uint64 {
	return saturate(m.faults, r.cfg.FaultHalf)
}

// scoreOf is the score model: the weighted mean of the normalized
// features (baseOf), times (1 − fault penalty), clamped to [0, ScoreOne].
// Every term is rounded down, so the result never exceeds ScoreOne.
func (r *Reputation) scoreOf(m *meme) uint64 {
	return mulQ(r.baseOf(m), q-r.faultPenalty(m))
}

// baseOf is the weighted mean of the normalized features, in [0, q].
func (r *Reputation) baseOf(m *meme) uint64 {
	f := r.normalize(m)
	w := r.weights()
	var wsum uint64
	for _, x := range w {
		wsum += x
	}
	var s uint64
	for i := range f {
		s += mulDiv(w[i], f[i], wsum)
	}
	return minU(s, q)
}

// Score returns a star's current score in [0, ScoreOne]. An unknown star
// has the newcomer score, 0: the minimum, so a fresh identity (whitewashing)
// never scores above an established one's floor.
func (r *Reputation) Score(s interfaces.StarID) interfaces.Score {
	m := r.stars[s]
	if m == nil {
		return 0
	}
	return interfaces.Score(r.scoreOf(m))
}

// Scores returns the scores of all remembered stars, sorted by StarID.
func (r *Reputation) Scores() []interfaces.StarScore {
	ids := r.sortedStars()
	out := make([]interfaces.StarScore, len(ids))
	for i, s := range ids {
		out[i] = interfaces.StarScore{Star: s, Score: interfaces.Score(r.scoreOf(r.stars[s]))}
	}
	return out
}

// isNewcomer reports whether a star has never been a member of an epoch.
func isNewcomer(m *meme) bool { return m == nil || m.firstMember == 0 }

// NewcomerBucket is the bucket index of stars that were never a member.
const NewcomerBucket = -1

// UnreliableBucket is the bucket index of unreliable stars (unreliable).
const UnreliableBucket = -2

// unreliable reports whether a former member is held out of the score
// buckets: its contribution was seen in less than MinReliability of its
// (decayed) epochs as member, counting one seen epoch of prior on both
// sides ((seen+1)/(proposed+1)), or its recent provable faults take at
// least half its score. The prior keeps an honest star whose first epoch
// fell on a crash from being held out for good (the ratio does not decay),
// which would leave the attackers a larger share of the stars in good
// standing than of all stars. An equivocating attacker is out after its
// first fault; a withholding one once its omissions outweigh its record
// (after the second for a star that served once). Such stars get seats only when every bucket with a
// positive probability is exhausted, so an attacker that withholds or
// equivocates stops being drawn at all, however its other features look,
// until decay has worn the record down. The test is a ratio, so an honest
// star that sits idle keeps passing it while its score decays.
func (r *Reputation) unreliable(m *meme) bool {
	if m.proposed > 0 && ratioQ(addSat(m.seen, q), addSat(m.proposed, q)) < r.cfg.MinReliability {
		return true
	}
	return r.faultPenalty(m) >= q/2
}

// bucketOf returns a star's bucket: NewcomerBucket, UnreliableBucket, or
// the number of bucket bounds at or below its score (0 is the lowest).
func (r *Reputation) bucketOf(m *meme) int {
	if isNewcomer(m) {
		return NewcomerBucket
	}
	if r.unreliable(m) {
		return UnreliableBucket
	}
	sc, b := r.scoreOf(m), 0
	for _, bound := range r.cfg.BucketBounds {
		if sc >= bound {
			b++
		}
	}
	return b
}

// Priority orders senders in the no-fee transaction pool: the sender's
// score in thousandths, 0 (newcomer or unknown) to 1000. A pool serves
// higher priority first and must not drop a transaction for low priority
// while it has capacity; priority only decides who waits.
func (r *Reputation) Priority(s interfaces.StarID) int {
	return int(uint64(r.Score(s)) / (q / 1000))
}
