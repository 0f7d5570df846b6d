// Package wal is the node's write-ahead log of consensus inputs, in the
// style of CometBFT's: every Propose and Step the runtime feeds the
// consensus engine is appended here, and made durable before any message
// the engine produced in answer is sent. A node killed at any point rebuilds
// its engine by replaying the log, reaches the state it had, and so never
// sends a message that contradicts one it sent before the crash.
//
// The log is a directory of numbered segment files. The runtime starts a new
// segment after each committed block and prunes by epoch: a segment is
// deleted only when every entry in it is for an epoch already decided
// (Prune), never by count. The engine runs several epochs ahead and buffers
// messages for later ones, so an input received long ago may still decide
// an open epoch; it stays in the log until that epoch is decided. A record is
//
//	length  uint32 big-endian (of kind..data)
//	crc32c  uint32 big-endian (of kind..data)
//	kind    uint8  (1 propose, 2 step)
//	epoch   uint64 (propose: the epoch proposed to; step: the epoch the
//	        message is signed for)
//	from    [32]byte (step: the sender; propose: zero)
//	data    the contribution or message bytes
//
// A torn tail is cut off when the log is opened: a crash mid-append leaves
// the last record of the newest segment incomplete (the file ends before
// the record's header or before the end its length gives), or, where the
// file system extended the file but the data never reached the disk, ends
// in zeros that begin inside that record. Nothing else is a torn tail: a
// whole record whose checksum fails, even the very last one, a bad record
// with good records after it, a bad record in an older segment, and a
// missing segment are corruption, and Open or Replay fail with ErrCorrupt
// naming the file and the offset. The operator's way out is `constellation
// node repair`, which moves the damaged log aside (MoveAside).
//
// What no check here can see: a segment cut short exactly at a record
// boundary, the newest segment cut anywhere, and a last record whose
// length field was damaged to point past the end of the file (all three
// look like a torn tail or none) lose their last records without a trace.
package wal

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/constellation-chain/constellation/interfaces"
)

// Kind tells what an entry records.
type Kind uint8

const (
	KindPropose Kind = 1
	KindStep    Kind = 2
)

// Entry is one recorded consensus input.
type Entry struct {
	Kind  Kind
	Epoch uint64 // the epoch a Propose went to
	From  interfaces.StarID
	Data  []byte
}

const (
	headerLen = 8
	fixedLen  = 1 + 8 + 32
	// MaxEntry bounds one entry's data (the largest envelope payload).
	MaxEntry = interfaces.MaxEnvelopePayload
	ext      = ".wal"
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// unbounded is the top epoch of a segment whose entries are not known.
const unbounded = ^uint64(0)

// ErrCorrupt reports a damaged record that is not a torn tail.
var ErrCorrupt = errors.New("write-ahead log is corrupt")

// Log is an open write-ahead log. It is used from the node's one consensus
// goroutine and is not safe for concurrent use.
type Log struct {
	dir string
	seq []uint64 // segment numbers on disk, ascending
	// top is, per segment in seq, the highest epoch of its entries; a
	// segment not read yet (before Replay) counts as unbounded.
	top []uint64
	f   *os.File
	w   *bufio.Writer
	// dirty is true when appended entries are not yet fsynced.
	dirty bool
	// synced, when set, is told how long each flush and fsync took.
	synced func(time.Duration)
}

// ObserveSync makes the log report how long each Sync that wrote took
// (flush and fsync), for the node's metrics; nil stops it. fn runs on the
// caller's goroutine and must be quick.
func (l *Log) ObserveSync(fn func(time.Duration)) { l.synced = fn }

// Open opens (creating) the log in dir. It repairs a torn tail.
func Open(dir string) (*Log, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create wal directory: %w", err)
	}
	l := &Log{dir: dir}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read wal directory: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ext) {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSuffix(name, ext), 10, 64)
		if err != nil {
			continue
		}
		l.seq = append(l.seq, n)
	}
	slices.Sort(l.seq)
	for i := 1; i < len(l.seq); i++ {
		// Segments are pruned oldest first, so numbers never skip.
		if l.seq[i] != l.seq[i-1]+1 {
			return nil, fmt.Errorf("%w: %s: segment %d is followed by %d: the segments between are missing, and with them inputs this node may have answered; "+
				"the node refuses to start rather than risk contradicting itself; %s", ErrCorrupt, dir, l.seq[i-1], l.seq[i], RepairHint(filepath.Dir(dir)))
		}
	}
	if len(l.seq) == 0 {
		l.seq = []uint64{1}
	}
	l.top = make([]uint64, len(l.seq))
	for i := range l.top {
		l.top[i] = unbounded
	}
	last := l.path(l.seq[len(l.seq)-1])
	good, err := validPrefix(last)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(last, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open wal segment: %w", err)
	}
	if err := f.Truncate(good); err != nil {
		f.Close()
		return nil, fmt.Errorf("cut torn wal tail: %w", err)
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("seek wal: %w", err)
	}
	l.f, l.w = f, bufio.NewWriterSize(f, 64<<10)
	return l, nil
}

func (l *Log) path(n uint64) string { return filepath.Join(l.dir, fmt.Sprintf("%016d%s", n, ext)) }

// validPrefix returns the length of the longest run of good records at the
// start of the file (0 if it does not exist), the offset the log is cut
// to. What follows it must be a torn tail (see the package comment):
// appends only ever add at the end, so a bad record with good ones after
// it, or a whole record that fails its checksum, was damaged where it lay,
// and cutting there would silently drop entries that were durable. That is
// ErrCorrupt.
func validPrefix(path string) (int64, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read wal segment: %w", err)
	}
	var off int64
	for {
		r := bufio.NewReader(bytes.NewReader(raw[off:]))
		_, n, err := readEntry(r)
		if errors.Is(err, io.EOF) {
			return off, nil
		}
		if err != nil {
			if at, ok := nextGoodRecord(raw, off+1); ok {
				return 0, corruptAt(path, off, fmt.Sprintf("%v, with good records after it (the next at offset %d); "+
					"a torn tail is never followed by good records", err, at))
			}
			if torn(raw[off:]) {
				return off, nil
			}
			return 0, corruptAt(path, off, fmt.Sprintf("%v in the last record, which is whole: not a torn tail (a crash leaves the last record incomplete)", err))
		}
		off += int64(n)
	}
}

// torn reports whether tail, which starts with a bad record and holds no
// good record after it, is what a crash mid-append leaves: a record cut
// short (its header, or its body by the length the header gives), or one
// whose bytes turn to zeros up to the end of the file before the record
// ends (the file grew but the data never landed).
func torn(tail []byte) bool {
	if len(tail) < headerLen {
		return true
	}
	end := int64(headerLen) // where the record ends, if its length is sane
	if n := int64(binary.BigEndian.Uint32(tail)); n >= fixedLen && n <= fixedLen+MaxEntry {
		end += n
		if end > int64(len(tail)) {
			return true
		}
	}
	zeros := int64(len(tail)) // where the trailing run of zeros starts
	for zeros > 0 && tail[zeros-1] == 0 {
		zeros--
	}
	return zeros < end
}

// RepairHint is what every corruption error of the log in dataDir/wal
// ends with: how an operator gets the node going again. It starts with
// "to recover,".
func RepairHint(dataDir string) string {
	return "to recover, restore the data directory from a backup, or move the damaged log aside with " +
		"`constellation node repair --data " + dataDir + " --discard-open-epochs` (read `constellation node repair --help` first: " +
		"the node forgets what it sent in the epochs still open and must stay out of consensus until the others decide them)"
}

// corruptAt is the ErrCorrupt for a bad record at off in the segment at
// path.
func corruptAt(path string, off int64, what string) error {
	return fmt.Errorf("%w: %s at offset %d: %s; the node cannot know what it sent and refuses to start rather than risk contradicting itself; %s",
		ErrCorrupt, path, off, what, RepairHint(filepath.Dir(filepath.Dir(path))))
}

// nextGoodRecord returns the first offset at or after from where a whole
// record with a matching checksum starts.
func nextGoodRecord(raw []byte, from int64) (int64, bool) {
	for at := from; at+headerLen+fixedLen <= int64(len(raw)); at++ {
		n := int64(binary.BigEndian.Uint32(raw[at:]))
		if n < fixedLen || n > fixedLen+MaxEntry || at+headerLen+n > int64(len(raw)) {
			continue
		}
		body := raw[at+headerLen : at+headerLen+n]
		if crc32.Checksum(body, crcTable) != binary.BigEndian.Uint32(raw[at+4:]) {
			continue
		}
		if _, err := decodeBody(body); err == nil {
			return at, true
		}
	}
	return 0, false
}

// Append records e. It is buffered: call Sync before acting on the engine's
// output for it.
func (l *Log) Append(e Entry) error {
	if len(e.Data) > MaxEntry {
		return fmt.Errorf("wal entry of %d bytes exceeds %d", len(e.Data), MaxEntry)
	}
	body := make([]byte, 0, fixedLen+len(e.Data))
	body = append(body, byte(e.Kind))
	body = binary.BigEndian.AppendUint64(body, e.Epoch)
	body = append(body, e.From[:]...)
	body = append(body, e.Data...)
	var hdr [headerLen]byte
	binary.BigEndian.PutUint32(hdr[0:], uint32(len(body)))
	binary.BigEndian.PutUint32(hdr[4:], crc32.Checksum(body, crcTable))
	if _, err := l.w.Write(hdr[:]); err != nil {
		return l.writeFailed("append to wal", err)
	}
	if _, err := l.w.Write(body); err != nil {
		return l.writeFailed("append to wal", err)
	}
	l.dirty = true
	// Before Replay the current segment stays unbounded, which only
	// delays pruning.
	if last := len(l.top) - 1; l.top[last] != unbounded {
		l.top[last] = max(l.top[last], e.Epoch)
	}
	return nil
}

// Sync makes every appended entry durable (flush and fsync). It does
// nothing when nothing was appended since the last Sync.
func (l *Log) Sync() error {
	if !l.dirty {
		return nil
	}
	if l.synced != nil {
		defer func(start time.Time) { l.synced(time.Since(start)) }(time.Now())
	}
	if err := l.w.Flush(); err != nil {
		return l.writeFailed("flush wal", err)
	}
	if err := l.f.Sync(); err != nil {
		return l.writeFailed("fsync wal", err)
	}
	l.dirty = false
	return nil
}

// writeFailed wraps an error writing the log; a full disk says so and
// what to do. The log is left as it was: what did not reach the disk is a
// torn tail at the next Open, and the node sent nothing that depends on it.
func (l *Log) writeFailed(what string, err error) error {
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("%s: %w: the disk holding %s is full; free space on it and start the node again: "+
			"it resumes at its last stored block and catches up from its peers", what, err, l.dir)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Rotate syncs the current segment and starts a new one. The runtime calls
// it after each committed block, then Prune.
func (l *Log) Rotate() error {
	if err := l.Sync(); err != nil {
		return err
	}
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("close wal segment: %w", err)
	}
	next := l.seq[len(l.seq)-1] + 1
	f, err := os.OpenFile(l.path(next), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return l.writeFailed("start wal segment", err)
	}
	l.f, l.w = f, bufio.NewWriterSize(f, 64<<10)
	l.seq = append(l.seq, next)
	l.top = append(l.top, 0)
	return syncDir(l.dir)
}

// Prune deletes the oldest segments, never the current one, while every
// entry in them is for an epoch below undecided (the oldest epoch not yet
// decided and committed). It stops at the first segment that still holds
// an input for an open epoch, so the log never loses one that can matter.
func (l *Log) Prune(undecided uint64) error {
	for len(l.seq) > 1 && l.top[0] != unbounded && l.top[0] < undecided {
		if err := os.Remove(l.path(l.seq[0])); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove old wal segment: %w", err)
		}
		l.seq, l.top = l.seq[1:], l.top[1:]
	}
	return nil
}

// Segments returns how many segment files the log has.
func (l *Log) Segments() int { return len(l.seq) }

// Replay calls fn for every entry in the log, oldest first. Call it after
// Open and before the first Append. It also learns each segment's highest
// epoch, which Prune needs.
func (l *Log) Replay(fn func(Entry) error) error {
	for i, n := range l.seq {
		top := uint64(0)
		err := replaySegment(l.path(n), i == len(l.seq)-1, func(e Entry) error {
			top = max(top, e.Epoch)
			return fn(e)
		})
		if err != nil {
			return err
		}
		l.top[i] = top
	}
	return nil
}

func replaySegment(path string, last bool, fn func(Entry) error) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open wal segment: %w", err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	var off int64
	for {
		e, n, err := readEntry(r)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if last {
				return nil // a torn tail; Open already cut it
			}
			return corruptAt(path, off, fmt.Sprintf("%v in a segment older than the newest (only the newest can have a torn tail)", err))
		}
		if err := fn(e); err != nil {
			return err
		}
		off += int64(n)
	}
}

// readEntry reads one record; io.EOF means a clean end.
func readEntry(r *bufio.Reader) (Entry, int, error) {
	var hdr [headerLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return Entry{}, 0, io.EOF
		}
		return Entry{}, 0, fmt.Errorf("record header: %w", err)
	}
	n := binary.BigEndian.Uint32(hdr[0:])
	if n < fixedLen || n > fixedLen+MaxEntry {
		return Entry{}, 0, fmt.Errorf("record length %d out of range", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return Entry{}, 0, fmt.Errorf("record body: %w", err)
	}
	if crc32.Checksum(body, crcTable) != binary.BigEndian.Uint32(hdr[4:]) {
		return Entry{}, 0, errors.New("record checksum mismatch")
	}
	e, err := decodeBody(body)
	return e, headerLen + int(n), err
}

func decodeBody(body []byte) (Entry, error) {
	e := Entry{Kind: Kind(body[0]), Epoch: binary.BigEndian.Uint64(body[1:9])}
	copy(e.From[:], body[9:41])
	e.Data = body[41:]
	if e.Kind != KindPropose && e.Kind != KindStep {
		return Entry{}, fmt.Errorf("record kind %d unknown", e.Kind)
	}
	return e, nil
}

// Close syncs and closes the log.
func (l *Log) Close() error {
	if l.f == nil {
		return nil
	}
	err := l.Sync()
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}

// syncDir makes a new segment's directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open wal directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync wal directory: %w", err)
	}
	return nil
}
