package repsim

import (
	"bytes"
	"image/png"
	"math"
	"testing"
)

// binomTail returns P(X ≤ x) (lower) or P(X ≥ x) for X ~ Binomial(n, p),
// summed directly in log space.
func binomTail(n, x int, p float64, lower bool) float64 {
	var s float64
	lo, hi := x, n
	if lower {
		lo, hi = 0, x
	}
	for i := lo; i <= hi; i++ {
		s += math.Exp(logChoose(n, i) + float64(i)*math.Log(p) + float64(n-i)*math.Log1p(-p))
	}
	return s
}

func TestClopperPearsonMatchesKnownValues(t *testing.T) {
	cases := []struct {
		x, n   float64
		lo, hi float64
	}{
		// Published exact 95 % intervals (e.g. Brown, Cai & DasGupta,
		// Statistical Science 16(2), 2001; any exact-binomial table).
		{0, 10, 0, 0.30850},
		{5, 10, 0.18709, 0.81291},
		{1, 20, 0.00126, 0.24873},
		{10, 10, 0.69150, 1},
		{50, 100, 0.39832, 0.60168},
	}
	for _, c := range cases {
		iv := ClopperPearson(c.x, c.n, 0.95)
		if math.Abs(iv.Lo-c.lo) > 1e-5 || math.Abs(iv.Hi-c.hi) > 1e-5 {
			t.Errorf("ClopperPearson(%g, %g) = [%.5f, %.5f], want [%.5f, %.5f]", c.x, c.n, iv.Lo, iv.Hi, c.lo, c.hi)
		}
	}
	// Zero events: the upper bound is 1 − 0.025^(1/n), about 3.7/n.
	for _, n := range []float64{30, 8000, 160000} {
		want := 1 - math.Pow(0.025, 1/n)
		if got := ClopperPearson(0, n, 0.95).Hi; math.Abs(got-want)/want > 1e-9 {
			t.Errorf("upper bound for 0 of %g: %g, want %g", n, got, want)
		}
		if got := ClopperPearson(0, n, 0.95).Hi * n; n > 1000 && (got < 3.68 || got > 3.69) {
			t.Errorf("n·upper for 0 of %g = %.3f, want ≈ 3.69", n, got)
		}
	}
	// The defining property: at the bounds the binomial tails are α/2.
	for _, c := range [][2]int{{3, 40}, {17, 200}, {1, 7}, {150, 160}} {
		x, n := c[0], c[1]
		iv := ClopperPearson(float64(x), float64(n), 0.95)
		if got := binomTail(n, x, iv.Hi, true); math.Abs(got-0.025) > 1e-8 {
			t.Errorf("x=%d n=%d: P(X ≤ x | hi) = %g, want 0.025", x, n, got)
		}
		if got := binomTail(n, x, iv.Lo, false); math.Abs(got-0.025) > 1e-8 {
			t.Errorf("x=%d n=%d: P(X ≥ x | lo) = %g, want 0.025", x, n, got)
		}
	}
}

func TestRegIncBetaMatchesClosedForms(t *testing.T) {
	for _, x := range []float64{0.001, 0.1, 0.37, 0.5, 0.9, 0.999} {
		if got := RegIncBeta(x, 1, 1); math.Abs(got-x) > 1e-13 {
			t.Errorf("I_%g(1,1) = %g, want %g", x, got, x)
		}
		if got, want := RegIncBeta(x, 3, 1), x*x*x; math.Abs(got-want) > 1e-13 {
			t.Errorf("I_%g(3,1) = %g, want %g", x, got, want)
		}
		if got, want := RegIncBeta(x, 1, 4), 1-math.Pow(1-x, 4); math.Abs(got-want) > 1e-13 {
			t.Errorf("I_%g(1,4) = %g, want %g", x, got, want)
		}
	}
	if got := RegIncBeta(0.5, 7.5, 7.5); math.Abs(got-0.5) > 1e-13 {
		t.Errorf("I_0.5(a,a) = %g, want 0.5", got)
	}
}

// TestPooledProportionWidensForCorrelatedRuns: seeds that agree give the
// binomial interval on all rounds; seeds that disagree far beyond binomial
// noise (as when committees persist within a run) shrink the effective
// number of rounds and widen the interval.
func TestPooledProportionWidensForCorrelatedRuns(t *testing.T) {
	agree := pooledProportion([]int{100, 101, 99, 100}, []int{1000, 1000, 1000, 1000})
	if agree.Effective != 4000 || agree.Events != 400 {
		t.Fatalf("agreeing seeds: %+v, want 400 of 4000, effective 4000", agree)
	}
	if want := ClopperPearson(400, 4000, 0.95); agree.CI != want {
		t.Errorf("agreeing seeds: interval %v, want %v", agree.CI, want)
	}
	apart := pooledProportion([]int{0, 400, 0, 0}, []int{1000, 1000, 1000, 1000})
	if apart.Rate() != 0.1 || !(apart.Effective < 100) {
		t.Fatalf("disagreeing seeds: rate %g, effective %g; want 0.1 and far below 4000", apart.Rate(), apart.Effective)
	}
	if !(apart.CI.Hi-apart.CI.Lo > 3*(agree.CI.Hi-agree.CI.Lo)) {
		t.Errorf("disagreeing seeds: interval %v no wider than the agreeing one %v", apart.CI, agree.CI)
	}
	zero := pooledProportion([]int{0, 0}, []int{5000, 5000})
	if zero.CI.Lo != 0 || math.Abs(zero.CI.Hi-(1-math.Pow(0.025, 1e-4))) > 1e-12 {
		t.Errorf("no events in 10 000 rounds: %v, want [0, 1 − 0.025^(1/10000)]", zero.CI)
	}
	if s := fmtProportion(zero); s != "0/10000 (< 3.7e-04)" {
		t.Errorf("zero events render as %q", s)
	}
}

func TestMeanIntervalUsesStudentT(t *testing.T) {
	m, iv := meanInterval([]float64{1, 2, 3})
	// mean 2, s = 1, t(2) = 4.303: 2 ± 4.303/√3.
	if h := 4.303 / math.Sqrt(3); m != 2 || math.Abs(iv.Lo-(2-h)) > 1e-12 || math.Abs(iv.Hi-(2+h)) > 1e-12 {
		t.Errorf("meanInterval(1,2,3) = %g %v", m, iv)
	}
	if _, iv := meanInterval([]float64{0.3}); !math.IsNaN(iv.Lo) {
		t.Errorf("one value gave an interval %v", iv)
	}
}

// TestNoWorseThanUniformCanFail: the comparison with uniform fails when
// Proof-of-Meme captures clearly more often, is undecided when the
// intervals overlap above uniform's, and passes at equal rates.
func TestNoWorseThanUniformCanFail(t *testing.T) {
	prop := func(x, n int) Proportion { return pooledProportion([]int{x}, []int{n}) }
	mk := func(meme, uni Proportion) *Report {
		return &Report{Rows: []Row{
			{Scenario: ScenarioPatient, Byzantine: 25, K: 100, Method: MethodMeme, Captured: meme},
			{Scenario: ScenarioPatient, Byzantine: 25, K: 100, Method: MethodUniform, Captured: uni},
		}}
	}
	for _, c := range []struct {
		meme, uni Proportion
		want      Verdict
	}{
		{prop(800, 4000), prop(96, 4000), Missed}, // the 20 % against 2.4 %
		{prop(96, 4000), prop(96, 4000), Met},
		{prop(0, 4000), prop(0, 4000), Met},
		{prop(125, 4000), prop(96, 4000), NotShown},
	} {
		v, _, _, ok := mk(c.meme, c.uni).NoWorseThanUniform(ScenarioPatient, 25, 100)
		if !ok || v != c.want {
			t.Errorf("meme %s, uniform %s: %v, want %v", fmtProportion(c.meme), fmtProportion(c.uni), v, c.want)
		}
	}
}

func TestWriteCapturePlotProducesADecodablePNG(t *testing.T) {
	p := CapturePlot{Title: "t", Ks: []int{31, 64}, Series: []CaptureSeries{
		{Label: "a", Color: MethodColor[MethodMeme], P: []Proportion{pooledProportion([]int{5}, []int{1000}), pooledProportion([]int{0}, []int{1000})}},
		{Label: "b", Color: MethodColor[MethodUniform], P: []Proportion{pooledProportion([]int{50}, []int{1000}), {}}},
	}}
	var buf bytes.Buffer
	if err := WriteCapturePlot(&buf, p); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 900 || b.Dy() != 500 {
		t.Errorf("plot is %v", b)
	}
}
