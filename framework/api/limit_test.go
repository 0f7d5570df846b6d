package api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/framework/pool"
)

// TestOneClientHoldsAtMostItsCapOfSubmissions: a client with its cap of
// submissions in flight (here two whose bodies never finish) is answered
// 429 with a Retry-After for the next, at once; once those are answered
// it may submit again.
func TestOneClientHoldsAtMostItsCapOfSubmissions(t *testing.T) {
	b := &fakeBackend{pool: pool.New(pool.Options{})}
	srv := httptest.NewServer(NewHandler(b, Options{MaxSubmitsPerClient: 2}))
	t.Cleanup(srv.Close)
	var writers []*io.PipeWriter
	// On a failure the slow bodies end before the server closes, which
	// waits for them.
	t.Cleanup(func() {
		for _, w := range writers {
			w.Close()
		}
	})
	done := make(chan int, 2)
	for _, path := range []string{"/v1/tx", "/v1/txs"} {
		pr, pw := io.Pipe()
		writers = append(writers, pw)
		go func() {
			resp, err := http.Post(srv.URL+path, "application/json", pr)
			if err != nil {
				done <- 0
				return
			}
			resp.Body.Close()
			done <- resp.StatusCode
		}()
	}
	post := func() (int, http.Header) {
		resp, err := http.Post(srv.URL+"/v1/tx", "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return resp.StatusCode, resp.Header
	}
	for until := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		code, h := post()
		if code == http.StatusTooManyRequests {
			if h.Get("Retry-After") == "" {
				t.Fatal("429 without a Retry-After")
			}
			break
		}
		if code != http.StatusBadRequest || time.Now().After(until) {
			t.Fatalf("with two slow submissions in flight the third got %d, want 429", code)
		}
	}
	for _, w := range writers {
		io.WriteString(w, "{}")
		w.Close()
	}
	for range writers {
		if code := <-done; code != http.StatusBadRequest {
			t.Fatalf("a finished slow submission got %d, want 400 (its body is no transaction)", code)
		}
	}
	if code, _ := post(); code != http.StatusBadRequest {
		t.Fatalf("after the slow ones were answered, a submission got %d, want 400", code)
	}
}
