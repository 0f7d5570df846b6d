package tcrypto

import (
	"errors"
	"fmt"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/constellation-chain/constellation/interfaces"
	"golang.org/x/crypto/chacha20poly1305"
)

// encodingVersion is the first byte of every encoding in this package.
const encodingVersion = 1

// Type tags, the second byte of every encoding, so that bytes of one type
// never decode as another.
const (
	tagPublicKeySet = 1 + iota
	tagSecretShare
	tagSigShare
	tagSignature
	tagCiphertext
	tagDecShare
)

const (
	g1Len = bls.SizeOfG1AffineCompressed
	g2Len = bls.SizeOfG2AffineCompressed
)

// Encoded sizes of the fixed-size types.
const (
	SigShareSize    = 2 + g1Len
	SignatureSize   = 2 + g1Len
	DecShareSize    = 2 + g1Len
	SecretShareSize = 2 + 4 + fr.Bytes
)

func header(e *interfaces.Encoder, tag uint8) {
	e.U8(encodingVersion)
	e.U8(tag)
}

func readHeader(d *interfaces.Decoder, tag uint8) {
	if v := d.U8(); d.Err() == nil && v != encodingVersion {
		d.Fail(fmt.Errorf("version %d, want %d", v, encodingVersion))
	}
	if t := d.U8(); d.Err() == nil && t != tag {
		d.Fail(fmt.Errorf("type tag %d, want %d", t, tag))
	}
}

// readG1 reads a compressed G1 point, refusing the uncompressed form, points
// off the curve or outside the subgroup, and the identity.
func readG1(d *interfaces.Decoder, what string) bls.G1Affine {
	var buf [g1Len]byte
	var p bls.G1Affine
	d.Fixed(buf[:])
	if d.Err() != nil {
		return p
	}
	if buf[0]&0x80 == 0 {
		d.Fail(fmt.Errorf("%s: point not in compressed form", what))
		return p
	}
	if _, err := p.SetBytes(buf[:]); err != nil {
		d.Fail(fmt.Errorf("%s: %w", what, err))
		return p
	}
	if p.IsInfinity() {
		d.Fail(fmt.Errorf("%s: point at infinity", what))
	}
	return p
}

// readG2 is readG1 for G2.
func readG2(d *interfaces.Decoder, what string) bls.G2Affine {
	var buf [g2Len]byte
	var p bls.G2Affine
	d.Fixed(buf[:])
	if d.Err() != nil {
		return p
	}
	if buf[0]&0x80 == 0 {
		d.Fail(fmt.Errorf("%s: point not in compressed form", what))
		return p
	}
	if _, err := p.SetBytes(buf[:]); err != nil {
		d.Fail(fmt.Errorf("%s: %w", what, err))
		return p
	}
	if p.IsInfinity() {
		d.Fail(fmt.Errorf("%s: point at infinity", what))
	}
	return p
}

func finish(d *interfaces.Decoder, what string) error {
	if err := d.Finish(); err != nil {
		return fmt.Errorf("decoding %s: %w: %w", what, ErrEncoding, err)
	}
	return nil
}

// MarshalBinary encodes the key set: version, tag, N (u32), threshold (u32),
// MasterG1, MasterG2, then VK_0 … VK_{N-1}, all compressed.
func (x *PublicKeySet) MarshalBinary() ([]byte, error) {
	if x.n == 0 {
		return nil, errors.New("encoding public key set: empty key set")
	}
	e := interfaces.NewEncoder(2 + 8 + g1Len + g2Len*(1+x.n))
	header(e, tagPublicKeySet)
	e.U32(uint32(x.n))
	e.U32(uint32(x.threshold))
	b1 := x.masterG1.Bytes()
	e.Fixed(b1[:])
	b2 := x.masterG2.Bytes()
	e.Fixed(b2[:])
	for i := range x.vks {
		b := x.vks[i].Bytes()
		e.Fixed(b[:])
	}
	return e.Bytes(), nil
}

// UnmarshalBinary decodes a key set strictly and checks its consistency
// (master keys agree, verification keys lie on one polynomial of degree
// below the threshold). It costs a few milliseconds for small N: decode key
// sets once, at load time. On error x is left unchanged.
func (x *PublicKeySet) UnmarshalBinary(b []byte) error {
	d := interfaces.NewDecoder(b)
	readHeader(d, tagPublicKeySet)
	n := d.U32()
	t := d.U32()
	if d.Err() == nil {
		if n < 1 || n > MaxMembers {
			d.Fail(fmt.Errorf("member count %d outside [1,%d]", n, MaxMembers))
		} else if t < 1 || t > n {
			d.Fail(fmt.Errorf("threshold %d outside [1,%d]", t, n))
		} else if d.Remaining() != g1Len+g2Len*(1+int(n)) {
			d.Fail(fmt.Errorf("%d bytes of keys, want %d", d.Remaining(), g1Len+g2Len*(1+int(n))))
		}
	}
	if d.Err() != nil {
		return finish(d, "public key set")
	}
	pk := &PublicKeySet{n: int(n), threshold: int(t), vks: make([]bls.G2Affine, n)}
	pk.masterG1 = readG1(d, "master key in G1")
	pk.masterG2 = readG2(d, "master key in G2")
	for i := range pk.vks {
		pk.vks[i] = readG2(d, fmt.Sprintf("verification key %d", i))
	}
	if err := finish(d, "public key set"); err != nil {
		return err
	}
	if err := pk.validate(b); err != nil {
		return fmt.Errorf("decoding public key set: %w: %w", ErrEncoding, err)
	}
	pk.precompute()
	*x = *pk
	return nil
}

// MarshalBinary encodes the share: version, tag, index (u32), scalar (32
// bytes big-endian).
func (x *SecretShare) MarshalBinary() ([]byte, error) {
	e := interfaces.NewEncoder(SecretShareSize)
	header(e, tagSecretShare)
	if x.Index < 0 || x.Index >= MaxMembers {
		return nil, fmt.Errorf("encoding secret share: index %d outside [0,%d)", x.Index, MaxMembers)
	}
	e.U32(uint32(x.Index))
	b := x.s.Bytes()
	e.Fixed(b[:])
	return e.Bytes(), nil
}

// UnmarshalBinary decodes a share strictly (canonical non-zero scalar). It
// cannot know the key set: call PublicKeySet.CheckSecretShare afterwards.
func (x *SecretShare) UnmarshalBinary(b []byte) error {
	d := interfaces.NewDecoder(b)
	readHeader(d, tagSecretShare)
	idx := d.U32()
	if d.Err() == nil && idx >= MaxMembers {
		d.Fail(fmt.Errorf("index %d outside [0,%d)", idx, MaxMembers))
	}
	var buf [fr.Bytes]byte
	d.Fixed(buf[:])
	var s fr.Element
	if d.Err() == nil {
		if err := s.SetBytesCanonical(buf[:]); err != nil {
			d.Fail(fmt.Errorf("scalar: %w", err))
		} else if s.IsZero() {
			d.Fail(errors.New("scalar is zero"))
		}
	}
	if err := finish(d, "secret share"); err != nil {
		return err
	}
	x.Index, x.s = int(idx), s
	return nil
}

func marshalG1(tag uint8, p *bls.G1Affine) []byte {
	e := interfaces.NewEncoder(2 + g1Len)
	header(e, tag)
	b := p.Bytes()
	e.Fixed(b[:])
	return e.Bytes()
}

func unmarshalG1(b []byte, tag uint8, what string) (bls.G1Affine, error) {
	d := interfaces.NewDecoder(b)
	readHeader(d, tag)
	p := readG1(d, what)
	if err := finish(d, what); err != nil {
		return bls.G1Affine{}, err
	}
	return p, nil
}

// MarshalBinary encodes the share: version, tag, compressed G1 point.
func (x *SigShare) MarshalBinary() ([]byte, error) { return marshalG1(tagSigShare, &x.p), nil }

// UnmarshalBinary decodes a signature share strictly. It does not verify the
// share (VerifySigShare or CombineSigShares does).
func (x *SigShare) UnmarshalBinary(b []byte) error {
	p, err := unmarshalG1(b, tagSigShare, "signature share")
	if err != nil {
		return err
	}
	x.p = p
	return nil
}

// MarshalBinary encodes the signature: version, tag, compressed G1 point.
func (x *Signature) MarshalBinary() ([]byte, error) { return marshalG1(tagSignature, &x.p), nil }

// UnmarshalBinary decodes a signature strictly. It does not verify it.
func (x *Signature) UnmarshalBinary(b []byte) error {
	p, err := unmarshalG1(b, tagSignature, "signature")
	if err != nil {
		return err
	}
	x.p = p
	return nil
}

// MarshalBinary encodes the share: version, tag, compressed G1 point.
func (x *DecShare) MarshalBinary() ([]byte, error) { return marshalG1(tagDecShare, &x.p), nil }

// UnmarshalBinary decodes a decryption share strictly. It does not verify
// the share (VerifyDecShare or Decrypt does).
func (x *DecShare) UnmarshalBinary(b []byte) error {
	p, err := unmarshalG1(b, tagDecShare, "decryption share")
	if err != nil {
		return err
	}
	x.p = p
	return nil
}

// MarshalBinary encodes the ciphertext: version, tag, U (G1), V (32), W (G2),
// key commitment (32), nonce (12), then the AEAD box with a uvarint length.
func (x *Ciphertext) MarshalBinary() ([]byte, error) {
	e := interfaces.NewEncoder(2 + g1Len + 32 + g2Len + 32 + len(x.nonce) + 4 + len(x.box))
	header(e, tagCiphertext)
	u := x.u.Bytes()
	e.Fixed(u[:])
	e.Fixed(x.v[:])
	w := x.w.Bytes()
	e.Fixed(w[:])
	e.Fixed(x.commit[:])
	e.Fixed(x.nonce[:])
	e.VarBytes(x.box)
	return e.Bytes(), nil
}

// UnmarshalBinary decodes a ciphertext strictly (points valid, box at least
// one AEAD tag long and at most interfaces.MaxFieldLen). It does not check
// the validity proof; VerifyCiphertext does, and caches the verdict. x must
// not be in use by other goroutines while it is being decoded into.
func (x *Ciphertext) UnmarshalBinary(b []byte) error {
	d := interfaces.NewDecoder(b)
	readHeader(d, tagCiphertext)
	u := readG1(d, "U")
	var v, commit [32]byte
	var nonce [chacha20poly1305.NonceSize]byte
	d.Fixed(v[:])
	w := readG2(d, "W")
	d.Fixed(commit[:])
	d.Fixed(nonce[:])
	box := d.VarBytes(interfaces.MaxFieldLen)
	if d.Err() == nil && len(box) < chacha20poly1305.Overhead {
		d.Fail(fmt.Errorf("payload box of %d bytes is shorter than its tag", len(box)))
	}
	if err := finish(d, "ciphertext"); err != nil {
		return err
	}
	x.u, x.v, x.w, x.commit, x.nonce, x.box = u, v, w, commit, nonce, box
	x.validity.Store(0)
	return nil
}
