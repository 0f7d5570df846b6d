package tcrypto

import (
	"crypto/sha256"
	"fmt"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
)

// SignatureDST is the RFC 9380 domain-separation tag under which messages are
// hashed to G1 for threshold signatures. Callers that sign several kinds of
// messages (coin names, checkpoint blocks) must make the messages themselves
// unambiguous, for example with a kind prefix.
const SignatureDST = "CONSTELLATION-TBLS-V1_BLS12381G1_XMD:SHA-256_SSWU_RO_"

// SigShare is one member's share s_i·H₁(m) of a threshold signature on m.
type SigShare struct{ p bls.G1Affine }

// Signature is a combined threshold signature s·H₁(m): the same value whichever
// threshold shares produced it.
type Signature struct{ p bls.G1Affine }

// hashToG1 hashes msg to G1 under SignatureDST.
func hashToG1(msg []byte) bls.G1Affine {
	h, err := bls.HashToG1(msg, []byte(SignatureDST))
	if err != nil {
		// HashToG1 fails only for a tag longer than 255 bytes; ours is a
		// constant of 53 bytes, so this is a programming error.
		panic(fmt.Sprintf("tcrypto: hashing to G1: %v", err))
	}
	return h
}

// SignShare returns this member's signature share on msg.
func (s *SecretShare) SignShare(msg []byte) SigShare {
	h := hashToG1(msg)
	var sh SigShare
	sh.p.ScalarMultiplication(&h, scalarBig(&s.s))
	return sh
}

// VerifySigShare reports whether sh is member index's valid share on msg:
// e(σ_i, P2) = e(H₁(m), VK_i), one two-term pairing product with
// precomputed lines.
func (pk *PublicKeySet) VerifySigShare(index int, msg []byte, sh SigShare) bool {
	if index < 0 || index >= pk.n {
		return false
	}
	h := hashToG1(msg)
	return pk.verifySigShareHashed(index, &h, &sh)
}

func (pk *PublicKeySet) verifySigShareHashed(index int, h *bls.G1Affine, sh *SigShare) bool {
	if sh.p.IsInfinity() {
		return false
	}
	return checkFixed(&sh.p, &g2GenLines, h, &pk.vkLines[index])
}

// checkFixed reports whether e(a, A) = e(b, B), where A and B are fixed G2
// points given by their precomputed lines, as e(a, A)·e(-b, B) = 1.
func checkFixed(a *bls.G1Affine, aLines *fixedLines, b *bls.G1Affine, bLines *fixedLines) bool {
	var nb bls.G1Affine
	nb.Neg(b)
	ok, err := bls.PairingCheckFixedQ([]bls.G1Affine{*a, nb}, [][2][numLines]bls.LineEvaluationAff{*aLines, *bLines})
	return err == nil && ok
}

// VerifySignature reports whether sig is the threshold signature on msg under
// the master key: e(σ, P2) = e(H₁(m), MasterG2).
func (pk *PublicKeySet) VerifySignature(msg []byte, sig Signature) bool {
	if pk.n == 0 {
		return false
	}
	h := hashToG1(msg)
	return pk.verifySignatureHashed(&h, &sig)
}

func (pk *PublicKeySet) verifySignatureHashed(h *bls.G1Affine, sig *Signature) bool {
	if sig.p.IsInfinity() {
		return false
	}
	return checkFixed(&sig.p, &g2GenLines, h, &pk.masterLines)
}

// CombineSigShares combines signature shares on msg, keyed by member index,
// into the threshold signature. It interpolates the Threshold() shares of
// lowest index (so the work is deterministic in the input) and verifies the
// result once against the master key. Only if that fails does it verify every
// given share on its own; it then returns ErrInvalidShares and the sorted
// indices of the bad shares, which the caller should report as faults and
// leave out of its next attempt. Indices outside [0, N) are always bad.
//
// The returned []int is non-empty exactly when the error wraps
// ErrInvalidShares. With fewer than Threshold() shares in range the error
// wraps ErrNotEnoughShares.
func (pk *PublicKeySet) CombineSigShares(msg []byte, shares map[int]SigShare) (Signature, []int, error) {
	valid, outOfRange := pickIndices(pk.n, shares)
	if len(outOfRange) > 0 {
		return Signature{}, outOfRange, fmt.Errorf("combining signature shares: member indices %v outside [0,%d): %w", outOfRange, pk.n, ErrInvalidShares)
	}
	if pk.n == 0 || len(valid) < pk.threshold {
		return Signature{}, nil, fmt.Errorf("combining signature shares: have %d, need %d: %w", len(valid), pk.threshold, ErrNotEnoughShares)
	}
	h := hashToG1(msg)
	use := valid[:pk.threshold]
	pts := make([]bls.G1Affine, len(use))
	for j, i := range use {
		sh := shares[i]
		pts[j] = sh.p
	}
	sig := Signature{p: combineG1(use, pts)}
	if pk.verifySignatureHashed(&h, &sig) {
		return sig, nil, nil
	}
	var bad []int
	for _, i := range valid {
		sh := shares[i]
		if !pk.verifySigShareHashed(i, &h, &sh) {
			bad = append(bad, i)
		}
	}
	if len(bad) == 0 {
		// Cannot happen for a key set that passed Deal or UnmarshalBinary:
		// valid shares always combine to a valid signature.
		return Signature{}, nil, fmt.Errorf("combining signature shares: all shares valid but the combination is not; the key set is inconsistent")
	}
	return Signature{}, bad, fmt.Errorf("combining signature shares: bad shares from members %v: %w", bad, ErrInvalidShares)
}

// Hash returns the SHA-256 of the signature's 48-byte compressed point
// encoding. It is the value of the common coin: every member that combines a
// valid signature on the same message gets the same hash.
func (sig Signature) Hash() [32]byte {
	b := sig.p.Bytes()
	return sha256.Sum256(b[:])
}

// Equal reports whether two signature shares are the same point (two
// different valid-looking shares from one member for one message are
// equivocation).
func (sh SigShare) Equal(o SigShare) bool { return sh.p.Equal(&o.p) }

// Equal reports whether two signatures are the same point.
func (sig Signature) Equal(o Signature) bool { return sig.p.Equal(&o.p) }
