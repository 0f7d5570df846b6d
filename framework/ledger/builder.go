package ledger

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/constellation-chain/constellation/interfaces"
)

// Builder folds decided transactions into the next HyloChain block. It
// starts from a View of the committed state and the parent block, applies
// transactions one by one in the order consensus decided, and keeps the
// balances and chain heads they change in an overlay; the View is never
// written. Finish seals the block and returns the Changes to commit with it.
//
// Transaction kinds:
//   - TxTransfer moves TransferPayload.Amount from the sender to the
//     recipient.
//   - TxData records its payload on the sender's chain and changes no
//     balance.
//   - TxDeploy and TxCall are accepted as chain entries only: they advance
//     the sender's chain and change no balance. Contract deployment and
//     execution are not implemented yet; when they are, these kinds gain
//     effects under a new block version, so blocks accepted now replay the
//     same way.
//
// A Builder is not safe for concurrent use. It implements View itself
// (committed state plus the overlay), so a transaction pool can pre-check
// transactions against the block being built.
type Builder struct {
	view     View
	cluster  interfaces.ClusterID
	parent   Parent
	balances map[interfaces.StarID]uint64
	heads    map[interfaces.StarID]Head
	inBlock  map[interfaces.Hash]struct{}
	txs      []*interfaces.Transaction
	ids      []interfaces.Hash
	txBytes  int // encoded size of txs
	finished bool
}

// MaxBlockTxBytes bounds the encoded size of a block's transactions
// (64 MiB), so that every block a Builder makes stays far below what the
// store and the decoders accept.
const MaxBlockTxBytes = 64 << 20

// NewBuilder starts block parent.Height+1 of cluster's chain on top of view,
// which must hold the state right after parent.
func NewBuilder(view View, cluster interfaces.ClusterID, parent Parent) *Builder {
	return &Builder{
		view:     view,
		cluster:  cluster,
		parent:   parent,
		balances: make(map[interfaces.StarID]uint64),
		heads:    make(map[interfaces.StarID]Head),
		inBlock:  make(map[interfaces.Hash]struct{}),
	}
}

// Height returns the height of the block being built.
func (b *Builder) Height() uint64 { return b.parent.Height + 1 }

// Len returns how many transactions have been accepted so far.
func (b *Builder) Len() int { return len(b.txs) }

// Balance implements View over the committed state plus this block so far.
func (b *Builder) Balance(star interfaces.StarID) (uint64, error) {
	if v, ok := b.balances[star]; ok {
		return v, nil
	}
	return b.view.Balance(star)
}

// ChainHead implements View over the committed state plus this block so far.
func (b *Builder) ChainHead(star interfaces.StarID) (uint64, interfaces.Hash, error) {
	if h, ok := b.heads[star]; ok {
		return h.Seq, h.Last, nil
	}
	return b.view.ChainHead(star)
}

// TxHeight implements View; transactions accepted into this block report
// its height.
func (b *Builder) TxHeight(id interfaces.Hash) (uint64, bool, error) {
	if _, ok := b.inBlock[id]; ok {
		return b.Height(), true, nil
	}
	return b.view.TxHeight(id)
}

// Apply validates tx against the state so far and, if it is valid, appends
// it to the block and updates the overlay. On any error nothing changes and
// the transaction is not in the block, so skipping it is deterministic.
//
// Errors come in three groups:
//   - ErrBlockFull (checked first): the block has no room left; the
//     transaction was not validated and may go into a later block.
//   - Validation errors, which match ErrInvalidTx and exactly one specific
//     sentinel. Checks run in this order: ErrMalformed (shape and payload),
//     ErrReplay (id already committed or in this block), ErrBadSignature,
//     then the sender's chain (ErrDoubleSpend for a second transaction at
//     the head's sequence, ErrReplay below it, ErrSequenceGap above head+1,
//     ErrWrongPrev), then ErrInsufficientBalance. So a transaction is
//     reported as a double spend only once its signature verified: the
//     error is then evidence against the sender.
//   - Anything else came from the View (or Apply was called after Finish);
//     the caller must stop building, because another node would not see
//     the same failure.
//
// The Builder keeps tx; the caller must not modify it afterwards.
func (b *Builder) Apply(tx *interfaces.Transaction) error {
	if b.finished {
		return errors.New("apply transaction: builder already finished")
	}
	if tx == nil {
		return fmt.Errorf("apply transaction: %w: nil transaction", ErrMalformed)
	}
	size := encodedTxSize(tx)
	if len(b.txs) >= interfaces.MaxBlockTxs || b.txBytes+size > MaxBlockTxBytes {
		return fmt.Errorf("apply transaction: %w (%d transactions, %d bytes)", ErrBlockFull, len(b.txs), b.txBytes)
	}
	id := tx.ID()
	where := func() string {
		return fmt.Sprintf("apply tx %s (sender %s seq %d)", id.Short(), tx.Sender.Short(), tx.Seq)
	}
	transfer, err := checkShape(tx)
	if err != nil {
		return fmt.Errorf("%s: %w: %v", where(), ErrMalformed, err)
	}
	if _, dup := b.inBlock[id]; dup {
		return fmt.Errorf("%s: %w: already in block %d", where(), ErrReplay, b.Height())
	}
	if h, ok, err := b.view.TxHeight(id); err != nil {
		return fmt.Errorf("%s: look up transaction: %w", where(), err)
	} else if ok {
		return fmt.Errorf("%s: %w: committed in block %d", where(), ErrReplay, h)
	}
	msg := tx.SigningBytes()
	if !ed25519.Verify(tx.Sender.PublicKey(), msg, tx.Sig[:]) {
		return fmt.Errorf("%s: %w: sender signature does not verify", where(), ErrBadSignature)
	}
	if len(tx.CounterSig) > 0 && !ed25519.Verify(tx.Counterparty.PublicKey(), msg, tx.CounterSig) {
		return fmt.Errorf("%s: %w: counterparty %s signature does not verify", where(), ErrBadSignature, tx.Counterparty.Short())
	}
	seq, last, err := b.ChainHead(tx.Sender)
	if err != nil {
		return fmt.Errorf("%s: read sender chain head: %w", where(), err)
	}
	switch {
	case tx.Seq == seq:
		// A different transaction (same id was caught above) at the sender's
		// current head: the sender signed two transactions for one slot.
		return fmt.Errorf("%s: %w: sequence %d already taken by tx %s", where(), ErrDoubleSpend, seq, last.Short())
	case tx.Seq < seq:
		return fmt.Errorf("%s: %w: sequence %d is below the sender's head %d", where(), ErrReplay, tx.Seq, seq)
	case tx.Seq-seq != 1:
		return fmt.Errorf("%s: %w: sequence %d follows head %d", where(), ErrSequenceGap, tx.Seq, seq)
	case tx.Prev != last:
		return fmt.Errorf("%s: %w: names %s, sender's last transaction is %s", where(), ErrWrongPrev, tx.Prev.Short(), last.Short())
	}

	var fromBal, toBal uint64
	if transfer != nil {
		if fromBal, err = b.Balance(tx.Sender); err != nil {
			return fmt.Errorf("%s: read sender balance: %w", where(), err)
		}
		if fromBal < transfer.Amount {
			return fmt.Errorf("%s: %w: sends %d, has %d", where(), ErrInsufficientBalance, transfer.Amount, fromBal)
		}
		if toBal, err = b.Balance(transfer.To); err != nil {
			return fmt.Errorf("%s: read recipient balance: %w", where(), err)
		}
		if toBal > math.MaxUint64-transfer.Amount {
			// Unreachable while supply is conserved (genesis supply fits in
			// 64 bits), but checked so a broken invariant cannot wrap around.
			return fmt.Errorf("%s: %w: recipient balance would overflow", where(), ErrMalformed)
		}
	}

	// Every check passed: update the overlay.
	if transfer != nil {
		b.balances[tx.Sender] = fromBal - transfer.Amount
		b.balances[transfer.To] = toBal + transfer.Amount
	}
	b.heads[tx.Sender] = Head{Star: tx.Sender, Seq: tx.Seq, Last: id}
	b.inBlock[id] = struct{}{}
	b.txs = append(b.txs, tx)
	b.ids = append(b.ids, id)
	b.txBytes += size
	return nil
}

// encodedTxSize returns len(tx.Encode()) without encoding: version, sender,
// seq, prev, kind, payload with its length, counterparty, signature,
// counter-signature with its length.
func encodedTxSize(tx *interfaces.Transaction) int {
	return 1 + len(tx.Sender) + 8 + len(tx.Prev) + 1 +
		uvarintLen(len(tx.Payload)) + len(tx.Payload) +
		len(tx.Counterparty) + len(tx.Sig) +
		uvarintLen(len(tx.CounterSig)) + len(tx.CounterSig)
}

func uvarintLen(n int) int {
	l := 1
	for v := uint64(n); v >= 0x80; v >>= 7 {
		l++
	}
	return l
}

// checkShape runs the checks that need no state: kind, payload, sequence
// and counterparty fields. It returns the decoded payload of a transfer.
func checkShape(tx *interfaces.Transaction) (*interfaces.TransferPayload, error) {
	if tx.Sender.IsZero() {
		return nil, errors.New("sender is the zero star")
	}
	if tx.Seq == 0 {
		return nil, errors.New("sequence 0 (a star's first transaction has sequence 1)")
	}
	if len(tx.CounterSig) > 0 && tx.Counterparty.IsZero() {
		return nil, errors.New("counter-signature present but no counterparty named")
	}
	if len(tx.CounterSig) != 0 && len(tx.CounterSig) != ed25519.SignatureSize {
		return nil, fmt.Errorf("counter-signature has %d bytes", len(tx.CounterSig))
	}
	if tx.Counterparty == tx.Sender {
		return nil, errors.New("sender names itself as counterparty")
	}
	switch tx.Kind {
	case interfaces.TxTransfer:
		p, err := interfaces.DecodeTransferPayload(tx.Payload)
		if err != nil {
			return nil, err
		}
		switch {
		case p.Amount == 0:
			return nil, errors.New("transfer of 0")
		case p.To.IsZero():
			return nil, errors.New("transfer to the zero star")
		case p.To == tx.Sender:
			return nil, errors.New("transfer to the sender itself")
		}
		return &p, nil
	case interfaces.TxData:
		return nil, nil
	case interfaces.TxDeploy:
		if len(tx.Payload) == 0 {
			return nil, errors.New("deploy with empty payload")
		}
		return nil, nil
	case interfaces.TxCall:
		if tx.Counterparty.IsZero() {
			return nil, errors.New("call names no contract as counterparty")
		}
		return nil, nil
	}
	return nil, fmt.Errorf("unknown kind %s", tx.Kind)
}

// Finish seals the block: Height = parent+1, Prev = parent hash, the given
// epoch, timestamp (unix ms, agreed by consensus) and meta, TxRoot, MetaHash
// and TxCount from the body, and StateRoot = StateRoot(parent root,
// changes). It returns the block and its Changes (balances and heads of the
// stars the block touched, sorted by star; tx ids in block order). The block
// keeps meta's slices and the applied transactions; the caller must not
// modify them. After Finish the Builder accepts no more transactions.
func (b *Builder) Finish(epoch uint64, timestamp int64, meta interfaces.BlockMeta) (*interfaces.Block, *Changes) {
	b.finished = true
	ch := &Changes{
		Height:   b.Height(),
		Balances: make([]Balance, 0, len(b.balances)),
		Heads:    make([]Head, 0, len(b.heads)),
		TxIDs:    b.ids,
	}
	if ch.TxIDs == nil {
		ch.TxIDs = []interfaces.Hash{}
	}
	for s, v := range b.balances {
		ch.Balances = append(ch.Balances, Balance{Star: s, Amount: v})
	}
	for _, h := range b.heads {
		ch.Heads = append(ch.Heads, h)
	}
	slices.SortFunc(ch.Balances, func(x, y Balance) int { return compareStars(x.Star, y.Star) })
	slices.SortFunc(ch.Heads, func(x, y Head) int { return compareStars(x.Star, y.Star) })

	blk := &interfaces.Block{
		Header: interfaces.BlockHeader{
			Cluster:   b.cluster,
			Height:    b.Height(),
			Epoch:     epoch,
			Prev:      b.parent.Hash,
			Timestamp: timestamp,
		},
		Txs:  b.txs,
		Meta: meta,
	}
	blk.Seal()
	blk.Header.StateRoot = StateRoot(b.parent.StateRoot, ch)
	return blk, ch
}
