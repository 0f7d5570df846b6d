package repsim

import (
	"fmt"
	"math"
)

// Confidence is the two-sided confidence level of every interval the
// simulation reports.
const Confidence = 0.95

// Interval is a two-sided confidence interval for a proportion or a mean.
type Interval struct{ Lo, Hi float64 }

// Proportion is an observed count of events (rounds with a third of the
// committee held by attackers, newcomers picked, …) among trials, with its
// Clopper–Pearson interval.
type Proportion struct {
	Events, Trials int
	// Effective is the number of independent trials the interval is
	// computed on: Trials divided by the design effect (see
	// pooledProportion); equal to Trials when the trials are independent.
	Effective float64
	CI        Interval
}

// Rate is Events/Trials (NaN without trials).
func (p Proportion) Rate() float64 {
	if p.Trials == 0 {
		return math.NaN()
	}
	return float64(p.Events) / float64(p.Trials)
}

// ClopperPearson returns the exact (Clopper & Pearson, "The use of
// confidence or fiducial limits illustrated in the case of the binomial",
// Biometrika 26(4), 1934) two-sided interval at level conf for x events in
// n trials:
//
//	lo = B⁻¹(α/2; x, n−x+1),   hi = B⁻¹(1−α/2; x+1, n−x),   α = 1 − conf,
//
// with B⁻¹ the quantile of the beta distribution, lo = 0 for x = 0 and
// hi = 1 for x = n. For x = 0 the upper bound is 1 − (α/2)^(1/n), about
// 3.7/n at 95 % (the one-sided "rule of three", 3/n, is its 90 % two-sided
// cousin). x and n may be fractional (an effective sample size); n ≤ 0
// gives [0, 1].
func ClopperPearson(x, n, conf float64) Interval {
	if !(n > 0) {
		return Interval{0, 1}
	}
	x = math.Max(0, math.Min(n, x))
	a := (1 - conf) / 2
	iv := Interval{0, 1}
	if x > 0 {
		iv.Lo = betaQuantile(a, x, n-x+1)
	}
	if x < n {
		iv.Hi = betaQuantile(1-a, x+1, n-x)
	}
	return iv
}

// betaQuantile returns the p-quantile of Beta(a, b) by bisection on the
// regularized incomplete beta function (monotone in x), to float64
// resolution.
func betaQuantile(p, a, b float64) float64 {
	lo, hi := 0.0, 1.0
	for range 200 {
		mid := (lo + hi) / 2
		if mid == lo || mid == hi {
			break
		}
		if RegIncBeta(mid, a, b) < p {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// RegIncBeta is the regularized incomplete beta function I_x(a, b), by the
// continued fraction of Numerical Recipes (Press et al., 3rd ed., §6.4)
// evaluated with the modified Lentz method, using the symmetry
// I_x(a, b) = 1 − I_{1−x}(b, a) where the fraction converges slowly.
func RegIncBeta(x, a, b float64) float64 {
	switch {
	case x <= 0:
		return 0
	case x >= 1:
		return 1
	}
	la, _ := math.Lgamma(a + b)
	lb, _ := math.Lgamma(a)
	lc, _ := math.Lgamma(b)
	front := math.Exp(la - lb - lc + a*math.Log(x) + b*math.Log1p(-x))
	if x < (a+1)/(a+b+2) {
		return front * betaCF(x, a, b) / a
	}
	return 1 - front*betaCF(1-x, b, a)/b
}

func betaCF(x, a, b float64) float64 {
	const tiny, eps = 1e-300, 1e-15
	qab, qap, qam := a+b, a+1, a-1
	c, d := 1.0, 1-qab*x/qap
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	h := d
	for m := 1; m <= 10000; m++ {
		fm := float64(m)
		m2 := 2 * fm
		aa := fm * (b - fm) * x / ((qam + m2) * (a + m2))
		d = 1 + aa*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + aa/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		h *= d * c
		aa = -(a + fm) * (qab + fm) * x / ((a + m2) * (qap + m2))
		d = 1 + aa*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + aa/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < eps {
			break
		}
	}
	return h
}

// pooledProportion pools per-seed counts (events[i] of trials[i]) into one
// Proportion. Rounds of one run are not independent — a reputation state,
// and so the make-up of committees, persists from round to round — so the
// interval is computed on an effective number of trials: the pooled count
// divided by Kish's design effect (L. Kish, Survey Sampling, 1965), here
// estimated as the between-seed variance of the per-seed rates over the
// variance independent trials would give, p(1−p)/m̄, and never below 1.
// With one seed, or p ∈ {0, 1}, the trials are taken as independent.
func pooledProportion(events, trials []int) Proportion {
	var p Proportion
	for i := range events {
		p.Events += events[i]
		p.Trials += trials[i]
	}
	p.Effective = float64(p.Trials)
	rate := p.Rate()
	if len(events) >= 2 && rate > 0 && rate < 1 {
		var ss float64
		for i := range events {
			if trials[i] > 0 {
				d := float64(events[i])/float64(trials[i]) - rate
				ss += d * d
			}
		}
		between := ss / float64(len(events)-1)
		mean := float64(p.Trials) / float64(len(events))
		if deff := between / (rate * (1 - rate) / mean); deff > 1 {
			p.Effective = float64(p.Trials) / deff
		}
	}
	p.CI = ClopperPearson(rate*p.Effective, p.Effective, Confidence)
	if p.Trials == 0 {
		p.CI = Interval{math.NaN(), math.NaN()}
	}
	return p
}

// tQuantile975 is Student's t 0.975-quantile for df degrees of freedom
// (df = 1…30 tabulated, then the normal 1.96).
func tQuantile975(df int) float64 {
	table := [...]float64{12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
		2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
		2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042}
	switch {
	case df < 1:
		return math.NaN()
	case df <= len(table):
		return table[df-1]
	}
	return 1.96
}

// meanInterval is the mean of per-seed values with its 95 % t interval
// (the seeds are independent runs); one value gives a NaN interval.
func meanInterval(v []float64) (float64, Interval) {
	if len(v) == 0 {
		return math.NaN(), Interval{math.NaN(), math.NaN()}
	}
	var s float64
	for _, x := range v {
		s += x
	}
	m := s / float64(len(v))
	if len(v) < 2 {
		return m, Interval{math.NaN(), math.NaN()}
	}
	var ss float64
	for _, x := range v {
		ss += (x - m) * (x - m)
	}
	h := tQuantile975(len(v)-1) * math.Sqrt(ss/float64(len(v)-1)/float64(len(v)))
	return m, Interval{m - h, m + h}
}

// fmtProportion renders "x/n = r [lo, hi]" with the rate in the unit that
// reads best: a share of rounds in percent, or a small one in scientific
// notation. Zero events show the upper bound: "0/n (< hi)".
func fmtProportion(p Proportion) string {
	if p.Trials == 0 {
		return "–"
	}
	if p.Events == 0 {
		return fmt.Sprintf("0/%d (< %s)", p.Trials, rateStr(p.CI.Hi))
	}
	return fmt.Sprintf("%d/%d = %s [%s, %s]", p.Events, p.Trials, rateStr(p.Rate()), rateStr(p.CI.Lo), rateStr(p.CI.Hi))
}

func rateStr(v float64) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case v == 0:
		return "0"
	case v >= 0.001:
		return fmt.Sprintf("%.2f %%", 100*v)
	}
	return fmt.Sprintf("%.1e", v)
}
