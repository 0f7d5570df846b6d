package honeybadger

import "github.com/constellation-chain/constellation/interfaces"

// The Merkle tree over a proposal's erasure-coded shards is the protocol's
// one tree (interfaces.MerkleHasher): leaves are the shards' leaf hashes.

// hasher is the engine's reusable Merkle hasher; it is not safe for
// concurrent use (each engine owns one).
type hasher struct{ *interfaces.MerkleHasher }

func newHasher() *hasher { return &hasher{interfaces.NewMerkleHasher()} }

func (hs *hasher) leaf(shard []byte) interfaces.Hash { return hs.Leaf(shard) }

// merkleTree builds the tree over shards and returns the root and every
// leaf's branch.
func (hs *hasher) merkleTree(shards [][]byte) (interfaces.Hash, [][]interfaces.Hash) {
	leaves := make([]interfaces.Hash, len(shards))
	for i, s := range shards {
		leaves[i] = hs.Leaf(s)
	}
	return hs.Tree(leaves)
}

// verifyBranch reports whether shard is leaf index of an n-leaf tree with
// the given root, and returns the shard's leaf hash.
func (hs *hasher) verifyBranch(root *interfaces.Hash, n, index int, shard []byte, branch []interfaces.Hash) (interfaces.Hash, bool) {
	if index < 0 || index >= n {
		return interfaces.Hash{}, false
	}
	leaf := hs.Leaf(shard)
	return leaf, hs.Verify(root, n, index, leaf, branch)
}

func (hs *hasher) verifyLeaf(root *interfaces.Hash, n, index int, cur interfaces.Hash, branch []interfaces.Hash) bool {
	return hs.Verify(root, n, index, cur, branch)
}

// rootOfLeaves returns the root over leaf hashes; it overwrites level.
func (hs *hasher) rootOfLeaves(level []interfaces.Hash) interfaces.Hash { return hs.Root(level) }
