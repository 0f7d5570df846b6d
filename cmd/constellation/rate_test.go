package main

import (
	"io"
	"math"
	"testing"
	"time"
)

// The moving rate counts blocks at the pace their timestamps say (blocks
// read back in a burst after a resume do not spike it) and starts again
// after a pause instead of averaging over it.
func TestBlockRateFollowsBlockTimestampsAndRestartsAfterAPause(t *testing.T) {
	p := &blockPrinter{w: io.Discard}
	t0 := time.UnixMilli(1_000_000)
	var got float64
	for i := range 5 {
		got = p.rate(t0.Add(time.Duration(i)*200*time.Millisecond), 40)
	}
	if math.Abs(got-200) > 0.01 {
		t.Fatalf("40 transactions every 200 ms: %.1f tx/s, want 200", got)
	}
	// A minute of downtime: the next block starts a new window.
	if got = p.rate(t0.Add(time.Minute), 40); got != 0 {
		t.Fatalf("first block after a pause: %.1f tx/s, want 0 (a new window)", got)
	}
	if got = p.rate(t0.Add(time.Minute+100*time.Millisecond), 10); math.Abs(got-100) > 0.01 {
		t.Fatalf("after the pause: %.1f tx/s, want 100", got)
	}
}
