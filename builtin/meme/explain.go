package meme

import (
	"fmt"
	"strings"

	"github.com/constellation-chain/constellation/interfaces"
)

// Feature is one line of an Explanation: a feature's raw value (in the
// unit its Source states), its normalized value and its weight.
type Feature struct {
	Name       string
	Raw        uint64
	Unit       string
	Normalized interfaces.Score // in [0, ScoreOne]
	Weight     interfaces.Score // the config weight, in ScoreOne units
	Source     string           // where in the chain data the feature comes from
}

// Explanation is everything `constellation reputation explain STAR`
// prints: the meme's features, the fault penalty, the score and the
// selection bucket. It is a pure function of the state.
type Explanation struct {
	Star        interfaces.StarID
	Known       bool // remembered at all
	Newcomer    bool // never a member: selected through the newcomer quota
	Round       uint64
	FirstSeen   uint64
	FirstMember uint64
	FaultsTotal uint64
	TxSent      uint64 // interactions sent, all time
	TxReceived  uint64 // interactions received, all time
	Features    []Feature
	TPR         interfaces.Score // Temporal PageRank relative to the largest, before the flow cap
	FlowCredit  interfaces.Score // NetFlow credit from the latest max-flow computation
	// AdmissionCredit is the credit from the admission flow (newcomers and
	// recently admitted stars claiming alone); a newcomer needs
	// NewcomerMinCredit of it for a quota seat.
	AdmissionCredit interfaces.Score
	FaultPenalty    interfaces.Score // share of the score removed by recent faults
	Score           interfaces.Score
	Bucket          int    // NewcomerBucket, or 0 (lowest) .. len(BucketBounds)
	BucketName      string // "newcomer" or "b<i> [lo, hi)"
}

// Explain returns a star's meme, score and bucket.
func (r *Reputation) Explain(s interfaces.StarID) Explanation {
	m := r.stars[s]
	ex := Explanation{Star: s, Known: m != nil, Newcomer: isNewcomer(m), Round: r.round}
	if m == nil {
		m = &meme{}
	}
	ex.FirstSeen, ex.FirstMember, ex.FaultsTotal = m.firstSeen, m.firstMember, m.faultsTotal
	ex.TxSent, ex.TxReceived = m.txOut, m.txIn
	f := r.normalize(m)
	w := r.weights()
	var age uint64
	if m.firstMember != 0 {
		age = m.lastMember - m.firstMember + 1
	}
	raws := []struct {
		name, unit, source string
		raw                uint64
	}{
		{FeatureTrust, "1e-9", "validation feedback from Meta.Proposers/Members and Meta.Faults", m.trust},
		{FeatureParticipation, "1e-9 blocks (decayed)", "Meta.Proposers: contributions in decided sets", m.included},
		{FeatureLiveness, "1e-9 blocks (decayed) seen", "Meta.Proposers and non-zero Meta.LatencyMillis", m.seen},
		{FeatureLatency, "microseconds (EWMA)", "Meta.LatencyMillis", m.latencyMicros},
		{FeatureUptime, "1e-9 blocks (decayed) seen as member", "Meta.Members with a contribution seen", m.seen},
		{FeatureAge, "rounds of tenure (first to latest membership)", "Meta.Members", age},
		{FeatureResources, "units", "resource commitments (not yet in Observation: always 0)", m.resources},
		{FeatureInteraction, "1e-9 TPR mass", "Observation.Interactions (Temporal PageRank, flow-capped)", m.tprR},
	}
	for i, x := range raws {
		ex.Features = append(ex.Features, Feature{Name: x.name, Raw: x.raw, Unit: x.unit,
			Normalized: interfaces.Score(f[i]), Weight: interfaces.Score(w[i]), Source: x.source})
	}
	ex.TPR = interfaces.Score(ratioQ(m.tprR, r.tprNorm))
	ex.FlowCredit = interfaces.Score(m.flow)
	ex.AdmissionCredit = interfaces.Score(m.credit)
	ex.FaultPenalty = interfaces.Score(r.faultPenalty(m))
	sc := r.scoreOf(m)
	ex.Score = interfaces.Score(sc)
	ex.Bucket = r.bucketOf(m)
	ex.BucketName = r.bucketName(ex.Bucket)
	return ex
}

func (r *Reputation) bucketName(b int) string {
	switch b {
	case NewcomerBucket:
		return "newcomer"
	case UnreliableBucket:
		return "unreliable"
	}
	lo, hi := "0", "1]"
	if b > 0 {
		lo = formatFixed(r.cfg.BucketBounds[b-1])
	}
	if b < len(r.cfg.BucketBounds) {
		hi = formatFixed(r.cfg.BucketBounds[b]) + ")"
	}
	return fmt.Sprintf("b%d [%s, %s", b, lo, hi)
}

// String renders the explanation as the CLI prints it.
func (ex Explanation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "star      %s\n", ex.Star)
	fmt.Fprintf(&b, "round     %d (first seen %d, first member %d, faults %d)\n", ex.Round, ex.FirstSeen, ex.FirstMember, ex.FaultsTotal)
	fmt.Fprintf(&b, "%-14s %-22s %-12s %-8s %s\n", "feature", "raw", "normalized", "weight", "source")
	for _, f := range ex.Features {
		fmt.Fprintf(&b, "%-14s %-22d %-12s %-8s %s\n", f.Name, f.Raw, formatFixed(uint64(f.Normalized)), formatFixed(uint64(f.Weight)), f.Source)
	}
	fmt.Fprintf(&b, "transactions: %d sent, %d received\n", ex.TxSent, ex.TxReceived)
	fmt.Fprintf(&b, "interaction: temporal pagerank %s, flow credit %s (the feature is the smaller)\n", formatFixed(uint64(ex.TPR)), formatFixed(uint64(ex.FlowCredit)))
	fmt.Fprintf(&b, "admission credit %s\n", formatFixed(uint64(ex.AdmissionCredit)))
	fmt.Fprintf(&b, "fault penalty %s\n", formatFixed(uint64(ex.FaultPenalty)))
	fmt.Fprintf(&b, "score     %s\n", formatFixed(uint64(ex.Score)))
	fmt.Fprintf(&b, "bucket    %s\n", ex.BucketName)
	return b.String()
}
