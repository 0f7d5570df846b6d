package interfaces

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// InstanceID names one consensus instance: one group (a cluster or the
// galaxy) with one member set. Every consensus message is signed over it,
// so a message can never be replayed into another group or into the same
// group after its membership changed.
type InstanceID Hash

// NewInstanceID derives the id of the instance that group runs from epoch
// start with members (sorted or not; the id sorts them). network is the
// genesis seed, so two networks never share an id.
func NewInstanceID(network string, group string, start uint64, members []StarID) InstanceID {
	sorted := slices.Clone(members)
	slices.SortFunc(sorted, CompareStars)
	e := NewEncoder(64 + 32*len(sorted))
	e.String(network)
	e.String(group)
	e.U64(start)
	e.Uvarint(uint64(len(sorted)))
	for _, m := range sorted {
		e.Fixed(m[:])
	}
	return InstanceID(DomainSum("constellation/instance/v1", e.Bytes()))
}

// Short returns a short prefix for logs and topic names.
func (i InstanceID) Short() string { return Hash(i).Short() }

// ConsensusTopic is the direct-stream topic of one instance's messages.
// Each instance has its own, so two groups on one transport never see each
// other's traffic.
func ConsensusTopic(i InstanceID) string { return "direct/consensus/" + Hash(i).String() }

// SignedMessage is a consensus message as it travels between members: the
// engine's payload wrapped with the instance, the epoch the engine said it
// belongs to, the recipient (Broadcast for every member) and the sender's
// ed25519 signature over all of them. The signature makes a message
// attributable to a third party: two signed messages that the engine's
// rules say conflict prove equivocation, and one signed message the rules
// refuse proves a malformed message, without trusting whoever shows them.
type SignedMessage struct {
	Instance InstanceID
	Epoch    uint64
	From     StarID
	To       StarID // Broadcast (all zero) when sent to every member
	Payload  []byte
	Sig      [ed25519.SignatureSize]byte
}

// signedMessageVersion is the first byte of a SignedMessage encoding.
const signedMessageVersion = 1

// digest is what the sender signs.
func (m *SignedMessage) digest() Hash {
	var ep [8]byte
	binary.BigEndian.PutUint64(ep[:], m.Epoch)
	return DomainSum("constellation/consensus-message/v1", m.Instance[:], ep[:], m.From[:], m.To[:], m.Payload)
}

// Sign fills From from key and signs the message.
func (m *SignedMessage) Sign(key ed25519.PrivateKey) {
	copy(m.From[:], key.Public().(ed25519.PublicKey))
	d := m.digest()
	copy(m.Sig[:], ed25519.Sign(key, d[:]))
}

// Verify checks the signature against From; it wraps ErrBadSignature.
func (m *SignedMessage) Verify() error {
	d := m.digest()
	if !ed25519.Verify(m.From.PublicKey(), d[:], m.Sig[:]) {
		return fmt.Errorf("consensus message from %s, epoch %d: %w", m.From.Short(), m.Epoch, ErrBadSignature)
	}
	return nil
}

// Encode returns the canonical encoding.
func (m *SignedMessage) Encode() []byte {
	e := NewEncoder(1 + 32 + 8 + 32 + 32 + 5 + len(m.Payload) + 64)
	m.EncodeTo(e)
	return e.Bytes()
}

// EncodeTo appends the canonical encoding to e.
func (m *SignedMessage) EncodeTo(e *Encoder) {
	e.U8(signedMessageVersion)
	e.Fixed(m.Instance[:])
	e.U64(m.Epoch)
	e.Fixed(m.From[:])
	e.Fixed(m.To[:])
	e.VarBytes(m.Payload)
	e.Fixed(m.Sig[:])
}

func decodeSignedMessageFrom(d *Decoder) SignedMessage {
	var m SignedMessage
	if v := d.U8(); d.Err() == nil && v != signedMessageVersion {
		d.Fail(fmt.Errorf("signed message version %d, want %d", v, signedMessageVersion))
	}
	d.Fixed(m.Instance[:])
	m.Epoch = d.U64()
	d.Fixed(m.From[:])
	d.Fixed(m.To[:])
	m.Payload = d.VarBytes(MaxEnvelopePayload)
	d.Fixed(m.Sig[:])
	return m
}

// DecodeSignedMessage decodes a canonical SignedMessage. It does not verify
// the signature.
func DecodeSignedMessage(raw []byte) (*SignedMessage, error) {
	d := NewDecoder(raw)
	m := decodeSignedMessageFrom(d)
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("decode signed consensus message: %w", err)
	}
	return &m, nil
}

// Evidence is what a fault carries into a block: the faulty star's own
// signed messages that, by the engine's rules, prove the fault. Anyone
// holding the instance's public configuration can check it (VerifyFault).
type Evidence struct {
	Messages []SignedMessage
}

// MaxEvidenceMessages bounds the messages one piece of evidence holds;
// every fault kind needs one (malformed, invalid share or Merkle branch)
// or two (equivocation).
const MaxEvidenceMessages = 2

// MaxEvidenceBytes bounds one piece of evidence's encoding, so that
// evidence never bloats a block.
const MaxEvidenceBytes = 64 << 10

// Encode returns the canonical encoding.
func (ev *Evidence) Encode() []byte {
	e := NewEncoder(256)
	e.U8(1)
	e.Uvarint(uint64(len(ev.Messages)))
	for i := range ev.Messages {
		ev.Messages[i].EncodeTo(e)
	}
	return e.Bytes()
}

// DecodeEvidence decodes canonical evidence.
func DecodeEvidence(raw []byte) (*Evidence, error) {
	if len(raw) > MaxEvidenceBytes {
		return nil, fmt.Errorf("decode evidence: %d bytes, at most %d", len(raw), MaxEvidenceBytes)
	}
	d := NewDecoder(raw)
	if v := d.U8(); d.Err() == nil && v != 1 {
		d.Fail(fmt.Errorf("evidence version %d, want 1", v))
	}
	n := d.Len(MaxEvidenceMessages)
	ev := &Evidence{}
	for i := 0; i < n && d.Err() == nil; i++ {
		ev.Messages = append(ev.Messages, decodeSignedMessageFrom(d))
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("decode evidence: %w", err)
	}
	if len(ev.Messages) == 0 {
		return nil, errors.New("decode evidence: no messages")
	}
	return ev, nil
}

// FaultChecker is implemented by consensus engines whose faults can be
// proven to a third party. CheckFault reports whether payloads, each one
// signed by f.Star for this instance (the caller has verified the
// signatures, see VerifyFault), prove a fault of kind f.Kind in epoch
// f.Epoch under the engine's rules: nil when they do. to[i] is the
// recipient payloads[i] was signed for (Broadcast for every member). It
// must be a pure function of the instance's configuration and its
// arguments, identical on every honest member, because its answer decides
// what enters a block.
type FaultChecker interface {
	CheckFault(f Fault, to []StarID, payloads [][]byte) error
}

// ErrNotProvable is wrapped by VerifyFault for evidence that does not
// prove the fault it claims.
var ErrNotProvable = errors.New("evidence does not prove the fault")

// VerifyFault checks that f.Evidence proves f in instance inst: it decodes
// the evidence, checks that every message is f.Star's, for inst, with a
// valid signature, and that the first is of f.Epoch, then asks the
// engine's checker whether the payloads break its rules.
func VerifyFault(inst InstanceID, checker FaultChecker, f Fault) error {
	if checker == nil {
		return fmt.Errorf("%s by %s: %w: the engine cannot check evidence", f.Kind, f.Star.Short(), ErrNotProvable)
	}
	ev, err := DecodeEvidence(f.Evidence)
	if err != nil {
		return fmt.Errorf("%s by %s: %w: %v", f.Kind, f.Star.Short(), ErrNotProvable, err)
	}
	if ev.Messages[0].Epoch != f.Epoch {
		return fmt.Errorf("%s by %s: %w: fault names epoch %d, its first message is of epoch %d", f.Kind, f.Star.Short(), ErrNotProvable, f.Epoch, ev.Messages[0].Epoch)
	}
	to := make([]StarID, len(ev.Messages))
	payloads := make([][]byte, len(ev.Messages))
	for i := range ev.Messages {
		m := &ev.Messages[i]
		if m.From != f.Star {
			return fmt.Errorf("%s by %s: %w: message %d is signed by %s", f.Kind, f.Star.Short(), ErrNotProvable, i, m.From.Short())
		}
		if m.Instance != inst {
			return fmt.Errorf("%s by %s: %w: message %d belongs to instance %s, not %s", f.Kind, f.Star.Short(), ErrNotProvable, i, m.Instance.Short(), inst.Short())
		}
		if err := m.Verify(); err != nil {
			return fmt.Errorf("%s by %s: %w: %v", f.Kind, f.Star.Short(), ErrNotProvable, err)
		}
		to[i], payloads[i] = m.To, m.Payload
	}
	if err := checker.CheckFault(f, to, payloads); err != nil {
		return fmt.Errorf("%s by %s: %w: %v", f.Kind, f.Star.Short(), ErrNotProvable, err)
	}
	return nil
}

// PayloadEvidence is how an engine names, in a Fault it reports, the
// messages that prove it: the offending payloads exactly as Step received
// them, in the order CheckFault expects. The host finds the signed
// messages that carried them and replaces Evidence with an Evidence
// encoding; a fault whose messages it cannot find (or that the engine
// reported without them) stays a local observation and never enters a
// block.
func PayloadEvidence(payloads ...[]byte) []byte {
	e := NewEncoder(64)
	e.U8(1)
	e.Uvarint(uint64(len(payloads)))
	for _, p := range payloads {
		e.VarBytes(p)
	}
	return e.Bytes()
}

// DecodePayloadEvidence decodes what PayloadEvidence wrote.
func DecodePayloadEvidence(raw []byte) ([][]byte, error) {
	d := NewDecoder(raw)
	if v := d.U8(); d.Err() == nil && v != 1 {
		d.Fail(fmt.Errorf("payload evidence version %d, want 1", v))
	}
	n := d.Len(MaxEvidenceMessages)
	var out [][]byte
	for i := 0; i < n && d.Err() == nil; i++ {
		out = append(out, d.VarBytes(MaxEnvelopePayload))
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("decode payload evidence: %w", err)
	}
	return out, nil
}
