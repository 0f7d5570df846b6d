package main

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/framework/api"
	"github.com/constellation-chain/constellation/framework/loadgen"
	"github.com/constellation-chain/constellation/framework/pool"
	"github.com/constellation-chain/constellation/interfaces"
)

// poolBackend is a node API backend holding a pool and nothing else.
type poolBackend struct{ p *pool.Pool }

func (b poolBackend) Self() interfaces.StarID                   { return interfaces.DevStar("node") }
func (b poolBackend) Submit(tx *interfaces.Transaction) error   { return b.p.Add(tx) }
func (b poolBackend) Head() (uint64, interfaces.Hash)           { return 0, interfaces.Hash{} }
func (b poolBackend) Block(uint64) (*interfaces.Block, error)   { return nil, errors.New("no blocks") }
func (b poolBackend) Balance(interfaces.StarID) (uint64, error) { return 0, nil }
func (b poolBackend) PoolLen() int                              { return b.p.Len() }
func (b poolBackend) ChainHead(interfaces.StarID) (uint64, interfaces.Hash, error) {
	return 0, interfaces.Hash{}, nil
}

// TestTheLoadGeneratorReadsEachBatchResult: through a node API, an
// accepted transaction and one the pool already holds count as
// accepted, a full pool's refusal as busy (retried), a conflict or a
// sequence past the pool's window as a refusal that leaves the sender
// alone, and a bad signature as one that sets it back.
func TestTheLoadGeneratorReadsEachBatchResult(t *testing.T) {
	srv := httptest.NewServer(api.Handler(poolBackend{pool.New(pool.Options{MaxTxs: 2})}, nil))
	defer srv.Close()
	sink := apiSink{api.NewClientWith(strings.TrimPrefix(srv.URL, "http://"), srv.Client())}
	key := interfaces.DevKey("a")
	to := interfaces.DevStar("b")
	t1, _ := interfaces.NewTransfer(key, 1, interfaces.Hash{}, to, 1)
	t1b, _ := interfaces.NewTransfer(key, 1, interfaces.Hash{}, to, 2) // the same sequence as t1
	bad, _ := interfaces.NewTransfer(interfaces.DevKey("c"), 1, interfaces.Hash{}, to, 1)
	bad.Sig[0] ^= 1
	t2, _ := interfaces.NewTransfer(key, 2, t1.ID(), to, 1)
	t3, _ := interfaces.NewTransfer(key, 3, t2.ID(), to, 1)
	errs, err := sink.SubmitBatch(context.Background(), 0, []*interfaces.Transaction{t1, t1, t1b, bad, t2, t3})
	if err != nil {
		t.Fatal(err)
	}
	if errs[0] != nil || errs[1] != nil || errs[4] != nil {
		t.Fatalf("accepted and duplicate: %v %v %v", errs[0], errs[1], errs[4])
	}
	if errs[2] == nil || behind(errs[2]) || errors.Is(errs[2], loadgen.ErrBusy) {
		t.Fatalf("conflict: %v (behind %v)", errs[2], behind(errs[2]))
	}
	if errs[3] == nil || !behind(errs[3]) || errors.Is(errs[3], loadgen.ErrBusy) {
		t.Fatalf("bad signature: %v", errs[3])
	}
	if !errors.Is(errs[5], loadgen.ErrBusy) {
		t.Fatalf("full pool: %v, want busy", errs[5])
	}

	// A sequence past the pool's window: refused, and the sender left
	// alone (its earlier transactions wait in the pool).
	narrow := httptest.NewServer(api.Handler(poolBackend{pool.New(pool.Options{MaxAhead: 1})}, nil))
	defer narrow.Close()
	sink = apiSink{api.NewClientWith(strings.TrimPrefix(narrow.URL, "http://"), narrow.Client())}
	errs, err = sink.SubmitBatch(context.Background(), 0, []*interfaces.Transaction{t2})
	if err != nil || errs[0] == nil || behind(errs[0]) {
		t.Fatalf("too far ahead: %v %v (behind %v)", err, errs, errs != nil && behind(errs[0]))
	}
}

// TestTheLoadSummaryNamesTheThreeRates: the run's account shows
// offered, accepted and committed, and the stage that limited it.
func TestTheLoadSummaryNamesTheThreeRates(t *testing.T) {
	var b strings.Builder
	printLoad(&b, loadgen.Stats{Elapsed: 10 * time.Second, Target: 1000, Offered: 10000, Accepted: 9900, Committed: 4000, CommittedKnown: true})
	for _, want := range []string{"offered 10000 (1000.0 tx/s)", "accepted 9900 (990.0 tx/s)", "committed 4000 (400.0 tx/s)", "limited by consensus"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, b.String())
		}
	}
}
