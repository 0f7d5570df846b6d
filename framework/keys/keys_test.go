package keys

import (
	"crypto/ed25519"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k", "star.key")
	key, created, err := LoadOrCreate(path)
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	again, created, err := LoadOrCreate(path)
	if err != nil || created || !again.Equal(key) {
		t.Fatalf("reload: created=%v err=%v same=%v", created, err, again.Equal(key))
	}
	if err := Save(path, key); err == nil {
		t.Fatal("Save overwrote an existing key file")
	}
}

func TestDecodeRejectsMismatchedIdentity(t *testing.T) {
	a, _ := Generate(nil)
	b, _ := Generate(nil)
	text := strings.Replace(string(Encode(a)), Star(a).String(), Star(b).String(), 1)
	if _, err := Decode([]byte(text)); err == nil || !strings.Contains(err.Error(), "belongs to") {
		t.Fatalf("err = %v", err)
	}
	for _, bad := range []string{"", "{", `{"type":"rsa"}`, `{"type":"ed25519","seed":"zz"}`} {
		if _, err := Decode([]byte(bad)); err == nil {
			t.Fatalf("accepted %q", bad)
		}
	}
}

// TestConcurrentCreatorsAgreeOnOneKey: processes that start together and
// each create a missing key file (a testnet's nodes) all end up with the
// same key, and none reads a file half written.
func TestConcurrentCreatorsAgreeOnOneKey(t *testing.T) {
	for round := range 20 {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("k%d", round), "star.key")
		var wg sync.WaitGroup
		got := make([]ed25519.PrivateKey, 8)
		errs := make([]error, 8)
		for i := range got {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i], _, errs[i] = LoadOrCreate(path)
			}()
		}
		wg.Wait()
		for i := range got {
			if errs[i] != nil {
				t.Fatalf("creator %d: %v", i, errs[i])
			}
			if !got[i].Equal(got[0]) {
				t.Fatalf("creator %d holds another key", i)
			}
		}
	}
}
