package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/constellation-chain/constellation/builtin/honeybadger"
	"github.com/constellation-chain/constellation/conformance/repsim"
	"github.com/constellation-chain/constellation/conformance/scalesim"
)

// simScalingCommand is `constellation sim scaling`.
func simScalingCommand() *cli.Command {
	return &cli.Command{
		Name:  "scaling",
		Usage: "aggregate throughput of clusters under a galaxy against one flat cluster, in virtual time",
		Description: `Runs the scaling experiment (package conformance/scalesim): the built-in
HoneyBadger engine on the deterministic simulator, with a CPU cost per
operation (signature checks, threshold cryptography, message handling,
transactions) and a link model (latency per pair of nodes, one uplink per
node). It simulates --cluster-runs clusters of --cluster-size delegates, a
galaxy of --galaxy-size members over the checkpoints of k such clusters for
every configuration (--clusters by count, --populations by stars), and flat
clusters of the --flat sizes, which it extrapolates to larger populations by
a fitted model of epoch time. docs/scaling.md explains the model.

CPU prices default to the ones measured for docs/scaling.md (the benchmark
output behind them is conformance/scalesim/testdata/bench.txt); --bench FILE
(repeatable) replaces those it finds in the output of
  go test -run XXX -bench . -count 5 ./builtin/honeybadger/tcrypto
  go test -run XXX -bench . -count 5 ./conformance/scalesim
  go test -run XXX -bench HoneyBadgerStep -count 3 ./cmd/constellation
taking the fastest of repeated runs of each.

The same flags give the same table. Progress goes to stderr, one line per
run; the table goes to stdout. With --out FILE the "## Results" section of
FILE is replaced and the plot written to img/scaling.png beside it:

  constellation sim scaling --out docs/scaling.md`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "cluster-size", Value: 16, Usage: "delegates per Star Cluster"},
			&cli.IntFlag{Name: "galaxy-size", Value: 16, Usage: "galaxy members"},
			&cli.IntFlag{Name: "tx-per-node", Value: 125, Usage: "transactions each delegate proposes per epoch (B/N)"},
			&cli.IntFlag{Name: "tx-size", Value: 250, Usage: "bytes per transaction"},
			&cli.IntFlag{Name: "tx-verifies", Value: 1, Usage: "signature checks per transaction per delegate (1: the pool, whose verdict the ledger trusts; 2 before the signature cache)"},
			&cli.IntFlag{Name: "checkpoint-size", Value: 3609, Usage: "bytes per checkpoint transaction (3,609: a 16-delegate cluster's header, metadata summary with 32 sampled transfers, and certificate)"},
			&cli.IntFlag{Name: "checkpoint-verifies", Value: 1, Usage: "certificate checks per checkpoint per galaxy member (nodes cache verified certificates, so relay, pool and ledger share one check)"},
			&cli.IntFlag{Name: "galaxy-batch", Value: 2000, Usage: "the galaxy's batch size B (each member proposes up to B/N checkpoints)"},
			&cli.IntFlag{Name: "epochs", Value: 12, Usage: "epochs per cluster run"},
			&cli.IntFlag{Name: "warmup", Value: 3, Usage: "epochs of each cluster run left out of the measurement"},
			&cli.IntFlag{Name: "cluster-runs", Value: 4, Usage: "distinct cluster runs the configurations draw their clusters from"},
			&cli.StringFlag{Name: "clusters", Value: "1,2,4,5,8,16", Usage: "configurations by cluster count, comma-separated"},
			&cli.StringFlag{Name: "populations", Value: "200:2000:200,2400:4000:400", Usage: "configurations by population: a list, FROM:TO:STEP ranges allowed"},
			&cli.StringFlag{Name: "growth", Value: "100:2000:100", Usage: "the population growth: one cluster grows through these populations, opening clusters by the split rule (a cluster over 2 × cluster size candidates splits at a rotation); the galaxy is simulated over each cluster count it reaches"},
			&cli.StringFlag{Name: "flat", Value: "16,32,48,64", Usage: "flat cluster sizes simulated"},
			&cli.IntFlag{Name: "flat-epochs", Value: 3, Usage: "epochs per flat cluster run"},
			&cli.DurationFlag{Name: "latency-min", Value: 20 * time.Millisecond, Usage: "lowest one-way latency between two nodes"},
			&cli.DurationFlag{Name: "latency-max", Value: 80 * time.Millisecond, Usage: "highest one-way latency between two nodes"},
			&cli.Float64Flag{Name: "uplink-mbps", Value: 100, Usage: "each node's uplink, Mbit/s"},
			&cli.StringSliceFlag{Name: "bench", Usage: "go test -bench output whose ns/op replace the default CPU prices (repeatable)"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed of everything random"},
			&cli.IntFlag{Name: "workers", Value: runtime.GOMAXPROCS(0), Usage: "runs executed in parallel (results do not depend on it)"},
			&cli.StringFlag{Name: "out", Usage: "markdown file whose \"## Results\" section is replaced, plot in img/scaling.png beside it (default: print only)"},
			&cli.BoolFlag{Name: "quick", Usage: "a small smoke run: clusters of 4, a galaxy of 4, 2 cluster runs, k=1,2, flat 4 and 7"},
		},
		Action: runSimScaling,
	}
}

// parseSizes reads a comma-separated list of integers and FROM:TO:STEP
// ranges.
func parseSizes(flag, s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if parts := strings.Split(f, ":"); len(parts) == 3 {
			var v [3]int
			for i, p := range parts {
				x, err := strconv.Atoi(p)
				if err != nil {
					return nil, fmt.Errorf("--%s: range %q: %q is not an integer", flag, f, p)
				}
				v[i] = x
			}
			if v[2] <= 0 || v[1] < v[0] {
				return nil, fmt.Errorf("--%s: range %q: want FROM:TO:STEP with FROM ≤ TO and STEP > 0", flag, f)
			}
			for x := v[0]; x <= v[1]; x += v[2] {
				out = append(out, x)
			}
			continue
		}
		x, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("--%s: %q is not an integer or a FROM:TO:STEP range", flag, f)
		}
		out = append(out, x)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--%s: empty list", flag)
	}
	return out, nil
}

func runSimScaling(c *cli.Context) error {
	p := scalesim.Params{
		Factory:            honeybadger.Factory{},
		Meter:              honeybadgerMeter{encrypted: true},
		CPU:                scalesim.DefaultCPU(),
		ClusterSize:        c.Int("cluster-size"),
		GalaxySize:         c.Int("galaxy-size"),
		TxPerNode:          c.Int("tx-per-node"),
		TxSize:             c.Int("tx-size"),
		TxVerifies:         c.Int("tx-verifies"),
		CheckpointSize:     c.Int("checkpoint-size"),
		CheckpointVerifies: c.Int("checkpoint-verifies"),
		GalaxyBatch:        c.Int("galaxy-batch"),
		Epochs:             c.Int("epochs"),
		Warmup:             c.Int("warmup"),
		ClusterRuns:        c.Int("cluster-runs"),
		FlatEpochs:         c.Int("flat-epochs"),
		Seed:               c.Uint64("seed"),
		Workers:            c.Int("workers"),
		Link: scalesim.Link{
			LatencyMin:    c.Duration("latency-min"),
			LatencyMax:    c.Duration("latency-max"),
			UplinkMbps:    c.Float64("uplink-mbps"),
			OverheadBytes: scalesim.DefaultLink().OverheadBytes,
		},
	}
	var err error
	if p.Clusters, err = parseSizes("clusters", c.String("clusters")); err != nil {
		return err
	}
	if p.Populations, err = parseSizes("populations", c.String("populations")); err != nil {
		return err
	}
	if p.FlatSizes, err = parseSizes("flat", c.String("flat")); err != nil {
		return err
	}
	if p.Growth, err = parseSizes("growth", c.String("growth")); err != nil {
		return err
	}
	if p.Link.LatencyMin < 0 || p.Link.LatencyMax < p.Link.LatencyMin {
		return fmt.Errorf("--latency-min %v and --latency-max %v: want 0 ≤ min ≤ max", p.Link.LatencyMin, p.Link.LatencyMax)
	}
	cpuSource := "scalesim.DefaultCPU: the fastest of repeated benchmark runs, recorded in conformance/scalesim/testdata/bench.txt"
	if files := c.StringSlice("bench"); len(files) > 0 {
		var found []string
		for _, name := range files {
			f, err := os.Open(name)
			if err != nil {
				return fmt.Errorf("--bench: %w", err)
			}
			var names []string
			p.CPU, names, err = scalesim.ParseBench(f, p.CPU)
			f.Close()
			if err != nil {
				return fmt.Errorf("--bench %s: %w", name, err)
			}
			if len(names) == 0 {
				return fmt.Errorf("--bench %s: no benchmark this experiment prices (want go test -bench output of builtin/honeybadger/tcrypto, conformance/scalesim or cmd/constellation)", name)
			}
			found = append(found, names...)
		}
		cpuSource = fmt.Sprintf("%d measured in %s, the rest defaults", len(found), strings.Join(files, ", "))
	}
	if c.Bool("quick") {
		p.ClusterSize, p.GalaxySize, p.TxPerNode = 4, 4, 20
		p.Epochs, p.Warmup, p.ClusterRuns, p.FlatEpochs = 5, 2, 2, 3
		p.Clusters, p.Populations, p.FlatSizes, p.Growth = []int{1, 2}, []int{12, 24}, []int{4, 7}, []int{8, 16, 24}
	}
	start := time.Now()
	p.Progress = func(line string) {
		fmt.Fprintf(os.Stderr, "sim scaling: %s [elapsed %s]\n", line, time.Since(start).Round(time.Second))
	}
	fmt.Fprintf(os.Stderr, "sim scaling: %d cluster runs of %d delegates, %d galaxy configurations, flat %v, %d worker(s)\n",
		p.ClusterRuns, p.ClusterSize, len(p.Clusters)+len(p.Populations), p.FlatSizes, p.Workers)
	rep, err := scalesim.Run(p)
	if err != nil {
		return err
	}
	command := "constellation " + strings.Join(os.Args[1:], " ")
	plotRef := ""
	if out := c.String("out"); out != "" {
		if plot, ok := rep.Plot(); ok {
			imgDir := filepath.Join(filepath.Dir(out), "img")
			if err := os.MkdirAll(imgDir, 0o755); err != nil {
				return fmt.Errorf("create plot directory: %w", err)
			}
			var buf bytes.Buffer
			if err := repsim.WritePlot(&buf, plot); err != nil {
				return err
			}
			path := filepath.Join(imgDir, "scaling.png")
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				return fmt.Errorf("write plot %s: %w", path, err)
			}
			plotRef = "img/scaling.png"
		}
		if err := replaceSection(out, "## Results", rep.Section(command, plotRef, cpuSource)); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "sim scaling: wrote %s\n", out)
	}
	fmt.Println(rep.Section(command, plotRef, cpuSource))
	return nil
}
