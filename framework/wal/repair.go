package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Report is what Inspect finds in a log directory, without changing it.
type Report struct {
	// Dir is the log directory; Missing is true when it does not exist.
	Dir     string
	Missing bool
	// Segments are the segment files, oldest first.
	Segments []string
	// Records counts the records with a good checksum found anywhere in
	// the segments, including after damage.
	Records int
	// NewestEpoch is the highest epoch among those records (0 when there
	// are none). A damaged record may have named a higher one.
	NewestEpoch uint64
	// Damage is the error Open or Replay would give, nil for a sound log.
	Damage error
}

// Inspect reads the log in dir as Open and Replay would, but changes
// nothing (a torn tail is reported, not cut) and does not stop at damage:
// it also counts the good records past it, so that an operator learns
// which epochs the log spoke of. It is for `constellation node repair`,
// on a log no process has open.
func Inspect(dir string) (Report, error) {
	rep := Report{Dir: dir}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		rep.Missing = true
		return rep, nil
	}
	if err != nil {
		return rep, fmt.Errorf("read wal directory: %w", err)
	}
	var seq []uint64
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ext) {
			continue
		}
		if n, err := strconv.ParseUint(strings.TrimSuffix(name, ext), 10, 64); err == nil {
			seq = append(seq, n)
		}
	}
	slices.Sort(seq)
	l := &Log{dir: dir}
	for i, n := range seq {
		path := l.path(n)
		rep.Segments = append(rep.Segments, path)
		if i > 0 && seq[i-1]+1 != n && rep.Damage == nil {
			rep.Damage = fmt.Errorf("%w: %s: segment %d is followed by %d: the segments between are missing", ErrCorrupt, dir, seq[i-1], n)
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return rep, fmt.Errorf("read wal segment: %w", err)
		}
		for at := int64(0); ; {
			next, ok := nextGoodRecord(raw, at)
			if !ok {
				break
			}
			size := int64(headerLen) + int64(binary.BigEndian.Uint32(raw[next:]))
			e, _ := decodeBody(raw[next+headerLen : next+size])
			rep.Records++
			rep.NewestEpoch = max(rep.NewestEpoch, e.Epoch)
			at = next + size
		}
		if rep.Damage != nil {
			continue
		}
		if i == len(seq)-1 {
			if _, err := validPrefix(path); err != nil {
				rep.Damage = err
			}
		} else if err := replaySegment(path, false, func(Entry) error { return nil }); err != nil {
			rep.Damage = err
		}
	}
	return rep, nil
}

// MoveAside renames the log directory dir to a sibling named for the time
// (wal.damaged-20260102T150405Z), never deleting anything, and leaves an
// empty log directory in its place; it returns the new name of the old
// log ("" when dir did not exist, in which case it only creates the empty
// one). No process may have the log open.
func MoveAside(dir string, now time.Time) (string, error) {
	dir = filepath.Clean(dir)
	parent := filepath.Dir(dir)
	var moved string
	if _, err := os.Stat(dir); err == nil {
		moved = filepath.Join(parent, filepath.Base(dir)+".damaged-"+now.UTC().Format("20060102T150405Z"))
		if _, err := os.Stat(moved); err == nil {
			return "", fmt.Errorf("move the damaged log aside: %s already exists", moved)
		}
		if err := os.Rename(dir, moved); err != nil {
			return "", fmt.Errorf("move the damaged log aside: %w", err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("move the damaged log aside: %w", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return moved, fmt.Errorf("create an empty log directory: %w", err)
	}
	if err := syncDir(parent); err != nil {
		return moved, err
	}
	return moved, nil
}
