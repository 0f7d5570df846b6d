// Package ledgertest provides a development world for tests and benchmarks
// of the ledger and the packages above it: deterministic dev keys
// (interfaces.DevKey, never for real networks), a genesis funding them, and
// helpers that sign valid transactions against the current state.
package ledgertest

import (
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"

	"github.com/constellation-chain/constellation/framework/ledger"
	"github.com/constellation-chain/constellation/interfaces"
)

// World is a set of dev stars funded at genesis.
type World struct {
	Keys    []ed25519.PrivateKey
	Stars   []interfaces.StarID
	Genesis ledger.Genesis
}

// NewWorld derives n dev keys named "<name>-<i>" and a genesis (seed name)
// giving each star the amount each.
func NewWorld(name string, n int, each uint64) *World {
	w := &World{Genesis: ledger.Genesis{Seed: name, Timestamp: 1_700_000_000_000}}
	for i := 0; i < n; i++ {
		k := interfaces.DevKey(fmt.Sprintf("%s-%d", name, i))
		s, _ := interfaces.StarIDFromPublicKey(k.Public().(ed25519.PublicKey))
		w.Keys = append(w.Keys, k)
		w.Stars = append(w.Stars, s)
		w.Genesis.Allocations = append(w.Genesis.Allocations, ledger.Allocation{Star: s, Amount: each})
	}
	return w
}

// Transfer signs a transfer of amount from star from to star to, as the next
// transaction of from's chain in v.
func (w *World) Transfer(v ledger.View, from, to int, amount uint64) (*interfaces.Transaction, error) {
	seq, last, err := v.ChainHead(w.Stars[from])
	if err != nil {
		return nil, err
	}
	return interfaces.NewTransfer(w.Keys[from], seq+1, last, w.Stars[to], amount)
}

// Data signs a TxData with payload as the next transaction of from's chain.
func (w *World) Data(v ledger.View, from int, payload []byte) (*interfaces.Transaction, error) {
	seq, last, err := v.ChainHead(w.Stars[from])
	if err != nil {
		return nil, err
	}
	tx := &interfaces.Transaction{Sender: w.Stars[from], Seq: seq + 1, Prev: last, Kind: interfaces.TxData, Payload: payload}
	if err := tx.Sign(w.Keys[from]); err != nil {
		return nil, err
	}
	return tx, nil
}

// FillBlock applies n random valid transfers to b, each between two
// distinct stars with an amount the sender can cover; stars with no balance
// left are skipped, so fewer than n may be applied. It returns how many were
// applied, or the first Apply error (which indicates a bug).
func (w *World) FillBlock(b *ledger.Builder, rng *rand.Rand, n int) (int, error) {
	applied := 0
	for i := 0; i < n; i++ {
		from := rng.IntN(len(w.Stars))
		to := rng.IntN(len(w.Stars) - 1)
		if to >= from {
			to++
		}
		bal, err := b.Balance(w.Stars[from])
		if err != nil {
			return applied, err
		}
		if bal == 0 {
			continue
		}
		amount := 1 + rng.Uint64N(min(bal, 1000))
		tx, err := w.Transfer(b, from, to, amount)
		if err != nil {
			return applied, err
		}
		if err := b.Apply(tx); err != nil {
			return applied, err
		}
		applied++
	}
	return applied, nil
}
