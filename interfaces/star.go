package interfaces

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"strings"
)

// StarID identifies a star: its ed25519 public key. Contracts are stars too.
type StarID [ed25519.PublicKeySize]byte

// ClusterID numbers a Star Cluster. Cluster 0 always exists.
type ClusterID uint32

// StarIDFromPublicKey converts an ed25519 public key.
func StarIDFromPublicKey(pk ed25519.PublicKey) (StarID, error) {
	var s StarID
	if len(pk) != ed25519.PublicKeySize {
		return s, fmt.Errorf("public key has %d bytes, want %d", len(pk), ed25519.PublicKeySize)
	}
	copy(s[:], pk)
	return s, nil
}

// PublicKey returns the star's ed25519 public key.
func (s StarID) PublicKey() ed25519.PublicKey { return ed25519.PublicKey(s[:]) }

// IsZero reports whether s is unset.
func (s StarID) IsZero() bool { return s == StarID{} }

// String returns the canonical text form "ed25519:<hex>".
func (s StarID) String() string { return "ed25519:" + hex.EncodeToString(s[:]) }

// Short returns a short prefix for logs.
func (s StarID) Short() string { return hex.EncodeToString(s[:4]) }

// Less orders stars by their bytes; every sorted list of stars uses it.
func (s StarID) Less(o StarID) bool { return string(s[:]) < string(o[:]) }

// CompareStars orders stars like Less, for slices.SortFunc and
// slices.BinarySearchFunc.
func CompareStars(a, b StarID) int { return bytes.Compare(a[:], b[:]) }

// ParseStarID parses "ed25519:<64 hex digits>" (the prefix is optional).
func ParseStarID(text string) (StarID, error) {
	var s StarID
	h := strings.TrimPrefix(text, "ed25519:")
	b, err := hex.DecodeString(h)
	if err != nil {
		return s, fmt.Errorf("star id %q is not hex: %w", text, err)
	}
	if len(b) != len(s) {
		return s, fmt.Errorf("star id %q has %d bytes, want %d", text, len(b), len(s))
	}
	copy(s[:], b)
	return s, nil
}

// DevKey derives a deterministic ed25519 key from a name. It exists for
// development networks and tests only (like geth --dev): anyone who knows the
// name knows the private key.
func DevKey(name string) ed25519.PrivateKey {
	seed := DomainSum("constellation/dev-key/v1", []byte(name))
	return ed25519.NewKeyFromSeed(seed[:])
}

// DevStar returns the StarID of DevKey(name).
func DevStar(name string) StarID {
	id, _ := StarIDFromPublicKey(DevKey(name).Public().(ed25519.PublicKey))
	return id
}
