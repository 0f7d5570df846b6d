package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/constellation-chain/constellation/builtin/honeybadger"
	"github.com/constellation-chain/constellation/conformance/sim"
	"github.com/constellation-chain/constellation/interfaces"
)

// The quick configuration runs the real engine end to end and writes the
// report's section and the plot only where --out says.
func TestSimScalingQuickWritesTheResultsSection(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "scaling.md")
	if err := os.WriteFile(out, []byte("# Scaling\n\nintro\n\n## Results\n\nold\n\n## References\n\nrefs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	app := &cli.App{Name: "constellation", Commands: []*cli.Command{simCommand()}}
	if err := app.Run([]string{"constellation", "sim", "scaling", "--quick", "--workers", "1", "--out", out}); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	for _, want := range []string{"intro", "## Results", "Produced by this command", "tps(k)/(k·tps(1))", "## References"} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(text, "\nold\n") {
		t.Error("the old results section is still there")
	}
	img, err := os.ReadFile(filepath.Join(dir, "img", "scaling.png"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(img)); err != nil {
		t.Fatalf("plot: %v", err)
	}
}

func TestParseSizesTakesListsAndRanges(t *testing.T) {
	got, err := parseSizes("populations", "100:500:200, 1000")
	if err != nil || !slices.Equal(got, []int{100, 300, 500, 1000}) {
		t.Fatalf("got %v (%v)", got, err)
	}
	for _, bad := range []string{"", "x", "5:1:1", "1:5:0", "1:2"} {
		if _, err := parseSizes("populations", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// hbEpoch runs one epoch of n protocol-only HoneyBadger engines (no
// threshold cryptography) with contributions of size bytes, delivering
// messages first in first out, and returns the time spent in Step, the
// number of Step calls and the bytes they consumed.
func hbEpoch(b *testing.B, n, size int) (time.Duration, int, int) {
	b.Helper()
	f := honeybadger.ProtocolOnly()
	cfgs, err := sim.Configs(f, n, 0, 0, sim.SeedFromUint64(1), n, nil)
	if err != nil {
		b.Fatal(err)
	}
	type msg struct {
		from, to int
		payload  []byte
	}
	var queue []msg
	engines := make([]interfaces.Consensus, n)
	push := func(from int, out interfaces.Output) {
		for _, m := range out.Messages {
			for to := range n {
				if to != from && (m.To == interfaces.Broadcast || m.To == cfgs[to].Self) {
					queue = append(queue, msg{from, to, m.Payload})
				}
			}
		}
	}
	for i := range n {
		if engines[i], err = f.NewConsensus(cfgs[i]); err != nil {
			b.Fatal(err)
		}
	}
	for i := range n {
		out, err := engines[i].Propose(make([]byte, size))
		if err != nil {
			b.Fatal(err)
		}
		push(i, out)
	}
	var spent time.Duration
	steps, bytesIn := 0, 0
	for len(queue) > 0 {
		m := queue[0]
		queue = queue[1:]
		t := time.Now()
		out, err := engines[m.to].Step(cfgs[m.from].Self, m.payload)
		spent += time.Since(t)
		if err != nil {
			b.Fatal(err)
		}
		steps++
		bytesIn += len(m.payload)
		push(m.to, out)
	}
	return spent, steps, bytesIn
}

// BenchmarkHoneyBadgerStep prices the engine's own handling of one
// message (scalesim.CPU.MsgFixed and MsgPerKiB): one epoch of 16
// protocol-only members with tiny contributions gives the fixed part, one
// with 31,250-byte contributions (125 transactions of 250 bytes) the part
// per KiB consumed. Run with:
//
//	go test -run XXX -bench HoneyBadgerStep -benchtime 20x ./cmd/constellation
func BenchmarkHoneyBadgerStep(b *testing.B) {
	const n = 16
	small := func(b *testing.B) (float64, float64) {
		var spent time.Duration
		steps, bytesIn := 0, 0
		for b.Loop() {
			s, k, by := hbEpoch(b, n, 32)
			spent, steps, bytesIn = spent+s, steps+k, bytesIn+by
		}
		return float64(spent) / float64(steps), float64(bytesIn) / float64(steps) / 1024
	}
	b.Run("fixed", func(b *testing.B) {
		perMsg, _ := small(b)
		b.ReportMetric(perMsg, "ns/op")
	})
	b.Run("per-KiB", func(b *testing.B) {
		var spent time.Duration
		steps, bytesIn := 0, 0
		var fixed, fixedKiB float64
		for b.Loop() {
			s, k, by := hbEpoch(b, n, 31250)
			spent, steps, bytesIn = spent+s, steps+k, bytesIn+by
			s, k, by = hbEpoch(b, n, 32)
			fixed += float64(s) / float64(k)
			fixedKiB += float64(by) / float64(k) / 1024
		}
		fixed /= float64(b.N)
		fixedKiB /= float64(b.N)
		perMsg := float64(spent) / float64(steps)
		kib := float64(bytesIn)/float64(steps)/1024 - fixedKiB
		b.ReportMetric(max(perMsg-fixed, 0)/kib, "ns/op")
	})
}
