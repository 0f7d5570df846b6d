package interfaces

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Canonical encoding helpers. Every hashed or signed structure in the
// protocol is written with these: big-endian fixed-width integers, byte
// strings prefixed by a uvarint length, and no optional padding. Decoding is
// strict: a non-minimal varint, a length past the end of the input or past a
// declared limit, and trailing bytes are all errors, so one value has exactly
// one encoding.

// ErrTruncated is returned when input ends before a value is complete.
var ErrTruncated = errors.New("truncated input")

// ErrTrailing is returned when bytes remain after a complete value.
var ErrTrailing = errors.New("trailing bytes after value")

// MaxFieldLen bounds any single length-prefixed field (16 MiB), so a hostile
// length prefix cannot make a decoder allocate without limit.
const MaxFieldLen = 16 << 20

// Encoder appends canonical encodings to a byte slice.
type Encoder struct{ buf []byte }

// NewEncoder returns an encoder whose buffer starts with capacity n.
func NewEncoder(n int) *Encoder { return &Encoder{buf: make([]byte, 0, n)} }

// Bytes returns the encoded bytes. The encoder must not be used afterwards.
func (e *Encoder) Bytes() []byte { return e.buf }

// U8 appends one byte.
func (e *Encoder) U8(v uint8) { e.buf = append(e.buf, v) }

// Bool appends 1 for true and 0 for false.
func (e *Encoder) Bool(v bool) {
	if v {
		e.buf = append(e.buf, 1)
	} else {
		e.buf = append(e.buf, 0)
	}
}

// U32 appends v big-endian.
func (e *Encoder) U32(v uint32) { e.buf = binary.BigEndian.AppendUint32(e.buf, v) }

// U64 appends v big-endian.
func (e *Encoder) U64(v uint64) { e.buf = binary.BigEndian.AppendUint64(e.buf, v) }

// I64 appends v big-endian in two's complement.
func (e *Encoder) I64(v int64) { e.U64(uint64(v)) }

// Fixed appends b as is; the decoder must know its length.
func (e *Encoder) Fixed(b []byte) { e.buf = append(e.buf, b...) }

// Uvarint appends v as a minimal unsigned varint.
func (e *Encoder) Uvarint(v uint64) { e.buf = binary.AppendUvarint(e.buf, v) }

// VarBytes appends a uvarint length and then b.
func (e *Encoder) VarBytes(b []byte) {
	e.Uvarint(uint64(len(b)))
	e.buf = append(e.buf, b...)
}

// String appends s as VarBytes.
func (e *Encoder) String(s string) {
	e.Uvarint(uint64(len(s)))
	e.buf = append(e.buf, s...)
}

// Decoder reads canonical encodings. The first error sticks: later reads
// return zero values, and Err reports the first failure with its offset.
type Decoder struct {
	buf []byte
	off int
	err error
}

// NewDecoder returns a decoder over b. It does not copy b; VarBytes results
// alias it unless the caller copies them.
func NewDecoder(b []byte) *Decoder { return &Decoder{buf: b} }

// Err returns the first error met, or nil.
func (d *Decoder) Err() error { return d.err }

// Remaining returns how many bytes are left.
func (d *Decoder) Remaining() int { return len(d.buf) - d.off }

// Offset returns how many bytes have been consumed.
func (d *Decoder) Offset() int { return d.off }

// Fail records err (wrapped with the current offset) if no error is set yet.
func (d *Decoder) Fail(err error) {
	if d.err == nil {
		d.err = fmt.Errorf("at byte %d: %w", d.off, err)
	}
}

func (d *Decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.buf)-d.off {
		d.Fail(ErrTruncated)
		return nil
	}
	b := d.buf[d.off : d.off+n]
	d.off += n
	return b
}

// U8 reads one byte.
func (d *Decoder) U8() uint8 {
	b := d.take(1)
	if b == nil {
		return 0
	}
	return b[0]
}

// Bool reads a byte that must be 0 or 1.
func (d *Decoder) Bool() bool {
	v := d.U8()
	if v > 1 {
		d.Fail(fmt.Errorf("bool byte %d is neither 0 nor 1", v))
		return false
	}
	return v == 1
}

// U32 reads a big-endian uint32.
func (d *Decoder) U32() uint32 {
	b := d.take(4)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

// U64 reads a big-endian uint64.
func (d *Decoder) U64() uint64 {
	b := d.take(8)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// I64 reads a big-endian two's complement int64.
func (d *Decoder) I64() int64 { return int64(d.U64()) }

// Fixed reads exactly len(dst) bytes into dst.
func (d *Decoder) Fixed(dst []byte) {
	b := d.take(len(dst))
	if b != nil {
		copy(dst, b)
	}
}

// Uvarint reads a minimal unsigned varint.
func (d *Decoder) Uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.buf[d.off:])
	if n <= 0 {
		if n == 0 {
			d.Fail(ErrTruncated)
		} else {
			d.Fail(errors.New("varint overflows 64 bits"))
		}
		return 0
	}
	if n != len(binary.AppendUvarint(nil, v)) {
		d.Fail(errors.New("non-minimal varint"))
		return 0
	}
	d.off += n
	return v
}

// Len reads a uvarint length and checks it against max and the input left.
func (d *Decoder) Len(max int) int {
	v := d.Uvarint()
	if d.err != nil {
		return 0
	}
	if v > uint64(max) {
		d.Fail(fmt.Errorf("length %d exceeds limit %d", v, max))
		return 0
	}
	if v > uint64(d.Remaining()) {
		d.Fail(ErrTruncated)
		return 0
	}
	return int(v)
}

// VarBytes reads a length-prefixed byte string of at most max bytes. The
// result is a copy, safe to keep.
func (d *Decoder) VarBytes(max int) []byte {
	n := d.Len(max)
	b := d.take(n)
	if b == nil {
		return nil
	}
	out := make([]byte, n)
	copy(out, b)
	return out
}

// String reads a length-prefixed string of at most max bytes.
func (d *Decoder) String(max int) string {
	n := d.Len(max)
	b := d.take(n)
	if b == nil {
		return ""
	}
	return string(b)
}

// Finish returns the first error, or ErrTrailing if input is left over.
func (d *Decoder) Finish() error {
	if d.err != nil {
		return d.err
	}
	if d.off != len(d.buf) {
		return fmt.Errorf("at byte %d: %w (%d left)", d.off, ErrTrailing, len(d.buf)-d.off)
	}
	return nil
}
