package scalesim

import (
	"bytes"
	"image/png"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/conformance/repsim"
	"github.com/constellation-chain/constellation/conformance/sim"
	"github.com/constellation-chain/constellation/conformance/sim/simtest"
)

// plainMeter counts what any engine does: one signature check per message
// in, one signature per message out.
type plainMeter struct{}

func (plainMeter) Count(c sim.Call, _, _ int) Ops {
	ops := Ops{Signed: len(c.Output.Messages)}
	if !c.Propose {
		ops.Checked, ops.CheckedBytes, ops.Kind = 1, len(c.Payload), "allcast"
	}
	return ops
}

func smallParams() Params {
	return Params{
		Factory: simtest.AllcastFactory{}, Meter: plainMeter{},
		ClusterSize: 4, GalaxySize: 4, TxPerNode: 20,
		Epochs: 6, Warmup: 2, ClusterRuns: 2,
		Clusters: []int{1, 2, 3}, Populations: []int{8, 16, 24},
		FlatSizes: []int{4, 7, 10}, FlatEpochs: 3,
		Seed: 7,
	}
}

// The same Params give the same Report, whatever the parallelism.
func TestSameParamsGiveTheSameReport(t *testing.T) {
	a, err := Run(smallParams())
	if err != nil {
		t.Fatal(err)
	}
	p := smallParams()
	p.Workers = 3
	b, err := Run(p)
	if err != nil {
		t.Fatal(err)
	}
	strip := func(r *Report) *Report {
		c := *r
		c.Wall = 0
		c.Params.Workers = 0
		c.Galaxies = nil
		for _, g := range r.Galaxies {
			gc := *g
			gc.Wall = 0
			c.Galaxies = append(c.Galaxies, &gc)
		}
		return &c
	}
	if !reflect.DeepEqual(strip(a), strip(b)) {
		t.Fatal("two runs of the same Params gave different reports")
	}
	if got, want := a.Section("cmd", "", "defaults"), b.Section("cmd", "", "defaults"); stripWall(got) != stripWall(want) {
		t.Fatal("the same reports render differently")
	}
}

func stripWall(s string) string {
	i := strings.Index(s, "wall time")
	j := strings.Index(s, "```")
	if i < 0 || j < i {
		return s
	}
	return s[:i] + s[j:]
}

// A galaxy over a few light clusters keeps up: nothing waits, the lag
// does not grow, and every configuration finalizes what its clusters
// committed.
func TestAnIdleGalaxyFinalizesEverythingItsClustersCommit(t *testing.T) {
	rep, err := Run(smallParams())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Galaxies) != 4 { // k = 1 (8 stars), 2, 3 (16 stars), 5 (24 stars)
		t.Fatalf("%d configurations, want 4", len(rep.Galaxies))
	}
	for _, g := range rep.Galaxies {
		if g.Unfinalized > 0 || g.Final != g.Committed || g.Committed <= 0 {
			t.Errorf("k=%d: committed %.0f, final %.0f, %d unfinalized, lag slope %.3f±%.3f", g.K, g.Committed, g.Final, g.Unfinalized, g.Slope, g.SlopeSE)
		}
		if g.CPU.Total() <= 0 || g.CPU.Total() >= 1 || g.BlackHoles == 0 {
			t.Errorf("k=%d: galaxy CPU %.2f over %d black holes", g.K, g.CPU.Total(), g.BlackHoles)
		}
	}
	if ok, worst := rep.TargetMet(); !ok {
		t.Errorf("efficiency %.2f at k=%d with an idle galaxy", rep.Efficiency(worst), worst.K)
	}
	plot, ok := rep.Plot()
	if !ok || plot.XLabel != "population (x8 stars)" || len(plot.Lines[0].Y) != 3 {
		t.Fatalf("plot %+v (%v)", plot, ok)
	}
	var buf bytes.Buffer
	if err := repsim.WritePlot(&buf, plot); err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(&buf); err != nil {
		t.Fatalf("plot is not a PNG: %v", err)
	}
}

// Every CPU price the report names is charged: a run with dearer message
// signatures spends more of its time on them and commits no more.
func TestDearerSignaturesCostThroughput(t *testing.T) {
	cheap, err := Run(smallParams())
	if err != nil {
		t.Fatal(err)
	}
	p := smallParams()
	p.CPU = DefaultCPU()
	p.CPU.Ed25519Verify *= 20
	dear, err := Run(p)
	if err != nil {
		t.Fatal(err)
	}
	c, d := cheap.Clusters[0], dear.Clusters[0]
	if d.CPU[CatVerify] <= c.CPU[CatVerify] || d.TPS > c.TPS {
		t.Fatalf("20× dearer signatures: verify share %.3f → %.3f, tx/s %.0f → %.0f", c.CPU[CatVerify], d.CPU[CatVerify], c.TPS, d.TPS)
	}
}

func TestFlatFitRecoversAQuadratic(t *testing.T) {
	rep := &Report{Params: Params{TxPerNode: 10}}
	for _, n := range []int{16, 32, 48, 64} {
		x := float64(n)
		t := 0.3 + 0.01*x + 0.0002*x*x
		rep.Flat = append(rep.Flat, FlatRun{N: n, EpochTime: sim.Time(t * float64(sim.Second)), Included: 1})
	}
	f := fitFlat(rep)
	if math.Abs(f.A-0.3) > 1e-3 || math.Abs(f.B-0.01) > 1e-4 || math.Abs(f.C-0.0002) > 1e-6 || f.MaxResidual > 1e-3 {
		t.Fatalf("fit %+v", f)
	}
	if got, want := f.TPS(100, 10), 1000/(0.3+1+2); math.Abs(got-want) > 1 {
		t.Fatalf("TPS(100) = %.1f, want %.1f", got, want)
	}
}

func TestParseBenchReadsGoTestOutput(t *testing.T) {
	out := `goos: linux
BenchmarkVerifySignature-2    	     200	   1103857 ns/op
BenchmarkDecrypt/N=16,f=5/optimistic-2                 	     200	    511626 ns/op
BenchmarkEd25519Verify-2                               	     200	     97612 ns/op
BenchmarkVerifySignature-2    	     200	   1203857 ns/op
BenchmarkUnrelated-2                               	     200	     1 ns/op
PASS
`
	cpu, names, err := ParseBench(strings.NewReader(out), CPU{})
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 3 || cpu.VerifySignature != 1103857 || cpu.Decrypt6 != 511626 || cpu.Ed25519Verify != 97612*time.Nanosecond {
		t.Fatalf("parsed %v: %+v", names, cpu)
	}
}

// DefaultCPU is exactly what its recorded benchmark output says.
func TestDefaultCPUIsTheRecordedBenchmarkRun(t *testing.T) {
	f, err := os.Open("testdata/bench.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cpu, names, err := ParseBench(f, CPU{})
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != len(benchFields) {
		t.Errorf("the recorded run has %d of the %d priced benchmarks: %v", len(names), len(benchFields), names)
	}
	if cpu != DefaultCPU() {
		t.Fatalf("DefaultCPU %+v, recorded run %+v", DefaultCPU(), cpu)
	}
}

func TestBadParamsAreRefused(t *testing.T) {
	for name, mut := range map[string]func(*Params){
		"no meter":          func(p *Params) { p.Meter = nil },
		"warm-up too long":  func(p *Params) { p.Warmup = p.Epochs },
		"tiny population":   func(p *Params) { p.Populations = []int{5} },
		"tiny checkpoint":   func(p *Params) { p.CheckpointSize = 8 },
		"cluster of three":  func(p *Params) { p.ClusterSize = 3 },
		"no cluster at all": func(p *Params) { p.Clusters = []int{0} },
	} {
		p := smallParams()
		mut(&p)
		if _, err := Run(p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestGrowthOpensClustersByTheSplitRule: from one cluster, the split rule
// keeps every cluster between half the bound and the bound, and the
// number of clusters only grows; a population within the bound stays one
// cluster.
func TestGrowthOpensClustersByTheSplitRule(t *testing.T) {
	var pops []int
	for i := 1; i <= 20; i++ {
		pops = append(pops, 100*i)
	}
	steps, err := Grow(pops, 16, 32)
	if err != nil {
		t.Fatal(err)
	}
	prev := 0
	for _, s := range steps {
		if s.Largest > 32 || s.Smallest < 16 || s.Clusters < prev || s.Candidates != s.Population-16 {
			t.Fatalf("population %d: %+v", s.Population, s)
		}
		prev = s.Clusters
		t.Logf("%+v", s)
	}
	if steps[len(steps)-1].Clusters < 1984/32 {
		t.Fatalf("2000 stars in %d clusters", steps[len(steps)-1].Clusters)
	}
	one, _ := Grow([]int{40}, 16, 32)
	if one[0].Clusters != 1 || one[0].Rotations != 0 {
		t.Fatalf("24 candidates within a bound of 32: %+v", one[0])
	}
	if _, err := Grow([]int{100, 50}, 16, 32); err == nil {
		t.Fatal("a shrinking population was taken")
	}
}
