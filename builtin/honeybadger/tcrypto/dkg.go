package tcrypto

// Dealer-free key generation.
//
// This file replaces the trusted dealer of [Deal] by a synchronous
// distributed key generation in the style of poanetwork hbbft's SyncKeyGen:
// every member may deal, the dealings are delivered to everyone in one agreed
// order (by the caller's consensus, which this package knows nothing about),
// and the key set is the sum of the dealings of a qualified set of dealers.
// Each dealing is a Feldman verifiable secret sharing (P. Feldman, "A
// Practical Scheme for Non-interactive Verifiable Secret Sharing", FOCS
// 1987) of a fresh random secret, the combination is the joint-Feldman
// scheme of T. Pedersen ("A Threshold Cryptosystem without a Trusted Party",
// EUROCRYPT 1991), and the complaint phase follows R. Gennaro, S. Jarecki,
// H. Krawczyk and T. Rabin ("Secure Distributed Key Generation for
// Discrete-Log Based Cryptosystems", EUROCRYPT 1999) except that complaints
// are publicly verifiable, so no answer from the accused dealer is needed.
// Unlike hbbft (which shares a bivariate polynomial so that members with bad
// rows can recover them from the others' acknowledgements) a member whose
// share is bad simply gets its dealer disqualified.
//
// # Protocol
//
//  1. Every member j that deals calls [NewDealing]: a random polynomial g_j
//     of degree t-1 with coefficients a_jk; the dealing publishes
//     C_jk = a_jk·P2 (k < t), A0_j = a_j0·P1 and, for every member i,
//     g_j(i+1) encrypted to member i's X25519 key. It is broadcast in the
//     agreed order.
//  2. Every member checks every dealing with [Dealing.Verify] (public) and
//     [Dealing.Open] (its own share). A dealing that fails Verify is
//     disqualified by everyone without further ado. If Open fails with
//     [ErrShareRejected], the member publishes [Dealing.Complain]'s
//     [Complaint], which everyone checks with [VerifyComplaint]: a justified
//     complaint disqualifies the dealer; an unjustified one proves that the
//     complainer lied.
//  3. Once the agreed order has settled the set of qualified dealers (at
//     least t of them, sorted), every member calls [Assemble] and observers
//     call [AssemblePublic]. The master secret is s = Σ_j a_j0, member i's
//     share is s_i = Σ_j g_j(i+1), and the result is a [PublicKeySet] and a
//     [SecretShare] of exactly the kind [Deal] returns.
//
// With at most t-1 faulty members and at least t qualified dealers, at least
// one qualified dealer is honest, and its secret is uniformly random and
// unknown to the faulty members, so the master secret is too. As Gennaro et
// al. point out, a rushing adversary that sees honest dealings before it
// chooses whether its own dealings qualify can bias the distribution of the
// master public key; this scheme does not prevent that (their fix needs
// Pedersen commitments and an extra round). Whether that matters depends on
// the application; the threshold signatures and the encryption of this
// package are not known to be weakened by it in practice, but no proof is
// claimed here.
//
// # Share encryption
//
// Share g_j(i+1) (32 bytes, big-endian) is sealed with AES-256-GCM under a
// key and nonce derived by HKDF-SHA-256 from the X25519 shared secret of the
// dealing's ephemeral key and member i's key, with the dealer, the
// recipient, both public keys and the dealing digest (a hash of n, t, the
// dealer, A0, the commitments and the ephemeral key) in the HKDF info, and
// the dealer, recipient and digest as associated data. One ephemeral key
// serves all recipients of a dealing; the derived key and nonce differ per
// recipient, and a key is never reused across dealings.
//
// # Complaints
//
// A bare X25519 shared secret cannot be checked by anyone but its two
// holders, so a complaint that only revealed it would let any member
// disqualify any honest dealer by revealing a wrong secret (and f lying
// members could disqualify every honest dealer and leave only faulty ones
// qualified). A [Complaint] therefore reveals the shared secret as the
// edwards25519 point S = x·E (E the dealing's ephemeral key and x the
// complainer's X25519 scalar, both seen on the birationally equivalent
// Edwards curve) together with a Chaum–Pedersen proof that log_B(X) =
// log_E(S), where X is the complainer's public key: a non-interactive
// zero-knowledge proof (Fiat–Shamir with SHA-512) that reveals nothing about
// x. Anyone then derives the AEAD key from S's Montgomery u-coordinate and
// sees whether the share decrypts and matches the commitments.
//
// What a complaint reveals: the one shared secret between the complainer
// and one dealing's ephemeral key, hence the one share g_j(i+1) that dealing
// carries for the complainer, and nothing about any other dealing (the
// ephemeral key is fresh per dealing) or about the complainer's long-term
// key. If the complaint is justified the dealer is disqualified and its
// share never enters the key. If it is unjustified, the complainer (who is
// then provably faulty) publishes a share it already knew: the at most t-1
// faulty members reveal at most t-1 points of an honest dealer's
// polynomial, which the faulty coalition holds anyway and which are too few
// to determine its secret.
//
// The edwards25519 arithmetic behind complaints and behind
// [X25519FromEd25519Public] is filippo.io/edwards25519. Everything that
// touches a secret ([Dealing.Complain]: x·B, x·E, the nonce's r·B and r·E,
// the choice of the sign of x and the scalar arithmetic mod ℓ) uses its
// constant-time operations; only [VerifyComplaint], which sees nothing but
// public values, uses the faster variable-time multi-scalar multiplication.

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"
	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/constellation-chain/constellation/interfaces"
)

// Type tags of the key-generation encodings. They are far from the iota
// block in encoding.go so that tags added there do not collide with them.
const (
	tagDealing   = 0x40
	tagComplaint = 0x41
	// tagReshare marks a dealing of an old member's share to a new
	// membership (reshare.go): its dealer is an index into the old
	// members, and its constant term is the dealer's old share.
	tagReshare = 0x42
)

// Domain tags of the hashes used by key generation.
const (
	dkgDigestTag = "CONSTELLATION-DKG-V1-DEALING-DIGEST"
	// reshareDigestTag keeps a reshare dealing's digest, and so its share
	// encryption and complaints, apart from a fresh dealing's.
	reshareDigestTag = "CONSTELLATION-DKG-V1-RESHARE-DIGEST"
	dkgKDFTag        = "CONSTELLATION-DKG-V1-SHARE-KEY"
	dkgAADTag        = "CONSTELLATION-DKG-V1-SHARE-AAD"
	dkgDLEQTag       = "CONSTELLATION-DKG-V1-COMPLAINT-CHALLENGE"
	dkgNonceTag      = "CONSTELLATION-DKG-V1-COMPLAINT-NONCE"
)

const (
	// X25519KeySize is the size of an X25519 public key, a member's
	// encryption key for key generation.
	X25519KeySize = 32
	// shareBoxSize is an encrypted share: a 32-byte scalar and a GCM tag.
	shareBoxSize = fr.Bytes + 16
	gcmNonceSize = 12
	// ComplaintSize is the encoded size of a Complaint.
	ComplaintSize = 2 + 4 + 4 + 3*32
)

var (
	// ErrInvalidDealing means a dealing fails the checks anyone can make
	// ([Dealing.Verify]): every member disqualifies its dealer without a
	// complaint.
	ErrInvalidDealing = errors.New("tcrypto: invalid dealing")
	// ErrShareRejected means the share a dealing carries for the caller does
	// not decrypt, is not a canonical scalar, or does not match the dealing's
	// commitments. Only the recipient can see this; it should publish
	// [Dealing.Complain]'s complaint. (A caller that opens with the wrong
	// private key gets this error too; its complaint will then not verify.)
	ErrShareRejected = errors.New("tcrypto: share from dealing rejected")
)

// DealingSize returns the encoded size of a dealing for n members and
// threshold t: header (2), n, t, dealer (3×4), A0 (48), t commitments (96
// each), the ephemeral X25519 key (32) and n encrypted shares (48 each).
func DealingSize(n, t int) int {
	return 2 + 12 + g1Len + t*g2Len + X25519KeySize + n*shareBoxSize
}

// Dealing is one member's contribution to key generation: Feldman
// commitments to a random polynomial g of degree t-1 and the n shares
// g(1), …, g(n), each encrypted to its member. It is immutable once made by
// NewDealing or DecodeDealing and safe for concurrent use.
type Dealing struct {
	n, t   int
	dealer int
	// reshare: a dealing of the dealer's old share (reshare.go); dealer
	// then indexes the old members, not the n recipients.
	reshare   bool
	a0        bls.G1Affine   // a_0·P1
	commits   []bls.G2Affine // a_k·P2, k = 0..t-1
	ephemeral [X25519KeySize]byte
	boxes     [][shareBoxSize]byte
	digest    [32]byte
}

// DealingShare is the share g_j(me+1) that dealer j's dealing carries for
// member me, as returned by [Dealing.Open] after it checked it against the
// commitments. It is secret: keep it only until [Assemble], then drop it.
type DealingShare struct {
	dealer, index int
	v             fr.Element
	ok            bool
}

// Dealer returns the index of the member whose dealing the share came from.
func (s DealingShare) Dealer() int { return s.dealer }

// Complaint is a member's publicly verifiable claim that the share a dealing
// carries for it is bad. It reveals the X25519 shared secret between the
// complainer's key and the dealing's ephemeral key (as an edwards25519
// point) with a zero-knowledge proof that it is the right one; see the file
// comment of dkg.go for what that exposes. Make one with [Dealing.Complain],
// check it with [VerifyComplaint].
type Complaint struct {
	// Dealer is the index of the accused dealer.
	Dealer int
	// Complainer is the index of the member whose share is bad.
	Complainer int
	shared     [32]byte // S = x·E, compressed edwards25519
	c, z       [32]byte // Chaum–Pedersen proof, little-endian scalars mod ℓ
}

func checkDKGParams(n, t int) error {
	if n < 1 || n > MaxMembers {
		return fmt.Errorf("member count %d outside [1,%d]", n, MaxMembers)
	}
	if t < 1 || t > n {
		return fmt.Errorf("threshold %d outside [1,%d]", t, n)
	}
	return nil
}

// NewDealing makes member dealer's dealing for n members and threshold t.
// memberKeys[i] is member i's X25519 public key (32 bytes; see
// [X25519FromEd25519Public]); the dealer's own share is encrypted to
// memberKeys[dealer] like any other. Randomness is read from rnd
// (crypto/rand if nil): t·64 bytes of coefficients, then 32 bytes of
// ephemeral key; with a deterministic rnd the dealing is deterministic.
func NewDealing(n, t int, dealer int, memberKeys [][]byte, rnd io.Reader) (*Dealing, error) {
	return newDealing(n, t, dealer, memberKeys, rnd, nil, nil)
}

// newDealing is NewDealing with a hook that lets tests play a cheating
// dealer by changing the share sealed for a recipient. With secret set it
// makes a reshare dealing (reshare.go) whose constant term is *secret and
// whose dealer indexes the old members.
func newDealing(n, t, dealer int, memberKeys [][]byte, rnd io.Reader, tweak func(recipient int, share *fr.Element), secret *fr.Element) (*Dealing, error) {
	if err := checkDKGParams(n, t); err != nil {
		return nil, fmt.Errorf("dkg: making dealing: %w", err)
	}
	if bound := dealerBound(n, secret != nil); dealer < 0 || dealer >= bound {
		return nil, fmt.Errorf("dkg: making dealing: dealer %d outside [0,%d)", dealer, bound)
	}
	if len(memberKeys) != n {
		return nil, fmt.Errorf("dkg: dealing of member %d: %d member keys for %d members", dealer, len(memberKeys), n)
	}
	curve := ecdh.X25519()
	pubs := make([]*ecdh.PublicKey, n)
	for i, k := range memberKeys {
		if len(k) != X25519KeySize {
			return nil, fmt.Errorf("dkg: dealing of member %d: key of member %d is %d bytes, want %d", dealer, i, len(k), X25519KeySize)
		}
		p, err := curve.NewPublicKey(k)
		if err != nil {
			return nil, fmt.Errorf("dkg: dealing of member %d: key of member %d: %w", dealer, i, err)
		}
		pubs[i] = p
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	coeffs := make([]fr.Element, t)
	defer func() {
		for i := range coeffs {
			coeffs[i].SetZero()
		}
	}()
	for k := range coeffs {
		c, err := randomScalar(rnd)
		if err != nil {
			return nil, fmt.Errorf("dkg: dealing of member %d: drawing coefficient %d: %w", dealer, k, err)
		}
		coeffs[k] = c
	}
	if secret != nil {
		coeffs[0] = *secret
	}
	var eb [32]byte
	if _, err := io.ReadFull(rnd, eb[:]); err != nil {
		return nil, fmt.Errorf("dkg: dealing of member %d: drawing the ephemeral key: %w", dealer, err)
	}
	// crypto/ecdh's GenerateKey may ignore its reader; NewPrivateKey keeps
	// the dealing a function of rnd.
	eph, err := curve.NewPrivateKey(eb[:])
	clear(eb[:])
	if err != nil {
		return nil, fmt.Errorf("dkg: dealing of member %d: ephemeral key: %w", dealer, err)
	}
	d := &Dealing{n: n, t: t, dealer: dealer, reshare: secret != nil, commits: make([]bls.G2Affine, t), boxes: make([][shareBoxSize]byte, n)}
	d.a0.ScalarMultiplicationBase(scalarBig(&coeffs[0]))
	for k := range coeffs {
		d.commits[k].ScalarMultiplicationBase(scalarBig(&coeffs[k]))
	}
	copy(d.ephemeral[:], eph.PublicKey().Bytes())
	d.digest = d.computeDigest()
	for i := range n {
		ss, err := eph.ECDH(pubs[i])
		if err != nil {
			return nil, fmt.Errorf("dkg: dealing of member %d: key agreement with member %d: %w", dealer, i, err)
		}
		var x fr.Element
		x.SetUint64(uint64(i) + 1)
		share := evalPoly(coeffs, &x)
		if tweak != nil {
			tweak(i, &share)
		}
		err = d.seal(ss, i, memberKeys[i], &share)
		clear(ss)
		share.SetZero()
		if err != nil {
			return nil, fmt.Errorf("dkg: dealing of member %d: sealing the share of member %d: %w", dealer, i, err)
		}
	}
	return d, nil
}

// Dealer returns the index of the member that made the dealing.
func (d *Dealing) Dealer() int { return d.dealer }

// computeDigest hashes everything public in the dealing except the boxes:
// the value the share encryption is bound to.
func (d *Dealing) computeDigest() [32]byte {
	h := sha256.New()
	if d.reshare {
		h.Write([]byte(reshareDigestTag))
	} else {
		h.Write([]byte(dkgDigestTag))
	}
	var u [12]byte
	binary.BigEndian.PutUint32(u[0:], uint32(d.n))
	binary.BigEndian.PutUint32(u[4:], uint32(d.t))
	binary.BigEndian.PutUint32(u[8:], uint32(d.dealer))
	h.Write(u[:])
	a := d.a0.Bytes()
	h.Write(a[:])
	for k := range d.commits {
		c := d.commits[k].Bytes()
		h.Write(c[:])
	}
	h.Write(d.ephemeral[:])
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// shareAEAD derives the AEAD, nonce and associated data protecting the share
// for recipient from the X25519 shared secret ss.
func (d *Dealing) shareAEAD(ss []byte, recipient int, recipientKey []byte) (cipher.AEAD, []byte, []byte, error) {
	var ids [8]byte
	binary.BigEndian.PutUint32(ids[0:], uint32(d.dealer))
	binary.BigEndian.PutUint32(ids[4:], uint32(recipient))
	info := make([]byte, 0, len(dkgKDFTag)+8+2*X25519KeySize+32)
	info = append(info, dkgKDFTag...)
	info = append(info, ids[:]...)
	info = append(info, d.ephemeral[:]...)
	info = append(info, recipientKey...)
	info = append(info, d.digest[:]...)
	okm, err := hkdf.Key(sha256.New, ss, nil, string(info), 32+gcmNonceSize)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("deriving the share key: %w", err)
	}
	defer clear(okm[:32])
	block, err := aes.NewCipher(okm[:32])
	if err != nil {
		return nil, nil, nil, fmt.Errorf("making the share cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("making the share AEAD: %w", err)
	}
	aad := make([]byte, 0, len(dkgAADTag)+8+32)
	aad = append(aad, dkgAADTag...)
	aad = append(aad, ids[:]...)
	aad = append(aad, d.digest[:]...)
	return aead, okm[32:], aad, nil
}

func (d *Dealing) seal(ss []byte, recipient int, recipientKey []byte, share *fr.Element) error {
	aead, nonce, aad, err := d.shareAEAD(ss, recipient, recipientKey)
	if err != nil {
		return err
	}
	pt := share.Bytes()
	aead.Seal(d.boxes[recipient][:0], nonce, pt[:], aad)
	clear(pt[:])
	return nil
}

// openWith decrypts the share for recipient under the shared secret ss and
// checks it against the commitments.
func (d *Dealing) openWith(ss []byte, recipient int, recipientKey []byte) (fr.Element, error) {
	var v fr.Element
	aead, nonce, aad, err := d.shareAEAD(ss, recipient, recipientKey)
	if err != nil {
		return v, err
	}
	pt, err := aead.Open(nil, nonce, d.boxes[recipient][:], aad)
	if err != nil {
		return v, errors.New("encrypted share does not authenticate")
	}
	err = v.SetBytesCanonical(pt)
	clear(pt)
	if err != nil {
		return v, fmt.Errorf("share is not a canonical scalar: %w", err)
	}
	var got bls.G2Affine
	got.ScalarMultiplicationBase(scalarBig(&v))
	want := evalCommitments(d.commits, uint64(recipient)+1)
	if !got.Equal(&want) {
		v.SetZero()
		return v, errors.New("share does not match the commitments")
	}
	return v, nil
}

// evalCommitments returns Σ_k C_k·x^k by Horner's rule; x is small, so each
// step is a short scalar multiplication.
func evalCommitments(cs []bls.G2Affine, x uint64) bls.G2Affine {
	var out bls.G2Affine
	if len(cs) == 0 {
		return out
	}
	var xe fr.Element
	xe.SetUint64(x)
	bx := scalarBig(&xe)
	var acc bls.G2Jac
	acc.FromAffine(&cs[len(cs)-1])
	for k := len(cs) - 2; k >= 0; k-- {
		acc.ScalarMultiplication(&acc, bx)
		acc.AddMixed(&cs[k])
	}
	out.FromJacobian(&acc)
	return out
}

// wellFormed checks the shape of a dealing, so that no method indexes past
// its slices even for a zero or foreign value.
func (d *Dealing) wellFormed() error {
	if d == nil {
		return errors.New("dkg: nil dealing")
	}
	if err := checkDKGParams(d.n, d.t); err != nil {
		return fmt.Errorf("dkg: malformed dealing: %w", err)
	}
	if d.dealer < 0 || d.dealer >= dealerBound(d.n, d.reshare) || len(d.commits) != d.t || len(d.boxes) != d.n {
		return fmt.Errorf("dkg: malformed dealing of member %d", d.dealer)
	}
	return nil
}

// Verify makes the checks anyone can make on a dealing for n members and
// threshold t: the sizes match, A0 and every commitment are non-identity
// points of their groups, A0 and C_0 hold the same secret
// (e(A0, P2) = e(P1, C_0)), and the ephemeral key is a point of the
// prime-order subgroup of Curve25519. It cannot check the encrypted shares;
// each recipient does that with Open. Errors wrap ErrInvalidDealing.
func (d *Dealing) Verify(n, t int) error {
	if err := d.wellFormed(); err != nil {
		return fmt.Errorf("%w: %w", err, ErrInvalidDealing)
	}
	if d.n != n || d.t != t {
		return fmt.Errorf("dkg: dealing of member %d: made for n=%d, t=%d, want n=%d, t=%d: %w", d.dealer, d.n, d.t, n, t, ErrInvalidDealing)
	}
	if d.a0.IsInfinity() || !d.a0.IsInSubGroup() {
		return fmt.Errorf("dkg: dealing of member %d: A0 is not a non-identity G1 point: %w", d.dealer, ErrInvalidDealing)
	}
	for k := range d.commits {
		if d.commits[k].IsInfinity() || !d.commits[k].IsInSubGroup() {
			return fmt.Errorf("dkg: dealing of member %d: commitment %d is not a non-identity G2 point: %w", d.dealer, k, ErrInvalidDealing)
		}
	}
	ok, err := bls.PairingCheck([]bls.G1Affine{d.a0, g1GenNeg}, []bls.G2Affine{g2Gen, d.commits[0]})
	if err != nil {
		return fmt.Errorf("dkg: dealing of member %d: pairing A0 with commitment 0: %v: %w", d.dealer, err, ErrInvalidDealing)
	}
	if !ok {
		return fmt.Errorf("dkg: dealing of member %d: A0 and commitment 0 hold different secrets: %w", d.dealer, ErrInvalidDealing)
	}
	if _, err := liftX25519Subgroup(d.ephemeral[:]); err != nil {
		return fmt.Errorf("dkg: dealing of member %d: ephemeral key: %v: %w", d.dealer, err, ErrInvalidDealing)
	}
	return nil
}

// Open decrypts the share this dealing carries for member me, whose X25519
// private key is priv, and checks it against the commitments:
// g(me+1)·P2 = Σ_k C_k·(me+1)^k. If the share does not decrypt, is not a
// canonical scalar or does not match, the error wraps ErrShareRejected and
// the member should publish d.Complain(me, priv). Call Verify first: Open
// does not repeat its checks.
func (d *Dealing) Open(me int, priv *ecdh.PrivateKey) (DealingShare, error) {
	if err := d.wellFormed(); err != nil {
		return DealingShare{}, err
	}
	if me < 0 || me >= d.n {
		return DealingShare{}, fmt.Errorf("dkg: dealing of member %d: opening for member %d outside [0,%d)", d.dealer, me, d.n)
	}
	if priv == nil || priv.Curve() != ecdh.X25519() {
		return DealingShare{}, fmt.Errorf("dkg: dealing of member %d: opening for member %d: not an X25519 private key", d.dealer, me)
	}
	eph, err := ecdh.X25519().NewPublicKey(d.ephemeral[:])
	if err != nil {
		return DealingShare{}, fmt.Errorf("dkg: dealing of member %d: ephemeral key: %v: %w", d.dealer, err, ErrInvalidDealing)
	}
	ss, err := priv.ECDH(eph)
	if err != nil {
		return DealingShare{}, fmt.Errorf("dkg: dealing of member %d: key agreement: %v: %w", d.dealer, err, ErrInvalidDealing)
	}
	defer clear(ss)
	v, err := d.openWith(ss, me, priv.PublicKey().Bytes())
	if err != nil {
		return DealingShare{}, fmt.Errorf("dkg: dealing of member %d: share of member %d: %v: %w", d.dealer, me, err, ErrShareRejected)
	}
	return DealingShare{dealer: d.dealer, index: me, v: v, ok: true}, nil
}

// Complain makes member me's complaint against this dealing. It refuses
// (with an error) to complain about a share that opens correctly, and about
// a dealing whose ephemeral key is invalid (Verify rejects that one
// publicly, no complaint needed).
func (d *Dealing) Complain(me int, priv *ecdh.PrivateKey) (Complaint, error) {
	_, err := d.Open(me, priv)
	if err == nil {
		return Complaint{}, fmt.Errorf("dkg: dealing of member %d: the share of member %d is valid; no grounds for a complaint", d.dealer, me)
	}
	if !errors.Is(err, ErrShareRejected) {
		return Complaint{}, err
	}
	return d.makeComplaint(me, priv)
}

// makeComplaint builds the complaint without checking that it is justified
// (tests use it to play a lying complainer).
//
// The proof is Chaum–Pedersen over edwards25519: with X = x·B the
// complainer's key and E the ephemeral key (both lifted to the Edwards point
// of even x-coordinate from their Montgomery u), S = x·E; nonce r (derived
// from x and the statement), R1 = r·B, R2 = r·E,
// c = H(statement, S, R1, R2) mod ℓ, z = r + c·x mod ℓ. Every step that
// involves x or r is constant-time.
func (d *Dealing) makeComplaint(me int, priv *ecdh.PrivateKey) (Complaint, error) {
	if err := d.wellFormed(); err != nil {
		return Complaint{}, err
	}
	if me < 0 || me >= d.n {
		return Complaint{}, fmt.Errorf("dkg: complaint against member %d: complainer %d outside [0,%d)", d.dealer, me, d.n)
	}
	if priv == nil || priv.Curve() != ecdh.X25519() {
		return Complaint{}, fmt.Errorf("dkg: complaint against member %d: not an X25519 private key", d.dealer)
	}
	pub := priv.PublicKey().Bytes()
	X, err := liftX25519Subgroup(pub)
	if err != nil {
		return Complaint{}, fmt.Errorf("dkg: complaint against member %d: own key: %w", d.dealer, err)
	}
	E, err := liftX25519Subgroup(d.ephemeral[:])
	if err != nil {
		return Complaint{}, fmt.Errorf("dkg: complaint against member %d: ephemeral key: %v: %w", d.dealer, err, ErrInvalidDealing)
	}
	kb := priv.Bytes()
	x, err := new(edwards25519.Scalar).SetBytesWithClamping(kb)
	clear(kb)
	if err != nil {
		return Complaint{}, fmt.Errorf("dkg: complaint against member %d: private key: %w", d.dealer, err)
	}
	defer func() { *x = edwards25519.Scalar{} }()
	// x·B has u-coordinate pub; the lift X is ±x·B. Use the sign that makes
	// x·B = X exactly: multiply x by 1 - 2·[x·B = -X], without a branch on
	// the sign (which the X25519 public key does not reveal).
	xB := new(edwards25519.Point).ScalarBaseMult(x)
	isX := xB.Equal(X)
	isNegX := xB.Negate(xB).Equal(X)
	if isX|isNegX != 1 {
		return Complaint{}, fmt.Errorf("dkg: complaint against member %d: private key does not match its public key", d.dealer)
	}
	var fb [32]byte
	fb[0] = byte(isNegX)
	flip, err := new(edwards25519.Scalar).SetCanonicalBytes(fb[:])
	if err != nil {
		return Complaint{}, fmt.Errorf("dkg: complaint against member %d: %w", d.dealer, err) // 0 and 1 are canonical
	}
	sign := new(edwards25519.Scalar).Subtract(edScalarOne, flip)
	sign.Subtract(sign, flip)
	x.Multiply(x, sign)
	S := new(edwards25519.Point).ScalarMult(x, E)
	c := Complaint{Dealer: d.dealer, Complainer: me}
	copy(c.shared[:], S.Bytes())
	stmt := d.dleqStatement(me, X, E, c.shared)
	nh := sha512.New()
	nh.Write([]byte(dkgNonceTag))
	xl := x.Bytes()
	nh.Write(xl)
	clear(xl)
	nh.Write(stmt)
	var nd [sha512.Size]byte
	nh.Sum(nd[:0])
	r := edScalarFromDigest(&nd)
	clear(nd[:])
	defer func() { *r = edwards25519.Scalar{} }()
	if r.Equal(edwards25519.NewScalar()) == 1 {
		return Complaint{}, fmt.Errorf("dkg: complaint against member %d: proof nonce is zero", d.dealer)
	}
	ch := dleqChallenge(stmt,
		new(edwards25519.Point).ScalarBaseMult(r),
		new(edwards25519.Point).ScalarMult(r, E))
	z := new(edwards25519.Scalar).Multiply(ch, x)
	z.Add(z, r)
	copy(c.c[:], ch.Bytes())
	copy(c.z[:], z.Bytes())
	return c, nil
}

// dleqStatement is what the complaint proof is about: the dealing (its
// digest and dealer), the complainer, X, E and S.
func (d *Dealing) dleqStatement(complainer int, X, E *edwards25519.Point, shared [32]byte) []byte {
	st := make([]byte, 0, len(dkgDLEQTag)+8+32+3*32)
	st = append(st, dkgDLEQTag...)
	st = binary.BigEndian.AppendUint32(st, uint32(d.dealer))
	st = binary.BigEndian.AppendUint32(st, uint32(complainer))
	st = append(st, d.digest[:]...)
	st = append(st, X.Bytes()...)
	st = append(st, E.Bytes()...)
	st = append(st, shared[:]...)
	return st
}

// dleqChallenge is c = SHA-512(stmt, R1, R2) mod ℓ, the digest read as a
// big-endian integer.
func dleqChallenge(stmt []byte, r1, r2 *edwards25519.Point) *edwards25519.Scalar {
	h := sha512.New()
	h.Write(stmt)
	h.Write(r1.Bytes())
	h.Write(r2.Bytes())
	var dg [sha512.Size]byte
	h.Sum(dg[:0])
	return edScalarFromDigest(&dg)
}

// dleqCommitments recomputes the proof's commitments from the public values
// as the verifier does: R1 = z·B - c·X and R2 = z·E - c·S (variable time).
func dleqCommitments(ch, z *edwards25519.Scalar, X, E, S *edwards25519.Point) (r1, r2 *edwards25519.Point) {
	negC := new(edwards25519.Scalar).Negate(ch)
	r1 = new(edwards25519.Point).VarTimeDoubleScalarBaseMult(negC, X, z)
	r2 = new(edwards25519.Point).VarTimeMultiScalarMult([]*edwards25519.Scalar{z, negC}, []*edwards25519.Point{E, S})
	return r1, r2
}

// VerifyComplaint checks complaint c against dealing d, with
// complainerPublic the complainer's registered X25519 public key. It
// returns (true, nil) if the complaint is justified: the proof shows the
// revealed secret is the right one and under it the share does not decrypt,
// is not canonical or does not match the commitments, so the dealer is
// disqualified. It returns (false, nil) if the proof holds but the share is
// good: the complaint is unjustified and the complainer is provably at
// fault. Any error means the complaint itself is malformed or its proof
// fails, or (wrapping ErrInvalidDealing) that d fails Verify and is
// disqualified anyway; such a complaint is rejected.
func VerifyComplaint(d *Dealing, c Complaint, complainerPublic []byte) (justified bool, err error) {
	if err := d.wellFormed(); err != nil {
		return false, err
	}
	if err := d.Verify(d.n, d.t); err != nil {
		return false, err
	}
	if c.Dealer != d.dealer {
		return false, fmt.Errorf("dkg: complaint against member %d checked against the dealing of member %d", c.Dealer, d.dealer)
	}
	if c.Complainer < 0 || c.Complainer >= d.n {
		return false, fmt.Errorf("dkg: complaint against member %d: complainer %d outside [0,%d)", d.dealer, c.Complainer, d.n)
	}
	X, err := liftX25519Subgroup(complainerPublic)
	if err != nil {
		return false, fmt.Errorf("dkg: complaint of member %d against member %d: complainer key: %w", c.Complainer, d.dealer, err)
	}
	E, err := liftX25519Subgroup(d.ephemeral[:])
	if err != nil {
		return false, fmt.Errorf("dkg: complaint of member %d against member %d: ephemeral key: %v: %w", c.Complainer, d.dealer, err, ErrInvalidDealing)
	}
	S, err := edDecode(c.shared[:])
	if err != nil {
		return false, fmt.Errorf("dkg: complaint of member %d against member %d: shared point: %w", c.Complainer, d.dealer, err)
	}
	if edIsIdentity(S) || !edInPrimeSubgroup(S) {
		return false, fmt.Errorf("dkg: complaint of member %d against member %d: shared point is not in the prime-order subgroup", c.Complainer, d.dealer)
	}
	ch, errC := new(edwards25519.Scalar).SetCanonicalBytes(c.c[:])
	z, errZ := new(edwards25519.Scalar).SetCanonicalBytes(c.z[:])
	if errC != nil || errZ != nil {
		return false, fmt.Errorf("dkg: complaint of member %d against member %d: proof scalar not below the group order", c.Complainer, d.dealer)
	}
	r1, r2 := dleqCommitments(ch, z, X, E, S)
	stmt := d.dleqStatement(c.Complainer, X, E, c.shared)
	want := dleqChallenge(stmt, r1, r2).Bytes()
	if subtle.ConstantTimeCompare(want, c.c[:]) != 1 {
		return false, fmt.Errorf("dkg: complaint of member %d against member %d: proof of the shared secret does not verify", c.Complainer, d.dealer)
	}
	ss, err := edMontgomeryU(S)
	if err != nil {
		return false, fmt.Errorf("dkg: complaint of member %d against member %d: %w", c.Complainer, d.dealer, err)
	}
	_, openErr := d.openWith(ss[:], c.Complainer, complainerPublic)
	return openErr != nil, nil
}

// Encode returns the complaint's canonical encoding (ComplaintSize bytes):
// version, tag, dealer (u32), complainer (u32), the shared point S
// (compressed edwards25519, 32), then the proof scalars c and z (32 each,
// little-endian, below ℓ).
func (c Complaint) Encode() []byte {
	e := interfaces.NewEncoder(ComplaintSize)
	header(e, tagComplaint)
	e.U32(uint32(c.Dealer))
	e.U32(uint32(c.Complainer))
	e.Fixed(c.shared[:])
	e.Fixed(c.c[:])
	e.Fixed(c.z[:])
	return e.Bytes()
}

// DecodeComplaint decodes a complaint for a key generation of n members
// strictly: exact size, indices below n, S a canonical edwards25519
// encoding of a curve point, c and z below ℓ. It does not verify it
// (VerifyComplaint does).
func DecodeComplaint(b []byte, n int) (Complaint, error) {
	return DecodeComplaintOf(b, n, n)
}

// DecodeComplaintOf is DecodeComplaint for a key generation of n members
// whose dealers are dealers many (the old members, for a reshare).
func DecodeComplaintOf(b []byte, n, dealers int) (Complaint, error) {
	if dealers < 1 || dealers > MaxMembers {
		return Complaint{}, fmt.Errorf("dkg: decoding complaint: %w: dealer count %d outside [1,%d]", ErrEncoding, dealers, MaxMembers)
	}
	if n < 1 || n > MaxMembers {
		return Complaint{}, fmt.Errorf("dkg: decoding complaint: %w: member count %d outside [1,%d]", ErrEncoding, n, MaxMembers)
	}
	d := interfaces.NewDecoder(b)
	if len(b) != ComplaintSize {
		d.Fail(fmt.Errorf("%d bytes, want %d", len(b), ComplaintSize))
	}
	readHeader(d, tagComplaint)
	dealer := d.U32()
	complainer := d.U32()
	if d.Err() == nil {
		if dealer >= uint32(dealers) {
			d.Fail(fmt.Errorf("dealer %d outside [0,%d)", dealer, dealers))
		} else if complainer >= uint32(n) {
			d.Fail(fmt.Errorf("complainer %d outside [0,%d)", complainer, n))
		}
	}
	var c Complaint
	d.Fixed(c.shared[:])
	d.Fixed(c.c[:])
	d.Fixed(c.z[:])
	if d.Err() == nil {
		if _, err := edDecode(c.shared[:]); err != nil {
			d.Fail(fmt.Errorf("shared point: %w", err))
		} else if !edScalarCanonical(c.c[:]) {
			d.Fail(errors.New("proof challenge not below the group order"))
		} else if !edScalarCanonical(c.z[:]) {
			d.Fail(errors.New("proof response not below the group order"))
		}
	}
	if err := d.Finish(); err != nil {
		return Complaint{}, fmt.Errorf("dkg: decoding complaint: %w: %w", ErrEncoding, err)
	}
	c.Dealer, c.Complainer = int(dealer), int(complainer)
	return c, nil
}

// Encode returns the dealing's canonical encoding (DealingSize(n, t)
// bytes): version, tag, n, t, dealer (u32 each), A0 (compressed G1, 48),
// C_0 … C_{t-1} (compressed G2, 96 each), the ephemeral X25519 key (32),
// then the n encrypted shares (48 each: 32 bytes of AES-256-GCM ciphertext
// and its 16-byte tag), in member order.
func (d *Dealing) Encode() []byte {
	if d.wellFormed() != nil {
		return nil
	}
	e := interfaces.NewEncoder(DealingSize(d.n, d.t))
	if d.reshare {
		header(e, tagReshare)
	} else {
		header(e, tagDealing)
	}
	e.U32(uint32(d.n))
	e.U32(uint32(d.t))
	e.U32(uint32(d.dealer))
	a := d.a0.Bytes()
	e.Fixed(a[:])
	for k := range d.commits {
		c := d.commits[k].Bytes()
		e.Fixed(c[:])
	}
	e.Fixed(d.ephemeral[:])
	for i := range d.boxes {
		e.Fixed(d.boxes[i][:])
	}
	return e.Bytes()
}

// DecodeDealing decodes a dealing for n members and threshold t strictly:
// exact size, header n and t equal to the arguments, dealer below n, A0 and
// every commitment compressed, canonical, on the curve, in the prime-order
// subgroup and not the identity, the ephemeral key a canonical u-coordinate
// (below 2^255-19). Errors wrap ErrEncoding. The curve and subgroup checks
// on the ephemeral key and the pairing check are left to Verify.
func DecodeDealing(b []byte, n, t int) (*Dealing, error) {
	return decodeDealing(b, n, t, false)
}

// dealerBound is how many dealers a dealing for n recipients may name:
// the recipients themselves, or for a reshare dealing any old member.
func dealerBound(n int, reshare bool) int {
	if reshare {
		return MaxMembers
	}
	return n
}

func decodeDealing(b []byte, n, t int, reshare bool) (*Dealing, error) {
	if err := checkDKGParams(n, t); err != nil {
		return nil, fmt.Errorf("dkg: decoding dealing: %w: %w", ErrEncoding, err)
	}
	d := interfaces.NewDecoder(b)
	if want := DealingSize(n, t); len(b) != want {
		d.Fail(fmt.Errorf("%d bytes, want %d for n=%d, t=%d", len(b), want, n, t))
	}
	tag := uint8(tagDealing)
	if reshare {
		tag = tagReshare
	}
	readHeader(d, tag)
	gotN, gotT, dealer := d.U32(), d.U32(), d.U32()
	if d.Err() == nil {
		if gotN != uint32(n) || gotT != uint32(t) {
			d.Fail(fmt.Errorf("made for n=%d, t=%d, want n=%d, t=%d", gotN, gotT, n, t))
		} else if bound := dealerBound(n, reshare); dealer >= uint32(bound) {
			d.Fail(fmt.Errorf("dealer %d outside [0,%d)", dealer, bound))
		}
	}
	if d.Err() != nil {
		return nil, fmt.Errorf("dkg: decoding dealing: %w: %w", ErrEncoding, d.Err())
	}
	x := &Dealing{n: n, t: t, dealer: int(dealer), reshare: reshare, commits: make([]bls.G2Affine, t), boxes: make([][shareBoxSize]byte, n)}
	x.a0 = readG1(d, "A0")
	for k := range x.commits {
		x.commits[k] = readG2(d, fmt.Sprintf("commitment %d", k))
	}
	d.Fixed(x.ephemeral[:])
	if d.Err() == nil {
		if !feCanonical(x.ephemeral[:]) {
			d.Fail(errors.New("ephemeral key is not a canonical X25519 u-coordinate"))
		}
	}
	for i := range x.boxes {
		d.Fixed(x.boxes[i][:])
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("dkg: decoding dealing of member %d: %w: %w", dealer, ErrEncoding, err)
	}
	x.digest = x.computeDigest()
	return x, nil
}

// AssemblePublic combines the dealings of the qualified dealers into the
// public key set, as an observer (or any member) sees it: MasterG1 = Σ A0_j,
// MasterG2 = Σ C_j0 and VK_i = Σ_j Σ_k C_jk·(i+1)^k over the qualified
// dealers j. qualified must be strictly increasing indices in [0,n), at
// least t of them, each with exactly one dealing in dealings (which may hold
// other dealings too, in any order; nil entries are skipped). Every
// qualified dealing must have passed Verify; Assemble checks only that the
// combined master keys agree. The result is of the same kind as Deal's and
// encodes the same way.
func AssemblePublic(n, t int, dealings []*Dealing, qualified []int) (*PublicKeySet, error) {
	pk, _, err := assemblePublic(n, t, dealings, qualified)
	return pk, err
}

func assemblePublic(n, t int, dealings []*Dealing, qualified []int) (*PublicKeySet, []*Dealing, error) {
	if err := checkDKGParams(n, t); err != nil {
		return nil, nil, fmt.Errorf("dkg: assembling keys: %w", err)
	}
	if len(qualified) < t {
		return nil, nil, fmt.Errorf("dkg: assembling keys: %d qualified dealers, need at least %d", len(qualified), t)
	}
	if len(qualified) > n {
		return nil, nil, fmt.Errorf("dkg: assembling keys: %d qualified dealers for %d members", len(qualified), n)
	}
	for k, j := range qualified {
		if j < 0 || j >= n {
			return nil, nil, fmt.Errorf("dkg: assembling keys: qualified dealer %d outside [0,%d)", j, n)
		}
		if k > 0 && j <= qualified[k-1] {
			return nil, nil, fmt.Errorf("dkg: assembling keys: qualified dealers not strictly increasing at %d", j)
		}
	}
	byDealer := make([]*Dealing, n)
	for _, d := range dealings {
		if d == nil {
			continue
		}
		if err := d.wellFormed(); err != nil {
			return nil, nil, fmt.Errorf("dkg: assembling keys: %w", err)
		}
		if d.reshare {
			return nil, nil, fmt.Errorf("dkg: assembling keys: dealing of member %d reshares an old key (AssembleReshare combines those)", d.dealer)
		}
		if d.n != n || d.t != t {
			return nil, nil, fmt.Errorf("dkg: assembling keys: dealing of member %d made for n=%d, t=%d, want n=%d, t=%d", d.dealer, d.n, d.t, n, t)
		}
		if byDealer[d.dealer] != nil {
			return nil, nil, fmt.Errorf("dkg: assembling keys: two dealings of member %d", d.dealer)
		}
		byDealer[d.dealer] = d
	}
	use := make([]*Dealing, len(qualified))
	for k, j := range qualified {
		if byDealer[j] == nil {
			return nil, nil, fmt.Errorf("dkg: assembling keys: no dealing of qualified member %d", j)
		}
		use[k] = byDealer[j]
	}
	var a0 bls.G1Jac
	cs := make([]bls.G2Jac, t)
	for _, d := range use {
		a0.AddMixed(&d.a0)
		for k := range cs {
			cs[k].AddMixed(&d.commits[k])
		}
	}
	sum := make([]bls.G2Affine, t)
	for k := range cs {
		sum[k].FromJacobian(&cs[k])
	}
	pk := &PublicKeySet{n: n, threshold: t, vks: make([]bls.G2Affine, n)}
	pk.masterG1.FromJacobian(&a0)
	pk.masterG2 = sum[0]
	if pk.masterG1.IsInfinity() || pk.masterG2.IsInfinity() {
		return nil, nil, errors.New("dkg: assembling keys: master key is the identity")
	}
	ok, err := bls.PairingCheck([]bls.G1Affine{pk.masterG1, g1GenNeg}, []bls.G2Affine{g2Gen, pk.masterG2})
	if err != nil {
		return nil, nil, fmt.Errorf("dkg: assembling keys: pairing the master keys: %w", err)
	}
	if !ok {
		return nil, nil, fmt.Errorf("dkg: assembling keys: master keys in G1 and G2 differ; a qualified dealing was not verified: %w", ErrInvalidDealing)
	}
	for i := range pk.vks {
		pk.vks[i] = evalCommitments(sum, uint64(i)+1)
		if pk.vks[i].IsInfinity() {
			return nil, nil, fmt.Errorf("dkg: assembling keys: verification key %d is the identity", i)
		}
	}
	pk.precompute()
	return pk, use, nil
}

// Assemble is AssemblePublic for member me, which also sums its shares
// myShares[j] = dealings of j opened by me (from Open; shares of dealers
// that are not qualified are ignored) into its secret share
// s_me = Σ_j g_j(me+1), and checks it against VK_me.
func Assemble(n, t int, dealings []*Dealing, qualified []int, me int, myShares map[int]DealingShare) (*PublicKeySet, *SecretShare, error) {
	if me < 0 || me >= n {
		return nil, nil, fmt.Errorf("dkg: assembling keys: member %d outside [0,%d)", me, n)
	}
	pk, _, err := assemblePublic(n, t, dealings, qualified)
	if err != nil {
		return nil, nil, err
	}
	var s fr.Element
	for _, j := range qualified {
		sh, ok := myShares[j]
		if !ok || !sh.ok {
			return nil, nil, fmt.Errorf("dkg: assembling keys of member %d: no opened share from qualified dealer %d", me, j)
		}
		if sh.dealer != j || sh.index != me {
			return nil, nil, fmt.Errorf("dkg: assembling keys of member %d: share under dealer %d is dealer %d's share for member %d", me, j, sh.dealer, sh.index)
		}
		s.Add(&s, &sh.v)
	}
	sk := &SecretShare{Index: me, s: s}
	if err := pk.CheckSecretShare(sk); err != nil {
		s.SetZero()
		return nil, nil, fmt.Errorf("dkg: assembling keys of member %d: %w", me, err)
	}
	if s.IsZero() {
		return nil, nil, fmt.Errorf("dkg: assembling keys of member %d: secret share is zero", me)
	}
	return pk, sk, nil
}

// X25519FromEd25519Private returns the X25519 private key that belongs to
// an Ed25519 key: the first 32 bytes of SHA-512 of the seed, clamped (RFC
// 8032 §5.1.5, RFC 7748 §5), i.e. the same scalar that Ed25519 signs with.
// Its public key equals X25519FromEd25519Public of the Ed25519 public key.
// Using one key for signing and for key agreement is the usual practice
// (libsodium, age) but does couple the two uses; the hashes here are
// domain-separated from Ed25519's.
func X25519FromEd25519Private(priv ed25519.PrivateKey) (*ecdh.PrivateKey, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("dkg: converting Ed25519 private key: %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	seed := priv.Seed()
	if pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey); subtle.ConstantTimeCompare(pub, priv[32:]) != 1 {
		return nil, errors.New("dkg: converting Ed25519 private key: public half does not match the seed")
	}
	h := sha512.Sum512(seed)
	defer clear(h[:])
	clampScalar(h[:32])
	k, err := ecdh.X25519().NewPrivateKey(h[:32])
	if err != nil {
		return nil, fmt.Errorf("dkg: converting Ed25519 private key: %w", err)
	}
	return k, nil
}

// X25519FromEd25519Public maps an Ed25519 public key (an edwards25519 point
// (x, y)) to the X25519 public key of the same scalar, the Montgomery
// u = (1+y)/(1-y) mod 2^255-19, 32 bytes little-endian. It refuses
// encodings that are not canonical, not on the curve, or not points of the
// prime-order subgroup (which also excludes the identity and every
// small-order point).
func X25519FromEd25519Public(pub ed25519.PublicKey) ([]byte, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("dkg: converting Ed25519 public key: %d bytes, want %d", len(pub), ed25519.PublicKeySize)
	}
	p, err := edDecode(pub)
	if err != nil {
		return nil, fmt.Errorf("dkg: converting Ed25519 public key: %w", err)
	}
	if edIsIdentity(p) || !edInPrimeSubgroup(p) {
		return nil, errors.New("dkg: converting Ed25519 public key: not a point of the prime-order subgroup")
	}
	u, err := edMontgomeryU(p)
	if err != nil {
		return nil, fmt.Errorf("dkg: converting Ed25519 public key: %w", err)
	}
	return u[:], nil
}

// clampScalar clamps an X25519 scalar in place (RFC 7748 §5).
func clampScalar(k []byte) {
	k[0] &= 248
	k[31] &= 127
	k[31] |= 64
}

// edwards25519 helpers on top of filippo.io/edwards25519. The library's
// point decoding follows the lax rules common in the ecosystem (it accepts
// y ≥ 2^255-19 and x = 0 with the sign bit set), so edDecode adds the
// RFC 8032 canonicality checks on top; the library has no check for the
// prime-order subgroup, so edInPrimeSubgroup provides one.

var (
	errEdNotOnC = errors.New("not a point of edwards25519")
	edIdentity  = edwards25519.NewIdentityPoint()
	edScalarOne = edSmallScalar(1)
	// edLMinusOne is ℓ-1 = -1 mod ℓ, the largest canonical scalar.
	edLMinusOne = new(edwards25519.Scalar).Negate(edScalarOne)
)

// edSmallScalar returns the scalar v (v < 256, so always canonical).
func edSmallScalar(v byte) *edwards25519.Scalar {
	var b [32]byte
	b[0] = v
	s, err := new(edwards25519.Scalar).SetCanonicalBytes(b[:])
	if err != nil {
		panic("tcrypto: edwards25519 scalar " + err.Error()) // constant input
	}
	return s
}

// edScalarFromDigest reduces a SHA-512 digest, read as a big-endian
// integer, mod ℓ (SetUniformBytes reads little-endian, hence the reversal).
// It is constant-time, for it also derives the secret proof nonce.
func edScalarFromDigest(h *[sha512.Size]byte) *edwards25519.Scalar {
	var le [sha512.Size]byte
	for i := range le {
		le[i] = h[len(h)-1-i]
	}
	s, err := new(edwards25519.Scalar).SetUniformBytes(le[:])
	clear(le[:])
	if err != nil {
		panic("tcrypto: edwards25519 wide scalar: " + err.Error()) // always 64 bytes
	}
	return s
}

// edScalarCanonical reports whether b is a 32-byte little-endian scalar
// below ℓ.
func edScalarCanonical(b []byte) bool {
	_, err := new(edwards25519.Scalar).SetCanonicalBytes(b)
	return err == nil
}

// feCanonical reports whether b is the 32-byte little-endian encoding of a
// field element below 2^255-19 (top bit clear).
func feCanonical(b []byte) bool {
	fe, err := new(field.Element).SetBytes(b)
	return err == nil && bytes.Equal(fe.Bytes(), b)
}

func edIsIdentity(p *edwards25519.Point) bool { return p.Equal(edIdentity) == 1 }

// edInPrimeSubgroup reports whether ℓ·p is the identity. ℓ is not a
// canonical scalar, so it computes (ℓ-1)·p + p. ScalarMult multiplies by
// the integer ℓ-1 with complete formulas, so a torsion component T of p
// survives as ℓ·T = 5·T (ℓ ≡ 5 mod 8), which is not the identity.
func edInPrimeSubgroup(p *edwards25519.Point) bool {
	q := new(edwards25519.Point).ScalarMult(edLMinusOne, p)
	return edIsIdentity(q.Add(q, p))
}

// edDecode decodes an RFC 8032 point encoding, refusing y ≥ p, points off
// the curve and the encoding of x = 0 with the sign bit set.
func edDecode(b []byte) (*edwards25519.Point, error) {
	if len(b) != 32 {
		return nil, fmt.Errorf("point encoding of %d bytes, want 32", len(b))
	}
	var yb [32]byte
	copy(yb[:], b)
	yb[31] &= 0x7f
	if !feCanonical(yb[:]) {
		return nil, errors.New("point encoding not canonical (y ≥ 2^255-19)")
	}
	p, err := new(edwards25519.Point).SetBytes(b)
	if err != nil {
		return nil, errEdNotOnC
	}
	// With y canonical, the encoding round-trips unless x = 0 and the sign
	// bit is set.
	if !bytes.Equal(p.Bytes(), b) {
		return nil, errors.New("point encoding not canonical (x = 0 with the sign bit set)")
	}
	return p, nil
}

// edMontgomeryU returns the X25519 u-coordinate (1+y)/(1-y) of p,
// little-endian.
func edMontgomeryU(p *edwards25519.Point) ([32]byte, error) {
	var u [32]byte
	if edIsIdentity(p) {
		return u, errors.New("the identity has no u-coordinate")
	}
	copy(u[:], p.BytesMontgomery())
	return u, nil
}

// liftX25519Subgroup maps an X25519 public key u to the edwards25519 point
// with y = (u-1)/(u+1) and even x, and requires it to be a non-identity
// point of the prime-order subgroup. Keys made by X25519 from a clamped
// scalar and the base point (every honest key, including those converted
// from Ed25519) pass; points on the twist, of small order or with a torsion
// component do not.
func liftX25519Subgroup(u []byte) (*edwards25519.Point, error) {
	if len(u) != X25519KeySize {
		return nil, fmt.Errorf("X25519 key of %d bytes, want %d", len(u), X25519KeySize)
	}
	uf, err := new(field.Element).SetBytes(u)
	if err != nil || !bytes.Equal(uf.Bytes(), u) {
		return nil, errors.New("X25519 key is not a canonical u-coordinate")
	}
	one := new(field.Element).One()
	up1 := new(field.Element).Add(uf, one)
	if up1.Equal(new(field.Element).Zero()) == 1 {
		return nil, errors.New("X25519 key u = -1 has no Edwards point")
	}
	y := new(field.Element).Subtract(uf, one)
	y.Multiply(y, new(field.Element).Invert(up1))
	// y.Bytes() is canonical with the sign bit clear, so SetBytes solves the
	// curve equation for the even (non-negative) x.
	p, err := new(edwards25519.Point).SetBytes(y.Bytes())
	if err != nil {
		return nil, errors.New("X25519 key is not on Curve25519 (it is on the twist)")
	}
	if edIsIdentity(p) || !edInPrimeSubgroup(p) {
		return nil, errors.New("X25519 key is not in the prime-order subgroup")
	}
	return p, nil
}
