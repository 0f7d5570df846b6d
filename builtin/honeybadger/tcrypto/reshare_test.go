package tcrypto

import (
	"bytes"
	"errors"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// reshareTo has the old members listed in dealers reshare their shares to
// the new members ms (threshold t), through the encoding and
// VerifyReshare, and returns the decoded dealings.
func reshareTo(tb testing.TB, old *PublicKeySet, oldShares []*SecretShare, dealers []int, ms []dkgMember, t int, seed uint64, tweak map[int]func(int, *fr.Element)) []*Dealing {
	tb.Helper()
	n := len(ms)
	var out []*Dealing
	for _, i := range dealers {
		d, err := newDealing(n, t, i, memberKeys(ms), seeded(seed*1000+uint64(i)), tweak[i], &oldShares[i].s)
		if err != nil {
			tb.Fatalf("old member %d: %v", i, err)
		}
		enc := d.Encode()
		if _, err := DecodeDealing(enc, n, t); err == nil {
			tb.Fatalf("old member %d: a reshare dealing decodes as a fresh one", i)
		}
		got, err := DecodeReshareDealing(enc, n, t)
		if err != nil {
			tb.Fatalf("old member %d: decoding its own encoding: %v", i, err)
		}
		if !bytes.Equal(got.Encode(), enc) || !got.IsReshare() {
			tb.Fatalf("old member %d: re-encoding differs", i)
		}
		if err := got.VerifyReshare(n, t, old); err != nil {
			tb.Fatalf("old member %d: %v", i, err)
		}
		out = append(out, got)
	}
	return out
}

// assembleReshared assembles the new key set from every new member's view
// and an observer's, checks they agree and that the set passes its own
// decoder, and returns it with the new shares.
func assembleReshared(tb testing.TB, old *PublicKeySet, n, t int, ds []*Dealing, qualified []int, ms []dkgMember) (*PublicKeySet, []*SecretShare) {
	tb.Helper()
	pub, err := AssembleResharePublic(old, n, t, ds, qualified)
	if err != nil {
		tb.Fatalf("AssembleResharePublic: %v", err)
	}
	want := mustMarshal(tb, pub)
	var decoded PublicKeySet
	if err := decoded.UnmarshalBinary(want); err != nil {
		tb.Fatalf("the reshared key set does not pass its own decoder: %v", err)
	}
	sks := make([]*SecretShare, n)
	for j := range n {
		shares := map[int]DealingShare{}
		for _, d := range ds {
			sh, err := d.Open(j, ms[j].priv)
			if err != nil {
				tb.Fatalf("new member %d: open old dealer %d: %v", j, d.Dealer(), err)
			}
			shares[d.Dealer()] = sh
		}
		pk, sk, err := AssembleReshare(old, n, t, ds, qualified, j, shares)
		if err != nil {
			tb.Fatalf("new member %d: AssembleReshare: %v", j, err)
		}
		if !bytes.Equal(mustMarshal(tb, pk), want) {
			tb.Fatalf("new member %d assembled a different key set", j)
		}
		sks[j] = sk
	}
	return pub, sks
}

// signWith combines signature shares of the given members on msg.
func signWith(tb testing.TB, pk *PublicKeySet, sks []*SecretShare, who []int, msg []byte) Signature {
	tb.Helper()
	shares := map[int]SigShare{}
	for _, i := range who {
		shares[i] = sks[i].SignShare(msg)
	}
	sig, bad, err := pk.CombineSigShares(msg, shares)
	if err != nil {
		tb.Fatalf("combine shares of %v: %v (bad %v)", who, err, bad)
	}
	return sig
}

// TestReshareKeepsTheMasterKey: four members (threshold 2) of a dealt key
// set reshare it, two of them dealing, to seven new members (threshold 3),
// who reshare it again, three dealing, to five (threshold 2). The master
// key never changes: a signature three of the seven combine, and one two
// of the five combine, verify under the first key set, and a ciphertext
// encrypted to the first key set decrypts with the last set's shares.
func TestReshareKeepsTheMasterKey(t *testing.T) {
	old, oldShares := mustDeal(t, 4, 2, 1)
	seven := dkgMembers(t, 7, 2)
	ds := reshareTo(t, old, oldShares, []int{1, 3}, seven, 3, 3, nil)
	mid, midShares := assembleReshared(t, old, 7, 3, ds, []int{1, 3}, seven)
	msg := []byte("black hole 12")
	if !old.VerifySignature(msg, signWith(t, mid, midShares, []int{0, 4, 6}, msg)) {
		t.Fatal("a signature of the reshared members does not verify under the old key set")
	}
	five := dkgMembers(t, 5, 4)
	ds2 := reshareTo(t, mid, midShares, []int{0, 2, 5}, five, 2, 5, nil)
	last, lastShares := assembleReshared(t, mid, 5, 2, ds2, []int{0, 2, 5}, five)
	if !old.VerifySignature(msg, signWith(t, last, lastShares, []int{1, 3}, msg)) {
		t.Fatal("after two reshares, a signature does not verify under the first key set")
	}
	ct, err := old.Encrypt(seeded(6), []byte("contribution"))
	if err != nil {
		t.Fatal(err)
	}
	decs := map[int]DecShare{}
	for _, j := range []int{2, 4} {
		if decs[j], err = lastShares[j].DecryptShare(ct); err != nil {
			t.Fatal(err)
		}
	}
	pt, bad, err := last.Decrypt(ct, decs)
	if err != nil || string(pt) != "contribution" {
		t.Fatalf("decrypt with reshared shares: %q, %v (bad %v)", pt, err, bad)
	}
}

// TestReshareRefusesWhatDoesNotHoldTheOldKey: a dealing that shares a
// secret other than the dealer's old share fails VerifyReshare, as does a
// fresh dealing offered as a reshare and a reshare by a member the old set
// does not have; fewer qualified dealers than the old threshold assemble
// nothing; and a dealing that gives one new member a bad share draws a
// complaint that VerifyComplaint finds justified.
func TestReshareRefusesWhatDoesNotHoldTheOldKey(t *testing.T) {
	old, oldShares := mustDeal(t, 4, 2, 11)
	ms := dkgMembers(t, 4, 12)
	keys := memberKeys(ms)
	var other fr.Element
	other.SetUint64(42)
	forged, err := newDealing(4, 2, 2, keys, seeded(13), nil, &other)
	if err != nil {
		t.Fatal(err)
	}
	if err := forged.VerifyReshare(4, 2, old); !errors.Is(err, ErrInvalidDealing) {
		t.Fatalf("a reshare of a made-up secret: %v", err)
	}
	fresh, err := NewDealing(4, 2, 2, keys, seeded(14))
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.VerifyReshare(4, 2, old); !errors.Is(err, ErrInvalidDealing) {
		t.Fatalf("a fresh dealing as a reshare: %v", err)
	}
	stranger := &SecretShare{Index: 9, s: other}
	ds, err := NewReshareDealing(4, 2, stranger, keys, seeded(15))
	if err != nil {
		t.Fatal(err)
	}
	if err := ds.VerifyReshare(4, 2, old); !errors.Is(err, ErrInvalidDealing) {
		t.Fatalf("a reshare by old member 9 of 4: %v", err)
	}
	good := reshareTo(t, old, oldShares, []int{0, 1}, ms, 2, 16, nil)
	if _, err := AssembleResharePublic(old, 4, 2, good[:1], []int{0}); err == nil {
		t.Fatal("one qualified dealer of an old threshold of two assembled a key set")
	}
	if _, err := AssemblePublic(4, 2, good, []int{0, 1}); err == nil {
		t.Fatal("reshare dealings assembled as a fresh key generation")
	}
	cheat := reshareTo(t, old, oldShares, []int{3}, ms, 2, 17, map[int]func(int, *fr.Element){3: func(j int, v *fr.Element) {
		if j == 1 {
			var one fr.Element
			one.SetOne()
			v.Add(v, &one)
		}
	}})[0]
	if _, err := cheat.Open(1, ms[1].priv); !errors.Is(err, ErrShareRejected) {
		t.Fatalf("the cheated member opened its share: %v", err)
	}
	c, err := cheat.Complain(1, ms[1].priv)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := DecodeComplaintOf(c.Encode(), 4, 4)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := VerifyComplaint(cheat, dc, ms[1].pub); err != nil || !ok {
		t.Fatalf("complaint against a cheating reshare dealer: justified %v, %v", ok, err)
	}
}
