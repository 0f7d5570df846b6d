package jvm

import (
	"archive/zip"
	"bytes"
	"testing"
)

// FuzzVerify feeds arbitrary bytes to Verify, both as a whole jar and as a
// class file inside a well-formed jar: it must return, never panic.
func FuzzVerify(f *testing.F) {
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte{0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 61, 0, 1})
	f.Add([]byte{0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52, 0, 3, 1, 0, 1, 'A', 7, 0, 1, 0, 0, 0, 2, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = Verify(data)
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.Create("A.class")
		w.Write(data)
		zw.Close()
		_ = Verify(buf.Bytes())
	})
}

// FuzzParseClass targets the class file decoder and the bytecode walker
// directly.
func FuzzParseClass(f *testing.F) {
	f.Add([]byte{0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 61, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parseClass(data)
		if err != nil {
			return
		}
		v := &verifier{classes: map[string]*classFile{c.name: c}}
		_ = v.checkClass(c)
	})
}
