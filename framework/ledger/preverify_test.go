package ledger_test

import (
	"encoding/hex"
	"errors"
	"testing"

	"github.com/constellation-chain/constellation/framework/ledger"
	"github.com/constellation-chain/constellation/framework/ledger/ledgertest"
	"github.com/constellation-chain/constellation/framework/sigcache"
	"github.com/constellation-chain/constellation/interfaces"
)

// forgedData is a data transaction from a star whose key is the point
// encoded by a, signed (a ‖ r) by anyone: with S = 0 and small-order A and
// R it verifies under ZIP-215 for any message.
func forgedData(t *testing.T, a, r string) *interfaces.Transaction {
	t.Helper()
	ab, err1 := hex.DecodeString(a)
	rb, err2 := hex.DecodeString(r)
	if err1 != nil || err2 != nil {
		t.Fatal("bad test constant")
	}
	tx := &interfaces.Transaction{Seq: 1, Kind: interfaces.TxData, Payload: []byte("forged")}
	copy(tx.Sender[:], ab)
	copy(tx.Sig[:32], rb)
	return tx
}

// preverifyBlock returns a block's worth of transactions: valid transfers,
// copies of some with a broken signature placed before the originals,
// and crafted signatures from small-order keys (one with a non-canonical
// R), which the rule accepts.
func preverifyBlock(t *testing.T, w *ledgertest.World) []*interfaces.Transaction {
	t.Helper()
	const identity = "0100000000000000000000000000000000000000000000000000000000000000"
	const order8 = "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"
	const identityYPlusP = "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"
	var txs []*interfaces.Transaction
	heads := make([]uint64, len(w.Stars))
	prevs := make([]interfaces.Hash, len(w.Stars))
	for i := range 150 {
		from, to := i%len(w.Stars), (i+1)%len(w.Stars)
		heads[from]++
		tx, err := interfaces.NewTransfer(w.Keys[from], heads[from], prevs[from], w.Stars[to], 1)
		if err != nil {
			t.Fatal(err)
		}
		prevs[from] = tx.ID()
		if i%37 == 5 {
			bad := *tx
			bad.Sig[3] ^= 1
			txs = append(txs, &bad)
		}
		txs = append(txs, tx)
	}
	txs = append(txs[:70], append([]*interfaces.Transaction{
		forgedData(t, order8, identity),
		forgedData(t, identity, identityYPlusP),
	}, txs[70:]...)...)
	return txs
}

// Preverify changes no verdict: a block's transactions applied after
// Preverify (with or without the node's cache) are accepted and refused
// exactly as without it, with the same errors and the same block.
func TestPreverifyChangesNoVerdict(t *testing.T) {
	w := ledgertest.NewWorld("preverify", 8, 1<<20)
	st := mustState(t, w.Genesis)
	txs := preverifyBlock(t, w)

	run := func(rules *ledger.Rules, preverify bool) ([]string, interfaces.BlockHeader) {
		bl := ledger.NewBuilder(st, 0, st.Parent()).WithRules(rules)
		if preverify {
			bl.Preverify(txs)
		}
		verdicts := make([]string, len(txs))
		for i, tx := range txs {
			if err := bl.Apply(tx); err != nil {
				verdicts[i] = err.Error()
			}
		}
		b, _ := bl.Finish(1, w.Genesis.Timestamp+1, interfaces.BlockMeta{})
		return verdicts, b.Header
	}
	want, wantHeader := run(nil, false)
	refused := 0
	for i, v := range want {
		if v != "" {
			refused++
			if !errors.Is(txs[i].VerifySignatures(), interfaces.ErrBadSignature) {
				t.Errorf("tx %d refused for something else: %s", i, v)
			}
		}
	}
	if refused != 4 {
		t.Fatalf("%d refused, want the 4 broken copies", refused)
	}
	for name, c := range map[string]struct {
		rules     *ledger.Rules
		preverify bool
	}{
		"preverify":                      {nil, true},
		"preverify, node cache":          {&ledger.Rules{Signatures: sigcache.New(0)}, true},
		"no preverify, node cache":       {&ledger.Rules{Signatures: sigcache.New(0)}, false},
		"preverify, tiny node cache":     {&ledger.Rules{Signatures: sigcache.New(3)}, true},
		"preverify, rules without cache": {&ledger.Rules{}, true},
	} {
		got, header := run(c.rules, c.preverify)
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s: tx %d: %q, want %q", name, i, got[i], want[i])
			}
		}
		if header != wantHeader {
			t.Errorf("%s: another block", name)
		}
	}
}

// A block received from elsewhere (VerifyBlock) verifies its transactions
// in batches and accepts the block its builder made.
func TestVerifyBlockBatchVerifiesAndAccepts(t *testing.T) {
	w := ledgertest.NewWorld("verifyblock", 8, 1<<20)
	st := mustState(t, w.Genesis)
	bl := ledger.NewBuilder(st, 0, st.Parent())
	for _, tx := range preverifyBlock(t, w) {
		_ = bl.Apply(tx) // the broken copies are refused
	}
	b, _ := bl.Finish(1, w.Genesis.Timestamp+1, interfaces.BlockMeta{})
	if _, err := ledger.VerifyBlock(st, st.Parent(), b); err != nil {
		t.Fatal(err)
	}
	forgedBlock := *b
	forgedBlock.Txs = append([]*interfaces.Transaction(nil), b.Txs...)
	bad := *forgedBlock.Txs[40]
	bad.Sig[0] ^= 1
	forgedBlock.Txs[40] = &bad
	if _, err := ledger.VerifyBlock(st, st.Parent(), &forgedBlock); !errors.Is(err, ledger.ErrBadSignature) {
		t.Fatalf("block with a broken signature: %v, want ErrBadSignature", err)
	}
}
