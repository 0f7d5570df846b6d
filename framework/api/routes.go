package api

import (
	"net/http"
	"reflect"
	"time"
)

// Route is one endpoint of the API. The routes below are the one table the
// mux is built from and /openapi.json is written from, so the document
// lists exactly what is served.
type Route struct {
	Method string // GET or POST
	// Path is the ServeMux pattern's path ("/v1/blocks/{height}"), which is
	// also the OpenAPI path template.
	Path        string
	Summary     string
	Description string
	Tag         string
	Params      []Param
	// Body is the request body's type (nil: none).
	Body reflect.Type
	// OK is the success status, Answer its body's type (nil with
	// ContentType set: not JSON).
	OK          int
	Answer      reflect.Type
	ContentType string // "" means application/json
	// Errors are the error statuses it answers, each with an ErrorBody
	// unless ErrorAnswers names another type for it.
	Errors       []int
	ErrorAnswers map[int]reflect.Type

	// serves reports whether this node serves the route (nil: always).
	serves func(*server) bool
	handle func(*server, http.ResponseWriter, *http.Request)
}

// Param is a path or query parameter.
type Param struct {
	Name, In, Description string
	Type                  string // OpenAPI scalar type: string, integer, boolean
	Required              bool
}

// Pattern is the route's ServeMux pattern.
func (r Route) Pattern() string { return r.Method + " " + r.Path }

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

func pathParam(name, desc, typ string) Param {
	return Param{Name: name, In: "path", Description: desc, Type: typ, Required: true}
}

func queryParam(name, desc, typ string) Param {
	return Param{Name: name, In: "query", Description: desc, Type: typ}
}

var (
	starParam = pathParam("star", "a star id, ed25519:<64 hex digits>", "string")
	hashDesc  = "64 hex digits"
)

// routes is the API (set in init: the document route reads the table).
var routes []Route

func init() { routes = table() }

func table() []Route {
	return append([]Route{
		{Method: "POST", Path: "/v1/tx", Tag: "transactions", Summary: "submit one signed transaction",
			Description: "The body holds the transaction's canonical encoding in hex. 202 once the node's pool (or, for another cluster's account, its cluster's gossip topic) took it; 409 a duplicate (the pool still holds it, and the node gossips it again); 422 refused (bad signature, stale sequence); 429 this client has too many submissions in flight; 503 the pool is full, try later.",
			Body:        typeOf[SubmitRequest](), OK: http.StatusAccepted, Answer: typeOf[SubmitResponse](), Errors: []int{400, 409, 413, 422, 429, 503},
			handle: func(s *server, w http.ResponseWriter, r *http.Request) { s.capped(w, r, func() { submit(s.b, w, r) }) }},
		{Method: "POST", Path: "/v1/txs", Tag: "transactions", Summary: "submit a batch of signed transactions",
			Description: "Up to 1024 transactions (8 MiB of body). 200 with one result per transaction, in order, each with the status POST /v1/tx would have given it alone; a body that is not a batch is refused whole; 429 this client has too many submissions in flight.",
			Body:        typeOf[SubmitBatchRequest](), OK: http.StatusOK, Answer: typeOf[SubmitBatchResponse](), Errors: []int{400, 413, 429},
			handle: func(s *server, w http.ResponseWriter, r *http.Request) {
				s.capped(w, r, func() { submitBatch(s.b, w, r) })
			}},
		{Method: "GET", Path: "/v1/txs/{id}", Tag: "transactions", Summary: "a committed transaction by id",
			Description: "Looked up in the chains this node keeps; 404 when none holds it (it may be pending, or in another cluster's chain).",
			Params:      []Param{pathParam("id", "the transaction id, "+hashDesc, "string")},
			OK:          http.StatusOK, Answer: typeOf[TxRecord](), Errors: []int{400, 404},
			handle: (*server).getTx},
		{Method: "GET", Path: "/v1/txs/{id}/status", Tag: "transactions", Summary: "where a transaction stands: committed, pending, dropped (with the reason) or unknown",
			Description: "committed: a chain this node keeps holds it (chain, height); pending: this node's pool holds it; dropped: this node's pool dropped it without its being committed, and reason says why (another transaction took its sequence, it does not chain from its sender's committed head, it waited behind a gap in its sender's sequence, its sender's balance stayed short for 256 decided blocks, or the ledger refused it); unknown: none of these (never seen here, forgotten among more than 8192 drops, or another cluster's).",
			Params:      []Param{pathParam("id", "the transaction id, "+hashDesc, "string")},
			OK:          http.StatusOK, Answer: typeOf[TxStatus](), Errors: []int{400},
			handle: (*server).getTxStatus},
		{Method: "GET", Path: "/v1/status", Tag: "node", Summary: "the node's head, pool and place in the hierarchy",
			OK: http.StatusOK, Answer: typeOf[Status](), handle: (*server).getStatus},
		{Method: "GET", Path: "/v1/health", Tag: "node", Summary: "whether the node is healthy, and why",
			Description: "Healthy when, for every chain the node keeps, its height rose within the last 20 block intervals (at least 5 s), its head matches the heads a majority of its peers announced, and it refused no block in the last 5 minutes. 200 with the reasons when healthy, 503 with the failing reasons when not.",
			OK:          http.StatusOK, Answer: typeOf[Health](), Errors: []int{503}, ErrorAnswers: map[int]reflect.Type{503: typeOf[Health]()},
			handle: (*server).getHealth},
		{Method: "GET", Path: "/v1/blocks/{height}", Tag: "chain", Summary: "a block of the node's primary chain",
			Params: []Param{pathParam("height", "block height, from 1", "integer")},
			OK:     http.StatusOK, Answer: typeOf[BlockSummary](), Errors: []int{400, 404}, handle: (*server).getBlock},
		{Method: "GET", Path: "/v1/blackholes/{height}", Tag: "chain", Summary: "a black hole (galaxy block), with its checkpoints and beacon",
			Description: "Served by galaxy members; other nodes answer 421.",
			Params:      []Param{pathParam("height", "black hole height, from 1", "integer")},
			OK:          http.StatusOK, Answer: typeOf[BlackHole](), Errors: []int{400, 404, 421}, handle: (*server).getBlackHole},
		{Method: "GET", Path: "/v1/accounts/{star}", Tag: "accounts", Summary: "a star's balance and chain head",
			Description: "421 when another cluster keeps the account.",
			Params:      []Param{starParam},
			OK:          http.StatusOK, Answer: typeOf[Account](), Errors: []int{400, 421}, handle: (*server).getAccount},
		{Method: "GET", Path: "/v1/accounts/{star}/chain", Tag: "accounts", Summary: "a star's own chain of transactions, newest first",
			Params: []Param{starParam,
				queryParam("from", "start at this transaction id ("+hashDesc+"; default: the chain's head); pass the previous answer's next", "string"),
				queryParam("limit", "how many, 1 to 200 (default 20)", "integer")},
			OK: http.StatusOK, Answer: typeOf[StarChain](), Errors: []int{400, 404, 421}, handle: (*server).getChain},
		{Method: "GET", Path: "/v1/candidacy/{star}", Tag: "clusters", Summary: "a star's candidacy for the node's cluster",
			Params: []Param{starParam},
			OK:     http.StatusOK, Answer: typeOf[Candidacy](), Errors: []int{400, 404, 421}, handle: (*server).getCandidacy},
		{Method: "GET", Path: "/v1/clusters", Tag: "clusters", Summary: "the clusters this node knows, with their delegates, and the galaxy",
			OK: http.StatusOK, Answer: typeOf[Clusters](), Errors: []int{404}, handle: (*server).getClusters},
		{Method: "GET", Path: "/v1/clusters/{cluster}", Tag: "clusters", Summary: "one cluster's delegates",
			Params: []Param{pathParam("cluster", "cluster number, from 0", "integer")},
			OK:     http.StatusOK, Answer: typeOf[ClusterInfo](), Errors: []int{400, 404}, handle: (*server).getCluster},
		{Method: "GET", Path: "/v1/memes", Tag: "reputation", Summary: "the scores of the stars this node knows of",
			OK: http.StatusOK, Answer: typeOf[MemeList](), Errors: []int{404}, handle: (*server).getMemes},
		{Method: "GET", Path: "/v1/memes/{star}", Tag: "reputation", Summary: "a star's Proof-of-Meme score, with ?explain=true its features",
			Params: []Param{starParam, queryParam("explain", "true: add the meme's features, penalty and bucket (built-in reputation only)", "boolean")},
			OK:     http.StatusOK, Answer: typeOf[Meme](), Errors: []int{400, 404}, handle: (*server).getMeme},

		{Method: "GET", Path: "/v1/events", Tag: "events", Summary: "a Server-Sent Events stream of blocks, black holes and faults",
			Description: "Events are `block` (a block of a cluster chain), `blackhole` (a galaxy block) and `fault` (provable misbehaviour a committed block carries), each a JSON StreamEvent. Every event's id is a cursor; a client that reconnects with Last-Event-ID (or ?last_event_id=) gets every event after it, from memory when recent, else from the store. Without one the stream starts at the current heads.",
			Params: []Param{
				{Name: "Last-Event-ID", In: "header", Description: "resume after this event id", Type: "string"},
				queryParam("last_event_id", "the same, for clients that cannot set headers (the header wins)", "string")},
			OK: http.StatusOK, Answer: typeOf[StreamEvent](), ContentType: "text/event-stream", Errors: []int{400, 404},
			handle: (*server).getEvents},
		{Method: "GET", Path: "/v1/network", Tag: "node", Summary: "the network's nodes and their API addresses, as this node's manifest names them",
			Description: "What the dashboard reads to know whom to ask. A node given no manifest's nodes answers with itself only (source \"self\"). An unspecified host (0.0.0.0) in an address is replaced by the host the request reached this node at.",
			OK:          http.StatusOK, Answer: typeOf[NetworkInfo](), handle: (*server).getNetwork},
		{Method: "GET", Path: "/dashboard/", Tag: "dashboard", Summary: "the dashboard: an HTML page (and its script and style sheet) that watches the network through this API",
			Description: "index.html at /dashboard/, and dashboard.js and dashboard.css beside it, embedded in the node. The page polls every node's /v1/status, /v1/health and /metrics and follows this node's /v1/events; docs/api.md says what it shows.",
			OK:          http.StatusOK, ContentType: "text/html; charset=utf-8", Errors: []int{404},
			handle: (*server).getDashboard},
		{Method: "GET", Path: "/openapi.json", Tag: "node", Summary: "this document",
			OK: http.StatusOK, Answer: typeOf[map[string]any](), handle: (*server).getOpenAPI},
		{Method: "GET", Path: "/metrics", Tag: "node", Summary: "Prometheus metrics, in the text exposition format",
			Description: "docs/operators.md lists the series.",
			OK:          http.StatusOK, ContentType: "text/plain; version=0.0.4",
			serves: func(s *server) bool { return s.metrics != nil },
			handle: func(s *server, w http.ResponseWriter, r *http.Request) { s.metrics.ServeHTTP(w, r) }},
		{Method: "POST", Path: "/v1/debug/partition", Tag: "debug", Summary: "cut or heal this node's links to peers (fault injection)",
			Description: "Served only by a node started with --fault-injection, for partition tests.",
			Body:        typeOf[PartitionRequest](), OK: http.StatusOK, Answer: typeOf[PartitionRequest](), Errors: []int{400, 500},
			serves: func(s *server) bool { return s.faults != nil },
			handle: (*server).partition},
	}, contractRoutes()...)
}

// Routes returns the API's routes, in the order the document lists them.
func Routes() []Route { return append([]Route(nil), routes...) }

// Options configure a Handler.
type Options struct {
	// Faults, when set, enables POST /v1/debug/partition.
	Faults FaultSwitch
	// EventMemory is how many recent blocks of each chain the event
	// stream keeps in memory for clients that reconnect (default 256);
	// a client further behind is served from the store.
	EventMemory int
	// Heartbeat is how often an idle event stream sends a comment to keep
	// proxies from closing it (default 15 s).
	Heartbeat time.Duration
	// Now is the clock of the health check (default time.Now).
	Now func() time.Time
	// Network is what GET /v1/network answers: the nodes of the manifest
	// (nil: the node answers with itself only). Their API addresses are
	// also origins whose pages may read GET answers (CORS), besides
	// loopback ones.
	Network *NetworkInfo
	// MaxSubmitsPerClient caps the submissions one client address has in
	// flight; more are answered 429 (default DefaultMaxSubmitsPerClient).
	MaxSubmitsPerClient int
}

// server is one Handler's state.
type server struct {
	b       Backend
	faults  FaultSwitch
	metrics http.Handler
	opts    Options
	mux     *http.ServeMux
	// served are the patterns registered, in route order.
	served []string
	hub    *hub
	// submits caps each client's submissions in flight.
	submits clientLimit
}

func buildServer(b Backend, opts Options) *server {
	if opts.EventMemory <= 0 {
		opts.EventMemory = 256
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 15 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &server{b: b, faults: opts.Faults, opts: opts, mux: http.NewServeMux()}
	s.submits.max = opts.MaxSubmitsPerClient
	if s.submits.max <= 0 {
		s.submits.max = DefaultMaxSubmitsPerClient
	}
	if m, ok := b.(Metered); ok {
		s.metrics = m.MetricsHandler()
	}
	if st, ok := b.(Streamer); ok {
		s.hub = newHub(st.EventSources(), opts.EventMemory)
	}
	for _, rt := range routes {
		if rt.serves != nil && !rt.serves(s) {
			continue
		}
		h := rt.handle
		s.mux.HandleFunc(rt.Pattern(), func(w http.ResponseWriter, r *http.Request) { h(s, w, r) })
		s.served = append(s.served, rt.Pattern())
	}
	s.mux.HandleFunc("/", s.unknown)
	return s
}

// ServeHTTP answers every request; a panic in a handler is answered 500
// with a JSON error instead of dropping the connection.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			writeError(w, http.StatusInternalServerError, "internal error answering %s %s: %v", r.Method, r.URL.Path, v)
		}
	}()
	s.cors(w, r)
	s.mux.ServeHTTP(w, r)
}

// unknown answers what no route matches: 405 with Allow when the path is
// served for another method, else 404; both as JSON.
func (s *server) unknown(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		if m == r.Method {
			continue
		}
		r2 := r.Clone(r.Context())
		r2.Method = m
		if _, pat := s.mux.Handler(r2); pat != "/" && pat != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		for _, m := range allow {
			w.Header().Add("Allow", m)
		}
		writeJSON(w, http.StatusMethodNotAllowed, ErrorBody{Error: r.Method + " " + r.URL.Path + " is not allowed; " + allowText(allow) + " is", Field: "method"})
		return
	}
	hint := "; GET /openapi.json lists the API"
	if r.URL.Path == "/" {
		hint += ", and the dashboard is at /dashboard/"
	}
	writeJSON(w, http.StatusNotFound, ErrorBody{Error: "no route " + r.Method + " " + clip(r.URL.Path) + hint, Field: "path"})
}

func allowText(ms []string) string {
	out := ms[0]
	for _, m := range ms[1:] {
		out += " or " + m
	}
	return out
}
