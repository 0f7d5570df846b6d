package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
)

func benchNetworkCommand() *cli.Command {
	return &cli.Command{
		Name:  "network",
		Usage: "committed tx/s of the default network: processes on loopback vs one process",
		Description: `Runs the testnet twice from a fresh data directory each time, once with a
process per node over the libp2p transport on loopback and once with all
nodes in one process over the in-memory transport, at the same offered load,
and reports the committed tx/s of cluster 0's blocks after a warm-up, read
from star-1's chain when the run has stopped. The load is
bounded by --rate and --duration.`,
		Flags: []cli.Flag{
			&cli.Float64Flag{Name: "rate", Usage: "offered load, transactions per second", Value: 500},
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
				txs, blocks, secs, err := measureTestnet(self, args, filepath.Join(dir, "data"), c.Duration("warmup"), c.App.ErrWriter)
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
				body := fmt.Sprintf("## Network: the default testnet\n\n- Date: %s\n- Command: `constellation %s`\n- Each run: the embedded default manifest (two clusters of four HoneyBadger delegates under a galaxy of four, Proof-of-Meme, B=2000, 200 ms interval), a fresh data directory, the load generator submitting signed transfers through the node APIs (processes) or directly (one process); committed tx/s counts the transactions of cluster 0's blocks, as star-1 committed them, after the warm-up, timed by the blocks' agreed timestamps. Every node verifies every transaction's signature in its pool and again in the ledger.\n\n%s",
					time.Now().UTC().Format("2006-01-02 15:04 UTC"), strings.Join(os.Args[1:], " "), table.String())
				if err := writeSection(out, "<!-- bench:network -->", "<!-- /bench:network -->", body); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// measureTestnet runs a testnet from a fresh data directory and counts
// the transactions of the cluster-0 blocks star-1 committed after warmup
// (by their agreed timestamps), over the time from the first counted block
// to the last.
func measureTestnet(bin string, args []string, dataDir string, warmup time.Duration, progress io.Writer) (txs, blocks int, secs float64, err error) {
	if err := runTestnetChild(bin, args, progress); err != nil {
		return 0, 0, 0, err
	}
	all, err := committedBlocks(filepath.Join(dataDir, "star-1"))
	if err != nil {
		return 0, 0, 0, err
	}
	if len(all) == 0 {
		return 0, 0, 0, nil
	}
	start := all[0].at.Add(warmup)
	var first, last time.Time
	for _, b := range all {
		if b.at.Before(start) {
			continue
		}
		if first.IsZero() {
			first = b.at // the interval starts at the first counted block
		} else {
			txs += b.txs
		}
		last = b.at
		blocks++
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
