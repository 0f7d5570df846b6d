package repsim

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/constellation-chain/constellation/interfaces"
)

// selector is a delegate-selection method as the simulation drives it.
type selector interface {
	Select(cands []interfaces.StarID, k int, seed interfaces.Hash) ([]interfaces.StarID, error)
	Observe(o interfaces.Observation) error
}

// drbg is a sha256 counter-mode stream over a seed, used by the baselines.
type drbg struct {
	seed    interfaces.Hash
	counter uint64
	buf     interfaces.Hash
	off     int
}

func newDRBG(seed interfaces.Hash) *drbg { return &drbg{seed: seed, off: interfaces.HashSize} }

func (d *drbg) uint64() uint64 {
	if d.off+8 > len(d.buf) {
		d.buf = interfaces.DomainSum("constellation/repsim/baseline", d.seed[:], u64(d.counter))
		d.counter++
		d.off = 0
	}
	v := binary.BigEndian.Uint64(d.buf[d.off:])
	d.off += 8
	return v
}

// below returns a uniform value in [0, n), n > 0, by bounded rejection.
func (d *drbg) below(n uint64) uint64 {
	limit := ^uint64(0) - (^uint64(0)%n+1)%n
	v := d.uint64()
	for i := 0; i < 64 && v > limit; i++ {
		v = d.uint64()
	}
	return v % n
}

// uniformSelector draws k distinct candidates uniformly (partial
// Fisher–Yates over the candidate list in the order given).
type uniformSelector struct{}

func (uniformSelector) Observe(interfaces.Observation) error { return nil }

func (uniformSelector) Select(cands []interfaces.StarID, k int, seed interfaces.Hash) ([]interfaces.StarID, error) {
	if len(cands) < k {
		return nil, fmt.Errorf("uniform selection: %d candidates for %d seats", len(cands), k)
	}
	c := slices.Clone(cands)
	d := newDRBG(seed)
	for i := range k {
		j := i + int(d.below(uint64(len(c)-i)))
		c[i], c[j] = c[j], c[i]
	}
	out := c[:k]
	slices.SortFunc(out, cmpStar)
	return out, nil
}

// stakeSelector draws k distinct candidates, each seat with probability
// proportional to stake among the candidates not yet drawn (sequential
// weighted sampling without replacement).
type stakeSelector struct {
	stake func(interfaces.StarID) uint64
}

func (stakeSelector) Observe(interfaces.Observation) error { return nil }

func (s stakeSelector) Select(cands []interfaces.StarID, k int, seed interfaces.Hash) ([]interfaces.StarID, error) {
	if len(cands) < k {
		return nil, fmt.Errorf("stake-weighted selection: %d candidates for %d seats", len(cands), k)
	}
	c := slices.Clone(cands)
	w := make([]uint64, len(c))
	var total uint64
	for i, id := range c {
		w[i] = max(s.stake(id), 1)
		total += w[i]
	}
	d := newDRBG(seed)
	out := make([]interfaces.StarID, 0, k)
	for range k {
		x := d.below(total)
		i := 0
		for ; i < len(c)-1 && x >= w[i]; i++ {
			x -= w[i]
		}
		out = append(out, c[i])
		total -= w[i]
		last := len(c) - 1
		c[i], w[i] = c[last], w[last]
		c, w = c[:last], w[:last]
	}
	slices.SortFunc(out, cmpStar)
	return out, nil
}

func cmpStar(a, b interfaces.StarID) int {
	switch {
	case a.Less(b):
		return -1
	case b.Less(a):
		return 1
	}
	return 0
}
