package api

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// get answers a GET's status, headers and body, with an Origin header
// when origin is set.
func get(t *testing.T, c *Client, path, origin string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.Base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(raw)
}

// TestTheDashboardIsServedFromTheBinary: /dashboard/ is the page, its
// script and style sheet sit beside it with their types, the page loads
// nothing from outside the node, and anything else under /dashboard/ is
// a JSON 404.
func TestTheDashboardIsServedFromTheBinary(t *testing.T) {
	c, _ := serveFull(t, newFullBackend(newFakeChain("cluster/0", false)), Options{})
	code, h, body := get(t, c, "/dashboard/", "")
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Fatalf("/dashboard/: %d %s", code, h.Get("Content-Type"))
	}
	for _, want := range []string{`src="dashboard.js"`, `href="dashboard.css"`, `id="tps-chart"`, `id="nodes"`, `id="topology"`, `id="blocks"`, `id="memes"`, `id="contracts"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("Content-Security-Policy %q does not keep scripts to the node", csp)
	}
	for file, typ := range map[string]string{"dashboard.js": "text/javascript", "dashboard.css": "text/css", "index.html": "text/html"} {
		code, h, body := get(t, c, "/dashboard/"+file, "")
		if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), typ) || body == "" {
			t.Errorf("/dashboard/%s: %d %q", file, code, h.Get("Content-Type"))
		}
		// No file fetches anything from another site: no CDN, no fonts.
		for _, ext := range []string{"https://", "//cdn", "@import"} {
			if strings.Contains(body, ext) {
				t.Errorf("/dashboard/%s refers to %q", file, ext)
			}
		}
	}
	for _, p := range []string{"/dashboard/nope.js", "/dashboard/x/index.html", "/dashboard/.hidden"} {
		code, h, _ := get(t, c, p, "")
		if code != 404 || h.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %s, want a JSON 404", p, code, h.Get("Content-Type"))
		}
	}
	if _, _, body := get(t, c, "/", ""); !strings.Contains(body, "/dashboard/") {
		t.Errorf("GET / does not point at the dashboard: %s", body)
	}
}

// TestNetworkNamesTheManifestsNodes: GET /v1/network answers the nodes it
// was given, with an unspecified host replaced by the one the request
// reached; without them, the node itself.
func TestNetworkNamesTheManifestsNodes(t *testing.T) {
	net := &NetworkInfo{Network: "devnet", Source: "manifest", Nodes: []NetworkNode{
		{Name: "star-1", API: "127.0.0.1:8001", Roles: []string{"star", "cluster"}, Cluster: 0, Self: true},
		{Name: "star-2", API: "0.0.0.0:8002", Roles: []string{"star", "galaxy"}, Cluster: -1},
	}}
	c, _ := serveFull(t, newFullBackend(newFakeChain("cluster/0", false)), Options{Network: net})
	got, err := c.Network(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.Network != "devnet" || len(got.Nodes) != 2 || !got.Nodes[0].Self || got.Nodes[1].API != "127.0.0.1:8002" || got.Nodes[1].Cluster != -1 {
		t.Fatalf("GET /v1/network = %+v", got)
	}
	c, _ = serveFull(t, newFullBackend(newFakeChain("cluster/0", false)), Options{})
	got, err = c.Network(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.Source != "self" || len(got.Nodes) != 1 || !got.Nodes[0].Self || "http://"+got.Nodes[0].API != c.Base {
		t.Fatalf("GET /v1/network without a manifest = %+v (served at %s)", got, c.Base)
	}
}

// TestOtherNodesDashboardsMayReadGETs: a GET from a page on loopback or
// at one of the manifest's API addresses gets Access-Control-Allow-Origin;
// a page of another site, or any POST, gets none.
func TestOtherNodesDashboardsMayReadGETs(t *testing.T) {
	net := &NetworkInfo{Nodes: []NetworkNode{{Name: "star-2", API: "10.0.0.2:8002"}}}
	c, _ := serveFull(t, newFullBackend(newFakeChain("cluster/0", false)), Options{Network: net})
	for origin, allowed := range map[string]bool{
		"http://127.0.0.1:8002":   true,
		"http://localhost:8003":   true,
		"http://[::1]:8004":       true,
		"http://10.0.0.2:8002":    true,
		"http://10.0.0.2:9999":    false,
		"https://evil.example":    false,
		"null":                    false,
		"file://":                 false,
		"http://127.0.0.1.evil.x": false,
	} {
		_, h, _ := get(t, c, "/v1/status", origin)
		if got := h.Get("Access-Control-Allow-Origin"); (got == origin) != allowed || (!allowed && got != "") {
			t.Errorf("Origin %s: Access-Control-Allow-Origin %q, allowed %v", origin, got, allowed)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, c.Base+"/v1/tx", strings.NewReader(`{}`))
	req.Header.Set("Origin", "http://127.0.0.1:8002")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("a POST got Access-Control-Allow-Origin %q", got)
	}
}
