package meme

import (
	"slices"

	"github.com/constellation-chain/constellation/interfaces"
)

// meme is one star's feature vector — the ontology of Proof-of-Meme, after
// REGRET's split of reputation into separately sourced dimensions (Sabater &
// Sierra, "REGRET: reputation in gregarious societies", AAMAS 2001). Each
// field names its source in the Observation. "Decayed" quantities are in
// units of q (one event adds q) and lose Config.Decay of their value every
// round, so recent behaviour weighs more than old behaviour. Rounds are
// 1-based observation counts; 0 means "never".
type meme struct {
	// Presence.
	firstSeen uint64 // round the star was first mentioned anywhere
	lastSeen  uint64 // round the star was last mentioned anywhere

	// Consensus participation (Meta.Members, Meta.Proposers).
	firstMember uint64 // round of the first block with the star in Meta.Members (age starts here)
	lastMember  uint64 // round of the latest such block (evaluator window)
	proposed    uint64 // decayed blocks as member: every HoneyBadger member proposes each epoch (liveness denominator, confidence)
	included    uint64 // decayed blocks whose decided set includes its contribution (Meta.Proposers)
	seen        uint64 // decayed blocks where its contribution was seen: included or a non-zero latency (liveness, uptime)

	// Latency (Meta.LatencyMillis aligned with Meta.Members; 0 = not seen).
	latencyMicros  uint64 // exponentially weighted mean (weight 1/8) of latency, microseconds
	latencySamples uint64 // non-zero latency samples folded in

	// Provable faults (Meta.Faults).
	faults      uint64 // distinct faults, decayed by FaultDecay
	faultsTotal uint64 // all distinct faults ever
	lastFault   uint64 // round of the latest fault

	// Validation feedback (GURU/ReCon), in [0, q]: see applyConsensus.
	trust uint64

	// Resources committed: storage or bandwidth bonded by the star. The
	// Observation has no such field yet; the feature is kept (and encoded
	// in snapshots) so the score model is complete, and stays 0 until the
	// kernel feeds it from finalized resource-commitment transactions.
	resources uint64

	// Interaction history (Observation.Interactions).
	txOut, txIn uint64 // interactions sent / received, all time
	tprR, tprS  uint64 // Temporal PageRank value r and active walk mass s, decayed (tpr.go)
	flow        uint64 // NetFlow credit in [0, q] from the latest flow computation (flow.go)
	credit      uint64 // admission credit in [0, q] from the latest flow computation (flow.go)

	// idx is scratch space for recomputeFlow (the star's position in
	// StarID order); it is not state and is not encoded.
	idx int32
	// stepped is the round in which the star last sent a Temporal
	// PageRank walk step (0: never); see applyInteractions.
	stepped uint64
}

// decayAll applies one round of decay to every decaying quantity. Each
// star's update is independent, so iterating the map is order-free.
func (r *Reputation) decayAll() {
	keep, keepFaults := q-r.cfg.Decay, q-r.cfg.FaultDecay
	if keep == q && keepFaults == q {
		return
	}
	for _, m := range r.stars {
		m.trust = mulQ(m.trust, keep)
		m.proposed = mulQ(m.proposed, keep)
		m.included = mulQ(m.included, keep)
		m.seen = mulQ(m.seen, keep)
		m.faults = mulQ(m.faults, keepFaults)
		m.tprR = mulQ(m.tprR, keep)
		m.tprS = mulQ(m.tprS, keep)
	}
}

// applyConsensus folds a block's consensus metadata in.
//
// Validation feedback follows GURU/ReCon (Biryukov, Feher, Khovratovich,
// "Guru: Universal Reputation Module for Distributed Consensus Protocols",
// eprint 2017/671): a member whose contribution is in the decided set of a
// decided (decisive) epoch and that committed no fault in it gains slowly,
// trust += TrustGain·(1 − trust), so trust approaches 1 with diminishing
// returns; each distinct provable fault docks it at once and hard,
// trust −= FaultDock·trust. A member whose contribution was neither
// included nor seen at all (an omission, which the block cannot prove
// malicious) loses the milder MissDock share. Decay (decayAll) pulls
// everyone back towards the newcomer's 0 over time, so reputation must be
// kept up, not banked.
//
// Members are deduplicated; a latency belongs to the member at the same
// index of the list as given. Proposers that are not members are ignored:
// only the epoch's delegates can contribute. Faults are deduplicated by
// (star, kind, epoch).
func (r *Reputation) applyConsensus(meta interfaces.BlockMeta) {
	type memberInfo struct {
		latency uint32
	}
	members := map[interfaces.StarID]memberInfo{}
	for i, s := range meta.Members {
		if s.IsZero() {
			continue
		}
		var lat uint32
		if i < len(meta.LatencyMillis) {
			lat = meta.LatencyMillis[i]
		}
		if prev, ok := members[s]; ok && prev.latency != 0 && (lat == 0 || prev.latency < lat) {
			lat = prev.latency // a duplicate keeps the first non-zero (smallest) latency
		}
		members[s] = memberInfo{latency: lat}
	}
	included := map[interfaces.StarID]bool{}
	for _, s := range meta.Proposers {
		included[s] = true
	}
	type faultKey struct {
		star  interfaces.StarID
		kind  interfaces.FaultKind
		epoch uint64
	}
	faultSet := map[faultKey]bool{}
	for _, f := range meta.Faults {
		if f.Star.IsZero() {
			continue
		}
		faultSet[faultKey{f.Star, f.Kind, f.Epoch}] = true
	}
	faultCount := map[interfaces.StarID]uint64{}
	for k := range faultSet {
		faultCount[k.star]++
	}

	ids := make([]interfaces.StarID, 0, len(members))
	for s := range members {
		ids = append(ids, s)
	}
	slices.SortFunc(ids, interfaces.CompareStars)
	for _, s := range ids {
		info := members[s]
		m := r.touch(s)
		if m.firstMember == 0 {
			m.firstMember = r.round
		}
		m.lastMember = r.round
		m.proposed = addSat(m.proposed, q)
		inc := included[s]
		if inc {
			m.included = addSat(m.included, q)
		}
		if inc || info.latency != 0 {
			m.seen = addSat(m.seen, q)
		}
		if info.latency != 0 {
			us := uint64(info.latency) * 1000
			if m.latencySamples == 0 {
				m.latencyMicros = us
			} else {
				m.latencyMicros = (m.latencyMicros*7 + us) / 8
			}
			m.latencySamples++
		}
		switch {
		case inc && faultCount[s] == 0:
			m.trust += mulQ(r.cfg.TrustGain, q-m.trust)
		case !inc && info.latency == 0:
			m.trust = mulQ(m.trust, q-r.cfg.MissDock)
		}
	}

	faulty := make([]interfaces.StarID, 0, len(faultCount))
	for s := range faultCount {
		faulty = append(faulty, s)
	}
	slices.SortFunc(faulty, interfaces.CompareStars)
	for _, s := range faulty {
		m := r.touch(s)
		for n := faultCount[s]; n > 0; n-- {
			m.trust = mulQ(m.trust, q-r.cfg.FaultDock) // rounds the remainder down: the dock never falls short
			m.faults = addSat(m.faults, q)
			m.faultsTotal++
		}
		m.lastFault = r.round
	}
}

// applyInteractions folds a block's finalized transactions in, in the order
// given (the block's order is the time order Temporal PageRank needs): each
// is added to the aggregated interaction graph (capacity for the flow cap),
// and a sender's first one in the block is streamed through Temporal
// PageRank when its previous walk step is at least StepGap rounds old.
// Self-interactions and zero ids are ignored: a star cannot vouch for
// itself.
//
// The step gap caps what a block, or a run of blocks, can add. Any star
// can pay its own other stars as often as it likes, and a proposer can put
// 20 000 such payments into the last block before a draw: without a cap,
// every one is a walk step, and the attackers' walk mass, hence their
// interaction feature, is theirs to choose. With it, a star sends at most
// one step per StepGap rounds however much it pays, which is about what an
// ordinary active star sends anyway; what it paid still counts in full as
// flow capacity (vouching). The normalizer (refreshTPRNorm) keeps the
// attackers from pushing everyone else's feature down.
func (r *Reputation) applyInteractions(in []interfaces.Interaction) {
	for _, x := range in {
		if x.From == x.To || x.From.IsZero() || x.To.IsZero() {
			continue
		}
		u, v := r.touch(x.From), r.touch(x.To)
		u.txOut++
		v.txIn++
		k := edgeKey{x.From, x.To}
		e := r.edges[k]
		if e == nil {
			e = &edge{fromM: u, toM: v}
			r.edges[k] = e
		}
		e.amount = addSat(r.capacity(e, nil), x.Amount)
		e.count++
		e.last = r.round
		if u.stepped == 0 || r.round-u.stepped >= r.cfg.StepGap {
			u.stepped = r.round
			tprStep(u, v, r.cfg.Alpha, r.cfg.Beta)
		}
	}
}
