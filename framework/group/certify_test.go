package group

import (
	"bytes"
	"testing"

	"github.com/constellation-chain/constellation/interfaces"
)

func FuzzDecodeCertMsg(f *testing.F) {
	f.Add((&certMsg{Height: 3, Hash: interfaces.Sum([]byte("b")), Member: interfaces.DevStar("m"), Share: []byte("share")}).encode())
	f.Add((&certMsg{Height: 1, Whole: true, Share: []byte("sig")}).encode())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := decodeCertMsg(raw)
		if err != nil {
			return
		}
		if again := m.encode(); !bytes.Equal(again, raw) {
			t.Fatalf("re-encoding differs:\n got  %x\n want %x", again, raw)
		}
	})
}
