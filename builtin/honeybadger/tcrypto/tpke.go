package tcrypto

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sync/atomic"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/constellation-chain/constellation/interfaces"
	"golang.org/x/crypto/chacha20poly1305"
)

// EncryptionDST is the RFC 9380 domain-separation tag under which the
// ciphertext digest is hashed to G2 for the Baek–Zheng validity proof.
const EncryptionDST = "CONSTELLATION-TPKE-V1_BLS12381G2_XMD:SHA-256_SSWU_RO_"

// Domain tags of the SHA-256 uses inside the cryptosystem.
const (
	kdfTag    = "CONSTELLATION-TPKE-V1-KDF"
	commitTag = "CONSTELLATION-TPKE-V1-KEYCOMMIT"
	digestTag = "CONSTELLATION-TPKE-V1-CIPHERTEXT"
	batchTag  = "CONSTELLATION-TPKE-V1-BATCH"
)

// MaxPlaintext bounds the payload Encrypt accepts, so that every ciphertext
// it produces also decodes.
const MaxPlaintext = interfaces.MaxFieldLen - chacha20poly1305.Overhead

// Ciphertext is a threshold-encrypted payload:
//
//	U = r·P1                      (G1)
//	V = K ⊕ SHA-256(kdf ‖ r·MasterG1)
//	C = SHA-256(commit ‖ K)       key commitment
//	box = ChaCha20-Poly1305_K(nonce, payload)
//	W = r·H'(digest(U, V, C, nonce, box))   (G2)
//
// where K is a fresh random 256-bit key. (U, V, W) is Baek–Zheng's ciphertext
// with K as its message; H' covering the whole ciphertext makes any change to
// any byte invalidate the proof, so the ciphertext a member decrypts is
// exactly the one that was proposed. The commitment C is an addition to the
// paper: Poly1305 is not key-committing, so without C a proposer colluding
// with a member that sends a bad decryption share could craft a box that
// opens to different payloads under the correct key and under the key a
// node derives from the bad share, and honest nodes that combined different
// share sets would disagree. With C, a derived key is used only if it is the
// committed one, so every honest node decrypts to the same payload or
// reports the same ErrInvalidPayload.
//
// A Ciphertext is immutable once made by Encrypt or UnmarshalBinary; it caches
// the result of its validity check and is safe for concurrent use. Pass it by
// pointer.
type Ciphertext struct {
	u      bls.G1Affine
	v      [32]byte
	w      bls.G2Affine
	commit [32]byte
	nonce  [chacha20poly1305.NonceSize]byte
	box    []byte
	// validity caches VerifyCiphertext: 0 unknown, 1 valid, 2 invalid.
	validity atomic.Int32
}

// PayloadLen returns the length of the encrypted payload.
func (c *Ciphertext) PayloadLen() int { return len(c.box) - chacha20poly1305.Overhead }

// DecShare is one member's decryption share s_i·U of a ciphertext.
type DecShare struct{ p bls.G1Affine }

// Encrypt encrypts plaintext to the key set, so that any Threshold() members
// can decrypt it and fewer learn nothing. Randomness is read from rnd
// (crypto/rand if nil).
func (pk *PublicKeySet) Encrypt(rnd io.Reader, plaintext []byte) (*Ciphertext, error) {
	if pk.n == 0 {
		return nil, errors.New("encrypting: empty key set")
	}
	if len(plaintext) > MaxPlaintext {
		return nil, fmt.Errorf("encrypting: payload of %d bytes exceeds %d", len(plaintext), MaxPlaintext)
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	r, err := randomScalar(rnd)
	if err != nil {
		return nil, fmt.Errorf("encrypting: drawing the ephemeral scalar: %w", err)
	}
	var key [chacha20poly1305.KeySize]byte
	c := &Ciphertext{}
	if _, err := io.ReadFull(rnd, key[:]); err != nil {
		return nil, fmt.Errorf("encrypting: drawing the payload key: %w", err)
	}
	if _, err := io.ReadFull(rnd, c.nonce[:]); err != nil {
		return nil, fmt.Errorf("encrypting: drawing the nonce: %w", err)
	}
	rb := scalarBig(&r)
	c.u.ScalarMultiplicationBase(rb)
	var ry bls.G1Affine
	ry.ScalarMultiplication(&pk.masterG1, rb)
	mask := kdf(&ry)
	subtle.XORBytes(c.v[:], key[:], mask[:])
	c.commit = keyCommitment(&key)
	aead, err := chacha20poly1305.New(key[:])
	if err != nil {
		return nil, fmt.Errorf("encrypting: making the AEAD: %w", err)
	}
	c.box = aead.Seal(nil, c.nonce[:], plaintext, nil)
	h := c.hashToG2()
	c.w.ScalarMultiplication(&h, rb)
	c.validity.Store(1)
	return c, nil
}

// kdf derives the mask that hides K from r·MasterG1.
func kdf(p *bls.G1Affine) [32]byte {
	b := p.Bytes()
	hsh := sha256.New()
	hsh.Write([]byte(kdfTag))
	hsh.Write(b[:])
	var out [32]byte
	hsh.Sum(out[:0])
	return out
}

func keyCommitment(key *[32]byte) [32]byte {
	hsh := sha256.New()
	hsh.Write([]byte(commitTag))
	hsh.Write(key[:])
	var out [32]byte
	hsh.Sum(out[:0])
	return out
}

// digest is SHA-256 over the ciphertext's body (U, V, C, nonce, box).
func (c *Ciphertext) digest() [32]byte {
	ub := c.u.Bytes()
	hsh := sha256.New()
	hsh.Write([]byte(digestTag))
	hsh.Write(ub[:])
	hsh.Write(c.v[:])
	hsh.Write(c.commit[:])
	hsh.Write(c.nonce[:])
	hsh.Write(c.box)
	var d [32]byte
	hsh.Sum(d[:0])
	return d
}

// hashToG2 is H'(U, V, C, nonce, box): the digest hashed to G2 under
// EncryptionDST.
func (c *Ciphertext) hashToG2() bls.G2Affine {
	d := c.digest()
	return digestToG2(&d)
}

func digestToG2(d *[32]byte) bls.G2Affine {
	h, err := bls.HashToG2(d[:], []byte(EncryptionDST))
	if err != nil {
		// Fails only for a tag longer than 255 bytes; ours is a constant.
		panic(fmt.Sprintf("tcrypto: hashing to G2: %v", err))
	}
	return h
}

// VerifyCiphertext reports whether c carries a valid Baek–Zheng proof,
// e(P1, W) = e(U, H'(…)), i.e. whether it was made by Encrypt (to some key)
// and not altered. The result is cached in c. It does not depend on pk.
func (pk *PublicKeySet) VerifyCiphertext(c *Ciphertext) bool { return c.valid() }

// valid checks the validity proof once and caches the verdict.
func (c *Ciphertext) valid() bool {
	switch c.validity.Load() {
	case 1:
		return true
	case 2:
		return false
	}
	ok := verifyCiphertext(c)
	if ok {
		c.validity.Store(1)
	} else {
		c.validity.Store(2)
	}
	return ok
}

// wellFormed checks what must hold before any pairing is computed.
func (c *Ciphertext) wellFormed() bool {
	return !c.u.IsInfinity() && !c.w.IsInfinity() && len(c.box) >= chacha20poly1305.Overhead
}

func verifyCiphertext(c *Ciphertext) bool {
	if !c.wellFormed() {
		return false
	}
	h := c.hashToG2()
	ok, err := bls.PairingCheck([]bls.G1Affine{g1GenNeg, c.u}, []bls.G2Affine{c.w, h})
	return err == nil && ok
}

// VerifyCiphertexts is VerifyCiphertext for many ciphertexts at once, as a
// HoneyBadger node needs after ACS: it returns one verdict per ciphertext and
// caches each in its ciphertext. The unchecked ones are verified together
// with one product of pairings (small-exponent batch verification, Bellare,
// Garay and Rabin, EUROCRYPT 1998):
//
//	e(-P1, Σ ρ_j·W_j) · ∏_j e(ρ_j·U_j, H'_j) = 1
//
// with 128-bit ρ_j derived by hashing every ciphertext's digest, so the
// verdicts are deterministic and a forger who cannot predict the ρ_j passes
// with probability 2^-128. Only if the batch fails are the ciphertexts
// checked one by one.
func (pk *PublicKeySet) VerifyCiphertexts(cs []*Ciphertext) []bool {
	out := make([]bool, len(cs))
	var todo []int
	for j, c := range cs {
		switch c.validity.Load() {
		case 1:
			out[j] = true
		case 2:
		default:
			if c.wellFormed() {
				todo = append(todo, j)
			} else {
				c.validity.Store(2)
			}
		}
	}
	if len(todo) == 0 {
		return out
	}
	if len(todo) == 1 {
		out[todo[0]] = cs[todo[0]].valid()
		return out
	}
	seed := sha256.New()
	seed.Write([]byte(batchTag))
	digests := make([][32]byte, len(todo))
	for k, j := range todo {
		digests[k] = cs[j].digest()
		seed.Write(digests[k][:])
	}
	var seedSum [32]byte
	seed.Sum(seedSum[:0])
	p := make([]bls.G1Affine, 0, len(todo)+1)
	q := make([]bls.G2Affine, 0, len(todo)+1)
	var wSum bls.G2Jac
	for k, j := range todo {
		rho := batchScalar(&seedSum, k)
		var wj bls.G2Jac
		wj.FromAffine(&cs[j].w)
		wj.ScalarMultiplication(&wj, rho)
		wSum.AddAssign(&wj)
		var uj bls.G1Affine
		uj.ScalarMultiplication(&cs[j].u, rho)
		p = append(p, uj)
		q = append(q, digestToG2(&digests[k]))
	}
	var w bls.G2Affine
	w.FromJacobian(&wSum)
	p = append(p, g1GenNeg)
	q = append(q, w)
	if ok, err := bls.PairingCheck(p, q); err == nil && ok {
		for _, j := range todo {
			cs[j].validity.Store(1)
			out[j] = true
		}
		return out
	}
	for _, j := range todo {
		out[j] = cs[j].valid()
	}
	return out
}

// batchScalar derives the k-th 128-bit batch-verification exponent.
func batchScalar(seed *[32]byte, k int) *big.Int {
	var buf [36]byte
	copy(buf[:], seed[:])
	binary.BigEndian.PutUint32(buf[32:], uint32(k))
	d := sha256.Sum256(buf[:])
	d[0] |= 0x80 // never zero
	return new(big.Int).SetBytes(d[:16])
}

// DecryptShare returns this member's decryption share of c. It refuses a
// ciphertext whose validity proof does not check (ErrInvalidCiphertext):
// answering for invalid ciphertexts is what a chosen-ciphertext attacker
// needs.
func (s *SecretShare) DecryptShare(c *Ciphertext) (DecShare, error) {
	if !c.valid() {
		return DecShare{}, fmt.Errorf("making decryption share: %w", ErrInvalidCiphertext)
	}
	var ds DecShare
	ds.p.ScalarMultiplication(&c.u, scalarBig(&s.s))
	return ds, nil
}

// VerifyDecShare reports whether ds is member index's valid decryption share
// of c: e(D_i, P2) = e(U, VK_i), one two-term pairing product with
// precomputed lines and no hashing. It does not check c's own validity
// (Decrypt does).
func (pk *PublicKeySet) VerifyDecShare(index int, c *Ciphertext, ds DecShare) bool {
	if index < 0 || index >= pk.n || ds.p.IsInfinity() || c.u.IsInfinity() {
		return false
	}
	return checkFixed(&ds.p, &g2GenLines, &c.u, &pk.vkLines[index])
}

// Decrypt combines decryption shares of c, keyed by member index, and
// returns the payload. It first checks c (ErrInvalidCiphertext), then
// interpolates the Threshold() shares of lowest index into r·MasterG1,
// recovers K and checks it against the commitment: that single hash
// comparison stands for verifying every share. Only if it fails are the given
// shares verified one by one; bad ones are returned with ErrInvalidShares (the
// caller reports them as faults and retries without them). If every share
// is valid, the encryptor is at fault and the error wraps ErrInvalidPayload;
// so does an AEAD failure under the committed key. Indices outside [0, N)
// are always bad; fewer than Threshold() shares gives ErrNotEnoughShares.
//
// The returned []int is non-empty exactly when the error wraps
// ErrInvalidShares.
func (pk *PublicKeySet) Decrypt(c *Ciphertext, shares map[int]DecShare) ([]byte, []int, error) {
	if !c.valid() {
		return nil, nil, fmt.Errorf("decrypting: %w", ErrInvalidCiphertext)
	}
	valid, outOfRange := pickIndices(pk.n, shares)
	if len(outOfRange) > 0 {
		return nil, outOfRange, fmt.Errorf("decrypting: member indices %v outside [0,%d): %w", outOfRange, pk.n, ErrInvalidShares)
	}
	if pk.n == 0 || len(valid) < pk.threshold {
		return nil, nil, fmt.Errorf("decrypting: have %d shares, need %d: %w", len(valid), pk.threshold, ErrNotEnoughShares)
	}
	use := valid[:pk.threshold]
	pts := make([]bls.G1Affine, len(use))
	for j, i := range use {
		ds := shares[i]
		pts[j] = ds.p
	}
	ry := combineG1(use, pts)
	mask := kdf(&ry)
	var key [32]byte
	subtle.XORBytes(key[:], c.v[:], mask[:])
	if commit := keyCommitment(&key); subtle.ConstantTimeCompare(commit[:], c.commit[:]) == 1 {
		aead, err := chacha20poly1305.New(key[:])
		if err != nil {
			return nil, nil, fmt.Errorf("decrypting: making the AEAD: %w", err)
		}
		pt, err := aead.Open(nil, c.nonce[:], c.box, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("decrypting: opening the payload under the committed key: %w", ErrInvalidPayload)
		}
		return pt, nil, nil
	}
	var bad []int
	for _, i := range valid {
		if !pk.VerifyDecShare(i, c, shares[i]) {
			bad = append(bad, i)
		}
	}
	if len(bad) > 0 {
		return nil, bad, fmt.Errorf("decrypting: bad shares from members %v: %w", bad, ErrInvalidShares)
	}
	return nil, nil, fmt.Errorf("decrypting: valid shares give a key that does not match the commitment: %w", ErrInvalidPayload)
}

// Equal reports whether two decryption shares are the same point.
func (ds DecShare) Equal(o DecShare) bool { return ds.p.Equal(&o.p) }
