package group

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/interfaces"
)

// manualClock is a Config.Now that moves only when the test moves it.
type manualClock struct{ ns atomic.Int64 }

func (c *manualClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *manualClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// TestAnIdleClusterWaitsEmptyIntervalBeforeAnEmptyBlock: with
// EmptyInterval an hour on a clock that stands still, four members make
// their first block and then none while nothing is submitted, for a
// hundred proposal intervals. One transaction handed to a alone makes the
// next block at once: the others join the epoch a started. Each time the
// clock passes EmptyInterval, one empty block follows.
func TestAnIdleClusterWaitsEmptyIntervalBeforeAnEmptyBlock(t *testing.T) {
	c := newCluster(t, "a", "b", "c", "d")
	c.closeAll()
	clock := &manualClock{}
	clock.ns.Store(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	c.membership = func(i int, cfg *Config) {
		cfg.EmptyInterval = time.Hour
		cfg.Now = clock.Now
	}
	c.reopen(t)
	defer c.closeAll()
	faucet := interfaces.DevKey("faucet")
	tx, err := interfaces.NewTransfer(faucet, 1, interfaces.Hash{}, interfaces.DevStar("x"), 1)
	if err != nil {
		t.Fatal(err)
	}
	heads := func() (lo, hi uint64) {
		for i, n := range c.nodes {
			h, _ := n.Head()
			if i == 0 || h < lo {
				lo = h
			}
			hi = max(hi, h)
		}
		return lo, hi
	}
	phase, idleFrom, idleAt := 0, time.Time{}, uint64(0)
	c.runUntil(t, func() bool {
		lo, hi := heads()
		switch phase {
		case 0: // the first block, proposed at start
			if lo >= 1 {
				phase, idleFrom, idleAt = 1, time.Now(), hi
			}
		case 1: // idle: no block for 100 intervals
			if hi > idleAt {
				t.Fatalf("an idle cluster made block %d (EmptyInterval has not passed on the clock)", hi)
			}
			if time.Since(idleFrom) > 100*10*time.Millisecond {
				if err := c.nodes[0].Submit(tx); err != nil {
					t.Fatal(err)
				}
				phase = 2
			}
		case 2: // the transaction's block, everywhere
			if lo <= idleAt {
				return false
			}
			b, err := c.nodes[3].Block(idleAt + 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Txs) != 1 || b.Txs[0].ID() != tx.ID() {
				t.Fatalf("block %d holds %d transactions, want the one submitted", idleAt+1, len(b.Txs))
			}
			clock.advance(2 * time.Hour)
			phase, idleAt = 3, hi
		case 3, 4: // EmptyInterval passed: one empty block each time
			if lo < idleAt+1 {
				return false
			}
			if phase == 4 {
				return true
			}
			clock.advance(2 * time.Hour)
			phase, idleAt = 4, hi
		}
		return false
	}, nil)
}
