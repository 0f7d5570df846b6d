package ledger

import (
	"errors"
	"fmt"

	"github.com/constellation-chain/constellation/interfaces"
)

// ErrInvalidTx is the root of every validation error: errors.Is(err,
// ErrInvalidTx) tells a rejected transaction apart from a failure of the
// View underneath (an I/O error), which must abort block building instead
// of silently skipping the transaction.
var ErrInvalidTx = errors.New("invalid transaction")

// Validation errors returned by Builder.Apply, each wrapped with the
// transaction id, sender and the values that disagreed. Every one of them
// also matches ErrInvalidTx.
var (
	// ErrBadSignature: the sender's signature, or a present counterparty
	// signature, does not verify. It also matches interfaces.ErrBadSignature.
	ErrBadSignature = fmt.Errorf("%w: %w", ErrInvalidTx, interfaces.ErrBadSignature)
	// ErrSequenceGap: the sequence number skips past the sender's head + 1.
	ErrSequenceGap = fmt.Errorf("%w: sequence gap", ErrInvalidTx)
	// ErrReplay: the transaction id is already committed or already in this
	// block, or its sequence number is below the sender's current head.
	ErrReplay = fmt.Errorf("%w: replay", ErrInvalidTx)
	// ErrWrongPrev: the sequence is next in line but Prev is not the id of
	// the sender's previous transaction.
	ErrWrongPrev = fmt.Errorf("%w: wrong previous transaction hash", ErrInvalidTx)
	// ErrInsufficientBalance: the sender cannot cover the transfer.
	ErrInsufficientBalance = fmt.Errorf("%w: insufficient balance", ErrInvalidTx)
	// ErrDoubleSpend: a different, validly signed transaction with the same
	// sender and sequence number was already accepted (in this block or a
	// committed one). The pair is provable equivocation by the sender.
	ErrDoubleSpend = fmt.Errorf("%w: double spend", ErrInvalidTx)
	// ErrMalformed: unknown kind, undecodable or senseless payload (such as a
	// zero-amount or self transfer), zero sequence, or inconsistent
	// counterparty fields.
	ErrMalformed = fmt.Errorf("%w: malformed", ErrInvalidTx)
)

// ErrBlockFull is returned by Builder.Apply when the block already holds
// interfaces.MaxBlockTxs transactions or the transaction would take their
// encoded size past MaxBlockTxBytes. It does not match ErrInvalidTx: the
// transaction was not validated and may go into a later block.
var ErrBlockFull = errors.New("block is full")

// ErrReceiptsFull means the block already sends MaxReceipts transfers to
// the recipient's cluster; the transfer is valid and fits a later block.
var ErrReceiptsFull = fmt.Errorf("%w: receipt batch full", ErrInvalidTx)

// ErrWrongCluster means the transaction's sender belongs to another
// cluster (or, in the galaxy, that it is not a checkpoint).
var ErrWrongCluster = fmt.Errorf("%w: wrong cluster", ErrInvalidTx)
