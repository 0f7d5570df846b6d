package gossip

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Framing on direct streams: every frame is a uvarint length followed by
// that many bytes (one canonical interfaces.Envelope). The length must be
// minimally encoded, non-zero and at most the receiver's limit, so one
// sequence of frames has exactly one encoding and a hostile prefix cannot
// make the reader allocate more than the limit.

// ErrFrameTooLarge is returned when a frame's declared length exceeds the
// limit. The stream it came from cannot be resynchronised and is reset.
var ErrFrameTooLarge = errors.New("frame exceeds size limit")

// ErrBadFrame is returned for a malformed length prefix (overlong,
// non-minimal or zero).
var ErrBadFrame = errors.New("malformed frame length")

// maxVarintLen is the longest uvarint a frame header may use; in practice
// ReadFrame stops reading a header as soon as its value passes the limit.
const maxVarintLen = binary.MaxVarintLen64

// readChunk bounds how much ReadFrame allocates ahead of data actually
// received, so a peer that declares a large frame and then stalls costs at
// most this much memory per stream.
const readChunk = 64 << 10

// ReadFrame reads one length-prefixed frame from r. It returns io.EOF only
// when r ends cleanly before the first byte of a frame; a frame cut short
// returns io.ErrUnexpectedEOF. limit must be positive. The returned slice is
// freshly allocated and owned by the caller.
func ReadFrame(r *bufio.Reader, limit int) ([]byte, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("read frame: limit %d is not positive", limit)
	}
	var n uint64
	var shift uint
	for i := 0; ; i++ {
		c, err := r.ReadByte()
		if err != nil {
			if i > 0 && errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			if errors.Is(err, io.EOF) {
				return nil, io.EOF
			}
			return nil, fmt.Errorf("read frame length: %w", err)
		}
		if i == maxVarintLen-1 && c > 1 {
			return nil, fmt.Errorf("read frame length: varint overflows 64 bits: %w", ErrBadFrame)
		}
		n |= uint64(c&0x7f) << shift
		if c < 0x80 {
			if c == 0 && i > 0 {
				return nil, fmt.Errorf("read frame length: non-minimal varint: %w", ErrBadFrame)
			}
			break
		}
		shift += 7
		if i+1 >= maxVarintLen {
			return nil, fmt.Errorf("read frame length: varint longer than %d bytes: %w", maxVarintLen, ErrBadFrame)
		}
		// Stop early once the value already exceeds the limit: no need to
		// read the rest of a hostile header.
		if n > uint64(limit) {
			return nil, fmt.Errorf("read frame: length over %d bytes: %w", limit, ErrFrameTooLarge)
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("read frame: empty frame: %w", ErrBadFrame)
	}
	if n > uint64(limit) {
		return nil, fmt.Errorf("read frame: length %d over %d bytes: %w", n, limit, ErrFrameTooLarge)
	}
	size := int(n)
	buf := make([]byte, 0, min(size, readChunk))
	for len(buf) < size {
		want := min(size-len(buf), readChunk)
		if cap(buf)-len(buf) < want {
			grown := make([]byte, len(buf), min(size, max(2*cap(buf), len(buf)+want)))
			copy(grown, buf)
			buf = grown
		}
		got, err := io.ReadFull(r, buf[len(buf):len(buf)+want])
		buf = buf[:len(buf)+got]
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("read frame body (%d of %d bytes): %w", len(buf), size, err)
		}
	}
	return buf, nil
}

// AppendFrame appends the framed form of payload to dst.
func AppendFrame(dst, payload []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(payload)))
	return append(dst, payload...)
}

// WriteFrame writes payload as one frame. It rejects an empty payload, which
// ReadFrame would refuse.
func WriteFrame(w io.Writer, payload []byte) error {
	if len(payload) == 0 {
		return fmt.Errorf("write frame: %w", ErrBadFrame)
	}
	var hdr [maxVarintLen]byte
	n := binary.PutUvarint(hdr[:], uint64(len(payload)))
	if _, err := w.Write(hdr[:n]); err != nil {
		return fmt.Errorf("write frame header: %w", err)
	}
	if _, err := w.Write(payload); err != nil {
		return fmt.Errorf("write frame body: %w", err)
	}
	return nil
}
