package gossip

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/interfaces"
	"pgregory.net/rapid"
)

func TestFramesRoundTripInOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		frames := rapid.SliceOfN(rapid.SliceOfN(rapid.Byte(), 1, 3000), 0, 20).Draw(t, "frames")
		var buf bytes.Buffer
		for _, f := range frames {
			if err := WriteFrame(&buf, f); err != nil {
				t.Fatalf("write: %v", err)
			}
		}
		var appended []byte
		for _, f := range frames {
			appended = AppendFrame(appended, f)
		}
		if !bytes.Equal(appended, buf.Bytes()) {
			t.Fatalf("AppendFrame and WriteFrame disagree")
		}
		r := bufio.NewReaderSize(&buf, 16) // small buffer: exercise partial reads
		for i, want := range frames {
			got, err := ReadFrame(r, 3000)
			if err != nil {
				t.Fatalf("frame %d: %v", i, err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("frame %d differs", i)
			}
		}
		if _, err := ReadFrame(r, 3000); !errors.Is(err, io.EOF) {
			t.Fatalf("after last frame: got %v, want io.EOF", err)
		}
	})
}

func TestReadFrameRejectsBadInput(t *testing.T) {
	big := binary.AppendUvarint(nil, 1<<40)
	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"oversized", append(binary.AppendUvarint(nil, 1025), make([]byte, 1025)...), ErrFrameTooLarge},
		{"huge length stops early", big, ErrFrameTooLarge},
		{"zero length", []byte{0}, ErrBadFrame},
		{"non-minimal length", []byte{0x85, 0x00, 1, 2, 3, 4, 5}, ErrBadFrame},
		{"varint overflow", []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02}, nil},
		{"truncated header", []byte{0x80}, io.ErrUnexpectedEOF},
		{"truncated body", []byte{5, 1, 2}, io.ErrUnexpectedEOF},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadFrame(bufio.NewReader(bytes.NewReader(c.in)), 1024)
			if err == nil {
				t.Fatal("accepted")
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	if _, err := ReadFrame(bufio.NewReader(bytes.NewReader([]byte{1, 1})), 0); err == nil {
		t.Fatal("non-positive limit accepted")
	}
}

// A peer that declares a large frame and then stops sending must not make
// the reader allocate the declared size up front.
func TestReadFrameAllocatesOnlyWhatArrives(t *testing.T) {
	in := append(binary.AppendUvarint(nil, 4<<20), make([]byte, 100)...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 20 {
		_, err := ReadFrame(bufio.NewReader(bytes.NewReader(in)), 8<<20)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("got %v, want unexpected EOF", err)
		}
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 20*2*(readChunk+4096) {
		t.Fatalf("20 stalled 4 MiB frames allocated %d bytes; want about 20×64 KiB", grew)
	}
}

func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{3, 'a', 'b', 'c', 1, 'x'}, uint16(16))
	f.Add([]byte{0}, uint16(16))
	f.Add([]byte{0x80, 0x00}, uint16(16))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, uint16(1024))
	f.Add(AppendFrame(nil, (&interfaces.Envelope{Topic: "direct/consensus", Payload: []byte("hi")}).Encode()), uint16(4096))
	f.Fuzz(func(t *testing.T, in []byte, limit uint16) {
		max := int(limit) + 1
		r := bufio.NewReader(bytes.NewReader(in))
		var consumed []byte
		for range 64 {
			fr, err := ReadFrame(r, max)
			if err != nil {
				break
			}
			if len(fr) == 0 || len(fr) > max {
				t.Fatalf("frame of %d bytes with limit %d", len(fr), max)
			}
			consumed = AppendFrame(consumed, fr)
		}
		// Accepted frames re-encode to exactly the bytes they came from:
		// the framing is canonical.
		if !bytes.HasPrefix(in, consumed) {
			t.Fatalf("re-encoded frames are not a prefix of the input")
		}
	})
}

func FuzzDecodePX(f *testing.F) {
	f.Add(EncodePX(nil))
	f.Add(EncodePX([]PXRecord{{Star: interfaces.DevStar("a"), Addrs: [][]byte{{4, 127, 0, 0, 1, 6, 0x1b, 0x59}}}}))
	f.Add([]byte{1, 65})
	f.Fuzz(func(t *testing.T, in []byte) {
		recs, err := DecodePX(in)
		if err != nil {
			return
		}
		if len(recs) > maxPXPeers {
			t.Fatalf("%d records", len(recs))
		}
		if out := EncodePX(recs); !bytes.Equal(out, in) {
			t.Fatalf("decode/encode not canonical")
		}
	})
}

func TestPXEncodingRoundTrips(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 5).Draw(t, "n")
		var recs []PXRecord
		for range n {
			var r PXRecord
			copy(r.Star[:], rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(t, "star"))
			r.Addrs = rapid.SliceOfN(rapid.SliceOfN(rapid.Byte(), 0, 40), 0, maxPXAddrs).Draw(t, "addrs")
			recs = append(recs, r)
		}
		got, err := DecodePX(EncodePX(recs))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(recs) {
			t.Fatalf("%d records, want %d", len(got), len(recs))
		}
		for i := range recs {
			if got[i].Star != recs[i].Star || len(got[i].Addrs) != len(recs[i].Addrs) {
				t.Fatalf("record %d differs", i)
			}
			for j := range recs[i].Addrs {
				if !bytes.Equal(got[i].Addrs[j], recs[i].Addrs[j]) {
					t.Fatalf("record %d addr %d differs", i, j)
				}
			}
		}
	})
}

func TestBackoffIsBoundedAndGrows(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		lo := time.Duration(rapid.IntRange(1, 1000).Draw(t, "min")) * time.Millisecond
		hi := lo * time.Duration(rapid.IntRange(1, 1000).Draw(t, "factor"))
		f := rapid.IntRange(0, 100).Draw(t, "failures")
		u := rapid.Float64Range(0, 0.999999).Draw(t, "u")
		d := backoffDelay(lo, hi, f, u)
		if f == 0 {
			if d != 0 {
				t.Fatalf("no failures, delay %v", d)
			}
			return
		}
		if d > hi || d < min(lo, hi)/2 {
			t.Fatalf("delay %v outside [%v/2, %v]", d, lo, hi)
		}
		// Without jitter's randomness the delay never shrinks with more failures.
		if backoffDelay(lo, hi, f+1, u) < d {
			t.Fatalf("delay shrank from %d to %d failures", f, f+1)
		}
	})
}
