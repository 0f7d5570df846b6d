package ledger

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"

	"github.com/constellation-chain/constellation/framework/sigcache"
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
//   - TxDeploy and TxCall are accepted as chain entries only (they advance
//     the sender's chain and change no balance) unless Rules.Contracts is
//     set: then they deploy and call contracts (contracts.go).
//
// A Builder is not safe for concurrent use. It implements View itself
// (committed state plus the overlay), so a transaction pool can pre-check
// transactions against the block being built.
type Builder struct {
	view      View
	cluster   interfaces.ClusterID
	parent    Parent
	balances  map[interfaces.StarID]uint64
	heads     map[interfaces.StarID]Head
	inBlock   map[interfaces.Hash]struct{}
	txs       []*interfaces.Transaction
	ids       []interfaces.Hash
	txBytes   int // encoded size of txs
	finished  bool
	rules     *Rules
	receipts  map[interfaces.ClusterID]*interfaces.ReceiptBatch
	edges     []sampled              // this block's transfers, for the metadata's sample
	candidacy []interfaces.Candidacy // this block's membership transactions, for the metadata
	claimed   uint64                 // beacons this chain has applied, once receipts exist
	flow      interfaces.Flow        // the block's claims and credits (BlockMeta.Flow)
	// clusterDelta is what the block's beacon does to the cluster count:
	// the clusters it opens less those whose closing it finishes.
	clusterDelta int
	verified     *sigcache.Cache                                // what Preverify verified, without Rules.Signatures
	deploys      map[interfaces.StarID]interfaces.DeployPayload // this block's deploys, by contract
	// composites are this block's composite deploys, by composite.
	composites map[interfaces.StarID]interfaces.CompositePayload
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

// Preverify verifies, in batches (interfaces.VerifyTransactions, in
// parallel over GOMAXPROCS), the signatures of the transactions among txs
// that Apply would verify one by one: those not authenticated by a
// certificate and not in the signature cache (Rules.Signatures). Call it
// with a block's transactions before applying them; it is optional.
//
// It changes no verdict. What verified is recorded, in Rules.Signatures
// or, without one, in a cache of the builder's own, and Apply trusts it
// as it trusts a cache hit: the exact bytes (id and both signatures) that
// verified under the same rule. What did not verify is verified again by
// Apply, alone, and refused there in its turn, after the checks that come
// before the signatures, with the error Apply always gives.
func (b *Builder) Preverify(txs []*interfaces.Transaction) {
	cache := b.signatures()
	ids := make([]interfaces.Hash, 0, len(txs))
	miss := make([]*interfaces.Transaction, 0, len(txs))
	for _, tx := range txs {
		if tx == nil || tx.Kind.Certified() {
			continue
		}
		id := tx.ID()
		if cache.Has(id, tx) {
			continue
		}
		ids, miss = append(ids, id), append(miss, tx)
	}
	if len(miss) == 0 {
		return
	}
	if cache == nil {
		b.verified = sigcache.New(max(len(miss), 1024))
		cache = b.verified
	}
	cache.VerifyBatch(ids, miss)
}

// signatures returns the cache Preverify records into: the rules' when
// they have one, else the builder's own (nil before the first Preverify).
func (b *Builder) signatures() *sigcache.Cache {
	if b.rules != nil && b.rules.Signatures != nil {
		return b.rules.Signatures
	}
	return b.verified
}

// signatureTrusted reports whether tx's signatures verified before, on
// this node (Rules.Signatures) or in this builder's Preverify.
func (b *Builder) signatureTrusted(id interfaces.Hash, tx *interfaces.Transaction) bool {
	if b.rules != nil && b.rules.Signatures.Has(id, tx) {
		return true
	}
	return b.verified.Has(id, tx)
}

// WithRules makes the builder apply a hierarchical network's rules (see
// Rules) and returns it.
func (b *Builder) WithRules(r *Rules) *Builder {
	b.rules = r
	return b
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
	sh, err := checkShape(tx)
	if err != nil {
		return fmt.Errorf("%s: %w: %v", where(), ErrMalformed, err)
	}
	if err := b.contractShape(tx, &sh); err != nil {
		return fmt.Errorf("%s: %w: %v", where(), ErrMalformed, err)
	}
	if err := b.checkCluster(tx, sh); err != nil {
		return fmt.Errorf("%s: %w", where(), err)
	}
	if _, dup := b.inBlock[id]; dup {
		return fmt.Errorf("%s: %w: already in block %d", where(), ErrReplay, b.Height())
	}
	if h, ok, err := b.view.TxHeight(id); err != nil {
		return fmt.Errorf("%s: look up transaction: %w", where(), err)
	} else if ok {
		return fmt.Errorf("%s: %w: committed in block %d", where(), ErrReplay, h)
	}
	if tx.Kind.Certified() {
		if err := b.checkCertified(sh); err != nil {
			return fmt.Errorf("%s: %w: %v", where(), ErrBadSignature, err)
		}
	} else if !b.signatureTrusted(id, tx) {
		// The transaction signature rule (ZIP-215, interfaces/txsig.go),
		// the same one Preverify's batches and the pool apply.
		msg := tx.SigningBytes()
		if !interfaces.VerifyTxSignature(tx.Sender, msg, tx.Sig[:]) {
			return fmt.Errorf("%s: %w: sender signature does not verify", where(), ErrBadSignature)
		}
		if len(tx.CounterSig) > 0 && !interfaces.VerifyTxSignature(tx.Counterparty, msg, tx.CounterSig) {
			return fmt.Errorf("%s: %w: counterparty %s signature does not verify", where(), ErrBadSignature, tx.Counterparty.Short())
		}
		if b.rules != nil {
			b.rules.Signatures.Add(id, tx)
		}
	}
	if sh.keygen {
		if err := b.rules.KeyGen(tx); err != nil {
			return fmt.Errorf("%s: %w: %v", where(), ErrMalformed, err)
		}
	}
	if sh.member != nil && len(b.candidacy) >= interfaces.MaxCandidacy {
		return fmt.Errorf("%s: %w: it holds %d candidacies already", where(), ErrBlockFull, len(b.candidacy))
	}
	chain := tx.Chain()
	seq, last, err := b.ChainHead(chain)
	if err != nil {
		return fmt.Errorf("%s: read sender chain head: %w", where(), err)
	}
	// A checkpoint's chain is its cluster's chain of headers: the head
	// keeps the last checkpoint's hash, which the next one must name. A
	// credit names no previous transaction (its batches chain by
	// sequence number alone).
	prev, newLast := tx.Prev, id
	switch {
	case sh.checkpoint != nil:
		prev, newLast = sh.checkpoint.Header.Prev, sh.checkpoint.Header.Hash()
		if seq == 0 {
			last = prev // the cluster's genesis: any first checkpoint certified by it
		}
	case sh.credit != nil, sh.beacon != nil, sh.mint != nil:
		last = tx.Prev
	}
	switch {
	case sh.beacon != nil && sh.beacon.Height != b.parent.Height:
		// A beacon certifies the parent and belongs in the block right
		// after it, when the draw it publishes reads the parent's state.
		return fmt.Errorf("%s: %w: beacon of black hole %d in block %d (it belongs in block %d)", where(), ErrReplay, sh.beacon.Height, b.Height(), sh.beacon.Height+1)
	case tx.Seq == seq:
		// A different transaction (same id was caught above) at the sender's
		// current head: the sender signed two transactions for one slot.
		return fmt.Errorf("%s: %w: sequence %d already taken by tx %s", where(), ErrDoubleSpend, seq, last.Short())
	case tx.Seq < seq:
		return fmt.Errorf("%s: %w: sequence %d is below the sender's head %d", where(), ErrReplay, tx.Seq, seq)
	case tx.Seq-seq != 1:
		return fmt.Errorf("%s: %w: sequence %d follows head %d", where(), ErrSequenceGap, tx.Seq, seq)
	case prev != last:
		return fmt.Errorf("%s: %w: names %s, sender's last transaction is %s", where(), ErrWrongPrev, prev.Short(), last.Short())
	}
	transfer := sh.transfer
	fx := b.effects()
	if transfer != nil {
		fromBal, err := fx.balance(tx.Sender)
		if err != nil {
			return fmt.Errorf("%s: read sender balance: %w", where(), err)
		}
		if fromBal < transfer.Amount {
			return fmt.Errorf("%s: %w: sends %d, has %d", where(), ErrInsufficientBalance, transfer.Amount, fromBal)
		}
		fx.balances[tx.Sender] = fromBal - transfer.Amount
		if err := fx.credit(interfaces.Receipt{To: transfer.To, Amount: transfer.Amount, Tx: id}); err != nil {
			return fmt.Errorf("%s: %w", where(), err)
		}
	}
	if sh.deploy != nil {
		if err := b.applyDeploy(fx, tx, id); err != nil {
			return fmt.Errorf("%s: %w", where(), err)
		}
	}
	if sh.call != nil {
		if err := b.applyCall(fx, tx, id, sh.call); err != nil {
			return fmt.Errorf("%s: %w", where(), err)
		}
	}
	if sh.composite != nil {
		if err := b.applyComposite(fx, tx, id, sh.composite); err != nil {
			return fmt.Errorf("%s: %w", where(), err)
		}
	}
	if sh.compositeCall != nil {
		if err := b.applyCompositeCall(fx, tx, id, sh.compositeCall); err != nil {
			return fmt.Errorf("%s: %w", where(), err)
		}
	}
	if sh.credit != nil {
		claimed, _, err := b.ChainHead(interfaces.ClusterStar(interfaces.GalaxyCluster))
		if err != nil {
			return fmt.Errorf("%s: read beacons claimed: %w", where(), err)
		}
		if claimed < sh.credit.Batch.Epoch {
			return fmt.Errorf("%s: %w: batch %d→%d seq %d was routed after %d beacons, this cluster has claimed %d", where(), ErrNotYet, sh.credit.Batch.Src, sh.credit.Batch.Dst, sh.credit.Batch.Seq, sh.credit.Batch.Epoch, claimed)
		}
		for _, r := range sh.credit.Batch.Receipts {
			if err := fx.credit(r); err != nil {
				return fmt.Errorf("%s: %w", where(), err)
			}
		}
	}
	if sh.mint != nil {
		// Each minted amount is credited by the cluster that owns its star
		// under the placement as of the beacons before this one, which
		// every cluster applies alike; then the beacon's moves take effect.
		for _, r := range sh.minted {
			p, err := fx.placement(r.To)
			if err != nil {
				return fmt.Errorf("%s: %w", where(), err)
			}
			if p.Owner != b.cluster {
				continue
			}
			if err := fx.credit(r); err != nil {
				return fmt.Errorf("%s: %w", where(), err)
			}
		}
		for _, m := range sh.moves {
			if err := fx.move(m); err != nil {
				return fmt.Errorf("%s: %w", where(), err)
			}
		}
	}
	// Every check passed: update the overlay.
	if err := fx.commit(); err != nil {
		return fmt.Errorf("%s: %w", where(), err)
	}
	if sh.mint != nil {
		b.claimed = tx.Seq
		b.flow.Claimed = tx.Seq
	}
	if sh.deploy != nil {
		if b.deploys == nil {
			b.deploys = map[interfaces.StarID]interfaces.DeployPayload{}
		}
		b.deploys[interfaces.ContractStar(tx.Sender, tx.Seq)] = *sh.deploy
	}
	if sh.composite != nil {
		if b.composites == nil {
			b.composites = map[interfaces.StarID]interfaces.CompositePayload{}
		}
		b.composites[interfaces.ContractStar(tx.Sender, tx.Seq)] = *sh.composite
	}
	if sh.beacon != nil {
		b.clusterDelta += len(sh.beacon.Opens)
		for _, c := range sh.beacon.Closes {
			if c.Done {
				b.clusterDelta--
			}
		}
	}
	if sh.credit != nil {
		b.flow.Credited = append(b.flow.Credited, interfaces.Route{Cluster: sh.credit.Batch.Src, Seq: sh.credit.Batch.Seq})
	}
	if transfer != nil && b.sampling() {
		b.edges = append(b.edges, sampled{id: id, edge: interfaces.Edge{From: tx.Sender, To: transfer.To}})
	}
	if sh.member != nil {
		b.candidacy = append(b.candidacy, interfaces.Candidacy{Star: tx.Sender, Action: sh.member.Action})
	}
	b.heads[chain] = Head{Star: chain, Seq: tx.Seq, Last: newLast}
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

// shape is what checkShape decoded from a transaction's payload.
type shape struct {
	transfer   *interfaces.TransferPayload
	checkpoint *interfaces.CheckpointPayload
	credit     *interfaces.CreditPayload
	beacon     *interfaces.BeaconPayload
	mint       *interfaces.MintClaim
	minted     []interfaces.Receipt // the claimed beacon's mint
	moves      []interfaces.Move    // the claimed beacon's moves
	keygen     bool                 // a key-generation message (Rules.KeyGen checks it)
	member     *interfaces.MemberPayload
	deploy     *interfaces.DeployPayload // with Rules.Contracts
	call       *interfaces.CallPayload   // with Rules.Contracts
	// with Rules.Contracts, a composite's deploy or call
	composite     *interfaces.CompositePayload
	compositeCall *interfaces.CompositeCallPayload
}

// checkShape runs the checks that need no state: kind, payload, sequence
// and counterparty fields. It returns the decoded payload.
func checkShape(tx *interfaces.Transaction) (shape, error) {
	var none shape
	if tx.Sender.IsZero() {
		return none, errors.New("sender is the zero star")
	}
	if tx.Seq == 0 {
		return none, errors.New("sequence 0 (a star's first transaction has sequence 1)")
	}
	if len(tx.CounterSig) > 0 && tx.Counterparty.IsZero() {
		return none, errors.New("counter-signature present but no counterparty named")
	}
	if len(tx.CounterSig) != 0 && len(tx.CounterSig) != ed25519.SignatureSize {
		return none, fmt.Errorf("counter-signature has %d bytes", len(tx.CounterSig))
	}
	if tx.Counterparty == tx.Sender {
		return none, errors.New("sender names itself as counterparty")
	}
	if tx.Kind.Certified() {
		if err := tx.VerifySignatures(); err != nil {
			return none, err
		}
	}
	switch tx.Kind {
	case interfaces.TxTransfer:
		p, err := interfaces.DecodeTransferPayload(tx.Payload)
		if err != nil {
			return none, err
		}
		switch {
		case p.Amount == 0:
			return none, errors.New("transfer of 0")
		case p.To.IsZero():
			return none, errors.New("transfer to the zero star")
		case p.To == tx.Sender:
			return none, errors.New("transfer to the sender itself")
		}
		return shape{transfer: &p}, nil
	case interfaces.TxData:
		return none, nil
	case interfaces.TxDeploy:
		if len(tx.Payload) == 0 {
			return none, errors.New("deploy with empty payload")
		}
		return none, nil
	case interfaces.TxCall:
		if tx.Counterparty.IsZero() {
			return none, errors.New("call names no contract as counterparty")
		}
		return none, nil
	case interfaces.TxCheckpoint:
		cp, err := interfaces.DecodeCheckpointPayload(tx.Payload)
		if err != nil {
			return none, err
		}
		if cp.Header.Cluster == interfaces.GalaxyCluster {
			return none, errors.New("checkpoint of the galaxy itself")
		}
		if tx.Sender != interfaces.ClusterStar(cp.Header.Cluster) || tx.Seq != cp.Header.Height || !tx.Prev.IsZero() {
			return none, fmt.Errorf("checkpoint %d of cluster %d sent as %s seq %d", cp.Header.Height, cp.Header.Cluster, tx.Sender.Short(), tx.Seq)
		}
		return shape{checkpoint: &cp}, nil
	case interfaces.TxCredit:
		c, err := interfaces.DecodeCreditPayload(tx.Payload)
		if err != nil {
			return none, err
		}
		if tx.Sender != interfaces.ClusterStar(c.Batch.Src) || tx.Seq != c.Batch.Seq || !tx.Prev.IsZero() {
			return none, fmt.Errorf("credit of batch %d→%d seq %d sent as %s seq %d", c.Batch.Src, c.Batch.Dst, c.Batch.Seq, tx.Sender.Short(), tx.Seq)
		}
		if len(c.Batch.Receipts) == 0 {
			return none, errors.New("credit of an empty batch")
		}
		if _, ok := c.Batch.Total(); !ok {
			return none, errors.New("credit amounts overflow")
		}
		return shape{credit: &c}, nil
	case interfaces.TxBeacon:
		p, err := interfaces.DecodeBeaconPayload(tx.Payload)
		if err != nil {
			return none, err
		}
		if tx.Sender != interfaces.ClusterStar(interfaces.GalaxyCluster) || !tx.Prev.IsZero() {
			return none, fmt.Errorf("beacon sent as %s", tx.Sender.Short())
		}
		return shape{beacon: &p}, nil
	case interfaces.TxMint:
		c, err := interfaces.DecodeMintClaim(tx.Payload)
		if err != nil {
			return none, err
		}
		bt := c.Beacon.Checkpoint
		if bt == nil || bt.Kind != interfaces.TxBeacon || tx.Sender != interfaces.ClusterStar(interfaces.GalaxyCluster) || tx.Seq != bt.Seq || !tx.Prev.IsZero() {
			return none, fmt.Errorf("mint claim sent as %s seq %d", tx.Sender.Short(), tx.Seq)
		}
		p, err := interfaces.DecodeBeaconPayload(bt.Payload)
		if err != nil {
			return none, err
		}
		return shape{mint: &c, minted: p.Mint, moves: p.Moves}, nil
	case interfaces.TxKeyGen:
		if len(tx.Payload) == 0 {
			return none, errors.New("key-generation message with an empty payload")
		}
		if !tx.Counterparty.IsZero() {
			return none, errors.New("key-generation message names a counterparty")
		}
		return shape{keygen: true}, nil
	case interfaces.TxMember:
		p, err := interfaces.DecodeMemberPayload(tx.Payload)
		if err != nil {
			return none, err
		}
		if !tx.Counterparty.IsZero() {
			return none, errors.New("membership transaction names a counterparty")
		}
		return shape{member: &p}, nil
	}
	return none, fmt.Errorf("unknown kind %s", tx.Kind)
}

// checkCluster refuses what this chain does not order: in the galaxy,
// everything but checkpoints; in a cluster, checkpoints, credits for
// another cluster, and transactions of accounts another cluster owns.
func (b *Builder) checkCluster(tx *interfaces.Transaction, sh shape) error {
	if sh.keygen {
		// Any star may take part in a key generation this chain orders,
		// wherever its account lives.
		if b.rules == nil || b.rules.KeyGen == nil {
			return fmt.Errorf("%w: this chain orders no key generation", ErrWrongCluster)
		}
		return nil
	}
	if sh.member != nil {
		// A star stands for the cluster whose chain orders its candidacy:
		// it keeps that chain, so it can deal and take its seat if drawn.
		// The galaxy's chain orders candidacies for the galaxy when it
		// orders its own key generations (it rotates).
		if sh.member.Cluster != b.cluster {
			return fmt.Errorf("%w: a candidacy for cluster %d goes to cluster %d's chain", ErrWrongCluster, sh.member.Cluster, sh.member.Cluster)
		}
		if b.cluster == interfaces.GalaxyCluster && (b.rules == nil || b.rules.KeyGen == nil) {
			return fmt.Errorf("%w: this galaxy does not rotate, so nobody stands for it", ErrWrongCluster)
		}
		return nil
	}
	if b.cluster == interfaces.GalaxyCluster {
		if sh.checkpoint == nil && sh.beacon == nil {
			return fmt.Errorf("%w: the galaxy orders checkpoints and beacons only, not %s transactions", ErrWrongCluster, tx.Kind)
		}
		return nil
	}
	switch {
	case sh.checkpoint != nil, sh.beacon != nil:
		return fmt.Errorf("%w: %s transactions go to the galaxy", ErrWrongCluster, tx.Kind)
	case sh.mint != nil:
		return nil
	case sh.credit != nil:
		if sh.credit.Batch.Dst != b.cluster || sh.credit.Batch.Src == b.cluster {
			return fmt.Errorf("%w: credit of batch %d→%d in cluster %d", ErrWrongCluster, sh.credit.Batch.Src, sh.credit.Batch.Dst, b.cluster)
		}
		return nil
	}
	p, err := b.placement(tx.Sender)
	if err != nil {
		return err
	}
	switch {
	case p.Owner != b.cluster:
		return fmt.Errorf("%w: sender %s belongs to cluster %d, this is cluster %d", ErrWrongCluster, tx.Sender.Short(), p.Owner, b.cluster)
	case !p.Holds:
		return fmt.Errorf("%w: sender %s is moving to cluster %d, and its chain head has not arrived yet", ErrWrongCluster, tx.Sender.Short(), b.cluster)
	}
	return nil
}

// checkCertified checks a checkpoint's or a credit's certificates.
func (b *Builder) checkCertified(sh shape) error {
	switch {
	case sh.checkpoint != nil:
		if b.rules == nil || b.rules.VerifyCheckpoint == nil {
			return errors.New("this chain accepts no checkpoints")
		}
		return b.rules.VerifyCheckpoint(sh.checkpoint)
	case sh.credit != nil:
		if b.rules == nil || b.rules.VerifyCredit == nil {
			return errors.New("this chain accepts no credits")
		}
		return b.rules.VerifyCredit(sh.credit)
	case sh.beacon != nil:
		if b.rules == nil || b.rules.VerifyBeacon == nil {
			return errors.New("this chain accepts no beacons")
		}
		return b.rules.VerifyBeacon(b.parent, sh.beacon)
	case sh.mint != nil:
		if b.rules == nil || b.rules.VerifyMint == nil {
			return errors.New("this chain accepts no mint claims")
		}
		return b.rules.VerifyMint(sh.mint)
	}
	return errors.New("not a certified transaction")
}

// openBatch starts this block's receipt batch to dst, numbered one after
// the last batch this chain sent dst.
func (b *Builder) openBatch(dst interfaces.ClusterID) error {
	seq, _, err := b.view.ChainHead(interfaces.OutboxStar(dst))
	if err != nil {
		return err
	}
	if b.receipts == nil {
		if b.claimed, _, err = b.ChainHead(interfaces.ClusterStar(interfaces.GalaxyCluster)); err != nil {
			return err
		}
		b.receipts = map[interfaces.ClusterID]*interfaces.ReceiptBatch{}
	}
	b.receipts[dst] = &interfaces.ReceiptBatch{Src: b.cluster, Dst: dst, Seq: seq + 1}
	return nil
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
	// The block's receipt batches: each (this cluster, destination) pair's
	// outbox head in this chain counts the batches sent.
	var batches []interfaces.ReceiptBatch
	// Every batch says how many beacons this chain had applied by the end
	// of the block: the placement its receipts were routed by (openBatch
	// read it, and mint claims advance it).
	for _, r := range b.receipts {
		r.Epoch = b.claimed
	}
	if b.sampling() {
		meta.Edges = b.sample()
	}
	// So are the candidacies.
	meta.Candidacy = b.candidacy
	// A handover is the chain's to name, never a proposer's.
	meta.Handover = nil
	if b.rules != nil && b.rules.Handover != nil {
		meta.Handover = b.rules.Handover(epoch)
	}
	meta.Founded = nil
	if b.rules != nil && b.rules.Founded != nil {
		meta.Founded = b.rules.Founded()
	}
	meta.Clusters = 0
	if b.rules != nil && b.rules.Clusters != nil {
		meta.Clusters = uint32(max(0, b.rules.Clusters()+b.clusterDelta))
	}
	for dst, r := range b.receipts {
		acct := interfaces.OutboxStar(dst)
		b.heads[acct] = Head{Star: acct, Seq: r.Seq, Last: r.Hash()}
		batches = append(batches, *r)
	}
	interfaces.SortReceiptBatches(batches)
	// And so is the flow: what a galaxy needs to know which batches are
	// in flight (none in a chain outside a hierarchy, which sends none).
	meta.Flow = nil
	if len(batches) > 0 || b.flow.Claimed > 0 || len(b.flow.Credited) > 0 {
		f := b.flow
		for _, r := range batches {
			f.Sent = append(f.Sent, interfaces.Route{Cluster: r.Dst, Seq: r.Seq})
		}
		meta.Flow = &f
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
		Txs:      b.txs,
		Meta:     meta,
		Receipts: batches,
	}
	blk.Seal()
	blk.Header.StateRoot = StateRoot(b.parent.StateRoot, ch)
	return blk, ch
}
