package api

// The dashboard is a page each node serves at /dashboard/: plain HTML,
// CSS and JavaScript embedded in the binary (no build step, nothing
// fetched from outside the network), in the manner of substrate-telemetry
// and ethstats. It reads only the API: GET /v1/network names the nodes,
// the browser polls each node's /v1/status, /v1/health and /metrics
// itself, and follows the serving node's /v1/events. For the browser to
// read other nodes' answers, every node answers GET requests from the
// dashboards of its network with Access-Control-Allow-Origin (see
// allowOrigin); nothing is proxied, so the page shows what each node says
// of itself, and a node that stops answering shows as down even when the
// serving node is fine.

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
)

//go:embed dashboard
var dashboardFiles embed.FS

// dashboardFS is the dashboard's files, index.html at its root.
var dashboardFS = func() fs.FS {
	sub, err := fs.Sub(dashboardFiles, "dashboard")
	if err != nil {
		panic(err) // the embed directive guarantees the directory
	}
	return sub
}()

// dashboardCSP keeps the page to its own files: scripts and styles from
// the serving node only, connections to the nodes' APIs.
const dashboardCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' http: https:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// getDashboard serves /dashboard/ (index.html) and the files beside it.
func (s *server) getDashboard(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/dashboard/")
	if name == "" {
		name = "index.html"
	}
	if !fs.ValidPath(name) || strings.HasPrefix(path.Base(name), ".") {
		writeJSON(w, http.StatusNotFound, ErrorBody{Error: "no dashboard file " + clip(r.URL.Path), Field: "path"})
		return
	}
	if st, err := fs.Stat(dashboardFS, name); errors.Is(err, fs.ErrNotExist) || (err == nil && st.IsDir()) {
		writeJSON(w, http.StatusNotFound, ErrorBody{Error: "no dashboard file " + clip(r.URL.Path), Field: "path"})
		return
	}
	body, err := fs.ReadFile(dashboardFS, name)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "read dashboard file %s: %v", name, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", dashboardType(name))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Security-Policy", dashboardCSP)
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

func dashboardType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	default:
		return "application/octet-stream"
	}
}

// NetworkInfo is GET /v1/network: the nodes of the network as the serving
// node's manifest names them, with the API addresses a browser on this
// machine can reach them at. The dashboard reads it to know whom to ask.
type NetworkInfo struct {
	// Network is the manifest's network name ("" when the node was given
	// no manifest's nodes).
	Network string `json:"network"`
	// Source is "manifest" (the nodes of the serving node's manifest) or
	// "self" (the node knows no manifest: only itself, at the address the
	// request reached it).
	Source string        `json:"source"`
	Nodes  []NetworkNode `json:"nodes"`
}

// NetworkNode is one node of a NetworkInfo.
type NetworkNode struct {
	Name string `json:"name"`
	// API is the node's API address, host:port; "" when it serves none.
	// An unspecified host (0.0.0.0, ::) is replaced by the host the
	// request reached the serving node at.
	API   string   `json:"api,omitempty"`
	Roles []string `json:"roles"`
	// Cluster is the Star Cluster of a node with the cluster (or
	// candidate) role, -1 for none; the manifest's, which a node's
	// /v1/status supersedes once clusters split or accounts move.
	Cluster int `json:"cluster"`
	// Star is the node's identity when the manifest states it.
	Star string `json:"star,omitempty"`
	// Self marks the node answering.
	Self bool `json:"self"`
}

func (s *server) getNetwork(w http.ResponseWriter, r *http.Request) {
	reqHost, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		reqHost = r.Host
	}
	if s.opts.Network == nil {
		writeJSON(w, http.StatusOK, NetworkInfo{Source: "self", Nodes: []NetworkNode{{
			API: r.Host, Roles: []string{}, Cluster: -1, Star: s.b.Self().String(), Self: true,
		}}})
		return
	}
	out := NetworkInfo{Network: s.opts.Network.Network, Source: "manifest", Nodes: []NetworkNode{}}
	for _, n := range s.opts.Network.Nodes {
		if n.Roles == nil {
			n.Roles = []string{}
		}
		n.API = reachable(n.API, reqHost)
		out.Nodes = append(out.Nodes, n)
	}
	writeJSON(w, http.StatusOK, out)
}

// reachable rewrites an API address whose host is unspecified (a node
// listening on every interface) to the host the browser reached the
// serving node at.
func reachable(addr, reqHost string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || reqHost == "" {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return net.JoinHostPort(strings.Trim(reqHost, "[]"), port)
	}
	return addr
}

// allowOrigin reports whether a GET from a page of origin may read the
// answer: pages served from loopback (the dashboards of a network on this
// machine) and from the API addresses of the manifest's nodes. The API
// reads no cookies or credentials, so this only keeps pages from other
// sites from reading what a node on loopback says; it never lets a
// cross-origin page submit anything (POSTs get no CORS headers, and a
// JSON POST's preflight is refused).
func (s *server) allowOrigin(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return true
	}
	if s.opts.Network != nil {
		for _, n := range s.opts.Network.Nodes {
			if n.API != "" && strings.EqualFold(n.API, u.Host) {
				return true
			}
		}
	}
	return false
}

// cors adds Access-Control-Allow-Origin to a GET or HEAD whose Origin
// allowOrigin accepts.
func (s *server) cors(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if origin == "" || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return
	}
	w.Header().Add("Vary", "Origin")
	if s.allowOrigin(origin) {
		w.Header().Set("Access-Control-Allow-Origin", origin)
	}
}

// Network returns the nodes the serving node's manifest names (GET
// /v1/network).
func (c *Client) Network(ctx context.Context) (NetworkInfo, error) {
	var n NetworkInfo
	err := c.do(ctx, http.MethodGet, "/v1/network", nil, &n)
	return n, err
}
