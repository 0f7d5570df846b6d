package wal

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/constellation-chain/constellation/interfaces"
	"pgregory.net/rapid"
)

func entries(t *testing.T, l *Log) []Entry {
	t.Helper()
	var out []Entry
	if err := l.Replay(func(e Entry) error { out = append(out, e); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestReplayReturnsWhatWasSynced(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Kind: KindPropose, Epoch: 4, Data: []byte("contribution")},
		{Kind: KindStep, From: interfaces.DevStar("b"), Data: []byte("msg")},
	}
	for _, e := range want {
		if err := l.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	l.Close()
	l, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := entries(t, l)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("replayed %v, want %v", got, want)
	}
}

func TestTornTailIsCutAndAppendsContinue(t *testing.T) {
	dir := t.TempDir()
	l, _ := Open(dir)
	l.Append(Entry{Kind: KindStep, Data: []byte("one")})
	l.Append(Entry{Kind: KindStep, Data: []byte("two")})
	l.Close()
	seg := filepath.Join(dir, fmt.Sprintf("%016d%s", 1, ext))
	st, _ := os.Stat(seg)
	os.Truncate(seg, st.Size()-2) // a crash in the middle of "two"
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	l.Append(Entry{Kind: KindStep, Data: []byte("three")})
	l.Sync()
	got := entries(t, l)
	l.Close()
	if len(got) != 2 || string(got[0].Data) != "one" || string(got[1].Data) != "three" {
		t.Fatalf("after torn tail: %v", got)
	}
}

func TestCorruptionBeforeTheTailIsAnError(t *testing.T) {
	dir := t.TempDir()
	l, _ := Open(dir)
	l.Append(Entry{Kind: KindStep, Data: []byte("old")})
	l.Rotate()
	l.Append(Entry{Kind: KindStep, Data: []byte("new")})
	l.Close()
	seg := filepath.Join(dir, fmt.Sprintf("%016d%s", 1, ext))
	b, _ := os.ReadFile(seg)
	b[len(b)-1] ^= 0xff
	os.WriteFile(seg, b, 0o600)
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	err = l.Replay(func(Entry) error { return nil })
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %v, want ErrCorrupt", err)
	}
}

// TestDamageInTheLastSegmentIsAnError: a flipped byte in the first of
// many records of the newest segment (the outside report: the node cut the
// segment there as a torn tail and replayed 128 entries instead of 190)
// is refused, whichever byte of the record it hits, and the segment is
// left as it was.
func TestDamageInTheLastSegmentIsAnError(t *testing.T) {
	for _, at := range []int{0, 3, 5, headerLen, headerLen + 9, headerLen + fixedLen + 1} {
		t.Run(fmt.Sprint("byte ", at), func(t *testing.T) {
			dir := t.TempDir()
			l, _ := Open(dir)
			for i := range 20 {
				l.Append(Entry{Kind: KindStep, Epoch: uint64(i), Data: []byte(fmt.Sprint("message ", i))})
			}
			l.Close()
			seg := filepath.Join(dir, fmt.Sprintf("%016d%s", 1, ext))
			b, _ := os.ReadFile(seg)
			b[at] ^= 0x40
			os.WriteFile(seg, b, 0o600)
			if _, err := Open(dir); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open = %v, want ErrCorrupt", err)
			}
			if after, _ := os.ReadFile(seg); !bytes.Equal(after, b) {
				t.Fatal("the damaged segment was changed")
			}
		})
	}
}

// TestTornTailOfSeveralRecordsIsCut: a crash can leave the last flushed
// chunk partly written, several records long; with nothing good after the
// first bad one it is a torn tail, also when zeros fill the rest.
func TestTornTailOfSeveralRecordsIsCut(t *testing.T) {
	dir := t.TempDir()
	l, _ := Open(dir)
	for i := range 5 {
		l.Append(Entry{Kind: KindStep, Data: []byte(fmt.Sprint("message ", i))})
	}
	l.Close()
	seg := filepath.Join(dir, fmt.Sprintf("%016d%s", 1, ext))
	b, _ := os.ReadFile(seg)
	rec := len(b) / 5
	b = append(b[:2*rec+7], make([]byte, 3*rec)...) // records 3–5 never reached the disk
	os.WriteFile(seg, b, 0o600)
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got := entries(t, l); len(got) != 2 {
		t.Fatalf("replayed %d entries, want the 2 whole ones", len(got))
	}
}

// TestMissingSegmentIsAnError: a segment deleted from the middle of the
// log is refused.
func TestMissingSegmentIsAnError(t *testing.T) {
	dir := t.TempDir()
	l, _ := Open(dir)
	for i := range 3 {
		l.Append(Entry{Kind: KindStep, Epoch: uint64(i), Data: []byte("m")})
		l.Rotate()
	}
	l.Close()
	if err := os.Remove(filepath.Join(dir, fmt.Sprintf("%016d%s", 2, ext))); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open = %v, want ErrCorrupt", err)
	}
}

// TestPruneKeepsEverySegmentWithAnOpenEpoch: a message for a later epoch
// received early (the engine runs ahead) keeps its segment alive until that
// epoch is decided, however many blocks were committed meanwhile.
func TestPruneKeepsEverySegmentWithAnOpenEpoch(t *testing.T) {
	dir := t.TempDir()
	l, _ := Open(dir)
	if err := l.Replay(func(Entry) error { return nil }); err != nil {
		t.Fatal(err)
	}
	// Segment 1 holds epoch 0's proposal and a message for epoch 7.
	l.Append(Entry{Kind: KindPropose, Epoch: 0, Data: []byte{0}})
	l.Append(Entry{Kind: KindStep, Epoch: 7, Data: []byte{7}})
	for i := 1; i <= 5; i++ {
		if err := l.Rotate(); err != nil {
			t.Fatal(err)
		}
		l.Append(Entry{Kind: KindPropose, Epoch: uint64(i), Data: []byte{byte(i)}})
		if err := l.Prune(uint64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if l.Segments() != 6 {
		t.Fatalf("%d segments after deciding epochs 0-4, want all 6 (epoch 7 is open)", l.Segments())
	}
	if err := l.Prune(8); err != nil {
		t.Fatal(err)
	}
	if l.Segments() != 1 {
		t.Fatalf("%d segments once epoch 7 is decided, want only the current one", l.Segments())
	}
	l.Sync()
	got := entries(t, l)
	l.Close()
	if len(got) != 1 || got[0].Epoch != 5 {
		t.Fatalf("kept %v", got)
	}
	// Reopened, the log knows nothing of the segments' epochs until it is
	// replayed, and prunes nothing before.
	l, _ = Open(dir)
	defer l.Close()
	l.Rotate()
	if l.Prune(100); l.Segments() != 2 {
		t.Fatalf("pruned before replay: %d segments", l.Segments())
	}
}

// TestRoundTripProperty appends random entries across rotations and checks
// that replay returns exactly those, in order (nothing is pruned).
func TestRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		dir, err := os.MkdirTemp("", "wal")
		if err != nil {
			rt.Fatal(err)
		}
		defer os.RemoveAll(dir)
		l, _ := Open(dir)
		var segs [][]Entry
		segs = append(segs, nil)
		for i, n := 0, rapid.IntRange(0, 40).Draw(rt, "n"); i < n; i++ {
			if rapid.IntRange(0, 9).Draw(rt, "rotate") == 0 {
				l.Rotate()
				segs = append(segs, nil)
				continue
			}
			e := Entry{Kind: KindStep, From: interfaces.DevStar(fmt.Sprint(i)), Data: rapid.SliceOfN(rapid.Byte(), 0, 64).Draw(rt, "data")}
			l.Append(e)
			segs[len(segs)-1] = append(segs[len(segs)-1], e)
		}
		l.Close()
		l, err = Open(dir)
		if err != nil {
			rt.Fatal(err)
		}
		defer l.Close()
		var want []Entry
		for _, s := range segs {
			want = append(want, s...)
		}
		var got []Entry
		l.Replay(func(e Entry) error { got = append(got, e); return nil })
		if len(got) != len(want) {
			rt.Fatalf("replayed %d entries, want %d", len(got), len(want))
		}
		for i := range got {
			if got[i].From != want[i].From || !bytes.Equal(got[i].Data, want[i].Data) {
				rt.Fatalf("entry %d differs", i)
			}
		}
	})
}

// FuzzReadEntry checks that no byte string makes the record decoder panic.
func FuzzReadEntry(f *testing.F) {
	var buf bytes.Buffer
	dir := f.TempDir()
	l, _ := Open(dir)
	l.Append(Entry{Kind: KindStep, Data: []byte("seed")})
	l.Close()
	b, _ := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%016d%s", 1, ext)))
	buf.Write(b)
	f.Add(buf.Bytes())
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReader(bytes.NewReader(data))
		for i := 0; i < 100; i++ {
			if _, _, err := readEntry(r); err != nil {
				return
			}
		}
	})
}
