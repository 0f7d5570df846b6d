package meme

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/constellation-chain/constellation/interfaces"
)

// stuffingWorld builds a history of rounds in which 30 honest and 10
// attacker stars serve as members and pay each other along an economy;
// the attackers behave, as a patient attacker does.
func stuffingWorld(t *testing.T) (r *Reputation, honest, attackers []interfaces.StarID, next func() interfaces.Observation) {
	t.Helper()
	r = mustNew(t, `{"flow_interval": 4}`)
	for i := range 30 {
		honest = append(honest, star("honest", i))
	}
	for i := range 10 {
		attackers = append(attackers, star("attacker", i))
	}
	all := append(append([]interfaces.StarID(nil), honest...), attackers...)
	rng := rand.New(rand.NewPCG(7, 7))
	next = func() interfaces.Observation {
		var members []interfaces.StarID
		for range 8 {
			members = append(members, all[rng.IntN(len(all))])
		}
		members = sortedUnique(members)
		o := epoch(members, members, uint32(50+rng.IntN(300)))
		for range 12 {
			from, to := all[rng.IntN(len(all))], all[rng.IntN(len(all))]
			o.Interactions = append(o.Interactions, interfaces.Interaction{From: from, To: to, Amount: 1 + uint64(rng.IntN(10))})
		}
		return o
	}
	for range 400 {
		mustObserve(t, r, next())
	}
	return r, honest, attackers, next
}

func cloneReputation(t *testing.T, r *Reputation) *Reputation {
	t.Helper()
	snap, err := r.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	c := New(r.Config())
	if err := c.Restore(snap); err != nil {
		t.Fatal(err)
	}
	return c
}

// stuffed returns o with n transfers among the attackers appended, all to
// the first attacker, and the same o with only each sender's first one of
// them appended.
func stuffed(o interfaces.Observation, attackers []interfaces.StarID, n int) (all, firsts interfaces.Observation) {
	rng := rand.New(rand.NewPCG(9, 9))
	all, firsts = o, o
	all.Interactions = append([]interfaces.Interaction(nil), o.Interactions...)
	firsts.Interactions = append([]interfaces.Interaction(nil), o.Interactions...)
	sent := map[interfaces.StarID]bool{}
	for _, x := range o.Interactions {
		sent[x.From] = true
	}
	for range n {
		x := interfaces.Interaction{From: attackers[1+rng.IntN(len(attackers)-1)], To: attackers[0], Amount: 1}
		all.Interactions = append(all.Interactions, x)
		if !sent[x.From] {
			sent[x.From] = true
			firsts.Interactions = append(firsts.Interactions, x)
		}
	}
	return all, firsts
}

// TestStuffedBlockAddsOneWalkStepPerSender: a block stuffed with 20 000
// payments among attacker stars moves Temporal PageRank exactly as the same
// block holding only each sender's first payment.
func TestStuffedBlockAddsOneWalkStepPerSender(t *testing.T) {
	r, _, attackers, next := stuffingWorld(t)
	all, firsts := stuffed(next(), attackers, 20000)
	a, b := cloneReputation(t, r), cloneReputation(t, r)
	mustObserve(t, a, all)
	mustObserve(t, b, firsts)
	for s, m := range a.stars {
		if n := b.stars[s]; n == nil || n.tprR != m.tprR || n.tprS != m.tprS {
			t.Fatalf("star %s: walk mass (r, s) = (%d, %d) after the stuffed block, (%d, %d) after its first payments only", s, m.tprR, m.tprS, n.tprR, n.tprS)
		}
	}
	if a.tprNorm != b.tprNorm {
		t.Fatalf("normalizer %d after the stuffed block, %d after its first payments only", a.tprNorm, b.tprNorm)
	}
}

// TestStuffedBlockLeavesHonestScores: whatever the attackers pile into one
// block, no honest star's interaction feature or score falls by more than
// a small fraction. With the largest r as the normalizer (as it once was),
// the attackers' walk mass divided every honest star's feature.
func TestStuffedBlockLeavesHonestScores(t *testing.T) {
	r, honest, attackers, next := stuffingWorld(t)
	plain := next()
	all, _ := stuffed(plain, attackers, 20000)
	a, b := cloneReputation(t, r), cloneReputation(t, r)
	mustObserve(t, a, plain)
	mustObserve(t, b, all)
	const slack = interfaces.ScoreOne / 200 // half a point of score
	for _, s := range honest {
		pa, pb := a.Score(s), b.Score(s)
		if pb+slack < pa {
			t.Errorf("honest star %s: score %d after a plain block, %d after the stuffed one", s, pa, pb)
		}
		fa, fb := a.Explain(s).Features[7].Normalized, b.Explain(s).Features[7].Normalized
		if fb+slack < fa {
			t.Errorf("honest star %s: interaction feature %d after a plain block, %d after the stuffed one", s, fa, fb)
		}
	}
}

// TestNormalizerIgnoresInflatedMinority: attackers holding a quarter of the
// evaluators raise their walk mass a thousandfold (over many blocks, say).
// The normalizer stays within the honest evaluators' middle half: at most
// their 75th percentile, so the attackers can lower an honest star's
// interaction feature no further than to r over that honest value.
func TestNormalizerIgnoresInflatedMinority(t *testing.T) {
	r, _, attackers, _ := stuffingWorld(t)
	evals := r.evaluators()
	isAttacker := map[interfaces.StarID]bool{}
	for _, s := range attackers {
		isAttacker[s] = true
	}
	var honestR []uint64
	nAttackers := 0
	for _, s := range evals {
		switch m := r.stars[s]; {
		case m.tprR == 0:
		case isAttacker[s]:
			nAttackers++
			m.tprR = addSat(mulQ(m.tprR, 1000*q), q)
		default:
			honestR = append(honestR, m.tprR)
		}
	}
	if len(honestR) < 15 || 3*nAttackers >= len(honestR)+nAttackers {
		t.Fatalf("%d honest and %d attacker evaluators with walk mass: the world does not test the rule", len(honestR), nAttackers)
	}
	r.refreshTPRNorm()
	slices.Sort(honestR)
	lo, hi := honestR[len(honestR)/4], honestR[(3*len(honestR))/4]
	if r.tprNorm < lo || r.tprNorm > hi {
		t.Fatalf("normalizer %d outside the honest evaluators' middle half [%d, %d] with %d of %d evaluators inflated", r.tprNorm, lo, hi, nAttackers, nAttackers+len(honestR))
	}
}

// TestWalkStepsAreSpacedByTheGap: a star that pays in every one of 40
// blocks sends walk steps only every tpr_step_gap rounds, exactly as if it
// had paid only in those rounds; the other payments still add capacity.
func TestWalkStepsAreSpacedByTheGap(t *testing.T) {
	a, b := star("gap", 1), star("gap", 2)
	every, spaced := mustNew(t, `{"tpr_step_gap": 16}`), mustNew(t, `{"tpr_step_gap": 16}`)
	for round := uint64(1); round <= 40; round++ {
		pay := interfaces.Observation{Interactions: []interfaces.Interaction{{From: a, To: b, Amount: 5}}}
		mustObserve(t, every, pay)
		if round%16 == 1 {
			mustObserve(t, spaced, pay)
		} else {
			// a and b must exist in both worlds, and a round still passes.
			mustObserve(t, spaced, interfaces.Observation{})
		}
	}
	for _, s := range []interfaces.StarID{a, b} {
		x, y := every.stars[s], spaced.stars[s]
		if x.tprR != y.tprR || x.tprS != y.tprS {
			t.Errorf("star %s: walk mass (%d, %d) paying every round, (%d, %d) paying every 16th", s, x.tprR, x.tprS, y.tprR, y.tprS)
		}
	}
	if e, f := every.edges[edgeKey{a, b}], spaced.edges[edgeKey{a, b}]; e == nil || f == nil || e.count != 40 || f.count != 3 {
		t.Fatalf("edge counts: every round %v, spaced %v; want 40 and 3", e, f)
	}
}
