package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/constellation-chain/constellation/framework/ledger"
	"github.com/constellation-chain/constellation/interfaces"
)

// Snapshot dumps the stored state in one read transaction: head, balances
// and chain heads sorted by star, and the transaction index sorted by id
// (bbolt keeps keys in byte order). It reads the whole state; it is meant
// for verification and tests.
func (s *Store) Snapshot() (*ledger.Snapshot, error) {
	snap := &ledger.Snapshot{}
	err := s.view(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		if m.Get(keyGenesisHash) == nil {
			return ErrNotInitialized
		}
		h, err := readU64(m.Get(keyHeadHeight))
		if err != nil {
			return fmt.Errorf("head height: %w", err)
		}
		snap.Height = h
		if err := readHash(m.Get(keyHeadHash), &snap.Hash); err != nil {
			return fmt.Errorf("head hash: %w", err)
		}
		if err := readHash(m.Get(keyHeadRoot), &snap.StateRoot); err != nil {
			return fmt.Errorf("head state root: %w", err)
		}
		err = tx.Bucket(bucketBalances).ForEach(func(k, v []byte) error {
			var b ledger.Balance
			if len(k) != len(b.Star) {
				return fmt.Errorf("balance key has %d bytes", len(k))
			}
			copy(b.Star[:], k)
			amount, err := readU64(v)
			if err != nil {
				return fmt.Errorf("balance of %s: %w", b.Star.Short(), err)
			}
			b.Amount = amount
			snap.Balances = append(snap.Balances, b)
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketHeads).ForEach(func(k, v []byte) error {
			var star interfaces.StarID
			if len(k) != len(star) {
				return fmt.Errorf("chain head key has %d bytes", len(k))
			}
			copy(star[:], k)
			h, err := decodeHead(star, v)
			if err != nil {
				return fmt.Errorf("chain head of %s: %w", star.Short(), err)
			}
			snap.Heads = append(snap.Heads, h)
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Bucket(bucketTxs).ForEach(func(k, v []byte) error {
			var loc ledger.TxLocation
			if len(k) != len(loc.ID) {
				return fmt.Errorf("transaction index key has %d bytes", len(k))
			}
			copy(loc.ID[:], k)
			h, err := readU64(v)
			if err != nil {
				return fmt.Errorf("height of transaction %s: %w", loc.ID.Short(), err)
			}
			loc.Height = h
			snap.Txs = append(snap.Txs, loc)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("snapshot store %s: %w", s.dir, err)
	}
	if snap.Balances == nil {
		snap.Balances = []ledger.Balance{}
	}
	if snap.Heads == nil {
		snap.Heads = []ledger.Head{}
	}
	if snap.Txs == nil {
		snap.Txs = []ledger.TxLocation{}
	}
	return snap, nil
}

// Verify re-checks the whole store: every block 1..head decodes and commits
// to its body, re-validates on the state before it and rebuilds to exactly
// its stored header (ledger.VerifyBlock from genesis), the head hash is the
// last block's hash, the block-hash index maps exactly the stored blocks,
// and the stored balances, chain heads and transaction index equal the
// replayed state. It reads the whole chain and holds the state in memory;
// run it at start-up after an unclean shutdown or from an operator command,
// not on a hot path.
func (s *Store) Verify() error { return s.VerifyWith(nil) }

// VerifyWith is Verify for a chain of a hierarchical network, whose blocks
// re-validate under its rules.
func (s *Store) VerifyWith(rules *ledger.Rules) error {
	g, err := s.Genesis()
	if err != nil {
		return s.verifyFailed(err)
	}
	st, err := ledger.NewMemState(g)
	if err != nil {
		return s.verifyFailed(fmt.Errorf("genesis: %w", err))
	}
	want, err := s.Snapshot()
	if err != nil {
		return s.verifyFailed(err)
	}
	var hashes []interfaces.Hash
	err = s.Blocks(1, want.Height, func(b *interfaces.Block) error {
		hashes = append(hashes, b.Hash())
		if err := ledger.ReplayBlockWith(st, b, rules); err != nil {
			return err
		}
		if rules != nil && rules.Replayed != nil {
			return rules.Replayed(b)
		}
		return nil
	})
	if err != nil {
		return s.verifyFailed(err)
	}
	err = s.view(func(tx *bolt.Tx) error {
		if n := tx.Bucket(bucketBlocks).Stats().KeyN; uint64(n) != want.Height {
			return fmt.Errorf("%d blocks stored, head is %d", n, want.Height)
		}
		hi := tx.Bucket(bucketHashes)
		if n := hi.Stats().KeyN; uint64(n) != want.Height {
			return fmt.Errorf("block hash index has %d entries, head is %d", n, want.Height)
		}
		for i, h := range hashes {
			got, err := readU64(hi.Get(h[:]))
			if err != nil || got != uint64(i+1) {
				return fmt.Errorf("block %d: hash index gives height %d (%v)", i+1, got, err)
			}
		}
		return nil
	})
	if err != nil {
		return s.verifyFailed(err)
	}
	if d := want.Diff(st.Snapshot()); d != "" {
		return s.verifyFailed(fmt.Errorf("stored state differs from the replay of its blocks: %s", d))
	}
	return nil
}

// verifyFailed is the error Verify returns for err: it names the file and
// says what to do, once.
func (s *Store) verifyFailed(err error) error {
	path := filepath.Join(s.dir, FileName)
	switch msg := err.Error(); {
	case errors.Is(err, ErrNotInitialized):
		return fmt.Errorf("verify store %s: %w", path, err)
	case strings.Contains(msg, DamagedHint) && strings.Contains(msg, path):
		return fmt.Errorf("verify store: %w", err)
	case strings.Contains(msg, DamagedHint):
		return fmt.Errorf("verify store %s: %w", path, err)
	}
	return fmt.Errorf("verify store %s: %w: the file is damaged; %s", path, err, DamagedHint)
}

func readHash(v []byte, out *interfaces.Hash) error {
	if len(v) != len(out) {
		return fmt.Errorf("stored value has %d bytes, want %d", len(v), len(out))
	}
	copy(out[:], v)
	return nil
}
