package main

// The wallet's keystore: one star key sealed under a passphrase.
//
// A keystore file is JSON (docs/wallet.md, "The keystore file"):
//
//	{
//	  "format": "constellation-keystore",
//	  "version": 1,
//	  "star": "ed25519:<64 hex digits>",
//	  "kdf": {"name": "argon2id", "time": 3, "memory_kib": 65536, "threads": 4, "salt": "<hex>"},
//	  "cipher": {"name": "xchacha20-poly1305", "nonce": "<48 hex digits>"},
//	  "ciphertext": "<96 hex digits>"
//	}
//
// The passphrase and salt go through Argon2id (RFC 9106) to a 32-byte
// key; XChaCha20-Poly1305 seals the star's 32-byte ed25519 seed under it
// with the random nonce. The header (format, version, star, every KDF
// parameter and the cipher's name) is the AEAD's associated data, so
// changing any of it, the star included, fails authentication just as a
// wrong passphrase does; the star is also checked against the decrypted
// seed. The star is in clear so that balance and history need no
// passphrase.

import (
	"bytes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/constellation-chain/constellation/framework/keys"
	"github.com/constellation-chain/constellation/interfaces"
)

const (
	keystoreFormat  = "constellation-keystore"
	keystoreVersion = 1
	kdfArgon2id     = "argon2id"
	cipherXChaCha   = "xchacha20-poly1305"
	// maxKeystoreSize bounds a keystore file: a real one is under 600 bytes.
	maxKeystoreSize = 64 << 10
)

// KDF bounds a keystore may ask for. The upper ones keep a crafted file
// from making the decoder spend gigabytes or minutes before it can say
// the passphrase is wrong.
const (
	minSaltLen   = 16
	maxSaltLen   = 64
	maxKDFTime   = 64
	maxKDFMemory = 4 << 20 // KiB: 4 GiB
	maxThreads   = 64
)

// kdfParams are Argon2id's cost parameters.
type kdfParams struct {
	Time      uint32 // passes
	MemoryKiB uint32
	Threads   uint8
}

// defaultKDF is RFC 9106's second recommended setting (64 MiB, three
// passes, four lanes): about a tenth of a second on a laptop.
var defaultKDF = kdfParams{Time: 3, MemoryKiB: 64 << 10, Threads: 4}

// keystoreFile is the JSON layout of a keystore.
type keystoreFile struct {
	Format     string         `json:"format"`
	Version    int            `json:"version"`
	Star       string         `json:"star"`
	KDF        keystoreKDF    `json:"kdf"`
	Cipher     keystoreCipher `json:"cipher"`
	Ciphertext string         `json:"ciphertext"`
}

type keystoreKDF struct {
	Name      string `json:"name"`
	Time      uint32 `json:"time"`
	MemoryKiB uint32 `json:"memory_kib"`
	Threads   uint8  `json:"threads"`
	Salt      string `json:"salt"`
}

type keystoreCipher struct {
	Name  string `json:"name"`
	Nonce string `json:"nonce"`
}

// Keystore is a parsed keystore: everything checked that can be checked
// without the passphrase.
type Keystore struct {
	Star       interfaces.StarID
	KDF        kdfParams
	Salt       []byte
	Nonce      []byte
	Ciphertext []byte
}

// errWrongPassphrase is what Open returns when the AEAD does not
// authenticate: the passphrase is wrong or the file was altered (the two
// cannot be told apart, by design).
var errWrongPassphrase = errors.New("wrong passphrase, or the keystore was altered")

// SealKeystore encrypts key under passphrase with the given KDF cost,
// drawing the salt and nonce from rnd (crypto/rand when nil).
func SealKeystore(key ed25519.PrivateKey, passphrase []byte, p kdfParams, rnd io.Reader) (*Keystore, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	ks := &Keystore{Star: keys.Star(key), KDF: p, Salt: make([]byte, 32), Nonce: make([]byte, chacha20poly1305.NonceSizeX)}
	if _, err := io.ReadFull(rnd, ks.Salt); err != nil {
		return nil, fmt.Errorf("keystore salt: %w", err)
	}
	if _, err := io.ReadFull(rnd, ks.Nonce); err != nil {
		return nil, fmt.Errorf("keystore nonce: %w", err)
	}
	aead, err := ks.aead(passphrase)
	if err != nil {
		return nil, err
	}
	ks.Ciphertext = aead.Seal(nil, ks.Nonce, key.Seed(), ks.header())
	return ks, nil
}

// Open decrypts the key with passphrase.
func (ks *Keystore) Open(passphrase []byte) (ed25519.PrivateKey, error) {
	aead, err := ks.aead(passphrase)
	if err != nil {
		return nil, err
	}
	seed, err := aead.Open(nil, ks.Nonce, ks.Ciphertext, ks.header())
	if err != nil {
		return nil, errWrongPassphrase
	}
	defer clear(seed)
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("keystore holds %d bytes, want a %d-byte ed25519 seed", len(seed), ed25519.SeedSize)
	}
	key := ed25519.NewKeyFromSeed(seed)
	if got := keys.Star(key); got != ks.Star {
		return nil, fmt.Errorf("keystore says star %s but its key is %s", ks.Star, got)
	}
	return key, nil
}

func (ks *Keystore) aead(passphrase []byte) (cipher.AEAD, error) {
	k := argon2.IDKey(passphrase, ks.Salt, ks.KDF.Time, ks.KDF.MemoryKiB, ks.KDF.Threads, chacha20poly1305.KeySize)
	defer clear(k)
	return chacha20poly1305.NewX(k)
}

// header is the associated data: every field but the nonce and the
// ciphertext, in a fixed text form.
func (ks *Keystore) header() []byte {
	return fmt.Appendf(nil, "%s v%d\nstar %s\nkdf %s t=%d m=%d p=%d salt=%x\ncipher %s\n",
		keystoreFormat, keystoreVersion, ks.Star, kdfArgon2id, ks.KDF.Time, ks.KDF.MemoryKiB, ks.KDF.Threads, ks.Salt, cipherXChaCha)
}

func (p kdfParams) check() error {
	switch {
	case p.Time < 1 || p.Time > maxKDFTime:
		return fmt.Errorf("kdf time %d: want 1 to %d passes", p.Time, maxKDFTime)
	case p.Threads < 1 || p.Threads > maxThreads:
		return fmt.Errorf("kdf threads %d: want 1 to %d", p.Threads, maxThreads)
	case p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxKDFMemory:
		return fmt.Errorf("kdf memory_kib %d: want %d (8 KiB a thread) to %d (4 GiB)", p.MemoryKiB, 8*uint32(p.Threads), maxKDFMemory)
	}
	return nil
}

// Encode returns the keystore file's bytes.
func (ks *Keystore) Encode() []byte {
	f := keystoreFile{
		Format: keystoreFormat, Version: keystoreVersion, Star: ks.Star.String(),
		KDF:        keystoreKDF{Name: kdfArgon2id, Time: ks.KDF.Time, MemoryKiB: ks.KDF.MemoryKiB, Threads: ks.KDF.Threads, Salt: hex.EncodeToString(ks.Salt)},
		Cipher:     keystoreCipher{Name: cipherXChaCha, Nonce: hex.EncodeToString(ks.Nonce)},
		Ciphertext: hex.EncodeToString(ks.Ciphertext),
	}
	b, _ := json.MarshalIndent(f, "", "  ")
	return append(b, '\n')
}

// DecodeKeystore parses and checks a keystore file without decrypting
// it. Every failure is an error saying what is wrong; no input panics.
func DecodeKeystore(b []byte) (*Keystore, error) {
	if len(b) > maxKeystoreSize {
		return nil, fmt.Errorf("%d bytes: a keystore is at most %d", len(b), maxKeystoreSize)
	}
	// The version first, so that a newer file says so rather than
	// failing on fields this version does not know.
	var head struct {
		Format  string          `json:"format"`
		Version json.RawMessage `json:"version"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, fmt.Errorf("not a keystore (want a JSON object: %v)", err)
	}
	if head.Format != keystoreFormat {
		return nil, fmt.Errorf("not a keystore: format %q, want %q", head.Format, keystoreFormat)
	}
	var version int
	if len(head.Version) == 0 {
		return nil, errors.New("keystore has no version")
	}
	if err := json.Unmarshal(head.Version, &version); err != nil {
		return nil, fmt.Errorf("keystore version %s is not a number", head.Version)
	}
	if version != keystoreVersion {
		if version > keystoreVersion {
			return nil, fmt.Errorf("keystore version %d is newer than this constellation reads (version %d); upgrade constellation", version, keystoreVersion)
		}
		return nil, fmt.Errorf("keystore version %d is unknown (this constellation reads version %d)", version, keystoreVersion)
	}
	var f keystoreFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("keystore: %v", err)
	}
	if dec.More() {
		return nil, errors.New("keystore: data after the JSON object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("keystore: data after the JSON object")
	}
	ks := &Keystore{KDF: kdfParams{Time: f.KDF.Time, MemoryKiB: f.KDF.MemoryKiB, Threads: f.KDF.Threads}}
	var err error
	if ks.Star, err = interfaces.ParseStarID(f.Star); err != nil || f.Star != ks.Star.String() {
		return nil, fmt.Errorf("keystore star %q: want ed25519:<64 hex digits>", f.Star)
	}
	if f.KDF.Name != kdfArgon2id {
		return nil, fmt.Errorf("keystore kdf %q: this version knows only %q", f.KDF.Name, kdfArgon2id)
	}
	if err := ks.KDF.check(); err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	if ks.Salt, err = hex.DecodeString(f.KDF.Salt); err != nil || len(ks.Salt) < minSaltLen || len(ks.Salt) > maxSaltLen {
		return nil, fmt.Errorf("keystore kdf salt: want %d to %d bytes in hex", minSaltLen, maxSaltLen)
	}
	if f.Cipher.Name != cipherXChaCha {
		return nil, fmt.Errorf("keystore cipher %q: this version knows only %q", f.Cipher.Name, cipherXChaCha)
	}
	if ks.Nonce, err = hex.DecodeString(f.Cipher.Nonce); err != nil || len(ks.Nonce) != chacha20poly1305.NonceSizeX {
		return nil, fmt.Errorf("keystore cipher nonce: want %d bytes in hex", chacha20poly1305.NonceSizeX)
	}
	want := ed25519.SeedSize + chacha20poly1305.Overhead
	if ks.Ciphertext, err = hex.DecodeString(f.Ciphertext); err != nil || len(ks.Ciphertext) != want {
		return nil, fmt.Errorf("keystore ciphertext: want %d bytes in hex (a sealed 32-byte seed); the file may be truncated", want)
	}
	return ks, nil
}

// LoadKeystore reads and decodes a keystore file, naming it in errors.
// It warns on warn when others may read the file.
func LoadKeystore(path string, warn io.Writer) (*Keystore, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeystoreSize+1))
	if err != nil {
		return nil, fmt.Errorf("read keystore %s: %w", path, err)
	}
	ks, err := DecodeKeystore(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if st, err := f.Stat(); err == nil && st.Mode().Perm()&0o077 != 0 && warn != nil {
		fmt.Fprintf(warn, "warning: keystore %s has mode %04o; others may read it (chmod 600 %s)\n", path, st.Mode().Perm(), path)
	}
	return ks, nil
}

// checkNewKeystore fails when path exists or its directory does not, so
// that new and import say so before asking for a passphrase.
func checkNewKeystore(path string) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("keystore %s exists; refusing to overwrite it (move it away or name another file)", path)
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("keystore %s: directory %s does not exist; create it first (mkdir -p %s)", path, dir, dir)
	}
	return nil
}

// SaveKeystore writes ks to path with mode 0600, never replacing an
// existing file. The file appears whole or not at all.
func SaveKeystore(path string, ks *Keystore) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write keystore: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("write keystore %s: %w", path, err)
	}
	if _, err := f.Write(ks.Encode()); err != nil {
		f.Close()
		return fmt.Errorf("write keystore %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write keystore %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write keystore %s: %w", path, err)
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("keystore %s exists; refusing to overwrite it", path)
		}
		return fmt.Errorf("write keystore: %w", err)
	}
	return nil
}
