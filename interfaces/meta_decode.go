package interfaces

import "fmt"

// DecodeBlockMeta decodes a canonical BlockMeta encoding (as written by
// BlockMeta.Encode) and rejects trailing bytes. The plugin RPC uses it to
// carry metadata in its canonical form rather than re-encoding it.
func DecodeBlockMeta(raw []byte) (BlockMeta, error) {
	d := NewDecoder(raw)
	m := decodeMetaFrom(d)
	if err := d.Finish(); err != nil {
		return BlockMeta{}, fmt.Errorf("decode block meta: %w", err)
	}
	return m, nil
}
