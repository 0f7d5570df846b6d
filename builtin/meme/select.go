package meme

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"

	"github.com/constellation-chain/constellation/interfaces"
)

// ErrTooFewCandidates is returned (wrapped) by Select when fewer distinct
// candidates than seats are given.
var ErrTooFewCandidates = errors.New("fewer distinct candidates than seats")

// drbg is a deterministic random bit generator: sha256 in counter mode,
// block i = DomainSum("constellation/meme/select/v1", seed, i as 8 bytes
// big-endian). It reads no global state, so a selection is replayable by
// anyone from the seed.
type drbg struct {
	seed    interfaces.Hash
	counter uint64
	buf     [interfaces.HashSize]byte
	off     int
}

func newDRBG(seed interfaces.Hash) *drbg { return &drbg{seed: seed, off: interfaces.HashSize} }

func (d *drbg) uint64() uint64 {
	if d.off+8 > len(d.buf) {
		var c [8]byte
		binary.BigEndian.PutUint64(c[:], d.counter)
		d.counter++
		d.buf = interfaces.DomainSum("constellation/meme/select/v1", d.seed[:], c[:])
		d.off = 0
	}
	v := binary.BigEndian.Uint64(d.buf[d.off:])
	d.off += 8
	return v
}

// below returns a uniform value in [0, n), n > 0, by rejection sampling
// (no modulo bias). The loop is bounded; reaching the bound (probability
// below 2^-1000) falls back to a modulo, which stays deterministic.
func (d *drbg) below(n uint64) uint64 {
	if n&(n-1) == 0 {
		return d.uint64() & (n - 1)
	}
	limit := ^uint64(0) - (^uint64(0)%n+1)%n // largest accepted value
	var v uint64
	for i := 0; i < 1000; i++ {
		if v = d.uint64(); v <= limit {
			break
		}
	}
	return v % n
}

// pool is one selection bucket: its members in StarID order and its
// per-seat probability weight.
type pool struct {
	prob    uint64
	members []interfaces.StarID
}

// take removes and returns one member, uniformly.
func (p *pool) take(d *drbg) interfaces.StarID {
	i := int(d.below(uint64(len(p.members))))
	s := p.members[i]
	p.members = append(p.members[:i], p.members[i+1:]...)
	return s
}

// Select draws k distinct delegates from candidates, seeded by seed (the
// hash of the galaxy's threshold signature on the previous black hole, a
// value no proposer can grind). The procedure, replayable by anyone:
//
//  1. Deduplicate candidates and sort them by StarID; fail if fewer than k.
//  2. Split them into newcomers (never a member), unreliable stars (see
//     unreliable) and score buckets by Config.BucketBounds. A newcomer is
//     eligible when the admission flow (flow.go) met its whole claim of
//     NewcomerMinCredit·FlowSaturation: trusted stars paid it recently,
//     through capacity no recently admitted star still holds.
//  3. Reserve ceil(k·NewcomerQuota) seats (at most the number of eligible
//     newcomers) and fill them from the eligible newcomers, uniformly.
//     Identities nobody trusted paid cannot enter through the quota however
//     many there are, and a Sybil region's few attack edges vouch for one
//     identity at a time per AdmissionWindow.
//  4. Fill each remaining seat by first drawing a bucket with the weight
//     seatMasses gives it — its BucketProbs entry among the non-empty
//     buckets, capped so that no member's chance of the seat exceeds
//     Config.SeatCap/M, M the members left in buckets of positive
//     probability — then a member of it uniformly. If every bucket with a positive
//     probability is exhausted, seats go to the remaining zero-probability
//     buckets from the highest down, then to the remaining eligible
//     newcomers, the other newcomers (which is how a network with no
//     history bootstraps) and last the unreliable stars, uniformly.
//  5. Sort the result by StarID.
//
// All draws come from one sha256 counter-mode stream over the seed, so the
// same state, candidates, k and seed give the same delegates everywhere.
func (r *Reputation) Select(candidates []interfaces.StarID, k int, seed interfaces.Hash) ([]interfaces.StarID, error) {
	if k < 0 {
		return nil, fmt.Errorf("select delegates: negative seat count %d", k)
	}
	cands := sortedUnique(candidates)
	if len(cands) < k {
		return nil, fmt.Errorf("select %d delegates from %d distinct candidates: %w", k, len(cands), ErrTooFewCandidates)
	}
	if k == 0 {
		return []interfaces.StarID{}, nil
	}
	buckets := make([]*pool, len(r.cfg.BucketProbs))
	for i := range buckets {
		buckets[i] = &pool{prob: r.cfg.BucketProbs[i]}
	}
	eligible, others, unreliable := &pool{}, &pool{}, &pool{}
	for _, s := range cands {
		m := r.stars[s]
		var p *pool
		switch b := r.bucketOf(m); {
		case b == NewcomerBucket && r.eligible(m):
			p = eligible
		case b == NewcomerBucket:
			p = others
		case b == UnreliableBucket:
			p = unreliable
		default:
			p = buckets[b]
		}
		p.members = append(p.members, s)
	}

	d := newDRBG(seed)
	out := make([]interfaces.StarID, 0, k)
	// Rounded up: the quota is never zero when configured positive.
	quota := min(int(mulDivUp(uint64(k), r.cfg.NewcomerQuota, q)), len(eligible.members))
	for range quota {
		out = append(out, eligible.take(d))
	}
	masses := make([]uint64, len(buckets))
	for len(out) < k {
		var chosen *pool
		if total := seatMasses(buckets, r.cfg.SeatCap, masses); total > 0 {
			x := d.below(total)
			for i, b := range buckets {
				if masses[i] == 0 {
					continue
				}
				if x < masses[i] {
					chosen = b
					break
				}
				x -= masses[i]
			}
		} else {
			for i := len(buckets) - 1; i >= 0 && chosen == nil; i-- {
				if len(buckets[i].members) > 0 {
					chosen = buckets[i]
				}
			}
			for _, p := range []*pool{eligible, others, unreliable} {
				if chosen == nil && len(p.members) > 0 {
					chosen = p // one is non-empty: len(cands) >= k
				}
			}
		}
		out = append(out, chosen.take(d))
	}
	slices.SortFunc(out, interfaces.CompareStars)
	return out, nil
}

// eligible reports whether a newcomer may take a quota seat.
func (r *Reputation) eligible(m *meme) bool {
	return m != nil && m.credit == q
}

// seatMasses writes into masses each bucket's integer weight for the next
// seat and returns their sum (0 when no bucket of positive probability has
// members left). A member of bucket b then gets the seat with probability
// masses[b] / (len(b.members) · total).
//
// Uncapped (seatCap 0), a non-empty bucket's mass is its probability
// weight, as before the cap existed. Capped, the total is M·q for the M
// members left in buckets of positive probability, and the masses solve
// the water-filling problem
//
//	mass_b = min(λ·prob_b, seatCap·n_b),   Σ mass_b = M·q,
//
// so no member's chance exceeds seatCap/M: buckets whose proportional
// share would give their members more are held at the cap, and the rest
// is shared in proportion to prob among the others. A bucket exceeding the
// cap at the current λ exceeds it at the final one too (capping only
// raises λ), so each pass caps every violator at once; at most one pass
// per bucket. Comparisons are exact in 128 bits; the uncapped buckets'
// shares are rounded down, so the total may fall short of M·q by fewer
// units than there are buckets (a relative 1e-16 at most). seatCap = q
// gives every member exactly q: the uniform draw among them.
func seatMasses(buckets []*pool, seatCap uint64, masses []uint64) uint64 {
	var m uint64
	for i, b := range buckets {
		masses[i] = 0
		if b.prob > 0 {
			m += uint64(len(b.members))
		}
	}
	if m == 0 {
		return 0
	}
	var total uint64
	if seatCap == 0 {
		for i, b := range buckets {
			if b.prob > 0 && len(b.members) > 0 {
				masses[i] = b.prob
				total += b.prob
			}
		}
		return total
	}
	live := func(b *pool) bool { return b.prob > 0 && len(b.members) > 0 }
	capOf := func(b *pool) uint64 { return seatCap * uint64(len(b.members)) }
	capped := make([]bool, len(buckets))
	var rest, psum uint64
	for {
		rest, psum = m*q, 0
		for i, b := range buckets {
			switch {
			case !live(b):
			case capped[i]:
				rest -= capOf(b)
			default:
				psum += b.prob
			}
		}
		changed := false
		for i, b := range buckets {
			if !live(b) || capped[i] {
				continue
			}
			// rest·prob/psum > cap  ⇔  rest·prob > cap·psum
			if greater128(rest, b.prob, capOf(b), psum) {
				capped[i], changed = true, true
			}
		}
		if !changed {
			break
		}
	}
	for i, b := range buckets {
		switch {
		case !live(b):
		case capped[i]:
			masses[i] = capOf(b)
		default:
			hi, lo := bits.Mul64(rest, b.prob)
			masses[i], _ = bits.Div64(hi, lo, psum) // ≤ cap < 2^64: no overflow
		}
		total += masses[i]
	}
	return total
}

// greater128 reports whether a·b > c·d, exactly.
func greater128(a, b, c, d uint64) bool {
	h1, l1 := bits.Mul64(a, b)
	h2, l2 := bits.Mul64(c, d)
	return h1 > h2 || (h1 == h2 && l1 > l2)
}
