// Package sigcache remembers which transactions' signatures a node has
// verified, so that each is verified once per node: the pool verifies a
// transaction when it arrives, and the ledger, applying the block that
// holds it, trusts the cache instead of verifying again. A transaction
// that reaches the ledger without passing the pool is verified there.
//
// The key is the hash of the transaction's id (which covers everything
// the signatures sign) together with both signatures, so only the exact
// bytes that verified are trusted: the same body with another signature
// is a miss. A hit therefore gives the verdict a verification would, and
// the ledger's result is the same with or without the cache.
//
// Verify checks one transaction, VerifyBatch many at once in batches
// (interfaces.VerifyTransactions); both apply the one transaction
// signature rule (ZIP-215, interfaces/txsig.go), so the verdict does not
// depend on the path.
package sigcache

import (
	"sync"

	"github.com/constellation-chain/constellation/interfaces"
)

// DefaultSize is the number of transactions a cache remembers by default:
// more than a pool holds at its default bound.
const DefaultSize = 1 << 17

// Cache is a bounded set of verified transactions; the oldest entry is
// forgotten first. It is safe for concurrent use.
type Cache struct {
	mu   sync.Mutex
	set  map[interfaces.Hash]struct{}
	ring []interfaces.Hash
	next int
	full bool
}

// New returns a cache of size entries (DefaultSize when size <= 0).
func New(size int) *Cache {
	if size <= 0 {
		size = DefaultSize
	}
	return &Cache{set: make(map[interfaces.Hash]struct{}, size), ring: make([]interfaces.Hash, size)}
}

func key(id interfaces.Hash, tx *interfaces.Transaction) interfaces.Hash {
	return interfaces.DomainSum("constellation/verified-tx/v1", id[:], tx.Sig[:], tx.CounterSig)
}

// Has reports whether tx, whose id is id, verified before.
func (c *Cache) Has(id interfaces.Hash, tx *interfaces.Transaction) bool {
	if c == nil {
		return false
	}
	k := key(id, tx)
	c.mu.Lock()
	_, ok := c.set[k]
	c.mu.Unlock()
	return ok
}

// Add records that tx, whose id is id, verified.
func (c *Cache) Add(id interfaces.Hash, tx *interfaces.Transaction) {
	if c == nil {
		return
	}
	k := key(id, tx)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.set[k]; ok {
		return
	}
	if c.full {
		delete(c.set, c.ring[c.next])
	}
	c.ring[c.next] = k
	c.set[k] = struct{}{}
	if c.next++; c.next == len(c.ring) {
		c.next, c.full = 0, true
	}
}

// Verify verifies tx's signatures unless the cache holds it, and records
// it when they verify.
func (c *Cache) Verify(id interfaces.Hash, tx *interfaces.Transaction) error {
	if c.Has(id, tx) {
		return nil
	}
	if err := tx.VerifySignatures(); err != nil {
		return err
	}
	c.Add(id, tx)
	return nil
}

// VerifyBatch is Verify for many transactions at once: errs[i] is what
// Verify(ids[i], txs[i]) would return. Hits are trusted; the misses are
// verified together in batches (interfaces.VerifyTransactions), and the
// ones that verify are recorded. ids[i] must be txs[i].ID(); ids and txs
// have the same length. A nil Cache verifies every transaction. It is
// safe for concurrent use.
func (c *Cache) VerifyBatch(ids []interfaces.Hash, txs []*interfaces.Transaction) []error {
	errs := make([]error, len(txs))
	var (
		miss    []*interfaces.Transaction
		missIdx []int
	)
	for i, tx := range txs {
		if tx != nil && c.Has(ids[i], tx) {
			continue
		}
		miss = append(miss, tx)
		missIdx = append(missIdx, i)
	}
	if len(miss) == 0 {
		return errs
	}
	for j, err := range interfaces.VerifyTransactions(miss) {
		i := missIdx[j]
		errs[i] = err
		if err == nil {
			c.Add(ids[i], txs[i])
		}
	}
	return errs
}
