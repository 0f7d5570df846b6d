package sigcache_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/constellation-chain/constellation/framework/sigcache"
	"github.com/constellation-chain/constellation/interfaces"
)

func transfers(t *testing.T, n int) []*interfaces.Transaction {
	t.Helper()
	txs := make([]*interfaces.Transaction, n)
	for i := range txs {
		tx, err := interfaces.NewTransfer(interfaces.DevKey(fmt.Sprint("s", i)), 1, interfaces.Hash{}, interfaces.DevStar("sink"), 1)
		if err != nil {
			t.Fatal(err)
		}
		txs[i] = tx
	}
	return txs
}

func ids(txs []*interfaces.Transaction) []interfaces.Hash {
	out := make([]interfaces.Hash, len(txs))
	for i, tx := range txs {
		out[i] = tx.ID()
	}
	return out
}

// VerifyBatch gives Verify's verdicts, records what verified and only
// that, and trusts a hit as Verify does.
func TestVerifyBatchGivesVerifysVerdictsAndRecordsSuccesses(t *testing.T) {
	txs := transfers(t, 100)
	for _, i := range []int{4, 50, 99} {
		bad := *txs[i]
		bad.Sig[2] ^= 1
		txs[i] = &bad
	}
	c := sigcache.New(0)
	errs := c.VerifyBatch(ids(txs), txs)
	for i, tx := range txs {
		want := tx.VerifySignatures()
		if (errs[i] == nil) != (want == nil) || (want != nil && errs[i].Error() != want.Error()) {
			t.Errorf("tx %d: VerifyBatch %v, VerifySignatures %v", i, errs[i], want)
		}
		if c.Has(tx.ID(), tx) != (want == nil) {
			t.Errorf("tx %d: recorded %v, verified %v", i, c.Has(tx.ID(), tx), want == nil)
		}
		if v := sigcache.New(0).Verify(tx.ID(), tx); (v == nil) != (want == nil) {
			t.Errorf("tx %d: Verify %v, VerifyBatch %v", i, v, errs[i])
		}
	}
	// A hit is trusted without verifying, as by Verify: record a body
	// under a broken signature by hand and it passes.
	forged := *txs[0]
	forged.Sig[9] ^= 1
	c.Add(forged.ID(), &forged)
	if errs := c.VerifyBatch([]interfaces.Hash{forged.ID()}, []*interfaces.Transaction{&forged}); errs[0] != nil {
		t.Fatalf("a hit was verified again: %v", errs[0])
	}
	var none *sigcache.Cache
	errs = none.VerifyBatch(ids(txs[:5]), txs[:5])
	if errs[0] != nil || !errors.Is(errs[4], interfaces.ErrBadSignature) {
		t.Fatalf("nil cache: %v", errs)
	}
}
