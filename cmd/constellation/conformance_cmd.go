package main

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/constellation-chain/constellation/conformance"
	"github.com/constellation-chain/constellation/interfaces"
	"github.com/constellation-chain/constellation/plugins/host"
)

func conformanceCommand() *cli.Command {
	return &cli.Command{
		Name:  "conformance",
		Usage: "run the conformance suite against a plugin binary or a built-in",
		Description: `Starts the plugin the way a node would (a child process over the plugin RPC,
checksum checked), runs every case of its kind's suite, prints a pass/fail
table, and exits 1 if any case failed. Capabilities the plugin does not claim
are skipped and listed as such. Use it in your plugin's CI:

   constellation conformance --kind reputation --plugin ./my-plugin --dev --junit report.xml

Built-ins can be checked too, in process or served out of process by this
binary (what make test does):

   constellation conformance --builtin consensus/solo --out-of-process

How much runs: a consensus suite runs every case (every property, every
Byzantine behaviour) at N=4 and N=7. The default run uses 4 seeds per case
and 4 epochs per run, which fits a plugin's CI (a few minutes for
HoneyBadger out of process on two cores); --full runs the whole grid
(N=4, 7, 10 and 16, 10 seeds, 6 epochs: long, for release checks);
--short the quick subset (3 seeds, 3 epochs). The other kinds' suites
have one size and run whole in every mode. The run names its mode when it
starts and reports its total time at the end.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "kind", Usage: "plugin kind: consensus, reputation or partitioner"},
			&cli.StringFlag{Name: "plugin", Usage: "path of the plugin binary"},
			&cli.StringFlag{Name: "sha256", Usage: "expected sha256 of the binary (hex), as in a manifest"},
			&cli.BoolFlag{Name: "dev", Usage: "allow a binary without --sha256 (development only)"},
			&cli.StringFlag{Name: "builtin", Usage: "check a built-in plugin KIND/NAME instead of a binary"},
			&cli.BoolFlag{Name: "out-of-process", Usage: "with --builtin: serve it from a child process over the plugin RPC"},
			&cli.BoolFlag{Name: "short", Usage: "run the quick subset of the consensus grid (" + conformance.GridShort.Spec(false).String() + ")"},
			&cli.BoolFlag{Name: "full", Usage: "run the whole consensus grid (" + conformance.GridFull.Spec(false).String() + ") instead of the default (" + conformance.GridDefault.Spec(false).String() + ")"},
			&cli.StringFlag{Name: "junit", Usage: "write a JUnit XML report to FILE"},
			&cli.StringFlag{Name: "json", Usage: "write a JSON report to FILE"},
			&cli.StringFlag{Name: "contract", Usage: "check a Go smart contract binary (docs/contracts.md) instead of a plugin; with --sha256 or --dev"},
		},
		Action: runConformance,
	}
}

func runConformance(c *cli.Context) error {
	if c.String("contract") != "" {
		return runContractConformance(c)
	}
	log := logger(c, "conformance")
	var (
		subject interfaces.Plugin
		label   string
	)
	grid := conformance.GridDefault
	switch {
	case c.Bool("short") && c.Bool("full"):
		return fmt.Errorf("give --short or --full, not both")
	case c.Bool("short"):
		grid = conformance.GridShort
	case c.Bool("full"):
		grid = conformance.GridFull
	}
	switch {
	case c.String("builtin") != "" && c.String("plugin") != "":
		return fmt.Errorf("give either --builtin or --plugin, not both")
	case c.String("builtin") != "":
		p, err := builtinByRef(c.String("builtin"))
		if err != nil {
			return err
		}
		label = c.String("builtin")
		subject = p
		if c.Bool("out-of-process") {
			self, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find this binary to serve %s: %w", label, err)
			}
			sum, err := fileSHA256(self)
			if err != nil {
				return err
			}
			info := p.Info()
			hp, err := host.Load(host.LoadOptions{Kind: info.Kind, Name: info.Name, Path: self, Args: []string{"plugin", "serve", label}, SHA256: sum, Logger: log})
			if err != nil {
				return err
			}
			defer hp.Close()
			if subject, err = hp.Factory(); err != nil {
				return err
			}
			label += " (out of process)"
		}
	case c.String("plugin") != "":
		kind := interfaces.Kind(c.String("kind"))
		if !kind.Valid() {
			return fmt.Errorf("--kind %q: want one of %v", c.String("kind"), conformance.Kinds)
		}
		var sum []byte
		if s := c.String("sha256"); s != "" {
			b, err := hex.DecodeString(s)
			if err != nil || len(b) != 32 {
				return fmt.Errorf("--sha256 must be 64 hex digits")
			}
			sum = b
		}
		// The host checks the checksum again as it starts the binary; these
		// checks only word the refusal in this command's flags (the host's
		// messages speak of a manifest entry).
		path := c.String("plugin")
		if sum == nil && !c.Bool("dev") {
			return fmt.Errorf("%s: no sha256 checksum to check the binary against: pass --sha256 <digest> (from `sha256sum %s`), or --dev to run it unchecked while developing", path, path)
		}
		if sum != nil {
			actual, err := fileSHA256(path)
			if err != nil {
				return err
			}
			if !bytes.Equal(actual, sum) {
				return fmt.Errorf("%s: checksum mismatch: --sha256 says %x, the file has %x; refusing to start it (rebuilt? pass the new digest)", path, sum, actual)
			}
		}
		hp, err := host.Load(host.LoadOptions{Kind: kind, Name: "under-test", Path: c.String("plugin"), SHA256: sum, Dev: c.Bool("dev"), Logger: log})
		if err != nil {
			return err
		}
		defer hp.Close()
		if subject, err = hp.Factory(); err != nil {
			return err
		}
		label = c.String("plugin")
	default:
		return fmt.Errorf("name what to check: --plugin PATH --kind KIND, or --builtin KIND/NAME")
	}

	info := subject.Info()
	fmt.Fprintf(c.App.ErrWriter, "checking %s: %s/%s %s, capabilities %v\n", label, info.Kind, info.Name, info.Version, info.SortedCapabilities())
	// Name the mode: it decides how much of a consensus suite runs (the
	// other kinds' suites have one size).
	mode := grid.String() + " run"
	if info.Kind == interfaces.KindConsensus {
		mode += " (" + grid.Spec(false).String() + ")"
		if grid != conformance.GridFull {
			mode += "; --full runs the whole grid"
		}
	}
	fmt.Fprintln(c.App.ErrWriter, mode)
	start := time.Now()
	var done int
	r := &conformance.Runner{ShortMode: grid == conformance.GridShort, Progress: func(res conformance.Result) {
		// Each case as it finishes, on stderr: the table comes at the end.
		done++
		fmt.Fprintf(c.App.ErrWriter, "%4d  %-4s  %s  (%s; %s in all)\n", done, strings.ToUpper(string(res.Status)), res.Name, res.Duration.Round(time.Millisecond), time.Since(start).Round(time.Second))
	}}
	var suiteErr error
	r.Run(string(info.Kind), func(t conformance.TB) {
		if err := conformance.SuiteWith(t, subject, conformance.SuiteOptions{Grid: grid}); err != nil {
			suiteErr = err
		}
	})
	if suiteErr != nil {
		return suiteErr
	}
	results := r.Results()
	if err := conformance.WriteTable(c.App.Writer, results); err != nil {
		return err
	}
	fmt.Fprintf(c.App.ErrWriter, "%s run took %s\n", grid, time.Since(start).Round(time.Millisecond))
	if f := c.String("junit"); f != "" {
		if err := writeReport(f, func(w *os.File) error { return conformance.WriteJUnit(w, "conformance/"+string(info.Kind), results) }); err != nil {
			return err
		}
	}
	if f := c.String("json"); f != "" {
		if err := writeReport(f, func(w *os.File) error { return conformance.WriteJSON(w, results) }); err != nil {
			return err
		}
	}
	if r.Failed() {
		return exitError{1}
	}
	return nil
}

func writeReport(path string, fn func(*os.File) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := fn(f); err != nil {
		f.Close()
		return fmt.Errorf("write report %s: %w", path, err)
	}
	return f.Close()
}
