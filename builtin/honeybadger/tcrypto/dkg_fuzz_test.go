package tcrypto

import (
	"bytes"
	"testing"
)

// fuzzDKGSeeds returns members and a valid dealing and complaint of a small
// key generation, to seed the fuzz targets.
func fuzzDKGSeeds(f *testing.F, n, t int) ([]dkgMember, *Dealing, Complaint) {
	f.Helper()
	ms := dkgMembers(f, n, 30)
	d, err := NewDealing(n, t, n-1, memberKeys(ms), seeded(31))
	if err != nil {
		f.Fatal(err)
	}
	c, err := d.makeComplaint(0, ms[0].priv)
	if err != nil {
		f.Fatal(err)
	}
	return ms, d, c
}

// FuzzDecodeDealing checks that DecodeDealing never panics, that whatever
// it accepts re-encodes to the same bytes, and that Verify and Open do not
// panic on accepted dealings.
func FuzzDecodeDealing(f *testing.F) {
	ms, d, _ := fuzzDKGSeeds(f, 3, 2)
	_, d1, _ := fuzzDKGSeeds(f, 1, 1)
	f.Add(d.Encode(), 3, 2)
	f.Add(d1.Encode(), 1, 1)
	f.Add([]byte{}, 3, 2)
	f.Add(d.Encode()[:100], 3, 2)
	f.Fuzz(func(t *testing.T, b []byte, n, th int) {
		x, err := DecodeDealing(b, n, th)
		if err != nil {
			if x != nil {
				t.Fatal("DecodeDealing returned a dealing with an error")
			}
			return
		}
		if !bytes.Equal(x.Encode(), b) {
			t.Fatalf("accepted encoding re-encodes differently")
		}
		if x.Dealer() < 0 || x.Dealer() >= n {
			t.Fatalf("accepted dealer %d for n=%d", x.Dealer(), n)
		}
		_ = x.Verify(n, th)
		if n == len(ms) {
			for i := range ms {
				_, _ = x.Open(i, ms[i].priv)
			}
		}
	})
}

// FuzzDecodeComplaint checks that DecodeComplaint never panics, that
// whatever it accepts re-encodes to the same bytes, and that VerifyComplaint
// does not panic on accepted complaints.
func FuzzDecodeComplaint(f *testing.F) {
	ms, d, c := fuzzDKGSeeds(f, 3, 2)
	f.Add(c.Encode())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := DecodeComplaint(b, len(ms))
		if err != nil {
			return
		}
		if !bytes.Equal(x.Encode(), b) {
			t.Fatalf("accepted encoding re-encodes differently")
		}
		_, _ = VerifyComplaint(d, x, ms[x.Complainer].pub)
	})
}

// FuzzDecodeReshareDealing checks that DecodeReshareDealing never panics,
// that whatever it accepts re-encodes to the same bytes, is a reshare
// dealing, and that VerifyReshare and Open do not panic on it.
func FuzzDecodeReshareDealing(f *testing.F) {
	ms := dkgMembers(f, 3, 32)
	old, shares, err := Deal(4, 2, seeded(33))
	if err != nil {
		f.Fatal(err)
	}
	d, err := NewReshareDealing(3, 2, shares[3], memberKeys(ms), seeded(34))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(d.Encode(), 3, 2)
	f.Add([]byte{}, 3, 2)
	f.Add(d.Encode()[:100], 3, 2)
	f.Fuzz(func(t *testing.T, b []byte, n, th int) {
		x, err := DecodeReshareDealing(b, n, th)
		if err != nil {
			if x != nil {
				t.Fatal("DecodeReshareDealing returned a dealing with an error")
			}
			return
		}
		if !bytes.Equal(x.Encode(), b) || !x.IsReshare() {
			t.Fatalf("accepted encoding re-encodes differently")
		}
		_ = x.VerifyReshare(n, th, old)
		if n == len(ms) {
			for i := range ms {
				_, _ = x.Open(i, ms[i].priv)
			}
		}
	})
}
