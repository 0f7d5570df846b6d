package api

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/framework/pool"
)

// TestOneClientHoldsAtMostItsCapOfSubmissions: a client with its cap of
// submissions in flight (here two whose bodies never finish) is answered
// 429 with a Retry-After for the next, at once; once those end it may
// submit again.
func TestOneClientHoldsAtMostItsCapOfSubmissions(t *testing.T) {
	b := &fakeBackend{pool: pool.New(pool.Options{})}
	srv := httptest.NewServer(NewHandler(b, Options{MaxSubmitsPerClient: 2}))
	t.Cleanup(srv.Close)
	// Two submissions whose bodies never finish: each connection sends
	// its headers and part of the body it announces, then nothing.
	addr := strings.TrimPrefix(srv.URL, "http://")
	var slow []net.Conn
	t.Cleanup(func() {
		for _, c := range slow {
			c.Close()
		}
	})
	for _, path := range []string{"/v1/tx", "/v1/txs"} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		slow = append(slow, c)
		if _, err := fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{", path, addr); err != nil {
			t.Fatal(err)
		}
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
	// The slow clients give up; their slots are free again.
	for _, c := range slow {
		c.Close()
	}
	for until := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		code, _ := post()
		if code == http.StatusBadRequest {
			break
		}
		if code != http.StatusTooManyRequests || time.Now().After(until) {
			t.Fatalf("after the slow clients left, a submission got %d, want 400", code)
		}
	}
}
