package ledger

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/constellation-chain/constellation/interfaces"
)

// MaxSeedLen bounds the network seed string.
const MaxSeedLen = 4096

// MaxAllocations bounds the number of genesis allocations.
const MaxAllocations = 1 << 20

// Allocation gives Amount noOs to Star at genesis.
type Allocation struct {
	Star   interfaces.StarID
	Amount uint64
}

// Genesis is the state at height 0, as the manifest's genesis block states
// it. Block 1 names interfaces.GenesisHash(Seed) as its Prev. Timestamp is
// the network's start in unix milliseconds; it is committed to by the
// genesis state root so that two networks differing only in start time are
// told apart.
type Genesis struct {
	Seed        string
	Timestamp   int64
	Allocations []Allocation
}

// Hash returns interfaces.GenesisHash(g.Seed), the Prev of block 1.
func (g Genesis) Hash() interfaces.Hash { return interfaces.GenesisHash(g.Seed) }

// Supply returns the total noOs allocated. It assumes g passed Validate
// (which rules out overflow).
func (g Genesis) Supply() uint64 {
	var s uint64
	for _, a := range g.Allocations {
		s += a.Amount
	}
	return s
}

// Validate checks that the seed is non-empty and bounded, that no star is
// zero or allocated twice (duplicates are rejected rather than summed, so a
// typo in a manifest cannot silently double an allocation), that no
// allocation is zero, and that the total supply fits in a uint64.
func (g Genesis) Validate() error {
	if g.Seed == "" {
		return errors.New("genesis: seed is empty")
	}
	if len(g.Seed) > MaxSeedLen {
		return fmt.Errorf("genesis: seed has %d bytes, limit %d", len(g.Seed), MaxSeedLen)
	}
	if len(g.Allocations) > MaxAllocations {
		return fmt.Errorf("genesis: %d allocations, limit %d", len(g.Allocations), MaxAllocations)
	}
	seen := make(map[interfaces.StarID]int, len(g.Allocations))
	var total uint64
	for i, a := range g.Allocations {
		if a.Star.IsZero() {
			return fmt.Errorf("genesis: allocation %d names the zero star", i)
		}
		if a.Amount == 0 {
			return fmt.Errorf("genesis: allocation %d to %s is zero", i, a.Star)
		}
		if j, dup := seen[a.Star]; dup {
			return fmt.Errorf("genesis: star %s is allocated twice (allocations %d and %d); merge them into one", a.Star, j, i)
		}
		seen[a.Star] = i
		if a.Amount > math.MaxUint64-total {
			return fmt.Errorf("genesis: total supply overflows 64 bits at allocation %d", i)
		}
		total += a.Amount
	}
	return nil
}

// GenesisChanges validates g and returns the state it creates (height 0,
// balances sorted by star, no heads, no transactions) and the genesis state
// root: DomainSum("constellation/genesis-state/v1", GenesisHash(seed),
// timestamp, changes). Block 1's StateRoot chains from it.
func GenesisChanges(g Genesis) (*Changes, interfaces.Hash, error) {
	if err := g.Validate(); err != nil {
		return nil, interfaces.ZeroHash, err
	}
	ch := &Changes{Height: 0, Balances: make([]Balance, 0, len(g.Allocations))}
	for _, a := range g.Allocations {
		ch.Balances = append(ch.Balances, Balance{Star: a.Star, Amount: a.Amount})
	}
	slices.SortFunc(ch.Balances, func(a, b Balance) int { return compareStars(a.Star, b.Star) })
	gh := g.Hash()
	e := interfaces.NewEncoder(8)
	e.I64(g.Timestamp)
	root := interfaces.DomainSum("constellation/genesis-state/v1", gh[:], e.Bytes(), ch.Encode())
	return ch, root, nil
}

// genesisVersion is the version byte of the Genesis encoding.
const genesisVersion = 1

// Encode returns the canonical encoding of g (allocations in the given
// order), used by the store to remember which network a data directory
// belongs to.
func (g Genesis) Encode() []byte {
	e := interfaces.NewEncoder(16 + len(g.Seed) + 40*len(g.Allocations))
	e.U8(genesisVersion)
	e.String(g.Seed)
	e.I64(g.Timestamp)
	e.Uvarint(uint64(len(g.Allocations)))
	for _, a := range g.Allocations {
		e.Fixed(a.Star[:])
		e.U64(a.Amount)
	}
	return e.Bytes()
}

// DecodeGenesis decodes an encoding made by Genesis.Encode. It checks the
// encoding only; call Validate for the semantic rules.
func DecodeGenesis(raw []byte) (Genesis, error) {
	var g Genesis
	d := interfaces.NewDecoder(raw)
	if v := d.U8(); d.Err() == nil && v != genesisVersion {
		d.Fail(fmt.Errorf("genesis version %d, want %d", v, genesisVersion))
	}
	g.Seed = d.String(MaxSeedLen)
	g.Timestamp = d.I64()
	n := d.Len(MaxAllocations)
	if d.Err() == nil && n > d.Remaining()/40 {
		d.Fail(fmt.Errorf("%d allocations cannot fit in %d bytes", n, d.Remaining()))
	}
	if d.Err() == nil && n > 0 {
		g.Allocations = make([]Allocation, n)
		for i := range g.Allocations {
			d.Fixed(g.Allocations[i].Star[:])
			g.Allocations[i].Amount = d.U64()
		}
	}
	if err := d.Finish(); err != nil {
		return Genesis{}, fmt.Errorf("decode genesis: %w", err)
	}
	return g, nil
}

// compareStars orders stars by their bytes, like interfaces.StarID.Less.
func compareStars(a, b interfaces.StarID) int { return bytes.Compare(a[:], b[:]) }
