package meme

import (
	"encoding/binary"
	"errors"
	"fmt"
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
//  4. Fill each remaining seat by first drawing a bucket with probability
//     proportional to its BucketProbs entry among the non-empty buckets,
//     then a member of it uniformly. If every bucket with a positive
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
	for len(out) < k {
		var total uint64
		for _, b := range buckets {
			if len(b.members) > 0 {
				total += b.prob
			}
		}
		var chosen *pool
		if total > 0 {
			x := d.below(total)
			for _, b := range buckets {
				if len(b.members) == 0 || b.prob == 0 {
					continue
				}
				if x < b.prob {
					chosen = b
					break
				}
				x -= b.prob
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
