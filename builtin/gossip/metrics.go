package gossip

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// counter is one of the transport's Prometheus counters, counted in whole
// events.
type counter struct{ c prometheus.Counter }

func (c counter) Add(n uint64) { c.c.Add(float64(n)) }

// Load reads the counter's value.
func (c counter) Load() uint64 {
	var m dto.Metric
	if err := c.c.Write(&m); err != nil {
		return 0
	}
	return uint64(m.GetCounter().GetValue())
}

// newCounters makes the transport's counters. They are registered nowhere:
// the Transport is a prometheus.Collector, and the node that owns it
// registers it in its own registry (several transports may live in one
// process).
func newCounters() (counters, []prometheus.Collector) {
	dropped := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "constellation", Subsystem: "p2p", Name: "dropped_total",
		Help: "Envelopes and frames the transport dropped before delivery, by reason.",
	}, []string{"reason"})
	all := []prometheus.Collector{dropped}
	one := func(name, help string) counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: "constellation", Subsystem: "p2p", Name: name, Help: help})
		all = append(all, c)
		return counter{c}
	}
	cs := counters{
		spoofed:       counter{dropped.WithLabelValues("spoofed")},
		malformed:     counter{dropped.WithLabelValues("malformed")},
		oversize:      counter{dropped.WithLabelValues("oversize")},
		slowSub:       counter{dropped.WithLabelValues("slow_subscriber")},
		rejectedConns: one("rejected_connections_total", "Connections the gate refused: partitioned peers and keys that are not ed25519."),
		directSent:    one("direct_frames_sent_total", "Frames written to direct streams (self-sends count as sent and received)."),
		directRecv:    one("direct_frames_received_total", "Frames read from direct streams."),
		directRetries: one("direct_retries_total", "Batches of frames rewritten after a direct stream failed."),
		published:     one("gossip_published_total", "Gossip messages published."),
		gossipRecv:    one("gossip_received_total", "Gossip messages delivered to handlers."),
		dials:         one("dials_total", "Outbound connection attempts of the bootstrap and reconnect loop."),
		dialFailures:  one("dial_failures_total", "Outbound connection attempts that failed."),
		pxLearned:     one("px_learned_total", "Peers learned through peer exchange."),
	}
	return cs, all
}

// Describe implements prometheus.Collector: the transport's counters.
func (t *Transport) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range t.collectors {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (t *Transport) Collect(ch chan<- prometheus.Metric) {
	for _, c := range t.collectors {
		c.Collect(ch)
	}
}
