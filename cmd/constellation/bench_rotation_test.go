package main

import (
	"fmt"
	"testing"
	"time"
)

// TestClassifyRotation: one block a second; 10 steady blocks of 100 txs,
// a rotation (keygen at 10, handover at 13, tail 14–15) of 10 txs each,
// then 10 steady blocks again.
func TestClassifyRotation(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var blocks []benchBlock
	for i := range 26 {
		b := benchBlock{at: t0.Add(time.Duration(i) * time.Second), txs: 100}
		switch {
		case i == 10 || i == 11:
			b.keygen = true
		case i == 13:
			b.handover = true
		}
		if i >= 10 && i <= 13+rotationTail {
			b.txs = 10
		}
		blocks = append(blocks, b)
	}
	r := classifyRotation(blocks, 0)
	want := 4 + rotationTail
	if r.rotations != 1 || r.rotBlocks != want || r.rotTxs != 10*want || r.steadyBlocks != 25-want {
		t.Fatalf("got %+v", r)
	}
	if got := fmt.Sprintf("%.0f %.0f", perSecond(r.steadyTxs, r.steadySecs), perSecond(r.rotTxs, r.rotSecs)); got != "100 10" {
		t.Fatalf("tx/s steady, rotating = %s, want 100 10", got)
	}
	if r.rotationBlocks[0] != want || r.rotationSecs[0] != float64(want-1) {
		t.Fatalf("rotation length %d blocks, %.0f s", r.rotationBlocks[0], r.rotationSecs[0])
	}
	// A warm-up past the rotation's start leaves it uncounted.
	if r := classifyRotation(blocks, 11*time.Second); r.rotations != 0 {
		t.Fatalf("a rotation that began in the warm-up was counted: %+v", r)
	}
}
