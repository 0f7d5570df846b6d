package honeybadger

import (
	"errors"
	"fmt"

	"github.com/constellation-chain/constellation/interfaces"
)

// WireVersion is the version byte every HoneyBadger message starts with. A
// decoder meeting another version rejects the message (FaultMalformed); a
// future version will be negotiated by the cluster's manifest, not guessed.
const WireVersion = 1

// MsgType names a protocol message. The values are part of the wire format.
type MsgType uint8

const (
	// MsgVal is RBC's first step: the proposer sends member j the Merkle root
	// of its erasure-coded proposal, shard j and shard j's Merkle branch.
	MsgVal MsgType = 1
	// MsgEcho is RBC's second step: a member broadcasts the shard it received
	// in VAL (its own index) with the branch, so that others can reconstruct.
	MsgEcho MsgType = 2
	// MsgReady is RBC's third step: a member vouches for a root after N−f
	// ECHOs or f+1 READYs for it.
	MsgReady MsgType = 3
	// MsgBval is ABA's BVAL(round, b) (binary-value broadcast).
	MsgBval MsgType = 4
	// MsgAux is ABA's AUX(round, b).
	MsgAux MsgType = 5
	// MsgConf is ABA's CONF(round, set), the extra step that fixes the values
	// before the coin is revealed (the fix for the MMR liveness issue).
	MsgConf MsgType = 6
	// MsgCoin carries a threshold signature share on the coin's name.
	MsgCoin MsgType = 7
	// MsgTerm says the sender decided Value in this agreement and stopped; it
	// counts as the sender's BVAL, AUX and CONF in every later round.
	MsgTerm MsgType = 8
	// MsgDec carries the sender's decryption shares for the ciphertexts ACS
	// agreed on, one entry per proposer, in proposer order.
	MsgDec MsgType = 9
)

func (t MsgType) String() string {
	switch t {
	case MsgVal:
		return "VAL"
	case MsgEcho:
		return "ECHO"
	case MsgReady:
		return "READY"
	case MsgBval:
		return "BVAL"
	case MsgAux:
		return "AUX"
	case MsgConf:
		return "CONF"
	case MsgCoin:
		return "COIN"
	case MsgTerm:
		return "TERM"
	case MsgDec:
		return "DEC"
	}
	return fmt.Sprintf("msg(%d)", uint8(t))
}

// Limits enforced by the decoder, independent of the cluster's size.
const (
	// MaxMembers bounds N: the Reed–Solomon code over GF(2^8) has at most
	// 256 shards.
	MaxMembers = 256
	// maxBranch bounds a Merkle branch: a tree of at most 256 leaves has
	// depth 8.
	maxBranch = 8
	// MaxRound bounds an ABA round number on the wire. Agreement ends in an
	// expected constant number of rounds; far larger numbers are hostile.
	MaxRound = 1 << 20
	// maxShareLen bounds one threshold share (coin or decryption).
	maxShareLen = 1024
)

// Set bits for CONF's value set.
const (
	set0 uint8 = 1 << 0 // the set contains false
	set1 uint8 = 1 << 1 // the set contains true
)

// DecEntry is one decryption share inside a DEC message.
type DecEntry struct {
	Proposer uint32
	Share    []byte
}

// Message is every HoneyBadger message, flattened: which fields are used
// depends on Type. Keeping one struct lets the engine decode without
// interface boxing and lets the fuzz target check that decoding and
// re-encoding round-trip byte for byte.
//
// Layout (after the version byte and the type byte, then the epoch as a
// big-endian u64):
//
//	VAL, ECHO   instance uvarint, root [32], branch count uvarint, branch [32]×count, shard VarBytes
//	READY       instance uvarint, root [32]
//	BVAL, AUX   instance uvarint, round uvarint, value u8 (0 or 1)
//	CONF        instance uvarint, round uvarint, set u8 (1, 2 or 3)
//	COIN        instance uvarint, round uvarint, share VarBytes
//	TERM        instance uvarint, value u8 (0 or 1)
//	DEC         count uvarint, then count × (proposer uvarint, share VarBytes), proposers strictly increasing
type Message struct {
	Type     MsgType
	Epoch    uint64
	Instance uint32 // the proposer whose RBC/ABA this belongs to
	Round    uint32
	Value    uint8 // BVAL/AUX/TERM: 0 or 1; CONF: a set of set0|set1
	Root     interfaces.Hash
	Branch   []interfaces.Hash
	Payload  []byte // VAL/ECHO shard, COIN share
	Dec      []DecEntry
}

// ErrUnknownType is wrapped by DecodeMessage for an unknown type byte.
var ErrUnknownType = errors.New("unknown message type")

// encodedLen returns an upper bound of the encoding's size.
func (m *Message) encodedLen() int {
	n := 2 + 8 + 10 + 10 + 1 + 32 + 10 + 32*len(m.Branch) + 10 + len(m.Payload)
	for _, d := range m.Dec {
		n += 10 + 10 + len(d.Share)
	}
	return n
}

// Encode returns the canonical encoding of m. It does not validate m beyond
// what the layout needs; the engine only encodes messages it built itself.
func (m *Message) Encode() []byte {
	e := interfaces.NewEncoder(m.encodedLen())
	m.EncodeTo(e)
	return e.Bytes()
}

// EncodeTo appends the canonical encoding of m to e.
func (m *Message) EncodeTo(e *interfaces.Encoder) {
	e.U8(WireVersion)
	e.U8(uint8(m.Type))
	e.U64(m.Epoch)
	switch m.Type {
	case MsgVal, MsgEcho:
		e.Uvarint(uint64(m.Instance))
		e.Fixed(m.Root[:])
		e.Uvarint(uint64(len(m.Branch)))
		for i := range m.Branch {
			e.Fixed(m.Branch[i][:])
		}
		e.VarBytes(m.Payload)
	case MsgReady:
		e.Uvarint(uint64(m.Instance))
		e.Fixed(m.Root[:])
	case MsgBval, MsgAux, MsgConf:
		e.Uvarint(uint64(m.Instance))
		e.Uvarint(uint64(m.Round))
		e.U8(m.Value)
	case MsgCoin:
		e.Uvarint(uint64(m.Instance))
		e.Uvarint(uint64(m.Round))
		e.VarBytes(m.Payload)
	case MsgTerm:
		e.Uvarint(uint64(m.Instance))
		e.U8(m.Value)
	case MsgDec:
		e.Uvarint(uint64(len(m.Dec)))
		for _, d := range m.Dec {
			e.Uvarint(uint64(d.Proposer))
			e.VarBytes(d.Share)
		}
	}
}

// DecodeMessage decodes one message strictly: a wrong version, an unknown
// type, an out-of-range field, a non-minimal varint or trailing bytes are
// all errors, so every accepted message has exactly one encoding. Byte
// fields are copied; the result does not alias raw.
func DecodeMessage(raw []byte) (*Message, error) {
	m := &Message{}
	if err := m.decode(raw); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Message) decode(raw []byte) error {
	d := interfaces.NewDecoder(raw)
	if v := d.U8(); d.Err() == nil && v != WireVersion {
		return fmt.Errorf("decode honeybadger message: version %d, want %d", v, WireVersion)
	}
	m.Type = MsgType(d.U8())
	m.Epoch = d.U64()
	instance := func() uint32 {
		v := d.Uvarint()
		if d.Err() == nil && v >= MaxMembers {
			d.Fail(fmt.Errorf("instance %d out of range", v))
		}
		return uint32(v)
	}
	round := func() uint32 {
		v := d.Uvarint()
		if d.Err() == nil && v > MaxRound {
			d.Fail(fmt.Errorf("round %d exceeds %d", v, MaxRound))
		}
		return uint32(v)
	}
	bit := func() uint8 {
		v := d.U8()
		if d.Err() == nil && v > 1 {
			d.Fail(fmt.Errorf("binary value %d is neither 0 nor 1", v))
		}
		return v
	}
	if d.Err() != nil {
		return fmt.Errorf("decode honeybadger message: %w", d.Err())
	}
	switch m.Type {
	case MsgVal, MsgEcho:
		m.Instance = instance()
		d.Fixed(m.Root[:])
		n := d.Len(maxBranch)
		if d.Err() == nil && n*32 > d.Remaining() {
			d.Fail(interfaces.ErrTruncated)
		}
		if d.Err() == nil && n > 0 {
			m.Branch = make([]interfaces.Hash, n)
			for i := range m.Branch {
				d.Fixed(m.Branch[i][:])
			}
		}
		m.Payload = d.VarBytes(interfaces.MaxFieldLen)
	case MsgReady:
		m.Instance = instance()
		d.Fixed(m.Root[:])
	case MsgBval, MsgAux:
		m.Instance = instance()
		m.Round = round()
		m.Value = bit()
	case MsgConf:
		m.Instance = instance()
		m.Round = round()
		m.Value = d.U8()
		if d.Err() == nil && (m.Value == 0 || m.Value > set0|set1) {
			d.Fail(fmt.Errorf("CONF value set %d is not 1, 2 or 3", m.Value))
		}
	case MsgCoin:
		m.Instance = instance()
		m.Round = round()
		m.Payload = d.VarBytes(maxShareLen)
	case MsgTerm:
		m.Instance = instance()
		m.Value = bit()
	case MsgDec:
		n := d.Len(MaxMembers)
		if d.Err() == nil && n > 0 {
			m.Dec = make([]DecEntry, 0, n)
		}
		for i := 0; i < n && d.Err() == nil; i++ {
			p := instance()
			if d.Err() == nil && i > 0 && p <= m.Dec[i-1].Proposer {
				d.Fail(fmt.Errorf("DEC entries not in strictly increasing proposer order (%d after %d)", p, m.Dec[i-1].Proposer))
			}
			m.Dec = append(m.Dec, DecEntry{Proposer: p, Share: d.VarBytes(maxShareLen)})
		}
	default:
		return fmt.Errorf("decode honeybadger message: %w %d", ErrUnknownType, uint8(m.Type))
	}
	if err := d.Finish(); err != nil {
		return fmt.Errorf("decode honeybadger %s message: %w", m.Type, err)
	}
	return nil
}
