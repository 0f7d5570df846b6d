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
	b.WriteString("| scenario | β | k | method | attacker seat share | capture p (k=100, hypergeometric) | rounds with ≥ k/3 attackers | Sybil seat share | newcomers picked ≤ 200 rounds | … picked twice | sleeper halving (rounds) | woken stars picked before sleeping (median rounds) |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, r := range rep.Rows {
		fmt.Fprintf(&b, "| %s | %d %% | %d | %s | %s | %s | %s | %s | %s (%d) | %s | %s | %s |\n",
			r.Scenario, r.Byzantine, r.K, r.Method, pct(r.SeatShare), sci(r.Capture100), pct(r.CapturedRounds),
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

// TargetsMarkdown checks Proof-of-Meme against its targets at 25 %
// Byzantine, for every committee size run, and says by how much each is
// met or missed. Seat-share and capture targets are checked in every
// scenario (the worst one decides); Sybil share in the Sybil scenario,
// newcomers across all scenarios (the worst one decides), halving in the
// sleeper scenario.
func (rep *Report) TargetsMarkdown() string {
	var b strings.Builder
	b.WriteString("| target (β = 25 %, Proof-of-Meme) | k | measured (worst scenario) | verdict |\n| --- | --- | --- | --- |\n")
	verdict := func(ok bool, margin string) string {
		if ok {
			return "met (" + margin + ")"
		}
		return "**missed** (" + margin + ")"
	}
	for _, k := range rep.Params.Committees {
		var worstShare, worstNew Row
		worstShare.SeatShare, worstNew.NewcomerPicked = -1, 2
		found := false
		for _, r := range rep.Rows {
			if r.Byzantine != 25 || r.K != k || r.Method != MethodMeme {
				continue
			}
			found = true
			if r.SeatShare > worstShare.SeatShare {
				worstShare = r
			}
			if !math.IsNaN(r.NewcomerPicked) && r.NewcomerPicked < worstNew.NewcomerPicked {
				worstNew = r
			}
		}
		if !found {
			continue
		}
		s := worstShare.SeatShare
		fmt.Fprintf(&b, "| attacker seat share ≤ 12.5 %% | %d | %s (%s) | %s |\n", k, pct(s), worstShare.Scenario,
			verdict(s <= TargetSeatShare, fmt.Sprintf("%+.2f points", 100*(s-TargetSeatShare))))
		c := worstShare.Capture100
		fmt.Fprintf(&b, "| capture p at k = 100 ≤ 1e-8 | %d | %s (%s) | %s |\n", k, sci(c), worstShare.Scenario,
			verdict(c <= TargetCapture, ratio(c, TargetCapture)))
		if r, ok := rep.Find(ScenarioSybil, 25, k, MethodMeme); ok {
			fmt.Fprintf(&b, "| Sybil seat share < 1 %% | %d | %s | %s |\n", k, pct(r.SybilShare),
				verdict(r.SybilShare < TargetSybilShare, fmt.Sprintf("%+.2f points", 100*(r.SybilShare-TargetSybilShare))))
		}
		if worstNew.NewcomerPicked <= 1 {
			v := worstNew.NewcomerPicked
			fmt.Fprintf(&b, "| honest newcomer picked within 200 rounds ≥ 95 %% | %d | %s (%s) | %s |\n", k, pct(v), worstNew.Scenario,
				verdict(v >= TargetNewcomer, fmt.Sprintf("%+.2f points", 100*(v-TargetNewcomer))))
		}
		if g, ok := rep.StuffingGain(25, k, MethodMeme); ok {
			fmt.Fprintf(&b, "| block stuffing adds ≤ 1 point of seats over patient | %d | %+.2f points | %s |\n", k, 100*g,
				verdict(g <= TargetStuffingGain, fmt.Sprintf("%+.2f points", 100*(g-TargetStuffingGain))))
		}
		if r, ok := rep.Find(ScenarioSleeper, 25, k, MethodMeme); ok {
			h := r.SleeperHalving
			if h < 0 {
				fmt.Fprintf(&b, "| sleeper halves within 50 rounds | %d | never | **missed** |\n", k)
			} else {
				fmt.Fprintf(&b, "| sleeper halves within 50 rounds | %d | %d rounds | %s |\n", k, h,
					verdict(h <= TargetHalving, fmt.Sprintf("%+d rounds", h-TargetHalving)))
			}
		}
	}
	return b.String()
}

func ratio(v, target float64) string {
	if v == 0 {
		return "below 1e-300, float64's range"
	}
	if v <= target {
		return fmt.Sprintf("%.0e× below", target/v)
	}
	return fmt.Sprintf("%.0e× above", v/target)
}

// Section renders the "## Simulation results" section of
// docs/reputation.md: how it was produced (command, elapsed time, grid),
// the model, the targets verdicts, the table and the plots (paths relative
// to the markdown file).
func (rep *Report) Section(command string, elapsed time.Duration, plots []string) string {
	p := rep.Params
	var b strings.Builder
	b.WriteString("## Simulation results\n\n")
	fmt.Fprintf(&b, "Produced by (%s on this machine, %d worker(s)):\n\n```\n%s\n```\n\n", elapsed.Round(time.Second), p.Workers, command)
	fmt.Fprintf(&b, "**What was run:** N = %d genuine stars, %d rounds per run of which the first %d are warm-up (excluded from every metric), %d seed(s) per configuration, k ∈ %v. ",
		p.Stars, p.Rounds, p.Warmup, p.Seeds, p.Committees)
	fmt.Fprintf(&b, "Scenarios: %v. The static scenario sweeps β ∈ %v %%; the others run at β ∈ %v %%. ", p.Scenarios, p.Byzantine, p.ScenarioByzantine)
	fmt.Fprintf(&b, "Sleepers defect at round %d. Methods: %v.\n\n", rep.Defect, p.Methods)
	if d := rep.versusFullGrid(); d != "" {
		b.WriteString("**Versus the full grid** (N = 2000, 10 000 rounds, 20 seeds, k ∈ {31, 100}, β ∈ {10, 20, 25, 33, 45} % for every scenario): " + d + "\n\n")
	}
	b.WriteString(modelText)
	b.WriteString("\n### Targets at β = 25 %\n\n")
	b.WriteString(rep.TargetsMarkdown())
	b.WriteString("\n### All results\n\n")
	b.WriteString("β is the Byzantine share of the genuine stars; the attacker seat share counts Byzantine stars and, in the Sybil scenario, Sybils. " +
		"\"capture p\" is the hypergeometric tail above computed from the row's seat share at k = 100 (whatever the row's k); " +
		"\"rounds with ≥ k/3 attackers\" is what the run observed at the row's own k. Newcomer counts are in parentheses.\n\n")
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
* **Scenarios.** *static*: Byzantine delegates always attack. *sybil*: static plus 1000 Sybil identities (attackers too, minimum stake x_m each) that pay each other over a random graph of degree 8 (200 payments per round) and reach the honest region through 10 fixed honest→Sybil attack edges, each used with probability 0.1 per round. *whitewash*: static, and a Byzantine star that leaves a provable fault rejoins next round under a fresh identity (same stake, linked only to Byzantine stars). *on-off*: behave 150 rounds, attack 50, repeat. *collusion*: static plus a ring: each Byzantine star links to 8 more Byzantine stars and 300 payments of 10–100 units per round run among them. *sleeper*: behave perfectly, then attack for good from the defect round. *grinding*: static, but when the previous block's proposer (a random delegate of the previous committee) is Byzantine it tries 16 candidate block hashes as seed and keeps the one giving attackers the most seats — what a raw-block-hash seed would allow; with the beacon it cannot. *patient*: Byzantine stars behave perfectly throughout and only collect seats. *stuffing*: patient, and when the block's proposer (a random delegate of the committee) is Byzantine it adds 20 000 one-unit transfers from random Byzantine stars to one of them; every block precedes a draw here, and the world (stars, graph, beacons) is the patient scenario's, so the difference in seats is the stuffing's alone. *churn*: static, and 30 % of the genuine stars, honest and Byzantine alike, are sleepy: an awake one falls asleep with probability 0.01 per round and a sleeping one wakes with 0.01; a sleeping star is no candidate and pays nobody.
* **Baselines.** *uniform*: k distinct candidates uniformly (sha256 counter-mode stream over the seed, partial Fisher–Yates). *stake-weighted*: k distinct candidates drawn one at a time with probability proportional to stake among those not yet drawn.
* **Metrics** (after warm-up, pooled over seeds). Attacker seat share = attacker seats / all seats. Capture probability at k = 100 from a seat share s, with n = N and m = round(s·N): P(X ≥ ⌈k/3⌉) = Σ_{i=⌈k/3⌉}^{min(k,m)} C(m,i)·C(n−m,k−i) / C(n,k), summed in log space (math.Lgamma, log-sum-exp), so values far below 1e-8 are exact to float64 precision. Sybil seat share = Sybil seats / all seats. Newcomer metric = share of honest newcomers that joined after warm-up (and at least 200 rounds before the end) selected within 200 rounds of joining. Sleeper halving = rounds after the defect round until the attackers' seat share (mean over seeds, trailing 10-round mean) first falls to half its mean over the 200 rounds before defecting. Woken stars (churn) = the share of honest sleepy stars' wakes after warm-up that led to a seat before the star slept again, with the median rounds from the wake to that seat. Block-stuffing gain = stuffing seat share − patient seat share.
`

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
