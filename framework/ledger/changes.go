package ledger

import (
	"github.com/constellation-chain/constellation/interfaces"
)

// Balance is a star's noOs balance.
type Balance struct {
	Star   interfaces.StarID
	Amount uint64
}

// Head is the tip of a star's own transaction chain: the sequence number of
// its last accepted transaction and that transaction's id. A star that has
// never sent has the zero Head (Seq 0, zero Last).
type Head struct {
	Star interfaces.StarID
	Seq  uint64
	Last interfaces.Hash
}

// Changes is what one block (or genesis) does to the ledger state. Values are
// absolute (the new balance, the new head), not deltas, so applying Changes
// is idempotent and needs no read of the old state. Balances and Heads are
// sorted by star with no duplicates; TxIDs are in block order. The store
// commits a block and its Changes in one transaction.
type Changes struct {
	Height   uint64
	Balances []Balance
	Heads    []Head
	TxIDs    []interfaces.Hash
}

// changesVersion is the version byte of the Changes encoding that the state
// root hashes.
const changesVersion = 1

// Encode returns the canonical encoding the state root commits to: version,
// height, then each list length-prefixed in its (sorted) order.
func (c *Changes) Encode() []byte {
	e := interfaces.NewEncoder(16 + 40*len(c.Balances) + 72*len(c.Heads) + 32*len(c.TxIDs))
	e.U8(changesVersion)
	e.U64(c.Height)
	e.Uvarint(uint64(len(c.Balances)))
	for _, b := range c.Balances {
		e.Fixed(b.Star[:])
		e.U64(b.Amount)
	}
	e.Uvarint(uint64(len(c.Heads)))
	for _, h := range c.Heads {
		e.Fixed(h.Star[:])
		e.U64(h.Seq)
		e.Fixed(h.Last[:])
	}
	e.Uvarint(uint64(len(c.TxIDs)))
	for _, id := range c.TxIDs {
		e.Fixed(id[:])
	}
	return e.Bytes()
}

// StateRoot chains parent with the block's changes:
// DomainSum("constellation/state/v1", parent, c.Encode()). See the package
// documentation for what this commitment does and does not give.
func StateRoot(parent interfaces.Hash, c *Changes) interfaces.Hash {
	return interfaces.DomainSum("constellation/state/v1", parent[:], c.Encode())
}
