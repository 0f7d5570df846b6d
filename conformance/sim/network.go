package sim

import (
	"container/heap"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/constellation-chain/constellation/interfaces"
)

// Time is virtual time in microseconds since the start of a run. Nothing in
// the simulator reads the wall clock.
type Time int64

// Units of virtual time.
const (
	Microsecond Time = 1
	Millisecond Time = 1000
	Second      Time = 1000 * Millisecond
)

func (t Time) String() string { return fmt.Sprintf("%.3fms", float64(t)/float64(Millisecond)) }

// Delay is a distribution of network delays. Sample must draw only from r, so
// a run stays a function of its seed, and must return a value >= 0.
type Delay interface {
	Sample(r *rand.Rand) Time
}

// Fixed delays every message by the same amount; with it messages between a
// pair of nodes arrive in the order they were sent.
type Fixed Time

// Sample implements Delay.
func (d Fixed) Sample(*rand.Rand) Time { return Time(d) }

// Uniform draws delays uniformly from [Min, Max].
type Uniform struct{ Min, Max Time }

// Sample implements Delay.
func (d Uniform) Sample(r *rand.Rand) Time {
	if d.Max <= d.Min {
		return max(d.Min, 0)
	}
	return max(d.Min+Time(r.Int64N(int64(d.Max-d.Min)+1)), 0)
}

// Exponential draws Min plus an exponentially distributed delay with the
// given mean, capped at Min+20*Mean so one draw cannot stall a run forever.
type Exponential struct{ Min, Mean Time }

// Sample implements Delay.
func (d Exponential) Sample(r *rand.Rand) Time {
	x := r.ExpFloat64() * float64(d.Mean)
	if cap := 20 * float64(d.Mean); x > cap {
		x = cap
	}
	return max(d.Min+Time(x), 0)
}

// LongTail is an adversarial schedule: most messages take Base, but with
// probability SlowProb a message takes Slow instead (a large delay), which
// reorders it behind many later messages.
type LongTail struct {
	Base     Delay
	Slow     Delay
	SlowProb float64
}

// Sample implements Delay.
func (d LongTail) Sample(r *rand.Rand) Time {
	if r.Float64() < d.SlowProb {
		return d.Slow.Sample(r)
	}
	return d.Base.Sample(r)
}

// Partition cuts the nodes in Isolated off from every other node from Start
// until Heal. A message that would be delivered across the cut in that window
// is held and delivered after Heal (with a fresh delay): partitions delay
// messages, they never lose them.
type Partition struct {
	Isolated []int
	Start    Time
	Heal     Time
}

func (p *Partition) cuts(a, b int, at Time) bool {
	if at < p.Start || at >= p.Heal {
		return false
	}
	return contains(p.Isolated, a) != contains(p.Isolated, b)
}

// Crash stops Node and restarts it Downtime later as a fresh instance fed the
// node's input log. The crash happens at virtual time At, or, if AfterSteps is
// positive, right after the node has processed that many inputs (whichever
// comes first). Messages sent to a crashed node are delivered after restart.
type Crash struct {
	Node       int
	At         Time // 0 with AfterSteps set means "only by step count"
	AfterSteps int
	Downtime   Time
}

func contains(s []int, x int) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// eventKind orders nothing; events are ordered by (at, seq) only.
type eventKind uint8

const (
	evDeliver eventKind = iota + 1
	evCrash
	evRestart
	evWake // with Config.Costs: a busy node becomes free
)

type event struct {
	at      Time
	seq     uint64
	kind    eventKind
	node    int // destination for deliveries; subject for crash/restart
	from    int
	payload []byte
	crash   int // index into Config.Crashes
}

// eventQueue is a min-heap on (at, seq); seq is unique, so the order is total
// and independent of heap internals.
type eventQueue []*event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *eventQueue) Pop() any {
	old := *q
	n := len(old)
	e := old[n-1]
	old[n-1] = nil
	*q = old[:n-1]
	return e
}

func (q *eventQueue) push(e *event) { heap.Push(q, e) }
func (q *eventQueue) pop() *event   { return heap.Pop(q).(*event) }

// SeedFromUint64 turns a small integer seed into the 32-byte seed a run uses.
func SeedFromUint64(s uint64) interfaces.Hash {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], s)
	return interfaces.DomainSum("constellation/sim/seed/v1", b[:])
}

func newRand(seed interfaces.Hash, purpose string) *rand.Rand {
	return rand.New(rand.NewChaCha8(interfaces.DomainSum("constellation/sim/rng/v1", []byte(purpose), seed[:])))
}

func validProb(p float64) bool { return p >= 0 && p <= 1 && !math.IsNaN(p) }
