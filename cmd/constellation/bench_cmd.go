package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/constellation-chain/constellation/conformance/bench"
	"github.com/constellation-chain/constellation/interfaces"
	"github.com/constellation-chain/constellation/plugins/host"
)

// benchReference is the mode A reference the benchmark compares with: an
// existing Go HoneyBadger engine (fake coin, no encryption) measured on
// this 2-core machine type under the same definition, in tx/s, at B/N =
// benchReferenceLoad only, on another day than any run that prints it. A
// ratio measured in one run, both engines side by side, is in
// docs/benchmarks.md; this column only places a row against that figure.
var benchReference = map[int]float64{4: 44266, 7: 24107, 10: 16049, 16: 9495}

// benchReferenceLoad is the B/N benchReference was measured at.
const benchReferenceLoad = 100

// benchCores is the GOMAXPROCS of every benchmark, and the cores of the
// verification bound.
const benchCores = 2

func benchCommand() *cli.Command {
	return &cli.Command{
		Name:  "bench",
		Usage: "run the benchmark definitions",
		Subcommands: []*cli.Command{{
			Name:  "consensus",
			Usage: "benchmark a consensus engine: N members in one process, in-memory transport",
			Description: `Runs the consensus benchmark of docs/benchmarks.md: all N members in one
process with GOMAXPROCS=2, a seeded random-order in-memory transport that
counts every message's bytes, random 250-byte transactions, B/N = 100 and
1000 transactions per member per epoch, pools refilled to 3×B/N, 5 warm-up
and 50 measured epochs, the median of 3 repetitions, N = 4, 7, 10, 16.

Modes: A protocol only (HoneyBadger with encryption and the threshold coin
off, unsigned transactions); B full (defaults, ed25519-signed transactions
verified by every member); C as B with f silent members.

Without --full, modes B and C skip N=16 (at 1000 transactions per member an
epoch there verifies 256,000 signatures; the full definition takes well over
25 minutes on 2 cores); the output says exactly what ran.

   constellation bench consensus --quick
   constellation bench consensus --out docs/benchmarks.md --out-of-process`,
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "quick", Usage: "2 warm-up and 10 measured epochs, 1 repetition, N = 4 and 7"},
				&cli.BoolFlag{Name: "full", Usage: "run every point of the definition, modes B and C at N=16 included"},
				&cli.StringFlag{Name: "modes", Value: "A,B,C", Usage: "modes to run (A, B, C)"},
				&cli.StringFlag{Name: "sizes", Usage: "cluster sizes N (default 4,7,10,16; 4,7 with --quick)"},
				&cli.StringFlag{Name: "loads", Value: "100,1000", Usage: "transactions per member per epoch (B/N)"},
				&cli.IntFlag{Name: "warmup", Usage: "warm-up epochs (default 5; 2 with --quick)"},
				&cli.IntFlag{Name: "epochs", Usage: "measured epochs (default 50; 10 with --quick)"},
				&cli.IntFlag{Name: "reps", Usage: "repetitions, the median is reported (default 3; 1 with --quick)"},
				&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed of keys, transactions and delivery order"},
				&cli.StringFlag{Name: "engine", Value: "honeybadger", Usage: "built-in consensus engine to measure"},
				&cli.BoolFlag{Name: "out-of-process", Usage: "also compare the engine served by a child process (plugin RPC) with in process, N=4, modes A and B"},
				&cli.BoolFlag{Name: "signatures", Usage: "also measure what signed consensus messages cost: mode B with and without them, in one run, N = 4 and 7, the first load"},
				&cli.StringFlag{Name: "out", Usage: "rewrite the marked section of this markdown file (for example docs/benchmarks.md)"},
				&cli.StringFlag{Name: "cpuprofile", Usage: "write a CPU profile of the whole run to FILE (read it with go tool pprof)"},
			},
			Action: runBenchConsensus,
		}},
	}
}

// benchPlan is what one invocation runs.
type benchPlan struct {
	modes          []string
	sizes, loads   []int
	warmup, epochs int
	reps           int
	skipped        []string
}

func runBenchConsensus(c *cli.Context) error {
	started := time.Now()
	runtime.GOMAXPROCS(benchCores)
	// A plugin child process inherits this.
	if err := os.Setenv("GOMAXPROCS", strconv.Itoa(benchCores)); err != nil {
		return fmt.Errorf("set GOMAXPROCS for plugin processes: %w", err)
	}
	progress := func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }

	plan, err := benchPlanFrom(c)
	if err != nil {
		return err
	}
	if path := c.String("cpuprofile"); path != "" {
		stopProfile, err := startCPUProfile(path)
		if err != nil {
			return err
		}
		defer func() {
			if err := stopProfile(); err != nil {
				progress("%v", err)
			} else {
				progress("CPU profile written to %s (go tool pprof %s)", path, path)
			}
		}()
	}
	engine := c.String("engine")
	if _, err := benchFactory(engine, "B"); err != nil {
		return err
	}

	progress("measuring ed25519.Verify ...")
	verify := bench.MeasureVerify(3000, 300*time.Millisecond)
	progress("ed25519.Verify: %.1f µs; GOMAXPROCS=%d; CPU: %s", float64(verify)/1e3, runtime.GOMAXPROCS(0), bench.CPUModel())

	var rows []bench.Row
	for _, mode := range plan.modes {
		for _, n := range plan.sizes {
			for _, load := range plan.loads {
				if benchSkipped(c, mode, n) {
					continue
				}
				factory, err := benchFactory(engine, mode)
				if err != nil {
					return err
				}
				cfg := benchConfig(factory, mode, n, load, plan, c.Uint64("seed"))
				cfg.Progress = progress
				progress("mode %s N=%d B/N=%d: %d warm-up + %d measured epochs × %d repetitions", mode, n, load, plan.warmup, plan.epochs, plan.reps)
				t0 := time.Now()
				res, _, err := bench.RunMedian(cfg, plan.reps)
				if err != nil {
					return fmt.Errorf("benchmark mode %s N=%d B/N=%d: %w", mode, n, load, err)
				}
				row := benchRow(mode, res, plan.reps, verify)
				rows = append(rows, row)
				// The finished row, so a long run that is interrupted
				// still leaves its results on stderr.
				progress("  done in %s:\n%s", time.Since(t0).Round(time.Second), benchLastLine(bench.Table([]bench.Row{row})))
			}
		}
	}

	var oopRows []bench.Row
	var oopLines []string
	if c.Bool("out-of-process") {
		oopRows, oopLines, err = benchOutOfProcess(c, engine, plan, verify, progress)
		if err != nil {
			return err
		}
	}

	var sigRows []bench.Row
	var sigLines []string
	if c.Bool("signatures") {
		sigRows, sigLines, err = benchSignatures(c, engine, plan, verify, progress)
		if err != nil {
			return err
		}
	}

	body := benchReport(c, plan, verify, rows, oopRows, oopLines, sigRows, sigLines, time.Since(started))
	fmt.Fprint(c.App.Writer, body)
	if out := c.String("out"); out != "" {
		intro := "# Benchmarks\n\nNumbers measured by `constellation bench consensus` (package\nconformance/bench; the definition is in its package documentation). Regenerate the section below with:\n\n    go run ./cmd/constellation bench consensus --out docs/benchmarks.md --out-of-process\n"
		if err := bench.UpdateDoc(out, intro, body); err != nil {
			return err
		}
		progress("wrote %s", out)
	}
	return nil
}

func benchPlanFrom(c *cli.Context) (benchPlan, error) {
	p := benchPlan{warmup: 5, epochs: 50, reps: 3, sizes: []int{4, 7, 10, 16}}
	if c.Bool("quick") {
		p.warmup, p.epochs, p.reps, p.sizes = 2, 10, 1, []int{4, 7}
	}
	if c.IsSet("warmup") {
		p.warmup = c.Int("warmup")
	}
	if c.IsSet("epochs") {
		p.epochs = c.Int("epochs")
	}
	if c.IsSet("reps") {
		p.reps = c.Int("reps")
	}
	var err error
	if c.IsSet("sizes") {
		if p.sizes, err = benchInts(c.String("sizes"), "sizes"); err != nil {
			return p, err
		}
	}
	if p.loads, err = benchInts(c.String("loads"), "loads"); err != nil {
		return p, err
	}
	for _, m := range strings.Split(c.String("modes"), ",") {
		m = strings.ToUpper(strings.TrimSpace(m))
		switch m {
		case "A", "B", "C":
			p.modes = append(p.modes, m)
		case "":
		default:
			return p, fmt.Errorf("unknown benchmark mode %q (A, B or C)", m)
		}
	}
	if len(p.modes) == 0 {
		return p, fmt.Errorf("no benchmark mode selected")
	}
	if p.warmup < 0 || p.epochs < 1 || p.reps < 1 {
		return p, fmt.Errorf("want --warmup ≥ 0, --epochs ≥ 1 and --reps ≥ 1")
	}
	for _, m := range p.modes {
		for _, n := range p.sizes {
			if benchSkipped(c, m, n) {
				p.skipped = append(p.skipped, fmt.Sprintf("mode %s N=%d", m, n))
			}
		}
	}
	return p, nil
}

// benchSkipped reports the points the default run leaves out: modes B and
// C at N ≥ 16, unless --full or the sizes were given explicitly.
func benchSkipped(c *cli.Context, mode string, n int) bool {
	return !c.Bool("full") && !c.IsSet("sizes") && mode != "A" && n >= 16
}

func benchInts(s, what string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("--%s: %q is not a positive integer", what, f)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--%s is empty", what)
	}
	return out, nil
}

func benchConfig(f interfaces.ConsensusFactory, mode string, n, load int, plan benchPlan, seed uint64) bench.Config {
	cfg := bench.Config{
		Factory:   f,
		N:         n,
		TxPerNode: load,
		Signed:    mode != "A",
		Warmup:    plan.warmup,
		Measured:  plan.epochs,
		Seed:      seed,
	}
	if mode == "C" {
		cfg.Silent = (n - 1) / 3
	}
	return cfg
}

func benchRow(mode string, res bench.Result, reps int, verify time.Duration) bench.Row {
	r := bench.Row{Mode: mode, Res: res, Reps: reps}
	switch {
	case strings.HasPrefix(mode, "A"):
		// Only at the point the reference was measured at; elsewhere
		// the column stays empty rather than compare unlike loads.
		if res.TxPerNode == benchReferenceLoad {
			r.Ref, r.RefTag = benchReference[res.N], "ref (measured another day)"
		}
	default:
		r.Ref, r.RefTag = bench.VerifyBound(benchCores, res.N, verify), "verify bound"
	}
	return r
}

// benchOutOfProcess measures the engine served by a child process of this
// binary against the in-process engine: N=4, the first load, modes A and
// B.
func benchOutOfProcess(c *cli.Context, engine string, plan benchPlan, verify time.Duration,
	progress func(string, ...any)) ([]bench.Row, []string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, fmt.Errorf("find this binary to serve the plugin: %w", err)
	}
	sum, err := fileSHA256(self)
	if err != nil {
		return nil, nil, err
	}
	const n = 4
	load := plan.loads[0]
	var rows []bench.Row
	var lines []string
	for _, mode := range []string{"A", "B"} {
		inproc, err := benchFactory(engine, mode)
		if err != nil {
			return nil, nil, err
		}
		ref := benchRef(engine, mode)
		_, name, _ := strings.Cut(ref, "/")
		hp, err := host.Load(host.LoadOptions{Kind: interfaces.KindConsensus, Name: name, Path: self,
			Args: []string{"plugin", "serve", ref}, SHA256: sum, Logger: logger(c, "bench")})
		if err != nil {
			return nil, nil, fmt.Errorf("start %s out of process: %w", ref, err)
		}
		defer hp.Close()
		p, err := hp.Factory()
		if err != nil {
			return nil, nil, fmt.Errorf("out-of-process %s: %w", ref, err)
		}
		remote, ok := p.(interfaces.ConsensusFactory)
		if !ok {
			return nil, nil, fmt.Errorf("out-of-process %s does not build consensus engines", ref)
		}
		// Both sides deliver a member's in-flight messages in one call, so
		// the plugin RPC crosses the process boundary once per batch.
		icfg := benchConfig(inproc, mode, n, load, plan, c.Uint64("seed"))
		icfg.Progress = progress
		icfg.BatchDelivery = true
		progress("mode %s N=%d B/N=%d in process, batched delivery (for the out-of-process comparison)", mode, n, load)
		in, _, err := bench.RunMedian(icfg, plan.reps)
		if err != nil {
			return nil, nil, fmt.Errorf("benchmark mode %s N=%d in process: %w", mode, n, err)
		}
		cfg := benchConfig(remote, mode, n, load, plan, c.Uint64("seed"))
		cfg.Progress = progress
		cfg.BatchDelivery = true
		cfg.ExtraCPU = benchChildrenCPU
		progress("mode %s N=%d B/N=%d out of process (plugin RPC)", mode, n, load)
		out, _, err := bench.RunMedian(cfg, plan.reps)
		if err != nil {
			return nil, nil, fmt.Errorf("benchmark mode %s N=%d out of process: %w", mode, n, err)
		}
		rows = append(rows, benchRow(mode+" in process", in, plan.reps, verify), benchRow(mode+" out of process", out, plan.reps, verify))
		slow := 100 * (out.MsPerEpoch()/in.MsPerEpoch() - 1)
		verdict := "within"
		if slow > 20 {
			verdict = "over"
		}
		lines = append(lines, fmt.Sprintf("- mode %s, N=%d, B/N=%d, batched delivery: %.1f ms/epoch out of process vs %.1f in process: %+.1f%% (%s the 20%% target)",
			mode, n, load, out.MsPerEpoch(), in.MsPerEpoch(), slow, verdict))
	}
	return rows, lines, nil
}

// benchChildrenCPU returns the user+system CPU time of this process's
// live children (the plugin process), from /proc; 0 where unavailable.
func benchChildrenCPU() time.Duration {
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	var total time.Duration
	seen := map[string]bool{}
	for _, t := range tasks {
		raw, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, pid := range strings.Fields(string(raw)) {
			if seen[pid] {
				continue
			}
			seen[pid] = true
			stat, err := os.ReadFile("/proc/" + pid + "/stat")
			if err != nil {
				continue
			}
			s := string(stat)
			i := strings.LastIndexByte(s, ')')
			if i < 0 {
				continue
			}
			// Fields after the command: state(3) … utime(14) stime(15).
			f := strings.Fields(s[i+1:])
			if len(f) < 13 {
				continue
			}
			ut, err1 := strconv.ParseInt(f[11], 10, 64)
			st, err2 := strconv.ParseInt(f[12], 10, 64)
			if err1 != nil || err2 != nil {
				continue
			}
			// USER_HZ is 100 on Linux.
			total += time.Duration(ut+st) * 10 * time.Millisecond
		}
	}
	return total
}

func benchReport(c *cli.Context, plan benchPlan, verify time.Duration, rows, oopRows []bench.Row, oopLines []string, sigRows []bench.Row, sigLines []string, took time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Consensus: %s\n\n", c.String("engine"))
	fmt.Fprintf(&b, "- Date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "- Command: `constellation %s`\n", strings.Join(os.Args[1:], " "))
	fmt.Fprintf(&b, "- GOMAXPROCS=%d; CPU: %s (%d logical CPUs visible); %s\n", runtime.GOMAXPROCS(0), bench.CPUModel(), runtime.NumCPU(), runtime.Version())
	fmt.Fprintf(&b, "- ed25519.Verify measured in this run: %.1f µs, so the verification bound 2 cores / (N × verify) is %s tx/s at N=4\n",
		float64(verify)/1e3, benchGroup(bench.VerifyBound(benchCores, 4, verify)))
	fmt.Fprintf(&b, "- Ran: modes %s; N ∈ %v; B/N ∈ %v; %d warm-up + %d measured epochs; median of %d repetition(s); 250-byte transactions; pools refilled to 3×B/N\n",
		strings.Join(plan.modes, ","), plan.sizes, plan.loads, plan.warmup, plan.epochs, plan.reps)
	if len(plan.skipped) > 0 {
		fmt.Fprintf(&b, "- Not run (pass --full): %s\n", strings.Join(plan.skipped, ", "))
	}
	fmt.Fprintf(&b, "- Total run time: %s; load average at the end: %s (other processes share these cores)\n\n", took.Round(time.Second), benchLoadAvg())
	b.WriteString("Mode A at B/N = 100 is placed against the reference Go HoneyBadger engine's tx/s at that point, measured on another day on this machine type (ours as a percentage of theirs; not a ratio from this run, and no figure at other loads); modes B and C against the verification bound measured in this run. " +
		"Latency is from an epoch's first proposal until every honest member has decided (and verified) it; messages and bytes are all members' sends, a broadcast counting N−1; CPU is the process's (and the plugin child's) user+system time.\n\n")
	b.WriteString(bench.Table(rows))
	if len(oopRows) > 0 {
		b.WriteString("\n### Out of process (plugin RPC) against in process\n\n")
		b.WriteString(bench.Table(oopRows))
		b.WriteString("\n")
		for _, l := range oopLines {
			b.WriteString(l + "\n")
		}
	}
	if len(sigRows) > 0 {
		b.WriteString("\n### Signed consensus messages\n\n" +
			"A node signs every consensus message it sends (ed25519 over instance, epoch, recipient and payload) and verifies every one it receives, so faults are provable. " +
			"Rows marked +sig do that; both sides of each pair ran in this invocation, one after the other, under the same load.\n\n")
		b.WriteString(bench.Table(sigRows))
		b.WriteString("\n")
		for _, l := range sigLines {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// benchSignatures runs mode B with and without signed consensus messages.
func benchSignatures(c *cli.Context, engine string, plan benchPlan, verify time.Duration, progress func(string, ...any)) ([]bench.Row, []string, error) {
	f, err := benchFactory(engine, "B")
	if err != nil {
		return nil, nil, err
	}
	load := plan.loads[0]
	var rows []bench.Row
	var lines []string
	for _, n := range []int{4, 7} {
		var res [2]bench.Result
		for k, sign := range []bool{false, true} {
			cfg := benchConfig(f, "B", n, load, plan, c.Uint64("seed"))
			cfg.Progress = progress
			cfg.SignMessages = sign
			progress("mode B N=%d B/N=%d, signed consensus messages: %v", n, load, sign)
			if res[k], _, err = bench.RunMedian(cfg, plan.reps); err != nil {
				return nil, nil, fmt.Errorf("benchmark mode B N=%d with signed messages %v: %w", n, sign, err)
			}
		}
		rows = append(rows, benchRow("B", res[0], plan.reps, verify), benchRow("B +sig", res[1], plan.reps, verify))
		lines = append(lines, fmt.Sprintf("- N=%d, B/N=%d: %.1f ms/epoch with signed messages vs %.1f without (%+.1f%%); %.0f messages per epoch; CPU per epoch %+.1f%%",
			n, load, res[1].MsPerEpoch(), res[0].MsPerEpoch(), 100*(res[1].MsPerEpoch()/res[0].MsPerEpoch()-1), res[1].MessagesPerEpoch(),
			100*(float64(res[1].CPU)/float64(res[0].CPU)-1)))
	}
	return rows, lines, nil
}

// benchLoadAvg returns the 1, 5 and 15 minute load averages, or "unknown".
func benchLoadAvg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(raw)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

// benchLastLine returns the last line of a table.
func benchLastLine(table string) string {
	table = strings.TrimRight(table, "\n")
	return table[strings.LastIndexByte(table, '\n')+1:]
}

// benchGroup formats v as an integer with thousands separators.
func benchGroup(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}
