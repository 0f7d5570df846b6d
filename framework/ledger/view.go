package ledger

import (
	"github.com/constellation-chain/constellation/interfaces"
)

// View is the read side of committed ledger state that a Builder validates
// against. The store implements it over bbolt and MemState in memory.
//
// A View must not change while a Builder built on it is in use: the kernel
// builds and commits blocks from one goroutine, so the state a block was
// validated against is the state it is committed on top of. Errors returned
// by a View mean the state could not be read (I/O, corruption); they are
// never validation verdicts.
type View interface {
	// Balance returns the star's noOs balance; 0 for an unknown star.
	Balance(star interfaces.StarID) (uint64, error)
	// ChainHead returns the sequence number and id of the star's last
	// committed transaction; (0, zero hash) for a star that never sent.
	ChainHead(star interfaces.StarID) (seq uint64, last interfaces.Hash, err error)
	// TxHeight returns the height of the block that committed the
	// transaction with this id, and whether it is committed at all.
	TxHeight(id interfaces.Hash) (height uint64, ok bool, err error)
}

// Parent names the block a new block builds on: height and hash of the last
// committed block (for height 0, the genesis hash) and the state root after
// it.
type Parent struct {
	Height    uint64
	Hash      interfaces.Hash
	StateRoot interfaces.Hash
}
