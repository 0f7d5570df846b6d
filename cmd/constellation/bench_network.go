package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
)

func benchNetworkCommand() *cli.Command {
	return &cli.Command{
		Name:  "network",
		Usage: "committed tx/s of the default four-delegate network: processes on loopback vs one process",
		Description: `Runs the testnet twice from a fresh data directory each time, once with a
process per node over the libp2p transport on loopback and once with all
nodes in one process over the in-memory transport, at the same offered load,
and reports the committed tx/s over the blocks after a warm-up. The load is
bounded by --rate and --duration.`,
		Flags: []cli.Flag{
			&cli.Float64Flag{Name: "rate", Usage: "offered load, transactions per second", Value: 3000},
			&cli.DurationFlag{Name: "duration", Usage: "length of each run", Value: 25 * time.Second},
			&cli.DurationFlag{Name: "warmup", Usage: "blocks in this first part of a run are not counted", Value: 5 * time.Second},
			&cli.StringFlag{Name: "out", Usage: "also write the table into FILE's network section (docs/benchmarks.md)"},
		},
		Action: func(c *cli.Context) error {
			self, err := os.Executable()
			if err != nil {
				return err
			}
			var table strings.Builder
			fmt.Fprintf(&table, "| mode | offered tx/s | committed tx/s | blocks | txs |\n| --- | --- | --- | --- | --- |\n")
			for _, mode := range []struct {
				name string
				args []string
			}{{"processes over libp2p (loopback)", nil}, {"one process, in-memory transport", []string{"--in-process"}}} {
				dir, err := os.MkdirTemp("", "constellation-bench-net")
				if err != nil {
					return err
				}
				args := append([]string{"--log-level", "error", "testnet", "--data", filepath.Join(dir, "data"),
					"--rate", fmt.Sprint(c.Float64("rate")), "--duration", c.Duration("duration").String()}, mode.args...)
				fmt.Fprintf(c.App.ErrWriter, "running %s for %s ...\n", mode.name, c.Duration("duration"))
				txs, blocks, secs, err := measureTestnet(self, args, c.Duration("warmup"))
				os.RemoveAll(dir)
				if err != nil {
					return fmt.Errorf("%s: %w", mode.name, err)
				}
				rate := 0.0
				if secs > 0 {
					rate = float64(txs) / secs
				}
				fmt.Fprintf(&table, "| %s | %.0f | %.0f | %d | %d |\n", mode.name, c.Float64("rate"), rate, blocks, txs)
			}
			fmt.Fprint(c.App.Writer, table.String())
			if out := c.String("out"); out != "" {
				body := fmt.Sprintf("## Network: the default four-delegate testnet\n\n- Date: %s\n- Command: `constellation %s`\n- Each run: the embedded default manifest (HoneyBadger, four delegates, Proof-of-Meme, B=2000, 200 ms interval), a fresh data directory, the load generator submitting signed transfers through the node APIs (processes) or directly (one process); committed tx/s counts the blocks printed after the warm-up. Every node verifies every transaction's signature in its pool and again in the ledger.\n\n%s",
					time.Now().UTC().Format("2006-01-02 15:04 UTC"), strings.Join(os.Args[1:], " "), table.String())
				if err := writeSection(out, "<!-- bench:network -->", "<!-- /bench:network -->", body); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

var benchBlockLine = regexp.MustCompile(`^block\s+\d+\s+epoch\s+\d+\s+txs\s+(\d+)`)

// measureTestnet runs a testnet and counts the transactions in blocks
// printed after warmup, over the time from the first counted block to the
// last.
func measureTestnet(bin string, args []string, warmup time.Duration) (txs, blocks int, secs float64, err error) {
	cmd := exec.Command(bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, 0, err
	}
	cmd.Stderr = nil
	if err := cmd.Start(); err != nil {
		return 0, 0, 0, err
	}
	start := time.Now()
	var first, last time.Time
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		m := benchBlockLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil || time.Since(start) < warmup {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		now := time.Now()
		if first.IsZero() {
			first = now // the interval starts at the first counted block
		} else {
			txs += n
		}
		last = now
		blocks++
	}
	if err := cmd.Wait(); err != nil {
		return 0, 0, 0, fmt.Errorf("testnet: %w", err)
	}
	return txs, blocks, last.Sub(first).Seconds(), nil
}

// writeSection replaces the text between begin and end in path (appending
// the marked section when it is absent).
func writeSection(path, begin, end, body string) error {
	raw, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("read %s: %w", path, err)
	}
	doc := string(raw)
	section := begin + "\n" + strings.TrimRight(body, "\n") + "\n" + end
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	switch {
	case i >= 0 && j > i:
		doc = doc[:i] + section + doc[j+len(end):]
	case i < 0 && j < 0:
		doc = strings.TrimRight(doc, "\n") + "\n\n" + section + "\n"
	default:
		return fmt.Errorf("%s: the markers %s and %s are out of order", path, begin, end)
	}
	return os.WriteFile(path, []byte(doc), 0o644)
}
