package tcrypto

import (
	"crypto/ed25519"
	"fmt"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
)

// Run with:
//
//	go test -run '^$' -bench . -benchmem ./builtin/honeybadger/tcrypto/

var benchShapes = []struct{ n, f int }{{4, 1}, {16, 5}}

var benchMsg = []byte("coin/epoch 12345/instance 3/round 7")

func BenchmarkSignShare(b *testing.B) {
	_, sks := mustDeal(b, 4, 2, 1)
	for b.Loop() {
		sks[0].SignShare(benchMsg)
	}
}

func BenchmarkHashToG1(b *testing.B) {
	for b.Loop() {
		hashToG1(benchMsg)
	}
}

func BenchmarkVerifySigShare(b *testing.B) {
	pk, sks := mustDeal(b, 4, 2, 1)
	sh := sks[2].SignShare(benchMsg)
	for b.Loop() {
		if !pk.VerifySigShare(2, benchMsg, sh) {
			b.Fatal("rejected")
		}
	}
}

// BenchmarkPairingCheckUnfixed is the same check as VerifySigShare without
// precomputed lines, to show what the precomputation saves.
func BenchmarkPairingCheckUnfixed(b *testing.B) {
	pk, sks := mustDeal(b, 4, 2, 1)
	sh := sks[2].SignShare(benchMsg)
	h := hashToG1(benchMsg)
	var nh bls.G1Affine
	nh.Neg(&h)
	for b.Loop() {
		ok, err := bls.PairingCheck([]bls.G1Affine{sh.p, nh}, []bls.G2Affine{g2Gen, pk.vks[2]})
		if err != nil || !ok {
			b.Fatal("rejected")
		}
	}
}

func BenchmarkVerifySignature(b *testing.B) {
	pk, sks := mustDeal(b, 4, 2, 1)
	sig, _, err := pk.CombineSigShares(benchMsg, map[int]SigShare{0: sks[0].SignShare(benchMsg), 3: sks[3].SignShare(benchMsg)})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if !pk.VerifySignature(benchMsg, sig) {
			b.Fatal("rejected")
		}
	}
}

// BenchmarkCombineSigShares compares the optimistic path (interpolate f+1
// shares, verify the result once) with verifying each of the f+1 shares
// first and then combining.
func BenchmarkCombineSigShares(b *testing.B) {
	for _, s := range benchShapes {
		pk, sks := mustDeal(b, s.n, s.f+1, 1)
		shares := map[int]SigShare{}
		for i := range s.f + 1 {
			shares[i] = sks[i].SignShare(benchMsg)
		}
		b.Run(fmt.Sprintf("N=%d,f=%d/optimistic", s.n, s.f), func(b *testing.B) {
			for b.Loop() {
				if _, _, err := pk.CombineSigShares(benchMsg, shares); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("N=%d,f=%d/verify-each", s.n, s.f), func(b *testing.B) {
			for b.Loop() {
				for i, sh := range shares {
					if !pk.VerifySigShare(i, benchMsg, sh) {
						b.Fatal("rejected")
					}
				}
				if _, _, err := pk.CombineSigShares(benchMsg, shares); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("N=%d,f=%d/one-bad-share", s.n, s.f), func(b *testing.B) {
			bad := map[int]SigShare{}
			for i, sh := range shares {
				bad[i] = sh
			}
			bad[0] = sks[0].SignShare([]byte("other"))
			for b.Loop() {
				if _, _, err := pk.CombineSigShares(benchMsg, bad); err == nil {
					b.Fatal("accepted")
				}
			}
		})
	}
}

func benchPayload(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i)
	}
	return p
}

func BenchmarkEncrypt(b *testing.B) {
	pk, _ := mustDeal(b, 4, 2, 1)
	for _, size := range []int{1 << 10, 25_000} {
		pt := benchPayload(size)
		b.Run(fmt.Sprintf("payload=%dB", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, err := pk.Encrypt(nil, pt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyCiphertext measures the uncached validity check (hash to
// G2 plus a two-term pairing product).
func BenchmarkVerifyCiphertext(b *testing.B) {
	pk, _ := mustDeal(b, 4, 2, 1)
	c, err := pk.Encrypt(nil, benchPayload(25_000))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if !verifyCiphertext(c) {
			b.Fatal("rejected")
		}
	}
}

func BenchmarkDecryptShare(b *testing.B) {
	pk, sks := mustDeal(b, 4, 2, 1)
	c, err := pk.Encrypt(nil, benchPayload(1<<10))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := sks[1].DecryptShare(c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyDecShare(b *testing.B) {
	pk, sks := mustDeal(b, 4, 2, 1)
	c, err := pk.Encrypt(nil, benchPayload(1<<10))
	if err != nil {
		b.Fatal(err)
	}
	ds, _ := sks[1].DecryptShare(c)
	for b.Loop() {
		if !pk.VerifyDecShare(1, c, ds) {
			b.Fatal("rejected")
		}
	}
}

// BenchmarkDecrypt measures combining f+1 decryption shares of a 25 kB
// payload (validity of the ciphertext already cached, as after
// DecryptShare), optimistically and with each share verified first.
func BenchmarkDecrypt(b *testing.B) {
	for _, s := range benchShapes {
		pk, sks := mustDeal(b, s.n, s.f+1, 1)
		c, err := pk.Encrypt(nil, benchPayload(25_000))
		if err != nil {
			b.Fatal(err)
		}
		shares := map[int]DecShare{}
		for i := range s.f + 1 {
			shares[i], _ = sks[i].DecryptShare(c)
		}
		b.Run(fmt.Sprintf("N=%d,f=%d/optimistic", s.n, s.f), func(b *testing.B) {
			for b.Loop() {
				if _, _, err := pk.Decrypt(c, shares); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("N=%d,f=%d/verify-each", s.n, s.f), func(b *testing.B) {
			for b.Loop() {
				for i, ds := range shares {
					if !pk.VerifyDecShare(i, c, ds) {
						b.Fatal("rejected")
					}
				}
				if _, _, err := pk.Decrypt(c, shares); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkUnmarshalPublicKeySet(b *testing.B) {
	for _, s := range benchShapes {
		pk, _ := mustDeal(b, s.n, s.f+1, 1)
		enc := mustMarshal(b, pk)
		b.Run(fmt.Sprintf("N=%d", s.n), func(b *testing.B) {
			for b.Loop() {
				var got PublicKeySet
				if err := got.UnmarshalBinary(enc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEd25519Verify is the reference point the targets are
// stated against.
func BenchmarkEd25519Verify(b *testing.B) {
	pub, priv, err := ed25519.GenerateKey(seeded(1))
	if err != nil {
		b.Fatal(err)
	}
	msg := benchPayload(250)
	sig := ed25519.Sign(priv, msg)
	for b.Loop() {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("rejected")
		}
	}
}

// BenchmarkVerifyCiphertexts compares checking the N ciphertexts of an
// epoch one by one with checking them in one batch.
func BenchmarkVerifyCiphertexts(b *testing.B) {
	pk, _ := mustDeal(b, 4, 2, 1)
	for _, n := range []int{4, 16} {
		var encs [][]byte
		for range n {
			c, err := pk.Encrypt(nil, benchPayload(1<<10))
			if err != nil {
				b.Fatal(err)
			}
			encs = append(encs, mustMarshal(b, c))
		}
		decode := func() []*Ciphertext {
			cs := make([]*Ciphertext, n)
			for i := range cs {
				cs[i] = new(Ciphertext)
				if err := cs[i].UnmarshalBinary(encs[i]); err != nil {
					b.Fatal(err)
				}
			}
			return cs
		}
		b.Run(fmt.Sprintf("n=%d/one-by-one", n), func(b *testing.B) {
			for b.Loop() {
				for _, c := range decode() {
					if !pk.VerifyCiphertext(c) {
						b.Fatal("rejected")
					}
				}
			}
		})
		b.Run(fmt.Sprintf("n=%d/batch", n), func(b *testing.B) {
			for b.Loop() {
				for _, ok := range pk.VerifyCiphertexts(decode()) {
					if !ok {
						b.Fatal("rejected")
					}
				}
			}
		})
	}
}
