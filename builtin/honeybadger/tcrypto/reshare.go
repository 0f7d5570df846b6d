package tcrypto

// Resharing: the members of a key set hand the same master secret to a new
// membership, so that the master public key, and every signature and
// ciphertext made under it, stays valid while who holds the shares changes.
//
// This is the redistribution of Y. Desmedt and S. Jajodia ("Redistributing
// Secret Shares to New Access Structures and Its Applications", 1997) with
// Feldman commitments, the way drand reshares its distributed key: every old
// member i that deals shares its own secret share s_i with a polynomial g_i
// of degree t'−1 (the new threshold) and g_i(0) = s_i, so its constant
// commitment C_i0 = s_i·P2 must equal its old verification key VK_i, which
// anyone can check against the old PublicKeySet. Dealings are sealed to the
// new members and answered by them exactly as in a fresh key generation
// (dkg.go): acknowledgements, or publicly verifiable complaints that
// disqualify a cheating dealer.
//
// Once a set Q of at least t (the old threshold) old dealers qualified, with
// λ_i the Lagrange coefficients at 0 of their old evaluation points:
//
//	new share of member j:   s'_j = Σ_{i∈Q} λ_i·g_i(j+1)
//	new commitments:         C'_k = Σ_{i∈Q} λ_i·C_ik
//	new master key:          C'_0 = Σ λ_i·VK_i = s·P2, the old one
//
// because the s_i lie on the old polynomial of degree t−1 and any t of them
// interpolate its value at 0. The new shares lie on the polynomial
// Σ λ_i·g_i of degree t'−1, whose other coefficients are random as long as
// one qualified dealer is honest.
//
// What it does not do: an old member's share stays a valid share of the
// same secret after the handover, so t old members who kept theirs (and
// colluded) could still sign. Proactive schemes assume old shares are
// erased; a member should delete its old key material once the new
// membership holds the key.

import (
	"errors"
	"fmt"
	"io"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// NewReshareDealing makes old member old.Index's dealing of its share to n
// new members with threshold t. memberKeys[j] is new member j's X25519
// public key. Randomness is read from rnd (crypto/rand if nil): (t−1)·64
// bytes of coefficients (plus 64 that the constant term replaces), then 32
// bytes of ephemeral key.
func NewReshareDealing(n, t int, old *SecretShare, memberKeys [][]byte, rnd io.Reader) (*Dealing, error) {
	if old == nil {
		return nil, errors.New("dkg: reshare dealing: no old share")
	}
	return newDealing(n, t, old.Index, memberKeys, rnd, nil, &old.s)
}

// DecodeReshareDealing decodes a reshare dealing for n new members and
// threshold t as DecodeDealing does a fresh one; the dealer may be any old
// member index.
func DecodeReshareDealing(b []byte, n, t int) (*Dealing, error) {
	return decodeDealing(b, n, t, true)
}

// IsReshare reports whether d reshares an old member's share.
func (d *Dealing) IsReshare() bool { return d.reshare }

// VerifyReshare makes the checks anyone can make on a reshare dealing for n
// new members and threshold t against the old key set: those of Verify,
// and that the dealer is an old member whose verification key is the
// dealing's constant commitment (it shares its real old share). Errors wrap
// ErrInvalidDealing.
func (d *Dealing) VerifyReshare(n, t int, old *PublicKeySet) error {
	if err := d.Verify(n, t); err != nil {
		return err
	}
	if !d.reshare {
		return fmt.Errorf("dkg: dealing of member %d is a fresh dealing, not a reshare: %w", d.dealer, ErrInvalidDealing)
	}
	if old == nil || d.dealer >= old.n {
		return fmt.Errorf("dkg: reshare dealing of old member %d, and the old key set has %d members: %w", d.dealer, old.N(), ErrInvalidDealing)
	}
	if !d.commits[0].Equal(&old.vks[d.dealer]) {
		return fmt.Errorf("dkg: reshare dealing of old member %d does not share its old share (constant commitment is not its verification key): %w", d.dealer, ErrInvalidDealing)
	}
	return nil
}

// AssembleResharePublic combines the reshare dealings of the qualified old
// dealers (strictly increasing old indices, at least old.Threshold() of
// them) into the new public key set for n members and threshold t. Every
// qualified dealing must have passed VerifyReshare; the result is checked
// to hold the old master keys.
func AssembleResharePublic(old *PublicKeySet, n, t int, dealings []*Dealing, qualified []int) (*PublicKeySet, error) {
	pk, _, _, err := assembleReshare(old, n, t, dealings, qualified)
	return pk, err
}

func assembleReshare(old *PublicKeySet, n, t int, dealings []*Dealing, qualified []int) (*PublicKeySet, []*Dealing, []fr.Element, error) {
	if err := checkDKGParams(n, t); err != nil {
		return nil, nil, nil, fmt.Errorf("dkg: assembling reshared keys: %w", err)
	}
	if old == nil || old.N() == 0 {
		return nil, nil, nil, errors.New("dkg: assembling reshared keys: no old key set")
	}
	if len(qualified) < old.threshold {
		return nil, nil, nil, fmt.Errorf("dkg: assembling reshared keys: %d qualified old dealers, need at least %d", len(qualified), old.threshold)
	}
	for k, j := range qualified {
		if j < 0 || j >= old.n {
			return nil, nil, nil, fmt.Errorf("dkg: assembling reshared keys: qualified dealer %d outside [0,%d)", j, old.n)
		}
		if k > 0 && j <= qualified[k-1] {
			return nil, nil, nil, fmt.Errorf("dkg: assembling reshared keys: qualified dealers not strictly increasing at %d", j)
		}
	}
	byDealer := make([]*Dealing, old.n)
	for _, d := range dealings {
		if d == nil {
			continue
		}
		if err := d.wellFormed(); err != nil {
			return nil, nil, nil, fmt.Errorf("dkg: assembling reshared keys: %w", err)
		}
		if !d.reshare || d.n != n || d.t != t || d.dealer >= old.n {
			return nil, nil, nil, fmt.Errorf("dkg: assembling reshared keys: dealing of member %d is not a reshare for n=%d, t=%d", d.dealer, n, t)
		}
		if byDealer[d.dealer] != nil {
			return nil, nil, nil, fmt.Errorf("dkg: assembling reshared keys: two dealings of old member %d", d.dealer)
		}
		byDealer[d.dealer] = d
	}
	use := make([]*Dealing, len(qualified))
	for k, j := range qualified {
		if byDealer[j] == nil {
			return nil, nil, nil, fmt.Errorf("dkg: assembling reshared keys: no dealing of qualified old member %d", j)
		}
		use[k] = byDealer[j]
	}
	lam := lagrangeAtZero(qualified)
	var a0 bls.G1Jac
	cs := make([]bls.G2Jac, t)
	for k, d := range use {
		l := scalarBig(&lam[k])
		var p1 bls.G1Jac
		p1.FromAffine(&d.a0)
		p1.ScalarMultiplication(&p1, l)
		a0.AddAssign(&p1)
		for c := range cs {
			var p2 bls.G2Jac
			p2.FromAffine(&d.commits[c])
			p2.ScalarMultiplication(&p2, l)
			cs[c].AddAssign(&p2)
		}
	}
	sum := make([]bls.G2Affine, t)
	for k := range cs {
		sum[k].FromJacobian(&cs[k])
	}
	pk := &PublicKeySet{n: n, threshold: t, vks: make([]bls.G2Affine, n)}
	pk.masterG1.FromJacobian(&a0)
	pk.masterG2 = sum[0]
	if !pk.masterG2.Equal(&old.masterG2) {
		return nil, nil, nil, fmt.Errorf("dkg: assembling reshared keys: the qualified dealings do not hold the old master key; one was not verified: %w", ErrInvalidDealing)
	}
	if !pk.masterG1.Equal(&old.masterG1) {
		return nil, nil, nil, fmt.Errorf("dkg: assembling reshared keys: the qualified dealings' A0 do not combine to the old encryption key; one was not verified: %w", ErrInvalidDealing)
	}
	for i := range pk.vks {
		pk.vks[i] = evalCommitments(sum, uint64(i)+1)
		if pk.vks[i].IsInfinity() {
			return nil, nil, nil, fmt.Errorf("dkg: assembling reshared keys: verification key %d is the identity", i)
		}
	}
	pk.precompute()
	return pk, use, lam, nil
}

// AssembleReshare is AssembleResharePublic for new member me, which also
// combines its opened shares (myShares[i]: old dealer i's dealing opened by
// me) into its secret share s'_me = Σ λ_i·g_i(me+1) and checks it against
// VK'_me.
func AssembleReshare(old *PublicKeySet, n, t int, dealings []*Dealing, qualified []int, me int, myShares map[int]DealingShare) (*PublicKeySet, *SecretShare, error) {
	if me < 0 || me >= n {
		return nil, nil, fmt.Errorf("dkg: assembling reshared keys: member %d outside [0,%d)", me, n)
	}
	pk, _, lam, err := assembleReshare(old, n, t, dealings, qualified)
	if err != nil {
		return nil, nil, err
	}
	var s fr.Element
	for k, i := range qualified {
		sh, ok := myShares[i]
		if !ok || !sh.ok {
			return nil, nil, fmt.Errorf("dkg: assembling reshared keys of member %d: no opened share from qualified old dealer %d", me, i)
		}
		if sh.dealer != i || sh.index != me {
			return nil, nil, fmt.Errorf("dkg: assembling reshared keys of member %d: share under dealer %d is dealer %d's share for member %d", me, i, sh.dealer, sh.index)
		}
		var term fr.Element
		term.Mul(&lam[k], &sh.v)
		s.Add(&s, &term)
	}
	sk := &SecretShare{Index: me, s: s}
	if err := pk.CheckSecretShare(sk); err != nil {
		s.SetZero()
		return nil, nil, fmt.Errorf("dkg: assembling reshared keys of member %d: %w", me, err)
	}
	if s.IsZero() {
		return nil, nil, fmt.Errorf("dkg: assembling reshared keys of member %d: secret share is zero", me)
	}
	return pk, sk, nil
}
