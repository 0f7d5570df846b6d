package scalesim

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/constellation-chain/constellation/conformance/repsim"
	"github.com/constellation-chain/constellation/conformance/sim"
)

// TargetEfficiency is the scaling target: tps(k) / (k × tps(1)) at or above
// it for every k up to TargetClusters.
const (
	TargetEfficiency = 0.8
	TargetClusters   = 16
)

// Baseline is tps(1): the finalized throughput of the one-cluster
// configuration (0 if it was not run).
func (r *Report) Baseline() float64 {
	for _, g := range r.Galaxies {
		if g.K == 1 {
			return g.Final
		}
	}
	return 0
}

// Efficiency is tps(k) / (k × tps(1)) for g.
func (r *Report) Efficiency(g *GalaxyRun) float64 {
	b := r.Baseline()
	if b <= 0 {
		return math.NaN()
	}
	return g.Final / (float64(g.K) * b)
}

// MeanClusterTPS is the mean committed throughput of the cluster runs.
func (r *Report) MeanClusterTPS() float64 {
	var s float64
	for _, c := range r.Clusters {
		s += c.TPS
	}
	return s / float64(len(r.Clusters))
}

// TargetMet reports whether every configuration with at most
// TargetClusters clusters reaches TargetEfficiency, and the worst of them.
func (r *Report) TargetMet() (bool, *GalaxyRun) {
	var worst *GalaxyRun
	for _, g := range r.Galaxies {
		if g.K > TargetClusters {
			continue
		}
		if worst == nil || r.Efficiency(g) < r.Efficiency(worst) {
			worst = g
		}
	}
	return worst != nil && r.Efficiency(worst) >= TargetEfficiency, worst
}

// Knee is where the galaxy stops keeping up, as simulated, and why.
type Knee struct {
	// LastKeepsUp is the largest k whose galaxy kept up with every
	// smaller k also keeping up; FirstBehind the smallest k whose galaxy
	// did not (0: none did).
	LastKeepsUp, FirstBehind int
	// PerCluster is the galaxy members' CPU share spent on certificate
	// checks per cluster (mean over the configurations that kept up, k ≥
	// 4); Rest the rest of their CPU share at LastKeepsUp, and RestFirst
	// at the smallest k.
	PerCluster, Rest, RestFirst float64
	FirstK                      int
	// CPUClusters is the k at which certificate checks would fill what
	// the rest leaves: (1 − Rest) / PerCluster.
	CPUClusters float64
}

// Knee locates the galaxy's knee.
func (r *Report) Knee() Knee {
	var k Knee
	var per []float64
	for i, g := range r.Galaxies {
		if i == 0 {
			k.FirstK, k.RestFirst = g.K, g.CPU.Total()-g.CPU[CatCheckpoint]
		}
		if !g.KeepsUp {
			if k.FirstBehind == 0 {
				k.FirstBehind = g.K
			}
			continue
		}
		if k.FirstBehind == 0 {
			k.LastKeepsUp = g.K
			k.Rest = g.CPU.Total() - g.CPU[CatCheckpoint]
		}
		if g.K >= 4 {
			per = append(per, g.CPU[CatCheckpoint]/float64(g.K))
		}
	}
	if len(per) > 0 {
		k.PerCluster = mean(per)
		k.CPUClusters = (1 - k.Rest) / k.PerCluster
	}
	return k
}

// WithCheckpointVerifies is the CPU knee if every member checked each
// certificate v times instead of Params.CheckpointVerifies.
func (r *Report) WithCheckpointVerifies(k Knee, v int) float64 {
	return (1 - k.Rest) / (k.PerCluster * float64(v) / float64(r.Params.CheckpointVerifies))
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func ms(t sim.Time) string { return fmt.Sprintf("%.0f ms", float64(t)/float64(sim.Millisecond)) }

func pct(v float64) string { return fmt.Sprintf("%.0f%%", 100*v) }

func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	s := fmt.Sprintf("%.0f", v)
	// thousands separators
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func us(d time.Duration) string { return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond)) }

// Section renders the results as the "## Results" section of
// docs/scaling.md: command, cost model in force, tables, target verdict
// and the galaxy's knee. plot is the plot's path relative to the document
// ("" for none); cpuSource says where the CPU prices came from.
func (r *Report) Section(command, plot, cpuSource string) string {
	p := r.Params
	var b strings.Builder
	fmt.Fprintf(&b, "## Results\n\n")
	fmt.Fprintf(&b, "Produced by this command in %s of wall time (%d worker(s)):\n\n```\n%s\n```\n\n", r.Wall.Round(time.Second), p.Workers, command)

	fmt.Fprintf(&b, "### The model in force\n\n")
	fmt.Fprintf(&b, "- Clusters of %d delegates (f=%d), a galaxy of %d members (f=%d); a population of P stars runs ⌊(P−%d)/%d⌋ clusters.\n", p.ClusterSize, (p.ClusterSize-1)/3, p.GalaxySize, (p.GalaxySize-1)/3, p.GalaxySize, p.ClusterSize)
	fmt.Fprintf(&b, "- Every delegate proposes %d transactions of %d bytes per epoch (pools full); each transaction's signature is checked %d× per delegate; a checkpoint is %d bytes and each galaxy member checks its certificate %d×; the galaxy's batch is %d (each member proposes up to %d checkpoints).\n", p.TxPerNode, p.TxSize, p.TxVerifies, p.CheckpointSize, p.CheckpointVerifies, p.GalaxyBatch, max(p.GalaxyBatch/p.GalaxySize, 1))
	fmt.Fprintf(&b, "- Links: one-way latency per ordered pair uniform in [%v, %v], fixed for the run; one uplink of %.0f Mbit/s per node; %d bytes of framing and signature per message.\n", p.Link.LatencyMin, p.Link.LatencyMax, p.Link.UplinkMbps, p.Link.OverheadBytes)
	fmt.Fprintf(&b, "- %d cluster runs of %d epochs (the first %d left out); flat clusters of %s simulated for %d epochs (the first %d left out); seed %d.\n", p.ClusterRuns, p.Epochs, p.Warmup, ints(p.FlatSizes), p.FlatEpochs, p.FlatWarmup, p.Seed)
	fmt.Fprintf(&b, "- CPU prices (%s):\n\n", cpuSource)
	c := p.CPU
	fmt.Fprintf(&b, "| operation | cost |\n|---|---:|\n")
	for _, row := range []struct {
		name string
		d    time.Duration
	}{
		{"ed25519 verify (message or transaction)", c.Ed25519Verify},
		{"ed25519 sign (message)", c.Ed25519Sign},
		{"message handling, fixed", c.MsgFixed},
		{"message handling, per KiB", c.MsgPerKiB},
		{"threshold encryption, 1 KiB", c.Encrypt1KiB},
		{"threshold encryption, 25 kB", c.Encrypt25KB},
		{"ciphertext validity check", c.VerifyCiphertext},
		{"decryption share", c.DecryptShare},
		{"combine 2 decryption shares", c.Decrypt2},
		{"combine 6 decryption shares", c.Decrypt6},
		{"signature share (coin, certificate)", c.SignShare},
		{"combine 2 signature shares + verify", c.Combine2},
		{"combine 6 signature shares + verify", c.Combine6},
		{"verify a group signature (checkpoint certificate)", c.VerifySignature},
		{"apply a transaction", c.TxApply},
	} {
		fmt.Fprintf(&b, "| %s | %s |\n", row.name, us(row.d))
	}
	b.WriteString("\n")

	// Hierarchy.
	base := r.Baseline()
	fmt.Fprintf(&b, "### Clusters under a galaxy\n\n")
	fmt.Fprintf(&b, "tps(1) = %s tx/s (one cluster, finalized by the galaxy); the mean committed throughput of the %d cluster runs is %s tx/s.\n\n", num(base), len(r.Clusters), num(r.MeanClusterTPS()))
	b.WriteString("| clusters k | stars | committed tx/s | final tx/s | tps(k)/(k·tps(1)) | final/committed | flat cluster of as many stars, tx/s | checkpoint→black hole p50 / p99 | black hole every | checkpoints per black hole | copies proposed | galaxy CPU (certificates) | galaxy uplink |\n")
	b.WriteString("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, g := range r.Galaxies {
		stars := num(float64(g.Population))
		if g.Asked > 0 && g.Asked != g.Population {
			stars = fmt.Sprintf("%s (of %s)", num(float64(g.Population)), num(float64(g.Asked)))
		}
		flat, how := r.flatAt(g.Population)
		unf := ""
		if g.Unfinalized > 0 {
			unf = fmt.Sprintf(" (%d of %d not final)", g.Unfinalized, g.Checkpoints)
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %s%s | %.2f | %.2f | %s %s | %s / %s | %s | %.1f | %.1f | %s (%s) | %s |\n",
			g.K, stars, num(g.Committed), num(g.Final), unf, r.Efficiency(g), g.Final/g.Committed, num(flat), how,
			ms(g.LagP50), ms(g.LagP99), ms(g.EpochTime), g.PerBlack, g.Copies, pct(g.CPU.Total()), pct(g.CPU[CatCheckpoint]), pct(g.Uplink))
	}
	b.WriteString("\n")
	ok, worst := r.TargetMet()
	if worst != nil {
		verdict := "met"
		if !ok {
			verdict = "not met"
		}
		fmt.Fprintf(&b, "**Target tps(k)/(k·tps(1)) ≥ %.1f up to %d clusters: %s** (lowest: %.2f at k=%d).\n\n", TargetEfficiency, TargetClusters, verdict, r.Efficiency(worst), worst.K)
	}
	k := r.Knee()
	stars := func(k float64) string { return num(k*float64(p.ClusterSize) + float64(p.GalaxySize)) }
	if k.PerCluster > 0 {
		b.WriteString("**Where the galaxy becomes the bottleneck.** ")
		if k.FirstBehind > 0 {
			fmt.Fprintf(&b, "The galaxy keeps up through k = %d clusters (%s stars) and falls behind at k = %d (%s stars), the first configuration simulated beyond. ", k.LastKeepsUp, stars(float64(k.LastKeepsUp)), k.FirstBehind, stars(float64(k.FirstBehind)))
		} else {
			fmt.Fprintf(&b, "The galaxy keeps up in every configuration simulated, up to k = %d clusters (%s stars). ", k.LastKeepsUp, stars(float64(k.LastKeepsUp)))
		}
		var behind *GalaxyRun
		for _, g := range r.Galaxies {
			if g.K == k.FirstBehind {
				behind = g
			}
		}
		if behind != nil && behind.Uplink >= behind.CPU.Total() {
			// The wire, not the CPU: say what fills it.
			fmt.Fprintf(&b, "The limit is the galaxy members' uplink: at k = %d a member's uplink is %s busy and its CPU %s (certificate checks %s). What fills it is the checkpoints' bytes: a checkpoint is %s bytes, and while a member's pool holds fewer than B/N = %d checkpoints it proposes all of them, so each checkpoint is proposed by %.1f of the %d members on average, and every proposal is reliably broadcast to every member. Proposing each checkpoint by f+1 members instead of all (enough for one honest proposer) would cut the copies to %d; a smaller checkpoint (members and proposers as indices, fewer sampled edges) would cut the bytes. ", behind.K, pct(behind.Uplink), pct(behind.CPU.Total()), pct(behind.CPU[CatCheckpoint]), num(float64(p.CheckpointSize)), max(p.GalaxyBatch/p.GalaxySize, 1), behind.Copies, p.GalaxySize, (p.GalaxySize-1)/3+1)
			fmt.Fprintf(&b, "Certificate checks cost every member %.2f%% of its core per cluster (%d per checkpoint, a checkpoint every %s); on CPU alone they would fill the core at k ≈ %s (%s stars).\n\n", 100*k.PerCluster, p.CheckpointVerifies, ms(r.meanEpochTime()), num(k.CPUClusters), stars(k.CPUClusters))
		} else {
			fmt.Fprintf(&b, "What grows with k is the checkpoint certificates: each cluster costs every galaxy member %.2f%% of its core in certificate checks (%d per checkpoint, a checkpoint every %s). The rest of a member's work (its own consensus, the black hole's certificate) is paid per black hole, not per checkpoint: it takes %s of its core at k = %d and %s at k = %d, where black holes are larger and come less often. ", 100*k.PerCluster, p.CheckpointVerifies, ms(r.meanEpochTime()), pct(k.RestFirst), k.FirstK, pct(k.Rest), k.LastKeepsUp)
			fmt.Fprintf(&b, "Certificate checks fill the rest at k ≈ %s (%s stars). ", num(k.CPUClusters), stars(k.CPUClusters))
			if k.FirstBehind > 0 {
				b.WriteString("The galaxy falls behind before that, and before its CPU reads 100%, because a member applies a black hole, checks included, before it proposes the next one: the checks lengthen every galaxy epoch, the lag grows, and the members' time waiting on the network is not spare capacity. ")
			}
			vAll := r.WithCheckpointVerifies(k, p.ClusterSize+1)
			fmt.Fprintf(&b, "If every member checked every delegate's announcement and then the ledger's copy (%d checks, what the relay did before nodes cached verified certificates), it comes down to k ≈ %s (%s stars). The galaxy's uplink is at most %s busy.\n\n", p.ClusterSize+1, num(vAll), stars(vAll), pct(r.maxGalaxyUplink()))
		}
	}
	if plot != "" {
		fmt.Fprintf(&b, "![aggregate throughput against population](%s)\n\n", plot)
	}
	r.growthSection(&b)

	// Flat.
	f := r.Fit
	fmt.Fprintf(&b, "### One flat cluster\n\n")
	fmt.Fprintf(&b, "Simulated sizes and the fitted epoch time T(N) = %.4g + %.4g·N + %.4g·N² s (largest relative error at a simulated size %.1f%%; %.1f%% of the proposals included per epoch on average). Rows marked *model* are T(N) extrapolated; the engine itself stops at N = 256 (its Reed–Solomon code has 256 shards), so those rows describe a HoneyBadger with a wider code and the same costs.\n\n", f.A, f.B, f.C, 100*f.MaxResidual, 100*f.Included)
	b.WriteString("| N | how | tx/s | epoch | member CPU | member uplink |\n|---:|---|---:|---:|---:|---:|\n")
	for _, fr := range r.Flat {
		fmt.Fprintf(&b, "| %d | simulated | %s | %s | %s | %s |\n", fr.N, num(fr.TPS), ms(fr.EpochTime), pct(fr.CPU.Total()), pct(fr.Uplink))
	}
	for _, n := range r.modelSizes() {
		fmt.Fprintf(&b, "| %d | *model* | %s | %.1f s | | |\n", n, num(f.TPS(n, p.TxPerNode)), f.EpochTime(n))
	}
	b.WriteString("\n")
	r.clusterSizes(&b)

	// Clusters.
	fmt.Fprintf(&b, "### The cluster runs\n\n")
	b.WriteString("| run | tx/s | epoch | CPU: msg signatures | signing | engine | threshold crypto | transactions | certificates | total | uplink |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for i, cr := range r.Clusters {
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", i, num(cr.TPS), ms(cr.EpochTime),
			pct(cr.CPU[CatVerify]), pct(cr.CPU[CatSign]), pct(cr.CPU[CatEngine]), pct(cr.CPU[CatThreshold]), pct(cr.CPU[CatTx]), pct(cr.CPU[CatCert]), pct(cr.CPU.Total()), pct(cr.Uplink))
	}
	b.WriteString("\n")
	kinds := map[string]int{}
	epochs := 0
	for _, cr := range r.Clusters {
		for k, v := range cr.Kinds {
			kinds[k] += v
		}
		epochs += cr.Epochs * cr.N
	}
	var names []string
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	var parts []string
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %.0f", n, float64(kinds[n])/float64(epochs)))
	}
	fmt.Fprintf(&b, "Messages received per delegate per epoch, by kind: %s.\n", strings.Join(parts, ", "))
	return b.String()
}

// meanEpochTime is the cluster runs' mean epoch time.
func (r *Report) meanEpochTime() sim.Time {
	var t sim.Time
	for _, c := range r.Clusters {
		t += c.EpochTime
	}
	return t / sim.Time(max(len(r.Clusters), 1))
}

func (r *Report) maxGalaxyUplink() float64 {
	m := 0.0
	for _, g := range r.Galaxies {
		m = math.Max(m, g.Uplink)
	}
	return m
}

// clusterSizes renders the aggregate throughput other cluster sizes would
// give at the largest populations, from the flat clusters (a cluster of N
// is a flat cluster of N): simulated where N was, the fit elsewhere. The
// galaxy is not counted.
func (r *Report) clusterSizes(b *strings.Builder) {
	p := r.Params
	pops := []int{}
	for _, g := range r.Galaxies {
		if g.Asked > 0 {
			pops = append(pops, g.Asked)
		}
	}
	sort.Ints(pops)
	if len(pops) == 0 {
		return
	}
	// The largest population of the plot's range and the largest of all.
	last := pops[len(pops)-1]
	pick := []int{}
	for _, pop := range pops {
		if pop <= 2000 {
			pick = []int{pop}
		}
	}
	if len(pick) == 0 || pick[0] != last {
		pick = append(pick, last)
	}
	pops = pick
	fmt.Fprintf(b, "Other cluster sizes, from the flat clusters (a cluster of N is a flat cluster of N; *model* where N was not simulated; the galaxy not counted):\n\n| delegates per cluster | f | one cluster, tx/s | how |")
	for _, pop := range pops {
		fmt.Fprintf(b, " clusters in %s stars | tx/s |", num(float64(pop)))
	}
	b.WriteString("\n|---:|---:|---:|---|")
	for range pops {
		b.WriteString("---:|---:|")
	}
	b.WriteString("\n")
	var sizes []int
	for _, n := range []int{p.ClusterSize, 25, 32, 64, 100, 250} {
		if n >= p.ClusterSize && !slices.Contains(sizes, n) {
			sizes = append(sizes, n)
		}
	}
	for _, n := range sizes {
		tps, how := r.flatAt(n)
		if n == p.ClusterSize {
			tps, how = r.MeanClusterTPS(), "(sim.)"
		}
		fmt.Fprintf(b, "| %d | %d | %s | %s |", n, (n-1)/3, num(tps), strings.Trim(how, "()"))
		for _, pop := range pops {
			k := (pop - p.GalaxySize) / n
			fmt.Fprintf(b, " %d | %s |", k, num(float64(k)*tps))
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}

// flatAt is the flat cluster's throughput at n stars: simulated if n was,
// else the fit.
func (r *Report) flatAt(n int) (float64, string) {
	for _, f := range r.Flat {
		if f.N == n {
			return f.TPS, "(sim.)"
		}
	}
	return r.Fit.TPS(n, r.Params.TxPerNode), "(model)"
}

// modelSizes are the populations of the galaxy configurations that the
// flat clusters did not simulate.
func (r *Report) modelSizes() []int {
	var out []int
	for _, g := range r.Galaxies {
		if _, how := r.flatAt(g.Population); how == "(model)" {
			out = append(out, g.Population)
		}
	}
	return out
}

func ints(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

// Plot is Figure 5: aggregate finalized throughput of clusters under a
// galaxy, the ideal k × tps(1), and one flat cluster, against population,
// for the configurations asked by population that form a progression
// P, 2P, 3P, … (the x axis counts P). The y axis
// is a share of the largest value, named in the title, because the plot
// writer draws shares.
func (r *Report) Plot() (repsim.Plot, bool) {
	// The configurations asked by population that form the progression
	// step, 2·step, … (others are in the table only).
	var asked []*GalaxyRun
	for _, g := range r.Galaxies {
		if g.Asked > 0 {
			asked = append(asked, g)
		}
	}
	sort.Slice(asked, func(a, b int) bool { return asked[a].Asked < asked[b].Asked })
	var gs []*GalaxyRun
	for i, g := range asked {
		if g.Asked != asked[0].Asked*(i+1) {
			break
		}
		gs = append(gs, g)
	}
	if len(gs) < 2 {
		return repsim.Plot{}, false
	}
	base := r.Baseline()
	var hier, ideal, flat []float64
	top := 0.0
	for _, g := range gs {
		hier = append(hier, g.Final)
		ideal = append(ideal, float64(g.K)*base)
		f, _ := r.flatAt(g.Population)
		flat = append(flat, f)
		top = math.Max(top, math.Max(g.Final, float64(g.K)*base))
	}
	scale := niceCeil(top)
	for _, v := range [][]float64{hier, ideal, flat} {
		for i := range v {
			v[i] /= scale
		}
	}
	xl := fmt.Sprintf("population (x%d stars)", gs[0].Asked)
	return repsim.Plot{
		Title:  fmt.Sprintf("aggregate tx/s against population (100%% = %s tx/s)", num(scale)),
		XLabel: xl,
		YLabel: "final tx/s",
		YMax:   1,
		Lines: []repsim.Line{
			{Label: "k clusters and the galaxy", Color: color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, Y: hier},
			{Label: "k x tps(1)", Color: color.RGBA{R: 0x99, G: 0x99, B: 0x99, A: 0xff}, Y: ideal},
			{Label: "one flat cluster", Color: color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, Y: flat},
		},
	}, true
}

// niceCeil rounds v up to a round multiple of a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}
