package api

import (
	"net"
	"net/http"
	"strconv"
	"sync"
)

// DefaultMaxSubmitsPerClient is how many submissions (POST /v1/tx and
// /v1/txs) one client address may have in flight at once unless
// Options.MaxSubmitsPerClient says otherwise. The testnet's load
// generator keeps up to 64 in flight by default (--in-flight).
const DefaultMaxSubmitsPerClient = 256

// clientLimit counts each client address's submissions in flight, so one
// client (a script gone wrong, or a peer holding bodies open) cannot
// take every handler and the pool's lock from the others. Clients are
// told apart by address only: behind a proxy they are one client.
type clientLimit struct {
	mu     sync.Mutex
	max    int
	flight map[string]int
}

// acquire takes a slot for r's client; false when it has max in flight.
func (l *clientLimit) acquire(r *http.Request) (release func(), ok bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.flight == nil {
		l.flight = map[string]int{}
	}
	if l.flight[host] >= l.max {
		return nil, false
	}
	l.flight[host]++
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.flight[host]--; l.flight[host] <= 0 {
			delete(l.flight, host)
		}
	}, true
}

// capped runs a submission handler within its client's cap, or answers
// 429 with a Retry-After.
func (s *server) capped(w http.ResponseWriter, r *http.Request, h func()) {
	release, ok := s.submits.acquire(r)
	if !ok {
		w.Header().Set("Retry-After", strconv.Itoa(1))
		writeError(w, http.StatusTooManyRequests, "this client has %d submissions in flight, the most one client may; retry when one is answered", s.submits.max)
		return
	}
	defer release()
	h()
}
