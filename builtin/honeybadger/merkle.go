package honeybadger

import (
	"hash"

	sha256 "github.com/minio/sha256-simd"
)

// The Merkle tree over a proposal's erasure-coded shards. Leaves are
// sha256(0x00 ‖ shard) and inner nodes sha256(0x01 ‖ left ‖ right), RFC 6962
// style, so a leaf can never pass for an inner node; an odd node at a level
// is promoted unchanged. A branch lists the sibling hashes from the leaf up,
// skipping levels where the node was promoted, so its length is at most
// ⌈log2 N⌉ and the verifier recomputes the shape from N and the index.

// hasher holds one reusable sha256 state; it is not safe for concurrent
// use (each engine owns one).
type hasher struct {
	h   hash.Hash
	buf [65]byte
}

func newHasher() *hasher { return &hasher{h: sha256.New()} }

func (hs *hasher) leaf(shard []byte) (out [32]byte) {
	hs.h.Reset()
	hs.buf[0] = 0
	hs.h.Write(hs.buf[:1])
	hs.h.Write(shard)
	hs.h.Sum(out[:0])
	return out
}

func (hs *hasher) inner(l, r *[32]byte) [32]byte {
	hs.buf[0] = 1
	copy(hs.buf[1:33], l[:])
	copy(hs.buf[33:65], r[:])
	return sha256.Sum256(hs.buf[:])
}

// merkleTree builds the tree over shards and returns the root and every
// leaf's branch.
func (hs *hasher) merkleTree(shards [][]byte) (root [32]byte, branches [][][32]byte) {
	n := len(shards)
	level := make([][32]byte, n)
	for i, s := range shards {
		level[i] = hs.leaf(s)
	}
	branches = make([][][32]byte, n)
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
		next := make([][32]byte, (len(level)+1)/2)
		for i := 0; i < len(level); i += 2 {
			if i+1 == len(level) {
				next[i/2] = level[i]
			} else {
				next[i/2] = hs.inner(&level[i], &level[i+1])
			}
		}
		level = next
	}
	return level[0], branches
}

// verifyBranch reports whether shard is leaf index of an n-leaf tree with
// the given root, and returns the shard's leaf hash.
func (hs *hasher) verifyBranch(root *[32]byte, n, index int, shard []byte, branch [][32]byte) ([32]byte, bool) {
	if index < 0 || index >= n {
		return [32]byte{}, false
	}
	leaf := hs.leaf(shard)
	return leaf, hs.verifyLeaf(root, n, index, leaf, branch)
}

func (hs *hasher) verifyLeaf(root *[32]byte, n, index int, cur [32]byte, branch [][32]byte) bool {
	used := 0
	width := n
	p := index
	for width > 1 {
		if s := p ^ 1; s < width {
			if used == len(branch) {
				return false
			}
			if p&1 == 0 {
				cur = hs.inner(&cur, &branch[used])
			} else {
				cur = hs.inner(&branch[used], &cur)
			}
			used++
		}
		p /= 2
		width = (width + 1) / 2
	}
	return used == len(branch) && cur == *root
}

// rootOfLeaves returns the root over leaf hashes; it overwrites level.
func (hs *hasher) rootOfLeaves(level [][32]byte) [32]byte {
	for len(level) > 1 {
		w := 0
		for i := 0; i < len(level); i += 2 {
			if i+1 == len(level) {
				level[w] = level[i]
			} else {
				level[w] = hs.inner(&level[i], &level[i+1])
			}
			w++
		}
		level = level[:w]
	}
	return level[0]
}
