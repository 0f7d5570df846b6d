package interfaces

import (
	"encoding/hex"
	"fmt"

	sha256 "github.com/minio/sha256-simd"
)

// HashSize is the length in bytes of every hash in the protocol.
const HashSize = 32

// Hash is a sha256 digest. The zero Hash means "none".
type Hash [HashSize]byte

// ZeroHash is the all-zero hash, used where no hash exists yet.
var ZeroHash Hash

// Sum hashes the concatenation of parts with sha256.
func Sum(parts ...[]byte) Hash {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	var out Hash
	h.Sum(out[:0])
	return out
}

// DomainSum hashes parts under a domain-separation tag, so that the same bytes
// hashed for two different purposes never collide. The tag is length-prefixed.
func DomainSum(domain string, parts ...[]byte) Hash {
	h := sha256.New()
	var l [2]byte
	l[0], l[1] = byte(len(domain)>>8), byte(len(domain))
	h.Write(l[:])
	h.Write([]byte(domain))
	for _, p := range parts {
		h.Write(p)
	}
	var out Hash
	h.Sum(out[:0])
	return out
}

// IsZero reports whether h is the zero hash.
func (h Hash) IsZero() bool { return h == ZeroHash }

// String returns the full lowercase hex form.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// Short returns the first 8 hex digits, for logs.
func (h Hash) Short() string { return hex.EncodeToString(h[:4]) }

// ParseHash parses a 64-digit hex string.
func ParseHash(s string) (Hash, error) {
	var h Hash
	b, err := hex.DecodeString(s)
	if err != nil {
		return h, fmt.Errorf("parse hash %q: %w", s, err)
	}
	if len(b) != HashSize {
		return h, fmt.Errorf("parse hash %q: want %d bytes, got %d", s, HashSize, len(b))
	}
	copy(h[:], b)
	return h, nil
}
