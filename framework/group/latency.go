package group

import (
	"time"

	"github.com/constellation-chain/constellation/interfaces"
)

// latencyTracker measures, per open epoch, how long after this node
// proposed it first heard from each member in that epoch. It is a local
// observation: it reaches the chain only inside this node's contribution
// (TxBatch.Latency), where the fold takes the median over the decided
// contributions, so no single node's clock decides anything.
type latencyTracker struct {
	index map[interfaces.StarID]int
	self  int
	open  map[uint64]*epochLatency
	last  []uint32 // the latest finished epoch's vector, nil before one
}

type epochLatency struct {
	started time.Time // when this node proposed; zero before
	heard   []time.Time
}

// maxTrackedAhead bounds the epochs tracked beyond the oldest undecided
// one; messages signed for epochs further ahead are not measured.
const maxTrackedAhead = 64

func newLatencyTracker(members []interfaces.StarID, self interfaces.StarID) *latencyTracker {
	t := &latencyTracker{index: make(map[interfaces.StarID]int, len(members)), open: map[uint64]*epochLatency{}}
	for i, m := range members {
		t.index[m] = i
		if m == self {
			t.self = i
		}
	}
	return t
}

func (t *latencyTracker) epoch(e uint64) *epochLatency {
	el, ok := t.open[e]
	if !ok {
		el = &epochLatency{heard: make([]time.Time, len(t.index))}
		t.open[e] = el
	}
	return el
}

// proposed records that this node proposed to epoch e at now.
func (t *latencyTracker) proposed(e uint64, now time.Time) {
	el := t.epoch(e)
	if el.started.IsZero() {
		el.started = now
	}
}

// heard records a message from member from, signed for epoch e, at now;
// undecided is the oldest undecided epoch.
func (t *latencyTracker) heard(e, undecided uint64, from interfaces.StarID, now time.Time) {
	j, ok := t.index[from]
	if !ok || e < undecided || e > undecided+maxTrackedAhead {
		return
	}
	el := t.epoch(e)
	if el.heard[j].IsZero() {
		el.heard[j] = now
	}
}

// decided closes every epoch up to e; the vector of e becomes the one the
// next contribution reports.
func (t *latencyTracker) decided(e uint64) {
	if el, ok := t.open[e]; ok && !el.started.IsZero() {
		v := make([]uint32, len(el.heard))
		for j, at := range el.heard {
			switch {
			case j == t.self:
				v[j] = 1
			case at.IsZero():
				v[j] = 0
			default:
				v[j] = uint32(min(max(at.Sub(el.started).Milliseconds(), 1), 1<<31))
			}
		}
		t.last = v
	}
	for k := range t.open {
		if k <= e {
			delete(t.open, k)
		}
	}
}

// startedAt returns when this node proposed to epoch e, zero when it has
// not (or e is closed).
func (t *latencyTracker) startedAt(e uint64) time.Time {
	if el, ok := t.open[e]; ok {
		return el.started
	}
	return time.Time{}
}

// report returns the vector to carry in the next contribution.
func (t *latencyTracker) report() []uint32 { return t.last }
