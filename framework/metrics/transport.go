package metrics

import (
	"context"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/status"

	"github.com/constellation-chain/constellation/interfaces"
)

// Transport returns tr metered: every message sent, published or delivered
// is counted with its payload bytes by kind (MessageKind), and the number
// of connected peers is read from tr at each scrape. When tr itself is a
// prometheus.Collector (the gossip transport's own counters) it is
// registered too. A nil registry or a nil tr returns tr unchanged.
//
// Meter the transport once per node, and hand the metered one to every
// part that sends (the groups, the relay): a part that keeps the bare one
// sends unmetered.
func (r *Registry) Transport(tr interfaces.Transport) interfaces.Transport {
	if r == nil || tr == nil {
		return tr
	}
	if m, ok := tr.(*meteredTransport); ok && m.r == r {
		return tr
	}
	r.meterOnce.Do(func() {
		count := func() int { return len(tr.Peers()) }
		r.peers.count.Store(&count)
		if c, ok := tr.(prometheus.Collector); ok {
			// A transport whose series clash with ours is still metered
			// by the wrapper; its own counters are left out.
			_ = r.reg.Register(c)
		}
	})
	return &meteredTransport{Transport: tr, r: r}
}

// meteredTransport counts what passes through an interfaces.Transport.
type meteredTransport struct {
	interfaces.Transport
	r *Registry
}

func (t *meteredTransport) sent(topic string, payload []byte) {
	k := MessageKind(topic)
	t.r.sendMsgs.WithLabelValues(k).Inc()
	t.r.sendBytes.WithLabelValues(k).Add(float64(len(payload)))
}

func (t *meteredTransport) Send(ctx context.Context, to interfaces.StarID, topic string, payload []byte) error {
	err := t.Transport.Send(ctx, to, topic, payload)
	if err == nil {
		t.sent(topic, payload)
	}
	return err
}

func (t *meteredTransport) Publish(ctx context.Context, topic string, payload []byte) error {
	err := t.Transport.Publish(ctx, topic, payload)
	if err == nil {
		t.sent(topic, payload)
	}
	return err
}

func (t *meteredTransport) Subscribe(topic string, h interfaces.Handler) (func(), error) {
	if h == nil {
		return t.Transport.Subscribe(topic, h) // the transport's own error
	}
	k := MessageKind(topic)
	msgs, bytes := t.r.recvMsgs.WithLabelValues(k), t.r.recvBytes.WithLabelValues(k)
	return t.Transport.Subscribe(topic, func(e interfaces.Envelope) {
		msgs.Inc()
		bytes.Add(float64(len(e.Payload)))
		h(e)
	})
}

// Unwrap returns the transport being metered, for callers that look for
// an optional interface of it (a fault switch, say).
func (t *meteredTransport) Unwrap() interfaces.Transport { return t.Transport }

// PluginRPC records one RPC to an external plugin: plugin is its manifest
// name (kind/name), method the gRPC method, d how long the call took and
// err what it returned.
func (r *Registry) PluginRPC(plugin, method string, d time.Duration, err error) {
	if r == nil {
		return
	}
	method = shortMethod(method)
	r.pluginRPC.WithLabelValues(plugin, method).Observe(d.Seconds())
	if err != nil {
		r.pluginErrs.WithLabelValues(plugin, method, status.Code(err).String()).Inc()
	}
}

// shortMethod turns a gRPC full method name ("/constellation.v1.Consensus/Step")
// into Service/Method ("Consensus/Step").
func shortMethod(full string) string {
	svc, method := full, ""
	if i := strings.LastIndexByte(full, '/'); i >= 0 {
		svc, method = full[:i], full[i+1:]
	}
	if i := strings.LastIndexAny(svc, "./"); i >= 0 {
		svc = svc[i+1:]
	}
	if method == "" {
		return svc
	}
	return svc + "/" + method
}
