package tcrypto

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"golang.org/x/crypto/chacha20poly1305"
	"pgregory.net/rapid"
)

// seeded returns a deterministic randomness source for reproducible tests.
func seeded(seed uint64) io.Reader {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	return rand.NewChaCha8(s)
}

func mustDeal(tb testing.TB, n, t int, seed uint64) (*PublicKeySet, []*SecretShare) {
	tb.Helper()
	pk, sks, err := Deal(n, t, seeded(seed))
	if err != nil {
		tb.Fatalf("Deal(%d, %d): %v", n, t, err)
	}
	return pk, sks
}

// fataler is what both *testing.T and *rapid.T provide.
type fataler interface {
	Helper()
	Fatalf(string, ...any)
}

func mustMarshal(tb fataler, m interface{ MarshalBinary() ([]byte, error) }) []byte {
	tb.Helper()
	b, err := m.MarshalBinary()
	if err != nil {
		tb.Fatalf("MarshalBinary: %v", err)
	}
	return b
}

func TestDealIsDeterministicForASeededReader(t *testing.T) {
	pk1, sk1 := mustDeal(t, 7, 3, 42)
	pk2, sk2 := mustDeal(t, 7, 3, 42)
	if !bytes.Equal(mustMarshal(t, pk1), mustMarshal(t, pk2)) {
		t.Fatal("same seed gave different public key sets")
	}
	for i := range sk1 {
		if !bytes.Equal(mustMarshal(t, sk1[i]), mustMarshal(t, sk2[i])) {
			t.Fatalf("same seed gave different share %d", i)
		}
	}
	pk3, _ := mustDeal(t, 7, 3, 43)
	if pk1.Equal(pk3) {
		t.Fatal("different seeds gave the same key set")
	}
}

func TestDealGivesSharesMatchingTheirVerificationKeys(t *testing.T) {
	pk, sks := mustDeal(t, 5, 2, 1)
	if pk.N() != 5 || pk.Threshold() != 2 {
		t.Fatalf("N, Threshold = %d, %d; want 5, 2", pk.N(), pk.Threshold())
	}
	for i, sk := range sks {
		if sk.Index != i {
			t.Fatalf("share %d has index %d", i, sk.Index)
		}
		if err := pk.CheckSecretShare(sk); err != nil {
			t.Fatal(err)
		}
	}
	wrong := *sks[1]
	wrong.Index = 2
	if pk.CheckSecretShare(&wrong) == nil {
		t.Fatal("share 1 accepted as member 2's")
	}
	// A dealt key set passes the same consistency check as a decoded one.
	if err := pk.validate(mustMarshal(t, pk)); err != nil {
		t.Fatalf("dealt key set fails validation: %v", err)
	}
}

func TestDealRejectsBadParameters(t *testing.T) {
	for _, c := range []struct{ n, t int }{{0, 1}, {4, 0}, {4, 5}, {MaxMembers + 1, 1}, {-1, -1}} {
		if _, _, err := Deal(c.n, c.t, seeded(1)); err == nil {
			t.Errorf("Deal(%d, %d) succeeded", c.n, c.t)
		}
	}
	if _, _, err := Deal(4, 2, bytes.NewReader(make([]byte, 10))); err == nil {
		t.Error("Deal with exhausted randomness succeeded")
	}
}

func TestLagrangeInterpolationRecoversTheSecret(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 20).Draw(rt, "n")
		th := rapid.IntRange(1, n).Draw(rt, "t")
		coeffs := make([]fr.Element, th)
		for i := range coeffs {
			coeffs[i].SetUint64(rapid.Uint64().Draw(rt, "coeff"))
		}
		idx := rapid.Permutation(seq(n)).Draw(rt, "order")[:th]
		slices.Sort(idx)
		lam := lagrangeAtZero(idx)
		var got fr.Element
		for j, i := range idx {
			var x fr.Element
			x.SetUint64(uint64(i) + 1)
			y := evalPoly(coeffs, &x)
			y.Mul(&y, &lam[j])
			got.Add(&got, &y)
		}
		if !got.Equal(&coeffs[0]) {
			rt.Fatalf("interpolation at 0 over %v gave %s, want %s", idx, got.String(), coeffs[0].String())
		}
	})
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func TestAnyThresholdSharesCombineToTheSameSignature(t *testing.T) {
	pk, sks := mustDeal(t, 7, 3, 7)
	msg := []byte("coin/epoch 1/instance 2/round 3")
	all := map[int]SigShare{}
	for i, sk := range sks {
		all[i] = sk.SignShare(msg)
	}
	ref, bad, err := pk.CombineSigShares(msg, map[int]SigShare{0: all[0], 1: all[1], 2: all[2]})
	if err != nil || bad != nil {
		t.Fatalf("combining shares 0,1,2: %v (bad %v)", err, bad)
	}
	if !pk.VerifySignature(msg, ref) {
		t.Fatal("combined signature does not verify")
	}
	if pk.VerifySignature([]byte("another message"), ref) {
		t.Fatal("signature verifies for another message")
	}
	rapid.Check(t, func(rt *rapid.T) {
		k := rapid.IntRange(3, 7).Draw(rt, "k")
		idx := rapid.Permutation(seq(7)).Draw(rt, "order")[:k]
		sub := map[int]SigShare{}
		for _, i := range idx {
			sub[i] = all[i]
		}
		sig, bad, err := pk.CombineSigShares(msg, sub)
		if err != nil || bad != nil {
			rt.Fatalf("combining %v: %v (bad %v)", idx, err, bad)
		}
		if sig.Hash() != ref.Hash() || !sig.Equal(ref) {
			rt.Fatalf("shares %v combine to a different signature", idx)
		}
	})
}

func TestFewerThanThresholdSharesDoNotSign(t *testing.T) {
	pk, sks := mustDeal(t, 4, 2, 3)
	msg := []byte("m")
	_, bad, err := pk.CombineSigShares(msg, map[int]SigShare{3: sks[3].SignShare(msg)})
	if !errors.Is(err, ErrNotEnoughShares) || bad != nil {
		t.Fatalf("one of two shares: err %v, bad %v; want ErrNotEnoughShares", err, bad)
	}
	// Interpolating t-1 shares as if they were enough gives no valid
	// signature: the secret is not determined by f shares.
	for i := range sks {
		sh := sks[i].SignShare(msg)
		guess := Signature{p: combineG1([]int{i}, []bls.G1Affine{sh.p})}
		if pk.VerifySignature(msg, guess) || pk.VerifySignature(msg, Signature{p: sh.p}) {
			t.Fatalf("share %d alone yields a valid signature", i)
		}
	}
}

func TestSigShareVerifiesOnlyForItsMemberAndMessage(t *testing.T) {
	pk, sks := mustDeal(t, 4, 2, 5)
	msg := []byte("m")
	sh := sks[1].SignShare(msg)
	if !pk.VerifySigShare(1, msg, sh) {
		t.Fatal("valid share rejected")
	}
	if pk.VerifySigShare(2, msg, sh) {
		t.Fatal("share accepted for another member")
	}
	if !sh.Equal(sks[1].SignShare(msg)) || sh.Equal(sks[2].SignShare(msg)) {
		t.Fatal("SigShare.Equal is wrong")
	}
	if pk.VerifySigShare(1, []byte("other"), sh) {
		t.Fatal("share accepted for another message")
	}
	for _, i := range []int{-1, 4, 1 << 40} {
		if pk.VerifySigShare(i, msg, sh) {
			t.Fatalf("share accepted for out-of-range index %d", i)
		}
	}
	if pk.VerifySigShare(1, msg, SigShare{}) {
		t.Fatal("identity share accepted")
	}
	if pk.VerifySignature(msg, Signature{}) {
		t.Fatal("identity signature accepted")
	}
	var zero PublicKeySet
	if zero.VerifySigShare(0, msg, sh) || zero.VerifySignature(msg, Signature{p: sh.p}) {
		t.Fatal("zero key set verified something")
	}
}

func TestCorruptedSigSharesAreDetectedAndNamed(t *testing.T) {
	pk, sks := mustDeal(t, 7, 3, 11)
	msg := []byte("coin")
	good := func() map[int]SigShare {
		m := map[int]SigShare{}
		for i, sk := range sks {
			m[i] = sk.SignShare(msg)
		}
		return m
	}
	cases := []struct {
		name    string
		corrupt func(map[int]SigShare)
		want    []int
	}{
		{"share on another message", func(m map[int]SigShare) { m[1] = sks[1].SignShare([]byte("other")) }, []int{1}},
		{"another member's share", func(m map[int]SigShare) { m[2] = m[4] }, []int{2}},
		{"two bad among all", func(m map[int]SigShare) { m[0] = m[6]; m[5] = m[3] }, []int{0, 5}},
		{"identity share", func(m map[int]SigShare) { m[2] = SigShare{} }, []int{2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := good()
			c.corrupt(m)
			_, bad, err := pk.CombineSigShares(msg, m)
			if !errors.Is(err, ErrInvalidShares) || !slices.Equal(bad, c.want) {
				t.Fatalf("err %v, bad %v; want ErrInvalidShares naming %v", err, bad, c.want)
			}
			// Without the named shares the rest combine.
			for _, i := range bad {
				delete(m, i)
			}
			sig, bad, err := pk.CombineSigShares(msg, m)
			if err != nil || bad != nil || !pk.VerifySignature(msg, sig) {
				t.Fatalf("after dropping bad shares: err %v, bad %v", err, bad)
			}
		})
	}
	t.Run("bad share outside the interpolated set is not looked at", func(t *testing.T) {
		m := good()
		m[6] = m[0]
		if _, bad, err := pk.CombineSigShares(msg, m); err != nil || bad != nil {
			t.Fatalf("err %v, bad %v", err, bad)
		}
	})
	t.Run("index out of range", func(t *testing.T) {
		m := good()
		m[7] = m[0]
		m[-3] = m[0]
		_, bad, err := pk.CombineSigShares(msg, m)
		if !errors.Is(err, ErrInvalidShares) || !slices.Equal(bad, []int{-3, 7}) {
			t.Fatalf("err %v, bad %v", err, bad)
		}
	})
}

func TestEncryptionRoundTrip(t *testing.T) {
	pk, sks := mustDeal(t, 4, 2, 21)
	rapid.Check(t, func(rt *rapid.T) {
		pt := rapid.SliceOfN(rapid.Byte(), 0, 3000).Draw(rt, "plaintext")
		c, err := pk.Encrypt(seeded(rapid.Uint64().Draw(rt, "seed")), pt)
		if err != nil {
			rt.Fatal(err)
		}
		if c.PayloadLen() != len(pt) {
			rt.Fatalf("PayloadLen %d, want %d", c.PayloadLen(), len(pt))
		}
		// Go through the wire encoding, as a receiving node would.
		var got Ciphertext
		if err := got.UnmarshalBinary(mustMarshal(rt, c)); err != nil {
			rt.Fatal(err)
		}
		if !pk.VerifyCiphertext(&got) {
			rt.Fatal("fresh ciphertext does not verify")
		}
		idx := rapid.Permutation(seq(4)).Draw(rt, "order")[:rapid.IntRange(2, 4).Draw(rt, "k")]
		shares := map[int]DecShare{}
		for _, i := range idx {
			ds, err := sks[i].DecryptShare(&got)
			if err != nil {
				rt.Fatal(err)
			}
			if !pk.VerifyDecShare(i, &got, ds) {
				rt.Fatalf("valid decryption share %d rejected", i)
			}
			shares[i] = ds
		}
		out, bad, err := pk.Decrypt(&got, shares)
		if err != nil || bad != nil {
			rt.Fatalf("decrypting with %v: %v (bad %v)", idx, err, bad)
		}
		if !bytes.Equal(out, pt) {
			rt.Fatal("decrypted payload differs")
		}
	})
}

func TestFewerThanThresholdDecShareDoNotDecrypt(t *testing.T) {
	pk, sks := mustDeal(t, 4, 2, 22)
	c, err := pk.Encrypt(nil, []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	ds, _ := sks[0].DecryptShare(c)
	if _, bad, err := pk.Decrypt(c, map[int]DecShare{0: ds}); !errors.Is(err, ErrNotEnoughShares) || bad != nil {
		t.Fatalf("err %v, bad %v; want ErrNotEnoughShares", err, bad)
	}
}

func TestTamperedCiphertextIsRejected(t *testing.T) {
	pk, sks := mustDeal(t, 4, 2, 23)
	c, err := pk.Encrypt(seeded(9), []byte("a contribution of several transactions"))
	if err != nil {
		t.Fatal(err)
	}
	enc := mustMarshal(t, c)
	// Flip one bit in every byte after the header in turn: each result
	// either fails to decode or fails the validity proof.
	for i := 2; i < len(enc); i++ {
		if testing.Short() && i%5 != 0 && i < len(enc)-20 {
			continue
		}
		b := slices.Clone(enc)
		b[i] ^= 0x01
		var tc Ciphertext
		if tc.UnmarshalBinary(b) != nil {
			continue
		}
		if pk.VerifyCiphertext(&tc) {
			t.Fatalf("ciphertext with byte %d flipped verifies", i)
		}
		if _, err := sks[0].DecryptShare(&tc); !errors.Is(err, ErrInvalidCiphertext) {
			t.Fatalf("byte %d flipped: DecryptShare error %v; want ErrInvalidCiphertext", i, err)
		}
		if _, _, err := pk.Decrypt(&tc, nil); !errors.Is(err, ErrInvalidCiphertext) {
			t.Fatalf("byte %d flipped: Decrypt error %v; want ErrInvalidCiphertext", i, err)
		}
	}
}

func TestWrongDecSharesAreNamed(t *testing.T) {
	pk, sks := mustDeal(t, 7, 3, 24)
	pt := []byte("payload")
	c, err := pk.Encrypt(nil, pt)
	if err != nil {
		t.Fatal(err)
	}
	other, err := pk.Encrypt(nil, pt)
	if err != nil {
		t.Fatal(err)
	}
	shares := map[int]DecShare{}
	for i, sk := range sks {
		shares[i], _ = sk.DecryptShare(c)
	}
	shares[0], _ = sks[0].DecryptShare(other) // share of another ciphertext
	shares[2] = shares[1]                     // another member's share
	if !shares[2].Equal(shares[1]) || shares[0].Equal(shares[1]) {
		t.Fatal("DecShare.Equal is wrong")
	}
	if pk.VerifyDecShare(0, c, shares[0]) || pk.VerifyDecShare(2, c, shares[2]) || pk.VerifyDecShare(1, c, DecShare{}) {
		t.Fatal("bad decryption share verifies")
	}
	_, bad, err := pk.Decrypt(c, shares)
	if !errors.Is(err, ErrInvalidShares) || !slices.Equal(bad, []int{0, 2}) {
		t.Fatalf("err %v, bad %v; want ErrInvalidShares naming [0 2]", err, bad)
	}
	delete(shares, 0)
	delete(shares, 2)
	out, bad, err := pk.Decrypt(c, shares)
	if err != nil || bad != nil || !bytes.Equal(out, pt) {
		t.Fatalf("after dropping bad shares: err %v, bad %v", err, bad)
	}
}

// encryptForTest builds a ciphertext like Encrypt, letting the test replace
// the commitment or the box before the validity proof is made: what a
// Byzantine proposer can do.
func encryptForTest(t *testing.T, pk *PublicKeySet, pt []byte, edit func(c *Ciphertext, key *[32]byte)) *Ciphertext {
	t.Helper()
	r, err := randomScalar(seeded(77))
	if err != nil {
		t.Fatal(err)
	}
	key := sha256.Sum256([]byte("key"))
	c := &Ciphertext{}
	rb := scalarBig(&r)
	c.u.ScalarMultiplicationBase(rb)
	var ry bls.G1Affine
	ry.ScalarMultiplication(&pk.masterG1, rb)
	mask := kdf(&ry)
	for i := range c.v {
		c.v[i] = key[i] ^ mask[i]
	}
	c.commit = keyCommitment(&key)
	aead, _ := chacha20poly1305.New(key[:])
	c.box = aead.Seal(nil, c.nonce[:], pt, nil)
	edit(c, &key)
	h := c.hashToG2()
	c.w.ScalarMultiplication(&h, rb)
	return c
}

func TestMalformedPayloadBlamesTheEncryptorNotTheShareSenders(t *testing.T) {
	pk, sks := mustDeal(t, 4, 2, 25)
	cases := map[string]func(c *Ciphertext, key *[32]byte){
		"commitment to another key": func(c *Ciphertext, _ *[32]byte) { c.commit[0] ^= 1 },
		"box under another key": func(c *Ciphertext, _ *[32]byte) {
			other := sha256.Sum256([]byte("other key"))
			aead, _ := chacha20poly1305.New(other[:])
			c.box = aead.Seal(nil, c.nonce[:], []byte("x"), nil)
		},
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			c := encryptForTest(t, pk, []byte("payload"), edit)
			if !pk.VerifyCiphertext(c) {
				t.Fatal("ciphertext with a valid proof rejected")
			}
			shares := map[int]DecShare{}
			for i, sk := range sks {
				shares[i], _ = sk.DecryptShare(c)
			}
			_, bad, err := pk.Decrypt(c, shares)
			if !errors.Is(err, ErrInvalidPayload) || bad != nil {
				t.Fatalf("err %v, bad %v; want ErrInvalidPayload and no bad shares", err, bad)
			}
		})
	}
	t.Run("honest construction decrypts", func(t *testing.T) {
		c := encryptForTest(t, pk, []byte("payload"), func(*Ciphertext, *[32]byte) {})
		shares := map[int]DecShare{}
		for i, sk := range sks[:2] {
			shares[i], _ = sk.DecryptShare(c)
		}
		out, _, err := pk.Decrypt(c, shares)
		if err != nil || string(out) != "payload" {
			t.Fatalf("err %v, out %q", err, out)
		}
	})
}

func TestCiphertextsAreRandomized(t *testing.T) {
	pk, _ := mustDeal(t, 4, 2, 26)
	a, _ := pk.Encrypt(nil, []byte("same"))
	b, _ := pk.Encrypt(nil, []byte("same"))
	if bytes.Equal(mustMarshal(t, a), mustMarshal(t, b)) {
		t.Fatal("two encryptions of one payload are equal")
	}
}

func TestThresholdOfOneAndOfN(t *testing.T) {
	for _, th := range []int{1, 4} {
		t.Run(fmt.Sprintf("t=%d", th), func(t *testing.T) {
			pk, sks := mustDeal(t, 4, th, uint64(30+th))
			msg := []byte("m")
			sigShares := map[int]SigShare{}
			for i := 4 - th; i < 4; i++ {
				sigShares[i] = sks[i].SignShare(msg)
			}
			if _, _, err := pk.CombineSigShares(msg, sigShares); err != nil {
				t.Fatal(err)
			}
			c, _ := pk.Encrypt(nil, []byte("p"))
			decShares := map[int]DecShare{}
			for i := range th {
				decShares[i], _ = sks[i].DecryptShare(c)
			}
			if out, _, err := pk.Decrypt(c, decShares); err != nil || string(out) != "p" {
				t.Fatalf("err %v, out %q", err, out)
			}
		})
	}
}

// swappedW returns a decodable ciphertext with a's body and b's proof W.
func swappedW(t *testing.T, a, b *Ciphertext) *Ciphertext {
	t.Helper()
	ea, eb := mustMarshal(t, a), mustMarshal(t, b)
	at := 2 + g1Len + 32
	copy(ea[at:at+g2Len], eb[at:at+g2Len])
	var c Ciphertext
	if err := c.UnmarshalBinary(ea); err != nil {
		t.Fatal(err)
	}
	return &c
}

func fresh(t *testing.T, c *Ciphertext) *Ciphertext {
	t.Helper()
	var d Ciphertext
	if err := d.UnmarshalBinary(mustMarshal(t, c)); err != nil {
		t.Fatal(err)
	}
	return &d
}

func TestBatchCiphertextVerificationAgreesWithSingle(t *testing.T) {
	pk, _ := mustDeal(t, 4, 2, 27)
	var cs []*Ciphertext
	for i := range 6 {
		c, err := pk.Encrypt(seeded(uint64(i)), []byte{byte(i)})
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	rapid.Check(t, func(rt *rapid.T) {
		k := rapid.IntRange(0, 6).Draw(rt, "k")
		var batch []*Ciphertext
		var want []bool
		for j := range k {
			switch rapid.IntRange(0, 3).Draw(rt, "kind") {
			case 0: // valid, unchecked
				batch = append(batch, fresh(t, cs[j]))
				want = append(want, true)
			case 1: // valid, already checked
				batch = append(batch, cs[j])
				want = append(want, true)
			default: // proof of another ciphertext
				batch = append(batch, swappedW(t, cs[j], cs[(j+1)%6]))
				want = append(want, false)
			}
		}
		got := pk.VerifyCiphertexts(batch)
		if !slices.Equal(got, want) {
			rt.Fatalf("verdicts %v, want %v", got, want)
		}
		for j, c := range batch {
			if pk.VerifyCiphertext(c) != want[j] || verifyCiphertext(c) != want[j] {
				rt.Fatalf("cached or single verdict of %d differs from %v", j, want[j])
			}
		}
	})
}

func TestBatchVerificationCatchesCompensatingForgeries(t *testing.T) {
	// Two ciphertexts whose proofs are swapped: each product term is off,
	// but not in a way a fixed combination would cancel.
	pk, _ := mustDeal(t, 4, 2, 28)
	a, _ := pk.Encrypt(nil, []byte("a"))
	b, _ := pk.Encrypt(nil, []byte("b"))
	got := pk.VerifyCiphertexts([]*Ciphertext{swappedW(t, a, b), swappedW(t, b, a)})
	if got[0] || got[1] {
		t.Fatalf("swapped proofs verified: %v", got)
	}
}

func TestCiphertextIsSafeForConcurrentUse(t *testing.T) {
	// Meaningful under -race: the cached verdict is shared.
	pk, sks := mustDeal(t, 4, 2, 29)
	c0, _ := pk.Encrypt(nil, []byte("p"))
	c := fresh(t, c0)
	type result struct {
		i  int
		ds DecShare
	}
	done := make(chan result, len(sks))
	for i, sk := range sks {
		go func() {
			ds, err := sk.DecryptShare(c)
			if err != nil || !pk.VerifyCiphertext(c) {
				t.Error("valid ciphertext refused")
			}
			done <- result{i, ds}
		}()
	}
	shares := map[int]DecShare{}
	for range sks {
		r := <-done
		shares[r.i] = r.ds
	}
	if out, _, err := pk.Decrypt(c, shares); err != nil || string(out) != "p" {
		t.Fatalf("err %v, out %q", err, out)
	}
}

func TestBeaconIsUniqueAndVerified(t *testing.T) {
	pk, shares := mustDeal(t, 4, 2, 70)
	msg := []byte("black hole 7")
	sign := func(idx ...int) Signature {
		t.Helper()
		m := map[int]SigShare{}
		for _, i := range idx {
			m[i] = shares[i].SignShare(msg)
		}
		sig, _, err := pk.CombineSigShares(msg, m)
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	b1, err := pk.Beacon(msg, sign(0, 1))
	if err != nil {
		t.Fatal(err)
	}
	// Any threshold of members yields the same signature, hence the same beacon.
	b2, err := pk.Beacon(msg, sign(2, 3))
	if err != nil || b1 != b2 {
		t.Fatalf("beacons from different signer sets differ: %x vs %x (%v)", b1, b2, err)
	}
	if _, err := pk.Beacon([]byte("another block"), sign(0, 1)); !errors.Is(err, ErrBadBeacon) {
		t.Fatalf("a signature on another message gave %v, want ErrBadBeacon", err)
	}
	other, _ := mustDeal(t, 4, 2, 71)
	if _, err := other.Beacon(msg, sign(0, 1)); !errors.Is(err, ErrBadBeacon) {
		t.Fatalf("a signature under another group key gave %v, want ErrBadBeacon", err)
	}
}
