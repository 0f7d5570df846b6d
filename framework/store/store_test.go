package store

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/constellation-chain/constellation/framework/ledger"
	"github.com/constellation-chain/constellation/framework/ledger/ledgertest"
	"github.com/constellation-chain/constellation/interfaces"
)

var testWorld = ledgertest.NewWorld("store-test", 8, 1_000_000)

func openInit(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if err := s.Init(testWorld.Genesis); err != nil {
		s.Close()
		t.Fatalf("init: %v", err)
	}
	return s
}

// buildNext builds the next block on s's state with n random transfers.
func buildNext(t testing.TB, s *Store, rng *rand.Rand, n int) (*interfaces.Block, *ledger.Changes) {
	t.Helper()
	h, _, _ := s.Head()
	bl := ledger.NewBuilder(s, 0, s.Parent())
	if _, err := testWorld.FillBlock(bl, rng, n); err != nil {
		t.Fatalf("build block %d: %v", h+1, err)
	}
	return bl.Finish(h+1, int64(h+1)*1000, interfaces.BlockMeta{Proposers: []interfaces.StarID{testWorld.Stars[0]}})
}

func commitN(t testing.TB, s *Store, rng *rand.Rand, blocks, txs int) []*interfaces.Block {
	t.Helper()
	var out []*interfaces.Block
	for i := 0; i < blocks; i++ {
		b, ch := buildNext(t, s, rng, txs)
		if err := s.CommitBlock(b, ch); err != nil {
			t.Fatalf("commit: %v", err)
		}
		out = append(out, b)
	}
	return out
}

func TestCommittedBlocksReadBackAndMatchReplay(t *testing.T) {
	s := openInit(t, t.TempDir())
	defer s.Close()
	rng := rand.New(rand.NewPCG(1, 1))
	blocks := commitN(t, s, rng, 5, 30)

	h, hash, root := s.Head()
	if h != 5 || hash != blocks[4].Hash() || root != blocks[4].Header.StateRoot {
		t.Fatalf("head (%d, %s) does not name the last block", h, hash.Short())
	}
	for _, want := range blocks {
		got, err := s.Block(want.Header.Height)
		if err != nil || got.Hash() != want.Hash() {
			t.Fatalf("block %d: %v", want.Header.Height, err)
		}
		got, err = s.BlockByHash(want.Hash())
		if err != nil || got.Header.Height != want.Header.Height {
			t.Fatalf("block by hash %d: %v", want.Header.Height, err)
		}
		for _, tx := range want.Txs {
			if th, ok, err := s.TxHeight(tx.ID()); err != nil || !ok || th != want.Header.Height {
				t.Fatalf("tx index: %d %v %v", th, ok, err)
			}
		}
	}
	var seen []uint64
	if err := s.Blocks(2, 4, func(b *interfaces.Block) error {
		seen = append(seen, b.Header.Height)
		return nil
	}); err != nil || len(seen) != 3 || seen[0] != 2 || seen[2] != 4 {
		t.Fatalf("Blocks(2,4) gave %v, %v", seen, err)
	}
	if _, err := s.Block(6); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing block: %v", err)
	}
	if _, err := s.BlockByHash(interfaces.Sum([]byte("nope"))); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing hash: %v", err)
	}
	if err := s.Blocks(4, 9, func(*interfaces.Block) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Blocks past the head: %v", err)
	}

	replayed, err := ledger.Replay(testWorld.Genesis, blocks)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if d := snap.Diff(replayed.Snapshot()); d != "" {
		t.Fatalf("stored state differs from replay: %s", d)
	}
	if snap.Supply() != testWorld.Genesis.Supply() {
		t.Fatalf("supply changed")
	}
	if err := s.Verify(); err != nil {
		t.Fatal(err)
	}
	g, err := s.Genesis()
	if err != nil || g.Seed != testWorld.Genesis.Seed || len(g.Allocations) != len(testWorld.Stars) {
		t.Fatalf("stored genesis: %+v %v", g, err)
	}
}

func TestBlocksIteratesAcrossReadBatches(t *testing.T) {
	// Many small commits: skip the fsync, which this test does not need.
	s, err := Open(t.TempDir(), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Init(testWorld.Genesis); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2, 2))
	n := blocksPerRead*2 + 3
	commitN(t, s, rng, n, 1)
	next := uint64(1)
	err = s.Blocks(1, uint64(n), func(b *interfaces.Block) error {
		if b.Header.Height != next {
			t.Fatalf("got block %d, want %d", b.Header.Height, next)
		}
		next++
		// Committing from inside the callback must not deadlock.
		if b.Header.Height == uint64(n) {
			b2, ch := buildNext(t, s, rng, 1)
			return s.CommitBlock(b2, ch)
		}
		return nil
	})
	if err != nil || next != uint64(n)+1 {
		t.Fatalf("iteration stopped at %d: %v", next, err)
	}
}

func TestReadersSeeOnlyCommittedBlocksWhileCommitting(t *testing.T) {
	s := openInit(t, t.TempDir())
	defer s.Close()
	supply := testWorld.Genesis.Supply()
	done := make(chan struct{})
	errs := make(chan error, 2)
	for r := 0; r < 2; r++ {
		go func() {
			for i := 0; ; i++ {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				h, hash, _ := s.Head()
				if h > 0 {
					b, err := s.Block(h)
					if err != nil {
						errs <- fmt.Errorf("head says %d: %w", h, err)
						return
					}
					if b.Hash() != hash {
						errs <- fmt.Errorf("block %d hash differs from head", h)
						return
					}
				}
				if snap, err := s.Snapshot(); err != nil || snap.Supply() != supply {
					errs <- fmt.Errorf("snapshot during commits: supply %v, err %v", snap, err)
					return
				}
			}
		}()
	}
	commitN(t, s, rand.New(rand.NewPCG(9, 9)), 8, 20)
	close(done)
	for r := 0; r < 2; r++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestReopenResumesAtLastCommittedBlock(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 3))
	s := openInit(t, dir)
	commitN(t, s, rng, 4, 10)
	h, hash, root := s.Head()
	before, err := s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	s = openInit(t, dir)
	defer s.Close()
	if h2, hash2, root2 := s.Head(); h2 != h || hash2 != hash || root2 != root {
		t.Fatalf("reopened at %d %s, closed at %d %s", h2, hash2.Short(), h, hash.Short())
	}
	after, err := s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if d := after.Diff(before); d != "" {
		t.Fatalf("state changed across reopen: %s", d)
	}
	commitN(t, s, rng, 2, 10)
	if err := s.Verify(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenWithoutInitKeepsHeadAfterReopen(t *testing.T) {
	dir := t.TempDir()
	s := openInit(t, dir)
	commitN(t, s, rand.New(rand.NewPCG(4, 4)), 2, 3)
	s.Close()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if h, _, _ := s.Head(); h != 2 {
		t.Fatalf("head %d after reopen without Init", h)
	}
}

func TestDataDirOfAnotherNetworkIsRefused(t *testing.T) {
	dir := t.TempDir()
	s := openInit(t, dir)
	s.Close()

	otherSeed := testWorld.Genesis
	otherSeed.Seed = "another-network"
	otherAlloc := testWorld.Genesis
	otherAlloc.Allocations = append([]ledger.Allocation(nil), testWorld.Genesis.Allocations...)
	otherAlloc.Allocations[0].Amount++
	for name, g := range map[string]ledger.Genesis{"seed": otherSeed, "allocations": otherAlloc} {
		s, err := Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		err = s.Init(g)
		s.Close()
		if err == nil || !strings.Contains(err.Error(), "belongs to another network") {
			t.Fatalf("%s: got %v, want a 'belongs to another network' error", name, err)
		}
	}
	// The right genesis still opens.
	openInit(t, dir).Close()
}

func TestSecondOpenerGetsInUseError(t *testing.T) {
	dir := t.TempDir()
	s := openInit(t, dir)
	defer s.Close()
	start := time.Now()
	s2, err := Open(dir, Options{LockTimeout: 100 * time.Millisecond})
	if err == nil {
		s2.Close()
		t.Fatal("second Open of a held data directory succeeded")
	}
	if !strings.Contains(err.Error(), "in use by another process") {
		t.Fatalf("unclear error: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("second Open took %s", d)
	}
}

func TestCommitRefusesOutOfOrderBlocks(t *testing.T) {
	dir := t.TempDir()
	fresh, err := Open(filepath.Join(dir, "fresh"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()

	s := openInit(t, filepath.Join(dir, "chain"))
	defer s.Close()
	rng := rand.New(rand.NewPCG(5, 5))
	b1, ch1 := buildNext(t, s, rng, 3)
	if err := fresh.CommitBlock(b1, ch1); !errors.Is(err, ErrNotInitialized) {
		t.Fatalf("commit before Init: %v", err)
	}

	// Block 2 built on a scratch state, then offered before block 1.
	mem, _ := ledger.NewMemState(testWorld.Genesis)
	if err := mem.Commit(b1, ch1); err != nil {
		t.Fatal(err)
	}
	bl := ledger.NewBuilder(mem, 0, mem.Parent())
	if _, err := testWorld.FillBlock(bl, rng, 3); err != nil {
		t.Fatal(err)
	}
	b2, ch2 := bl.Finish(2, 2000, interfaces.BlockMeta{})
	if err := s.CommitBlock(b2, ch2); err == nil || !strings.Contains(err.Error(), "not the next block") {
		t.Fatalf("block 2 before block 1: %v", err)
	}
	if err := s.CommitBlock(b1, ch1); err != nil {
		t.Fatal(err)
	}
	if err := s.CommitBlock(b1, ch1); err == nil {
		t.Fatal("block 1 committed twice")
	}
	forked := *b2
	forked.Header.Prev = interfaces.Sum([]byte("elsewhere"))
	forked.Seal()
	if err := s.CommitBlock(&forked, ch2); err == nil || !strings.Contains(err.Error(), "previous block") {
		t.Fatalf("block naming the wrong parent: %v", err)
	}
	badRoot := *b2
	badRoot.Header.StateRoot[0] ^= 1
	if err := s.CommitBlock(&badRoot, ch2); err == nil || !strings.Contains(err.Error(), "state root") {
		t.Fatalf("block with a state root not matching its changes: %v", err)
	}
	if h, _, _ := s.Head(); h != 1 {
		t.Fatalf("refused commits moved the head to %d", h)
	}
	if err := s.CommitBlock(b2, ch2); err != nil {
		t.Fatalf("the right next block: %v", err)
	}
	if err := s.Verify(); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptStoredBytesGiveErrorsNamingTheHeight(t *testing.T) {
	s := openInit(t, t.TempDir())
	defer s.Close()
	rng := rand.New(rand.NewPCG(6, 6))
	commitN(t, s, rng, 3, 5)
	var good1, good2 []byte
	if err := s.db.View(func(tx *bolt.Tx) error {
		good1 = append([]byte(nil), tx.Bucket(bucketBlocks).Get(u64(1))...)
		good2 = append([]byte(nil), tx.Bucket(bucketBlocks).Get(u64(2))...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), good2...)
	flipped[len(flipped)/2] ^= 0x40
	otherBlock := s.enc.EncodeAll([]byte("not a block"), nil)
	cases := map[string][]byte{
		"garbage":             []byte("garbage, not zstd"),
		"empty":               {},
		"truncated":           good2[:len(good2)/2],
		"flipped byte":        flipped,
		"zstd of non-block":   otherBlock,
		"block of height one": good1,
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketBlocks).Put(u64(2), raw) }); err != nil {
				t.Fatal(err)
			}
			_, err := s.Block(2)
			if err == nil || !strings.Contains(err.Error(), "block 2") {
				t.Fatalf("Block(2): got %v, want an error naming block 2", err)
			}
			err = s.Blocks(1, 3, func(*interfaces.Block) error { return nil })
			if err == nil || !strings.Contains(err.Error(), "block 2") {
				t.Fatalf("Blocks: got %v", err)
			}
			if err := s.Verify(); err == nil {
				t.Fatal("Verify passed on a corrupt block")
			}
		})
	}
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketBlocks).Put(u64(2), good2) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Verify(); err != nil {
		t.Fatalf("after restoring the block: %v", err)
	}

	// Corrupt state values are errors too.
	star := testWorld.Stars[0]
	if err := s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketBalances).Put(star[:], []byte{1, 2, 3}); err != nil {
			return err
		}
		return tx.Bucket(bucketHeads).Put(star[:], []byte{1})
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Balance(star); err == nil {
		t.Fatal("corrupt balance read without error")
	}
	if _, _, err := s.ChainHead(star); err == nil {
		t.Fatal("corrupt chain head read without error")
	}
	if _, err := s.Snapshot(); err == nil {
		t.Fatal("snapshot of corrupt state without error")
	}
}

func TestVerifyDetectsStateThatDisagreesWithBlocks(t *testing.T) {
	s := openInit(t, t.TempDir())
	defer s.Close()
	commitN(t, s, rand.New(rand.NewPCG(7, 7)), 2, 5)
	star := testWorld.Stars[1]
	bal, _ := s.Balance(star)
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketBalances).Put(star[:], u64(bal+1)) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Verify(); err == nil || !strings.Contains(err.Error(), "balances") {
		t.Fatalf("Verify: %v", err)
	}
}

func BenchmarkCommitBlock(b *testing.B) {
	const perBlock, chainLen = 1000, 8
	// Build the chain once on a MemState; commits replay it into stores.
	mem, err := ledger.NewMemState(testWorld.Genesis)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(8, 8))
	type entry struct {
		b  *interfaces.Block
		ch *ledger.Changes
	}
	var chain []entry
	for h := 1; h <= chainLen; h++ {
		bl := ledger.NewBuilder(mem, 0, mem.Parent())
		if n, err := testWorld.FillBlock(bl, rng, perBlock); err != nil || n != perBlock {
			b.Fatalf("build: %d %v", n, err)
		}
		blk, ch := bl.Finish(uint64(h), int64(h), interfaces.BlockMeta{})
		if err := mem.Commit(blk, ch); err != nil {
			b.Fatal(err)
		}
		chain = append(chain, entry{blk, ch})
	}
	for _, mode := range []struct {
		name   string
		noSync bool
	}{{"fsync", false}, {"nosync", true}} {
		b.Run(mode.name, func(b *testing.B) {
			var s *Store
			defer func() {
				if s != nil {
					s.Close()
				}
			}()
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if i%chainLen == 0 {
					b.StopTimer()
					if s != nil {
						s.Close()
					}
					if s, err = Open(b.TempDir(), Options{NoSync: mode.noSync}); err != nil {
						b.Fatal(err)
					}
					if err := s.Init(testWorld.Genesis); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				e := chain[i%chainLen]
				if err := s.CommitBlock(e.b, e.ch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perBlock), "ns/tx")
		})
	}
}

// TestCatchUpVerifiesPeerBlocksBeforeCommitting follows the catch-up path:
// blocks built by another node are re-validated on the store's own state
// with ledger.VerifyBlock, then committed with the changes it returns.
func TestCatchUpVerifiesPeerBlocksBeforeCommitting(t *testing.T) {
	peer, err := ledger.NewMemState(testWorld.Genesis)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(10, 10))
	var blocks []*interfaces.Block
	for h := uint64(1); h <= 3; h++ {
		bl := ledger.NewBuilder(peer, 0, peer.Parent())
		if _, err := testWorld.FillBlock(bl, rng, 10); err != nil {
			t.Fatal(err)
		}
		b, ch := bl.Finish(h, int64(h), interfaces.BlockMeta{})
		if err := peer.Commit(b, ch); err != nil {
			t.Fatal(err)
		}
		blocks = append(blocks, b)
	}
	s := openInit(t, t.TempDir())
	defer s.Close()

	// A peer block with an extra transaction the sender cannot cover,
	// resealed so that its header is consistent with its body.
	forged := *blocks[0]
	tx, _ := testWorld.Transfer(s, 0, 1, testWorld.Genesis.Allocations[0].Amount+1)
	forged.Txs = append(append([]*interfaces.Transaction(nil), blocks[0].Txs...), tx)
	forged.Seal()
	if _, err := ledger.VerifyBlock(s, s.Parent(), &forged); !errors.Is(err, ledger.ErrInvalidTx) {
		t.Fatalf("forged block: got %v, want a validation error", err)
	}
	for _, b := range blocks {
		ch, err := ledger.VerifyBlock(s, s.Parent(), b)
		if err != nil {
			t.Fatalf("peer block %d: %v", b.Header.Height, err)
		}
		if err := s.CommitBlock(b, ch); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if d := snap.Diff(peer.Snapshot()); d != "" {
		t.Fatalf("store differs from the peer after catch-up: %s", d)
	}
}
