package metrics_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/constellation-chain/constellation/builtin/gossip"
	"github.com/constellation-chain/constellation/framework/metrics"
	"github.com/constellation-chain/constellation/interfaces"
)

// registered returns the names of every series a node on the gossip
// transport defines: the node's own and the transport's.
func registered(t *testing.T) []string {
	t.Helper()
	tr, err := gossip.New(interfaces.TransportConfig{Key: interfaces.DevKey("docs"), Listen: []string{"/ip4/127.0.0.1/tcp/0"}})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	ch := make(chan *prometheus.Desc, 256)
	metrics.New().Describe(ch)
	tr.Describe(ch)
	close(ch)
	fq := regexp.MustCompile(`fqName: "([^"]+)"`)
	var out []string
	for d := range ch {
		m := fq.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("cannot read the name of %s", d)
		}
		out = append(out, m[1])
	}
	slices.Sort(out)
	return out
}

var seriesName = regexp.MustCompile(`constellation_[a-z0-9_]+`)

// known reports whether name, or the histogram it is a series of, is
// registered.
func known(reg []string, name string) bool {
	if slices.Contains(reg, name) {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && slices.Contains(reg, base) {
			return true
		}
	}
	return false
}

func TestTheOperatorsGuideListsEveryMetricAndNoOther(t *testing.T) {
	reg := registered(t)
	raw, err := os.ReadFile("../../docs/operators.md")
	if err != nil {
		t.Fatal(err)
	}
	var table []string
	for _, line := range strings.Split(string(raw), "\n") {
		if name, ok := strings.CutPrefix(line, "| `"); ok && strings.HasPrefix(name, "constellation_") {
			table = append(table, name[:strings.IndexByte(name, '`')])
		}
	}
	for _, name := range reg {
		if !slices.Contains(table, name) {
			t.Errorf("%s is registered but has no row in docs/operators.md's table", name)
		}
	}
	for _, name := range table {
		if !slices.Contains(reg, name) {
			t.Errorf("docs/operators.md's table lists %s, which no node registers", name)
		}
	}
	for _, name := range seriesName.FindAllString(string(raw), -1) {
		if !known(reg, name) {
			t.Errorf("docs/operators.md names %s, which no node registers", name)
		}
	}
}

func TestTheGrafanaDashboardUsesOnlyRegisteredSeries(t *testing.T) {
	reg := registered(t)
	raw, err := os.ReadFile("../../docs/grafana/constellation.json")
	if err != nil {
		t.Fatal(err)
	}
	var board struct {
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &board); err != nil {
		t.Fatalf("docs/grafana/constellation.json is not a dashboard: %v", err)
	}
	used := map[string]bool{}
	for _, p := range board.Panels {
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q queries nothing", p.Title)
		}
		for _, q := range p.Targets {
			names := seriesName.FindAllString(q.Expr, -1)
			if len(names) == 0 {
				t.Errorf("panel %q: query %q reads no constellation series", p.Title, q.Expr)
			}
			for _, name := range names {
				if !known(reg, name) {
					t.Errorf("panel %q reads %s, which no node registers", p.Title, name)
				}
				used[name] = true
			}
		}
	}
	// The series the board exists for.
	for _, name := range []string{
		"constellation_consensus_height", "constellation_consensus_block_interval_seconds_bucket",
		"constellation_consensus_epoch_duration_seconds_bucket", "constellation_consensus_total_txs",
		"constellation_mempool_size", "constellation_p2p_message_send_bytes_total",
		"constellation_p2p_message_receive_bytes_total", "constellation_consensus_delegate_missed_contributions_total",
		"constellation_consensus_faults_seen_total", "constellation_plugin_rpc_duration_seconds_bucket",
		"constellation_p2p_peers", "constellation_consensus_wal_fsync_duration_seconds_bucket",
	} {
		if !used[name] {
			t.Errorf("the dashboard has no panel on %s", name)
		}
	}
}
