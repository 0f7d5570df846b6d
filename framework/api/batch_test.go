package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/constellation-chain/constellation/framework/pool"
	"github.com/constellation-chain/constellation/interfaces"
)

// chain returns n transfers of one sender, each following the previous.
func chain(t testing.TB, sender string, n int) []*interfaces.Transaction {
	t.Helper()
	var out []*interfaces.Transaction
	prev := interfaces.Hash{}
	for i := 1; i <= n; i++ {
		tx, err := interfaces.NewTransfer(interfaces.DevKey(sender), uint64(i), prev, interfaces.DevStar("to"), 1)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tx)
		prev = tx.ID()
	}
	return out
}

func batchBody(entries ...string) string {
	b, _ := json.Marshal(SubmitBatchRequest{Txs: entries})
	return string(b)
}

func hexOf(tx *interfaces.Transaction) string { return fmt.Sprintf("%x", tx.Encode()) }

// TestBatchOfGoodTransactionsIsAcceptedInOrder: every transaction of a
// well-formed batch reaches the node, in the batch's order, and each
// result carries its id.
func TestBatchOfGoodTransactionsIsAcceptedInOrder(t *testing.T) {
	c, b := newServer(t)
	txs := chain(t, "a", 5)
	res, err := c.SubmitBatch(context.Background(), txs)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(txs) || len(b.txs) != len(txs) {
		t.Fatalf("%d results, %d submitted; want %d", len(res), len(b.txs), len(txs))
	}
	for i, r := range res {
		if !r.OK() || r.ID != txs[i].ID().String() || r.Error != "" {
			t.Errorf("result %d = %+v, want accepted with id %s", i, r, txs[i].ID())
		}
		if b.txs[i].ID() != txs[i].ID() {
			t.Errorf("submitted %d out of order", i)
		}
	}
}

// TestMixedBatchGetsOneResultPerTransaction: a batch with good and bad
// entries is answered 200 with each entry's own outcome, with the status
// POST /v1/tx would give it alone; the bad ones do not stop the good.
func TestMixedBatchGetsOneResultPerTransaction(t *testing.T) {
	c, b := newServer(t)
	txs := chain(t, "a", 3)
	badSig := chain(t, "b", 1)[0]
	badSig.Sig[0] ^= 1
	if err := c.Submit(context.Background(), txs[2]); err != nil { // makes txs[2] a duplicate
		t.Fatal(err)
	}
	body := batchBody(hexOf(txs[0]), "zz", hexOf(badSig), "00", hexOf(txs[2]), hexOf(txs[1]))
	resp, err := c.HTTP.Post(c.Base+"/v1/txs", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	var got SubmitBatchResponse
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		status int
		id     string
		text   string
	}{
		{http.StatusAccepted, txs[0].ID().String(), ""},
		{http.StatusBadRequest, "", "txs[1]: tx is not hex"},
		{http.StatusUnprocessableEntity, badSig.ID().String(), "signature"},
		{http.StatusBadRequest, "", "txs[3]"},
		{http.StatusConflict, txs[2].ID().String(), "already in the pool"},
		{http.StatusAccepted, txs[1].ID().String(), ""},
	}
	if len(got.Results) != len(want) || got.Accepted != 2 {
		t.Fatalf("got %d results, %d accepted; want %d, 2: %+v", len(got.Results), got.Accepted, len(want), got)
	}
	for i, w := range want {
		r := got.Results[i]
		if r.Status != w.status || r.ID != w.id || !strings.Contains(r.Error, w.text) || (w.text == "") != (r.Error == "") {
			t.Errorf("result %d = %+v, want status %d id %q error containing %q", i, r, w.status, w.id, w.text)
		}
	}
	if len(b.txs) != 3 { // txs[2] alone, then txs[0] and txs[1]
		t.Fatalf("backend holds %d transactions, want 3", len(b.txs))
	}
}

// TestBatchAgainstAFullPoolSays503PerTransaction: a transaction a full
// pool refuses gets the status a client retries on.
func TestBatchAgainstAFullPoolSays503PerTransaction(t *testing.T) {
	b := &fakeBackend{pool: pool.New(pool.Options{MaxTxs: 1})}
	srv := httptest.NewServer(Handler(b, nil))
	defer srv.Close()
	c := &Client{Base: srv.URL, HTTP: srv.Client()}
	res, err := c.SubmitBatch(context.Background(), chain(t, "a", 2))
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].OK() || res[1].Status != http.StatusServiceUnavailable {
		t.Fatalf("results %+v, want 202 then 503", res)
	}
}

// TestBatchBodiesOutsideTheBoundsAreRefusedWhole: too many transactions
// or too many bytes is 413 with a JSON error, and nothing is submitted.
func TestBatchBodiesOutsideTheBoundsAreRefusedWhole(t *testing.T) {
	c, b := newServer(t)
	one := hexOf(chain(t, "a", 1)[0])
	entries := make([]string, MaxBatch+1)
	for i := range entries {
		entries[i] = one
	}
	for name, body := range map[string]string{
		"too many transactions": batchBody(entries...),
		"too many bytes":        batchBody(strings.Repeat("0", MaxBatchBody)),
	} {
		code, msg := post(t, c, "/v1/txs", body)
		if code != http.StatusRequestEntityTooLarge || msg == "" {
			t.Errorf("%s: status %d error %q, want 413 with an error", name, code, msg)
		}
	}
	if len(b.txs) != 0 {
		t.Fatalf("%d transactions submitted from refused bodies", len(b.txs))
	}
	entries = entries[:MaxBatch]
	if code, msg := post(t, c, "/v1/txs", batchBody(entries...)); code != http.StatusOK {
		t.Fatalf("a batch of exactly %d: status %d %s", MaxBatch, code, msg)
	}
}

// TestMalformedBatchBodiesGetClearErrors: each malformed body is a 400
// whose JSON error names the problem.
func TestMalformedBatchBodiesGetClearErrors(t *testing.T) {
	c, b := newServer(t)
	good := batchBody(hexOf(chain(t, "a", 1)[0]))
	for body, want := range map[string]string{
		"":                         "body is not",
		"{":                        "body is not",
		"[]":                       "body is not",
		`{"txs":"00"}`:             "body is not",
		`{"txs":[1]}`:              "body is not",
		`{}`:                       "txs: the list is empty",
		`{"txs":null}`:             "txs: the list is empty",
		`{"txs":[]}`:               "txs: the list is empty",
		`{"txs":["00"],"tx":"00"}`: `unknown field "tx"`,
		good + " GARBAGE":          "bytes after the JSON object",
		good + good:                "second JSON value",
	} {
		code, msg := post(t, c, "/v1/txs", body)
		if code != http.StatusBadRequest || !strings.Contains(msg, want) {
			t.Errorf("body %.30q: status %d error %q, want 400 naming %q", body, code, msg, want)
		}
	}
	if len(b.txs) != 0 {
		t.Fatalf("%d transactions submitted from malformed bodies", len(b.txs))
	}
}

// post sends body and returns the status and the JSON error text.
func post(t *testing.T, c *Client, path, body string) (int, string) {
	t.Helper()
	resp, err := c.HTTP.Post(c.Base+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var eb errorBody
	json.Unmarshal(raw, &eb)
	return resp.StatusCode, eb.Error
}

// batchBackend takes batches whole.
type batchBackend struct {
	*fakeBackend
	calls int
}

func (b *batchBackend) SubmitBatch(txs []*interfaces.Transaction) []error {
	b.calls++
	errs := b.pool.AddBatch(txs)
	for i, err := range errs {
		if err == nil {
			b.txs = append(b.txs, txs[i])
		}
	}
	return errs
}

// TestABatchSubmitterGetsTheBatchInOneCall: a node that takes batches
// gets the decodable transactions of a request in one call, in order.
func TestABatchSubmitterGetsTheBatchInOneCall(t *testing.T) {
	b := &batchBackend{fakeBackend: &fakeBackend{pool: pool.New(pool.Options{})}}
	srv := httptest.NewServer(Handler(b, nil))
	defer srv.Close()
	c := &Client{Base: srv.URL, HTTP: srv.Client()}
	txs := chain(t, "a", 4)
	res, err := c.SubmitBatch(context.Background(), txs)
	if err != nil {
		t.Fatal(err)
	}
	if b.calls != 1 || len(b.txs) != 4 {
		t.Fatalf("%d calls, %d transactions; want 1 call with 4", b.calls, len(b.txs))
	}
	for i, r := range res {
		if !r.OK() || b.txs[i].ID() != txs[i].ID() {
			t.Fatalf("result %d: %+v", i, r)
		}
	}
}

// TestClientKeepsItsConnectionAlive: successive batches over a client
// with NewTransport travel over one connection.
func TestClientKeepsItsConnectionAlive(t *testing.T) {
	b := &fakeBackend{pool: pool.New(pool.Options{})}
	srv := httptest.NewUnstartedServer(Handler(b, nil))
	var mu sync.Mutex
	conns := 0
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			conns++
			mu.Unlock()
		}
	}
	srv.Start()
	defer srv.Close()
	tr := NewTransport(4)
	defer tr.CloseIdleConnections()
	c := NewClientWith(strings.TrimPrefix(srv.URL, "http://"), &http.Client{Transport: tr})
	txs := chain(t, "a", 20)
	for i := 0; i < len(txs); i += 2 {
		if _, err := c.SubmitBatch(context.Background(), txs[i:i+2]); err != nil {
			t.Fatal(err)
		}
	}
	var apiErr *Error
	if _, err := c.SubmitBatch(context.Background(), nil); !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest {
		t.Fatalf("empty batch: %v", err)
	}
	if _, err := c.SubmitBatch(context.Background(), txs[:1]); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if conns != 1 {
		t.Fatalf("%d connections for sequential requests, want 1", conns)
	}
}

// FuzzDecodeSubmitBatch checks the batch decoder never panics and either
// refuses the body whole or gives each listed entry exactly one of a
// transaction and an error, within the bound.
func FuzzDecodeSubmitBatch(f *testing.F) {
	txs := chain(f, "a", 2)
	f.Add([]byte(batchBody(hexOf(txs[0]), hexOf(txs[1]))))
	f.Add([]byte(batchBody(hexOf(txs[0]), "zz", "00")))
	f.Add([]byte(`{"txs":[]}`))
	f.Add([]byte(`{"txs":["00"],"x":1}`))
	f.Add([]byte(`{"txs":["00"]} {}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, errs, err := DecodeSubmitBatch(body)
		if err != nil {
			if got != nil || errs != nil {
				t.Fatal("entries returned with a whole-body error")
			}
			return
		}
		if len(got) == 0 || len(got) > MaxBatch || len(got) != len(errs) {
			t.Fatalf("%d transactions and %d errors", len(got), len(errs))
		}
		for i := range got {
			if (got[i] == nil) == (errs[i] == nil) {
				t.Fatalf("entry %d: transaction %v, error %v; want exactly one", i, got[i] != nil, errs[i])
			}
			if errs[i] != nil && !strings.HasPrefix(errs[i].Error(), fmt.Sprintf("txs[%d]: ", i)) {
				t.Fatalf("entry %d's error does not name it: %v", i, errs[i])
			}
		}
	})
}
