package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/framework/pool"
	"github.com/constellation-chain/constellation/interfaces"
)

type fakeBackend struct {
	mu   sync.Mutex
	pool *pool.Pool
	txs  []*interfaces.Transaction
}

func (f *fakeBackend) Self() interfaces.StarID { return interfaces.DevStar("node") }
func (f *fakeBackend) Submit(tx *interfaces.Transaction) error {
	if err := f.pool.Add(tx); err != nil {
		return err
	}
	f.mu.Lock()
	f.txs = append(f.txs, tx)
	f.mu.Unlock()
	return nil
}
func (f *fakeBackend) Head() (uint64, interfaces.Hash) { return 1, interfaces.Hash{1} }
func (f *fakeBackend) Block(h uint64) (*interfaces.Block, error) {
	b := &interfaces.Block{Header: interfaces.BlockHeader{Height: h}}
	b.Seal()
	return b, nil
}
func (f *fakeBackend) Balance(interfaces.StarID) (uint64, error) { return 42, nil }
func (f *fakeBackend) ChainHead(interfaces.StarID) (uint64, interfaces.Hash, error) {
	return 3, interfaces.Hash{3}, nil
}
func (f *fakeBackend) PoolLen() int { return f.pool.Len() }

func newServer(t *testing.T) (*Client, *fakeBackend) {
	b := &fakeBackend{pool: pool.New(pool.Options{})}
	srv := httptest.NewServer(Handler(b, nil))
	t.Cleanup(srv.Close)
	return &Client{Base: srv.URL, HTTP: srv.Client()}, b
}

func TestSubmitAcceptsSignedTransactionAndRefusesDuplicates(t *testing.T) {
	c, b := newServer(t)
	tx, _ := interfaces.NewTransfer(interfaces.DevKey("a"), 1, interfaces.Hash{}, interfaces.DevStar("b"), 5)
	if err := c.Submit(context.Background(), tx); err != nil {
		t.Fatal(err)
	}
	if len(b.txs) != 1 || b.txs[0].ID() != tx.ID() {
		t.Fatal("transaction did not reach the backend intact")
	}
	var apiErr *Error
	if err := c.Submit(context.Background(), tx); !errors.As(err, &apiErr) || apiErr.Status != http.StatusConflict {
		t.Fatalf("duplicate: %v", err)
	}
	tx2, _ := interfaces.NewTransfer(interfaces.DevKey("a"), 2, tx.ID(), interfaces.DevStar("b"), 5)
	tx2.Sig[3] ^= 1
	if err := c.Submit(context.Background(), tx2); !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnprocessableEntity || !strings.Contains(apiErr.Message, "signature") {
		t.Fatalf("bad signature: %v", err)
	}
}

func TestBadBodiesGetClearErrors(t *testing.T) {
	c, _ := newServer(t)
	for _, body := range []string{"", "{", `{"tx":"zz"}`, `{"tx":"00"}`, `{"tx":"","extra":1}`, strings.Repeat("a", MaxBody+10)} {
		resp, err := c.HTTP.Post(c.Base+"/v1/tx", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 4 {
			t.Fatalf("body %.20q: status %d, want 4xx", body, resp.StatusCode)
		}
	}
}

func TestReads(t *testing.T) {
	c, _ := newServer(t)
	ctx := context.Background()
	st, err := c.Status(ctx)
	if err != nil || st.Height != 1 {
		t.Fatalf("status %+v %v", st, err)
	}
	a, err := c.Account(ctx, interfaces.DevStar("x"))
	if err != nil || a.Balance != 42 || a.Seq != 3 {
		t.Fatalf("account %+v %v", a, err)
	}
	if _, err := c.Block(ctx, 1); err != nil {
		t.Fatal(err)
	}
	var apiErr *Error
	if _, err := c.Block(ctx, 9); !errors.As(err, &apiErr) || apiErr.Status != 404 {
		t.Fatalf("missing block: %v", err)
	}
	if _, err := c.Account(ctx, interfaces.StarID{}); err != nil {
		t.Fatal(err)
	}
	resp, _ := c.HTTP.Get(c.Base + "/v1/accounts/nothex")
	if resp.StatusCode != 400 {
		t.Fatalf("bad star: %d", resp.StatusCode)
	}
	resp.Body.Close()
}

// FuzzDecodeSubmit checks the submit decoder never panics and accepts only
// bodies that hold a canonical transaction.
func FuzzDecodeSubmit(f *testing.F) {
	tx, _ := interfaces.NewTransfer(interfaces.DevKey("a"), 1, interfaces.Hash{}, interfaces.DevStar("b"), 5)
	f.Add([]byte(fmt.Sprintf(`{"tx":"%x"}`, tx.Encode())))
	f.Add([]byte(`{"tx":""}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := DecodeSubmit(body)
		if err == nil && got == nil {
			t.Fatal("nil transaction without error")
		}
	})
}

// TestSubmitRefusesBytesAfterTheObject: a valid transaction followed by
// garbage or a second value is a malformed body (the outside report: it
// was accepted and committed).
func TestSubmitRefusesBytesAfterTheObject(t *testing.T) {
	tx, _ := interfaces.NewTransfer(interfaces.DevKey("a"), 1, interfaces.Hash{}, interfaces.DevStar("b"), 5)
	good := fmt.Sprintf(`{"tx":"%x"}`, tx.Encode())
	if _, err := DecodeSubmit([]byte(good + " \n\t")); err != nil {
		t.Fatalf("trailing white space refused: %v", err)
	}
	for _, body := range []string{good + " GARBAGE", good + good, good + " {}", good + "]"} {
		if _, err := DecodeSubmit([]byte(body)); err == nil {
			t.Errorf("accepted %q", body[len(good):])
		}
	}
}

// TestIncompleteBodiesDoNotHoldConnections: a client that sends headers
// and part of a body, then nothing, is disconnected once the read timeout
// passes (the outside report: 300 such connections stayed open).
func TestIncompleteBodiesDoNotHoldConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(http.NotFoundHandler(), Timeouts{Header: time.Second, Read: 300 * time.Millisecond, Write: time.Second, Idle: time.Second})
	go srv.Serve(ln)
	defer srv.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/tx HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"tx\":")
	conn.SetReadDeadline(time.Now().Add(10 * time.Second)) // a bound for the test, not a measurement
	buf := make([]byte, 512)
	for {
		if _, err := conn.Read(buf); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("the server still held the connection after 10 s")
			}
			return // closed by the server
		}
	}
}

type recordingSwitch struct{ calls int }

func (r *recordingSwitch) SetPartitioned([]interfaces.StarID, bool) error { r.calls++; return nil }

// TestNodeCannotPartitionItself: the debug partition endpoint refuses the
// node's own id (the outside report: a node could cut itself off).
func TestNodeCannotPartitionItself(t *testing.T) {
	b := &fakeBackend{pool: pool.New(pool.Options{})}
	sw := &recordingSwitch{}
	srv := httptest.NewServer(Handler(b, sw))
	defer srv.Close()
	for body, want := range map[string]int{
		fmt.Sprintf(`{"peers":[%q],"cut":true}`, b.Self()):                    http.StatusBadRequest,
		fmt.Sprintf(`{"peers":[%q],"cut":true}`, interfaces.DevStar("other")): http.StatusOK,
	} {
		resp, err := http.Post(srv.URL+"/v1/debug/partition", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: status %d, want %d", body, resp.StatusCode, want)
		}
	}
	if sw.calls != 1 {
		t.Fatalf("switch called %d times, want once (for the other peer)", sw.calls)
	}
}

// candidateBackend keeps a cluster's chain: it answers candidacies.
type candidateBackend struct{ *fakeBackend }

func (candidateBackend) Candidacy(s interfaces.StarID) (Candidacy, error) {
	if s == interfaces.DevStar("elsewhere") {
		return Candidacy{}, fmt.Errorf("%w: no cluster here", ErrNotHere)
	}
	return Candidacy{Star: s.String(), Cluster: 1, Standing: true, Seq: 2, Last: interfaces.Hash{2}.String()}, nil
}

// GET /v1/candidacy/{star}: answered by a node that keeps a cluster's
// chain, 421 when the backend says it keeps none, 404 from a backend that
// cannot answer at all, 400 for a bad star.
func TestCandidacyReads(t *testing.T) {
	c, _ := newServer(t)
	ctx := context.Background()
	var apiErr *Error
	if _, err := c.Candidacy(ctx, interfaces.DevStar("x")); !errors.As(err, &apiErr) || apiErr.Status != 404 {
		t.Fatalf("a backend without candidacies: %v", err)
	}
	srv := httptest.NewServer(Handler(candidateBackend{&fakeBackend{pool: pool.New(pool.Options{})}}, nil))
	t.Cleanup(srv.Close)
	c = &Client{Base: srv.URL, HTTP: srv.Client()}
	got, err := c.Candidacy(ctx, interfaces.DevStar("x"))
	if err != nil || got.Cluster != 1 || !got.Standing || got.Seq != 2 {
		t.Fatalf("candidacy %+v %v", got, err)
	}
	if _, err := c.Candidacy(ctx, interfaces.DevStar("elsewhere")); !errors.As(err, &apiErr) || apiErr.Status != 421 {
		t.Fatalf("a node without the cluster: %v", err)
	}
	resp, _ := c.HTTP.Get(c.Base + "/v1/candidacy/nothex")
	if resp.StatusCode != 400 {
		t.Fatalf("bad star: %d", resp.StatusCode)
	}
	resp.Body.Close()
}
