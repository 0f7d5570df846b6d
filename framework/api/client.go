package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/constellation-chain/constellation/interfaces"
)

// Client talks to one node's API.
type Client struct {
	Base string // e.g. "http://127.0.0.1:8001"
	HTTP *http.Client
}

// NewClient returns a client for the node API at addr (host:port), over
// Go's default transport (which keeps at most two idle connections to a
// host: enough for a wallet, not for a load generator; see NewTransport).
func NewClient(addr string) *Client {
	return &Client{Base: "http://" + addr, HTTP: &http.Client{Timeout: 10 * time.Second}}
}

// NewTransport returns an HTTP transport for a client that keeps up to
// conns requests in flight to each node API: it keeps that many
// connections to a host open between requests (Go's default keeps two,
// so a busier client opens and closes a connection per request), and
// drops an idle one before the node's own idle timeout
// (DefaultTimeouts.Idle) would. Share one among the clients of a process,
// as with any http.Transport.
func NewTransport(conns int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 0 // no bound across hosts; MaxIdleConnsPerHost bounds each
	t.MaxIdleConnsPerHost = conns
	t.MaxConnsPerHost = conns
	t.IdleConnTimeout = DefaultTimeouts.Idle - 10*time.Second
	t.DisableCompression = true // loopback and hex: compression costs more than it saves
	return t
}

// NewClientWith returns a client for the node API at addr over hc.
func NewClientWith(addr string, hc *http.Client) *Client {
	return &Client{Base: "http://" + addr, HTTP: hc}
}

// Error is a non-2xx answer: its status, and the ErrorBody's message and
// field.
type Error struct {
	Status  int
	Message string
	Field   string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("node API: %d: %s (field %s)", e.Status, e.Message, e.Field)
	}
	return fmt.Sprintf("node API: %d: %s", e.Status, e.Message)
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, body)
	if err != nil {
		return err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("node API %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("node API %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var eb errorBody
		json.Unmarshal(raw, &eb)
		if out != nil && resp.StatusCode == http.StatusServiceUnavailable && path == "/v1/health" {
			// An unhealthy node answers its Health, not an ErrorBody.
			if err := json.Unmarshal(raw, out); err == nil {
				return &Error{Status: resp.StatusCode, Message: "unhealthy"}
			}
		}
		return &Error{Status: resp.StatusCode, Message: eb.Error, Field: eb.Field}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("node API %s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

// Submit sends a signed transaction.
func (c *Client) Submit(ctx context.Context, tx *interfaces.Transaction) error {
	return c.do(ctx, http.MethodPost, "/v1/tx", SubmitRequest{Tx: hex.EncodeToString(tx.Encode())}, &SubmitResponse{})
}

// SubmitBatch sends signed transactions in one POST /v1/txs (at most
// MaxBatch). It returns one result per transaction, in order, when the
// node read the batch; an error (an *Error for a refused body) when
// none of them was submitted.
func (c *Client) SubmitBatch(ctx context.Context, txs []*interfaces.Transaction) ([]BatchResult, error) {
	req := SubmitBatchRequest{Txs: make([]string, len(txs))}
	for i, tx := range txs {
		req.Txs[i] = hex.EncodeToString(tx.Encode())
	}
	var resp SubmitBatchResponse
	if err := c.do(ctx, http.MethodPost, "/v1/txs", req, &resp); err != nil {
		return nil, err
	}
	if len(resp.Results) != len(txs) {
		return nil, fmt.Errorf("node API POST /v1/txs: %d results for %d transactions", len(resp.Results), len(txs))
	}
	return resp.Results, nil
}

// Status returns the node's head and pool size.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var s Status
	err := c.do(ctx, http.MethodGet, "/v1/status", nil, &s)
	return s, err
}

// Account returns a star's balance and chain head.
func (c *Client) Account(ctx context.Context, star interfaces.StarID) (Account, error) {
	var a Account
	err := c.do(ctx, http.MethodGet, "/v1/accounts/"+star.String(), nil, &a)
	return a, err
}

// Candidacy returns a star's candidacy for the node's cluster.
func (c *Client) Candidacy(ctx context.Context, star interfaces.StarID) (Candidacy, error) {
	var out Candidacy
	err := c.do(ctx, http.MethodGet, "/v1/candidacy/"+star.String(), nil, &out)
	return out, err
}

// Block returns the summary of the block at height.
func (c *Client) Block(ctx context.Context, height uint64) (BlockSummary, error) {
	var b BlockSummary
	err := c.do(ctx, http.MethodGet, fmt.Sprintf("/v1/blocks/%d", height), nil, &b)
	return b, err
}

// Partition cuts (or heals) the node's links to peers; the node must run
// with fault injection enabled.
func (c *Client) Partition(ctx context.Context, peers []interfaces.StarID, cut bool) error {
	req := PartitionRequest{Cut: cut}
	for _, p := range peers {
		req.Peers = append(req.Peers, p.String())
	}
	return c.do(ctx, http.MethodPost, "/v1/debug/partition", req, &PartitionRequest{})
}

// Tx returns a committed transaction by id.
func (c *Client) Tx(ctx context.Context, id interfaces.Hash) (TxRecord, error) {
	var out TxRecord
	err := c.do(ctx, http.MethodGet, "/v1/txs/"+id.String(), nil, &out)
	return out, err
}

// TxStatus returns where transaction id stands on the node: committed,
// pending, dropped (with the reason) or unknown.
func (c *Client) TxStatus(ctx context.Context, id interfaces.Hash) (TxStatus, error) {
	var out TxStatus
	err := c.do(ctx, http.MethodGet, "/v1/txs/"+id.String()+"/status", nil, &out)
	return out, err
}

// Chain returns up to limit of a star's transactions, newest first,
// starting at from (the chain's head when zero); limit 0 asks for the
// node's default. Pass the answer's Next as from for the older ones.
func (c *Client) Chain(ctx context.Context, star interfaces.StarID, from interfaces.Hash, limit int) (StarChain, error) {
	q := url.Values{}
	if !from.IsZero() {
		q.Set("from", from.String())
	}
	if limit > 0 {
		q.Set("limit", fmt.Sprint(limit))
	}
	path := "/v1/accounts/" + star.String() + "/chain"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out StarChain
	err := c.do(ctx, http.MethodGet, path, nil, &out)
	return out, err
}

// BlackHole returns the black hole at height (from a galaxy member).
func (c *Client) BlackHole(ctx context.Context, height uint64) (BlackHole, error) {
	var out BlackHole
	err := c.do(ctx, http.MethodGet, fmt.Sprintf("/v1/blackholes/%d", height), nil, &out)
	return out, err
}

// Memes returns the scores of the stars the node knows of.
func (c *Client) Memes(ctx context.Context) (MemeList, error) {
	var out MemeList
	err := c.do(ctx, http.MethodGet, "/v1/memes", nil, &out)
	return out, err
}

// Meme returns a star's score; with explain, its breakdown too.
func (c *Client) Meme(ctx context.Context, star interfaces.StarID, explain bool) (Meme, error) {
	path := "/v1/memes/" + star.String()
	if explain {
		path += "?explain=true"
	}
	var out Meme
	err := c.do(ctx, http.MethodGet, path, nil, &out)
	return out, err
}

// Clusters returns the clusters the node knows, with their delegates.
func (c *Client) Clusters(ctx context.Context) (Clusters, error) {
	var out Clusters
	err := c.do(ctx, http.MethodGet, "/v1/clusters", nil, &out)
	return out, err
}

// Cluster returns one cluster's delegates.
func (c *Client) Cluster(ctx context.Context, cluster uint32) (ClusterInfo, error) {
	var out ClusterInfo
	err := c.do(ctx, http.MethodGet, fmt.Sprintf("/v1/clusters/%d", cluster), nil, &out)
	return out, err
}

// Health returns the node's health. An unhealthy node's answer comes
// with an *Error of status 503; the Health returned then holds the
// failing reasons.
func (c *Client) Health(ctx context.Context) (Health, error) {
	var out Health
	err := c.do(ctx, http.MethodGet, "/v1/health", nil, &out)
	return out, err
}

// OpenAPI returns the node's OpenAPI document.
func (c *Client) OpenAPI(ctx context.Context) (map[string]any, error) {
	var out map[string]any
	err := c.do(ctx, http.MethodGet, "/openapi.json", nil, &out)
	return out, err
}

// Event is one event of the stream: its id (the cursor to resume after
// it), its type and its data.
type Event struct {
	ID   string
	Type string
	Data StreamEvent
}

// Events follows the node's event stream from after lastID ("" for from
// now on), calling fn with each event until ctx ends, fn returns an error
// (returned), or the connection ends (nil: call again with the last
// event's ID to resume without missing one). The client's HTTP timeout
// applies to the whole stream; use one without a timeout, or a context.
func (c *Client) Events(ctx context.Context, lastID string, fn func(Event) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+"/v1/events", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("node API GET /v1/events: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var eb errorBody
		json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&eb)
		return &Error{Status: resp.StatusCode, Message: eb.Error, Field: eb.Field}
	}
	return ReadEvents(resp.Body, fn)
}

// ReadEvents reads a text/event-stream body, calling fn with each event
// that has data; it returns nil at the end of the body.
func ReadEvents(r io.Reader, fn func(Event) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var ev Event
	var data []byte
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if data != nil {
				if err := json.Unmarshal(data, &ev.Data); err != nil {
					return fmt.Errorf("event %s: %w", ev.ID, err)
				}
				if err := fn(ev); err != nil {
					return err
				}
			}
			ev, data = Event{ID: ev.ID}, nil // the id carries over, as in EventSource
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "id:"):
			ev.ID = strings.TrimSpace(line[3:])
		case strings.HasPrefix(line, "event:"):
			ev.Type = strings.TrimSpace(line[6:])
		case strings.HasPrefix(line, "data:"):
			data = append(data, strings.TrimPrefix(line[5:], " ")...)
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
