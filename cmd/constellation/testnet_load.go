package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/constellation-chain/constellation/framework/api"
	"github.com/constellation-chain/constellation/framework/loadgen"
	"github.com/constellation-chain/constellation/framework/node"
	"github.com/constellation-chain/constellation/framework/pool"
	"github.com/constellation-chain/constellation/interfaces"
)

// loadMeter lets the testnet's display read the load generator's counts
// once it runs. The zero value (or nil) reads as no load.
type loadMeter struct {
	d atomic.Pointer[loadgen.Driver]
}

func (m *loadMeter) set(d *loadgen.Driver) {
	if m != nil {
		m.d.Store(d)
	}
}

// stats returns the driver's counts, false before it runs.
func (m *loadMeter) stats() (loadgen.Stats, bool) {
	if m == nil {
		return loadgen.Stats{}, false
	}
	d := m.d.Load()
	if d == nil {
		return loadgen.Stats{}, false
	}
	return d.Stats(), true
}

// loadOptions are the Driver options the testnet's flags set.
func loadOptions(c *cli.Context, rate float64) (loadgen.Options, error) {
	o := loadgen.Options{Rate: rate, MaxBatch: c.Int("batch"), MaxInFlight: c.Int("in-flight")}
	if o.MaxBatch < 1 || o.MaxBatch > api.MaxBatch {
		return o, fmt.Errorf("--batch %d: want 1 to %d transactions", o.MaxBatch, api.MaxBatch)
	}
	if o.MaxInFlight < 1 || o.MaxInFlight > 1024 {
		return o, fmt.Errorf("--in-flight %d: want 1 to 1024 batches", o.MaxInFlight)
	}
	return o, nil
}

// printLoad writes the load generator's account of a run: what it
// offered, what the nodes accepted, what the chain committed, and which
// of them held the rate down.
func printLoad(out io.Writer, s loadgen.Stats) {
	committed := "not counted"
	if s.CommittedKnown {
		committed = fmt.Sprintf("%d (%.1f tx/s)", s.Committed, s.Rate(s.Committed))
	}
	fmt.Fprintf(out, "load over %.1fs at --rate %.0f: offered %d (%.1f tx/s), accepted %d (%.1f tx/s), committed %s\n",
		s.Elapsed.Seconds(), s.Target, s.Offered, s.Rate(s.Offered), s.Accepted, s.Rate(s.Accepted), committed)
	fmt.Fprintf(out, "load detail: refused %d, gave up %d (busy), unsent at the end %d, retried %d, %d submissions, up to %d in flight\n",
		s.Refused, s.GaveUp, s.Unsent, s.Retried, s.Batches, s.PeakInFlight)
	fmt.Fprintf(out, "load limited by %s\n", s.Limit())
}

// behind reports whether a refusal says the load generator's view of the
// sender is behind its chain (a stale sequence, a wrong previous
// transaction): then the sender is set back to its committed head. A
// conflict (another transaction of the sender at that sequence waits in
// the pool) or a sequence too far ahead (the sender's earlier ones wait
// in the pool) is not: those waiting may yet commit, and setting the
// sender back would only make more conflicts.
func behind(err error) bool {
	for _, waiting := range []error{pool.ErrConflict, pool.ErrTooFarAhead} {
		if errors.Is(err, waiting) {
			return false
		}
		var apiErr *api.Error
		if errors.As(err, &apiErr) && strings.Contains(apiErr.Message, waiting.Error()) {
			return false
		}
	}
	return true
}

// apiSink submits the load generator's batches through the nodes' APIs
// (POST /v1/txs), over clients that share one keep-alive transport.
type apiSink []*api.Client

func (s apiSink) SubmitBatch(ctx context.Context, node int, txs []*interfaces.Transaction) ([]error, error) {
	res, err := s[node].SubmitBatch(ctx, txs)
	if err != nil {
		return nil, err
	}
	errs := make([]error, len(res))
	for i, r := range res {
		switch r.Status {
		case http.StatusAccepted:
		case http.StatusConflict:
			// Already in the node's pool: a batch resubmitted after its
			// answer was lost. The node has it.
		case http.StatusServiceUnavailable:
			errs[i] = fmt.Errorf("%w: %s", loadgen.ErrBusy, r.Error)
		default:
			errs[i] = &api.Error{Status: r.Status, Message: r.Error}
		}
	}
	return errs, nil
}

// loadClients returns one API client per node for the load generator,
// sharing a transport that keeps inFlight connections to each node open.
func loadClients(nodes []*child, inFlight int) apiSink {
	hc := &http.Client{Transport: api.NewTransport(inFlight), Timeout: 30 * time.Second}
	out := make(apiSink, len(nodes))
	for i, ch := range nodes {
		out[i] = api.NewClientWith(ch.node.API, hc)
	}
	return out
}

// nodeSink submits the load generator's batches to in-process nodes.
type nodeSink []*node.Node

func (s nodeSink) SubmitBatch(_ context.Context, i int, txs []*interfaces.Transaction) ([]error, error) {
	errs := make([]error, len(txs))
	for j, tx := range txs {
		err := s[i].Submit(tx)
		switch {
		case errors.Is(err, pool.ErrFull):
			err = fmt.Errorf("%w: %w", loadgen.ErrBusy, err)
		case errors.Is(err, pool.ErrDuplicate):
			err = nil
		}
		errs[j] = err
	}
	return errs, nil
}
