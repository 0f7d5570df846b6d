package metrics_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/constellation-chain/constellation/builtin/gossip"
	"github.com/constellation-chain/constellation/builtin/honeybadger"
	"github.com/constellation-chain/constellation/framework/api"
	"github.com/constellation-chain/constellation/framework/ledger"
	"github.com/constellation-chain/constellation/framework/metrics"
	"github.com/constellation-chain/constellation/framework/node"
	"github.com/constellation-chain/constellation/interfaces"
)

// fastGossip makes the loopback transports find each other quickly.
const fastGossip = `{"reconnect_min_ms": 20, "reconnect_max_ms": 300, "px_interval_ms": 200, "dial_timeout_ms": 2000}`

// network is a cluster of real nodes in this process: gossip transports
// on loopback ports the kernel picks, each node with its own registry,
// and the first node's API on a real HTTP server.
type network struct {
	nodes []*node.Node
	api   *httptest.Server
}

// startNetwork starts a cluster of n delegates with a funded account
// "alice" and serves the first node's API; everything stops when the test
// ends.
func startNetwork(t *testing.T, n int) *network {
	t.Helper()
	var names []string
	for i := range n {
		names = append(names, fmt.Sprintf("star-%d", i+1))
	}
	var trs []interfaces.Transport
	var boot []string
	for _, nm := range names {
		tr, err := gossip.New(interfaces.TransportConfig{
			Key: interfaces.DevKey(nm), Listen: []string{"/ip4/127.0.0.1/tcp/0"}, Bootstrap: slices.Clone(boot), Params: []byte(fastGossip),
		})
		if err != nil {
			t.Fatalf("start transport %s: %v", nm, err)
		}
		t.Cleanup(func() { tr.Close() })
		trs = append(trs, tr)
		boot = append(boot, tr.Addrs()...)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, tr := range trs {
		for len(tr.Peers()) < n-1 {
			if time.Now().After(deadline) {
				t.Fatalf("%s is connected to %d of %d peers", tr.Self().Short(), len(tr.Peers()), n-1)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	var members []interfaces.StarID
	for _, nm := range names {
		members = append(members, interfaces.DevStar(nm))
	}
	sorted := slices.Clone(members)
	slices.SortFunc(sorted, interfaces.CompareStars)
	shares, err := honeybadger.Factory{}.DealKeys(sorted, 0, rand.NewChaCha8([32]byte{15}))
	if err != nil {
		t.Fatal(err)
	}
	genesis := ledger.Genesis{Seed: "metrics-scrape", Allocations: []ledger.Allocation{{Star: interfaces.DevStar("alice"), Amount: 1 << 40}}}
	nw := &network{}
	for i, nm := range names {
		reg := metrics.New()
		nd, err := node.Open(node.Config{
			Key:           interfaces.DevKey(nm),
			DataDir:       t.TempDir(),
			Genesis:       genesis,
			Members:       members,
			Consensus:     honeybadger.Factory{},
			ConsensusKeys: shares[slices.Index(sorted, members[i])],
			BatchSize:     40,
			Interval:      50 * time.Millisecond,
			Transport:     reg.Transport(trs[i]),
			Metrics:       reg,
		})
		if err != nil {
			t.Fatalf("open %s: %v", nm, err)
		}
		nw.nodes = append(nw.nodes, nd)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, len(nw.nodes))
	for _, nd := range nw.nodes {
		go func() { done <- nd.Run(ctx) }()
	}
	nw.api = httptest.NewServer(api.Handler(nw.nodes[0], nil))
	t.Cleanup(func() {
		nw.api.Close()
		cancel()
		for range nw.nodes {
			if err := <-done; err != nil {
				t.Errorf("node stopped: %v", err)
			}
		}
	})
	return nw
}

// scrape reads and parses the node's /metrics.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET /metrics: %d: %s", resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("GET /metrics: content type %q, want the Prometheus text format", ct)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value returns the sum over a family's series whose labels include want
// (a gauge's or counter's value, a histogram's count).
func value(fams map[string]*dto.MetricFamily, name string, want ...string) float64 {
	f, ok := fams[name]
	if !ok {
		return -1
	}
	sum := 0.0
next:
	for _, m := range f.GetMetric() {
		for i := 0; i+1 < len(want); i += 2 {
			found := false
			for _, l := range m.GetLabel() {
				if l.GetName() == want[i] && l.GetValue() == want[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Histogram != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum
}

// submit sends count transfers from alice through the node API,
// continuing her chain from its committed head (so call it when none of
// hers wait in the pool).
func (nw *network) submit(t *testing.T, count int) {
	t.Helper()
	c := api.NewClient(strings.TrimPrefix(nw.api.URL, "http://"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	key := interfaces.DevKey("alice")
	seq, last, err := nw.nodes[0].ChainHead(interfaces.DevStar("alice"))
	if err != nil {
		t.Fatal(err)
	}
	var txs []*interfaces.Transaction
	for i := range count {
		tx, err := interfaces.NewTransfer(key, seq+uint64(i)+1, last, interfaces.DevStar(fmt.Sprintf("bob-%d", i%7)), 1)
		if err != nil {
			t.Fatal(err)
		}
		txs = append(txs, tx)
		last = tx.ID()
	}
	res, err := c.SubmitBatch(ctx, txs)
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	for i, r := range res {
		if r.Error != "" {
			t.Fatalf("submit transaction %d: %s", i, r.Error)
		}
	}
}

// TestMetricsEndpointServesTheNamedSeriesAndTheyMove scrapes a running
// node's /metrics twice over HTTP: every series the operators' guide names
// for a cluster is there, and height and committed transactions rise
// between the scrapes while transactions flow.
func TestMetricsEndpointServesTheNamedSeriesAndTheyMove(t *testing.T) {
	nw := startNetwork(t, 4)
	const group = "cluster/0"

	// The first scrape: after the first block with transactions.
	nw.submit(t, 20)
	var first map[string]*dto.MetricFamily
	deadline := time.Now().Add(90 * time.Second)
	for {
		first = scrape(t, nw.api.URL)
		if value(first, "constellation_consensus_total_txs", "group", group) > 0 && value(first, "constellation_consensus_block_interval_seconds", "group", group) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no block with transactions within the deadline: height %v, total txs %v",
				value(first, "constellation_consensus_height", "group", group), value(first, "constellation_consensus_total_txs", "group", group))
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, name := range []string{
		"constellation_consensus_height",
		"constellation_consensus_epoch",
		"constellation_consensus_num_txs",
		"constellation_consensus_total_txs",
		"constellation_consensus_block_interval_seconds",
		"constellation_consensus_epoch_duration_seconds",
		"constellation_consensus_delegates",
		"constellation_consensus_missing_delegates",
		"constellation_consensus_byzantine_delegates",
		"constellation_consensus_delegate_missed_contributions_total",
		"constellation_consensus_faults_seen_total",
		"constellation_consensus_messages_refused_total",
		"constellation_consensus_messages_dropped_total",
		"constellation_consensus_wal_fsync_duration_seconds",
		"constellation_mempool_size",
		"constellation_p2p_peers",
		"constellation_p2p_message_send_bytes_total",
		"constellation_p2p_message_receive_bytes_total",
		"constellation_p2p_message_send_total",
		"constellation_p2p_message_receive_total",
		"constellation_p2p_gossip_published_total",
		"constellation_p2p_direct_frames_sent_total",
		"constellation_p2p_dropped_total",
		"go_goroutines",
	} {
		if _, ok := first[name]; !ok {
			t.Errorf("series %s is missing from /metrics", name)
		}
	}
	if v := value(first, "constellation_consensus_delegates", "group", group); v != 4 {
		t.Errorf("constellation_consensus_delegates = %v, want 4", v)
	}
	if n := len(first["constellation_consensus_delegate_missed_contributions_total"].GetMetric()); n != 4 {
		t.Errorf("missed contributions has %d series, want one per delegate (4)", n)
	}
	if v := value(first, "constellation_p2p_peers"); v != 3 {
		t.Errorf("constellation_p2p_peers = %v, want 3", v)
	}
	for _, name := range []string{"constellation_p2p_message_send_bytes_total", "constellation_p2p_message_receive_bytes_total"} {
		if v := value(first, name, "message_type", metrics.KindConsensus); v <= 0 {
			t.Errorf("%s{message_type=%q} = %v, want consensus traffic counted", name, metrics.KindConsensus, v)
		}
	}
	if v := value(first, "constellation_p2p_message_send_bytes_total", "message_type", metrics.KindTx); v <= 0 {
		t.Errorf("no transaction gossip counted as sent: %v", v)
	}
	if v := value(first, "constellation_consensus_wal_fsync_duration_seconds", "group", group); v <= 0 {
		t.Errorf("no WAL fsync observed: %v", v)
	}
	if v := value(first, "constellation_consensus_epoch_duration_seconds", "group", group); v <= 0 {
		t.Errorf("no epoch latency observed: %v", v)
	}

	// The second scrape: height and committed transactions have moved.
	h1 := value(first, "constellation_consensus_height", "group", group)
	tx1 := value(first, "constellation_consensus_total_txs", "group", group)
	var h2, tx2 float64
	for {
		nw.waitIdle(t)
		nw.submit(t, 20)
		for range 20 {
			second := scrape(t, nw.api.URL)
			h2 = value(second, "constellation_consensus_height", "group", group)
			tx2 = value(second, "constellation_consensus_total_txs", "group", group)
			if h2 > h1 && tx2 > tx1 {
				t.Logf("height %v -> %v, committed transactions %v -> %v", h1, h2, tx1, tx2)
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		if time.Now().After(deadline) {
			t.Fatalf("between scrapes height went %v -> %v and committed transactions %v -> %v; want both to rise", h1, h2, tx1, tx2)
		}
	}
}

// waitIdle waits until the first node's pool is empty, so alice's chain
// can be continued from its committed head.
func (nw *network) waitIdle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for nw.nodes[0].PoolLen() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the pool still holds %d transactions", nw.nodes[0].PoolLen())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
