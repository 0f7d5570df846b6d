package repsim

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// logChoose returns ln C(n, r) for 0 ≤ r ≤ n.
func logChoose(n, r int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(r + 1))
	c, _ := math.Lgamma(float64(n - r + 1))
	return a - b - c
}

// HypergeometricTail returns P(X ≥ x) for X hypergeometric: k draws without
// replacement from a population of n containing m marked items,
//
//	P(X ≥ x) = Σ_{i=x}^{min(k,m)} C(m, i)·C(n−m, k−i) / C(n, k).
//
// Terms are summed in log space (math.Lgamma, log-sum-exp), so tails far
// below 1e-8 keep their relative precision; the result underflows to 0
// only below about 1e-308.
func HypergeometricTail(n, m, k, x int) float64 {
	if n < 0 || m < 0 || m > n || k < 0 || k > n {
		return math.NaN()
	}
	x = max(x, 0, k-(n-m)) // X ≥ k−(n−m) always: terms below are zero
	hi := min(k, m)
	if x > hi {
		return 0
	}
	den := logChoose(n, k)
	logs := make([]float64, 0, hi-x+1)
	top := math.Inf(-1)
	for i := x; i <= hi; i++ {
		l := logChoose(m, i) + logChoose(n-m, k-i) - den
		logs = append(logs, l)
		top = math.Max(top, l)
	}
	var s float64
	for _, l := range logs {
		s += math.Exp(l - top)
	}
	return math.Min(1, math.Exp(top+math.Log(s)))
}

// CaptureProbability is the per-round probability that attackers hold at
// least a third of a committee of k when seats are drawn without
// replacement from n stars of which round(share·n) are Byzantine:
// HypergeometricTail(n, round(share·n), k, ⌈k/3⌉).
func CaptureProbability(n int, share float64, k int) float64 {
	m := int(math.Round(share * float64(n)))
	return HypergeometricTail(n, min(max(m, 0), n), k, (k+2)/3)
}

// Targets at 25 % Byzantine.
const (
	TargetSeatShare  = 0.125
	TargetCapture    = 1e-8
	TargetSybilShare = 0.01
	TargetNewcomer   = 0.95
	TargetHalving    = 50
	// TargetStuffingGain bounds what block stuffing may add to the
	// attackers' seat share: one point.
	TargetStuffingGain = 0.01
)

func pct(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.2f %%", 100*v)
}

func sci(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	if v == 0 {
		return "0"
	}
	return fmt.Sprintf("%.1e", v)
}

func halving(r Row) string {
	switch {
	case r.Scenario != ScenarioSleeper:
		return "–"
	case r.SleeperHalving < 0:
		return "never"
	}
	return fmt.Sprintf("%d", r.SleeperHalving)
}

func woken(r Row) string {
	if r.Scenario != ScenarioChurn || r.Wakes == 0 {
		return "–"
	}
	d := "–"
	if r.WakeDelayMedian >= 0 {
		d = fmt.Sprintf("%d", r.WakeDelayMedian)
	}
	return fmt.Sprintf("%s of %d (%s)", pct(r.WakePicked), r.Wakes, d)
}

// StuffingGain returns how much block stuffing raises the attackers' seat
// share over the patient scenario (the same world without the stuffing)
// at the same β and k, in seat-share units, and whether both were run.
func (rep *Report) StuffingGain(beta, k int, m Method) (float64, bool) {
	st, ok1 := rep.Find(ScenarioStuffing, beta, k, m)
	base, ok2 := rep.Find(ScenarioPatient, beta, k, m)
	return st.SeatShare - base.SeatShare, ok1 && ok2
}

// Markdown renders the table: one line per cell.
func (rep *Report) Markdown() string {
	var b strings.Builder
	b.WriteString("| scenario | β | k | method | attacker seat share | rounds with ≥ ⌈k/3⌉ attackers, observed [95 % CI] | … in the sleeper's good phase | hypergeometric at k (uniform draws only) | Sybil seat share | newcomers picked ≤ 200 rounds | … picked twice | sleeper halving (rounds) | woken stars picked before sleeping (median rounds) |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, r := range rep.Rows {
		good := "–"
		if r.Scenario == ScenarioSleeper {
			good = fmtProportion(r.GoodPhase)
		}
		fmt.Fprintf(&b, "| %s | %d %% | %d | %s | %s | %s | %s | %s | %s | %s (%d) | %s | %s | %s |\n",
			r.Scenario, r.Byzantine, r.K, r.Method, pct(r.SeatShare), fmtProportion(r.Captured), good, sci(r.CaptureFormula),
			pct(r.SybilShare), pct(r.NewcomerPicked), r.Newcomers, pct(r.NewcomerAgain), halving(r), woken(r))
	}
	return b.String()
}

// Find returns the row of a cell, if it was run.
func (rep *Report) Find(sc Scenario, beta, k int, m Method) (Row, bool) {
	for _, r := range rep.Rows {
		if r.Scenario == sc && r.Byzantine == beta && r.K == k && r.Method == m {
			return r, true
		}
	}
	return Row{}, false
}

// Verdict is the outcome of checking a measured figure against a target.
type Verdict int

const (
	// Met: the whole 95 % interval satisfies the target (or, for a
	// comparison with uniform, the observed figure is within uniform's
	// interval or below it).
	Met Verdict = iota
	// Missed: the whole interval violates the target.
	Missed
	// NotShown: the interval straddles the target; more rounds or seeds
	// would decide.
	NotShown
)

func (v Verdict) String() string {
	switch v {
	case Met:
		return "met"
	case Missed:
		return "**missed**"
	}
	return "not shown"
}

// atMost checks "value ≤ target" given the value's interval. Without an
// interval (one seed) the point value decides.
func atMost(value float64, iv Interval, target float64) Verdict {
	switch {
	case math.IsNaN(iv.Lo) || math.IsNaN(iv.Hi):
		if value <= target {
			return Met
		}
		return Missed
	case iv.Hi <= target:
		return Met
	case iv.Lo > target:
		return Missed
	}
	return NotShown
}

// captureRow is the row whose capture a verdict uses: in the sleeper
// scenario its good phase, where the attacker strikes; elsewhere the whole
// measured window.
func captureOf(r Row) Proportion {
	if r.Scenario == ScenarioSleeper {
		return r.GoodPhase
	}
	return r.Captured
}

// NoWorseThanUniform checks that Proof-of-Meme's observed capture rate in
// scenario sc at β and k is no worse than the uniform draw's: Met if it is
// at most the upper end of uniform's 95 % interval, Missed if even its own
// lower end lies above that, NotShown in between. For the sleeper the good
// phase is compared. ok is false if either cell was not run.
func (rep *Report) NoWorseThanUniform(sc Scenario, beta, k int) (v Verdict, meme, uniform Proportion, ok bool) {
	m, ok1 := rep.Find(sc, beta, k, MethodMeme)
	u, ok2 := rep.Find(sc, beta, k, MethodUniform)
	if !ok1 || !ok2 {
		return NotShown, Proportion{}, Proportion{}, false
	}
	meme, uniform = captureOf(m), captureOf(u)
	switch {
	case meme.Rate() <= uniform.CI.Hi:
		v = Met
	case meme.CI.Lo > uniform.CI.Hi:
		v = Missed
	default:
		v = NotShown
	}
	return v, meme, uniform, true
}

func ivStr(iv Interval, f func(float64) string) string {
	if math.IsNaN(iv.Lo) || math.IsNaN(iv.Hi) {
		return "– (one seed)"
	}
	return "[" + f(iv.Lo) + ", " + f(iv.Hi) + "]"
}

func per10k(p Proportion) string {
	if p.Trials == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f [%.1f, %.1f]", 1e4*p.Rate(), 1e4*p.CI.Lo, 1e4*p.CI.Hi)
}

// TargetsMarkdown checks Proof-of-Meme against its targets at 25 %
// Byzantine, for every committee size run: one row per target with the
// observed figure, its 95 % interval and the verdict. The seat-share and
// capture targets take the worst observable scenario (Scenario.Observable);
// against the unobservable ones — sleeper, adaptive sleeper, patient — the
// target is to capture no more often than the uniform draw at the same k.
// Newcomers take the worst scenario, the Sybil share the Sybil scenario,
// halving the sleeper scenario.
func (rep *Report) TargetsMarkdown() string {
	var b strings.Builder
	b.WriteString("| target (β = 25 %, Proof-of-Meme) | k | observed (scenario) | 95 % interval | verdict |\n| --- | --- | --- | --- | --- |\n")
	for _, k := range rep.Params.Committees {
		var worstShare, worstCap, worstNew *Row
		for i := range rep.Rows {
			r := &rep.Rows[i]
			if r.Byzantine != 25 || r.K != k || r.Method != MethodMeme {
				continue
			}
			if !math.IsNaN(r.NewcomerPicked) && (worstNew == nil || r.NewcomerPicked < worstNew.NewcomerPicked) {
				worstNew = r
			}
			if !r.Scenario.Observable() {
				continue
			}
			if worstShare == nil || r.SeatShare > worstShare.SeatShare {
				worstShare = r
			}
			if worstCap == nil || r.Captured.CI.Hi > worstCap.Captured.CI.Hi {
				worstCap = r
			}
		}
		if worstShare != nil {
			r := worstShare
			fmt.Fprintf(&b, "| attacker seat share ≤ 12.5 %% (worst observable attack) | %d | %s (%s) | %s | %s |\n", k, pct(r.SeatShare), r.Scenario,
				ivStr(r.SeatShareCI, pct), atMost(r.SeatShare, r.SeatShareCI, TargetSeatShare))
		}
		if worstCap != nil {
			c := worstCap.Captured
			v := atMost(c.Rate(), c.CI, TargetCapture)
			note := ""
			if v == NotShown && c.Events == 0 {
				// 1 − (α/2)^(1/n) ≤ t  ⇔  n ≥ ln(α/2)/ln(1−t)
				need := math.Log((1-Confidence)/2) / math.Log1p(-TargetCapture)
				note = fmt.Sprintf(": no capture seen, but %d rounds bound the rate only below %s; %.1e rounds without one would show 1e-8", c.Trials, rateStr(c.CI.Hi), need)
			}
			fmt.Fprintf(&b, "| rounds with ≥ ⌈k/3⌉ attackers ≤ 1e-8 (worst observable attack; hypergeometric from its seat share, valid for uniform draws only: %s) | %d | %s (%s) | %s | %s%s |\n",
				sci(worstCap.CaptureFormula), k, fmtProportion(c), worstCap.Scenario, ivStr(c.CI, rateStr), v, note)
		}
		if r, ok := rep.Find(ScenarioSybil, 25, k, MethodMeme); ok {
			fmt.Fprintf(&b, "| Sybil seat share < 1 %% | %d | %s | – | %s |\n", k, pct(r.SybilShare), atMost(r.SybilShare, Interval{math.NaN(), math.NaN()}, TargetSybilShare))
		}
		if r := worstNew; r != nil {
			picked := int(math.Round(r.NewcomerPicked * float64(r.Newcomers)))
			iv := ClopperPearson(float64(picked), float64(r.Newcomers), Confidence)
			v := atMost(-r.NewcomerPicked, Interval{-iv.Hi, -iv.Lo}, -TargetNewcomer)
			fmt.Fprintf(&b, "| honest newcomer picked within 200 rounds ≥ 95 %% | %d | %d/%d = %s (%s) | %s | %s |\n", k, picked, r.Newcomers, pct(r.NewcomerPicked), r.Scenario, ivStr(iv, pct), v)
		}
		if g, ok := rep.StuffingGain(25, k, MethodMeme); ok {
			st, _ := rep.Find(ScenarioStuffing, 25, k, MethodMeme)
			base, _ := rep.Find(ScenarioPatient, 25, k, MethodMeme)
			h := math.Hypot(st.SeatShareCI.Hi-st.SeatShare, base.SeatShareCI.Hi-base.SeatShare)
			iv := Interval{g - h, g + h}
			fmt.Fprintf(&b, "| block stuffing adds ≤ 1 point of seats over patient | %d | %+.2f points | %s | %s |\n", k, 100*g,
				ivStr(iv, func(v float64) string { return fmt.Sprintf("%+.2f", 100*v) }), atMost(g, iv, TargetStuffingGain))
		}
		if r, ok := rep.Find(ScenarioSleeper, 25, k, MethodMeme); ok {
			h := r.SleeperHalving
			if h < 0 {
				fmt.Fprintf(&b, "| sleeper halves within 50 rounds | %d | never | – | **missed** |\n", k)
			} else {
				v := Met
				if h > TargetHalving {
					v = Missed
				}
				fmt.Fprintf(&b, "| sleeper halves within 50 rounds | %d | %d rounds | – | %s |\n", k, h, v)
			}
		}
		for _, sc := range []Scenario{ScenarioSleeper, ScenarioAdaptive, ScenarioPatient, ScenarioStuffing} {
			v, m, u, ok := rep.NoWorseThanUniform(sc, 25, k)
			if !ok {
				continue
			}
			what := map[Scenario]string{
				ScenarioSleeper:  "sleeper, good phase: captured rounds ≤ uniform's",
				ScenarioAdaptive: "adaptive sleeper: strikes per 10 000 rounds ≤ uniform's",
				ScenarioPatient:  "patient: captured rounds ≤ uniform's",
				ScenarioStuffing: "stuffing: captured rounds ≤ uniform's",
			}[sc]
			obs, iv, ref := fmtProportion(m), ivStr(m.CI, rateStr), fmtProportion(u)
			if sc == ScenarioAdaptive {
				obs, iv, ref = per10k(m), "(in brackets)", per10k(u)
			}
			fmt.Fprintf(&b, "| %s | %d | %s | %s | %s (uniform: %s) |\n", what, k, obs, iv, v, ref)
		}
	}
	return b.String()
}

// CaptureByK renders the committee-size table (the whitepaper's Figure 4)
// for one scenario: per β and method, the observed capture rate with its
// 95 % interval at every k run, and the hypergeometric value for the
// uniform draw at the row's seat share.
func (rep *Report) CaptureByK(sc Scenario) string {
	ks := rep.Params.Committees
	betas := rep.Params.ScenarioByzantine
	if sc == ScenarioStatic {
		betas = rep.Params.Byzantine
	}
	var b strings.Builder
	b.WriteString("| β | method |")
	for _, k := range ks {
		fmt.Fprintf(&b, " k = %d |", k)
	}
	b.WriteString("\n| --- | --- |" + strings.Repeat(" --- |", len(ks)) + "\n")
	for _, beta := range betas {
		for _, m := range []Method{MethodUniform, MethodMeme} {
			fmt.Fprintf(&b, "| %d %% | %s |", beta, m)
			for _, k := range ks {
				r, ok := rep.Find(sc, beta, k, m)
				if !ok {
					b.WriteString(" – |")
					continue
				}
				c := captureOf(r)
				fmt.Fprintf(&b, " %s (formula %s) |", fmtProportion(c), sci(r.CaptureFormula))
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// MinCommittee returns the smallest committee size k ≤ maxK from which on
// the hypergeometric capture probability, for n stars of which a beta
// share attack, stays at most risk (the tail is not monotone in k: it
// jumps whenever ⌈k/3⌉ steps), or 0 if none is.
func MinCommittee(n int, beta float64, risk float64, maxK int) int {
	maxK = min(maxK, n)
	best := 0
	for k := maxK; k >= 1; k-- {
		if CaptureProbability(n, beta, k) > risk {
			break
		}
		best = k
	}
	return best
}

// maxClusterK bounds the committee sizes ClusterSizeMarkdown searches.
const maxClusterK = 1000

// ClusterSizeMarkdown is the table of the committee size a per-round
// capture risk needs, from the hypergeometric tail (valid for uniform
// draws, and so for Proof-of-Meme against attackers it cannot see, where
// it draws uniformly among the stars in good standing) for a population
// of n stars.
func ClusterSizeMarkdown(n int, betas []int, risks []float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| β \\ risk per round (N = %d) |", n)
	for _, r := range risks {
		fmt.Fprintf(&b, " %s |", sci(r))
	}
	b.WriteString("\n| --- |" + strings.Repeat(" --- |", len(risks)) + "\n")
	for _, beta := range betas {
		fmt.Fprintf(&b, "| %d %% |", beta)
		for _, r := range risks {
			if k := MinCommittee(n, float64(beta)/100, r, min(n/2, maxClusterK)); k > 0 {
				fmt.Fprintf(&b, " %d |", k)
			} else {
				fmt.Fprintf(&b, " > %d |", min(n/2, maxClusterK))
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// Section renders the "## Simulation results" section of
// docs/reputation.md: how it was produced (command, elapsed time, grid),
// the model, the targets verdicts, the table and the plots (paths relative
// to the markdown file).
func (rep *Report) Section(command string, elapsed time.Duration, plots []string) string {
	p := rep.Params
	var b strings.Builder
	b.WriteString("## Simulation results\n\n")
	fmt.Fprintf(&b, "Produced by (%s on this machine, %d worker(s)%s):\n\n```\n%s\n```\n\n", elapsed.Round(time.Second), p.Workers, machine(rep.Machine), command)
	fmt.Fprintf(&b, "**What was run:** N = %d genuine stars, %d rounds per run of which the first %d are warm-up (excluded from every metric), %d seed(s) per configuration, k ∈ %v. ",
		p.Stars, p.Rounds, p.Warmup, p.Seeds, p.Committees)
	fmt.Fprintf(&b, "Scenarios: %v. The static scenario sweeps β ∈ %v %%; the others run at β ∈ %v %%. ", p.Scenarios, p.Byzantine, p.ScenarioByzantine)
	fmt.Fprintf(&b, "Sleepers defect at round %d, half-way through the measured window, so rounds %d–%d of their good phase are measured. Methods: %v.\n\n", rep.Defect, p.Warmup+1, rep.Defect-1, p.Methods)
	if d := rep.versusFullGrid(); d != "" {
		b.WriteString("**Versus the full grid** (N = 2000, 10 000 rounds, 20 seeds, k ∈ {31, 100}, β ∈ {10, 20, 25, 33, 45} % for every scenario): " + d + "\n\n")
	}
	b.WriteString(modelText)
	b.WriteString("\n### Targets at β = 25 %\n\n")
	b.WriteString(targetsPreamble)
	b.WriteString(rep.TargetsMarkdown())
	b.WriteString("\n### All results\n\n")
	b.WriteString("β is the Byzantine share of the genuine stars; the attacker seat share counts Byzantine stars and, in the Sybil scenario, Sybils. " +
		"\"Rounds with ≥ ⌈k/3⌉ attackers\" is what the runs observed after warm-up at the row's k: captured rounds / measured rounds, rate and 95 % Clopper–Pearson interval (zero captures: the upper bound). " +
		"The sleeper's good phase is the measured rounds before its defect round. " +
		"The hypergeometric column is the tail above from the row's mean seat share at the row's k: exact for the uniform draw, a reference only for the others. Newcomer counts are in parentheses.\n\n")
	b.WriteString(rep.Markdown())
	if len(plots) > 0 {
		b.WriteString("\n### Plots\n\nAttacker seat share per round (mean over seeds, trailing average over rounds/100), one line per method.\n\n")
		for _, pl := range plots {
			fmt.Fprintf(&b, "![%s](%s)\n\n", strings.TrimSuffix(pl[strings.LastIndex(pl, "/")+1:], ".png"), pl)
		}
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

// modelText documents the simulation model; it is part of every generated
// results section so the numbers never lose their meaning.
const modelText = `### Model (package ` + "`conformance/repsim`" + `)

* **Stars and stakes.** N genuine stars; the first ⌊β·N⌋ are Byzantine. Stakes are Pareto with shape α = 1.16 and scale x_m = 1 (P(stake > x) = x^−1.16 for x ≥ 1, the "80/20" shape), drawn alike for honest and Byzantine stars. Every 20 rounds a random honest star leaves and an honest newcomer joins (Pareto stake, 4 honest economy partners).
* **Each round.** The seed is the round's beacon, sha256 of the run and the round (standing for the hash of the galaxy's threshold signature, which no proposer controls). Each method selects k delegates from all active stars. In the epoch, honest delegates contribute with latency uniform in 50–400 ms (1 % are not seen: crashes); Byzantine delegates, when attacking, withhold their contribution (not seen) or, with probability 0.3, equivocate, which leaves a provable fault. The decided set (` + "`Proposers`" + `) is the k − ⌊(k−1)/3⌋ earliest contributions, as HoneyBadger's ACS decides N − f. The resulting ` + "`interfaces.Observation`" + ` (Members, Proposers, Faults, LatencyMillis, Interactions) is fed to the reputation's ` + "`Observe`" + `; the baselines ignore it.
* **Interactions.** Genuine stars form a sparse random economy graph (each links to 4 random stars on joining); 200 payments of 1–10 units per round run along it.
* **Scenarios.** *static*: Byzantine delegates always attack. *sybil*: static plus 1000 Sybil identities (attackers too, minimum stake x_m each) that pay each other over a random graph of degree 8 (200 payments per round) and reach the honest region through 10 fixed honest→Sybil attack edges, each used with probability 0.1 per round. *whitewash*: static, and a Byzantine star that leaves a provable fault rejoins next round under a fresh identity (same stake, linked only to Byzantine stars). *on-off*: behave 150 rounds, attack 50, repeat. *collusion*: static plus a ring: each Byzantine star links to 8 more Byzantine stars and 300 payments of 10–100 units per round run among them. *sleeper*: behave perfectly, then attack for good from the defect round, half-way through the measured window. *adaptive-sleeper*: behave perfectly, and strike — every Byzantine delegate of the committee attacks — in each round in which the attackers hold at least ⌈k/3⌉ of its seats, then behave again; its capture rate is its strike rate. *grinding*: static, but when the previous block's proposer (a random delegate of the previous committee) is Byzantine it tries 16 candidate block hashes as seed and keeps the one giving attackers the most seats — what a raw-block-hash seed would allow; with the beacon it cannot. *patient*: Byzantine stars behave perfectly throughout and only collect seats. *stuffing*: patient, and when the block's proposer (a random delegate of the committee) is Byzantine it adds 20 000 one-unit transfers from random Byzantine stars to one of them; every block precedes a draw here, and the world (stars, graph, beacons) is the patient scenario's, so the difference in seats is the stuffing's alone. *churn*: static, and 30 % of the genuine stars, honest and Byzantine alike, are sleepy: an awake one falls asleep with probability 0.01 per round and a sleeping one wakes with 0.01; a sleeping star is no candidate and pays nobody.
* **Baselines.** *uniform*: k distinct candidates uniformly (sha256 counter-mode stream over the seed, partial Fisher–Yates). *stake-weighted*: k distinct candidates drawn one at a time with probability proportional to stake among those not yet drawn.
* **Metrics** (after warm-up, pooled over seeds). Attacker seat share = attacker seats / all seats, with the 95 % t interval over the seeds' shares. Captured rounds = rounds with at least ⌈k/3⌉ attacker seats / measured rounds, with the exact two-sided 95 % Clopper–Pearson interval (Clopper & Pearson, Biometrika 1934) on the effective number of rounds: the pooled rounds divided by Kish's design effect, the between-seed variance of the per-seed rates over the binomial p(1−p)/m (at least 1), because one run's rounds share a reputation state and are not independent. With no captured round the upper bound is 1 − 0.025^(1/n), about 3.7/n. In the sleeper scenario the verdicts use the good phase (measured rounds before the defect round). The hypergeometric reference at the row's k from a seat share s, with n = N and m = round(s·N): P(X ≥ ⌈k/3⌉) = Σ_{i=⌈k/3⌉}^{min(k,m)} C(m,i)·C(n−m,k−i) / C(n,k), summed in log space (math.Lgamma, log-sum-exp); it is exact for k seats drawn uniformly without replacement and for nothing else — a draw that favours some stars spreads committee make-up more widely than its mean seat share tells. Sybil seat share = Sybil seats / all seats. Newcomer metric = share of honest newcomers that joined after warm-up (and at least 200 rounds before the end) selected within 200 rounds of joining. Sleeper halving = rounds after the defect round until the attackers' seat share (mean over seeds, trailing 10-round mean) first falls to half its mean over the 200 rounds before defecting. Woken stars (churn) = the share of honest sleepy stars' wakes after warm-up that led to a seat before the star slept again, with the median rounds from the wake to that seat. Block-stuffing gain = stuffing seat share − patient seat share.
`

func machine(m string) string {
	if m == "" {
		return ""
	}
	return ", " + m
}

// targetsPreamble explains the verdicts of TargetsMarkdown.
const targetsPreamble = "Every interval is 95 %. Capture rates are observed — captured rounds over measured rounds, pooled over seeds — with the Clopper–Pearson interval on the effective number of rounds (the pooled count over Kish's design effect estimated from the seeds' spread, since rounds of one run are correlated); a rate of zero is reported as the upper bound its rounds support. Seat shares carry the t interval over the seeds' shares. *met*: the whole interval meets the target; ***missed***: none of it does; *not shown*: it straddles the target. Against the attacks no record can see — sleeper (its good phase), adaptive sleeper, patient, stuffing — the target is the uniform draw's capture rate at the same k: *met* if Proof-of-Meme's observed rate is at most the upper end of uniform's interval, *missed* if its whole interval lies above it. No reputation system can do better than uniform there: a perfect sleeper's record is an honest star's.\n\n"

// versusFullGrid lists how the run differs from the full grid,
// or "" if it ran all of it.
func (rep *Report) versusFullGrid() string {
	p := rep.Params
	var diffs []string
	if p.Stars != 2000 {
		diffs = append(diffs, fmt.Sprintf("N = %d instead of 2000", p.Stars))
	}
	if p.Rounds != 10000 {
		diffs = append(diffs, fmt.Sprintf("%d rounds instead of 10 000", p.Rounds))
	}
	if p.Seeds != 20 {
		diffs = append(diffs, fmt.Sprintf("%d seeds instead of 20", p.Seeds))
	}
	if fmt.Sprint(p.Committees) != "[31 100]" {
		diffs = append(diffs, fmt.Sprintf("k ∈ %v only", p.Committees))
	}
	all := "[10 20 25 33 45]"
	if fmt.Sprint(p.Byzantine) != all {
		diffs = append(diffs, fmt.Sprintf("the static scenario at β ∈ %v %% only", p.Byzantine))
	}
	if fmt.Sprint(p.ScenarioByzantine) != all {
		diffs = append(diffs, fmt.Sprintf("the other scenarios at β ∈ %v %% only", p.ScenarioByzantine))
	}
	if len(p.Scenarios) != len(AllScenarios) {
		diffs = append(diffs, fmt.Sprintf("scenarios %v only", p.Scenarios))
	}
	if len(diffs) == 0 {
		return ""
	}
	return strings.Join(diffs, "; ") + "."
}

// CommitteeHeading is the heading of the committee-size section.
const CommitteeHeading = "## Committee size and capture"

// CommitteeSection renders the committee-size section of
// docs/reputation.md (the whitepaper's Figure 4): how it was produced, the
// observed capture rate against k per β and method in scenario sc, the plot
// (path relative to the markdown file, "" for none) and the committee size
// a per-round risk needs.
func (rep *Report) CommitteeSection(sc Scenario, command string, elapsed time.Duration, plot string) string {
	p := rep.Params
	var b strings.Builder
	b.WriteString(CommitteeHeading + "\n\n")
	fmt.Fprintf(&b, "Produced by (%s on this machine, %d worker(s)%s):\n\n```\n%s\n```\n\n", elapsed.Round(time.Second), p.Workers, machine(rep.Machine), command)
	fmt.Fprintf(&b, "**What was run:** the %s scenario, N = %d genuine stars, %d rounds per run of which the first %d are warm-up, %d seed(s), k ∈ %v, β ∈ %v %%, methods %v. ",
		sc, p.Stars, p.Rounds, p.Warmup, p.Seeds, p.Committees, p.ScenarioByzantine, p.Methods)
	b.WriteString("Each cell is the observed share of measured rounds in which attackers held at least ⌈k/3⌉ seats — for the adaptive sleeper, the rounds in which it struck — with its 95 % Clopper–Pearson interval (zero: the upper bound the rounds support), and in parentheses the hypergeometric value for the uniform draw at the cell's mean seat share.\n\n")
	b.WriteString(rep.CaptureByK(sc))
	if plot != "" {
		fmt.Fprintf(&b, "\n![%s](%s)\n", strings.TrimSuffix(plot[strings.LastIndex(plot, "/")+1:], ".png"), plot)
		b.WriteString("\nOne line per method and β (lighter: smaller β); bars are the 95 % intervals; a hollow square is a rate of zero drawn at its upper bound.\n")
	}
	b.WriteString("\n**Cluster size for a given risk.** Against attackers it cannot see, Proof-of-Meme draws uniformly among the stars in good standing (`seat_cap` = 1), so the hypergeometric tail for a uniform draw bounds the risk per round: the uniform rows above agree with it where rounds can measure it (down to about 3.7/rounds run), and Proof-of-Meme's adaptive-sleeper rows lie below it, because every strike costs the strikers their standing — but nothing prevents the first strike, which is why a cluster is sized by the uniform tail. The smallest committee from which on the per-round capture probability stays at most the risk:\n\n")
	b.WriteString(ClusterSizeMarkdown(p.Stars, []int{10, 20, 25, 33}, []float64{1e-3, 1e-4, 1e-6, 1e-8}))
	b.WriteString("\n")
	b.WriteString(ClusterSizeMarkdown(100000, []int{10, 20, 25, 33}, []float64{1e-3, 1e-4, 1e-6, 1e-8}))
	b.WriteString("\nAt β = 33 % no committee up to 1000 seats gets below 1e-3: a third of the seats is the expected share, so only the variance of a huge committee separates them.\n")
	b.WriteString("\nA risk per round compounds: over R rounds the chance of at least one captured committee is about R times the per-round risk, so a cluster that rotates every round for a year (≈ 3·10⁷ rounds at one per second) needs the 1e-8 column to keep that chance below a third.\n")
	return strings.TrimRight(b.String(), "\n") + "\n"
}
