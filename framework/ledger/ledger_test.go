package ledger_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"github.com/constellation-chain/constellation/framework/sigcache"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/constellation-chain/constellation/framework/ledger"
	"github.com/constellation-chain/constellation/framework/ledger/ledgertest"
	"github.com/constellation-chain/constellation/interfaces"
)

func mustState(t testing.TB, g ledger.Genesis) *ledger.MemState {
	t.Helper()
	st, err := ledger.NewMemState(g)
	if err != nil {
		t.Fatalf("genesis: %v", err)
	}
	return st
}

func TestGenesisRejectsBadAllocations(t *testing.T) {
	w := ledgertest.NewWorld("gen", 2, 10)
	a, b := w.Stars[0], w.Stars[1]
	cases := map[string]struct {
		g    ledger.Genesis
		want string
	}{
		"empty seed":     {ledger.Genesis{Allocations: []ledger.Allocation{{a, 1}}}, "seed is empty"},
		"duplicate star": {ledger.Genesis{Seed: "s", Allocations: []ledger.Allocation{{a, 1}, {b, 2}, {a, 3}}}, "allocated twice"},
		"zero star":      {ledger.Genesis{Seed: "s", Allocations: []ledger.Allocation{{interfaces.StarID{}, 1}}}, "zero star"},
		"zero amount":    {ledger.Genesis{Seed: "s", Allocations: []ledger.Allocation{{a, 0}}}, "is zero"},
		"overflow":       {ledger.Genesis{Seed: "s", Allocations: []ledger.Allocation{{a, math.MaxUint64}, {b, 1}}}, "overflows"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := ledger.GenesisChanges(c.g)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

func TestGenesisStateRootCommitsToSeedTimestampAndAllocations(t *testing.T) {
	w := ledgertest.NewWorld("gen", 3, 10)
	_, base, err := ledger.GenesisChanges(w.Genesis)
	if err != nil {
		t.Fatal(err)
	}
	reordered := w.Genesis
	reordered.Allocations = []ledger.Allocation{w.Genesis.Allocations[2], w.Genesis.Allocations[0], w.Genesis.Allocations[1]}
	if _, r, _ := ledger.GenesisChanges(reordered); r != base {
		t.Fatalf("allocation order changed the genesis state root")
	}
	variants := map[string]func(g *ledger.Genesis){
		"seed":      func(g *ledger.Genesis) { g.Seed += "x" },
		"timestamp": func(g *ledger.Genesis) { g.Timestamp++ },
		"amount":    func(g *ledger.Genesis) { g.Allocations[0].Amount++ },
		"dropped":   func(g *ledger.Genesis) { g.Allocations = g.Allocations[1:] },
	}
	for name, mutate := range variants {
		g := w.Genesis
		g.Allocations = append([]ledger.Allocation(nil), w.Genesis.Allocations...)
		mutate(&g)
		if _, r, err := ledger.GenesisChanges(g); err != nil || r == base {
			t.Errorf("%s: changed genesis gives root equal=%v err=%v", name, r == base, err)
		}
	}
}

func TestGenesisEncodingRoundTrips(t *testing.T) {
	w := ledgertest.NewWorld("gen", 3, 10)
	raw := w.Genesis.Encode()
	g, err := ledger.DecodeGenesis(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(g.Encode(), raw) || g.Seed != w.Genesis.Seed || len(g.Allocations) != 3 {
		t.Fatalf("round trip changed the genesis: %+v", g)
	}
}

func FuzzDecodeGenesis(f *testing.F) {
	f.Add(ledgertest.NewWorld("fuzz", 2, 5).Genesis.Encode())
	f.Add(ledger.Genesis{Seed: "x"}.Encode())
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80})
	f.Fuzz(func(t *testing.T, raw []byte) {
		g, err := ledger.DecodeGenesis(raw)
		if err != nil {
			return
		}
		if !bytes.Equal(g.Encode(), raw) {
			t.Fatalf("decode/encode is not canonical:\n in  %x\n out %x", raw, g.Encode())
		}
		_ = g.Validate()
	})
}

// TestEachRuleHasItsError checks one transaction per rule against a fixed
// state and that each error matches exactly its sentinel.
func TestEachRuleHasItsError(t *testing.T) {
	w := ledgertest.NewWorld("rules", 3, 100)
	st := mustState(t, w.Genesis)
	first, err := w.Transfer(st, 0, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	bl := ledger.NewBuilder(st, 0, st.Parent())
	if err := bl.Apply(first); err != nil {
		t.Fatal(err)
	}
	b, ch := bl.Finish(1, 1, interfaces.BlockMeta{})
	if err := st.Commit(b, ch); err != nil {
		t.Fatal(err)
	}
	id := first.ID()
	signed := func(from int, seq uint64, prev interfaces.Hash, kind interfaces.TxKind, payload []byte) *interfaces.Transaction {
		tx := &interfaces.Transaction{Sender: w.Stars[from], Seq: seq, Prev: prev, Kind: kind, Payload: payload}
		if err := tx.Sign(w.Keys[from]); err != nil {
			t.Fatal(err)
		}
		return tx
	}
	pay := func(to int, amount uint64) []byte {
		return interfaces.TransferPayload{To: w.Stars[to], Amount: amount}.Encode()
	}
	badSig := signed(0, 2, id, interfaces.TxData, nil)
	badSig.Sig[0] ^= 1
	counter := signed(0, 2, id, interfaces.TxData, nil)
	counter.Counterparty = w.Stars[2]
	_ = counter.Sign(w.Keys[0])
	counter.CounterSig = make([]byte, 64)
	noCounterparty := signed(0, 2, id, interfaces.TxData, nil)
	noCounterparty.CounterSig = make([]byte, 64)
	call := signed(0, 2, id, interfaces.TxCall, []byte("m"))

	cases := map[string]struct {
		tx   *interfaces.Transaction
		want error
	}{
		"replay of committed":       {first, ledger.ErrReplay},
		"stale sequence":            {signed(0, 1, interfaces.ZeroHash, interfaces.TxData, []byte("old")), ledger.ErrDoubleSpend},
		"gap":                       {signed(0, 3, id, interfaces.TxData, nil), ledger.ErrSequenceGap},
		"wrong prev":                {signed(0, 2, interfaces.Sum([]byte("x")), interfaces.TxData, nil), ledger.ErrWrongPrev},
		"first tx with prev":        {signed(2, 1, id, interfaces.TxData, nil), ledger.ErrWrongPrev},
		"overdraw":                  {signed(0, 2, id, interfaces.TxTransfer, pay(1, 91)), ledger.ErrInsufficientBalance},
		"bad sender signature":      {badSig, ledger.ErrBadSignature},
		"bad counter-signature":     {counter, ledger.ErrBadSignature},
		"counter-sig, no party":     {noCounterparty, ledger.ErrMalformed},
		"zero amount":               {signed(0, 2, id, interfaces.TxTransfer, pay(1, 0)), ledger.ErrMalformed},
		"self transfer":             {signed(0, 2, id, interfaces.TxTransfer, pay(0, 5)), ledger.ErrMalformed},
		"bad transfer payload":      {signed(0, 2, id, interfaces.TxTransfer, []byte{1, 2}), ledger.ErrMalformed},
		"unknown kind":              {signed(0, 2, id, interfaces.TxKind(0), nil), ledger.ErrMalformed},
		"sequence zero":             {signed(0, 0, id, interfaces.TxData, nil), ledger.ErrMalformed},
		"empty deploy":              {signed(0, 2, id, interfaces.TxDeploy, nil), ledger.ErrMalformed},
		"call without contract":     {call, ledger.ErrMalformed},
		"nil transaction":           {nil, ledger.ErrMalformed},
		"exact balance is accepted": {signed(0, 2, id, interfaces.TxTransfer, pay(1, 90)), nil},
	}
	all := []error{ledger.ErrBadSignature, ledger.ErrSequenceGap, ledger.ErrReplay, ledger.ErrWrongPrev, ledger.ErrInsufficientBalance, ledger.ErrDoubleSpend, ledger.ErrMalformed}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			bl := ledger.NewBuilder(st, 0, st.Parent())
			err := bl.Apply(c.tx)
			if c.want == nil {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if !errors.Is(err, c.want) || !errors.Is(err, ledger.ErrInvalidTx) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			for _, other := range all {
				if other != c.want && errors.Is(err, other) {
					t.Fatalf("error %v also matches %v", err, other)
				}
			}
			if bl.Len() != 0 {
				t.Fatalf("rejected transaction entered the block")
			}
		})
	}
}

func TestRejectedTransactionChangesNothing(t *testing.T) {
	w := ledgertest.NewWorld("nochange", 2, 50)
	st := mustState(t, w.Genesis)
	bl := ledger.NewBuilder(st, 0, st.Parent())
	ok, _ := w.Transfer(bl, 0, 1, 20)
	if err := bl.Apply(ok); err != nil {
		t.Fatal(err)
	}
	over, _ := w.Transfer(bl, 0, 1, 31)
	if err := bl.Apply(over); !errors.Is(err, ledger.ErrInsufficientBalance) {
		t.Fatalf("got %v", err)
	}
	b1, ch1 := bl.Finish(1, 5, interfaces.BlockMeta{})

	// The same block built without the rejected transaction is identical.
	bl2 := ledger.NewBuilder(st, 0, st.Parent())
	if err := bl2.Apply(ok); err != nil {
		t.Fatal(err)
	}
	b2, ch2 := bl2.Finish(1, 5, interfaces.BlockMeta{})
	if b1.Hash() != b2.Hash() || !bytes.Equal(ch1.Encode(), ch2.Encode()) {
		t.Fatalf("a rejected transaction changed the block")
	}
	if err := bl.Apply(ok); err == nil {
		t.Fatalf("Apply after Finish succeeded")
	}
}

func TestFinishSealsBlockOnParent(t *testing.T) {
	w := ledgertest.NewWorld("finish", 5, 1000)
	st := mustState(t, w.Genesis)
	rng := rand.New(rand.NewPCG(1, 2))
	for h := uint64(1); h <= 3; h++ {
		parent := st.Parent()
		bl := ledger.NewBuilder(st, 7, parent)
		if _, err := w.FillBlock(bl, rng, 20); err != nil {
			t.Fatal(err)
		}
		data, _ := w.Data(bl, 0, []byte("note"))
		if err := bl.Apply(data); err != nil {
			t.Fatal(err)
		}
		meta := interfaces.BlockMeta{Members: []interfaces.StarID{w.Stars[0]}, LatencyMillis: []uint32{3}}
		b, ch := bl.Finish(h+10, int64(h)*100, meta)
		hd := b.Header
		if hd.Height != h || hd.Prev != parent.Hash || hd.Cluster != 7 || hd.Epoch != h+10 || hd.Timestamp != int64(h)*100 {
			t.Fatalf("header fields wrong: %+v", hd)
		}
		if err := b.CheckBody(); err != nil {
			t.Fatal(err)
		}
		if hd.StateRoot != ledger.StateRoot(parent.StateRoot, ch) {
			t.Fatalf("state root is not the chained commitment")
		}
		if ch.Height != h || len(ch.TxIDs) != len(b.Txs) {
			t.Fatalf("changes do not describe the block")
		}
		for i := 1; i < len(ch.Balances); i++ {
			if !ch.Balances[i-1].Star.Less(ch.Balances[i].Star) {
				t.Fatalf("balances not sorted")
			}
		}
		if err := st.Commit(b, ch); err != nil {
			t.Fatal(err)
		}
	}
	if h := st.Parent().Height; h != 3 {
		t.Fatalf("height %d", h)
	}
}

func TestDataAndContractEntriesAdvanceChainWithoutMovingFunds(t *testing.T) {
	w := ledgertest.NewWorld("kinds", 2, 10)
	st := mustState(t, w.Genesis)
	bl := ledger.NewBuilder(st, 0, st.Parent())
	var prev interfaces.Hash
	for i, kind := range []interfaces.TxKind{interfaces.TxData, interfaces.TxDeploy, interfaces.TxCall} {
		tx := &interfaces.Transaction{Sender: w.Stars[0], Seq: uint64(i + 1), Prev: prev, Kind: kind, Payload: []byte("code")}
		if kind == interfaces.TxCall {
			tx.Counterparty = w.Stars[1]
		}
		if err := tx.Sign(w.Keys[0]); err != nil {
			t.Fatal(err)
		}
		if kind == interfaces.TxCall {
			if err := tx.CounterSign(w.Keys[1]); err != nil {
				t.Fatal(err)
			}
		}
		if err := bl.Apply(tx); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		prev = tx.ID()
	}
	_, ch := bl.Finish(1, 1, interfaces.BlockMeta{})
	if len(ch.Balances) != 0 {
		t.Fatalf("non-transfer entries changed balances: %+v", ch.Balances)
	}
	if len(ch.Heads) != 1 || ch.Heads[0].Seq != 3 || ch.Heads[0].Last != prev {
		t.Fatalf("chain head not advanced: %+v", ch.Heads)
	}
}

func TestStateRootChainsParent(t *testing.T) {
	ch := &ledger.Changes{Height: 1, TxIDs: []interfaces.Hash{}}
	a := ledger.StateRoot(interfaces.Sum([]byte("a")), ch)
	b := ledger.StateRoot(interfaces.Sum([]byte("b")), ch)
	if a == b {
		t.Fatalf("state root ignores the parent root")
	}
}

// buildChain builds n blocks of random transfers on genesis.
func buildChain(t testing.TB, w *ledgertest.World, n, txs int) []*interfaces.Block {
	t.Helper()
	st := mustState(t, w.Genesis)
	rng := rand.New(rand.NewPCG(3, 4))
	var out []*interfaces.Block
	for h := 1; h <= n; h++ {
		bl := ledger.NewBuilder(st, 0, st.Parent())
		if _, err := w.FillBlock(bl, rng, txs); err != nil {
			t.Fatal(err)
		}
		b, ch := bl.Finish(uint64(h), int64(h), interfaces.BlockMeta{})
		if err := st.Commit(b, ch); err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func TestReplayRejectsTamperedChains(t *testing.T) {
	w := ledgertest.NewWorld("tamper", 4, 1000)
	if _, err := ledger.Replay(w.Genesis, buildChain(t, w, 3, 8)); err != nil {
		t.Fatalf("untampered chain: %v", err)
	}
	cases := map[string]func(bs []*interfaces.Block) []*interfaces.Block{
		"state root": func(bs []*interfaces.Block) []*interfaces.Block {
			bs[1].Header.StateRoot[0] ^= 1
			return bs
		},
		"dropped tx resealed": func(bs []*interfaces.Block) []*interfaces.Block {
			bs[1].Txs = bs[1].Txs[1:]
			bs[1].Seal()
			return bs
		},
		"dropped tx": func(bs []*interfaces.Block) []*interfaces.Block {
			bs[1].Txs = bs[1].Txs[1:]
			return bs
		},
		"skipped block": func(bs []*interfaces.Block) []*interfaces.Block { return append(bs[:1], bs[2:]...) },
		"swapped blocks": func(bs []*interfaces.Block) []*interfaces.Block {
			bs[1], bs[2] = bs[2], bs[1]
			return bs
		},
		"other cluster": func(bs []*interfaces.Block) []*interfaces.Block {
			bs[2].Header.Cluster = 1
			return bs
		},
		"nil block": func(bs []*interfaces.Block) []*interfaces.Block { return append(bs, nil) },
		"epoch": func(bs []*interfaces.Block) []*interfaces.Block {
			bs[0].Header.Epoch++
			return bs
		},
	}
	for name, tamper := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := ledger.Replay(w.Genesis, tamper(buildChain(t, w, 3, 8))); err == nil {
				t.Fatalf("tampered chain replayed without error")
			}
		})
	}
	other := ledgertest.NewWorld("other", 4, 1000)
	if _, err := ledger.Replay(other.Genesis, buildChain(t, w, 1, 1)); err == nil {
		t.Fatalf("chain replayed on another genesis")
	}
}

func TestCommitRefusesInconsistentBlocks(t *testing.T) {
	w := ledgertest.NewWorld("commit", 3, 100)
	st := mustState(t, w.Genesis)
	build := func() (*interfaces.Block, *ledger.Changes) {
		bl := ledger.NewBuilder(st, 0, st.Parent())
		tx, _ := w.Transfer(bl, 0, 1, 5)
		if err := bl.Apply(tx); err != nil {
			t.Fatal(err)
		}
		return bl.Finish(1, 1, interfaces.BlockMeta{})
	}
	cases := map[string]func(b *interfaces.Block, ch *ledger.Changes){
		"height":  func(b *interfaces.Block, _ *ledger.Changes) { b.Header.Height = 2 },
		"prev":    func(b *interfaces.Block, _ *ledger.Changes) { b.Header.Prev[0] ^= 1 },
		"changes": func(_ *interfaces.Block, ch *ledger.Changes) { ch.Balances[0].Amount++ },
		"changes order": func(_ *interfaces.Block, ch *ledger.Changes) {
			ch.Balances[0], ch.Balances[1] = ch.Balances[1], ch.Balances[0]
		},
		"tx ids": func(_ *interfaces.Block, ch *ledger.Changes) { ch.TxIDs = nil },
		"body":   func(b *interfaces.Block, _ *ledger.Changes) { b.Txs = nil },
	}
	for name, mutate := range cases {
		b, ch := build()
		mutate(b, ch)
		if err := st.Commit(b, ch); err == nil {
			t.Errorf("%s: inconsistent block committed", name)
		}
		if st.Parent().Height != 0 {
			t.Fatalf("%s: failed commit changed the state", name)
		}
	}
}

// BenchmarkBuilderApply applies pre-signed transfers, verifying every
// signature (cold: no cache) or trusting the signature cache the pool
// filled (pooled: each transaction verified once, in the pool).
//
// cold-stdlib is the path before batch verification, emulated: each
// transfer verified alone by crypto/ed25519.Verify, then applied with its
// verdict cached (the cache lookup is the difference from the old cold
// path). cold verifies each alone under the rule (ZIP-215, cached expanded
// keys); cold-batched calls Preverify with each block's 1,000 transfers
// before applying them, so ns/op is the block's batched verification and
// apply over its transfers. All run in one invocation, under the same load.
func BenchmarkBuilderApply(b *testing.B) {
	b.Run("cold-stdlib", func(b *testing.B) { benchApply(b, applyStdlib) })
	b.Run("cold", func(b *testing.B) { benchApply(b, applyCold) })
	b.Run("cold-batched", func(b *testing.B) { benchApply(b, applyBatched) })
	b.Run("pooled", func(b *testing.B) { benchApply(b, applyPooled) })
}

type applyMode int

const (
	applyCold applyMode = iota
	applyStdlib
	applyBatched
	applyPooled
)

func benchApply(b *testing.B, mode applyMode) {
	w := ledgertest.NewWorld("bench", 64, 1<<40)
	st := mustState(b, w.Genesis)
	// Pre-sign a chain of transfers; each iteration applies one.
	const perBlock = 1000
	txs := make([]*interfaces.Transaction, 0, perBlock)
	heads := make([]uint64, len(w.Stars))
	prevs := make([]interfaces.Hash, len(w.Stars))
	for i := 0; i < perBlock; i++ {
		from, to := i%len(w.Stars), (i+1)%len(w.Stars)
		heads[from]++
		tx, err := interfaces.NewTransfer(w.Keys[from], heads[from], prevs[from], w.Stars[to], 1)
		if err != nil {
			b.Fatal(err)
		}
		prevs[from] = tx.ID()
		txs = append(txs, tx)
	}
	var rules *ledger.Rules
	if mode == applyPooled || mode == applyStdlib {
		rules = &ledger.Rules{Signatures: sigcache.New(0)}
		for _, tx := range txs {
			rules.Signatures.Add(tx.ID(), tx)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	var bl *ledger.Builder
	for i := 0; i < b.N; i++ {
		if i%perBlock == 0 {
			bl = ledger.NewBuilder(st, 0, st.Parent()).WithRules(rules)
			if mode == applyBatched {
				bl.Preverify(txs)
			}
		}
		tx := txs[i%perBlock]
		if mode == applyStdlib && !ed25519.Verify(tx.Sender.PublicKey(), tx.SigningBytes(), tx.Sig[:]) {
			b.Fatal("does not verify")
		}
		if err := bl.Apply(tx); err != nil {
			b.Fatal(err)
		}
	}
}

// The ledger trusts the pool's verdict only for the exact bytes that
// verified: a copy of a cached transfer with another signature is verified,
// and refused; a transfer the cache does not hold is verified.
func TestSignatureCacheTrustsOnlyTheBytesThatVerified(t *testing.T) {
	w := ledgertest.NewWorld("sigcache", 2, 10)
	st := mustState(t, w.Genesis)
	rules := &ledger.Rules{Signatures: sigcache.New(4)}
	tx, err := w.Transfer(st, 0, 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := rules.Signatures.Verify(tx.ID(), tx); err != nil {
		t.Fatal(err)
	}
	forged := *tx
	forged.Sig[0] ^= 1
	bl := ledger.NewBuilder(st, 0, st.Parent()).WithRules(rules)
	if err := bl.Apply(&forged); !errors.Is(err, ledger.ErrBadSignature) {
		t.Fatalf("a cached body under another signature: %v, want ErrBadSignature", err)
	}
	if err := bl.Apply(tx); err != nil {
		t.Fatal(err)
	}
	// A bounded cache forgets the oldest; the ledger then verifies again.
	for i := range 4 {
		other := *tx
		other.Seq = uint64(10 + i)
		rules.Signatures.Add(other.ID(), &other)
	}
	if rules.Signatures.Has(tx.ID(), tx) {
		t.Fatal("a cache of 4 still holds the first of 5 entries")
	}
}

// A key-generation message is sequenced on its author's KeyGenStar, apart
// from the author's account, moves nothing, and is ordered only by a chain
// whose rules admit it.
func TestKeyGenMessagesHaveTheirOwnChain(t *testing.T) {
	w := ledgertest.NewWorld("keygen", 2, 10)
	st := mustState(t, w.Genesis)
	kg := func(seq uint64, prev interfaces.Hash, body string) *interfaces.Transaction {
		tx := &interfaces.Transaction{Sender: w.Stars[0], Seq: seq, Prev: prev, Kind: interfaces.TxKeyGen, Payload: []byte(body)}
		if err := tx.Sign(w.Keys[0]); err != nil {
			t.Fatal(err)
		}
		return tx
	}
	first := kg(1, interfaces.Hash{}, "deal")
	if err := ledger.NewBuilder(st, 0, st.Parent()).Apply(first); !errors.Is(err, ledger.ErrWrongCluster) {
		t.Fatalf("a chain without key generation took a key-generation message: %v", err)
	}
	var admitted int
	rules := &ledger.Rules{KeyGen: func(tx *interfaces.Transaction) error {
		if string(tx.Payload) == "refuse" {
			return errors.New("not for the open session")
		}
		admitted++
		return nil
	}}
	bl := ledger.NewBuilder(st, 0, st.Parent()).WithRules(rules)
	if err := bl.Apply(kg(1, interfaces.Hash{}, "refuse")); !errors.Is(err, ledger.ErrMalformed) {
		t.Fatalf("a message the rules refuse: %v, want ErrMalformed", err)
	}
	if err := bl.Apply(first); err != nil {
		t.Fatal(err)
	}
	// The account's own chain is untouched: its first transfer is seq 1.
	tr, err := w.Transfer(bl, 0, 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Seq != 1 {
		t.Fatalf("the account's next sequence is %d after a key-generation message, want 1", tr.Seq)
	}
	if err := bl.Apply(tr); err != nil {
		t.Fatal(err)
	}
	if err := bl.Apply(kg(1, interfaces.Hash{}, "other")); !errors.Is(err, ledger.ErrDoubleSpend) {
		t.Fatalf("a second message at the same key-generation sequence: %v, want ErrDoubleSpend", err)
	}
	if err := bl.Apply(kg(2, first.ID(), "ack")); err != nil {
		t.Fatal(err)
	}
	_, ch := bl.Finish(1, 1, interfaces.BlockMeta{})
	heads := map[interfaces.StarID]uint64{}
	for _, h := range ch.Heads {
		heads[h.Star] = h.Seq
	}
	if heads[interfaces.KeyGenStar(w.Stars[0], interfaces.Hash{})] != 2 || heads[w.Stars[0]] != 1 || admitted != 3 {
		t.Fatalf("heads %v, admitted %d", heads, admitted)
	}
}

// A candidacy is sequenced on its star's MemberStar, apart from the
// account; only the chain of the cluster it names orders it, the galaxy
// never; and the block's metadata lists the block's candidacies in order,
// whatever the proposer put there.
func TestCandidaciesHaveTheirOwnChainAndReachTheMetadata(t *testing.T) {
	w := ledgertest.NewWorld("member", 2, 10)
	st := mustState(t, w.Genesis)
	member := func(seq uint64, prev interfaces.Hash, a interfaces.MemberAction, c interfaces.ClusterID) *interfaces.Transaction {
		tx, err := interfaces.NewMemberTx(w.Keys[0], seq, prev, interfaces.MemberPayload{Action: a, Cluster: c})
		if err != nil {
			t.Fatal(err)
		}
		return tx
	}
	join := member(1, interfaces.Hash{}, interfaces.MemberJoin, 0)
	if err := ledger.NewBuilder(st, interfaces.GalaxyCluster, st.Parent()).Apply(join); !errors.Is(err, ledger.ErrWrongCluster) {
		t.Fatalf("the galaxy took a candidacy: %v", err)
	}
	if err := ledger.NewBuilder(st, 1, st.Parent()).Apply(join); !errors.Is(err, ledger.ErrWrongCluster) {
		t.Fatalf("cluster 1 took a candidacy for cluster 0: %v", err)
	}
	bad := member(1, interfaces.Hash{}, interfaces.MemberJoin, 0)
	bad.Payload = []byte{1, 3, 0, 0, 0, 0}
	if err := bad.Sign(w.Keys[0]); err != nil {
		t.Fatal(err)
	}
	bl := ledger.NewBuilder(st, 0, st.Parent())
	if err := bl.Apply(bad); !errors.Is(err, ledger.ErrMalformed) {
		t.Fatalf("an unknown action: %v, want ErrMalformed", err)
	}
	if err := bl.Apply(join); err != nil {
		t.Fatal(err)
	}
	tr, err := w.Transfer(bl, 0, 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Seq != 1 {
		t.Fatalf("the account's next sequence is %d after a candidacy, want 1", tr.Seq)
	}
	if err := bl.Apply(tr); err != nil {
		t.Fatal(err)
	}
	if err := bl.Apply(member(1, interfaces.Hash{}, interfaces.MemberLeave, 0)); !errors.Is(err, ledger.ErrDoubleSpend) {
		t.Fatalf("a second candidacy at the same sequence: %v, want ErrDoubleSpend", err)
	}
	leave := member(2, join.ID(), interfaces.MemberLeave, 0)
	if err := bl.Apply(leave); err != nil {
		t.Fatal(err)
	}
	forged := []interfaces.Candidacy{{Star: w.Stars[1], Action: interfaces.MemberJoin}}
	blk, ch := bl.Finish(1, 1, interfaces.BlockMeta{Candidacy: forged})
	want := []interfaces.Candidacy{{Star: w.Stars[0], Action: interfaces.MemberJoin}, {Star: w.Stars[0], Action: interfaces.MemberLeave}}
	if !slices.Equal(blk.Meta.Candidacy, want) {
		t.Fatalf("metadata lists %v, want %v", blk.Meta.Candidacy, want)
	}
	heads := map[interfaces.StarID]uint64{}
	for _, h := range ch.Heads {
		heads[h.Star] = h.Seq
	}
	if heads[interfaces.MemberStar(w.Stars[0])] != 2 || heads[w.Stars[0]] != 1 {
		t.Fatalf("heads %v", heads)
	}
	// The metadata survives its encoding, and the summary a checkpoint carries.
	m, err := interfaces.DecodeBlockMeta(blk.Meta.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if sum := blk.Meta.Summary(); !slices.Equal(m.Candidacy, want) || !slices.Equal(sum.Candidacy, want) {
		t.Fatalf("decoded %v, summary %v", m.Candidacy, sum.Candidacy)
	}
}
