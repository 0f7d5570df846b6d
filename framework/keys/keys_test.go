package keys

import (
	"path/filepath"
	"strings"
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
