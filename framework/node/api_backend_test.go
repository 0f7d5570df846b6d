package node_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/builtin/meme"
	"github.com/constellation-chain/constellation/builtin/memnet"
	"github.com/constellation-chain/constellation/framework/api"
	"github.com/constellation-chain/constellation/framework/ledger"
	"github.com/constellation-chain/constellation/framework/node"
	"github.com/constellation-chain/constellation/interfaces"
)

// TestTheAPIOfARunningCluster serves a real node's API on an ephemeral
// loopback port while its four-member cluster runs: the health check is
// healthy with every member up (its head matches the heads its peers
// announce over block sync), a submitted transfer is found by id and on
// its sender's chain, the event stream carries the blocks, and once two
// of the four members stop (the cluster cannot decide without three) the
// node turns unhealthy, saying its height stopped rising and its peers
// went silent.
func TestTheAPIOfARunningCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a cluster for about 15 s")
	}
	hub := memnet.NewHub()
	names := []string{"a", "b", "c", "d"}
	trs := map[string]*memnet.Transport{}
	for _, nm := range names {
		tr, err := hub.Join(interfaces.DevStar(nm), 4096)
		if err != nil {
			t.Fatal(err)
		}
		trs[nm] = tr
	}
	cfgs := groupConfigs(t, "cluster/0", 0, names, trs)
	faucet := interfaces.DevKey("faucet")
	var nodes []*node.Node
	for _, nm := range names {
		cfg := cfgs[nm]
		cfg.Genesis = ledger.Genesis{Seed: "two-groups", Allocations: []ledger.Allocation{{Star: interfaces.DevStar("faucet"), Amount: 1000}}}
		cfg.Interval = 50 * time.Millisecond
		if nm == "a" {
			rep, err := meme.Factory{}.NewReputation(nil)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Reputation = node.NewReputation(rep)
		}
		n, err := node.Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stops := make([]context.CancelFunc, len(nodes))
	done := make(chan error, len(nodes))
	for i, n := range nodes {
		nctx, stop := context.WithCancel(ctx)
		stops[i] = stop
		go func() { done <- n.Run(nctx) }()
	}
	defer func() {
		for _, s := range stops {
			s()
		}
		for range nodes {
			<-done
		}
	}()
	nodes[0].SetExplainer(func(rep interfaces.Reputation, s interfaces.StarID) (*api.MemeExplanation, bool) {
		ex := rep.(*meme.Reputation).Explain(s)
		return &api.MemeExplanation{Known: ex.Known, Score: int64(ex.Score), BucketName: ex.BucketName}, true
	})
	srv := httptest.NewServer(api.Handler(nodes[0], nil))
	defer srv.Close()
	c := &api.Client{Base: srv.URL, HTTP: &http.Client{Timeout: 20 * time.Second}}

	// Healthy, and every member has announced a head it shares.
	var h api.Health
	var err error
	for {
		h, err = c.Health(ctx)
		if err == nil && h.Healthy && strings.Contains(strings.Join(h.Reasons, "\n"), "head matches 3 of 3 peers") {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("never healthy: %+v %v", h, err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The stream, a transfer, and reads of it.
	events := make(chan api.Event, 1024)
	sctx, stopStream := context.WithCancel(ctx)
	defer stopStream()
	go c.Events(sctx, "", func(e api.Event) error { events <- e; return nil })
	time.Sleep(200 * time.Millisecond)
	tx, _ := interfaces.NewTransfer(faucet, 1, interfaces.Hash{}, interfaces.DevStar("b"), 7)
	if err := c.Submit(ctx, tx); err != nil {
		t.Fatal(err)
	}
	var rec api.TxRecord
	for {
		if rec, err = c.Tx(ctx, tx.ID()); err == nil {
			break
		}
		var apiErr *api.Error
		if !errors.As(err, &apiErr) || apiErr.Status != 404 || ctx.Err() != nil {
			t.Fatalf("tx: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if rec.Amount != 7 || rec.To != interfaces.DevStar("b").String() || rec.Chain != "cluster/0" || rec.Height == 0 {
		t.Fatalf("tx record %+v", rec)
	}
	chain, err := c.Chain(ctx, interfaces.DevStar("faucet"), interfaces.Hash{}, 0)
	if err != nil || chain.Seq != 1 || len(chain.Txs) != 1 || chain.Txs[0].ID != tx.ID().String() || chain.Next != "" {
		t.Fatalf("faucet's chain: %+v %v", chain, err)
	}
	cs, err := c.Clusters(ctx)
	if err != nil || len(cs.Clusters) != 1 || len(cs.Clusters[0].Delegates) != 4 || cs.Clusters[0].Source != "chain" {
		t.Fatalf("clusters: %+v %v", cs, err)
	}
	m, err := c.Meme(ctx, interfaces.DevStar("b"), true)
	if err != nil || m.Chain != "cluster/0" || m.Explain == nil || !m.Explain.Known || m.Explain.Score != m.Score {
		t.Fatalf("meme of a delegate: %+v %v", m, err)
	}
	if ms, err := c.Memes(ctx); err != nil || len(ms.Memes) != 4 {
		t.Fatalf("memes: %+v %v", ms, err)
	}
	seen := false
	for !seen {
		select {
		case e := <-events:
			seen = e.Type == "block" && e.Data.Height == rec.Height && len(e.Data.Block.Txs) == 1 && e.Data.Block.Txs[0] == tx.ID().String()
		case <-time.After(10 * time.Second):
			t.Fatalf("the stream did not carry block %d", rec.Height)
		}
	}
	stopStream()

	// A client that resumes from the start of the chain, with a hub that
	// remembers two blocks, reads the rest from the node's store: every
	// block once, in order.
	small := httptest.NewServer(api.NewHandler(nodes[0], api.Options{EventMemory: 2}))
	defer small.Close()
	sc := &api.Client{Base: small.URL, HTTP: &http.Client{Timeout: 20 * time.Second}}
	next := uint64(1)
	errDone := errors.New("done")
	err = sc.Events(ctx, "cluster/0:0.0", func(e api.Event) error {
		if e.Type != "block" {
			return nil
		}
		if e.Data.Height != next {
			return fmt.Errorf("block %d after %d", e.Data.Height, next-1)
		}
		if next++; next > rec.Height+2 {
			return errDone
		}
		return nil
	})
	if !errors.Is(err, errDone) {
		t.Fatalf("replay from the store: %v", err)
	}

	// Two members stop: no more blocks, and their heads go silent.
	stops[2]()
	stops[3]()
	// Both conditions fail, each within RiseWindow (5 s here).
	var reasons string
	for {
		h, err = c.Health(ctx)
		var apiErr *api.Error
		reasons = strings.Join(h.Reasons, "\n")
		if errors.As(err, &apiErr) && apiErr.Status == http.StatusServiceUnavailable && !h.Healthy &&
			strings.Contains(reasons, "has not risen") && strings.Contains(reasons, "2 silent") {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("not unhealthy for both reasons with half the cluster down: %+v %v", h, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("unhealthy: %s", reasons)
}
