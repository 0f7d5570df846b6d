package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/constellation-chain/constellation/conformance/repsim"
	"github.com/constellation-chain/constellation/interfaces"
)

// simCommand is `constellation sim`: simulations that evaluate plugins
// against attack scenarios, away from any network.
func simCommand() *cli.Command {
	return &cli.Command{
		Name:  "sim",
		Usage: "run offline simulations of plugins under attack",
		Subcommands: []*cli.Command{{
			Name:  "reputation",
			Usage: "compare Proof-of-Meme with uniform and stake-weighted selection under attack",
			Description: `Runs the reputation attack-resistance simulation (package conformance/repsim):
N stars with Pareto stakes, a Byzantine share β, committees of k drawn every
round from a beacon seed, eleven scenarios (static, sybil, whitewash,
on-off, collusion, sleeper, adaptive-sleeper: behaves perfectly and strikes
in every round in which it holds a third of the committee, grinding,
patient, stuffing: a patient attacker that stuffs the blocks it proposes
with 20 000 transfers, and churn: 30 % of the stars sleep and wake).
Sleepers defect half-way through the measured window. Every capture
figure is observed — rounds in which attackers held at least ⌈k/3⌉ seats —
with its 95 % Clopper–Pearson interval; the hypergeometric formula is shown
beside it as the value for uniform draws only. Prints the targets and the
results table. With
--out FILE it also replaces the "## Simulation results" section of FILE and
writes one PNG plot per scenario beside it (img/reputation-SCENARIO.png);
without --out it writes nothing.

   constellation sim reputation --quick                   # a smoke run, printed only
   constellation sim reputation --out docs/reputation.md  # regenerate the committed report

--byzantine is the β sweep run for the static scenario; the other scenarios
run at --scenario-byzantine (default 25). The full grid, every scenario at
every share, is

   constellation sim reputation --scenario-byzantine 10,20,25,33,45

--committee-sweep runs the committee-size figure instead: the adaptive
sleeper at k = 31, 64, 100, 150 and β = 10, 20, 25 % (unless --k or
--scenario-byzantine say otherwise), Proof-of-Meme against uniform; with
--out it replaces the "## Committee size and capture" section and writes
img/reputation-committee-size.png.

   constellation sim reputation --committee-sweep --out docs/reputation.md

Progress goes to stderr.`,
			Flags: []cli.Flag{
				&cli.IntFlag{Name: "stars", Value: 2000, Usage: "genuine stars N"},
				&cli.IntFlag{Name: "rounds", Value: 10000, Usage: "rounds per run, warm-up included"},
				&cli.IntFlag{Name: "warmup", Usage: "rounds excluded from the metrics (default rounds/5)"},
				&cli.IntFlag{Name: "seeds", Value: 20, Usage: "independent runs per configuration"},
				&cli.StringFlag{Name: "k", Value: "31,100", Usage: "committee sizes, comma-separated"},
				&cli.StringFlag{Name: "byzantine", Value: "10,20,25,33,45", Usage: "Byzantine shares in percent swept for the static scenario"},
				&cli.StringFlag{Name: "scenario-byzantine", Value: "25", Usage: "Byzantine shares in percent for the other scenarios"},
				&cli.StringFlag{Name: "scenarios", Value: "all", Usage: "comma-separated scenarios, or all"},
				&cli.StringFlag{Name: "out", Usage: "markdown FILE whose \"## Simulation results\" section is replaced, plots in img/ beside it (default: print only)"},
				&cli.StringFlag{Name: "plugin", Value: "reputation/meme", Usage: "built-in reputation plugin KIND/NAME under test"},
				&cli.StringFlag{Name: "config", Usage: "JSON config object for the plugin (default: its defaults)"},
				&cli.IntFlag{Name: "workers", Value: runtime.GOMAXPROCS(0), Usage: "runs executed in parallel (results do not depend on it)"},
				&cli.StringFlag{Name: "methods", Value: "all", Usage: "comma-separated methods (Proof-of-Meme, uniform, stake-weighted), or all"},
				&cli.BoolFlag{Name: "committee-sweep", Usage: "the committee-size figure: adaptive sleeper, k = 31,64,100,150, β = 10,20,25 %, Proof-of-Meme and uniform"},
				&cli.BoolFlag{Name: "quick", Usage: "a small smoke run: 400 stars, 600 rounds, 2 seeds, k=31, β=25 %"},
			},
			Action: runSimReputation,
		}, simScalingCommand()},
	}
}

func parseInts(flag, s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("--%s: %q is not an integer: %w", flag, f, err)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--%s: empty list", flag)
	}
	return out, nil
}

func runSimReputation(c *cli.Context) error {
	log := logger(c, "sim")
	p, err := builtinByRef(c.String("plugin"))
	if err != nil {
		return err
	}
	f, ok := p.(interfaces.ReputationFactory)
	if !ok {
		return fmt.Errorf("plugin %s is not a reputation plugin", c.String("plugin"))
	}
	params := repsim.Params{
		Factory: f,
		Stars:   c.Int("stars"),
		Rounds:  c.Int("rounds"),
		Warmup:  c.Int("warmup"),
		Seeds:   c.Int("seeds"),
		Workers: c.Int("workers"),
	}
	if s := c.String("config"); s != "" {
		params.Config = []byte(s)
	}
	sweep := c.Bool("committee-sweep")
	kList, sbList := c.String("k"), c.String("scenario-byzantine")
	if sweep {
		if !c.IsSet("k") {
			kList = "31,64,100,150"
		}
		if !c.IsSet("scenario-byzantine") {
			sbList = "10,20,25"
		}
		params.Scenarios = []repsim.Scenario{repsim.ScenarioAdaptive}
		params.Methods = []repsim.Method{repsim.MethodMeme, repsim.MethodUniform}
	}
	if params.Committees, err = parseInts("k", kList); err != nil {
		return err
	}
	if params.Byzantine, err = parseInts("byzantine", c.String("byzantine")); err != nil {
		return err
	}
	if params.ScenarioByzantine, err = parseInts("scenario-byzantine", sbList); err != nil {
		return err
	}
	if s := c.String("methods"); s != "all" {
		params.Methods = nil
		for _, name := range strings.Split(s, ",") {
			m, err := repsim.ParseMethod(strings.TrimSpace(name))
			if err != nil {
				return fmt.Errorf("--methods: %w", err)
			}
			params.Methods = append(params.Methods, m)
		}
	}
	if s := c.String("scenarios"); s != "all" && !sweep {
		for _, name := range strings.Split(s, ",") {
			sc, err := repsim.ParseScenario(strings.TrimSpace(name))
			if err != nil {
				return fmt.Errorf("--scenarios: %w", err)
			}
			params.Scenarios = append(params.Scenarios, sc)
		}
	}
	if c.Bool("quick") {
		params.Stars, params.Rounds, params.Warmup, params.Seeds = 400, 600, 0, 2
		params.Committees, params.Byzantine, params.ScenarioByzantine = []int{31}, []int{25}, []int{25}
	}
	start := time.Now()
	last := time.Time{}
	params.Progress = func(done, total int, label string) {
		if now := time.Now(); done == total || now.Sub(last) >= 2*time.Second {
			last = now
			el := now.Sub(start)
			eta := time.Duration(float64(el) / float64(done) * float64(total-done))
			fmt.Fprintf(os.Stderr, "sim reputation: %d/%d runs (%s), elapsed %s, eta %s\n", done, total, label, el.Round(time.Second), eta.Round(time.Second))
		}
	}
	log.Info("simulating", "stars", params.Stars, "rounds", params.Rounds, "seeds", params.Seeds, "k", params.Committees, "workers", params.Workers)
	load := "load average " + loadAverage() + " at the start"
	rep, err := repsim.Run(params)
	if err != nil {
		return err
	}
	rep.Machine = load
	elapsed := time.Since(start)
	command := "constellation " + strings.Join(os.Args[1:], " ")
	if sweep {
		return writeCommitteeSweep(c, rep, command, elapsed)
	}
	if out := c.String("out"); out != "" {
		imgDir := filepath.Join(filepath.Dir(out), "img")
		if err := os.MkdirAll(imgDir, 0o755); err != nil {
			return fmt.Errorf("create plot directory: %w", err)
		}
		var imgs []string
		for _, sc := range repsim.AllScenarios {
			beta := 25
			if !contains(params.ScenarioByzantine, beta) {
				beta = rep.Params.ScenarioByzantine[0]
			}
			if sc == repsim.ScenarioStatic && !contains(rep.Params.Byzantine, beta) {
				beta = rep.Params.Byzantine[0]
			}
			k := rep.Params.Committees[len(rep.Params.Committees)-1]
			plot, ok := rep.SeatSharePlot(sc, beta, k)
			if !ok {
				continue
			}
			var buf bytes.Buffer
			if err := repsim.WritePlot(&buf, plot); err != nil {
				return err
			}
			name := "reputation-" + string(sc) + ".png"
			if err := os.WriteFile(filepath.Join(imgDir, name), buf.Bytes(), 0o644); err != nil {
				return fmt.Errorf("write plot %s: %w", name, err)
			}
			imgs = append(imgs, "img/"+name)
		}
		section := rep.Section(command, elapsed, imgs)
		if err := replaceSection(out, "## Simulation results", section); err != nil {
			return err
		}
		log.Info("wrote results", "file", out, "plots", len(imgs))
	}
	fmt.Println(rep.TargetsMarkdown())
	fmt.Println(rep.Markdown())
	return nil
}

// writeCommitteeSweep prints the committee-size section and, with --out,
// replaces it in the markdown file and writes its plot beside it.
func writeCommitteeSweep(c *cli.Context, rep *repsim.Report, command string, elapsed time.Duration) error {
	sc := repsim.ScenarioAdaptive
	plotRef := ""
	if out := c.String("out"); out != "" {
		imgDir := filepath.Join(filepath.Dir(out), "img")
		if err := os.MkdirAll(imgDir, 0o755); err != nil {
			return fmt.Errorf("create plot directory: %w", err)
		}
		if plot, ok := rep.CaptureVsKPlot(sc); ok {
			var buf bytes.Buffer
			if err := repsim.WriteCapturePlot(&buf, plot); err != nil {
				return err
			}
			name := "reputation-committee-size.png"
			if err := os.WriteFile(filepath.Join(imgDir, name), buf.Bytes(), 0o644); err != nil {
				return fmt.Errorf("write plot %s: %w", name, err)
			}
			plotRef = "img/" + name
		}
		if err := replaceSection(out, repsim.CommitteeHeading, rep.CommitteeSection(sc, command, elapsed, plotRef)); err != nil {
			return err
		}
	}
	fmt.Println(rep.CommitteeSection(sc, command, elapsed, plotRef))
	return nil
}

func contains(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// replaceSection replaces the section of the markdown file at path that
// starts with the heading line (up to the next heading of the same level or
// the end) by section, or appends section if the heading is absent.
func replaceSection(path, heading, section string) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read %s: %w", path, err)
	}
	text := string(old)
	start := strings.Index(text, "\n"+heading+"\n")
	var out string
	if start < 0 {
		out = strings.TrimRight(text, "\n") + "\n\n" + section
	} else {
		rest := text[start+1+len(heading):]
		out = text[:start+1] + section
		if i := strings.Index(rest, "\n## "); i >= 0 {
			out += "\n" + rest[i+1:] // a blank line before the next section
		}
	}
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
