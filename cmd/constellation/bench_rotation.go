package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/constellation-chain/constellation/framework/manifest"
	"github.com/constellation-chain/constellation/interfaces"
)

// rotationTail is how many blocks after a handover still count as part of
// the rotation: the new delegates' engine starts on the block after it.
const rotationTail = 2

func benchRotationCommand() *cli.Command {
	return &cli.Command{
		Name:  "rotation",
		Usage: "committed tx/s of the default network while its clusters rotate, against the same run's other blocks",
		Description: `Runs the testnet of the embedded default manifest with a genesis rotation
block (every --every black holes each cluster hands over to the delegates
drawn for it, with keys they generate through the cluster's own chain), at
a fixed offered load. When it has stopped, it reads cluster 0's chain from
star-1's data directory and splits the blocks in two classes of the same
run:

  rotating  from the first block carrying key-generation messages to the
            handover block and the ` + strconv.Itoa(rotationTail) + ` blocks after it;
  steady    every other block.

It reports committed tx/s in each (transactions, key-generation messages
not counted, over the time their blocks took by their agreed timestamps,
each block's time being the interval since the block before), the dip (1 − rotating/steady), and how long rotations took. Blocks
in the first --warmup are not counted. The load is bounded by --rate and
--duration.

   constellation bench rotation
   constellation bench rotation --every 8 --duration 2m --out docs/benchmarks.md`,
		Flags: []cli.Flag{
			&cli.UintFlag{Name: "every", Usage: "black holes between rotations (the rotation block's every)", Value: 4},
			&cli.Float64Flag{Name: "rate", Usage: "offered load, transactions per second", Value: 500},
			&cli.DurationFlag{Name: "duration", Usage: "length of the run", Value: 90 * time.Second},
			&cli.DurationFlag{Name: "warmup", Usage: "blocks in this first part of the run are not counted", Value: 10 * time.Second},
			&cli.BoolFlag{Name: "in-process", Usage: "run every node in one process over the in-memory transport"},
			&cli.StringFlag{Name: "out", Usage: "also write the result into FILE's rotation section (docs/benchmarks.md)"},
		},
		Action: runBenchRotation,
	}
}

func runBenchRotation(c *cli.Context) error {
	every := c.Uint("every")
	if every == 0 {
		return fmt.Errorf("--every must be at least 1")
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "constellation-bench-rotation")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	src, err := rotatingDefault(every)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "rotating.hcl")
	if err := os.WriteFile(path, src, 0o644); err != nil {
		return err
	}
	args := []string{"--log-level", "error", "testnet", "--manifest", path, "--data", filepath.Join(dir, "data"),
		"--rate", fmt.Sprint(c.Float64("rate")), "--duration", c.Duration("duration").String()}
	if c.Bool("in-process") {
		args = append(args, "--in-process")
	}
	mode := "processes over libp2p (loopback)"
	if c.Bool("in-process") {
		mode = "one process, in-memory transport"
	}
	fmt.Fprintf(c.App.ErrWriter, "running the default network, rotating every %d black holes (%s), for %s ...\n", every, mode, c.Duration("duration"))
	load := loadAverage() // before the network adds its own
	if err := runTestnetChild(self, args, c.App.ErrWriter); err != nil {
		return err
	}
	blocks, err := committedBlocks(filepath.Join(dir, "data", "star-1"))
	if err != nil {
		return err
	}
	res := classifyRotation(blocks, c.Duration("warmup"))
	table := res.table(mode, c.Float64("rate"), every)
	fmt.Fprint(c.App.Writer, table)
	if out := c.String("out"); out != "" {
		body := fmt.Sprintf("## Rotation: throughput while the clusters hand over\n\n- Date: %s\n- Command: `constellation %s`\n- Load average at the start: %s\n- The embedded default manifest (two clusters of four HoneyBadger delegates, a galaxy of four) with `rotation { every = %d }` in its genesis; cluster 0's chain as star-1 committed it, timed by the blocks' agreed timestamps. *Rotating* blocks run from the first block carrying key-generation messages to the handover block and the %d blocks after it; *steady* blocks are the rest of the same run, so both sides ran under the same load. Committed tx/s is each class's transactions over the time its blocks took.\n\n%s",
			time.Now().UTC().Format("2006-01-02 15:04 UTC"), strings.Join(os.Args[1:], " "), load, every, rotationTail, table)
		if err := writeSection(out, "<!-- bench:rotation -->", "<!-- /bench:rotation -->", body); err != nil {
			return err
		}
	}
	if res.rotations == 0 {
		return fmt.Errorf("no rotation completed in %s after the warm-up; run longer (--duration) or rotate more often (--every)", c.Duration("duration"))
	}
	return nil
}

// rotatingDefault returns the embedded default manifest with a genesis
// rotation block.
func rotatingDefault(every uint) ([]byte, error) {
	src := manifest.Default()
	const at = "  genesis {\n"
	i := bytes.Index(src, []byte(at))
	if i < 0 {
		return nil, fmt.Errorf("the embedded default manifest has no genesis block")
	}
	block := fmt.Sprintf("    rotation {\n      every = %d\n    }\n", every)
	out := append(append(append([]byte(nil), src[:i+len(at)]...), block...), src[i+len(at):]...)
	if _, diags := manifest.Parse("rotating.hcl", out); diags.HasErrors() {
		return nil, fmt.Errorf("the default manifest with a rotation block: %s", diags.Error())
	}
	return out, nil
}

// loadAverage returns /proc/loadavg's first three fields, or "unknown".
func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(raw)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

// benchBlock is one committed block as the benchmarks count it.
type benchBlock struct {
	at       time.Time // the block's agreed timestamp
	txs      int       // transactions, key-generation messages not counted
	keygen   bool      // carries key-generation messages
	handover bool      // hands the group over to its next delegates
}

// runTestnetChild runs a testnet to its end, passing its lines on to progress
// no more than every 10 s, and returns its error output on failure.
func runTestnetChild(bin string, args []string, progress io.Writer) error {
	cmd := exec.Command(bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	last := time.Now()
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if now := time.Now(); now.Sub(last) >= 10*time.Second {
			last = now
			fmt.Fprintf(progress, "  %s\n", strings.TrimSpace(sc.Text()))
		}
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("testnet: %w\n%s", err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// committedBlocks reads the cluster chain a stopped node's data directory
// holds, block by block.
func committedBlocks(nodeDir string) ([]benchBlock, error) {
	st, err := openExisting(nodeDir)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	head, _, _ := st.Head()
	out := make([]benchBlock, 0, head)
	for h := uint64(1); h <= head; h++ {
		b, err := st.Block(h)
		if err != nil {
			return nil, fmt.Errorf("%s: block %d: %w", nodeDir, h, err)
		}
		bb := benchBlock{at: time.UnixMilli(b.Header.Timestamp), handover: b.Meta.Handover != nil}
		for _, tx := range b.Txs {
			if tx.Kind == interfaces.TxKeyGen {
				bb.keygen = true
			} else {
				bb.txs++
			}
		}
		out = append(out, bb)
	}
	return out, nil
}

// rotationResult is what classifyRotation measured.
type rotationResult struct {
	steadyTxs, rotTxs       int
	steadyBlocks, rotBlocks int
	steadySecs, rotSecs     float64
	rotations               int // completed within the counted blocks
	rotationSecs            []float64
	rotationBlocks          []int
}

// classifyRotation splits the blocks after warmup into rotating and
// steady ones. A block's share of time is the interval since the block
// before it, so the first block read only opens the clock.
func classifyRotation(blocks []benchBlock, warmup time.Duration) rotationResult {
	var res rotationResult
	if len(blocks) == 0 {
		return res
	}
	start := blocks[0].at.Add(warmup)
	rotating, tail, rotLen := false, 0, 0
	var rotStart time.Time
	for i, b := range blocks {
		in, ended := true, false
		switch {
		case b.handover:
			rotating, tail = false, rotationTail
			ended = tail == 0
		case tail > 0:
			tail--
			ended = tail == 0
		case rotating:
		case b.keygen:
			rotating, rotStart, rotLen = true, b.at, 0
		default:
			in = false
		}
		if in {
			rotLen++
		}
		if i > 0 && !blocks[i-1].at.Before(start) {
			d := b.at.Sub(blocks[i-1].at).Seconds()
			if in {
				res.rotTxs, res.rotBlocks, res.rotSecs = res.rotTxs+b.txs, res.rotBlocks+1, res.rotSecs+d
			} else {
				res.steadyTxs, res.steadyBlocks, res.steadySecs = res.steadyTxs+b.txs, res.steadyBlocks+1, res.steadySecs+d
			}
		}
		if ended && !rotStart.IsZero() {
			if !rotStart.Before(start) { // began after the warm-up
				res.rotations++
				res.rotationSecs = append(res.rotationSecs, b.at.Sub(rotStart).Seconds())
				res.rotationBlocks = append(res.rotationBlocks, rotLen)
			}
			rotStart = time.Time{}
		}
	}
	return res
}

func perSecond(txs int, secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return float64(txs) / secs
}

func (r rotationResult) table(mode string, offered float64, every uint) string {
	var b strings.Builder
	steady, rot := perSecond(r.steadyTxs, r.steadySecs), perSecond(r.rotTxs, r.rotSecs)
	fmt.Fprintf(&b, "| mode | every | offered tx/s | steady tx/s (blocks) | rotating tx/s (blocks) | dip | rotations | mean rotation |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n")
	dip := "–"
	if steady > 0 && r.rotBlocks > 0 {
		dip = fmt.Sprintf("%.0f %%", 100*(1-rot/steady))
	}
	mean := "–"
	if n := len(r.rotationSecs); n > 0 {
		var s float64
		blocks := 0
		for i := range n {
			s += r.rotationSecs[i]
			blocks += r.rotationBlocks[i]
		}
		mean = fmt.Sprintf("%.1f s, %.1f blocks", s/float64(n), float64(blocks)/float64(n))
	}
	fmt.Fprintf(&b, "| %s | %d | %.0f | %.0f (%d) | %.0f (%d) | %s | %d | %s |\n",
		mode, every, offered, steady, r.steadyBlocks, rot, r.rotBlocks, dip, r.rotations, mean)
	return b.String()
}
