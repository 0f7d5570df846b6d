package api

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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

// Error is a non-2xx answer.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("node API: %d: %s", e.Status, e.Message) }

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
		return &Error{Status: resp.StatusCode, Message: eb.Error}
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
