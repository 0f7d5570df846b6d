package metrics_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/constellation-chain/constellation/builtin/memnet"
	"github.com/constellation-chain/constellation/framework/blocksync"
	"github.com/constellation-chain/constellation/framework/metrics"
	"github.com/constellation-chain/constellation/interfaces"
)

// gather returns the registry's families by name.
func gather(t *testing.T, r *metrics.Registry) map[string]*dto.MetricFamily {
	t.Helper()
	fams, err := r.Gatherer().Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

func TestANodeWithoutMetricsRecordsNothingAndNeverPanics(t *testing.T) {
	var r *metrics.Registry
	g := r.Group("cluster/0")
	if g != nil {
		t.Fatal("a nil registry gave a group view")
	}
	g.Head(interfaces.BlockHeader{Height: 3})
	g.Committed(&interfaces.Block{})
	g.Committed(nil)
	g.EpochDecided(time.Second)
	g.Fault(interfaces.FaultEquivocation, true)
	g.Refused()
	g.Dropped()
	g.LeftToSync()
	g.Evicted("gap")
	g.SendDropped()
	g.WALSynced(time.Millisecond)
	g.Pool(func() int { return 1 })
	g.Close()
	r.PluginRPC("consensus/x", "/a.B/C", time.Millisecond, errors.New("boom"))
	if err := r.Register(nil); err != nil {
		t.Fatal(err)
	}
	var tr interfaces.Transport
	if r.Transport(tr) != nil {
		t.Fatal("a nil registry changed a nil transport")
	}
	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("a nil registry's handler answered %d, want 404", rec.Code)
	}
}

func TestEveryTopicTheNodeUsesHasItsMessageKind(t *testing.T) {
	inst := interfaces.InstanceID(interfaces.DomainSum("test", []byte("x")))
	for topic, want := range map[string]string{
		interfaces.ConsensusTopic(inst): metrics.KindConsensus,
		blocksync.Topic(inst):           metrics.KindBlockSync,
		interfaces.TxTopic(3):           metrics.KindTx,
		"cert/abc":                      metrics.KindCertificate,
		interfaces.TopicCheckpoints:     metrics.KindCheckpoint,
		interfaces.TopicBlackHoles:      metrics.KindBlackHole,
		interfaces.TopicWants:           metrics.KindWant,
		"":                              metrics.KindOther,
		"direct/unknown":                metrics.KindOther,
		"\xff\x00garbage":               metrics.KindOther,
	} {
		if got := metrics.MessageKind(topic); got != want {
			t.Errorf("MessageKind(%q) = %q, want %q", topic, got, want)
		}
		if !slices.Contains(metrics.MessageKinds, want) {
			t.Errorf("kind %q is not in MessageKinds", want)
		}
	}
}

func TestMissedContributionsFollowTheDelegateSet(t *testing.T) {
	r := metrics.New()
	g := r.Group("cluster/0")
	a, b, c, d, e := interfaces.DevStar("a"), interfaces.DevStar("b"), interfaces.DevStar("c"), interfaces.DevStar("d"), interfaces.DevStar("e")
	abcd := []interfaces.StarID{a, b, c, d}
	g.Head(interfaces.BlockHeader{Height: 4, Epoch: 4, Timestamp: 1000})
	g.Committed(&interfaces.Block{Header: interfaces.BlockHeader{Height: 5, Epoch: 5, Timestamp: 1250}, Meta: interfaces.BlockMeta{Members: abcd, Proposers: []interfaces.StarID{a, b, c},
		Faults: []interfaces.Fault{{Star: d, Kind: interfaces.FaultEquivocation}, {Star: d, Kind: interfaces.FaultReplay}}}})
	fams := gather(t, r)
	missed := func(s interfaces.StarID) float64 {
		for _, m := range fams["constellation_consensus_delegate_missed_contributions_total"].GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == metrics.LabelDelegate && l.GetValue() == s.String() {
					return m.GetCounter().GetValue()
				}
			}
		}
		return -1
	}
	if missed(a) != 0 || missed(d) != 1 {
		t.Fatalf("missed: a %v, d %v; want 0 and 1", missed(a), missed(d))
	}
	if v := value(fams, "constellation_consensus_missing_delegates"); v != 1 {
		t.Errorf("missing delegates = %v, want 1", v)
	}
	if v := value(fams, "constellation_consensus_byzantine_delegates"); v != 1 {
		t.Errorf("byzantine delegates = %v, want 1 (one star, two faults)", v)
	}
	h := fams["constellation_consensus_block_interval_seconds"].GetMetric()[0].GetHistogram()
	if h.GetSampleCount() != 1 || h.GetSampleSum() != 0.25 {
		t.Errorf("block interval: %d samples summing to %v, want one of 0.25 s", h.GetSampleCount(), h.GetSampleSum())
	}

	// The next delegate set drops d: its series goes, e's comes.
	g.Committed(&interfaces.Block{Header: interfaces.BlockHeader{Height: 6, Epoch: 6, Timestamp: 1200}, Meta: interfaces.BlockMeta{Members: []interfaces.StarID{a, b, e}, Proposers: []interfaces.StarID{a, b}}})
	fams = gather(t, r)
	if missed(d) != -1 || missed(e) != 1 {
		t.Fatalf("after the rotation: d %v (want no series), e %v (want 1)", missed(d), missed(e))
	}
	if h := fams["constellation_consensus_block_interval_seconds"].GetMetric()[0].GetHistogram(); h.GetSampleCount() != 1 {
		t.Errorf("a block stamped before its parent was counted as an interval")
	}

	g.Close()
	fams = gather(t, r)
	for _, name := range []string{"constellation_consensus_height", "constellation_consensus_delegate_missed_contributions_total", "constellation_mempool_size"} {
		if n := len(fams[name].GetMetric()); n != 0 {
			t.Errorf("%s has %d series after the group closed", name, n)
		}
	}
}

func TestPluginRPCLatencyIsLabelledByPluginAndMethod(t *testing.T) {
	r := metrics.New()
	r.PluginRPC("consensus/acme", "/constellation.plugin.v1.Consensus/Step", 3*time.Millisecond, nil)
	r.PluginRPC("consensus/acme", "/constellation.plugin.v1.Consensus/Step", time.Millisecond, status.Error(codes.Unavailable, "gone"))
	r.PluginRPC("consensus/acme", "odd", time.Millisecond, nil)
	fams := gather(t, r)
	if v := value(fams, "constellation_plugin_rpc_duration_seconds", "plugin", "consensus/acme", "method", "Consensus/Step"); v != 2 {
		t.Errorf("Consensus/Step latency samples = %v, want 2", v)
	}
	if v := value(fams, "constellation_plugin_rpc_duration_seconds", "method", "odd"); v != 1 {
		t.Errorf("a method name without a service: %v samples, want 1", v)
	}
	if v := value(fams, "constellation_plugin_rpc_errors_total", "method", "Consensus/Step", "code", "Unavailable"); v != 1 {
		t.Errorf("errors = %v, want 1 Unavailable", v)
	}
}

func TestTheMeteredTransportCountsBothWaysByKind(t *testing.T) {
	hub := memnet.NewHub()
	a, err := hub.Join(interfaces.DevStar("a"), 16)
	if err != nil {
		t.Fatal(err)
	}
	b, err := hub.Join(interfaces.DevStar("b"), 16)
	if err != nil {
		t.Fatal(err)
	}
	ra, rb := metrics.New(), metrics.New()
	ma, mb := ra.Transport(a), rb.Transport(b)
	if ra.Transport(ma) != ma {
		t.Fatal("metering a metered transport again wrapped it twice")
	}
	got := make(chan interfaces.Envelope, 1)
	topic := interfaces.TxTopic(0)
	cancel, err := mb.Subscribe(topic, func(e interfaces.Envelope) { got <- e })
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	if err := ma.Publish(context.Background(), topic, []byte("12345")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("the gossip never arrived")
	}
	if v := value(gather(t, ra), "constellation_p2p_message_send_bytes_total", "message_type", metrics.KindTx); v != 5 {
		t.Errorf("sent tx bytes = %v, want 5", v)
	}
	if v := value(gather(t, rb), "constellation_p2p_message_receive_total", "message_type", metrics.KindTx); v != 1 {
		t.Errorf("received tx messages = %v, want 1", v)
	}
	if v := value(gather(t, rb), "constellation_p2p_peers"); v != float64(len(b.Peers())) {
		t.Errorf("peers = %v, want the transport's %d", v, len(b.Peers()))
	}
}

// TestPoolEvictionsAndMessagesLeftToSyncAreCounted: each eviction reason
// is a series from the start, at zero; an unknown reason counts nothing.
func TestPoolEvictionsAndMessagesLeftToSyncAreCounted(t *testing.T) {
	r := metrics.New()
	g := r.Group("cluster/0")
	g.Evicted("gap")
	g.Evicted("gap")
	g.Evicted("no such reason")
	g.LeftToSync()
	fams := gather(t, r)
	ev := fams["constellation_mempool_evicted_txs"]
	if ev == nil || len(ev.GetMetric()) != len(metrics.EvictReasons) {
		t.Fatalf("evicted series: %v", ev)
	}
	for _, m := range ev.GetMetric() {
		want := 0.0
		for _, l := range m.GetLabel() {
			if l.GetName() == metrics.LabelReason && l.GetValue() == "gap" {
				want = 2
			}
		}
		if m.GetCounter().GetValue() != want {
			t.Fatalf("%v: %v, want %v", m.GetLabel(), m.GetCounter().GetValue(), want)
		}
	}
	if l := fams["constellation_consensus_messages_left_to_sync_total"]; l == nil || l.GetMetric()[0].GetCounter().GetValue() != 1 {
		t.Fatalf("left to sync: %v", l)
	}
}
