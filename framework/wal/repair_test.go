package wal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// twentyRecords writes a log of one segment with twenty step records of
// epochs 0..19 and returns the segment's path and bytes.
func twentyRecords(t *testing.T, dir string) (string, []byte) {
	t.Helper()
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if err := l.Append(Entry{Kind: KindStep, Epoch: uint64(i), Data: []byte(fmt.Sprint("message ", i))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	seg := filepath.Join(dir, fmt.Sprintf("%016d%s", 1, ext))
	b, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	return seg, b
}

// TestAWholeLastRecordThatFailsItsChecksumIsNotATornTail: the last record
// of the newest segment, whole but with one flipped byte, is damage (a
// crash never leaves a whole record with a wrong checksum), and the error
// names the file, the offset and `node repair`; the same record cut short
// is a torn tail and is cut.
func TestAWholeLastRecordThatFailsItsChecksumIsNotATornTail(t *testing.T) {
	rec := headerLen + fixedLen + len("message 19")
	for _, at := range []int{4, headerLen, headerLen + fixedLen + 2, rec - 1} {
		t.Run(fmt.Sprint("flip at ", at, " of the last record"), func(t *testing.T) {
			dir := t.TempDir()
			seg, b := twentyRecords(t, dir)
			b[len(b)-rec+at] ^= 0x01
			os.WriteFile(seg, b, 0o600)
			_, err := Open(dir)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open = %v, want ErrCorrupt", err)
			}
			for _, want := range []string{seg, fmt.Sprint("offset ", len(b)-rec), "constellation node repair"} {
				if !strings.Contains(err.Error(), want) {
					t.Fatalf("error does not say %q: %v", want, err)
				}
			}
		})
	}
	for _, cut := range []int{1, headerLen - 1, headerLen + 3, rec - 1} {
		t.Run(fmt.Sprint("last record cut to ", cut, " bytes"), func(t *testing.T) {
			dir := t.TempDir()
			seg, b := twentyRecords(t, dir)
			os.WriteFile(seg, b[:len(b)-rec+cut], 0o600)
			l, err := Open(dir)
			if err != nil {
				t.Fatalf("a torn tail was refused: %v", err)
			}
			defer l.Close()
			if got := entries(t, l); len(got) != 19 {
				t.Fatalf("replayed %d entries, want 19", len(got))
			}
		})
	}
}

// TestACutInAnOlderSegmentIsAnError: only the newest segment can have a
// torn tail; an older one cut mid-record fails Replay naming the file and
// offset.
func TestACutInAnOlderSegmentIsAnError(t *testing.T) {
	dir := t.TempDir()
	l, _ := Open(dir)
	l.Append(Entry{Kind: KindStep, Epoch: 1, Data: []byte("one")})
	l.Append(Entry{Kind: KindStep, Epoch: 2, Data: []byte("two")})
	l.Rotate()
	l.Append(Entry{Kind: KindStep, Epoch: 3, Data: []byte("three")})
	l.Close()
	seg := filepath.Join(dir, fmt.Sprintf("%016d%s", 1, ext))
	st, _ := os.Stat(seg)
	os.Truncate(seg, st.Size()-2)
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	err = l.Replay(func(Entry) error { return nil })
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), seg) || !strings.Contains(err.Error(), "offset 52") {
		t.Fatalf("Replay = %v, want ErrCorrupt naming %s at offset 52", err, seg)
	}
}

// TestInspectAndMoveAside: Inspect reports damage without touching the
// log and counts the good records past it; MoveAside keeps every byte
// under a dated name and leaves an empty log that opens.
func TestInspectAndMoveAside(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "wal")
	seg, b := twentyRecords(t, dir)
	b[3] ^= 0x20 // the first record's length
	os.WriteFile(seg, b, 0o600)
	rep, err := Inspect(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(rep.Damage, ErrCorrupt) || rep.Records != 19 || rep.NewestEpoch != 19 || len(rep.Segments) != 1 {
		t.Fatalf("Inspect = %+v", rep)
	}
	if after, _ := os.ReadFile(seg); string(after) != string(b) {
		t.Fatal("Inspect changed the segment")
	}
	now := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	moved, err := MoveAside(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, "wal.damaged-20260102T150405Z"); moved != want {
		t.Fatalf("moved to %s, want %s", moved, want)
	}
	if kept, _ := os.ReadFile(filepath.Join(moved, filepath.Base(seg))); string(kept) != string(b) {
		t.Fatal("the damaged segment was not kept as it was")
	}
	if _, err := MoveAside(dir, now); err == nil {
		t.Fatal("a second move in the same second overwrote the first")
	}
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got := entries(t, l); len(got) != 0 {
		t.Fatalf("the new log holds %d entries", len(got))
	}
	rep, err = Inspect(filepath.Join(root, "nothing"))
	if err != nil || !rep.Missing {
		t.Fatalf("Inspect of a missing directory = %+v, %v", rep, err)
	}
}

// TestAFullDiskIsAClearError: appends to a log on a file system that
// fills up fail with an error that says the disk is full and names the
// log, and what reached the disk opens again once there is room (a partly
// written last record is a torn tail, not damage). It mounts a small
// tmpfs to fill, which needs root on Linux.
func TestAFullDiskIsAClearError(t *testing.T) {
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=64k"); err != nil {
		t.Skipf("cannot mount a small tmpfs to fill (needs root on Linux): %v", err)
	}
	defer syscall.Unmount(mnt, 0)
	dir := filepath.Join(mnt, "wal")
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 1000)
	for i := range data {
		data[i] = byte(i | 1)
	}
	var werr error
	synced := 0
	for i := 0; i < 1000 && werr == nil; i++ {
		if werr = l.Append(Entry{Kind: KindStep, Epoch: uint64(i), Data: data}); werr == nil {
			if werr = l.Sync(); werr == nil {
				synced++
			}
		}
	}
	l.Close()
	if !errors.Is(werr, syscall.ENOSPC) || !strings.Contains(werr.Error(), dir) || !strings.Contains(werr.Error(), "is full") {
		t.Fatalf("the write that filled the disk gave %v, want ENOSPC naming %s", werr, dir)
	}
	// Move what reached the disk to one with room and open it there.
	room := filepath.Join(t.TempDir(), "wal")
	if err := os.Mkdir(room, 0o700); err != nil {
		t.Fatal(err)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "*"+ext))
	for _, seg := range segs {
		b, err := os.ReadFile(seg)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(room, filepath.Base(seg)), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	l, err = Open(room)
	if err != nil {
		t.Fatalf("the log a full disk left does not open on a disk with room: %v", err)
	}
	defer l.Close()
	if got := entries(t, l); len(got) < synced {
		t.Fatalf("replayed %d entries, but %d were synced before the disk filled", len(got), synced)
	}
}
