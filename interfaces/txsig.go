package interfaces

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// The transaction signature rule.
//
// A transaction's signatures (the sender's Sig and a counterparty's
// CounterSig) are valid when they verify under ZIP-215
// (https://zips.z.cash/zip-0215), as curve25519-voi implements it with
// VerifyOptionsZIP_215:
//
//   - S must be canonical (below the group order ℓ);
//   - the public key A and the signature's R may be any encoding of any
//     curve point, including non-canonical encodings and points of small
//     order; both are hashed as the bytes given;
//   - the equation is the cofactored one, [8][S]B = [8]R + [8][k]A, with
//     k = SHA-512(R ‖ A ‖ message) reduced mod ℓ.
//
// The rule is the same whichever path checks a transaction: alone
// (VerifySignatures), in a batch (VerifyTransactions), in the serial
// fallback of a batch that failed, or from a cache that holds only what
// verified. The cofactored equation is what makes that so: a batch of
// entries that each satisfy it satisfies the batch equation, and a batch
// with one that does not fails except with probability about 2⁻¹²⁸ over
// the batch's random coefficients, whereupon every entry is checked alone.
// crypto/ed25519.Verify, which the chain used before, is cofactorless:
// batch verification cannot reproduce its verdict on crafted signatures
// (small-order components, non-canonical R). ZIP-215 accepts every
// signature crypto/ed25519.Verify accepts, so blocks accepted under the
// old rule replay under this one. Like the old rule, it lets anyone sign
// for a star whose key is a point of small order; no honest key is one.

// txVerifyOptions selects the transaction signature rule.
var txVerifyOptions = &voi.Options{Verify: voi.VerifyOptionsZIP_215}

// TxBatchSize is how many signatures VerifyTransactions checks in one
// batch. Batches run in parallel over GOMAXPROCS; a batch that fails is
// rechecked one signature at a time, so it bounds what one bad signature
// costs the others.
const TxBatchSize = 64

// expandedKeys caches the expanded form (precomputed multiples) of the
// public keys whose signatures verified, so a repeat sender's next
// signature is verified faster. It holds about 1.5 KiB per key.
var expandedKeys = newKeyCache(1 << 12)

// keyCache is a bounded map from a star to its expanded public key; the
// oldest entry is forgotten first. It is safe for concurrent use. A key
// enters it only after a signature by it verified, so signatures that do
// not verify cannot evict the keys of honest senders.
type keyCache struct {
	mu   sync.Mutex
	m    map[StarID]*voi.ExpandedPublicKey
	ring []StarID
	next int
	full bool
}

func newKeyCache(size int) *keyCache {
	return &keyCache{m: make(map[StarID]*voi.ExpandedPublicKey, size), ring: make([]StarID, size)}
}

func (c *keyCache) get(s StarID) *voi.ExpandedPublicKey {
	c.mu.Lock()
	k := c.m[s]
	c.mu.Unlock()
	return k
}

func (c *keyCache) add(s StarID, k *voi.ExpandedPublicKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[s]; ok {
		return
	}
	if c.full {
		delete(c.m, c.ring[c.next])
	}
	c.ring[c.next] = s
	c.m[s] = k
	if c.next++; c.next == len(c.ring) {
		c.next, c.full = 0, true
	}
}

// expand returns s's expanded public key and whether it came from the
// cache; nil when s is not the encoding of a curve point (no signature by
// it verifies then).
func expand(s StarID) (*voi.ExpandedPublicKey, bool) {
	if k := expandedKeys.get(s); k != nil {
		return k, true
	}
	k, err := voi.NewExpandedPublicKey(voi.PublicKey(s[:]))
	if err != nil {
		return nil, false
	}
	return k, false
}

// VerifyTxSignature reports whether sig is key's signature of msg under
// the transaction signature rule (ZIP-215, see above).
func VerifyTxSignature(key StarID, msg, sig []byte) bool {
	k, cached := expand(key)
	if k == nil {
		return false
	}
	if !voi.VerifyExpandedWithOptions(k, msg, sig, txVerifyOptions) {
		return false
	}
	if !cached {
		expandedKeys.add(key, k)
	}
	return true
}

// preVerify checks what VerifySignatures checks before any signature: it
// returns done when that settles the verdict (err, possibly nil).
func (t *Transaction) preVerify() (done bool, err error) {
	if t.Kind.Certified() {
		// Authenticated by the certificates in the payload, which only the
		// ledger, knowing the groups' keys, can check.
		if t.Sig != ([64]byte{}) || len(t.CounterSig) != 0 || !t.Counterparty.IsZero() {
			return true, fmt.Errorf("%s transaction carries a signature or a counterparty", t.Kind)
		}
		return true, nil
	}
	return false, nil
}

// sigVerdict turns the outcome of the two signature checks into
// VerifySignatures' error. counterOK is read only when the sender's
// signature verified and a counter-signature is present.
func (t *Transaction) sigVerdict(senderOK, counterOK bool) error {
	if !senderOK {
		return fmt.Errorf("sender %s: %w", t.Sender.Short(), ErrBadSignature)
	}
	if len(t.CounterSig) > 0 {
		if t.Counterparty.IsZero() {
			return errors.New("counter-signature present but no counterparty named")
		}
		if !counterOK {
			return fmt.Errorf("counterparty %s: %w", t.Counterparty.Short(), ErrBadSignature)
		}
	}
	return nil
}

// sigEntry is one signature of a batch.
type sigEntry struct {
	key StarID
	msg []byte
	sig []byte
}

// VerifyTransactions checks the signatures of txs in batches:
// errs[i] is exactly what txs[i].VerifySignatures() returns, same rule and
// same error, whatever else the batch holds. A nil entry of txs gets an
// error. It may use up to GOMAXPROCS goroutines and is safe for
// concurrent use.
func VerifyTransactions(txs []*Transaction) []error {
	errs := make([]error, len(txs))
	var (
		entries []sigEntry
		first   = make([]int, len(txs)) // txs[i]'s first entry, or -1
	)
	for i, t := range txs {
		first[i] = -1
		if t == nil {
			errs[i] = errors.New("verify transaction: nil")
			continue
		}
		if done, err := t.preVerify(); done {
			errs[i] = err
			continue
		}
		if len(t.CounterSig) > 0 && t.Counterparty.IsZero() {
			// Settled by the sender's signature alone: check it alone.
			errs[i] = t.VerifySignatures()
			continue
		}
		msg := t.SigningBytes()
		first[i] = len(entries)
		entries = append(entries, sigEntry{key: t.Sender, msg: msg, sig: t.Sig[:]})
		if len(t.CounterSig) > 0 {
			entries = append(entries, sigEntry{key: t.Counterparty, msg: msg, sig: t.CounterSig})
		}
	}
	ok := verifyEntries(entries)
	for i, t := range txs {
		if first[i] < 0 {
			continue
		}
		counterOK := len(t.CounterSig) > 0 && ok[first[i]+1]
		errs[i] = t.sigVerdict(ok[first[i]], counterOK)
	}
	return errs
}

// verifyEntries verifies es in batches of TxBatchSize, in parallel over
// GOMAXPROCS, and reports each entry's verdict.
func verifyEntries(es []sigEntry) []bool {
	ok := make([]bool, len(es))
	chunks := (len(es) + TxBatchSize - 1) / TxBatchSize
	workers := min(chunks, runtime.GOMAXPROCS(0))
	if workers <= 1 {
		for lo := 0; lo < len(es); lo += TxBatchSize {
			hi := min(lo+TxBatchSize, len(es))
			verifyBatch(es[lo:hi], ok[lo:hi])
		}
		return ok
	}
	next := make(chan int, chunks)
	for lo := 0; lo < len(es); lo += TxBatchSize {
		next <- lo
	}
	close(next)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for lo := range next {
				hi := min(lo+TxBatchSize, len(es))
				verifyBatch(es[lo:hi], ok[lo:hi])
			}
		})
	}
	wg.Wait()
	return ok
}

// verifyBatch verifies es in one batch and writes each entry's verdict to
// ok. When the batch equation fails, curve25519-voi checks each entry
// alone with the single-signature equation, so a bad signature is refused
// and the others in its batch are still accepted.
func verifyBatch(es []sigEntry, ok []bool) {
	if len(es) == 0 {
		return
	}
	bv := voi.NewBatchVerifierWithCapacity(len(es))
	keys := make([]*voi.ExpandedPublicKey, len(es))
	fresh := make([]bool, len(es))
	for i, e := range es {
		k, cached := expand(e.key)
		keys[i], fresh[i] = k, !cached
		if k == nil {
			// Not a point: the verifier refuses the entry as it would alone.
			bv.AddWithOptions(voi.PublicKey(e.key[:]), e.msg, e.sig, txVerifyOptions)
			continue
		}
		bv.AddExpandedWithOptions(k, e.msg, e.sig, txVerifyOptions)
	}
	// crypto/rand draws the batch's coefficients; the verdict does not
	// depend on them (but with probability about 2⁻¹²⁸).
	_, valid := bv.Verify(nil)
	copy(ok, valid)
	for i := range es {
		if ok[i] && fresh[i] && keys[i] != nil {
			expandedKeys.add(es[i].key, keys[i])
		}
	}
}
