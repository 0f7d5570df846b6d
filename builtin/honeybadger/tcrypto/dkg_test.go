package tcrypto

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"testing"

	"filippo.io/edwards25519"
	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// dkgMember is one member's long-term keys: an Ed25519 identity and the
// X25519 key derived from it.
type dkgMember struct {
	ed   ed25519.PrivateKey
	priv *ecdh.PrivateKey
	pub  []byte
}

func dkgMembers(tb testing.TB, n int, seed uint64) []dkgMember {
	tb.Helper()
	r := seeded(seed)
	ms := make([]dkgMember, n)
	for i := range ms {
		s := make([]byte, ed25519.SeedSize)
		if _, err := io.ReadFull(r, s); err != nil {
			tb.Fatal(err)
		}
		ed := ed25519.NewKeyFromSeed(s)
		priv, err := X25519FromEd25519Private(ed)
		if err != nil {
			tb.Fatalf("member %d: %v", i, err)
		}
		pub, err := X25519FromEd25519Public(ed.Public().(ed25519.PublicKey))
		if err != nil {
			tb.Fatalf("member %d: %v", i, err)
		}
		if !bytes.Equal(pub, priv.PublicKey().Bytes()) {
			tb.Fatalf("member %d: converted public key differs from the converted private key's", i)
		}
		ms[i] = dkgMember{ed: ed, priv: priv, pub: pub}
	}
	return ms
}

func memberKeys(ms []dkgMember) [][]byte {
	ks := make([][]byte, len(ms))
	for i := range ms {
		ks[i] = ms[i].pub
	}
	return ks
}

// dealAll has every member deal (dealer j with seed seed*1000+j), sends each
// dealing through its encoding as the network would, and checks it with
// Verify. tweak[j], if set, makes dealer j cheat on the shares it seals.
func dealAll(tb testing.TB, n, t int, ms []dkgMember, seed uint64, tweak map[int]func(int, *fr.Element)) []*Dealing {
	tb.Helper()
	keys := memberKeys(ms)
	ds := make([]*Dealing, n)
	for j := range ds {
		d, err := newDealing(n, t, j, keys, seeded(seed*1000+uint64(j)), tweak[j], nil)
		if err != nil {
			tb.Fatalf("dealer %d: %v", j, err)
		}
		enc := d.Encode()
		if len(enc) != DealingSize(n, t) {
			tb.Fatalf("dealer %d: encoding of %d bytes, want %d", j, len(enc), DealingSize(n, t))
		}
		got, err := DecodeDealing(enc, n, t)
		if err != nil {
			tb.Fatalf("dealer %d: decoding its own encoding: %v", j, err)
		}
		if !bytes.Equal(got.Encode(), enc) {
			tb.Fatalf("dealer %d: re-encoding differs", j)
		}
		if err := got.Verify(n, t); err != nil {
			tb.Fatalf("dealer %d: %v", j, err)
		}
		ds[j] = got
	}
	return ds
}

// openAll has every member open every dealing; it returns the opened shares
// per member and the (dealer, member) pairs whose Open failed.
func openAll(tb testing.TB, ds []*Dealing, ms []dkgMember) ([]map[int]DealingShare, map[[2]int]error) {
	tb.Helper()
	shares := make([]map[int]DealingShare, len(ms))
	bad := map[[2]int]error{}
	for i := range ms {
		shares[i] = map[int]DealingShare{}
		for _, d := range ds {
			sh, err := d.Open(i, ms[i].priv)
			if err != nil {
				bad[[2]int{d.Dealer(), i}] = err
				continue
			}
			if sh.Dealer() != d.Dealer() {
				tb.Fatalf("share from dealing %d says dealer %d", d.Dealer(), sh.Dealer())
			}
			shares[i][d.Dealer()] = sh
		}
	}
	return shares, bad
}

// assembleAll assembles the keys from every member's view (and an
// observer's) and checks they are one and the same key set, that it
// survives its strict decoder (which re-checks its consistency), and that
// every member's secret share matches it.
func assembleAll(tb testing.TB, n, t int, ds []*Dealing, qualified []int, shares []map[int]DealingShare) (*PublicKeySet, []*SecretShare) {
	tb.Helper()
	pub, err := AssemblePublic(n, t, ds, qualified)
	if err != nil {
		tb.Fatalf("AssemblePublic: %v", err)
	}
	want := mustMarshal(tb, pub)
	var decoded PublicKeySet
	if err := decoded.UnmarshalBinary(want); err != nil {
		tb.Fatalf("the assembled key set does not pass its own decoder: %v", err)
	}
	if !decoded.Equal(pub) {
		tb.Fatal("decoded key set differs")
	}
	sks := make([]*SecretShare, n)
	for i := range n {
		pk, sk, err := Assemble(n, t, ds, qualified, i, shares[i])
		if err != nil {
			tb.Fatalf("member %d: Assemble: %v", i, err)
		}
		if got := mustMarshal(tb, pk); !bytes.Equal(got, want) {
			tb.Fatalf("member %d assembled a different key set", i)
		}
		if sk.Index != i {
			tb.Fatalf("member %d got share index %d", i, sk.Index)
		}
		if err := pub.CheckSecretShare(sk); err != nil {
			tb.Fatalf("member %d: %v", i, err)
		}
		sks[i] = sk
	}
	return pub, sks
}

// checkThresholdWorks signs with two different sets of t members (the
// signatures must be the same unique one and verify under the master key)
// and threshold-decrypts with t members.
func checkThresholdWorks(tb testing.TB, pk *PublicKeySet, sks []*SecretShare, members []int) {
	tb.Helper()
	t := pk.Threshold()
	if len(members) < t {
		tb.Fatalf("only %d members to sign with, need %d", len(members), t)
	}
	msg := []byte("dkg: a message signed by the generated key")
	sign := func(idx []int) Signature {
		shares := map[int]SigShare{}
		for _, i := range idx {
			sh := sks[i].SignShare(msg)
			if !pk.VerifySigShare(i, msg, sh) {
				tb.Fatalf("signature share of member %d does not verify", i)
			}
			shares[i] = sh
		}
		sig, bad, err := pk.CombineSigShares(msg, shares)
		if err != nil {
			tb.Fatalf("combining shares of %v: %v (bad %v)", idx, err, bad)
		}
		if !pk.VerifySignature(msg, sig) {
			tb.Fatalf("signature of %v does not verify under the master key", idx)
		}
		return sig
	}
	first, last := members[:t], members[len(members)-t:]
	if !sign(first).Equal(sign(last)) {
		tb.Fatalf("members %v and %v made different signatures", first, last)
	}
	if pk.VerifySignature([]byte("another message"), sign(first)) {
		tb.Fatal("signature verifies for another message")
	}
	pt := []byte("dkg: a payload encrypted to the generated key")
	c, err := pk.Encrypt(seeded(77), pt)
	if err != nil {
		tb.Fatal(err)
	}
	dec := map[int]DecShare{}
	for _, i := range last {
		ds, err := sks[i].DecryptShare(c)
		if err != nil {
			tb.Fatal(err)
		}
		dec[i] = ds
	}
	got, bad, err := pk.Decrypt(c, dec)
	if err != nil {
		tb.Fatalf("decrypting with %v: %v (bad %v)", last, err, bad)
	}
	if !bytes.Equal(got, pt) {
		tb.Fatalf("decrypted %q, want %q", got, pt)
	}
}

func TestDKGEveryMemberDealsAndTheKeysWork(t *testing.T) {
	for _, c := range []struct{ n, t int }{{4, 2}, {7, 3}} {
		t.Run(fmt.Sprintf("n=%d,t=%d", c.n, c.t), func(t *testing.T) {
			ms := dkgMembers(t, c.n, 1)
			ds := dealAll(t, c.n, c.t, ms, 2, nil)
			shares, bad := openAll(t, ds, ms)
			if len(bad) != 0 {
				t.Fatalf("honest dealings rejected: %v", bad)
			}
			pk, sks := assembleAll(t, c.n, c.t, ds, seq(c.n), shares)
			if pk.N() != c.n || pk.Threshold() != c.t {
				t.Fatalf("N, Threshold = %d, %d", pk.N(), pk.Threshold())
			}
			checkThresholdWorks(t, pk, sks, seq(c.n))
			// t shares interpolate to the master secret, in both groups.
			idx := seq(c.n)[c.n-c.t:]
			lam := lagrangeAtZero(idx)
			var s fr.Element
			for j, i := range idx {
				var term fr.Element
				term.Mul(&lam[j], &sks[i].s)
				s.Add(&s, &term)
			}
			var g1 bls.G1Affine
			var g2 bls.G2Affine
			g1.ScalarMultiplicationBase(scalarBig(&s))
			g2.ScalarMultiplicationBase(scalarBig(&s))
			if !g1.Equal(&pk.masterG1) || !g2.Equal(&pk.masterG2) {
				t.Fatal("interpolated shares do not give the master key")
			}
			// The generated key set is not the dealt one of another seed,
			// and a second run with the same seeds gives the same keys.
			again := dealAll(t, c.n, c.t, ms, 2, nil)
			for j := range ds {
				if !bytes.Equal(ds[j].Encode(), again[j].Encode()) {
					t.Fatalf("dealer %d: same seed, different dealing", j)
				}
			}
			other := dealAll(t, c.n, c.t, ms, 3, nil)
			pk2, err := AssemblePublic(c.n, c.t, other, seq(c.n))
			if err != nil {
				t.Fatal(err)
			}
			if pk2.Equal(pk) {
				t.Fatal("different seeds gave the same key set")
			}
		})
	}
}

func TestDKGQualifiedSetIsChecked(t *testing.T) {
	const n, th = 4, 3
	ms := dkgMembers(t, n, 4)
	ds := dealAll(t, n, th, ms, 5, nil)
	shares, _ := openAll(t, ds, ms)
	if _, err := AssemblePublic(n, th, ds, []int{0, 2}); err == nil {
		t.Fatal("AssemblePublic accepted fewer than t qualified dealers")
	}
	if _, _, err := Assemble(n, th, ds, []int{1, 3}, 0, shares[0]); err == nil {
		t.Fatal("Assemble accepted fewer than t qualified dealers")
	}
	if _, _, err := Assemble(n, th, ds, nil, 0, shares[0]); err == nil {
		t.Fatal("Assemble accepted no qualified dealers")
	}
	for _, q := range [][]int{{0, 2, 1}, {0, 1, 1}, {0, 1, 4}, {-1, 0, 1}, {0, 1, 2, 3, 3}} {
		if _, err := AssemblePublic(n, th, ds, q); err == nil {
			t.Fatalf("AssemblePublic accepted qualified set %v", q)
		}
	}
	// Exactly t qualified dealers is enough, and the keys work.
	pk, sks := assembleAll(t, n, th, ds, []int{0, 1, 3}, shares)
	checkThresholdWorks(t, pk, sks, seq(n))
	// A qualified dealer whose dealing is missing.
	if _, err := AssemblePublic(n, th, ds[:3], []int{0, 1, 3}); err == nil {
		t.Fatal("AssemblePublic accepted a qualified dealer without a dealing")
	}
	// Two dealings of one member.
	if _, err := AssemblePublic(n, th, append(ds[:4:4], ds[1]), []int{0, 1, 3}); err == nil {
		t.Fatal("AssemblePublic accepted two dealings of one member")
	}
	// A dealing of another key generation's shape.
	foreign := dealAll(t, n, 2, ms, 6, nil)
	if _, err := AssemblePublic(n, th, append(ds[:4:4], foreign[2]), []int{0, 1, 3}); err == nil {
		t.Fatal("AssemblePublic accepted a dealing made for another threshold")
	}
	// A member that lacks a qualified dealer's share, or holds one opened
	// for somebody else, cannot assemble.
	missing := map[int]DealingShare{0: shares[2][0], 3: shares[2][3]}
	if _, _, err := Assemble(n, th, ds, []int{0, 1, 3}, 2, missing); err == nil {
		t.Fatal("Assemble accepted a missing share")
	}
	wrong := map[int]DealingShare{0: shares[1][0], 1: shares[2][1], 3: shares[2][3]}
	if _, _, err := Assemble(n, th, ds, []int{0, 1, 3}, 2, wrong); err == nil {
		t.Fatal("Assemble accepted another member's share")
	}
	zero := map[int]DealingShare{0: {}, 1: shares[0][1], 3: shares[0][3]}
	if _, _, err := Assemble(n, th, ds, []int{0, 1, 3}, 0, zero); err == nil {
		t.Fatal("Assemble accepted a zero-value share")
	}
	if _, _, err := Assemble(n, th, ds, []int{0, 1, 3}, n, shares[0]); err == nil {
		t.Fatal("Assemble accepted a member index out of range")
	}
}

func TestDKGCheatingDealersAreCaughtByJustifiedComplaints(t *testing.T) {
	const n, th = 4, 2
	ms := dkgMembers(t, n, 7)
	// Dealer 1 seals a share for member 2 that does not match its
	// commitments (the encryption itself is correct).
	tweak := map[int]func(int, *fr.Element){1: func(i int, s *fr.Element) {
		if i == 2 {
			var one fr.Element
			one.SetOne()
			s.Add(s, &one)
		}
	}}
	ds := dealAll(t, n, th, ms, 8, tweak)
	// Dealer 3 sends a garbled encrypted share to member 0: the dealing
	// still decodes and passes the public checks.
	enc := ds[3].Encode()
	boxes := 2 + 12 + g1Len + th*g2Len + X25519KeySize
	enc[boxes+0*shareBoxSize+5] ^= 1
	d3, err := DecodeDealing(enc, n, th)
	if err != nil {
		t.Fatal(err)
	}
	if err := d3.Verify(n, th); err != nil {
		t.Fatalf("a garbled share should not be visible to Verify: %v", err)
	}
	ds[3] = d3

	shares, bad := openAll(t, ds, ms)
	if len(bad) != 2 || bad[[2]int{1, 2}] == nil || bad[[2]int{3, 0}] == nil {
		t.Fatalf("rejected shares %v, want exactly (dealer 1, member 2) and (dealer 3, member 0)", bad)
	}
	for k, err := range bad {
		if !errors.Is(err, ErrShareRejected) {
			t.Fatalf("%v: error %v does not wrap ErrShareRejected", k, err)
		}
	}

	// Both victims' complaints are justified, also after going over the wire.
	for _, v := range []struct{ dealer, victim int }{{1, 2}, {3, 0}} {
		c, err := ds[v.dealer].Complain(v.victim, ms[v.victim].priv)
		if err != nil {
			t.Fatalf("member %d complaining about dealer %d: %v", v.victim, v.dealer, err)
		}
		if c.Dealer != v.dealer || c.Complainer != v.victim {
			t.Fatalf("complaint names dealer %d, complainer %d", c.Dealer, c.Complainer)
		}
		wire := c.Encode()
		if len(wire) != ComplaintSize {
			t.Fatalf("complaint of %d bytes, want %d", len(wire), ComplaintSize)
		}
		c2, err := DecodeComplaint(wire, n)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(c2.Encode(), wire) {
			t.Fatal("complaint re-encodes differently")
		}
		ok, err := VerifyComplaint(ds[v.dealer], c2, ms[v.victim].pub)
		if err != nil || !ok {
			t.Fatalf("complaint of member %d against dealer %d: justified=%v, err=%v; want justified", v.victim, v.dealer, ok, err)
		}
		// The complaint is bound to its dealing, complainer and key.
		if _, err := VerifyComplaint(ds[0], c2, ms[v.victim].pub); err == nil {
			t.Fatal("complaint verified against another dealer's dealing")
		}
		if _, err := VerifyComplaint(ds[v.dealer], c2, ms[(v.victim+1)%n].pub); err == nil {
			t.Fatal("complaint verified under another member's key")
		}
		moved := c2
		moved.Complainer = (v.victim + 1) % n
		if _, err := VerifyComplaint(ds[v.dealer], moved, ms[moved.Complainer].pub); err == nil {
			t.Fatal("complaint verified for another complainer")
		}
		// A complaint revealing a wrong shared secret is rejected: the
		// proof does not verify.
		forged := c2
		copy(forged.shared[:], new(edwards25519.Point).ScalarBaseMult(edSmallScalar(7)).Bytes())
		if _, err := VerifyComplaint(ds[v.dealer], forged, ms[v.victim].pub); err == nil {
			t.Fatal("complaint with a wrong shared secret verified")
		}
		forged = c2
		forged.z[0] ^= 1
		if _, err := VerifyComplaint(ds[v.dealer], forged, ms[v.victim].pub); err == nil {
			t.Fatal("complaint with a changed proof verified")
		}
	}

	// An honest dealing: Complain refuses, and a lying complaint (with a
	// valid proof of the right shared secret) is shown to be unjustified.
	if _, err := ds[0].Complain(1, ms[1].priv); err == nil {
		t.Fatal("Complain accepted a valid share")
	}
	lie, err := ds[0].makeComplaint(1, ms[1].priv)
	if err != nil {
		t.Fatal(err)
	}
	ok, err := VerifyComplaint(ds[0], lie, ms[1].pub)
	if err != nil {
		t.Fatalf("lying complaint: %v; want a verifiable but unjustified complaint", err)
	}
	if ok {
		t.Fatal("complaint against an honest dealing judged justified")
	}
	// Opening with the wrong key looks like a bad share to the member, but
	// its complaint then does not verify under its registered key.
	if _, err := ds[0].Open(1, ms[2].priv); !errors.Is(err, ErrShareRejected) {
		t.Fatalf("opening with another member's key: %v", err)
	}
	wrongKey, err := ds[0].Complain(1, ms[2].priv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyComplaint(ds[0], wrongKey, ms[1].pub); err == nil {
		t.Fatal("complaint made with the wrong private key verified")
	}

	// After excluding the two cheaters the others assemble working keys.
	qualified := []int{0, 2}
	pk, sks := assembleAll(t, n, th, ds, qualified, shares)
	checkThresholdWorks(t, pk, sks, seq(n))
	// The victim cannot assemble with its cheater still qualified.
	if _, _, err := Assemble(n, th, ds, []int{0, 1, 2}, 2, shares[2]); err == nil {
		t.Fatal("victim assembled without its share from the cheater")
	}
}

func TestDKGMasterKeyIsNotASingleDealersKey(t *testing.T) {
	// A sanity check, not a proof of secrecy: with two or more qualified
	// dealers the master key is the sum of their secrets, so it must differ
	// from every single dealer's commitment (a dealer alone knows only its
	// own secret). Secrecy rests on at least one qualified dealer being
	// honest, which no test can show.
	const n, th = 4, 2
	ms := dkgMembers(t, n, 9)
	ds := dealAll(t, n, th, ms, 10, nil)
	for _, q := range [][]int{{0, 1}, {1, 3}, {0, 1, 2, 3}} {
		pk, err := AssemblePublic(n, th, ds, q)
		if err != nil {
			t.Fatal(err)
		}
		for j, d := range ds {
			if pk.masterG2.Equal(&d.commits[0]) || pk.masterG1.Equal(&d.a0) {
				t.Fatalf("qualified %v: master key equals dealer %d's secret", q, j)
			}
		}
	}
	// The check can fail: with a single qualified dealer (threshold 1) the
	// master key is exactly that dealer's.
	ds1 := dealAll(t, n, 1, ms, 11, nil)
	pk, err := AssemblePublic(n, 1, ds1, []int{2})
	if err != nil {
		t.Fatal(err)
	}
	if !pk.masterG2.Equal(&ds1[2].commits[0]) || !pk.masterG1.Equal(&ds1[2].a0) {
		t.Fatal("with one qualified dealer the master key should be that dealer's")
	}
}

func TestDKGVerifyRejectsInconsistentCommitments(t *testing.T) {
	const n, th = 4, 2
	ms := dkgMembers(t, n, 12)
	ds := dealAll(t, n, th, ms, 13, nil)
	enc0, enc1 := ds[0].Encode(), ds[1].Encode()
	offA0 := 2 + 12
	offC := offA0 + g1Len
	splice := func(off, l int) *Dealing {
		t.Helper()
		b := bytes.Clone(enc0)
		copy(b[off:off+l], enc1[off:off+l])
		d, err := DecodeDealing(b, n, th)
		if err != nil {
			t.Fatalf("spliced dealing with valid points does not decode: %v", err)
		}
		return d
	}
	// A0 of another dealing: valid point, wrong secret.
	badA0 := splice(offA0, g1Len)
	if err := badA0.Verify(n, th); !errors.Is(err, ErrInvalidDealing) {
		t.Fatalf("Verify of a dealing with a foreign A0: %v, want ErrInvalidDealing", err)
	}
	if _, err := AssemblePublic(n, th, []*Dealing{badA0, ds[1], ds[2]}, []int{0, 1, 2}); err == nil {
		t.Fatal("AssemblePublic accepted master keys that disagree")
	}
	// C_0 of another dealing.
	if err := splice(offC, g2Len).Verify(n, th); !errors.Is(err, ErrInvalidDealing) {
		t.Fatalf("Verify of a dealing with a foreign C_0: %v, want ErrInvalidDealing", err)
	}
	// C_1 of another dealing: the public check cannot see it, but every
	// recipient's share is rejected and its complaint is justified.
	badC1 := splice(offC+g2Len, g2Len)
	if err := badC1.Verify(n, th); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	for i := range n {
		if _, err := badC1.Open(i, ms[i].priv); !errors.Is(err, ErrShareRejected) {
			t.Fatalf("member %d opened a dealing with a foreign C_1: %v", i, err)
		}
	}
	c, err := badC1.Complain(3, ms[3].priv)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := VerifyComplaint(badC1, c, ms[3].pub); err != nil || !ok {
		t.Fatalf("complaint against a foreign C_1: justified=%v, err=%v", ok, err)
	}
	// Wrong shape for the caller's key generation.
	if err := ds[0].Verify(n, th+1); err == nil {
		t.Fatal("Verify accepted the wrong threshold")
	}
	if err := ds[0].Verify(n+1, th); err == nil {
		t.Fatal("Verify accepted the wrong member count")
	}
	if err := (&Dealing{}).Verify(n, th); err == nil {
		t.Fatal("Verify accepted the zero dealing")
	}
	var nilDealing *Dealing
	if err := nilDealing.Verify(n, th); err == nil {
		t.Fatal("Verify accepted a nil dealing")
	}
	if _, err := nilDealing.Open(0, ms[0].priv); err == nil {
		t.Fatal("Open accepted a nil dealing")
	}
	if _, err := VerifyComplaint(nil, c, ms[3].pub); err == nil {
		t.Fatal("VerifyComplaint accepted a nil dealing")
	}
	// Ephemeral keys off the curve, of small order, or with a torsion
	// component decode (they are canonical u-coordinates) but fail Verify.
	offE := offC + th*g2Len
	for name, u := range map[string]string{
		"on the twist (u=2)":    "0200000000000000000000000000000000000000000000000000000000000000",
		"of order 2 (u=0)":      "0000000000000000000000000000000000000000000000000000000000000000",
		"u = -1":                "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"with a torsion part":   "34fc6cb7c8de58977770d95216ccdc6c8590becd919c07599414563b4ba4470f",
		"the X25519 base point": "0900000000000000000000000000000000000000000000000000000000000000",
	} {
		b := bytes.Clone(enc0)
		copy(b[offE:offE+X25519KeySize], mustHex(t, u))
		d, err := DecodeDealing(b, n, th)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		err = d.Verify(n, th)
		if name == "the X25519 base point" {
			// A valid key (only the shares no longer decrypt).
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			continue
		}
		if !errors.Is(err, ErrInvalidDealing) {
			t.Fatalf("ephemeral key %s: Verify gave %v", name, err)
		}
	}
}

func mustHex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestX25519FromEd25519(t *testing.T) {
	// RFC 8032 §7.1 test 1; the X25519 key was computed independently with
	// Python's cryptography package (clamped SHA-512 of the seed) and with
	// u = (1+y)/(1-y) in Python integers, which agree.
	seed := mustHex(t, "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
	wantEd := mustHex(t, "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
	wantX := mustHex(t, "d85e07ec22b0ad881537c2f44d662d1a143cf830c57aca4305d85c7a90f6b62e")
	ed := ed25519.NewKeyFromSeed(seed)
	if !bytes.Equal(ed.Public().(ed25519.PublicKey), wantEd) {
		t.Fatal("RFC 8032 vector: wrong Ed25519 public key")
	}
	priv, err := X25519FromEd25519Private(ed)
	if err != nil {
		t.Fatal(err)
	}
	if got := priv.PublicKey().Bytes(); !bytes.Equal(got, wantX) {
		t.Fatalf("X25519 key from the private key = %x, want %x", got, wantX)
	}
	pub, err := X25519FromEd25519Public(wantEd)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pub, wantX) {
		t.Fatalf("X25519 key from the public key = %x, want %x", pub, wantX)
	}
	kb := priv.Bytes()
	if kb[0]&7 != 0 || kb[31]&0xc0 != 0x40 {
		t.Fatalf("private scalar %x is not clamped", kb)
	}

	// Random keys: both conversions agree, ECDH agrees both ways, and the
	// Edwards arithmetic used by complaints gives Ed25519's own public key.
	ms := dkgMembers(t, 6, 14) // checks priv→pub == pub→pub for each
	for i := range ms {
		j := (i + 1) % len(ms)
		pj, err := ecdh.X25519().NewPublicKey(ms[j].pub)
		if err != nil {
			t.Fatal(err)
		}
		pi, err := ecdh.X25519().NewPublicKey(ms[i].pub)
		if err != nil {
			t.Fatal(err)
		}
		a, err := ms[i].priv.ECDH(pj)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ms[j].priv.ECDH(pi)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Fatalf("ECDH between members %d and %d disagrees", i, j)
		}
		h := sha512.Sum512(ms[i].ed.Seed())
		clampScalar(h[:32])
		x, err := new(edwards25519.Scalar).SetBytesWithClamping(h[:32])
		if err != nil {
			t.Fatal(err)
		}
		got := new(edwards25519.Point).ScalarBaseMult(x).Bytes()
		if !bytes.Equal(got, ms[i].ed.Public().(ed25519.PublicKey)) {
			t.Fatalf("member %d: edwards25519 scalar multiplication disagrees with crypto/ed25519", i)
		}
	}

	// Encodings that are not keys.
	torsion := "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05" // order 8
	mixed := "da99e28ba529cdde35a25fba9059e78ecaee239f99755b9b1aa4f65df00803e2"   // B + torsion
	T8, err := edDecode(mustHex(t, torsion))
	if err != nil {
		t.Fatal(err)
	}
	if e := new(edwards25519.Point).Add(edwards25519.NewGeneratorPoint(), T8).Bytes(); hex.EncodeToString(e) != mixed {
		t.Fatalf("B + T8 = %x, want %s (computed in Python)", e, mixed)
	}
	for name, h := range map[string]string{
		"off the curve (y=2)":        "0200000000000000000000000000000000000000000000000000000000000000",
		"non-canonical y = p":        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"the identity":               "0100000000000000000000000000000000000000000000000000000000000000",
		"the identity with sign bit": "0100000000000000000000000000000000000000000000000000000000000080",
		"of order 2":                 "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"of order 4":                 "0000000000000000000000000000000000000000000000000000000000000000",
		"of order 8":                 torsion,
		"with a torsion component":   mixed,
	} {
		if _, err := X25519FromEd25519Public(mustHex(t, h)); err == nil {
			t.Fatalf("X25519FromEd25519Public accepted a point %s", name)
		}
	}
	if _, err := X25519FromEd25519Public(wantEd[:31]); err == nil {
		t.Fatal("X25519FromEd25519Public accepted 31 bytes")
	}
	if _, err := X25519FromEd25519Private(ed[:63]); err == nil {
		t.Fatal("X25519FromEd25519Private accepted 63 bytes")
	}
	mismatched := bytes.Clone(ed)
	copy(mismatched[32:], ms[0].ed.Public().(ed25519.PublicKey))
	if _, err := X25519FromEd25519Private(mismatched); err == nil {
		t.Fatal("X25519FromEd25519Private accepted a key whose public half does not match")
	}
}

func TestNewDealingRejectsBadParameters(t *testing.T) {
	ms := dkgMembers(t, 4, 15)
	keys := memberKeys(ms)
	short := append([][]byte{}, keys...)
	short[2] = short[2][:31]
	for name, f := range map[string]func() (*Dealing, error){
		"n=0":           func() (*Dealing, error) { return NewDealing(0, 1, 0, nil, seeded(1)) },
		"n>MaxMembers":  func() (*Dealing, error) { return NewDealing(MaxMembers+1, 1, 0, nil, seeded(1)) },
		"t=0":           func() (*Dealing, error) { return NewDealing(4, 0, 0, keys, seeded(1)) },
		"t>n":           func() (*Dealing, error) { return NewDealing(4, 5, 0, keys, seeded(1)) },
		"dealer<0":      func() (*Dealing, error) { return NewDealing(4, 2, -1, keys, seeded(1)) },
		"dealer>=n":     func() (*Dealing, error) { return NewDealing(4, 2, 4, keys, seeded(1)) },
		"3 keys":        func() (*Dealing, error) { return NewDealing(4, 2, 0, keys[:3], seeded(1)) },
		"short key":     func() (*Dealing, error) { return NewDealing(4, 2, 0, short, seeded(1)) },
		"no randomness": func() (*Dealing, error) { return NewDealing(4, 2, 0, keys, bytes.NewReader(make([]byte, 100))) },
	} {
		if _, err := f(); err == nil {
			t.Fatalf("NewDealing accepted %s", name)
		}
	}
	// A nil reader means crypto/rand: two dealings differ.
	a, err := NewDealing(4, 2, 0, keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewDealing(4, 2, 0, keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.Encode(), b.Encode()) {
		t.Fatal("two dealings from crypto/rand are equal")
	}
}

func TestDealingDecodingIsStrict(t *testing.T) {
	const n, th = 4, 2
	ms := dkgMembers(t, n, 16)
	d, err := NewDealing(n, th, 1, memberKeys(ms), seeded(17))
	if err != nil {
		t.Fatal(err)
	}
	enc := d.Encode()
	got, err := DecodeDealing(enc, n, th)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Encode(), enc) || got.Dealer() != 1 || got.digest != d.digest {
		t.Fatal("decoded dealing differs")
	}
	for l := range len(enc) {
		if _, err := DecodeDealing(enc[:l], n, th); !errors.Is(err, ErrEncoding) {
			t.Fatalf("truncated to %d bytes: %v", l, err)
		}
	}
	if _, err := DecodeDealing(append(bytes.Clone(enc), 0), n, th); !errors.Is(err, ErrEncoding) {
		t.Fatalf("trailing byte: %v", err)
	}
	for _, nt := range [][2]int{{n, th + 1}, {n + 1, th}, {0, 0}, {MaxMembers + 1, 1}, {n, 0}, {n, n + 1}, {-1, -1}} {
		if _, err := DecodeDealing(enc, nt[0], nt[1]); err == nil {
			t.Fatalf("decoded with n=%d, t=%d", nt[0], nt[1])
		}
	}
	offA0 := 2 + 12
	offC := offA0 + g1Len
	offE := offC + th*g2Len
	g1p, g2p := g1OutsideSubgroup(t), g2OutsideSubgroup(t)
	g1Bad, g2Bad := g1p.Bytes(), g2p.Bytes()
	var inf1 [g1Len]byte
	inf1[0] = 0xc0
	var inf2 [g2Len]byte
	inf2[0] = 0xc0
	var pLE [32]byte // 2^255-19, little-endian
	copy(pLE[:], mustHex(t, "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"))
	cases := map[string]func(b []byte){
		"version":                  func(b []byte) { b[0] = 2 },
		"tag":                      func(b []byte) { b[1] = tagPublicKeySet },
		"header n":                 func(b []byte) { b[5] = n + 1 },
		"header t":                 func(b []byte) { b[9] = th + 1 },
		"dealer out of range":      func(b []byte) { b[13] = n },
		"A0 uncompressed flag":     func(b []byte) { b[offA0] &^= 0x80 },
		"A0 infinity":              func(b []byte) { copy(b[offA0:], inf1[:]) },
		"A0 off the curve":         func(b []byte) { copy(b[offA0:], g1OffCurve(t)) },
		"A0 outside G1":            func(b []byte) { copy(b[offA0:], g1Bad[:]) },
		"C_1 outside G2":           func(b []byte) { copy(b[offC+g2Len:], g2Bad[:]) },
		"C_1 infinity":             func(b []byte) { copy(b[offC+g2Len:], inf2[:]) },
		"C_0 uncompressed flag":    func(b []byte) { b[offC] &^= 0x80 },
		"C_0 x not canonical":      func(b []byte) { b[offC] |= 0x1f; b[offC+1] = 0xff },
		"ephemeral u = p":          func(b []byte) { copy(b[offE:], pLE[:]) },
		"ephemeral with top bit":   func(b []byte) { b[offE+31] |= 0x80 },
		"ephemeral all ones (u≥p)": func(b []byte) { copy(b[offE:], bytes.Repeat([]byte{0xff}, 32)) },
	}
	for name, edit := range cases {
		b := bytes.Clone(enc)
		edit(b)
		if _, err := DecodeDealing(b, n, th); !errors.Is(err, ErrEncoding) {
			t.Fatalf("%s: %v, want ErrEncoding", name, err)
		}
	}
	var zero Dealing
	if zero.Encode() != nil {
		t.Fatal("the zero dealing encodes")
	}
}

func TestComplaintDecodingIsStrict(t *testing.T) {
	const n, th = 4, 2
	ms := dkgMembers(t, n, 18)
	d, err := NewDealing(n, th, 3, memberKeys(ms), seeded(19))
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.makeComplaint(2, ms[2].priv)
	if err != nil {
		t.Fatal(err)
	}
	enc := c.Encode()
	got, err := DecodeComplaint(enc, n)
	if err != nil {
		t.Fatal(err)
	}
	if got != c {
		t.Fatal("decoded complaint differs")
	}
	for l := range len(enc) {
		if _, err := DecodeComplaint(enc[:l], n); !errors.Is(err, ErrEncoding) {
			t.Fatalf("truncated to %d bytes: %v", l, err)
		}
	}
	if _, err := DecodeComplaint(append(bytes.Clone(enc), 0), n); !errors.Is(err, ErrEncoding) {
		t.Fatal("trailing byte accepted")
	}
	if _, err := DecodeComplaint(enc, 3); !errors.Is(err, ErrEncoding) {
		t.Fatal("dealer 3 accepted for n=3")
	}
	if _, err := DecodeComplaint(enc, 0); !errors.Is(err, ErrEncoding) {
		t.Fatal("n=0 accepted")
	}
	// ℓ little-endian: one more than the largest canonical scalar.
	lLE := [32]byte(edLMinusOne.Bytes())
	lLE[0]++
	if hex.EncodeToString(lLE[:]) != "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010" {
		t.Fatalf("ℓ = %x", lLE)
	}
	for name, edit := range map[string]func(b []byte){
		"version":      func(b []byte) { b[0] = 0 },
		"tag":          func(b []byte) { b[1] = tagDealing },
		"complainer n": func(b []byte) { b[9] = n },
		"S off the curve": func(b []byte) {
			copy(b[10:], mustHex(t, "0200000000000000000000000000000000000000000000000000000000000000"))
		},
		"S non-canonical": func(b []byte) {
			copy(b[10:], mustHex(t, "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"))
		},
		"c = ℓ":          func(b []byte) { copy(b[42:], lLE[:]) },
		"z = ℓ":          func(b []byte) { copy(b[74:], lLE[:]) },
		"z with top bit": func(b []byte) { b[105] |= 0x80 },
		"S x=0 with sign 1": func(b []byte) {
			copy(b[10:], mustHex(t, "0100000000000000000000000000000000000000000000000000000000000080"))
		},
	} {
		b := bytes.Clone(enc)
		edit(b)
		if _, err := DecodeComplaint(b, n); !errors.Is(err, ErrEncoding) {
			t.Fatalf("%s: %v, want ErrEncoding", name, err)
		}
	}
}

// TestComplaintWithTorsionInTheSharedPointIsRejected plays a lying
// complainer that adds a point T of order 8 to the shared point, S' = x·E + T,
// so that S' has the wrong u-coordinate (the share would then not decrypt
// and the complaint would look justified). Because c·T depends only on
// c mod 8, such a liar can grind the challenge until the Chaum–Pedersen
// equations hold (about 8 tries); only the prime-order-subgroup check on S
// stops it.
func TestComplaintWithTorsionInTheSharedPointIsRejected(t *testing.T) {
	const n, th = 4, 2
	ms := dkgMembers(t, n, 20)
	d, err := NewDealing(n, th, 0, memberKeys(ms), seeded(21))
	if err != nil {
		t.Fatal(err)
	}
	const me = 1
	honest, err := d.makeComplaint(me, ms[me].priv)
	if err != nil {
		t.Fatal(err)
	}
	X, err := liftX25519Subgroup(ms[me].pub)
	if err != nil {
		t.Fatal(err)
	}
	E, err := liftX25519Subgroup(d.ephemeral[:])
	if err != nil {
		t.Fatal(err)
	}
	S, err := edDecode(honest.shared[:])
	if err != nil {
		t.Fatal(err)
	}
	T8, err := edDecode(mustHex(t, "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"))
	if err != nil {
		t.Fatal(err)
	}
	// The liar's scalar x with x·B = X (as makeComplaint derives it).
	x, err := new(edwards25519.Scalar).SetBytesWithClamping(ms[me].priv.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if new(edwards25519.Point).ScalarBaseMult(x).Equal(X) != 1 {
		x.Negate(x)
	}
	if new(edwards25519.Point).ScalarMult(x, E).Equal(S) != 1 {
		t.Fatal("test setup: x·E is not the honest shared point")
	}
	forgedS := new(edwards25519.Point).Add(S, T8)
	c := Complaint{Dealer: 0, Complainer: me}
	copy(c.shared[:], forgedS.Bytes())
	stmt := d.dleqStatement(me, X, E, c.shared)
	found := false
	for try := 1; try < 200 && !found; try++ {
		r := edSmallScalar(byte(try)) // any nonce will do
		g := edSmallScalar(byte(try % 8))
		R1 := new(edwards25519.Point).ScalarBaseMult(r)
		R2 := new(edwards25519.Point).ScalarMult(r, E)
		R2.Add(R2, new(edwards25519.Point).ScalarMult(g, T8))
		ch := dleqChallenge(stmt, R1, R2)
		z := new(edwards25519.Scalar).Multiply(ch, x)
		z.Add(z, r)
		// Exactly the verifier's equations.
		got1, got2 := dleqCommitments(ch, z, X, E, forgedS)
		if got1.Equal(R1) == 1 && got2.Equal(R2) == 1 {
			copy(c.c[:], ch.Bytes())
			copy(c.z[:], z.Bytes())
			found = true
		}
	}
	if !found {
		t.Fatal("test setup: no ground proof found")
	}
	// The forged complaint even decodes: the subgroup check is VerifyComplaint's.
	if _, err := DecodeComplaint(c.Encode(), n); err != nil {
		t.Fatal(err)
	}
	ok, err := VerifyComplaint(d, c, ms[me].pub)
	if err == nil {
		t.Fatalf("complaint with a torsion component in the shared point accepted (justified=%v)", ok)
	}
	// The honest complaint about the same (valid) share is unjustified.
	if ok, err := VerifyComplaint(d, honest, ms[me].pub); err != nil || ok {
		t.Fatalf("honest complaint about a valid share: justified=%v, err=%v", ok, err)
	}
}
