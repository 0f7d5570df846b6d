package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/constellation-chain/constellation/framework/keys"
	"github.com/constellation-chain/constellation/interfaces"
)

// lightKDF keeps the tests fast; the format is the same at any cost.
var lightKDF = kdfParams{Time: 1, MemoryKiB: 64, Threads: 1}

func sealedForTest(t testing.TB, pass string) ([]byte, *Keystore) {
	t.Helper()
	key := interfaces.DevKey("wallet-test")
	ks, err := SealKeystore(key, []byte(pass), lightKDF, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ks.Encode(), ks
}

func TestKeystoreRoundTrip(t *testing.T) {
	key := interfaces.DevKey("wallet-test")
	for _, p := range []kdfParams{lightKDF, {Time: 2, MemoryKiB: 256, Threads: 2}} {
		ks, err := SealKeystore(key, []byte("correct horse"), p, nil)
		if err != nil {
			t.Fatal(err)
		}
		enc := ks.Encode()
		got, err := DecodeKeystore(enc)
		if err != nil {
			t.Fatalf("decode %s: %v", enc, err)
		}
		if got.Star != keys.Star(key) || got.KDF != p {
			t.Fatalf("decoded star %s kdf %+v, want %s %+v", got.Star, got.KDF, keys.Star(key), p)
		}
		k, err := got.Open([]byte("correct horse"))
		if err != nil || !k.Equal(key) {
			t.Fatalf("open: %v", err)
		}
		// The file names the star in clear and holds no seed in clear.
		if !bytes.Contains(enc, []byte(keys.Star(key).String())) || bytes.Contains(enc, []byte(hex.EncodeToString(key.Seed()))) {
			t.Fatalf("keystore shows the star %v, the seed %v:\n%s", bytes.Contains(enc, []byte(keys.Star(key).String())), bytes.Contains(enc, []byte(hex.EncodeToString(key.Seed()))), enc)
		}
	}
	// Two sealings of one key differ (fresh salt and nonce).
	a, _ := sealedForTest(t, "p")
	b, _ := sealedForTest(t, "p")
	if bytes.Equal(a, b) {
		t.Fatal("two keystores of one key are identical: salt and nonce are not fresh")
	}
}

func TestKeystoreWrongPassphrase(t *testing.T) {
	enc, _ := sealedForTest(t, "right")
	ks, err := DecodeKeystore(enc)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"wrong", "", "righ", "right "} {
		if _, err := ks.Open([]byte(p)); !errors.Is(err, errWrongPassphrase) {
			t.Fatalf("passphrase %q: %v, want %v", p, err, errWrongPassphrase)
		}
	}
}

// TestKeystoreTamperedIsRefused: changing any byte of the ciphertext, the
// nonce, the salt, a KDF parameter or the star makes Open fail (the
// header is the AEAD's associated data), never return another key.
func TestKeystoreTamperedIsRefused(t *testing.T) {
	enc, ks := sealedForTest(t, "right")
	var f map[string]any
	if err := json.Unmarshal(enc, &f); err != nil {
		t.Fatal(err)
	}
	flip := func(s string) string {
		b, _ := hex.DecodeString(s)
		b[len(b)/2] ^= 0x01
		return hex.EncodeToString(b)
	}
	other := keys.Star(interfaces.DevKey("mallory")).String()
	cases := map[string]func(m map[string]any){
		"ciphertext": func(m map[string]any) { m["ciphertext"] = flip(m["ciphertext"].(string)) },
		"nonce":      func(m map[string]any) { c := m["cipher"].(map[string]any); c["nonce"] = flip(c["nonce"].(string)) },
		"salt":       func(m map[string]any) { k := m["kdf"].(map[string]any); k["salt"] = flip(k["salt"].(string)) },
		"time":       func(m map[string]any) { m["kdf"].(map[string]any)["time"] = 2 },
		"memory":     func(m map[string]any) { m["kdf"].(map[string]any)["memory_kib"] = 128 },
		"star":       func(m map[string]any) { m["star"] = other },
	}
	for name, change := range cases {
		var m map[string]any
		json.Unmarshal(enc, &m)
		change(m)
		b, _ := json.Marshal(m)
		got, err := DecodeKeystore(b)
		if err != nil {
			t.Fatalf("%s: a well-formed tampered file does not decode: %v", name, err)
		}
		if _, err := got.Open([]byte("right")); !errors.Is(err, errWrongPassphrase) {
			t.Errorf("tampered %s: Open %v, want %v", name, err, errWrongPassphrase)
		}
	}
	if _, err := ks.Open([]byte("right")); err != nil {
		t.Fatalf("the original no longer opens: %v", err)
	}
}

// TestKeystoreBadFilesSayWhat: wrong versions, truncation, bad fields
// and absurd KDF costs are errors naming the problem.
func TestKeystoreBadFilesSayWhat(t *testing.T) {
	enc, _ := sealedForTest(t, "right")
	s := string(enc)
	repl := func(old, new string) string {
		if !strings.Contains(s, old) {
			t.Fatalf("the keystore has no %q:\n%s", old, s)
		}
		return strings.Replace(s, old, new, 1)
	}
	cases := []struct{ name, src, want string }{
		{"empty", "", "not a keystore"},
		{"not json", "hello", "not a keystore"},
		{"truncated", s[:len(s)/2], "not a keystore"},
		{"other format", repl(`"constellation-keystore"`, `"geth"`), `format "geth"`},
		{"newer version", repl(`"version": 1`, `"version": 2`), "version 2 is newer"},
		{"version zero", repl(`"version": 1`, `"version": 0`), "version 0 is unknown"},
		{"version text", repl(`"version": 1`, `"version": "1"`), "not a number"},
		{"no version", repl(`"version": 1,`, ``), "no version"},
		{"unknown field", repl(`"version": 1,`, `"version": 1, "mac": "x",`), `unknown field "mac"`},
		{"trailing data", s + "{}", "after top-level value"},
		{"short ciphertext", repl(`"ciphertext": "`, `"ciphertext": "00`), "ciphertext"},
		{"bad star", repl(`"star": "ed25519:`, `"star": "ed25519:zz`), "keystore star"},
		{"other kdf", repl(`"argon2id"`, `"scrypt"`), `kdf "scrypt"`},
		{"other cipher", repl(`"xchacha20-poly1305"`, `"aes-256-gcm"`), `cipher "aes-256-gcm"`},
		{"huge memory", repl(`"memory_kib": 64`, `"memory_kib": 4294967295`), "memory_kib"},
		{"zero time", repl(`"time": 1`, `"time": 0`), "kdf time 0"},
		{"many threads", repl(`"threads": 1`, `"threads": 200`), "kdf threads 200"},
		{"short salt", regexp.MustCompile(`"salt": "[0-9a-f]*"`).ReplaceAllString(s, `"salt": "0011223344556677"`), "salt: want 16 to 64 bytes"},
		{"odd salt", repl(`"salt": "`, `"salt": "0`), "salt"},
		{"huge", s + strings.Repeat(" ", maxKeystoreSize), "at most"},
	}
	for _, c := range cases {
		_, err := DecodeKeystore([]byte(c.src))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
}

func TestKeystoreFileIsPrivateAndNeverOverwritten(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.json")
	_, ks := sealedForTest(t, "p")
	if err := SaveKeystore(path, ks); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v; want 0600", st.Mode(), err)
	}
	before, _ := os.ReadFile(path)
	_, ks2 := sealedForTest(t, "q")
	if err := SaveKeystore(path, ks2); err == nil || !strings.Contains(err.Error(), "refusing to overwrite") {
		t.Fatalf("second save: %v", err)
	}
	if err := checkNewKeystore(path); err == nil {
		t.Fatal("checkNewKeystore accepts an existing file")
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatal("the keystore changed")
	}
	if err := checkNewKeystore(filepath.Join(dir, "no", "such", "w.json")); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing directory: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("left temporary files: %v", entries)
	}
	// A file others may read loads, with a warning.
	os.Chmod(path, 0o644)
	var warn bytes.Buffer
	if _, err := LoadKeystore(path, &warn); err != nil || !strings.Contains(warn.String(), "others may read it") {
		t.Fatalf("load: %v, warning %q", err, warn.String())
	}
	if _, err := LoadKeystore(filepath.Join(dir, "none.json"), nil); err == nil || !strings.Contains(err.Error(), "none.json") {
		t.Fatalf("a missing keystore: %v", err)
	}
}

func TestKeystoreReadSecretLine(t *testing.T) {
	for in, want := range map[string]string{"pass\n": "pass", "pass": "pass", "pass\r\nmore\n": "pass", "\n": "", "a b \n": "a b "} {
		got, err := readSecretLine(strings.NewReader(in))
		if err != nil || string(got) != want {
			t.Errorf("%q: %q %v, want %q", in, got, err, want)
		}
	}
	if _, err := readSecretLine(strings.NewReader(strings.Repeat("x", maxSecretLine+1))); err == nil {
		t.Error("an endless line is accepted")
	}
}

// FuzzKeystoreDecode: no input makes the decoder panic, and whatever it
// accepts re-encodes to a file that decodes to the same keystore. Files
// it accepts at a cheap KDF cost are opened too: a wrong passphrase is an
// error, never a panic or another star's key.
func FuzzKeystoreDecode(f *testing.F) {
	enc, _ := sealedForTest(f, "right")
	f.Add(enc, []byte("right"))
	f.Add(enc, []byte("wrong"))
	f.Add(enc[:len(enc)-10], []byte("right"))
	f.Add([]byte(`{"format":"constellation-keystore","version":2}`), []byte(""))
	f.Add([]byte(`{"format":"constellation-keystore","version":1e400}`), []byte(""))
	f.Add([]byte(`[]`), []byte(""))
	f.Fuzz(func(t *testing.T, b, pass []byte) {
		ks, err := DecodeKeystore(b)
		if err != nil {
			if ks != nil {
				t.Fatal("an error with a keystore")
			}
			return
		}
		again, err := DecodeKeystore(ks.Encode())
		if err != nil {
			t.Fatalf("re-encoded keystore does not decode: %v", err)
		}
		if again.Star != ks.Star || again.KDF != ks.KDF || !bytes.Equal(again.Salt, ks.Salt) || !bytes.Equal(again.Nonce, ks.Nonce) || !bytes.Equal(again.Ciphertext, ks.Ciphertext) {
			t.Fatal("re-encoding changed the keystore")
		}
		if uint64(ks.KDF.Time)*uint64(ks.KDF.MemoryKiB) > 4096 {
			return // too slow to open at fuzzing speed
		}
		key, err := ks.Open(pass)
		if err == nil && keys.Star(key) != ks.Star {
			t.Fatalf("opened a key of %s from a keystore of %s", keys.Star(key), ks.Star)
		}
	})
}
