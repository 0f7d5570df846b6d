package tcrypto

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// MaxMembers bounds the number of members of one key set, so that a hostile
// key file or message cannot make a decoder allocate or compute without limit.
const MaxMembers = 1024

// Errors returned by this package. Callers test them with errors.Is; the
// returned errors wrap them with context.
var (
	// ErrInvalidShares means that combining failed and at least one of the
	// given shares was found invalid on its own; the accompanying []int names
	// the members whose shares were bad, so that the caller can report them as
	// provable faults and retry without them.
	ErrInvalidShares = errors.New("tcrypto: invalid shares")
	// ErrNotEnoughShares means fewer than Threshold() shares were given.
	ErrNotEnoughShares = errors.New("tcrypto: not enough shares")
	// ErrInvalidCiphertext means the ciphertext's validity proof does not
	// check: it was not produced by Encrypt (or was altered afterwards).
	ErrInvalidCiphertext = errors.New("tcrypto: invalid ciphertext")
	// ErrInvalidPayload means the ciphertext is well formed and every
	// decryption share was valid, but the symmetric key does not match its
	// commitment or the AEAD box does not authenticate under it: the encryptor
	// (the proposer of the contribution) is at fault, not the share senders.
	// Every honest node reaches the same verdict for the same ciphertext.
	ErrInvalidPayload = errors.New("tcrypto: ciphertext payload does not decrypt")
	// ErrEncoding is wrapped by every decoding error.
	ErrEncoding = errors.New("tcrypto: invalid encoding")
)

// numLines is the number of Miller-loop steps gnark-crypto precomputes for a
// fixed G2 point.
const numLines = len(bls.LoopCounter) - 1

// fixedLines are the precomputed Miller-loop lines of a fixed G2 point.
type fixedLines = [2][numLines]bls.LineEvaluationAff

var (
	g1Gen      bls.G1Affine
	g2Gen      bls.G2Affine
	g1GenNeg   bls.G1Affine
	g2GenLines fixedLines
)

func init() {
	_, _, g1, g2 := bls.Generators()
	g1Gen, g2Gen = g1, g2
	g1GenNeg.Neg(&g1Gen)
	g2GenLines = bls.PrecomputeLines(g2Gen)
}

// PublicKeySet is the public part of a dealt key set: what every member and
// every observer of the cluster knows.
//
// The master public key is held in both groups: MasterG2 = s·P2 verifies
// combined signatures (signatures live in G1), and MasterG1 = s·P1 is the
// encryption key of the threshold cryptosystem (ciphertexts' U and decryption
// shares live in G1). Member i's verification key is VK_i = s_i·P2 in G2; it
// checks both that member's signature shares and its decryption shares.
//
// To make share checks cheap it also holds the precomputed Miller-loop lines
// of every G2 key, about 24 KiB per member: keep one PublicKeySet per key
// set and share it by pointer.
//
// A PublicKeySet is immutable after Deal or UnmarshalBinary and is safe for
// concurrent use. The zero value has N() == 0 and verifies nothing.
type PublicKeySet struct {
	n, threshold int
	masterG1     bls.G1Affine
	masterG2     bls.G2Affine
	vks          []bls.G2Affine
	// Precomputed Miller-loop lines of masterG2 and of every vks[i].
	masterLines fixedLines
	vkLines     []fixedLines
}

// SecretShare is one member's share s_i = f(i+1) of the master secret. It
// signs (SignShare) and decrypts (DecryptShare). It must never leave the
// member's key file; it is immutable and safe for concurrent use.
type SecretShare struct {
	// Index is the member's 0-based index in the PublicKeySet.
	Index int
	s     fr.Element
}

// N returns the number of members.
func (pk *PublicKeySet) N() int { return pk.n }

// Threshold returns the number of shares needed to sign or decrypt (f+1).
func (pk *PublicKeySet) Threshold() int { return pk.threshold }

// VerificationKey returns the compressed encoding of member index's
// verification key s_i·P2, and false if index is out of range.
func (pk *PublicKeySet) VerificationKey(index int) ([bls.SizeOfG2AffineCompressed]byte, bool) {
	if index < 0 || index >= pk.n {
		return [bls.SizeOfG2AffineCompressed]byte{}, false
	}
	return pk.vks[index].Bytes(), true
}

// Equal reports whether two key sets are the same.
func (pk *PublicKeySet) Equal(o *PublicKeySet) bool {
	if pk.n != o.n || pk.threshold != o.threshold || !pk.masterG1.Equal(&o.masterG1) || !pk.masterG2.Equal(&o.masterG2) {
		return false
	}
	for i := range pk.vks {
		if !pk.vks[i].Equal(&o.vks[i]) {
			return false
		}
	}
	return true
}

// CheckSecretShare verifies that s is the secret share of member s.Index in
// this key set (s_i·P2 = VK_i). Key loading should call it so that a key file
// with a mismatched share is refused before the member signs anything.
func (pk *PublicKeySet) CheckSecretShare(s *SecretShare) error {
	if s.Index < 0 || s.Index >= pk.n {
		return fmt.Errorf("checking secret share: index %d outside [0,%d)", s.Index, pk.n)
	}
	var got bls.G2Affine
	got.ScalarMultiplicationBase(scalarBig(&s.s))
	if !got.Equal(&pk.vks[s.Index]) {
		return fmt.Errorf("checking secret share: share %d does not match its verification key", s.Index)
	}
	return nil
}

// Deal acts as a trusted dealer. It draws a random polynomial f of degree
// threshold-1 over Fr, with the master secret s = f(0), and returns the public
// key set and the n secret shares s_i = f(i+1) (share i belongs to member i).
// Randomness is read from rnd (crypto/rand if nil); with a deterministic rnd
// the output is deterministic. The caller owns the shares and must erase them
// once written to the members' key files.
func Deal(n, threshold int, rnd io.Reader) (*PublicKeySet, []*SecretShare, error) {
	if n < 1 || n > MaxMembers {
		return nil, nil, fmt.Errorf("dealing keys: member count %d outside [1,%d]", n, MaxMembers)
	}
	if threshold < 1 || threshold > n {
		return nil, nil, fmt.Errorf("dealing keys: threshold %d outside [1,%d]", threshold, n)
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	coeffs := make([]fr.Element, threshold)
	for i := range coeffs {
		c, err := randomScalar(rnd)
		if err != nil {
			return nil, nil, fmt.Errorf("dealing keys: drawing coefficient %d: %w", i, err)
		}
		coeffs[i] = c
	}
	shares := make([]*SecretShare, n)
	for i := range shares {
		var x fr.Element
		x.SetUint64(uint64(i) + 1)
		si := evalPoly(coeffs, &x)
		if si.IsZero() {
			// Probability 2^-254 per share with honest randomness; a zero share
			// would make its verification key the identity.
			return nil, nil, fmt.Errorf("dealing keys: share %d is zero; draw again", i)
		}
		shares[i] = &SecretShare{Index: i, s: si}
	}
	pk := &PublicKeySet{n: n, threshold: threshold, vks: make([]bls.G2Affine, n)}
	secret := scalarBig(&coeffs[0])
	pk.masterG1.ScalarMultiplicationBase(secret)
	pk.masterG2.ScalarMultiplicationBase(secret)
	for i, sh := range shares {
		pk.vks[i].ScalarMultiplicationBase(scalarBig(&sh.s))
	}
	pk.precompute()
	for i := range coeffs {
		coeffs[i].SetZero()
	}
	return pk, shares, nil
}

// precompute fills the Miller-loop line tables of the fixed G2 keys.
func (pk *PublicKeySet) precompute() {
	pk.masterLines = bls.PrecomputeLines(pk.masterG2)
	pk.vkLines = make([]fixedLines, pk.n)
	for i := range pk.vks {
		pk.vkLines[i] = bls.PrecomputeLines(pk.vks[i])
	}
}

// validate checks the internal consistency of a decoded key set: MasterG1 and
// MasterG2 hold the same secret, and (MasterG2, VK_0, …, VK_{n-1}) are the
// values at x = 0, 1, …, n of one polynomial of degree < threshold "in the
// exponent", so that any threshold valid shares combine to a valid signature
// or decryption. The degree check is SCRAPE's (Cascudo and David, ACNS 2017):
// the vector is orthogonal to a codeword of the dual Reed–Solomon code whose
// coefficients are derived by hashing the key set (Fiat–Shamir), so one
// multi-scalar multiplication replaces n-t+1 interpolations.
func (pk *PublicKeySet) validate(encoding []byte) error {
	if pk.masterG1.IsInfinity() || pk.masterG2.IsInfinity() {
		return errors.New("master key is the identity")
	}
	for i := range pk.vks {
		if pk.vks[i].IsInfinity() {
			return fmt.Errorf("verification key %d is the identity", i)
		}
	}
	ok, err := bls.PairingCheck([]bls.G1Affine{pk.masterG1, g1GenNeg}, []bls.G2Affine{g2Gen, pk.masterG2})
	if err != nil {
		return fmt.Errorf("pairing master keys: %w", err)
	}
	if !ok {
		return errors.New("master keys in G1 and G2 differ")
	}
	n, t := pk.n, pk.threshold
	// Points α_j = j for j = 0..n; weights v_j = 1/∏_{k≠j}(α_j-α_k)
	// = 1/(j!·(n-j)!·(-1)^(n-j)).
	fact := make([]fr.Element, n+1)
	fact[0].SetOne()
	for j := 1; j <= n; j++ {
		var x fr.Element
		x.SetUint64(uint64(j))
		fact[j].Mul(&fact[j-1], &x)
	}
	den := make([]fr.Element, n+1)
	for j := 0; j <= n; j++ {
		den[j].Mul(&fact[j], &fact[n-j])
		if (n-j)%2 == 1 {
			den[j].Neg(&den[j])
		}
	}
	w := fr.BatchInvert(den)
	// A random polynomial m* of degree n-t drawn from a hash of the encoding.
	coeffs, err := fr.Hash(encoding, []byte("CONSTELLATION-TCRYPTO-V1-KEYSET-CHECK"), n-t+1)
	if err != nil {
		return fmt.Errorf("deriving check polynomial: %w", err)
	}
	var acc bls.G2Jac
	for j := 0; j <= n; j++ {
		var x fr.Element
		x.SetUint64(uint64(j))
		c := evalPoly(coeffs, &x)
		c.Mul(&c, &w[j])
		p := &pk.masterG2
		if j > 0 {
			p = &pk.vks[j-1]
		}
		var pj bls.G2Jac
		pj.FromAffine(p)
		pj.ScalarMultiplication(&pj, scalarBig(&c))
		acc.AddAssign(&pj)
	}
	if !acc.Z.IsZero() {
		return fmt.Errorf("verification keys are not on one polynomial of degree < %d", t)
	}
	return nil
}

// evalPoly evaluates Σ coeffs[k]·x^k by Horner's rule.
func evalPoly(coeffs []fr.Element, x *fr.Element) fr.Element {
	var acc fr.Element
	for k := len(coeffs) - 1; k >= 0; k-- {
		acc.Mul(&acc, x)
		acc.Add(&acc, &coeffs[k])
	}
	return acc
}

// randomScalar reads 64 bytes from rnd and reduces them modulo r (bias below
// 2^-256), refusing zero.
func randomScalar(rnd io.Reader) (fr.Element, error) {
	var buf [64]byte
	var z fr.Element
	if _, err := io.ReadFull(rnd, buf[:]); err != nil {
		return z, fmt.Errorf("reading randomness: %w", err)
	}
	z.SetBytes(buf[:])
	if z.IsZero() {
		return z, errors.New("randomness reduced to zero")
	}
	return z, nil
}

// scalarBig converts a field element to the big.Int the curve API takes.
func scalarBig(z *fr.Element) *big.Int {
	return z.BigInt(new(big.Int))
}

// lagrangeAtZero returns the Lagrange coefficients λ_j at x = 0 for the
// members idx (0-based, distinct), whose evaluation points are x_j = idx[j]+1:
// λ_j = ∏_{m≠j} x_m/(x_m-x_j) = P / (x_j·∏_{m≠j}(x_m-x_j)) with P = ∏ x_m,
// using one batch inversion for all j.
func lagrangeAtZero(idx []int) []fr.Element {
	k := len(idx)
	xs := make([]fr.Element, k)
	var prod fr.Element
	prod.SetOne()
	for j, i := range idx {
		xs[j].SetUint64(uint64(i) + 1)
		prod.Mul(&prod, &xs[j])
	}
	den := make([]fr.Element, k)
	for j := range xs {
		den[j] = xs[j]
		for m := range xs {
			if m == j {
				continue
			}
			var d fr.Element
			d.Sub(&xs[m], &xs[j])
			den[j].Mul(&den[j], &d)
		}
	}
	lam := fr.BatchInvert(den)
	for j := range lam {
		lam[j].Mul(&lam[j], &prod)
	}
	return lam
}

// combineG1 returns Σ λ_j·P_j for the Lagrange coefficients of idx.
func combineG1(idx []int, pts []bls.G1Affine) bls.G1Affine {
	lam := lagrangeAtZero(idx)
	var acc bls.G1Jac
	var tmp bls.G1Jac
	for j := range pts {
		tmp.FromAffine(&pts[j])
		tmp.ScalarMultiplication(&tmp, scalarBig(&lam[j]))
		acc.AddAssign(&tmp)
	}
	var out bls.G1Affine
	out.FromJacobian(&acc)
	return out
}

// pickIndices returns the member indices of shares in increasing order,
// split into those inside [0,n) and those outside (which are always bad).
func pickIndices[S any](n int, shares map[int]S) (valid, outOfRange []int) {
	for i := range shares {
		if i < 0 || i >= n {
			outOfRange = append(outOfRange, i)
		} else {
			valid = append(valid, i)
		}
	}
	slices.Sort(valid)
	slices.Sort(outOfRange)
	return valid, outOfRange
}
