package scalesim

import (
	"crypto/ed25519"
	"encoding/binary"
	"testing"

	sha256 "github.com/minio/sha256-simd"

	"github.com/constellation-chain/constellation/interfaces"
)

// The CPU prices tcrypto's benchmarks do not measure. Run with:
//
//	go test -run XXX -bench . -benchtime 2000x ./conformance/scalesim

// BenchmarkEd25519Sign prices signing one consensus message.
func BenchmarkEd25519Sign(b *testing.B) {
	seed := interfaces.DomainSum("constellation/scalesim/bench/key")
	key := ed25519.NewKeyFromSeed(seed[:])
	msg := interfaces.DomainSum("constellation/scalesim/bench/msg")
	for b.Loop() {
		ed25519.Sign(key, msg[:])
	}
}

// BenchmarkTxApply prices the ledger's work on one transfer besides its
// signature: hashing its 250 bytes and updating two balances.
func BenchmarkTxApply(b *testing.B) {
	tx := make([]byte, 250)
	balances := make(map[interfaces.Hash]uint64, 1<<16)
	var i uint64
	for b.Loop() {
		binary.BigEndian.PutUint64(tx, i)
		h := sha256.Sum256(tx)
		var to interfaces.Hash
		copy(to[:], tx[8:40])
		balances[h] -= 1
		balances[to] += 1
		i++
		if len(balances) > 1<<16 {
			clear(balances)
		}
	}
}
