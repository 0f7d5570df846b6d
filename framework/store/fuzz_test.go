package store

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/constellation-chain/constellation/framework/ledger"
	"github.com/constellation-chain/constellation/interfaces"
)

// FuzzDecodeStoredBlock feeds arbitrary bytes to the path every stored block
// is read through (zstd, canonical decode, body and height checks): it must
// never panic, must name the height in its errors, and whatever it accepts
// must re-encode to the same block.
func FuzzDecodeStoredBlock(f *testing.F) {
	s, err := Open(f.TempDir(), Options{NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	mem, _ := ledger.NewMemState(testWorld.Genesis)
	bl := ledger.NewBuilder(mem, 0, mem.Parent())
	if _, err := testWorld.FillBlock(bl, rand.New(rand.NewPCG(1, 2)), 3); err != nil {
		f.Fatal(err)
	}
	b, _ := bl.Finish(1, 1, interfaces.BlockMeta{})
	f.Add(s.enc.EncodeAll(b.Encode(), nil))
	f.Add(s.enc.EncodeAll(nil, nil))
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd})
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := s.decodeBlock(1, raw)
		if err != nil {
			if !strings.Contains(err.Error(), "block 1") {
				t.Fatalf("error does not name the height: %v", err)
			}
			return
		}
		plain, err := s.dec.DecodeAll(raw, nil)
		if err != nil || !bytes.Equal(got.Encode(), plain) {
			t.Fatalf("accepted block does not re-encode to the stored bytes")
		}
	})
}

func TestOpenOnAFileThatIsNotADatabaseFails(t *testing.T) {
	dir := t.TempDir()
	junk := bytes.Repeat([]byte("not a bbolt database "), 1000)
	if err := os.WriteFile(filepath.Join(dir, FileName), junk, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, Options{})
	if err == nil {
		s.Close()
		t.Fatal("opened a junk file as a store")
	}
}
