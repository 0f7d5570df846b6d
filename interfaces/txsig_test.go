package interfaces_test

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"

	"filippo.io/edwards25519"
	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"

	"github.com/constellation-chain/constellation/interfaces"
)

// smallOrder holds every 32-byte encoding of a point of small order: the
// eight points' canonical encodings, then the six non-canonical ones (a
// y-coordinate of p or p+1, or x = 0 with the sign bit set). ZIP-215's
// test vectors are the pairs of these as (A, R) with S = 0.
var smallOrder = []string{
	"0100000000000000000000000000000000000000000000000000000000000000",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"0000000000000000000000000000000000000000000000000000000000000000",
	"0000000000000000000000000000000000000000000000000000000000000080",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
	"0100000000000000000000000000000000000000000000000000000000000080",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
}

func unhex32(tb testing.TB, s string) [32]byte {
	tb.Helper()
	var out [32]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		tb.Fatalf("bad test constant %q", s)
	}
	copy(out[:], b)
	return out
}

// The constants are what they claim: points, of small order.
func TestSmallOrderEncodingsAreSmallOrderPoints(t *testing.T) {
	id := edwards25519.NewIdentityPoint()
	for _, s := range smallOrder {
		b := unhex32(t, s)
		p, err := new(edwards25519.Point).SetBytes(b[:])
		if err != nil {
			t.Fatalf("%s: not a point: %v", s, err)
		}
		if new(edwards25519.Point).MultByCofactor(p).Equal(id) != 1 {
			t.Fatalf("%s: not of small order", s)
		}
	}
}

// forged returns a data transaction from sender carrying sig.
func forged(sender [32]byte, sig [64]byte, payload string) *interfaces.Transaction {
	return &interfaces.Transaction{
		Sender:  interfaces.StarID(sender),
		Seq:     1,
		Kind:    interfaces.TxData,
		Payload: []byte(payload),
		Sig:     sig,
	}
}

// concat returns r ‖ s as a signature.
func concat(r, s [32]byte) [64]byte {
	var sig [64]byte
	copy(sig[:32], r[:])
	copy(sig[32:], s[:])
	return sig
}

// groupOrder is ℓ, little-endian.
var groupOrder = [32]byte{
	0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
}

// plusOrder returns s + ℓ, the non-canonical twin of a canonical S.
func plusOrder(s []byte) [32]byte {
	var out [32]byte
	carry := 0
	for i := range 32 {
		v := int(s[i]) + int(groupOrder[i]) + carry
		out[i], carry = byte(v), v>>8
	}
	return out
}

type sigVector struct {
	name string
	tx   *interfaces.Transaction
	// zip215 is the verdict the rule must give: nil for valid, else the
	// error VerifySignatures must wrap (ErrBadSignature) or any error (errAny).
	want error
}

var errAny = errors.New("any error")

// edgeVectors are the crafted and ordinary cases single and batch
// verification must agree on.
func edgeVectors(tb testing.TB) []sigVector {
	tb.Helper()
	valid := sampleTx(tb, "edge-valid", 1, false)
	counter := sampleTx(tb, "edge-counter", 2, true)

	badSender := sampleTx(tb, "edge-bad", 1, false)
	badSender.Sig[5] ^= 1

	wrongKey := sampleTx(tb, "edge-wrong", 1, false)
	wrongKey.Sender = interfaces.DevStar("someone-else") // signed by edge-wrong's key

	badCounter := sampleTx(tb, "edge-badcounter", 2, true)
	badCounter.CounterSig[7] ^= 1

	unnamed := sampleTx(tb, "edge-unnamed", 1, false)
	unnamed.CounterSig = append([]byte(nil), unnamed.Sig[:]...) // a counter-signature, no counterparty

	unnamedBadSender := sampleTx(tb, "edge-unnamed-bad", 1, false)
	unnamedBadSender.CounterSig = append([]byte(nil), unnamedBadSender.Sig[:]...)
	unnamedBadSender.Sig[0] ^= 1

	nonCanonicalS := sampleTx(tb, "edge-s", 1, false)
	s := plusOrder(nonCanonicalS.Sig[32:])
	copy(nonCanonicalS.Sig[32:], s[:])

	shortCounter := sampleTx(tb, "edge-short", 2, true)
	shortCounter.CounterSig = shortCounter.CounterSig[:63]

	identity := unhex32(tb, smallOrder[0])
	order8 := unhex32(tb, smallOrder[4])
	negZero := unhex32(tb, smallOrder[8]) // identity, x = 0 with the sign bit
	yPlusP := unhex32(tb, smallOrder[12]) // identity, y = p+1
	var zero [32]byte

	// y = 2 is not the y of a curve point.
	var notPoint [32]byte
	notPoint[0] = 2
	if _, err := new(edwards25519.Point).SetBytes(notPoint[:]); err == nil {
		tb.Fatal("y = 2 decodes; pick another non-point")
	}

	certified := &interfaces.Transaction{Sender: interfaces.ClusterStar(1), Seq: 1, Kind: interfaces.TxCheckpoint}
	certifiedSigned := &interfaces.Transaction{Sender: interfaces.ClusterStar(1), Seq: 1, Kind: interfaces.TxCheckpoint}
	certifiedSigned.Sig[0] = 1

	return []sigVector{
		{"valid", valid, nil},
		{"valid with counter-signature", counter, nil},
		{"bad sender signature", badSender, interfaces.ErrBadSignature},
		{"signed by the wrong key", wrongKey, interfaces.ErrBadSignature},
		{"bad counter-signature", badCounter, interfaces.ErrBadSignature},
		{"counter-signature without counterparty", unnamed, errAny},
		{"counter-signature without counterparty, bad sender", unnamedBadSender, interfaces.ErrBadSignature},
		{"non-canonical S", nonCanonicalS, interfaces.ErrBadSignature},
		{"63-byte counter-signature", shortCounter, interfaces.ErrBadSignature},
		{"small-order A (order 8), R identity, S 0", forged(order8, concat(identity, zero), "x"), nil},
		{"small-order A, R of order 8, S 0", forged(identity, concat(order8, zero), "y"), nil},
		{"non-canonical A (x = -0)", forged(negZero, concat(identity, zero), "z"), nil},
		{"non-canonical R (y = p+1)", forged(identity, concat(yPlusP, zero), "w"), nil},
		{"small-order A, S not 0", forged(order8, concat(identity, [32]byte{1}), "v"), interfaces.ErrBadSignature},
		{"A not a point", forged(notPoint, valid.Sig, "u"), interfaces.ErrBadSignature},
		{"R not a point", forged(valid.Sender, concat(notPoint, [32]byte{1}), "t"), interfaces.ErrBadSignature},
		{"certified kind, unsigned", certified, nil},
		{"certified kind carrying a signature", certifiedSigned, errAny},
	}
}

func checkWant(t *testing.T, name string, got, want error) {
	t.Helper()
	switch {
	case want == nil && got != nil:
		t.Errorf("%s: %v, want valid", name, got)
	case want == errAny && got == nil:
		t.Errorf("%s: valid, want an error", name)
	case want != nil && want != errAny && !errors.Is(got, want):
		t.Errorf("%s: %v, want %v", name, got, want)
	}
}

func sameError(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Error() == b.Error() && errors.Is(a, interfaces.ErrBadSignature) == errors.Is(b, interfaces.ErrBadSignature)
}

// validTxs returns n valid transfers from n different senders.
func validTxs(tb testing.TB, prefix string, n int) []*interfaces.Transaction {
	tb.Helper()
	txs := make([]*interfaces.Transaction, n)
	for i := range txs {
		txs[i] = sampleTx(tb, fmt.Sprintf("%s-%d", prefix, i), uint64(i+1), false)
	}
	return txs
}

// A transaction's verdict is the same checked alone, alone in a batch,
// among all the edge cases, and among 63 valid transactions (where the
// batch equation fails and falls back, or passes), at every position,
// and it is the rule's (ZIP-215) verdict.
func TestTxSignaturesSameVerdictAloneAndInABatch(t *testing.T) {
	vs := edgeVectors(t)
	all := make([]*interfaces.Transaction, len(vs))
	alone := make([]error, len(vs))
	for i, v := range vs {
		all[i] = v.tx
		alone[i] = v.tx.VerifySignatures()
		checkWant(t, v.name+" alone", alone[i], v.want)
		// Twice: the second time the sender's expanded key may be cached.
		if again := v.tx.VerifySignatures(); !sameError(again, alone[i]) {
			t.Errorf("%s: alone %v, then %v", v.name, alone[i], again)
		}
		if got := interfaces.VerifyTransactions([]*interfaces.Transaction{v.tx}); !sameError(got[0], alone[i]) {
			t.Errorf("%s: alone %v, alone in a batch %v", v.name, alone[i], got[0])
		}
	}
	for i, got := range interfaces.VerifyTransactions(all) {
		if !sameError(got, alone[i]) {
			t.Errorf("%s: alone %v, among the edge cases %v", vs[i].name, alone[i], got)
		}
	}
	filler := validTxs(t, "filler", interfaces.TxBatchSize-1)
	for i, v := range vs {
		for _, pos := range []int{0, 31, len(filler)} {
			batch := append([]*interfaces.Transaction(nil), filler[:pos]...)
			batch = append(batch, v.tx)
			batch = append(batch, filler[pos:]...)
			got := interfaces.VerifyTransactions(batch)
			if !sameError(got[pos], alone[i]) {
				t.Errorf("%s at %d of 64: alone %v, in the batch %v", v.name, pos, alone[i], got[pos])
			}
			for j, err := range got {
				if j != pos && err != nil {
					t.Errorf("%s at %d of 64: valid filler %d refused: %v", v.name, pos, j, err)
				}
			}
		}
	}
}

// Every pair of small-order encodings as (A, R) with S = 0 verifies, alone
// and in one batch: ZIP-215's test vectors, for any message.
func TestTxSignatureRuleIsZIP215(t *testing.T) {
	var txs []*interfaces.Transaction
	for _, a := range smallOrder {
		for _, r := range smallOrder {
			tx := forged(unhex32(t, a), concat(unhex32(t, r), [32]byte{}), a+r)
			if err := tx.VerifySignatures(); err != nil {
				t.Errorf("A %s R %s: %v", a[:8], r[:8], err)
			}
			txs = append(txs, tx)
		}
	}
	for i, err := range interfaces.VerifyTransactions(txs) {
		if err != nil {
			t.Errorf("vector %d in a batch: %v", i, err)
		}
	}
}

// What crypto/ed25519.Verify (the rule before ZIP-215) accepts, the rule
// accepts, so blocks accepted before replay the same way.
func TestTxSignatureRuleAcceptsWhatTheOldRuleAccepted(t *testing.T) {
	for _, v := range edgeVectors(t) {
		if v.tx.Kind.Certified() || len(v.tx.CounterSig) > 0 {
			continue
		}
		msg := v.tx.SigningBytes()
		old := ed25519.Verify(v.tx.Sender.PublicKey(), msg, v.tx.Sig[:])
		if old && v.tx.VerifySignatures() != nil {
			t.Errorf("%s: crypto/ed25519 accepts, the rule refuses", v.name)
		}
	}
	for _, a := range smallOrder {
		for _, r := range smallOrder {
			tx := forged(unhex32(t, a), concat(unhex32(t, r), [32]byte{}), "old")
			old := ed25519.Verify(tx.Sender.PublicKey(), tx.SigningBytes(), tx.Sig[:])
			if old && tx.VerifySignatures() != nil {
				t.Errorf("A %s R %s: crypto/ed25519 accepts, the rule refuses", a[:8], r[:8])
			}
		}
	}
}

// A batch of 64 with one bad signature refuses exactly that one.
func TestOneBadSignatureInABatchOf64RejectsOnlyIt(t *testing.T) {
	for _, bad := range []int{0, 17, 63} {
		txs := validTxs(t, "batch64", 64)
		forgedTx := *txs[bad]
		forgedTx.Sig[10] ^= 0x40
		txs[bad] = &forgedTx
		errs := interfaces.VerifyTransactions(txs)
		for i, err := range errs {
			switch {
			case i == bad && !errors.Is(err, interfaces.ErrBadSignature):
				t.Errorf("bad signature at %d: %v, want ErrBadSignature", bad, err)
			case i != bad && err != nil:
				t.Errorf("bad signature at %d: valid transaction %d refused: %v", bad, i, err)
			}
		}
	}
}

// Batches larger than one (TxBatchSize) and spread over goroutines give
// each transaction its own verdict.
func TestManyBatchesKeepEachVerdict(t *testing.T) {
	txs := validTxs(t, "many", 3*interfaces.TxBatchSize+5)
	for _, i := range []int{3, 64, 130, len(txs) - 1} {
		c := *txs[i]
		c.Sig[40] ^= 1
		txs[i] = &c
	}
	for i, err := range interfaces.VerifyTransactions(txs) {
		if want := txs[i].VerifySignatures(); !sameError(err, want) {
			t.Errorf("tx %d: batch %v, alone %v", i, err, want)
		}
	}
	if errs := interfaces.VerifyTransactions([]*interfaces.Transaction{nil}); errs[0] == nil {
		t.Error("a nil transaction verified")
	}
	if errs := interfaces.VerifyTransactions(nil); len(errs) != 0 {
		t.Errorf("%d verdicts for no transactions", len(errs))
	}
}

// Any key and signature bytes get the same verdict alone and in a batch.
func FuzzTxSignatureVerdictAloneEqualsBatch(f *testing.F) {
	valid := sampleTx(f, "fuzz-sig", 1, false)
	f.Add(valid.Sender[:], valid.Sig[:], valid.Payload)
	for _, a := range smallOrder[:3] {
		for _, r := range smallOrder[10:] {
			pk, rb := unhex32(f, a), unhex32(f, r)
			sig := concat(rb, [32]byte{})
			f.Add(pk[:], sig[:], []byte("p"))
		}
	}
	filler := validTxs(f, "fuzz-filler", 5)
	f.Fuzz(func(t *testing.T, pk, sig, payload []byte) {
		if len(pk) != 32 || len(sig) != 64 || len(payload) > 1024 {
			return
		}
		tx := forged([32]byte(pk), [64]byte(sig), "")
		tx.Payload = payload
		alone := tx.VerifySignatures()
		got := interfaces.VerifyTransactions(append([]*interfaces.Transaction{tx}, filler...))
		if !sameError(got[0], alone) {
			t.Fatalf("alone %v, in a batch %v", alone, got[0])
		}
		for i, err := range got[1:] {
			if err != nil {
				t.Fatalf("valid filler %d refused: %v", i, err)
			}
		}
	})
}

// Per-signature cost of crypto/ed25519.Verify, of the rule alone (fresh
// and cached expanded key) and of the rule in batches of 64 and 256, in
// one run (see docs/benchmarks.md). Each sub-benchmark verifies
// transactions of distinct senders; ns/op is per signature.
func BenchmarkTxSignatureVerify(b *testing.B) {
	const senders = 256
	txs := validTxs(b, "bench", senders)
	msgs := make([][]byte, senders)
	for i, tx := range txs {
		msgs[i] = tx.SigningBytes()
	}
	opts := &voi.Options{Verify: voi.VerifyOptionsZIP_215}
	b.Run("stdlib-single", func(b *testing.B) {
		i := 0
		for b.Loop() {
			tx := txs[i%senders]
			if !ed25519.Verify(tx.Sender.PublicKey(), msgs[i%senders], tx.Sig[:]) {
				b.Fatal("does not verify")
			}
			i++
		}
	})
	b.Run("voi-single", func(b *testing.B) {
		i := 0
		for b.Loop() {
			tx := txs[i%senders]
			if !voi.VerifyWithOptions(voi.PublicKey(tx.Sender[:]), msgs[i%senders], tx.Sig[:], opts) {
				b.Fatal("does not verify")
			}
			i++
		}
	})
	b.Run("voi-single-cached-key", func(b *testing.B) {
		// VerifyTxSignature: the senders' expanded keys are cached.
		i := 0
		for b.Loop() {
			tx := txs[i%senders]
			if !interfaces.VerifyTxSignature(tx.Sender, msgs[i%senders], tx.Sig[:]) {
				b.Fatal("does not verify")
			}
			i++
		}
	})
	for _, n := range []int{64, 256} {
		b.Run(fmt.Sprintf("voi-batch-%d", n), func(b *testing.B) {
			// One batch of n per iteration, keys expanded as they come
			// (no cache): ns/sig is reported.
			batch := txs[:n]
			for b.Loop() {
				bv := voi.NewBatchVerifierWithCapacity(n)
				for j, tx := range batch {
					bv.AddWithOptions(voi.PublicKey(tx.Sender[:]), msgs[j], tx.Sig[:], opts)
				}
				if ok, _ := bv.Verify(nil); !ok {
					b.Fatal("batch does not verify")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/sig")
		})
		b.Run(fmt.Sprintf("VerifyTransactions-%d", n), func(b *testing.B) {
			// The transactions path: cached expanded keys, batches of
			// TxBatchSize over GOMAXPROCS.
			batch := txs[:n]
			for b.Loop() {
				for _, err := range interfaces.VerifyTransactions(batch) {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/sig")
		})
	}
}
