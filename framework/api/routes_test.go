package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/constellation-chain/constellation/interfaces"
)

// sampleValue is a valid value for a path parameter, for walking the
// document's routes against the mux.
func sampleValue(name string) string {
	switch name {
	case "star":
		return interfaces.DevStar("x").String()
	case "id":
		return interfaces.Hash{9}.String()
	default:
		return "1"
	}
}

var pathParamRE = regexp.MustCompile(`\{([a-z_]+)\}`)

// TestOpenAPIListsExactlyTheServedRoutes: GET /openapi.json names every
// route the mux serves and nothing else. Both come from one route table;
// the check walks the document's paths through the mux (each must reach
// the pattern it names, not the unknown-route handler) and compares the
// mux's registered patterns with the document's operations.
func TestOpenAPIListsExactlyTheServedRoutes(t *testing.T) {
	c, s := serveFull(t, newFullBackend(newFakeChain("cluster/0", false)), Options{})
	doc, err := c.OpenAPI(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if doc["openapi"] != OpenAPIVersion {
		t.Fatalf("openapi = %v", doc["openapi"])
	}
	paths, _ := doc["paths"].(map[string]any)
	var documented []string
	for path, item := range paths {
		for method, op := range item.(map[string]any) {
			pattern := strings.ToUpper(method) + " " + path
			documented = append(documented, pattern)
			if _, ok := op.(map[string]any)["responses"]; !ok {
				t.Errorf("%s documents no responses", pattern)
			}
			concrete := pathParamRE.ReplaceAllStringFunc(path, func(m string) string { return sampleValue(m[1 : len(m)-1]) })
			req := httptest.NewRequest(strings.ToUpper(method), concrete, nil)
			if _, got := s.mux.Handler(req); got != pattern {
				t.Errorf("the document's %s (as %s) reaches the mux's %q", pattern, concrete, got)
			}
		}
	}
	slices.Sort(documented)
	served := slices.Clone(s.served)
	slices.Sort(served)
	if !slices.Equal(documented, served) {
		t.Fatalf("the document lists\n%v\nthe mux serves\n%v", documented, served)
	}
	// The backend serves everything, so every route of the table is
	// served, /metrics and the stream included.
	var all []string
	for _, rt := range Routes() {
		all = append(all, rt.Pattern())
	}
	slices.Sort(all)
	if !slices.Equal(all, served) {
		t.Fatalf("the route table has\n%v\nthe mux serves\n%v", all, served)
	}
	for _, want := range []string{"GET /metrics", "GET /v1/events", "GET /v1/health", "GET /openapi.json"} {
		if !slices.Contains(documented, want) {
			t.Errorf("the document does not list %s", want)
		}
	}
	// Every schema reference resolves.
	raw, _ := json.Marshal(doc)
	comps := doc["components"].(map[string]any)["schemas"].(map[string]any)
	for _, m := range regexp.MustCompile(`"#/components/schemas/([A-Za-z]+)"`).FindAllSubmatch(raw, -1) {
		if comps[string(m[1])] == nil {
			t.Errorf("schema %s is referred to but not defined", m[1])
		}
	}
}

// TestOpenAPIOmitsRoutesThisNodeDoesNotServe: a node without metrics or
// fault injection neither serves nor documents those routes.
func TestOpenAPIOmitsRoutesThisNodeDoesNotServe(t *testing.T) {
	c, _ := newServer(t)
	doc, err := c.OpenAPI(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	paths := doc["paths"].(map[string]any)
	for _, p := range []string{"/metrics", "/v1/debug/partition"} {
		if _, ok := paths[p]; ok {
			t.Errorf("the document of a plain backend lists %s", p)
		}
	}
	if _, ok := paths["/v1/blocks/{height}"]; !ok {
		t.Error("the document does not list /v1/blocks/{height}")
	}
}

// getJSON answers a request's status and ErrorBody.
func request(t *testing.T, c *Client, method, path string, body string, header http.Header) (int, ErrorBody, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, c.Base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var eb ErrorBody
	if resp.StatusCode/100 != 2 {
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: %d with Content-Type %q, want a JSON error", method, path, resp.StatusCode, ct)
		}
		if err := json.Unmarshal(raw, &eb); err != nil || eb.Error == "" {
			t.Errorf("%s %s: %d with body %q, not an ErrorBody", method, path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, eb, resp.Header
}

// TestUnknownRoutesGetJSONErrors: a path no route serves is 404, a served
// path with another method 405 with Allow; both JSON, naming what is
// wrong.
func TestUnknownRoutesGetJSONErrors(t *testing.T) {
	c, _ := serveFull(t, newFullBackend(newFakeChain("cluster/0", false)), Options{})
	for _, tc := range []struct {
		method, path string
		code         int
		field, allow string
	}{
		{"GET", "/nope", 404, "path", ""},
		{"GET", "/", 404, "path", ""},
		{"GET", "/v1/blocks", 404, "path", ""},
		{"GET", "/v1/blocks/1/extra", 404, "path", ""},
		{"POST", "/v1/status", 405, "method", "GET"},
		{"DELETE", "/v1/tx", 405, "method", "POST"},
		{"PUT", "/v1/events", 405, "method", "GET"},
		{"POST", "/metrics", 405, "method", "GET"},
		{"GET", "/v1/tx", 405, "method", "POST"},
	} {
		code, eb, h := request(t, c, tc.method, tc.path, "", nil)
		if code != tc.code || eb.Field != tc.field {
			t.Errorf("%s %s: %d field %q (%s), want %d field %q", tc.method, tc.path, code, eb.Field, eb.Error, tc.code, tc.field)
		}
		if tc.allow != "" && h.Get("Allow") != tc.allow {
			t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, h.Get("Allow"), tc.allow)
		}
	}
}

// TestBadRequestsName4xxAndTheField: malformed JSON, unknown fields, wrong
// types, oversize bodies and bad ids in paths, queries and headers are
// each answered 4xx with a JSON error naming the field at fault.
func TestBadRequestsNameTheField(t *testing.T) {
	c, _ := serveFull(t, newFullBackend(newFakeChain("cluster/0", false)), Options{})
	star := interfaces.DevStar("x").String()
	tx, _ := interfaces.NewTransfer(interfaces.DevKey("a"), 1, interfaces.Hash{}, interfaces.DevStar("b"), 5)
	for _, tc := range []struct {
		method, path, body string
		header             http.Header
		code               int
		field              string
	}{
		{"POST", "/v1/tx", "{", nil, 400, "body"},
		{"POST", "/v1/tx", "", nil, 400, "body"},
		{"POST", "/v1/tx", `{"tx":1}`, nil, 400, "tx"},
		{"POST", "/v1/tx", `{"tx":"00","memo":"hi"}`, nil, 400, "memo"},
		{"POST", "/v1/tx", `{"tx":"zz"}`, nil, 400, "tx"},
		{"POST", "/v1/tx", `{"tx":"00"}`, nil, 400, "tx"},
		{"POST", "/v1/tx", fmt.Sprintf(`{"tx":"%x"} {}`, tx.Encode()), nil, 400, "body"},
		{"POST", "/v1/tx", `{"tx":"` + strings.Repeat("0", MaxBody) + `"}`, nil, 413, "body"},
		{"POST", "/v1/txs", `{"txs":[1]}`, nil, 400, "txs"},
		{"POST", "/v1/txs", `{"txs":[]}`, nil, 400, "txs"},
		{"POST", "/v1/txs", `{"txs":["00"],"more":true}`, nil, 400, "more"},
		{"POST", "/v1/txs", strings.Repeat(" ", MaxBatchBody+1), nil, 413, "body"},
		{"POST", "/v1/debug/partition", `{"peers":["nope"],"cut":true}`, nil, 400, "peers[0]"},
		{"POST", "/v1/debug/partition", `{"peers":"x"}`, nil, 400, "peers"},
		{"POST", "/v1/debug/partition", `{"cut":"yes"}`, nil, 400, "cut"},
		{"GET", "/v1/blocks/abc", "", nil, 400, "height"},
		{"GET", "/v1/blocks/-1", "", nil, 400, "height"},
		{"GET", "/v1/blocks/99999999999999999999999", "", nil, 400, "height"},
		{"GET", "/v1/blocks/0", "", nil, 404, "height"},
		{"GET", "/v1/blackholes/x", "", nil, 400, "height"},
		{"GET", "/v1/blackholes/9", "", nil, 404, ""},
		{"GET", "/v1/txs/zz", "", nil, 400, "id"},
		{"GET", "/v1/txs/" + strings.Repeat("ab", 31), "", nil, 400, "id"},
		{"GET", "/v1/txs/" + interfaces.Hash{1}.String(), "", nil, 404, ""},
		{"GET", "/v1/txs/zz/status", "", nil, 400, "id"},
		{"GET", "/v1/accounts/nothex", "", nil, 400, "star"},
		{"GET", "/v1/accounts/nothex/chain", "", nil, 400, "star"},
		{"GET", "/v1/accounts/" + star + "/chain?limit=0", "", nil, 400, "limit"},
		{"GET", "/v1/accounts/" + star + "/chain?limit=201", "", nil, 400, "limit"},
		{"GET", "/v1/accounts/" + star + "/chain?from=xyz", "", nil, 400, "from"},
		{"GET", "/v1/accounts/" + interfaces.DevStar("elsewhere").String() + "/chain", "", nil, 421, ""},
		{"GET", "/v1/candidacy/ed25519:00", "", nil, 400, "star"},
		{"GET", "/v1/memes/ed25519:zz", "", nil, 400, "star"},
		{"GET", "/v1/memes/" + star + "?explain=maybe", "", nil, 400, "explain"},
		{"GET", "/v1/clusters/abc", "", nil, 400, "cluster"},
		{"GET", "/v1/clusters/4294967296", "", nil, 400, "cluster"},
		{"GET", "/v1/clusters/7", "", nil, 404, "cluster"},
		{"GET", "/v1/contracts/zz", "", nil, 400, "id"},
		{"GET", "/v1/events", "", http.Header{"Last-Event-ID": {"garbage"}}, 400, "Last-Event-ID"},
		{"GET", "/v1/events", "", http.Header{"Last-Event-ID": {"galaxy:1.0"}}, 400, "Last-Event-ID"},
		{"GET", "/v1/events?last_event_id=cluster/0:x.0", "", nil, 400, "last_event_id"},
	} {
		code, eb, _ := request(t, c, tc.method, tc.path, tc.body, tc.header)
		if code != tc.code || eb.Field != tc.field {
			t.Errorf("%s %.60s %.30q: %d field %q (%s), want %d field %q", tc.method, tc.path, tc.body, code, eb.Field, eb.Error, tc.code, tc.field)
		}
	}
}

// TestContractsSayTheyAreNotServed: on a node without a contract runtime
// the contract endpoints answer 404 with an error that says why, rather
// than an empty list.
func TestContractsSayTheyAreNotServed(t *testing.T) {
	c, _ := serveFull(t, newFullBackend(), Options{})
	for _, p := range []string{"/v1/contracts", "/v1/contracts/" + interfaces.Hash{1}.String()} {
		code, eb, _ := request(t, c, "GET", p, "", nil)
		if code != 404 || !strings.Contains(eb.Error, "contracts are not served by this node") {
			t.Errorf("GET %s: %d %q", p, code, eb.Error)
		}
	}
}

// TestReadsThroughTheClient: each read endpoint answers what the backend
// holds, through the client's methods.
func TestReadsThroughTheClient(t *testing.T) {
	c, _ := serveFull(t, newFullBackend(), Options{})
	ctx := context.Background()
	if r, err := c.Tx(ctx, knownTx); err != nil || r.Height != 3 || r.ID != knownTx.String() {
		t.Errorf("Tx: %+v %v", r, err)
	}
	var apiErr *Error
	if _, err := c.Tx(ctx, interfaces.Hash{1}); !errors.As(err, &apiErr) || apiErr.Status != 404 {
		t.Errorf("unknown Tx: %v", err)
	}
	if ch, err := c.Chain(ctx, interfaces.DevStar("a"), interfaces.Hash{}, 5); err != nil || len(ch.Txs) != 2 || ch.Txs[0].Seq != 2 {
		t.Errorf("Chain: %+v %v", ch, err)
	}
	if _, err := c.Chain(ctx, interfaces.DevStar("elsewhere"), interfaces.Hash{1}, 0); !errors.As(err, &apiErr) || apiErr.Status != 421 {
		t.Errorf("Chain of another cluster's account: %v", err)
	}
	if bh, err := c.BlackHole(ctx, 2); err != nil || bh.Height != 2 || !bh.Certified || bh.Certificate != "0102" {
		t.Errorf("BlackHole: %+v %v", bh, err)
	}
	if m, err := c.Meme(ctx, interfaces.DevStar("a"), true); err != nil || m.ScoreText != "0.5" || m.Explain == nil || len(m.Explain.Features) != 1 {
		t.Errorf("Meme: %+v %v", m, err)
	}
	if m, err := c.Meme(ctx, interfaces.DevStar("a"), false); err != nil || m.Explain != nil {
		t.Errorf("Meme without explain: %+v %v", m, err)
	}
	if l, err := c.Memes(ctx); err != nil || len(l.Memes) != 1 || l.ScoreOne != int64(interfaces.ScoreOne) {
		t.Errorf("Memes: %+v %v", l, err)
	}
	if cs, err := c.Clusters(ctx); err != nil || len(cs.Clusters) != 2 {
		t.Errorf("Clusters: %+v %v", cs, err)
	}
	if ci, err := c.Cluster(ctx, 1); err != nil || ci.Source != "genesis" {
		t.Errorf("Cluster: %+v %v", ci, err)
	}
	for id, want := range map[interfaces.Hash]string{knownTx: TxCommitted, droppedTx: TxDropped, {9}: TxUnknown} {
		if st, err := c.TxStatus(ctx, id); err != nil || st.Status != want || (want == TxDropped) != (st.Reason != "") {
			t.Errorf("TxStatus %s: %+v %v, want %s", id.Short(), st, err, want)
		}
	}
	// A plain backend says what it does not serve.
	plain, _ := newServer(t)
	for _, p := range []string{"/v1/txs/" + knownTx.String(), "/v1/txs/" + knownTx.String() + "/status", "/v1/memes", "/v1/clusters", "/v1/events"} {
		if code, eb, _ := request(t, plain, "GET", p, "", nil); code != 404 || eb.Error == "" {
			t.Errorf("plain GET %s: %d %q", p, code, eb.Error)
		}
	}
	if code, _, _ := request(t, plain, "GET", "/v1/blackholes/1", "", nil); code != http.StatusMisdirectedRequest {
		t.Errorf("plain GET /v1/blackholes/1: %d, want 421", code)
	}
}

// FuzzRoutes: any method, path, query, Last-Event-ID and body gets an
// answer, never a panic or a 500, and every error is an ErrorBody.
func FuzzRoutes(f *testing.F) {
	s := buildServer(newFullBackend(newFakeChain("cluster/0", false)), Options{Faults: &recordingSwitch{}})
	f.Add("GET", "/v1/blocks/1", "", "")
	f.Add("POST", "/v1/tx", `{"tx":"00"}`, "")
	f.Add("POST", "/v1/debug/partition", `{"peers":[],"cut":false}`, "")
	f.Add("GET", "/v1/accounts/"+interfaces.DevStar("a").String()+"/chain?limit=3&from=00", "", "")
	f.Add("GET", "/v1/memes/x?explain=1", "", "")
	f.Add("GET", "/v1/events", "", "cluster/0:99.0")
	f.Fuzz(func(t *testing.T, method, path, body, lastID string) {
		if method == "" || strings.ContainsAny(method, " \t\r\n()<>@,;:\\\"/[]?={}") || !strings.HasPrefix(path, "/") {
			return
		}
		req, err := http.NewRequest(method, "http://node"+path, bytes.NewReader([]byte(body)))
		if err != nil {
			return
		}
		if strings.HasPrefix(req.URL.Path, "/v1/events") && req.Method == "GET" {
			return // a stream: TestEventStream* cover it
		}
		req.Header.Set("Last-Event-ID", lastID)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %q: %d %s", method, path, w.Code, w.Body)
		}
		if w.Code >= 400 {
			var eb ErrorBody
			if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil || eb.Error == "" {
				t.Fatalf("%s %q: %d with %q, not an ErrorBody", method, path, w.Code, w.Body)
			}
		}
	})
}

// FuzzDecodePartition: the partition decoder never panics, and what it
// accepts names only well-formed stars.
func FuzzDecodePartition(f *testing.F) {
	f.Add([]byte(fmt.Sprintf(`{"peers":[%q],"cut":true}`, interfaces.DevStar("a"))))
	f.Add([]byte(`{"peers":[],"cut":false}`))
	f.Add([]byte(`{"peers":["x"]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		peers, _, err := DecodePartition(body)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field == "" {
				t.Fatalf("error %v names no field", err)
			}
			return
		}
		for _, p := range peers {
			if _, err := interfaces.ParseStarID(p.String()); err != nil {
				t.Fatalf("accepted %s", p)
			}
		}
	})
}
