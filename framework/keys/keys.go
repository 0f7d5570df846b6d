// Package keys reads and writes a star's key file: the ed25519 key that is
// the star's identity on the network. Cluster threshold key shares are the
// consensus engine's and live in files of their own.
package keys

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/constellation-chain/constellation/interfaces"
)

// File is the JSON layout of a star key file.
type File struct {
	Type string `json:"type"` // "ed25519"
	Star string `json:"star"` // the public identity, "ed25519:<hex>"
	Seed string `json:"seed"` // the 32-byte private seed, hex
}

// Generate makes a new key from rnd (crypto/rand.Reader when nil).
func Generate(rnd io.Reader) (ed25519.PrivateKey, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	_, priv, err := ed25519.GenerateKey(rnd)
	if err != nil {
		return nil, fmt.Errorf("generate ed25519 key: %w", err)
	}
	return priv, nil
}

// Star returns the identity of key.
func Star(key ed25519.PrivateKey) interfaces.StarID {
	id, _ := interfaces.StarIDFromPublicKey(key.Public().(ed25519.PublicKey))
	return id
}

// Encode returns the key file bytes for key.
func Encode(key ed25519.PrivateKey) []byte {
	b, _ := json.MarshalIndent(File{Type: "ed25519", Star: Star(key).String(), Seed: hex.EncodeToString(key.Seed())}, "", "  ")
	return append(b, '\n')
}

// Decode parses key file bytes and checks that the seed matches the
// recorded identity.
func Decode(b []byte) (ed25519.PrivateKey, error) {
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("key file is not JSON: %w", err)
	}
	if f.Type != "ed25519" {
		return nil, fmt.Errorf("key type %q, want ed25519", f.Type)
	}
	seed, err := hex.DecodeString(f.Seed)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, errors.New("seed must be 64 hex digits")
	}
	key := ed25519.NewKeyFromSeed(seed)
	if f.Star != "" && Star(key).String() != f.Star {
		return nil, fmt.Errorf("seed belongs to %s, but the file says %s", Star(key), f.Star)
	}
	return key, nil
}

// Load reads a key file.
func Load(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	key, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return key, nil
}

// Save writes key to path with mode 0600, creating parent directories. It
// refuses to overwrite an existing file. The file appears whole or not at
// all (written aside, then linked into place), so a process that reads it
// while another creates it never sees it half written.
func Save(path string, key ed25519.PrivateKey) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create key directory: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(Encode(key)); err != nil {
		f.Close()
		return fmt.Errorf("write key file %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write key file %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write key file %s: %w", path, err)
	}
	if err := os.Link(tmp, path); err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	return nil
}

// LoadOrCreate loads path, or generates and saves a new key there when the
// file does not exist. Development networks use it so `make run` works on a
// fresh checkout.
func LoadOrCreate(path string) (ed25519.PrivateKey, bool, error) {
	key, err := Load(path)
	if err == nil {
		return key, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, err
	}
	key, err = Generate(nil)
	if err != nil {
		return nil, false, err
	}
	if err := Save(path, key); err != nil {
		if errors.Is(err, os.ErrExist) {
			// Another process made it first: that key is the node's.
			key, err := Load(path)
			return key, false, err
		}
		return nil, false, err
	}
	return key, true, nil
}
