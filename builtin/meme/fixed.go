package meme

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strings"

	"github.com/constellation-chain/constellation/interfaces"
)

// Fixed-point arithmetic. All fractional quantities in this package are
// uint64 values in units of q = interfaces.ScoreOne (1e9): 1.0 is 1e9. The
// helpers saturate instead of wrapping, so a hostile input can push a value
// to its ceiling but never make it wrap to a small one.

const q uint64 = uint64(interfaces.ScoreOne)

// mulQ returns a*b/q rounded down, saturating at MaxUint64.
func mulQ(a, b uint64) uint64 { return mulDiv(a, b, q) }

// mulDiv returns a*b/d rounded down, saturating at MaxUint64. d must be > 0.
func mulDiv(a, b, d uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi >= d {
		return math.MaxUint64
	}
	quo, _ := bits.Div64(hi, lo, d)
	return quo
}

// mulDivUp returns a*b/d rounded up, saturating at MaxUint64. d must be > 0.
func mulDivUp(a, b, d uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi >= d {
		return math.MaxUint64
	}
	quo, rem := bits.Div64(hi, lo, d)
	if rem != 0 {
		return addSat(quo, 1)
	}
	return quo
}

// addSat returns a+b saturating at MaxUint64.
func addSat(a, b uint64) uint64 {
	s, c := bits.Add64(a, b, 0)
	if c != 0 {
		return math.MaxUint64
	}
	return s
}

// subFloor returns a-b, or 0 if b > a.
func subFloor(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}

// minU returns the smaller of a and b.
func minU(a, b uint64) uint64 {
	if a < b {
		return a
	}
	return b
}

// saturate maps x >= 0 to q*x/(x+half) in [0, q): the diminishing-returns
// curve used for every count-like feature. The first `half` units earn half
// of the feature's weight, the next `half` only a sixth more, and so on.
// half is a count in the same unit as x and must be > 0.
func saturate(x, half uint64) uint64 {
	if x == 0 {
		return 0
	}
	den := addSat(x, half)
	return mulDiv(q, x, den)
}

// ratioQ returns q*num/den clamped to [0, q]; 0 when den is 0.
func ratioQ(num, den uint64) uint64 {
	if den == 0 {
		return 0
	}
	if num >= den {
		return q
	}
	return mulDiv(q, num, den)
}

// parseFixed parses a non-negative decimal (as JSON writes it: "0.98",
// "12", "1e-3" is refused) into units of q exactly. More than nine
// fractional digits is an error rather than a silent rounding, so the value
// a manifest states is the value every node uses.
func parseFixed(s string) (uint64, error) {
	if s == "" {
		return 0, errors.New("empty number")
	}
	if strings.ContainsAny(s, "eE+-") {
		return 0, fmt.Errorf("number %q: write a plain non-negative decimal (no sign or exponent)", s)
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" || (hasDot && frac == "") {
		return 0, fmt.Errorf("number %q is not a decimal", s)
	}
	if len(frac) > 9 {
		return 0, fmt.Errorf("number %q has more than 9 fractional digits", s)
	}
	var whole uint64
	for _, c := range intPart {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("number %q is not a decimal", s)
		}
		if whole > (math.MaxUint64/q-9)/10 {
			return 0, fmt.Errorf("number %q is too large", s)
		}
		whole = whole*10 + uint64(c-'0')
	}
	var f uint64
	for i := 0; i < 9; i++ {
		f *= 10
		if i < len(frac) {
			c := frac[i]
			if c < '0' || c > '9' {
				return 0, fmt.Errorf("number %q is not a decimal", s)
			}
			f += uint64(c - '0')
		}
	}
	return whole*q + f, nil
}

// formatFixed writes a q-unit value as a decimal with trailing zeros
// trimmed, the inverse of parseFixed.
func formatFixed(v uint64) string {
	whole, frac := v/q, v%q
	if frac == 0 {
		return fmt.Sprintf("%d", whole)
	}
	return strings.TrimRight(fmt.Sprintf("%d.%09d", whole, frac), "0")
}

// powQ returns base^n for a fraction base ≤ q, by square-and-multiply with
// every product rounded down, so the result is the same on every machine
// and never exceeds the exact power.
func powQ(base, n uint64) uint64 {
	out := q
	for ; n > 0 && out > 0; n >>= 1 {
		if n&1 == 1 {
			out = mulQ(out, base)
		}
		base = mulQ(base, base)
	}
	return out
}
