package scalesim

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/constellation-chain/constellation/conformance/sim"
	"github.com/constellation-chain/constellation/interfaces"
)

// Params is one experiment. Factory and Meter are required; the zero value
// of every other field selects the default documented on it.
type Params struct {
	// Factory builds the engine every group runs; Meter counts its work.
	Factory interfaces.ConsensusFactory
	Meter   Meter
	// EngineParams is the engine's config block (JSON) for every group.
	EngineParams []byte
	// CPU and Link are the cost model (zero: DefaultCPU, DefaultLink).
	CPU  CPU
	Link Link

	// ClusterSize is the delegates per Star Cluster (16) and GalaxySize
	// the galaxy's members (16). Galaxy members are stars of their own:
	// a population of P stars runs ⌊(P−GalaxySize)/ClusterSize⌋ clusters.
	ClusterSize, GalaxySize int
	// TxPerNode is the transactions each delegate proposes per epoch
	// (125: the default manifest's B=2000 over 16 delegates); pools are
	// assumed full. TxSize is a transaction's size (250 bytes).
	TxPerNode, TxSize int
	// TxVerifies is how often every delegate checks each transaction's
	// signature (1: pool admission, whose verdict the ledger trusts through
	// the signature cache; 2 before that cache).
	TxVerifies int
	// CheckpointSize is a checkpoint transaction's size (3,609 bytes: a
	// 16-delegate cluster's header, metadata summary with 16 members and
	// proposers, their latencies and 32 sampled transfers, and the
	// certificate);
	// GalaxyBatch the galaxy's batch size B (2000, the default manifest's),
	// so each member proposes up to B/GalaxySize checkpoints.
	CheckpointSize, GalaxyBatch int
	// CheckpointVerifies is how often every galaxy member checks each
	// checkpoint's certificate (1: nodes cache verified certificates, so
	// the relay, the pool and the ledger share one check).
	CheckpointVerifies int

	// Epochs is each cluster run's length (12), Warmup the epochs left out
	// of its measurement (3). ClusterRuns is the number of distinct
	// cluster runs (4) the configurations draw their clusters from.
	Epochs, Warmup, ClusterRuns int
	// Clusters lists configurations by cluster count (1, 2, 4, 5, 8, 16:
	// the efficiency target, and 5 for a population of about 100) and
	// Populations by population (200 to 2000 in steps of 200: the plot,
	// then 2400 to 4000 in steps of 400: the galaxy's knee); both are
	// run.
	Clusters, Populations []int
	// Growth lists the populations of the growth experiment (none when
	// nil; the command's default is 100 to 2000 in steps of 100): the
	// network starts as one cluster and opens clusters by the split rule
	// (Grow) as it grows; the galaxy is run over each number of clusters
	// it reaches. SplitAbove is the candidates a cluster may hold
	// (2×ClusterSize).
	Growth     []int
	SplitAbove int
	// FlatSizes are the flat clusters simulated (16, 32, 48, 64), each for
	// FlatEpochs epochs (3), the first FlatWarmup (1) left out. A size
	// equal to ClusterSize reuses the cluster runs.
	FlatSizes              []int
	FlatEpochs, FlatWarmup int

	// Seed decides everything random.
	Seed uint64
	// Workers is the number of runs executed at once (1); results do not
	// depend on it. Meter.Count may then be called from several runs at
	// once.
	Workers int
	// Progress, if set, receives one line per finished run.
	Progress func(line string)
}

func (p *Params) defaults() error {
	if p.Factory == nil || p.Meter == nil {
		return errors.New("scalesim: Params.Factory and Params.Meter are required")
	}
	if p.CPU == (CPU{}) {
		p.CPU = DefaultCPU()
	}
	if p.Link == (Link{}) {
		p.Link = DefaultLink()
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&p.ClusterSize, 16)
	def(&p.GalaxySize, 16)
	def(&p.TxPerNode, 125)
	def(&p.TxSize, 250)
	def(&p.TxVerifies, 1)
	def(&p.CheckpointSize, 3609)
	def(&p.GalaxyBatch, 2000)
	def(&p.CheckpointVerifies, 1)
	def(&p.Epochs, 12)
	def(&p.Warmup, 3)
	def(&p.ClusterRuns, 4)
	def(&p.FlatEpochs, 3)
	def(&p.FlatWarmup, 1)
	def(&p.Workers, 1)
	if p.Clusters == nil {
		p.Clusters = []int{1, 2, 4, 5, 8, 16}
	}
	if p.Populations == nil {
		for i := 1; i <= 10; i++ {
			p.Populations = append(p.Populations, 200*i)
		}
		p.Populations = append(p.Populations, 2400, 2800, 3200, 3600, 4000)
	}
	if p.FlatSizes == nil {
		p.FlatSizes = []int{16, 32, 48, 64}
	}
	def(&p.SplitAbove, 2*p.ClusterSize)
	switch {
	case p.CheckpointSize < cpRecord:
		return fmt.Errorf("scalesim: checkpoint size %d is below the %d bytes a record needs", p.CheckpointSize, cpRecord)
	case p.Warmup < 1 || p.Warmup >= p.Epochs:
		return fmt.Errorf("scalesim: warm-up %d must be at least 1 and below the %d epochs", p.Warmup, p.Epochs)
	case p.FlatWarmup < 1 || p.FlatWarmup >= p.FlatEpochs:
		return fmt.Errorf("scalesim: flat warm-up %d must be at least 1 and below the %d flat epochs", p.FlatWarmup, p.FlatEpochs)
	case p.ClusterSize < 4 || p.GalaxySize < 4:
		return fmt.Errorf("scalesim: clusters of %d and a galaxy of %d: both need at least 4 members", p.ClusterSize, p.GalaxySize)
	}
	for _, k := range p.Clusters {
		if k < 1 {
			return fmt.Errorf("scalesim: %d clusters: need at least one", k)
		}
	}
	for _, pop := range p.Populations {
		if p.clustersFor(pop) < 1 {
			return fmt.Errorf("scalesim: a population of %d stars holds no cluster of %d beside a galaxy of %d", pop, p.ClusterSize, p.GalaxySize)
		}
	}
	for _, n := range p.FlatSizes {
		if n < 4 {
			return fmt.Errorf("scalesim: flat cluster of %d: need at least 4 members", n)
		}
	}
	return nil
}

// clustersFor is the number of clusters a population runs.
func (p *Params) clustersFor(population int) int {
	return (population - p.GalaxySize) / p.ClusterSize
}

// SaturatedShare is the busy share at which a galaxy is taken to be
// saturated.
const SaturatedShare = 0.9

// GalaxyRun is one configuration: k clusters and the galaxy over them.
type GalaxyRun struct {
	K int
	// Population is the stars in a cluster or the galaxy: K×ClusterSize +
	// GalaxySize. Asked is the population the configuration was asked
	// for (0 if it was asked by cluster count); the rest of it run no
	// consensus.
	Population, Asked int
	// Committed is the clusters' committed transactions per second and
	// Final those the galaxy finalized. The galaxy keeps up (KeepsUp) when
	// its members were busy less than SaturatedShare of the window, on CPU
	// and on the uplink, and every checkpoint of the window was final by
	// the end of the run; then Final = Committed (HoneyBadger batches
	// whatever waits, so an unsaturated galaxy's queue stays bounded).
	// Otherwise Final is measured: the transactions of the black holes
	// decided in the window over its length. Slope is the least-squares
	// growth of the finality lag (checkpoint certified to black hole
	// certified) per second of the window and SlopeSE its standard error,
	// for the record.
	Committed, Final, Slope, SlopeSE float64
	KeepsUp                          bool
	// LagP50 and LagP99 are percentiles of that lag; Unfinalized counts the
	// window's checkpoints no black hole finalized by the end of the run.
	LagP50, LagP99 sim.Time
	Checkpoints    int
	Unfinalized    int
	// BlackHoles decided in the window, their mean interval and the
	// checkpoints each finalized on average; Copies is the mean number of
	// times a finalized checkpoint was carried by the black hole (members
	// proposing the same one).
	BlackHoles int
	EpochTime  sim.Time
	PerBlack   float64
	Copies     float64
	// Measured is the transactions of the black holes decided in the
	// window over its length.
	Measured float64
	// CPU and Uplink are the galaxy members' mean busy shares in the
	// window.
	CPU    Shares
	Uplink float64
	Wall   time.Duration
}

// FlatRun is one flat cluster, simulated or extrapolated.
type FlatRun struct {
	N         int
	Simulated bool
	TPS       float64
	EpochTime sim.Time
	CPU       Shares
	Uplink    float64
	// Included is the share of the N proposals an epoch included, on
	// average over the measured epochs.
	Included float64
}

// Fit is the flat cluster's model: epoch time T(N) = A + B·N + C·N²
// (seconds), least squares over the simulated sizes, and the mean share of
// proposals an epoch includes. The form follows the cost model: per member
// and epoch, O(N²) messages to check and O(N·f) decryption work, O(N)
// ciphertexts and transactions, and a constant number of message delays.
type Fit struct {
	A, B, C  float64
	Included float64
	// MaxResidual is the largest relative error of T at a simulated size.
	MaxResidual float64
}

// EpochTime is T(n).
func (f Fit) EpochTime(n int) float64 {
	x := float64(n)
	return f.A + f.B*x + f.C*x*x
}

// TPS is the flat cluster's throughput at n members under the fit.
func (f Fit) TPS(n, txPerNode int) float64 {
	t := f.EpochTime(n)
	if t <= 0 {
		return math.NaN()
	}
	return f.Included * float64(n*txPerNode) / t
}

// Report is the experiment's outcome.
type Report struct {
	Params   Params
	Clusters []*ClusterRun
	Galaxies []*GalaxyRun // by K
	Flat     []FlatRun    // simulated sizes
	Fit      Fit
	// Growth is the population growth, step by step (Params.Growth).
	Growth []GrowthStep
	// Wall is the experiment's duration.
	Wall time.Duration
}

// Run executes the experiment.
func Run(p Params) (*Report, error) {
	start := time.Now()
	if err := p.defaults(); err != nil {
		return nil, err
	}
	rep := &Report{Params: p}
	progress := func(format string, args ...any) {
		if p.Progress != nil {
			p.Progress(fmt.Sprintf(format, args...))
		}
	}

	// Clusters and the flat clusters that are not cluster-sized.
	var flatSizes []int
	for _, n := range p.FlatSizes {
		if n != p.ClusterSize && !slices.Contains(flatSizes, n) {
			flatSizes = append(flatSizes, n)
		}
	}
	rep.Clusters = make([]*ClusterRun, p.ClusterRuns)
	flat := make([]*ClusterRun, len(flatSizes))
	var jobs []func() error
	// The largest runs first, so parallel workers finish together.
	for i := len(flatSizes) - 1; i >= 0; i-- {
		n := flatSizes[i]
		jobs = append(jobs, func() error {
			t := time.Now()
			r, err := runCluster(&p, n, p.FlatEpochs, p.FlatWarmup, p.Seed*1000+500+uint64(i), fmt.Sprintf("flat cluster N=%d", n))
			if err != nil {
				return err
			}
			flat[i] = r
			progress("flat cluster N=%d, %d epochs: %.0f tx/s, epoch %v, CPU %.0f%%, uplink %.0f%% (%s)", n, r.Epochs, r.TPS, r.EpochTime, 100*r.CPU.Total(), 100*r.Uplink, time.Since(t).Round(time.Second))
			return nil
		})
	}
	for i := range p.ClusterRuns {
		jobs = append(jobs, func() error {
			t := time.Now()
			r, err := runCluster(&p, p.ClusterSize, p.Epochs, p.Warmup, p.Seed*1000+uint64(i), fmt.Sprintf("cluster run %d", i))
			if err != nil {
				return err
			}
			rep.Clusters[i] = r
			progress("cluster run %d/%d: N=%d, %d epochs: %.0f tx/s, epoch %v, CPU %.0f%%, uplink %.0f%% (%s)", i+1, p.ClusterRuns, r.N, r.Epochs, r.TPS, r.EpochTime, 100*r.CPU.Total(), 100*r.Uplink, time.Since(t).Round(time.Second))
			return nil
		})
	}
	if err := parallel(p.Workers, jobs); err != nil {
		return nil, err
	}
	// Flat points: the cluster-sized one is the mean of the cluster runs.
	for _, n := range p.FlatSizes {
		if n == p.ClusterSize {
			fr := FlatRun{N: n, Simulated: true}
			for _, c := range rep.Clusters {
				fr.Included += c.includedShare(p.Warmup) / float64(len(rep.Clusters))
				fr.TPS += c.TPS / float64(len(rep.Clusters))
				fr.EpochTime += c.EpochTime / sim.Time(len(rep.Clusters))
				fr.Uplink += c.Uplink / float64(len(rep.Clusters))
				for k := range fr.CPU {
					fr.CPU[k] += c.CPU[k] / float64(len(rep.Clusters))
				}
			}
			rep.Flat = append(rep.Flat, fr)
			continue
		}
		r := flat[slices.Index(flatSizes, n)]
		rep.Flat = append(rep.Flat, FlatRun{N: n, Simulated: true, TPS: r.TPS, EpochTime: r.EpochTime, CPU: r.CPU, Uplink: r.Uplink, Included: r.includedShare(p.FlatWarmup)})
	}
	sort.Slice(rep.Flat, func(a, b int) bool { return rep.Flat[a].N < rep.Flat[b].N })
	rep.Fit = fitFlat(rep)

	// Galaxies.
	type config struct{ k, asked int }
	var configs []config
	seen := map[int]bool{}
	for _, k := range p.Clusters {
		if !seen[k] {
			seen[k] = true
			configs = append(configs, config{k, 0})
		}
	}
	for _, pop := range p.Populations {
		k := p.clustersFor(pop)
		if !seen[k] {
			seen[k] = true
			configs = append(configs, config{k, pop})
		} else {
			for i := range configs {
				if configs[i].k == k && configs[i].asked == 0 {
					configs[i].asked = pop
				}
			}
		}
	}
	var growth []GrowthStep
	if len(p.Growth) > 0 {
		var err error
		if growth, err = Grow(p.Growth, p.GalaxySize, p.SplitAbove); err != nil {
			return nil, err
		}
	}
	rep.Growth = growth
	for _, s := range growth {
		if !seen[s.Clusters] {
			seen[s.Clusters] = true
			configs = append(configs, config{s.Clusters, 0})
		}
	}
	sort.Slice(configs, func(a, b int) bool { return configs[a].k < configs[b].k })
	rep.Galaxies = make([]*GalaxyRun, len(configs))
	jobs = jobs[:0]
	for i, c := range configs {
		jobs = append(jobs, func() error {
			t := time.Now()
			g, err := runGalaxy(&p, rep.Clusters, c.k)
			if err != nil {
				return err
			}
			g.Asked, g.Wall = c.asked, time.Since(t)
			rep.Galaxies[i] = g
			progress("galaxy over k=%d clusters (%d stars): committed %.0f tx/s, final %.0f tx/s, lag p50 %v, galaxy CPU %.0f%%, uplink %.0f%%, %.1f checkpoints per black hole (%s)",
				c.k, g.Population, g.Committed, g.Final, g.LagP50, 100*g.CPU.Total(), 100*g.Uplink, g.PerBlack, g.Wall.Round(time.Second))
			return nil
		})
	}
	if err := parallel(p.Workers, jobs); err != nil {
		return nil, err
	}
	rep.Wall = time.Since(start)
	return rep, nil
}

// parallel runs jobs on workers goroutines and returns the first error.
func parallel(workers int, jobs []func() error) error {
	var mu sync.Mutex
	var first error
	next := 0
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if next >= len(jobs) || first != nil {
					mu.Unlock()
					return
				}
				j := jobs[next]
				next++
				mu.Unlock()
				if err := j(); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// runGalaxy simulates the galaxy over k clusters' checkpoint streams.
func runGalaxy(p *Params, runs []*ClusterRun, k int) (*GalaxyRun, error) {
	seed := sim.SeedFromUint64(p.Seed*1000 + 900)
	cps := streams(p, runs, k, seed)
	// The window: every cluster past its warm-up and still producing.
	var ta, tb sim.Time = 0, math.MaxInt64
	for _, c := range cps {
		if c.height == p.Warmup-1 {
			ta = max(ta, c.certified)
		}
		if c.height == runs[c.cluster%len(runs)].Epochs-1 {
			tb = min(tb, c.certified)
		}
	}
	if tb <= ta {
		return nil, fmt.Errorf("galaxy over %d clusters: empty measurement window [%v, %v]", k, ta, tb)
	}
	slack := max(1500*sim.Millisecond, (tb-ta)/4)
	gx := newGalaxy(p, k, cps, seed)
	g, err := runGroup(p, p.GalaxySize, p.GalaxyBatch, math.MaxInt32, tb+slack, seed, fmt.Sprintf("galaxy over %d clusters", k), gx.contribution, gx)
	if err != nil {
		return nil, err
	}
	out := &GalaxyRun{K: k, Population: k*p.ClusterSize + p.GalaxySize}
	for i := range k {
		out.Committed += runs[i%len(runs)].TPS
	}
	// Finality of each checkpoint: when the black hole that carried it
	// was certified.
	final := make([]sim.Time, len(cps))
	for i := range final {
		final[i] = -1
	}
	decided := g.epochsDecided()
	var bhTimes []sim.Time
	for e := 0; e < decided && e < len(gx.final); e++ {
		at, _ := g.decidedAt(e)
		bh := slices.Min(g.certified(at))
		bhTimes = append(bhTimes, bh)
		for _, i := range gx.final[e] {
			final[i] = bh
		}
	}
	var xs, ys []float64
	var lags []sim.Time
	for i, c := range cps {
		if c.certified < ta || c.certified > tb {
			continue
		}
		out.Checkpoints++
		f := final[i]
		if f < 0 {
			out.Unfinalized++
			f = tb + slack
		}
		xs = append(xs, seconds(c.certified))
		ys = append(ys, seconds(f-c.certified))
		lags = append(lags, f-c.certified)
	}
	out.Slope, out.SlopeSE = slopeSE(xs, ys)
	slices.Sort(lags)
	if len(lags) > 0 {
		out.LagP50 = lags[len(lags)/2]
		out.LagP99 = lags[min(len(lags)-1, len(lags)*99/100)]
	}
	// The galaxy's own epochs in the window.
	first, last := -1, -1
	for e, t := range bhTimes {
		if t >= ta && t <= tb {
			if first < 0 {
				first = e
			}
			last = e
		}
	}
	if last <= first {
		// Too few black holes in a short window: measure from its start
		// to the end of the run.
		for e, t := range bhTimes {
			if t >= ta {
				if first < 0 {
					first = e
				}
				last = e
			}
		}
	}
	if first >= 0 && last > first {
		out.BlackHoles = last - first
		out.EpochTime = (bhTimes[last] - bhTimes[first]) / sim.Time(last-first)
		n := 0
		for e := first + 1; e <= last; e++ {
			n += len(gx.final[e])
		}
		out.PerBlack = float64(n) / float64(last-first)
		out.CPU, out.Uplink, _ = g.utilisation(first, last)
		txs := 0
		for e := first + 1; e <= last; e++ {
			for _, i := range gx.final[e] {
				txs += cps[i].txs
			}
		}
		out.Measured = float64(txs) / seconds(bhTimes[last]-bhTimes[first])
	}
	out.KeepsUp = out.BlackHoles > 0 && out.Unfinalized == 0 && out.CPU.Total() < SaturatedShare && out.Uplink < SaturatedShare
	out.Final = out.Committed
	if !out.KeepsUp {
		out.Final = min(out.Committed, out.Measured)
	}
	if total := countFinal(gx); total > 0 {
		out.Copies = 1 + float64(gx.dupes)/float64(total)
	}
	return out, nil
}

func countFinal(g *galaxy) int {
	n := 0
	for _, f := range g.final {
		n += len(f)
	}
	return n
}

// slope is the least-squares slope of y over x (0 for fewer than two
// distinct x).
func slope(xs, ys []float64) float64 {
	n := float64(len(xs))
	if n < 2 {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}

// slopeSE is the least-squares slope of y over x and its standard error.
func slopeSE(xs, ys []float64) (float64, float64) {
	b := slope(xs, ys)
	n := len(xs)
	if n < 3 {
		return b, math.Inf(1)
	}
	mx, my := mean(xs), mean(ys)
	a := my - b*mx
	var rss, sxx float64
	for i := range xs {
		r := ys[i] - a - b*xs[i]
		rss += r * r
		sxx += (xs[i] - mx) * (xs[i] - mx)
	}
	if sxx == 0 {
		return b, math.Inf(1)
	}
	return b, math.Sqrt(rss / float64(n-2) / sxx)
}

// fitFlat fits T(N) = A + B·N + C·N² to the simulated flat clusters by
// least squares (with fewer than three sizes, the terms that can be fitted).
func fitFlat(rep *Report) Fit {
	var ns, ts []float64
	var inc float64
	for _, f := range rep.Flat {
		ns = append(ns, float64(f.N))
		ts = append(ts, seconds(f.EpochTime))
		inc += f.Included
	}
	fit := Fit{}
	if len(ns) > 0 {
		fit.Included = inc / float64(len(ns))
	}
	switch len(ns) {
	case 0:
		return fit
	case 1:
		fit.A = ts[0]
	case 2:
		fit.B = (ts[1] - ts[0]) / (ns[1] - ns[0])
		fit.A = ts[0] - fit.B*ns[0]
	default:
		fit.A, fit.B, fit.C = quadratic(ns, ts)
	}
	for i := range ns {
		if r := math.Abs(fit.EpochTime(int(ns[i]))-ts[i]) / ts[i]; r > fit.MaxResidual {
			fit.MaxResidual = r
		}
	}
	return fit
}

// quadratic solves the 3×3 normal equations of y = a + b·x + c·x².
func quadratic(xs, ys []float64) (a, b, c float64) {
	var s [5]float64 // Σ x^0..x^4
	var t [3]float64 // Σ y·x^0..x^2
	for i, x := range xs {
		p := 1.0
		for k := range 5 {
			s[k] += p
			if k < 3 {
				t[k] += ys[i] * p
			}
			p *= x
		}
	}
	m := [3][4]float64{
		{s[0], s[1], s[2], t[0]},
		{s[1], s[2], s[3], t[1]},
		{s[2], s[3], s[4], t[2]},
	}
	for col := range 3 {
		piv := col
		for r := col + 1; r < 3; r++ {
			if math.Abs(m[r][col]) > math.Abs(m[piv][col]) {
				piv = r
			}
		}
		m[col], m[piv] = m[piv], m[col]
		for r := range 3 {
			if r == col || m[col][col] == 0 {
				continue
			}
			f := m[r][col] / m[col][col]
			for k := col; k < 4; k++ {
				m[r][k] -= f * m[col][k]
			}
		}
	}
	if m[0][0] == 0 || m[1][1] == 0 || m[2][2] == 0 {
		return 0, 0, 0
	}
	return m[0][3] / m[0][0], m[1][3] / m[1][1], m[2][3] / m[2][2]
}
