package interfaces

import "fmt"

// MaxTopicLen bounds a topic name.
const MaxTopicLen = 256

// MaxEnvelopePayload bounds one message's payload (8 MiB).
const MaxEnvelopePayload = 8 << 20

// Envelope is one message between stars as the transport delivers it. From
// is the sender the transport authenticated (for libp2p, the Noise-verified
// peer key); the transport drops and counts any envelope whose claimed From
// differs from the authenticated peer. Topic is a gossip topic such as
// "tx/0", or "direct/<protocol>" for point-to-point streams.
type Envelope struct {
	From    StarID
	Topic   string
	Payload []byte
}

// Encode returns the canonical wire encoding.
func (m *Envelope) Encode() []byte {
	e := NewEncoder(48 + len(m.Topic) + len(m.Payload))
	e.U8(1)
	e.Fixed(m.From[:])
	e.String(m.Topic)
	e.VarBytes(m.Payload)
	return e.Bytes()
}

// DecodeEnvelope decodes a canonical envelope.
func DecodeEnvelope(b []byte) (*Envelope, error) {
	d := NewDecoder(b)
	m := &Envelope{}
	if v := d.U8(); d.Err() == nil && v != 1 {
		d.Fail(fmt.Errorf("envelope version %d, want 1", v))
	}
	d.Fixed(m.From[:])
	m.Topic = d.String(MaxTopicLen)
	m.Payload = d.VarBytes(MaxEnvelopePayload)
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("decode envelope: %w", err)
	}
	return m, nil
}

// TxTopic is the gossip topic carrying transactions routed to a cluster.
func TxTopic(c ClusterID) string { return fmt.Sprintf("tx/%d", c) }

// Well-known topics.
const (
	TopicCheckpoints = "checkpoints" // cluster checkpoint blocks, to the galaxy
	TopicBlackHoles  = "blackholes"  // galaxy blocks, to everyone
	TopicWants       = "wants"       // requests to announce a checkpoint or black hole again
)

// Consensus and block-sync topics belong to one instance:
// ConsensusTopic (signed.go) and blocksync.Topic.
