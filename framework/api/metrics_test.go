package api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/constellation-chain/constellation/framework/metrics"
	"github.com/constellation-chain/constellation/framework/pool"
)

// meteredBackend keeps metrics, as a node does.
type meteredBackend struct {
	*fakeBackend
	reg *metrics.Registry
}

func (m meteredBackend) MetricsHandler() http.Handler { return m.reg.Handler() }

// GET /metrics serves a metered backend's registry in the Prometheus text
// format; other methods are refused, and a backend without metrics has
// no such route.
func TestMetricsRouteServesTheBackendsRegistry(t *testing.T) {
	reg := metrics.New()
	reg.Group("cluster/0").Pool(func() int { return 7 })
	srv := httptest.NewServer(Handler(meteredBackend{&fakeBackend{pool: pool.New(pool.Options{})}, reg}, nil))
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !strings.Contains(string(body), `constellation_mempool_size{group="cluster/0"} 7`) {
		t.Fatalf("GET /metrics does not show the pool's size:\n%s", body)
	}
	resp, err = http.Post(srv.URL+"/metrics", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics: %d, want 405", resp.StatusCode)
	}

	plain := httptest.NewServer(Handler(&fakeBackend{pool: pool.New(pool.Options{})}, nil))
	t.Cleanup(plain.Close)
	resp, err = http.Get(plain.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics of a backend without metrics: %d, want 404", resp.StatusCode)
	}
}
