package tcrypto

import (
	"bytes"
	"encoding"
	"errors"
	"slices"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fp"
	"pgregory.net/rapid"
)

type codec interface {
	encoding.BinaryMarshaler
	encoding.BinaryUnmarshaler
}

// samples returns one valid encoding of every type, with a fresh decoder
// for each.
func samples(t testing.TB) map[string]struct {
	enc []byte
	new func() codec
} {
	pk, sks := mustDeal(t, 4, 2, 100)
	sig, _, err := pk.CombineSigShares([]byte("m"), map[int]SigShare{0: sks[0].SignShare([]byte("m")), 1: sks[1].SignShare([]byte("m"))})
	if err != nil {
		t.Fatal(err)
	}
	c, err := pk.Encrypt(seeded(1), []byte("payload"))
	if err != nil {
		t.Fatal(err)
	}
	ds, err := sks[2].DecryptShare(c)
	if err != nil {
		t.Fatal(err)
	}
	ss := sks[3].SignShare([]byte("m"))
	out := map[string]struct {
		enc []byte
		new func() codec
	}{}
	add := func(name string, v codec, mk func() codec) {
		out[name] = struct {
			enc []byte
			new func() codec
		}{mustMarshal(t, v), mk}
	}
	add("PublicKeySet", pk, func() codec { return new(PublicKeySet) })
	add("SecretShare", sks[3], func() codec { return new(SecretShare) })
	add("SigShare", &ss, func() codec { return new(SigShare) })
	add("Signature", &sig, func() codec { return new(Signature) })
	add("Ciphertext", c, func() codec { return new(Ciphertext) })
	add("DecShare", &ds, func() codec { return new(DecShare) })
	return out
}

func TestEncodingsRoundTrip(t *testing.T) {
	for name, s := range samples(t) {
		t.Run(name, func(t *testing.T) {
			v := s.new()
			if err := v.UnmarshalBinary(s.enc); err != nil {
				t.Fatalf("decoding a valid encoding: %v", err)
			}
			if again := mustMarshal(t, v); !bytes.Equal(again, s.enc) {
				t.Fatal("re-encoding differs")
			}
		})
	}
}

func TestDecodedKeysStillWork(t *testing.T) {
	pk0, sks0 := mustDeal(t, 4, 2, 101)
	var pk PublicKeySet
	if err := pk.UnmarshalBinary(mustMarshal(t, pk0)); err != nil {
		t.Fatal(err)
	}
	if !pk.Equal(pk0) {
		t.Fatal("decoded key set differs")
	}
	sks := make([]*SecretShare, len(sks0))
	for i := range sks0 {
		sks[i] = new(SecretShare)
		if err := sks[i].UnmarshalBinary(mustMarshal(t, sks0[i])); err != nil {
			t.Fatal(err)
		}
		if err := pk.CheckSecretShare(sks[i]); err != nil {
			t.Fatal(err)
		}
	}
	msg := []byte("m")
	sig, _, err := pk.CombineSigShares(msg, map[int]SigShare{1: sks[1].SignShare(msg), 3: sks[3].SignShare(msg)})
	if err != nil || !pk0.VerifySignature(msg, sig) {
		t.Fatalf("signing with decoded keys: %v", err)
	}
}

func TestDecodersRejectGarbage(t *testing.T) {
	for name, s := range samples(t) {
		t.Run(name, func(t *testing.T) {
			reject := func(why string, b []byte) {
				t.Helper()
				err := s.new().UnmarshalBinary(b)
				if err == nil {
					t.Fatalf("%s: decoded", why)
				}
				if !errors.Is(err, ErrEncoding) {
					t.Fatalf("%s: error %v does not wrap ErrEncoding", why, err)
				}
			}
			reject("empty", nil)
			reject("trailing byte", append(slices.Clone(s.enc), 0))
			for n := 0; n < len(s.enc); n += 1 + len(s.enc)/50 {
				reject("truncated", s.enc[:n])
			}
			b := slices.Clone(s.enc)
			b[0] = 2
			reject("unknown version", b)
			b = slices.Clone(s.enc)
			b[1] ^= 0x07
			reject("other type tag", b)
		})
	}
}

func TestDecodersRejectBadPoints(t *testing.T) {
	s := samples(t)
	_, _, g1, g2 := bls.Generators()
	notInSubgroup := g1OutsideSubgroup(t)
	for _, name := range []string{"SigShare", "Signature", "DecShare"} {
		enc := s[name].enc
		try := func(why string, point []byte) {
			t.Helper()
			b := append(slices.Clone(enc[:2]), point...)
			if s[name].new().UnmarshalBinary(b) == nil {
				t.Fatalf("%s with %s decoded", name, why)
			}
		}
		var inf bls.G1Affine
		ib := inf.Bytes()
		try("the identity", ib[:])
		raw := g1.RawBytes()
		try("an uncompressed point", raw[:])
		nb := notInSubgroup.Bytes()
		try("a point outside the subgroup", nb[:])
		try("a point off the curve", g1OffCurve(t))
		big := g1.Bytes()
		big[0] |= 0x1f
		for i := 1; i < len(big); i++ {
			big[i] = 0xff
		}
		try("x at least the field modulus", big[:])
	}
	// A key set with one G2 key replaced by the generator: every point is
	// valid on its own, but the set is not one polynomial.
	pk := s["PublicKeySet"].enc
	gb := g2.Bytes()
	for _, at := range []int{2 + 8 + g1Len, len(pk) - g2Len} {
		b := slices.Clone(pk)
		copy(b[at:], gb[:])
		if new(PublicKeySet).UnmarshalBinary(b) == nil {
			t.Fatalf("key set with a foreign G2 key at byte %d decoded", at)
		}
	}
	// G2 points outside the subgroup, in a key set and in a ciphertext's W.
	bad2pt := g2OutsideSubgroup(t)
	bad2 := bad2pt.Bytes()
	for _, at := range []int{2 + 8 + g1Len, len(pk) - g2Len} {
		b := slices.Clone(pk)
		copy(b[at:], bad2[:])
		if new(PublicKeySet).UnmarshalBinary(b) == nil {
			t.Fatalf("key set with a G2 point outside the subgroup at byte %d decoded", at)
		}
	}
	ct := slices.Clone(s["Ciphertext"].enc)
	copy(ct[2+g1Len+32:], bad2[:])
	if new(Ciphertext).UnmarshalBinary(ct) == nil {
		t.Fatal("ciphertext with W outside the subgroup decoded")
	}
	ct = slices.Clone(s["Ciphertext"].enc)
	nb := notInSubgroup.Bytes()
	copy(ct[2:], nb[:])
	if new(Ciphertext).UnmarshalBinary(ct) == nil {
		t.Fatal("ciphertext with U outside the subgroup decoded")
	}
	// Master key in G1 not matching the one in G2.
	b := slices.Clone(pk)
	g1b := g1.Bytes()
	copy(b[10:], g1b[:])
	if new(PublicKeySet).UnmarshalBinary(b) == nil {
		t.Fatal("key set with mismatched master keys decoded")
	}
}

func TestKeySetWithLoweredThresholdIsRejected(t *testing.T) {
	// Relabelling a threshold-3 key set as threshold 2 would let two shares
	// "combine" to something that never verifies; the degree check refuses it.
	pk, _ := mustDeal(t, 5, 3, 102)
	b := mustMarshal(t, pk)
	b[9] = 2
	if err := new(PublicKeySet).UnmarshalBinary(b); err == nil {
		t.Fatal("threshold-3 keys decoded as threshold 2")
	}
	b[9] = 4 // a higher threshold is consistent (degree 2 < 4) and accepted
	if err := new(PublicKeySet).UnmarshalBinary(b); err != nil {
		t.Fatalf("threshold-3 keys as threshold 4: %v", err)
	}
}

func TestKeySetDecodingAcceptsEveryDealtShape(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 10).Draw(rt, "n")
		th := rapid.IntRange(1, n).Draw(rt, "t")
		pk, _, err := Deal(n, th, seeded(rapid.Uint64().Draw(rt, "seed")))
		if err != nil {
			rt.Fatal(err)
		}
		var got PublicKeySet
		if err := got.UnmarshalBinary(mustMarshal(rt, pk)); err != nil {
			rt.Fatalf("n=%d t=%d: %v", n, th, err)
		}
		if !got.Equal(pk) {
			rt.Fatal("decoded key set differs")
		}
	})
}

func TestSecretShareDecoderRejectsNonCanonicalScalars(t *testing.T) {
	enc := samples(t)["SecretShare"].enc
	b := slices.Clone(enc)
	for i := 6; i < len(b); i++ {
		b[i] = 0xff
	}
	if new(SecretShare).UnmarshalBinary(b) == nil {
		t.Fatal("scalar above the group order decoded")
	}
	for i := 6; i < len(b); i++ {
		b[i] = 0
	}
	if new(SecretShare).UnmarshalBinary(b) == nil {
		t.Fatal("zero scalar decoded")
	}
	b = slices.Clone(enc)
	b[2] = 0xff
	if new(SecretShare).UnmarshalBinary(b) == nil {
		t.Fatal("index beyond MaxMembers decoded")
	}
}

func TestCiphertextDecoderRejectsShortBox(t *testing.T) {
	var c Ciphertext
	if err := c.UnmarshalBinary(samples(t)["Ciphertext"].enc); err != nil {
		t.Fatal(err)
	}
	c.box = c.box[:15]
	if new(Ciphertext).UnmarshalBinary(mustMarshal(t, &c)) == nil {
		t.Fatal("box shorter than a tag decoded")
	}
}

// fuzzDecoder checks that a decoder never panics and that whatever it
// accepts re-encodes to exactly the input (one value, one encoding).
func fuzzDecoder(f *testing.F, name string) {
	s := samples(f)[name]
	f.Add(s.enc)
	f.Add(s.enc[:len(s.enc)/2])
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		v := s.new()
		if v.UnmarshalBinary(b) != nil {
			return
		}
		again, err := v.MarshalBinary()
		if err != nil {
			t.Fatalf("re-encoding an accepted value: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("accepted %x but re-encodes to %x", b, again)
		}
	})
}

func FuzzPublicKeySet(f *testing.F) { fuzzDecoder(f, "PublicKeySet") }
func FuzzSecretShare(f *testing.F)  { fuzzDecoder(f, "SecretShare") }
func FuzzSigShare(f *testing.F)     { fuzzDecoder(f, "SigShare") }
func FuzzSignature(f *testing.F)    { fuzzDecoder(f, "Signature") }
func FuzzCiphertext(f *testing.F)   { fuzzDecoder(f, "Ciphertext") }
func FuzzDecShare(f *testing.F)     { fuzzDecoder(f, "DecShare") }

// g1OutsideSubgroup returns a point on E(Fp): y² = x³ + 4 that is not in the
// order-r subgroup G1 (the cofactor is about 2^126, so almost every curve
// point qualifies).
func g1OutsideSubgroup(t *testing.T) bls.G1Affine {
	t.Helper()
	var four fp.Element
	four.SetUint64(4)
	for x := uint64(1); x < 1000; x++ {
		var p bls.G1Affine
		p.X.SetUint64(x)
		var rhs fp.Element
		rhs.Square(&p.X).Mul(&rhs, &p.X).Add(&rhs, &four)
		if p.Y.Sqrt(&rhs) == nil {
			continue
		}
		if p.IsOnCurve() && !p.IsInSubGroup() {
			return p
		}
	}
	t.Fatal("no curve point outside G1 found")
	return bls.G1Affine{}
}

// g2OutsideSubgroup is g1OutsideSubgroup for the twist E'(Fp²):
// y² = x³ + 4(1+u).
func g2OutsideSubgroup(t *testing.T) bls.G2Affine {
	t.Helper()
	var b bls.E2
	b.A0.SetUint64(4)
	b.A1.SetUint64(4)
	for x := uint64(1); x < 1000; x++ {
		var p bls.G2Affine
		p.X.A0.SetUint64(x)
		var rhs bls.E2
		rhs.Square(&p.X).Mul(&rhs, &p.X).Add(&rhs, &b)
		if rhs.Legendre() != 1 {
			continue
		}
		p.Y.Sqrt(&rhs)
		if p.IsOnCurve() && !p.IsInSubGroup() {
			return p
		}
	}
	t.Fatal("no twist point outside G2 found")
	return bls.G2Affine{}
}

// g1OffCurve returns a compressed encoding whose x has no y on E(Fp).
func g1OffCurve(t *testing.T) []byte {
	t.Helper()
	var four fp.Element
	four.SetUint64(4)
	for x := uint64(1); x < 1000; x++ {
		var fx, rhs fp.Element
		fx.SetUint64(x)
		rhs.Square(&fx).Mul(&rhs, &fx).Add(&rhs, &four)
		if rhs.Legendre() == -1 {
			b := fx.Bytes()
			b[0] |= 0x80 // compressed flag
			return b[:]
		}
	}
	t.Fatal("no x off the curve found")
	return nil
}
