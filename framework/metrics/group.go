package metrics

import (
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/constellation-chain/constellation/framework/pool"
	"github.com/constellation-chain/constellation/interfaces"
)

// Group is the view of a Registry one consensus group feeds: every series
// carries the group's name. A nil *Group records nothing. Its methods may
// be called from any goroutine.
type Group struct {
	r    *Registry
	name string

	height, epoch, numTxs, delegates, missing, byzantine prometheus.Gauge
	totalTxs, refused, dropped, sendDropped, leftToSync  prometheus.Counter
	evicted                                              map[string]prometheus.Counter // by reason
	interval, epochTime, walFsync                        prometheus.Observer

	mu      sync.Mutex
	lastTS  int64  // the agreed timestamp (ms) of the last block seen
	lastH   uint64 // its height; 0 before one
	members []interfaces.StarID
}

// Group returns the view for the group called name ("cluster/0",
// "galaxy"). A nil registry returns nil.
func (r *Registry) Group(name string) *Group {
	if r == nil {
		return nil
	}
	// Every fault kind is present from the start, at zero.
	for k := interfaces.FaultEquivocation; k <= interfaces.FaultInvalidMerkle; k++ {
		for _, p := range []string{"true", "false"} {
			r.faults.WithLabelValues(name, k.String(), p)
		}
	}
	evicted := map[string]prometheus.Counter{}
	for _, k := range EvictReasons {
		evicted[k] = r.evicted.WithLabelValues(name, k) // present from the start, at zero
	}
	return &Group{
		r: r, name: name, evicted: evicted,
		height:      r.height.WithLabelValues(name),
		epoch:       r.epoch.WithLabelValues(name),
		numTxs:      r.numTxs.WithLabelValues(name),
		delegates:   r.delegates.WithLabelValues(name),
		missing:     r.missing.WithLabelValues(name),
		byzantine:   r.byzantine.WithLabelValues(name),
		totalTxs:    r.totalTxs.WithLabelValues(name),
		refused:     r.refused.WithLabelValues(name),
		dropped:     r.dropped.WithLabelValues(name),
		leftToSync:  r.leftToSync.WithLabelValues(name),
		sendDropped: r.sendDropped.WithLabelValues(name),
		interval:    r.interval.WithLabelValues(name),
		epochTime:   r.epochTime.WithLabelValues(name),
		walFsync:    r.walFsync.WithLabelValues(name),
	}
}

// EvictReasons are the reasons of constellation_mempool_evicted_txs (the
// pool's Forgot kinds).
var EvictReasons = []string{pool.ForgotSuperseded, pool.ForgotWrongPrev, pool.ForgotGap, pool.ForgotRefused, pool.ForgotShort}

// Evicted counts a transaction the group's pool dropped uncommitted, for
// reason (one of EvictReasons).
func (g *Group) Evicted(reason string) {
	if g == nil {
		return
	}
	if c, ok := g.evicted[reason]; ok {
		c.Inc()
	}
}

// Head records the group's head when it opens, before any block commits.
func (g *Group) Head(h interfaces.BlockHeader) {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.height.Set(float64(h.Height))
	if h.Height > 0 {
		g.epoch.Set(float64(h.Epoch))
		g.lastTS, g.lastH = h.Timestamp, h.Height
	}
}

// Committed records a block the group committed, decided here or fetched
// from peers: height, epoch, transactions, the interval since the previous
// block, and which delegates' contributions it lacks.
func (g *Group) Committed(b *interfaces.Block) {
	if g == nil || b == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	h := b.Header
	g.height.Set(float64(h.Height))
	g.epoch.Set(float64(h.Epoch))
	g.numTxs.Set(float64(len(b.Txs)))
	g.totalTxs.Add(float64(len(b.Txs)))
	if g.lastH > 0 && h.Height == g.lastH+1 && h.Timestamp >= g.lastTS {
		g.interval.Observe(float64(h.Timestamp-g.lastTS) / 1000)
	}
	g.lastTS, g.lastH = h.Timestamp, h.Height

	members := b.Meta.Members
	if len(members) > 0 && !slices.Equal(members, g.members) {
		// A new delegate set: forget the series of stars that left, so
		// the label stays bounded by the cluster's size.
		for _, s := range g.members {
			if !slices.Contains(members, s) {
				g.r.missed.DeleteLabelValues(g.name, s.String())
			}
		}
		g.members = slices.Clone(members)
	}
	g.delegates.Set(float64(len(members)))
	missing := 0
	for _, s := range members {
		c := g.r.missed.WithLabelValues(g.name, s.String())
		if !slices.Contains(b.Meta.Proposers, s) {
			c.Inc()
			missing++
		}
	}
	g.missing.Set(float64(missing))
	var faulty []interfaces.StarID
	for _, f := range b.Meta.Faults {
		if !slices.Contains(faulty, f.Star) {
			faulty = append(faulty, f.Star)
		}
	}
	g.byzantine.Set(float64(len(faulty)))
}

// EpochDecided records how long an epoch took, from this node's
// contribution to the commit of its decision.
func (g *Group) EpochDecided(d time.Duration) {
	if g == nil || d < 0 {
		return
	}
	g.epochTime.Observe(d.Seconds())
}

// Fault records a fault the engine reported; provable says whether it came
// with evidence others can check.
func (g *Group) Fault(kind interfaces.FaultKind, provable bool) {
	if g == nil {
		return
	}
	g.r.faults.WithLabelValues(g.name, kind.String(), strconv.FormatBool(provable)).Inc()
}

// Refused counts a consensus message refused before the engine.
func (g *Group) Refused() {
	if g != nil {
		g.refused.Inc()
	}
}

// Dropped counts a consensus message dropped at a full inbox.
func (g *Group) Dropped() {
	if g != nil {
		g.dropped.Inc()
	}
}

// LeftToSync counts a consensus message of an epoch too far ahead of the
// group's undecided one, left to block sync (the node is behind).
func (g *Group) LeftToSync() {
	if g != nil {
		g.leftToSync.Inc()
	}
}

// SendDropped counts a message to a peer dropped at its full send queue.
func (g *Group) SendDropped() {
	if g != nil {
		g.sendDropped.Inc()
	}
}

// WALSynced records one flush and fsync of the group's write-ahead log.
func (g *Group) WALSynced(d time.Duration) {
	if g != nil {
		g.walFsync.Observe(d.Seconds())
	}
}

// Pool makes the group's pool size read from size at each scrape. size
// must be safe to call from any goroutine.
func (g *Group) Pool(size func() int) {
	if g != nil {
		g.r.pool.set(g.name, size)
	}
}

// Close removes the group's series: a node that closes a group (a star
// that moved to a new cluster) stops reporting it.
func (g *Group) Close() {
	if g == nil {
		return
	}
	g.r.pool.set(g.name, nil)
	l := prometheus.Labels{LabelGroup: g.name}
	for _, v := range []interface{ DeletePartialMatch(prometheus.Labels) int }{
		g.r.height, g.r.epoch, g.r.numTxs, g.r.delegates, g.r.missing, g.r.byzantine,
		g.r.totalTxs, g.r.refused, g.r.dropped, g.r.sendDropped, g.r.missed, g.r.faults,
		g.r.interval, g.r.epochTime, g.r.walFsync,
	} {
		v.DeletePartialMatch(l)
	}
}
