package interfaces_test

import (
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/constellation-chain/constellation/interfaces"
)

func leafHash(l interfaces.Hash) interfaces.Hash { return interfaces.Sum([]byte{0}, l[:]) }

func node(a, b interfaces.Hash) interfaces.Hash { return interfaces.Sum([]byte{1}, a[:], b[:]) }

// rfc6962Root is the Merkle Tree Hash of RFC 6962 section 2.1, written
// recursively: MTH(D[n]) = H(1 || MTH(D[0:k]) || MTH(D[k:n])) with k the
// largest power of two below n. MerkleRoot promotes odd nodes level by
// level instead; the two must agree.
func rfc6962Root(leaves []interfaces.Hash) interfaces.Hash {
	switch len(leaves) {
	case 0:
		return interfaces.Sum([]byte{0})
	case 1:
		return leafHash(leaves[0])
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	return node(rfc6962Root(leaves[:k]), rfc6962Root(leaves[k:]))
}

func hashes(names ...string) []interfaces.Hash {
	out := make([]interfaces.Hash, len(names))
	for i, n := range names {
		out[i] = interfaces.Sum([]byte(n))
	}
	return out
}

func TestMerkleRootSmallTrees(t *testing.T) {
	l := hashes("a", "b", "c", "d", "e")
	a, b, c, d, e := leafHash(l[0]), leafHash(l[1]), leafHash(l[2]), leafHash(l[3]), leafHash(l[4])
	cases := []struct {
		name string
		n    int
		want interfaces.Hash
	}{
		{"empty", 0, interfaces.Sum([]byte{0})},
		{"one leaf", 1, a},
		{"two leaves", 2, node(a, b)},
		{"three leaves promote the odd one", 3, node(node(a, b), c)},
		{"four leaves", 4, node(node(a, b), node(c, d))},
		{"five leaves", 5, node(node(node(a, b), node(c, d)), e)},
	}
	for _, c := range cases {
		if got := interfaces.MerkleRoot(l[:c.n]); got != c.want {
			t.Errorf("%s: root %s, want %s", c.name, got.Short(), c.want.Short())
		}
	}
}

func TestMerkleRootEqualsRFC6962TreeHash(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		leaves := rapid.SliceOfN(genHash(), 0, 70).Draw(t, "leaves")
		if got, want := interfaces.MerkleRoot(leaves), rfc6962Root(leaves); got != want {
			t.Fatalf("%d leaves: root %s, RFC 6962 gives %s", len(leaves), got.Short(), want.Short())
		}
	})
}

func TestMerkleRootDependsOnOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		leaves := rapid.SliceOfNDistinct(genHash(), 2, 20, func(h interfaces.Hash) interfaces.Hash { return h }).Draw(t, "leaves")
		i := rapid.IntRange(0, len(leaves)-1).Draw(t, "i")
		j := rapid.IntRange(0, len(leaves)-1).Filter(func(j int) bool { return j != i }).Draw(t, "j")
		swapped := append([]interfaces.Hash(nil), leaves...)
		swapped[i], swapped[j] = swapped[j], swapped[i]
		if interfaces.MerkleRoot(leaves) == interfaces.MerkleRoot(swapped) {
			t.Fatalf("swapping leaves %d and %d kept the root", i, j)
		}
	})
}

// TestMerkleRootCommitsToLeafCount guards against the duplicated-last-leaf
// ambiguity of Bitcoin's tree (CVE-2012-2459): [a b c] and [a b c c] must
// differ, as must any two prefixes of one list.
func TestMerkleRootCommitsToLeafCount(t *testing.T) {
	l := hashes("a", "b", "c")
	if interfaces.MerkleRoot(l) == interfaces.MerkleRoot(append(l, l[2])) {
		t.Fatal("[a b c] and [a b c c] have the same root")
	}
	many := hashes("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10")
	seen := map[interfaces.Hash]int{}
	for n := 0; n <= len(many); n++ {
		r := interfaces.MerkleRoot(many[:n])
		if m, dup := seen[r]; dup {
			t.Fatalf("prefixes of %d and %d leaves share a root", m, n)
		}
		seen[r] = n
	}
	// A one-leaf tree is not the leaf itself, and an inner node cannot pass
	// for a leaf.
	if interfaces.MerkleRoot(l[:1]) == l[0] {
		t.Fatal("a one-leaf root equals the raw leaf")
	}
	inner := node(leafHash(l[0]), leafHash(l[1]))
	if interfaces.MerkleRoot([]interfaces.Hash{inner}) == interfaces.MerkleRoot(l[:2]) {
		t.Fatal("an inner node used as a leaf gives the same root")
	}
}

func TestTxRootDependsOnPrevAndOrder(t *testing.T) {
	a, b := sampleTx(t, "a", 1, false), sampleTx(t, "b", 1, false)
	prev := interfaces.Sum([]byte("prev"))
	r := interfaces.ComputeTxRoot(prev, []*interfaces.Transaction{a, b})
	if r == interfaces.ComputeTxRoot(prev, []*interfaces.Transaction{b, a}) {
		t.Fatal("transaction order does not change the root")
	}
	if r == interfaces.ComputeTxRoot(interfaces.Sum([]byte("other")), []*interfaces.Transaction{a, b}) {
		t.Fatal("the previous block hash does not change the root")
	}
}

// TestMerkleProofsVerifyAndOnlyForTheirValue: every value's branch leads to
// the root MerkleRoot computes; another index, another value or another
// size does not verify.
func TestMerkleProofsVerifyAndOnlyForTheirValue(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 40).Draw(rt, "n")
		values := make([]interfaces.Hash, n)
		for i := range values {
			values[i] = interfaces.Sum([]byte{byte(i), byte(n)})
		}
		root := interfaces.MerkleRoot(values)
		for i, v := range values {
			r, branch := interfaces.MerkleProof(values, i)
			if r != root {
				rt.Fatalf("proof root %s, MerkleRoot %s", r.Short(), root.Short())
			}
			if !interfaces.VerifyMerkleProof(root, n, i, v, branch) {
				rt.Fatalf("value %d of %d: its proof does not verify", i, n)
			}
			if n > 1 && interfaces.VerifyMerkleProof(root, n, (i+1)%n, v, branch) {
				rt.Fatalf("value %d of %d: its proof verifies at index %d", i, n, (i+1)%n)
			}
			if interfaces.VerifyMerkleProof(root, n, i, interfaces.Sum([]byte("other")), branch) {
				rt.Fatalf("value %d of %d: the proof verifies another value", i, n)
			}
			if interfaces.VerifyMerkleProof(root, n+1, i, v, branch) && n > 1 {
				// A proof fixes the tree's shape; only sizes of the same
				// shape along this path may accept it.
				_, b2 := interfaces.MerkleProof(append(slices.Clone(values), interfaces.Sum([]byte("x"))), i)
				if len(b2) != len(branch) {
					rt.Fatalf("value %d: a proof for %d values verifies for %d", i, n, n+1)
				}
			}
		}
	})
}
