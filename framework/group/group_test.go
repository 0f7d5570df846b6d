package group

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/builtin/solo"
	"github.com/constellation-chain/constellation/framework/ledger"
	"github.com/constellation-chain/constellation/framework/loadgen"
	"github.com/constellation-chain/constellation/framework/wal"
	"github.com/constellation-chain/constellation/interfaces"
)

func testConfig(dir string) Config {
	key := interfaces.DevKey("node")
	self := interfaces.DevStar("node")
	return Config{
		Key:       key,
		DataDir:   dir,
		Genesis:   ledger.Genesis{Seed: "node-test", Allocations: []ledger.Allocation{{Star: interfaces.DevStar("faucet"), Amount: 1 << 40}}},
		Members:   []interfaces.StarID{self},
		Consensus: solo.Factory{},
		BatchSize: 100,
		Interval:  5 * time.Millisecond,
	}
}

func TestSubmittedTransfersAreCommittedAndDurable(t *testing.T) {
	dir := t.TempDir()
	n, err := Open(testConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	g := loadgen.New(interfaces.DevKey("faucet"), 4, 1000, 1)
	var last *interfaces.Transaction
	for i := 0; i < 40; i++ {
		tx, _ := g.Next()
		if err := n.Submit(tx); err != nil {
			t.Fatal(err)
		}
		last = tx
	}
	events, cancelSub := n.Subscribe(64)
	defer cancelSub()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	committed := 0
	for committed < 40 {
		select {
		case ev := <-events:
			if ev.Gap != nil {
				n.Resume(*ev.Gap, func(b *interfaces.Block) error { committed += len(b.Txs); return nil })
				continue
			}
			committed += len(ev.Value.Block.Txs)
		case <-ctx.Done():
			t.Fatalf("only %d of 40 transactions committed", committed)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Reopen: the last sender's chain head is the last transaction.
	n2, err := Open(testConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	seq, prev, err := n2.ChainHead(last.Sender)
	if err != nil || seq != last.Seq || prev != last.ID() {
		t.Fatalf("after reopen: head %d %s (%v), want %d %s", seq, prev.Short(), err, last.Seq, last.ID().Short())
	}
	n2.closeStorage()
}

// TestDecisionLoggedButNotCommittedIsCommittedOnReopen simulates a crash
// between proposing (logged) and committing: reopening replays the log and
// commits the block the engine decides again.
func TestDecisionLoggedButNotCommittedIsCommittedOnReopen(t *testing.T) {
	dir := t.TempDir()
	n, err := Open(testConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	n.closeStorage()
	g := loadgen.New(interfaces.DevKey("faucet"), 2, 1000, 1)
	tx, _ := g.Next()
	batch := interfaces.TxBatch{Timestamp: 1, Txs: []*interfaces.Transaction{tx}}
	l, err := wal.Open(dir + "/wal")
	if err != nil {
		t.Fatal(err)
	}
	l.Append(wal.Entry{Kind: wal.KindPropose, Epoch: 0, Data: batch.Encode()})
	l.Close()

	n, err = Open(testConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer n.closeStorage()
	h, _ := n.Head()
	if h != 1 {
		t.Fatalf("head %d after replay, want 1", h)
	}
	if seq, _, _ := n.ChainHead(tx.Sender); seq != 1 {
		t.Fatalf("replayed transaction not applied: seq %d", seq)
	}
}

// TestMissingLogBesideACommittedChainIsRefused: a node whose wal directory
// was deleted while its chain holds blocks does not start as if nothing
// had been sent; an empty directory made on purpose lets it start.
func TestMissingLogBesideACommittedChainIsRefused(t *testing.T) {
	dir := t.TempDir()
	n, err := Open(testConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	g := loadgen.New(interfaces.DevKey("faucet"), 2, 1000, 1)
	for range 5 {
		tx, _ := g.Next()
		if err := n.Submit(tx); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	for ctx.Err() == nil {
		if h, _ := n.Head(); h > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	walDir := filepath.Join(dir, "wal")
	if err := os.RemoveAll(walDir); err != nil {
		t.Fatal(err)
	}
	if n2, err := Open(testConfig(dir)); err == nil || !errors.Is(err, wal.ErrCorrupt) || !strings.Contains(err.Error(), walDir) {
		if n2 != nil {
			n2.closeStorage()
		}
		t.Fatalf("Open without its log = %v, want ErrCorrupt naming %s", err, walDir)
	}
	if err := os.Mkdir(walDir, 0o700); err != nil {
		t.Fatal(err)
	}
	n3, err := Open(testConfig(dir))
	if err != nil {
		t.Fatalf("Open with an empty log made on purpose: %v", err)
	}
	n3.closeStorage()
}
