package repsim

import (
	"bytes"
	"errors"
	"image/png"
	"math"
	"slices"
	"testing"

	"github.com/constellation-chain/constellation/interfaces"
	"pgregory.net/rapid"
)

// trustFactory builds a small reputation for the tests: a star's score is
// its included contributions minus ten per provable fault, and Select takes
// the k best (ties by StarID after a seeded shuffle). It is enough to see
// the simulation feed observations back into selection.
type trustFactory struct{}

func (trustFactory) Info() interfaces.PluginInfo {
	return interfaces.PluginInfo{Kind: interfaces.KindReputation, Name: "test-trust", Version: "0.0.0", APIVersions: []int{interfaces.APIVersion}}
}

func (trustFactory) NewReputation([]byte) (interfaces.Reputation, error) {
	return &trustRep{score: map[interfaces.StarID]int64{}}, nil
}

type trustRep struct{ score map[interfaces.StarID]int64 }

func (r *trustRep) Observe(o interfaces.Observation) error {
	for _, s := range o.Meta.Proposers {
		r.score[s]++
	}
	for _, f := range o.Meta.Faults {
		r.score[f.Star] -= 10
	}
	return nil
}

func (r *trustRep) Score(s interfaces.StarID) interfaces.Score { return interfaces.Score(r.score[s]) }

func (r *trustRep) Select(c []interfaces.StarID, k int, seed interfaces.Hash) ([]interfaces.StarID, error) {
	pre, err := uniformSelector{}.Select(c, len(c), seed) // a seeded order for ties
	if err != nil {
		return nil, err
	}
	d := newDRBG(seed)
	for i := len(pre) - 1; i > 0; i-- {
		j := int(d.below(uint64(i + 1)))
		pre[i], pre[j] = pre[j], pre[i]
	}
	slices.SortStableFunc(pre, func(a, b interfaces.StarID) int {
		switch sa, sb := r.score[a], r.score[b]; {
		case sa > sb:
			return -1
		case sa < sb:
			return 1
		}
		return 0
	})
	out := slices.Clone(pre[:k])
	slices.SortFunc(out, cmpStar)
	return out, nil
}

func (r *trustRep) Snapshot() ([]byte, error) { return nil, errors.New("not supported") }
func (r *trustRep) Restore([]byte) error      { return errors.New("not supported") }

func tinyParams() Params {
	return Params{
		Factory: trustFactory{}, Stars: 120, Rounds: 260, Warmup: 40, Seeds: 2,
		Committees: []int{10}, Byzantine: []int{25}, ScenarioByzantine: []int{25}, Workers: 2,
	}
}

func TestRunIsDeterministic(t *testing.T) {
	a, err := Run(tinyParams())
	if err != nil {
		t.Fatal(err)
	}
	p := tinyParams()
	p.Workers = 1 // parallelism must not matter
	b, err := Run(p)
	if err != nil {
		t.Fatal(err)
	}
	if a.Markdown() != b.Markdown() {
		t.Fatalf("same seeds gave different tables:\n%s\n%s", a.Markdown(), b.Markdown())
	}
	if got, want := len(a.Rows), len(AllScenarios)*len(Methods); got != want {
		t.Fatalf("%d rows, want %d", got, want)
	}
	for i := range a.Rows {
		if !slices.Equal(a.Rows[i].Series, b.Rows[i].Series) {
			t.Fatalf("row %d: per-round series differ", i)
		}
	}
	p.Seeds = 3 // more seeds: a different table (the first seeds are shared)
	c, err := Run(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.Markdown() == a.Markdown() {
		t.Error("a third seed left every number unchanged")
	}
}

func TestReputationFeedbackLowersAttackerSeats(t *testing.T) {
	rep, err := Run(tinyParams())
	if err != nil {
		t.Fatal(err)
	}
	trust, _ := rep.Find(ScenarioStatic, 25, 10, MethodMeme)
	uni, _ := rep.Find(ScenarioStatic, 25, 10, MethodUniform)
	if !(trust.SeatShare < uni.SeatShare/2) {
		t.Errorf("a reputation that punishes faults and omissions gave attackers %.3f of seats, uniform %.3f", trust.SeatShare, uni.SeatShare)
	}
}

func TestUniformBaselineSeatShareIsTheByzantineShare(t *testing.T) {
	for _, beta := range []int{10, 33} {
		rep, err := Run(Params{Stars: 300, Rounds: 400, Seeds: 2, Committees: []int{31}, Byzantine: []int{beta},
			Scenarios: []Scenario{ScenarioStatic}, Methods: []Method{MethodUniform, MethodStake}})
		if err != nil {
			t.Fatal(err)
		}
		u, _ := rep.Find(ScenarioStatic, beta, 31, MethodUniform)
		want := float64(beta) / 100
		// 640 rounds × 31 seats: the standard error is below 0.5 points.
		if math.Abs(u.SeatShare-want) > 0.02 {
			t.Errorf("β=%d%%: uniform seat share %.4f, want ≈ %.2f", beta, u.SeatShare, want)
		}
		s, _ := rep.Find(ScenarioStatic, beta, 31, MethodStake)
		if s.SeatShare <= 0 || s.SeatShare >= 1 {
			t.Errorf("β=%d%%: stake-weighted seat share %.4f out of (0, 1)", beta, s.SeatShare)
		}
	}
}

func TestSybilRegionFloodsUniformSelection(t *testing.T) {
	rep, err := Run(Params{Stars: 200, Rounds: 60, Seeds: 1, Committees: []int{20}, ScenarioByzantine: []int{25},
		Scenarios: []Scenario{ScenarioSybil}, Methods: []Method{MethodUniform}})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := rep.Find(ScenarioSybil, 25, 20, MethodUniform)
	// 1000 Sybils among 1200 candidates.
	if math.Abs(r.SybilShare-1000.0/1200) > 0.05 {
		t.Errorf("Sybil share under uniform selection %.3f, want ≈ %.3f", r.SybilShare, 1000.0/1200)
	}
}

func TestBaselinesReturnKDistinctSortedCandidates(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 60).Draw(t, "n")
		k := rapid.IntRange(0, n).Draw(t, "k")
		var cands []interfaces.StarID
		stake := map[interfaces.StarID]uint64{}
		for i := range n {
			id := interfaces.StarID(interfaces.DomainSum("test", u64(uint64(i))))
			cands = append(cands, id)
			stake[id] = rapid.Uint64Range(0, 1000).Draw(t, "stake")
		}
		var seed interfaces.Hash
		seed[0] = rapid.Byte().Draw(t, "seed")
		for _, sel := range []selector{uniformSelector{}, stakeSelector{stake: func(s interfaces.StarID) uint64 { return stake[s] }}} {
			got, err := sel.Select(cands, k, seed)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != k || !slices.IsSortedFunc(got, cmpStar) || len(slices.CompactFunc(slices.Clone(got), func(a, b interfaces.StarID) bool { return a == b })) != k {
				t.Fatalf("%T: %d delegates, sorted %v, want %d distinct sorted", sel, len(got), slices.IsSortedFunc(got, cmpStar), k)
			}
			for _, s := range got {
				if !slices.Contains(cands, s) {
					t.Fatalf("%T selected a non-candidate", sel)
				}
			}
		}
	})
}

func TestHypergeometricTailMatchesKnownValues(t *testing.T) {
	cases := []struct {
		n, m, k, x int
		want       float64
		tol        float64 // relative
	}{
		// Exact small cases: P(X ≥ 1) drawing 2 of 4 with 2 marked = 5/6;
		// P(X ≥ 2) = 1/6.
		{4, 2, 2, 1, 5.0 / 6, 1e-12},
		{4, 2, 2, 2, 1.0 / 6, 1e-12},
		// P(all 5 marked) drawing 5 of 10 with 5 marked = 1/252.
		{10, 5, 5, 5, 1.0 / 252, 1e-12},
		// Certain and impossible events.
		{100, 50, 10, 0, 1, 1e-12},
		{100, 5, 10, 6, 0, 0},
		{100, 95, 10, 5, 1, 1e-12}, // at least 5 of 10 are marked: always
	}
	for _, c := range cases {
		got := HypergeometricTail(c.n, c.m, c.k, c.x)
		if c.want == 0 && got != 0 || c.want != 0 && math.Abs(got-c.want)/c.want > c.tol+1e-15 {
			t.Errorf("HypergeometricTail(%d,%d,%d,%d) = %g, want %g", c.n, c.m, c.k, c.x, got, c.want)
		}
	}
	// The reference point: uniform selection at 25 % Byzantine,
	// k = 100 of 2000, capture (≥ 34 seats) ≈ 2.4e-2.
	if got := CaptureProbability(2000, 0.25, 100); math.Abs(got-2.4e-2) > 0.2e-2 {
		t.Errorf("capture at β = 25 %%, k = 100: %g, want ≈ 2.4e-2", got)
	}
	// Far tails stay positive and monotone in the Byzantine share (while
	// at least ⌈k/3⌉ = 34 of the 2000 are Byzantine; below, capture is
	// impossible and exactly 0).
	if p := CaptureProbability(2000, 0.01, 100); p != 0 {
		t.Errorf("capture with 20 Byzantine stars = %g, want 0", p)
	}
	prev := 1.0
	for _, s := range []float64{0.2, 0.125, 0.05, 0.02} {
		p := CaptureProbability(2000, s, 100)
		if !(p > 0 && p < prev) {
			t.Errorf("capture at share %.3f = %g, want in (0, %g)", s, p, prev)
		}
		prev = p
	}
	if p := CaptureProbability(2000, 0.125, 100); p > 1e-8 || p < 1e-12 {
		t.Errorf("capture at share 0.125 = %g, expected between 1e-12 and 1e-8", p)
	}
}

// Matches the direct sum computed with big-number-free exact ratios for a
// mid-size case: P(X ≥ 3), n = 30, m = 10, k = 6.
func TestHypergeometricTailAgreesWithDirectSum(t *testing.T) {
	choose := func(n, r int) float64 {
		v := 1.0
		for i := 1; i <= r; i++ {
			v = v * float64(n-r+i) / float64(i)
		}
		return v
	}
	var want float64
	for i := 3; i <= 6; i++ {
		want += choose(10, i) * choose(20, 6-i)
	}
	want /= choose(30, 6)
	if got := HypergeometricTail(30, 10, 6, 3); math.Abs(got-want)/want > 1e-10 {
		t.Errorf("got %.15g, want %.15g", got, want)
	}
}

func TestHalvingRoundsFindsTheDrop(t *testing.T) {
	s := make([]float64, 400)
	for i := range s {
		s[i] = 0.25
		if i >= 229 { // round 230 on
			s[i] = 0.05
		}
	}
	// Defect at round 200; the trailing 10-round mean first reaches
	// ≤ 0.125 at round 236 (window 227–236: seven rounds of 0.05 and three
	// of 0.25 give 0.11; at round 235 six and four give 0.13).
	if got := halvingRounds(s, 200); got != 36 {
		t.Errorf("halving after %d rounds, want 36", got)
	}
	flat := make([]float64, 400)
	for i := range flat {
		flat[i] = 0.25
	}
	if got := halvingRounds(flat, 200); got != -1 {
		t.Errorf("a flat series halved after %d rounds", got)
	}
}

func TestWritePlotProducesADecodablePNG(t *testing.T) {
	y := make([]float64, 300)
	for i := range y {
		y[i] = 0.25 * math.Exp(-float64(i)/80)
	}
	var buf bytes.Buffer
	err := WritePlot(&buf, Plot{Title: "static: attacker seat share, β=25%, k=100", XLabel: "round", YLabel: "seat share", YMax: 0.3,
		Lines: []Line{{Label: "Proof-of-Meme", Color: MethodColor[MethodMeme], Y: y}, {Label: "uniform", Color: MethodColor[MethodUniform], Y: []float64{0.25, 0.25}}}})
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatalf("decode the written PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 900 || b.Dy() != 500 {
		t.Errorf("image %v, want 900×500", b)
	}
	// The Proof-of-Meme colour is drawn somewhere (the line and the legend).
	found := false
	want := MethodColor[MethodMeme]
	for yy := 0; yy < 500 && !found; yy++ {
		for xx := 0; xx < 900; xx++ {
			r, g, b, _ := img.At(xx, yy).RGBA()
			if uint8(r>>8) == want.R && uint8(g>>8) == want.G && uint8(b>>8) == want.B {
				found = true
				break
			}
		}
	}
	if !found {
		t.Error("the first line's colour appears nowhere in the image")
	}
}

func TestParamsAreValidated(t *testing.T) {
	for name, p := range map[string]Params{
		"no factory":      {Methods: []Method{MethodMeme}},
		"committee large": {Stars: 100, Committees: []int{60}, Methods: []Method{MethodUniform}},
		"beta 100":        {Byzantine: []int{100}, Methods: []Method{MethodUniform}},
		"warm-up":         {Rounds: 50, Warmup: 50, Methods: []Method{MethodUniform}},
	} {
		if _, err := Run(p); err == nil {
			t.Errorf("%s: Run accepted invalid params", name)
		}
	}
	if _, err := ParseScenario("nope"); err == nil {
		t.Error("ParseScenario accepted an unknown name")
	}
}

func TestSectionStatesWhatWasRun(t *testing.T) {
	rep, err := Run(Params{Stars: 100, Rounds: 40, Seeds: 1, Committees: []int{10}, Byzantine: []int{25},
		Scenarios: []Scenario{ScenarioStatic}, Methods: []Method{MethodUniform}})
	if err != nil {
		t.Fatal(err)
	}
	sec := rep.Section("constellation sim reputation --stars 100", 0, []string{"img/reputation-static.png"})
	for _, want := range []string{"## Simulation results\n", "constellation sim reputation --stars 100", "N = 100 instead of 2000",
		"1 seeds instead of 20", "| static | 25 % | 10 | uniform |", "![reputation-static](img/reputation-static.png)", "P(X ≥ ⌈k/3⌉)"} {
		if !bytes.Contains([]byte(sec), []byte(want)) {
			t.Errorf("section lacks %q", want)
		}
	}
}

// recorder is a uniform selector that records what it is shown.
type recorder struct {
	uniformSelector
	cands   [][]interfaces.StarID
	maxObs  int
	stuffed int
}

func (r *recorder) Select(c []interfaces.StarID, k int, seed interfaces.Hash) ([]interfaces.StarID, error) {
	r.cands = append(r.cands, slices.Clone(c))
	return r.uniformSelector.Select(c, k, seed)
}

func (r *recorder) Observe(o interfaces.Observation) error {
	r.maxObs = max(r.maxObs, len(o.Interactions))
	if len(o.Interactions) >= StuffTransfers {
		r.stuffed++
	}
	return nil
}

// TestStuffingIsThePatientWorldPlusStuffedBlocks: under a method that
// ignores observations, the stuffing scenario selects exactly as the
// patient one (the same world), and its Byzantine proposers' blocks carry
// the stuffed transfers.
func TestStuffingIsThePatientWorldPlusStuffedBlocks(t *testing.T) {
	p := tinyParams().withDefaults()
	run := func(sc Scenario) *recorder {
		rec := &recorder{}
		w := newWorld(&p, cell{sc, 25, 10, MethodUniform}, 1, rec)
		if _, err := w.run(); err != nil {
			t.Fatal(err)
		}
		return rec
	}
	pat, st := run(ScenarioPatient), run(ScenarioStuffing)
	if !slices.EqualFunc(pat.cands, st.cands, slices.Equal) {
		t.Fatal("the stuffing scenario's candidates differ from the patient scenario's")
	}
	if pat.stuffed != 0 || st.stuffed == 0 || st.stuffed == p.Rounds {
		t.Fatalf("stuffed blocks: patient %d, stuffing %d of %d", pat.stuffed, st.stuffed, p.Rounds)
	}
}

// TestSleepingStarsAreNoCandidates: in the churn scenario a sleeping star
// is never offered for selection, and wakes are counted.
func TestSleepingStarsAreNoCandidates(t *testing.T) {
	p := tinyParams().withDefaults()
	rec := &recorder{}
	w := newWorld(&p, cell{ScenarioChurn, 25, 10, MethodUniform}, 1, rec)
	res := &runResult{}
	sleepy := 0
	for _, s := range w.stars {
		if s.sleepy {
			sleepy++
		}
	}
	if sleepy < len(w.stars)/5 || sleepy > len(w.stars)*2/5 {
		t.Fatalf("%d of %d stars are sleepy, want about 30 %%", sleepy, len(w.stars))
	}
	asleepSeen := false
	for r := 1; r <= 300; r++ {
		w.sleepAndWake(r, res)
		for _, id := range w.candidates() {
			if w.stars[w.byID[id]].asleep {
				t.Fatalf("round %d: sleeping star %s is a candidate", r, id.Short())
			}
		}
		for _, s := range w.stars {
			asleepSeen = asleepSeen || s.asleep
		}
	}
	if !asleepSeen || res.wakes == 0 {
		t.Fatalf("in 300 rounds: a star asleep %v, %d wakes", asleepSeen, res.wakes)
	}
}

// obsRecorder is a uniform selector that keeps every observation.
type obsRecorder struct {
	uniformSelector
	obs []interfaces.Observation
}

func (r *obsRecorder) Observe(o interfaces.Observation) error {
	r.obs = append(r.obs, o)
	return nil
}

// TestAdaptiveSleeperStrikesWhenItHoldsAThird: in the adaptive-sleeper
// scenario every Byzantine delegate misbehaves (withholds, so it is not
// seen, or equivocates, which leaves a fault) in exactly the rounds in
// which the attackers hold at least ⌈k/3⌉ seats, and behaves — seen, no
// fault — in every other round; the strikes are the captured rounds.
func TestAdaptiveSleeperStrikesWhenItHoldsAThird(t *testing.T) {
	p := tinyParams().withDefaults()
	rec := &obsRecorder{}
	w := newWorld(&p, cell{ScenarioAdaptive, 25, 10, MethodUniform}, 1, rec)
	res, err := w.run()
	if err != nil {
		t.Fatal(err)
	}
	strikes, calm, measured := 0, 0, 0
	for i, o := range rec.obs {
		faulty := map[interfaces.StarID]bool{}
		for _, f := range o.Meta.Faults {
			faulty[f.Star] = true
		}
		byz, misbehaved := 0, 0
		for j, id := range o.Meta.Members {
			s := w.stars[w.byID[id]]
			if !s.byz {
				if faulty[id] {
					t.Fatalf("round %d: honest %s left a fault", i+1, id.Short())
				}
				continue
			}
			byz++
			if o.Meta.LatencyMillis[j] == 0 || faulty[id] {
				misbehaved++
			}
		}
		if got := int(res.byz[i]); got != byz {
			t.Fatalf("round %d: recorded %d attacker seats, the committee has %d", i+1, got, byz)
		}
		if 3*byz >= len(o.Meta.Members) {
			strikes++
			if i >= p.Warmup {
				measured++
			}
			if misbehaved != byz {
				t.Fatalf("round %d: attackers hold %d of %d seats but only %d struck", i+1, byz, len(o.Meta.Members), misbehaved)
			}
		} else {
			calm++
			if misbehaved != 0 {
				t.Fatalf("round %d: attackers hold %d of %d seats, below a third, yet %d misbehaved", i+1, byz, len(o.Meta.Members), misbehaved)
			}
		}
	}
	if strikes == 0 || calm == 0 {
		t.Fatalf("%d strike rounds and %d calm ones in %d: the fixture should have both", strikes, calm, len(rec.obs))
	}
	row := aggregate(&p, cell{ScenarioAdaptive, 25, 10, MethodUniform}, []*runResult{res}, defectRound(&p))
	if row.Captured.Events != measured || row.Captured.Trials != p.Rounds-p.Warmup {
		t.Errorf("captured %d of %d, want the %d strikes after warm-up of %d rounds", row.Captured.Events, row.Captured.Trials, measured, p.Rounds-p.Warmup)
	}
}

// TestSleeperGoodPhaseIsMeasured: the sleeper defects half-way through the
// measured window, so the warm-up never swallows the rounds in which it
// behaves and collects seats, and the good-phase count covers exactly the
// measured rounds before the defect.
func TestSleeperGoodPhaseIsMeasured(t *testing.T) {
	for _, p := range []Params{{Rounds: 10000}, {Rounds: 4000}, {Rounds: 260, Warmup: 40}, {Rounds: 600, Warmup: 500}} {
		p = p.withDefaults()
		d := defectRound(&p)
		if good := d - 1 - p.Warmup; good < (p.Rounds-p.Warmup)/2 || d > p.Rounds {
			t.Errorf("rounds %d, warm-up %d: defect at %d leaves %d measured good rounds", p.Rounds, p.Warmup, d, good)
		}
	}
	p := tinyParams()
	p.Scenarios, p.Methods = []Scenario{ScenarioSleeper}, []Method{MethodUniform}
	rep, err := Run(p)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := rep.Find(ScenarioSleeper, 25, 10, MethodUniform)
	if want := p.Seeds * (rep.Defect - 1 - p.Warmup); r.GoodPhase.Trials != want {
		t.Errorf("good phase counts %d rounds, want %d", r.GoodPhase.Trials, want)
	}
	if r.GoodPhase.Events > r.Captured.Events {
		t.Errorf("good phase has more captures (%d) than the whole window (%d)", r.GoodPhase.Events, r.Captured.Events)
	}
}
