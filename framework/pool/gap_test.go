package pool

import (
	"testing"

	"github.com/constellation-chain/constellation/interfaces"
)

// TestTransactionsBehindALostOneAreEvictedAfterGapBlocks: a sender's
// transaction lost with a crashed node leaves its later ones waiting
// behind a gap they can never cross. They are not includable (no early
// proposal for them), and once they have waited GapBlocks blocks with
// nothing of the sender's admitted or committed, the pool evicts them;
// an includable sender and one still being heard from stay.
func TestTransactionsBehindALostOneAreEvictedAfterGapBlocks(t *testing.T) {
	p := New(Options{GapBlocks: 20})
	lost, live, fresh := interfaces.DevKey("lost"), interfaces.DevKey("live"), interfaces.DevKey("fresh")
	for seq := uint64(2); seq <= 4; seq++ { // seq 1 was lost
		if err := p.Add(transfer(t, lost, seq, 1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Add(transfer(t, live, 1, 1)); err != nil {
		t.Fatal(err)
	}
	if got := p.Includable(); got != 1 {
		t.Fatalf("includable %d, want 1 (the gap's three do not count)", got)
	}
	for b := 1; b <= 16; b++ {
		p.Committed(nil)
	}
	if p.Len() != 4 || p.Evicted() != 0 {
		t.Fatalf("after 16 blocks: %d waiting, %d evicted; want 4 and 0 (20 blocks not yet passed)", p.Len(), p.Evicted())
	}
	// A sender heard from recently is given its GapBlocks too.
	for b := 17; b <= 31; b++ {
		p.Committed(nil)
	}
	if err := p.Add(transfer(t, fresh, 3, 1)); err != nil {
		t.Fatal(err)
	}
	p.Committed(nil) // block 32: a sweep
	if p.Len() != 2 || p.Evicted() != 1 {
		t.Fatalf("after 32 blocks: %d waiting, %d evicted; want 2 and 1", p.Len(), p.Evicted())
	}
	if got := seqs(p.Reap(10)); len(got) != 1 {
		t.Fatalf("reap %v, want the live sender's one", got)
	}
	// The lost sender starts again from its committed head: admitted.
	if err := p.Add(transfer(t, lost, 1, 1)); err != nil {
		t.Fatalf("the evicted sender's next: %v", err)
	}
	if err := p.Add(transfer(t, lost, 2, 2)); err != nil {
		t.Fatalf("a new seq 2 after the eviction: %v", err)
	}
}
