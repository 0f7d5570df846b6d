package interfaces

import (
	"hash"

	sha256 "github.com/minio/sha256-simd"
)

// The protocol's one Merkle tree, used for a block's transaction root and
// for HoneyBadger's erasure-coded shards alike. Leaves are
// sha256(0x00 ‖ data) and inner nodes sha256(0x01 ‖ left ‖ right), RFC 6962
// style, so a leaf can never pass for an inner node; an odd node at a
// level is promoted unchanged. A branch lists the sibling hashes from the
// leaf up, skipping levels where the node was promoted, so its length is at
// most ⌈log2 n⌉ and a verifier recomputes the shape from n and the index.
// Branches are what a light client checks a transaction against a header
// with.

// MerkleHasher holds one reusable sha256 state, so hashing many leaves
// allocates nothing. It is not safe for concurrent use; the zero value is
// not ready, use NewMerkleHasher.
type MerkleHasher struct {
	h   hash.Hash
	buf [65]byte
}

// NewMerkleHasher returns a hasher.
func NewMerkleHasher() *MerkleHasher { return &MerkleHasher{h: sha256.New()} }

// Leaf returns the leaf hash of data.
func (hs *MerkleHasher) Leaf(data []byte) (out Hash) {
	hs.h.Reset()
	hs.buf[0] = 0
	hs.h.Write(hs.buf[:1])
	hs.h.Write(data)
	hs.h.Sum(out[:0])
	return out
}

// Inner returns the hash of an inner node over l and r.
func (hs *MerkleHasher) Inner(l, r *Hash) Hash {
	hs.buf[0] = 1
	copy(hs.buf[1:33], l[:])
	copy(hs.buf[33:65], r[:])
	return sha256.Sum256(hs.buf[:])
}

// Tree returns the root over leaf hashes and every leaf's branch.
func (hs *MerkleHasher) Tree(leaves []Hash) (root Hash, branches [][]Hash) {
	n := len(leaves)
	if n == 0 {
		return hs.Leaf(nil), nil
	}
	level := make([]Hash, n)
	copy(level, leaves)
	branches = make([][]Hash, n)
	pos := make([]int, n) // position of leaf i's ancestor in the current level
	for i := range pos {
		pos[i] = i
	}
	for len(level) > 1 {
		for i := range n {
			p := pos[i]
			if s := p ^ 1; s < len(level) {
				branches[i] = append(branches[i], level[s])
			}
			pos[i] = p / 2
		}
		next := make([]Hash, (len(level)+1)/2)
		for i := 0; i < len(level); i += 2 {
			if i+1 == len(level) {
				next[i/2] = level[i]
			} else {
				next[i/2] = hs.Inner(&level[i], &level[i+1])
			}
		}
		level = next
	}
	return level[0], branches
}

// Root returns the root over leaf hashes, overwriting level.
func (hs *MerkleHasher) Root(level []Hash) Hash {
	if len(level) == 0 {
		return hs.Leaf(nil)
	}
	for len(level) > 1 {
		w := 0
		for i := 0; i < len(level); i += 2 {
			if i+1 == len(level) {
				level[w] = level[i]
			} else {
				level[w] = hs.Inner(&level[i], &level[i+1])
			}
			w++
		}
		level = level[:w]
	}
	return level[0]
}

// Verify reports whether leaf is leaf index of an n-leaf tree with the
// given root, by branch.
func (hs *MerkleHasher) Verify(root *Hash, n, index int, leaf Hash, branch []Hash) bool {
	if index < 0 || index >= n {
		return false
	}
	used := 0
	width := n
	p := index
	cur := leaf
	for width > 1 {
		if s := p ^ 1; s < width {
			if used == len(branch) {
				return false
			}
			if p&1 == 0 {
				cur = hs.Inner(&cur, &branch[used])
			} else {
				cur = hs.Inner(&branch[used], &cur)
			}
			used++
		}
		p /= 2
		width = (width + 1) / 2
	}
	return used == len(branch) && cur == *root
}

// MerkleRoot computes the root of the tree over values, each hashed as a
// leaf (a block's TxRoot is the root over [Prev, tx IDs…]). The root of no
// values is the leaf hash of the empty string.
func MerkleRoot(values []Hash) Hash {
	hs := NewMerkleHasher()
	level := make([]Hash, len(values))
	for i, v := range values {
		level[i] = hs.Leaf(v[:])
	}
	return hs.Root(level)
}

// MerkleProof returns the root over values and value index's branch.
func MerkleProof(values []Hash, index int) (Hash, []Hash) {
	hs := NewMerkleHasher()
	leaves := make([]Hash, len(values))
	for i, v := range values {
		leaves[i] = hs.Leaf(v[:])
	}
	root, branches := hs.Tree(leaves)
	if index < 0 || index >= len(values) {
		return root, nil
	}
	return root, branches[index]
}

// VerifyMerkleProof reports whether value is value index of the n values
// under root, by branch.
func VerifyMerkleProof(root Hash, n, index int, value Hash, branch []Hash) bool {
	hs := NewMerkleHasher()
	return hs.Verify(&root, n, index, hs.Leaf(value[:]), branch)
}
