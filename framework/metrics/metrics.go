// Package metrics is a node's Prometheus instrumentation: one registry per
// node (never the process-wide default, so several nodes can run in one
// process), the series the node's parts feed, and the handler the node API
// serves at /metrics. Names follow CometBFT's where the meaning is the same,
// with the namespace "constellation" in place of "cometbft", so boards and
// alerts written for CometBFT carry over.
//
// Data flow: group (blocks, epochs, faults, pool, WAL fsync), the metered
// transport (messages by kind, peers), the plugin host (RPC latency) →
// Registry → promhttp → GET /metrics. Nothing here feeds back into the
// node: metrics are observations, never consensus inputs.
package metrics

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/constellation-chain/constellation/interfaces"
)

// Namespace prefixes every series this package defines.
const Namespace = "constellation"

// Label names.
const (
	LabelGroup       = "group"        // the consensus group: "cluster/N" or "galaxy"
	LabelDelegate    = "delegate"     // a delegate's star id
	LabelKind        = "kind"         // a fault kind (interfaces.FaultKind)
	LabelProvable    = "provable"     // "true" when the fault came with evidence
	LabelMessageType = "message_type" // a message kind (MessageKind)
	LabelPlugin      = "plugin"       // a plugin as the manifest names it, kind/name
	LabelMethod      = "method"       // a plugin RPC method, Service/Method
	LabelCode        = "code"         // a gRPC status code
	LabelReason      = "reason"       // why a pool dropped a transaction (pool.Forgot*)
)

// Registry holds one node's series. All methods are safe for concurrent
// use; a nil *Registry records nothing (a node run without metrics).
type Registry struct {
	reg *prometheus.Registry

	height      *prometheus.GaugeVec
	epoch       *prometheus.GaugeVec
	numTxs      *prometheus.GaugeVec
	totalTxs    *prometheus.CounterVec
	interval    *prometheus.HistogramVec
	epochTime   *prometheus.HistogramVec
	delegates   *prometheus.GaugeVec
	missing     *prometheus.GaugeVec
	missed      *prometheus.CounterVec
	byzantine   *prometheus.GaugeVec
	faults      *prometheus.CounterVec
	refused     *prometheus.CounterVec
	dropped     *prometheus.CounterVec
	leftToSync  *prometheus.CounterVec
	sendDropped *prometheus.CounterVec
	walFsync    *prometheus.HistogramVec
	pool        *funcGauges
	evicted     *prometheus.CounterVec
	sendBytes   *prometheus.CounterVec
	recvBytes   *prometheus.CounterVec
	sendMsgs    *prometheus.CounterVec
	recvMsgs    *prometheus.CounterVec
	pluginRPC   *prometheus.HistogramVec
	pluginErrs  *prometheus.CounterVec
	peers       *peersGauge

	own       []prometheus.Collector // the series above, for Describe
	meterOnce sync.Once
}

// blockIntervalBuckets cover block intervals from 10 ms to a minute.
var blockIntervalBuckets = []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// New returns a node's registry, with the Go runtime and process collectors
// beside the node's own series.
func New() *Registry {
	r := &Registry{reg: prometheus.NewRegistry()}
	add := func(c prometheus.Collector) {
		r.reg.MustRegister(c)
		r.own = append(r.own, c)
	}
	gv := func(sub, name, help string, labels ...string) *prometheus.GaugeVec {
		v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Subsystem: sub, Name: name, Help: help}, labels)
		add(v)
		return v
	}
	cv := func(sub, name, help string, labels ...string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: sub, Name: name, Help: help}, labels)
		add(v)
		return v
	}
	hv := func(sub, name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
		v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Subsystem: sub, Name: name, Help: help, Buckets: buckets}, labels)
		add(v)
		return v
	}
	r.height = gv("consensus", "height", "Height of the group's last committed block.", LabelGroup)
	r.epoch = gv("consensus", "epoch", "Epoch of the group's last committed block.", LabelGroup)
	r.numTxs = gv("consensus", "num_txs", "Number of transactions in the group's last committed block.", LabelGroup)
	r.totalTxs = cv("consensus", "total_txs", "Transactions committed by the group since the node started.", LabelGroup)
	r.interval = hv("consensus", "block_interval_seconds", "Time between this and the previous block, by the blocks' agreed timestamps.", blockIntervalBuckets, LabelGroup)
	r.epochTime = hv("consensus", "epoch_duration_seconds", "Time from this node's contribution to an epoch until the epoch was decided and committed.", blockIntervalBuckets, LabelGroup)
	r.delegates = gv("consensus", "delegates", "Number of delegates of the epoch of the group's last committed block.", LabelGroup)
	r.missing = gv("consensus", "missing_delegates", "Number of delegates whose contribution the group's last committed block lacks.", LabelGroup)
	r.missed = cv("consensus", "delegate_missed_contributions_total", "Committed blocks that lack the delegate's contribution, since the node started.", LabelGroup, LabelDelegate)
	r.byzantine = gv("consensus", "byzantine_delegates", "Number of delegates with provable faults in the group's last committed block.", LabelGroup)
	r.faults = cv("consensus", "faults_seen_total", "Faults the consensus engine reported to this node, by kind and whether they came with evidence.", LabelGroup, LabelKind, LabelProvable)
	r.refused = cv("consensus", "messages_refused_total", "Consensus messages refused before the engine (undecodable, badly signed, for another instance or recipient).", LabelGroup)
	r.dropped = cv("consensus", "messages_dropped_total", "Consensus messages dropped because the group's inbox was full.", LabelGroup)
	r.leftToSync = cv("consensus", "messages_left_to_sync_total", "Consensus messages of epochs too far ahead of the group's undecided one, left to block sync because this node is behind.", LabelGroup)
	r.sendDropped = cv("p2p", "send_queue_dropped_total", "Messages of the group to a peer dropped because the peer's send queue was full (a peer that does not keep up).", LabelGroup)
	r.walFsync = hv("consensus", "wal_fsync_duration_seconds", "Time to flush and fsync the group's write-ahead log.", prometheus.ExponentialBuckets(0.0001, 4, 10), LabelGroup)
	r.pool = &funcGauges{desc: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "mempool", "size"), "Number of transactions waiting in the group's pool.", []string{LabelGroup}, nil), fns: map[string]func() int{}}
	add(r.pool)
	r.evicted = cv("mempool", "evicted_txs", "Transactions the group's pool dropped without their being committed, by reason: superseded (another took the sequence), wrong_prev (no longer chains from the committed head), gap (waited behind a gap in the sender's sequence), refused (by the ledger), short (the sender's balance stayed short).", LabelGroup, LabelReason)
	r.peers = &peersGauge{desc: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "p2p", "peers"), "Number of peers the transport is connected to.", nil, nil)}
	add(r.peers)
	r.sendBytes = cv("p2p", "message_send_bytes_total", "Payload bytes handed to the transport, by message kind.", LabelMessageType)
	r.recvBytes = cv("p2p", "message_receive_bytes_total", "Payload bytes the transport delivered, by message kind.", LabelMessageType)
	r.sendMsgs = cv("p2p", "message_send_total", "Messages handed to the transport, by message kind.", LabelMessageType)
	r.recvMsgs = cv("p2p", "message_receive_total", "Messages the transport delivered, by message kind.", LabelMessageType)
	r.pluginRPC = hv("plugin", "rpc_duration_seconds", "Latency of RPCs to external plugins.", prometheus.ExponentialBuckets(0.00005, 4, 10), LabelPlugin, LabelMethod)
	r.pluginErrs = cv("plugin", "rpc_errors_total", "RPCs to external plugins that failed, by gRPC status code.", LabelPlugin, LabelMethod, LabelCode)
	// Every kind is present from the start, at zero, so rates work from
	// the first scrape.
	for _, k := range MessageKinds {
		r.sendBytes.WithLabelValues(k)
		r.recvBytes.WithLabelValues(k)
		r.sendMsgs.WithLabelValues(k)
		r.recvMsgs.WithLabelValues(k)
	}
	r.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// Describe sends the descriptions of the node's own series (not those of
// the Go runtime, the process or a transport's collector): what
// docs/operators.md lists.
func (r *Registry) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range r.own {
		c.Describe(ch)
	}
}

// Gatherer returns the registry for reading, in tests and tools.
func (r *Registry) Gatherer() prometheus.Gatherer { return r.reg }

// Register adds a collector of another part of the node (a transport's own
// counters, say). A nil registry ignores it.
func (r *Registry) Register(c prometheus.Collector) error {
	if r == nil {
		return nil
	}
	return r.reg.Register(c)
}

// Handler serves the registry in the Prometheus text format. Errors while
// gathering are reported in the response, never as a panic.
func (r *Registry) Handler() http.Handler {
	if r == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, MaxRequestsInFlight: 4, Timeout: 10 * time.Second})
}

// funcGauges is one gauge series per group, each read at scrape time from
// a function the group registered (its pool's length).
type funcGauges struct {
	desc *prometheus.Desc
	mu   sync.Mutex
	fns  map[string]func() int
}

func (f *funcGauges) Describe(ch chan<- *prometheus.Desc) { ch <- f.desc }

func (f *funcGauges) Collect(ch chan<- prometheus.Metric) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for g, fn := range f.fns {
		ch <- prometheus.MustNewConstMetric(f.desc, prometheus.GaugeValue, float64(fn()), g)
	}
}

func (f *funcGauges) set(group string, fn func() int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fn == nil {
		delete(f.fns, group)
		return
	}
	f.fns[group] = fn
}

// peersGauge reads the number of connected peers from the node's
// transport at each scrape; 0 before a transport is metered.
type peersGauge struct {
	desc  *prometheus.Desc
	count atomic.Pointer[func() int]
}

func (p *peersGauge) Describe(ch chan<- *prometheus.Desc) { ch <- p.desc }

func (p *peersGauge) Collect(ch chan<- prometheus.Metric) {
	n := 0
	if fn := p.count.Load(); fn != nil {
		n = (*fn)()
	}
	ch <- prometheus.MustNewConstMetric(p.desc, prometheus.GaugeValue, float64(n))
}

// Message kinds, the values of the message_type label: a fixed set, one
// per family of topics the node uses.
const (
	KindConsensus   = "consensus"   // direct/consensus/<instance>: engine messages
	KindBlockSync   = "blocksync"   // direct/blocksync/<group>: heads and blocks a lagging member fetches
	KindTx          = "tx"          // tx/<cluster>: transaction gossip
	KindCertificate = "certificate" // cert/<group>: threshold shares certifying blocks
	KindCheckpoint  = "checkpoint"  // checkpoints: cluster blocks announced to the galaxy
	KindBlackHole   = "black_hole"  // blackholes: galaxy blocks announced to everyone
	KindWant        = "want"        // wants: requests to announce a block again
	KindOther       = "other"       // any other topic
)

// MessageKinds lists every message kind.
var MessageKinds = []string{KindConsensus, KindBlockSync, KindTx, KindCertificate, KindCheckpoint, KindBlackHole, KindWant, KindOther}

// MessageKind maps a transport topic to its message kind.
func MessageKind(topic string) string {
	switch {
	case strings.HasPrefix(topic, "direct/consensus/"):
		return KindConsensus
	case strings.HasPrefix(topic, "direct/blocksync/"):
		return KindBlockSync
	case strings.HasPrefix(topic, "tx/"):
		return KindTx
	case strings.HasPrefix(topic, "cert/"):
		return KindCertificate
	case topic == interfaces.TopicCheckpoints:
		return KindCheckpoint
	case topic == interfaces.TopicBlackHoles:
		return KindBlackHole
	case topic == interfaces.TopicWants:
		return KindWant
	}
	return KindOther
}
