package honeybadger

import "math/bits"

// bitset is a set of member indices below MaxMembers with a cached count.
// It is a value type (no allocation) so protocol state can embed many.
type bitset struct {
	w [MaxMembers / 64]uint64
	c int
}

// set adds i and reports whether it was absent.
func (b *bitset) set(i int) bool {
	m := uint64(1) << (uint(i) & 63)
	if b.w[i>>6]&m != 0 {
		return false
	}
	b.w[i>>6] |= m
	b.c++
	return true
}

func (b *bitset) has(i int) bool { return b.w[i>>6]&(uint64(1)<<(uint(i)&63)) != 0 }

func (b *bitset) count() int { return b.c }

// unionCount returns |a ∪ b|.
func unionCount(a, b *bitset) int {
	n := 0
	for i := range a.w {
		n += bits.OnesCount64(a.w[i] | b.w[i])
	}
	return n
}
