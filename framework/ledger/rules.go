package ledger

import (
	"fmt"
	"github.com/constellation-chain/constellation/framework/sigcache"

	"github.com/constellation-chain/constellation/interfaces"
)

// Rules are what a chain of a hierarchical network needs beyond its own
// state: which cluster owns each account, and how to check the
// certificates of other groups. The zero Rules (or nil) is a network of one
// cluster: every account is local and checkpoints and credits are refused.
// Every function must be deterministic: members that disagree on a rule
// fork.
type Rules struct {
	// Owner returns the cluster that owns an account; nil means this
	// chain's cluster owns every account.
	Owner func(interfaces.StarID) interfaces.ClusterID
	// VerifyCheckpoint checks a cluster's certificate of its checkpoint
	// (the galaxy's chain); nil refuses checkpoints.
	VerifyCheckpoint func(cp *interfaces.CheckpointPayload) error
	// VerifyCredit checks a credit's receipt and finality proofs (a
	// cluster's chain); nil refuses credits.
	VerifyCredit func(c *interfaces.CreditPayload) error
	// VerifyBeacon checks a beacon (the galaxy's chain): that it carries
	// the galaxy's certificate of parent, the black hole before the one
	// being built, and the delegate sets drawn with it from the state as
	// of parent; nil refuses beacons.
	VerifyBeacon func(parent Parent, b *interfaces.BeaconPayload) error
	// VerifyMint checks a mint claim's proof that a certified black hole
	// holds the beacon (a cluster's chain); nil refuses mint claims.
	VerifyMint func(c *interfaces.MintClaim) error
	// Pseudo, when set, says whether a star is one of the accounts that
	// stand for a cluster (ClusterStar, OutboxStar); a published move of
	// one is ignored.
	Pseudo func(interfaces.StarID) bool
	// KeyGen, when set, checks a TxKeyGen transaction against the key
	// generation open as of the block being built (framework/keygen's
	// Admit); nil refuses key-generation messages.
	KeyGen func(tx *interfaces.Transaction) error
	// Handover, when set, returns the membership handover the block of
	// epoch epoch being built must carry (BlockMeta.Handover), or nil.
	Handover func(epoch uint64) *interfaces.Handover
	// Founded, when set, returns the new clusters' first memberships the
	// block being built must carry (BlockMeta.Founded), or nil.
	Founded func() []interfaces.Founding
	// Clusters, when set (the galaxy's chain), returns how many clusters
	// are in force as of the parent of the block being built; the
	// builder adds what the block's beacon opens and finishes closing,
	// and the block carries the result (BlockMeta.Clusters).
	Clusters func() int
	// Signatures, when set, holds the transactions whose signatures this
	// node verified already (its pool's): Apply trusts a hit instead of
	// verifying again, and records what it verifies, as does
	// Builder.Preverify, which verifies a block's misses in batches. A hit
	// is the exact bytes that verified under the one transaction
	// signature rule (interfaces/txsig.go), so the verdict is the same
	// either way.
	Signatures *sigcache.Cache
	// Replayed, when set, is called after each block an offline replay
	// (store.VerifyWith) re-validated, before the next: state a rule reads
	// besides the ledger's (the galaxy's reputation) advances there.
	Replayed func(b *interfaces.Block) error
	// Contracts, when set, gives TxDeploy and TxCall their effects
	// (contracts.go); nil keeps them plain chain entries.
	Contracts *ContractRules
}

func (r *Rules) owner(s interfaces.StarID, local interfaces.ClusterID) interfaces.ClusterID {
	if r == nil || r.Owner == nil {
		return local
	}
	return r.Owner(s)
}

// CheckCertified checks the certificates of a checkpoint, credit or mint
// claim for a pool, before the transaction is admitted: what Apply checks
// of it that needs no state. A beacon, whose check needs the block it
// will be built on, is only shape-checked here.
func (r *Rules) CheckCertified(tx *interfaces.Transaction) error {
	sh, err := checkShape(tx)
	if err != nil {
		return err
	}
	switch {
	case sh.checkpoint != nil && r.VerifyCheckpoint != nil:
		return r.VerifyCheckpoint(sh.checkpoint)
	case sh.credit != nil && r.VerifyCredit != nil:
		return r.VerifyCredit(sh.credit)
	case sh.mint != nil && r.VerifyMint != nil:
		return r.VerifyMint(sh.mint)
	case sh.beacon != nil && r.VerifyBeacon != nil:
		return nil
	}
	return fmt.Errorf("this chain takes no %s transactions", tx.Kind)
}
