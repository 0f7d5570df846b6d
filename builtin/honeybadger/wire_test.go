package honeybadger

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/constellation-chain/constellation/interfaces"
)

func sampleMessages() []*Message {
	root := interfaces.Hash{1, 2, 3}
	return []*Message{
		{Type: MsgVal, Epoch: 7, Instance: 3, Root: root, Branch: []interfaces.Hash{{4}, {5}}, Payload: []byte("shard")},
		{Type: MsgEcho, Epoch: 1 << 40, Instance: 255, Root: root, Payload: []byte{}},
		{Type: MsgReady, Epoch: 2, Instance: 1, Root: root},
		{Type: MsgBval, Epoch: 3, Instance: 2, Round: 9, Value: 1},
		{Type: MsgAux, Epoch: 3, Instance: 2, Round: 0, Value: 0},
		{Type: MsgConf, Epoch: 3, Instance: 2, Round: 4, Value: set0 | set1},
		{Type: MsgCoin, Epoch: 3, Instance: 0, Round: 2, Payload: bytes.Repeat([]byte{9}, 49)},
		{Type: MsgTerm, Epoch: 4, Instance: 6, Value: 1},
		{Type: MsgDec, Epoch: 5, Dec: []DecEntry{{Proposer: 0, Share: []byte{1}}, {Proposer: 3, Share: []byte{2, 3}}}},
	}
}

func TestWireRoundTripIsCanonical(t *testing.T) {
	for _, m := range sampleMessages() {
		raw := m.Encode()
		got, err := DecodeMessage(raw)
		if err != nil {
			t.Fatalf("%s: decode: %v", m.Type, err)
		}
		if again := got.Encode(); !bytes.Equal(again, raw) {
			t.Fatalf("%s: re-encoding differs:\n%x\n%x", m.Type, raw, again)
		}
	}
}

func TestWireDecoderIsStrict(t *testing.T) {
	valid := (&Message{Type: MsgBval, Epoch: 1, Instance: 2, Round: 3, Value: 1}).Encode()
	cases := map[string][]byte{
		"empty":           {},
		"wrong version":   append([]byte{WireVersion + 1}, valid[1:]...),
		"unknown type":    append([]byte{WireVersion, 99}, valid[2:]...),
		"trailing bytes":  append(append([]byte{}, valid...), 0),
		"truncated":       valid[:len(valid)-1],
		"value 2":         append(append([]byte{}, valid[:len(valid)-1]...), 2),
		"instance 256":    (&Message{Type: MsgTerm, Instance: 256}).Encode(),
		"round too large": (&Message{Type: MsgAux, Round: MaxRound + 1}).Encode(),
		"empty CONF set":  (&Message{Type: MsgConf, Value: 0}).Encode(),
		"CONF set 4":      (&Message{Type: MsgConf, Value: 4}).Encode(),
		"DEC unordered":   (&Message{Type: MsgDec, Dec: []DecEntry{{Proposer: 2}, {Proposer: 1}}}).Encode(),
		"DEC duplicate":   (&Message{Type: MsgDec, Dec: []DecEntry{{Proposer: 1}, {Proposer: 1}}}).Encode(),
		"long branch":     (&Message{Type: MsgEcho, Branch: make([]interfaces.Hash, maxBranch+1)}).Encode(),
		"big coin share":  (&Message{Type: MsgCoin, Payload: make([]byte, maxShareLen+1)}).Encode(),
	}
	// A non-minimal varint for the instance: 0x80 0x00 encodes 0 in two bytes.
	nm := []byte{WireVersion, byte(MsgTerm), 0, 0, 0, 0, 0, 0, 0, 1, 0x80, 0x00, 1}
	cases["non-minimal varint"] = nm
	for name, raw := range cases {
		if _, err := DecodeMessage(raw); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

// Step on garbage yields a FaultMalformed against the sender, never an
// error or a panic.
func TestStepOnGarbageIsMalformedFault(t *testing.T) {
	net := newTestNet(t, 4, 1, modeA())
	e := net.nodes[0]
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		b := make([]byte, rng.IntN(64))
		for k := range b {
			b[k] = byte(rng.Uint32())
		}
		if i%2 == 0 && len(b) > 0 {
			b[0] = 0xee
		}
		out, err := e.Step(net.members[1], b)
		if err != nil {
			t.Fatalf("Step returned error %v", err)
		}
		if _, derr := DecodeMessage(b); derr != nil {
			if len(out.Faults) != 1 || out.Faults[0].Kind != interfaces.FaultMalformed || out.Faults[0].Star != net.members[1] {
				t.Fatalf("garbage %x: faults %v, want one FaultMalformed from member 1", b, out.Faults)
			}
		}
	}
}

func FuzzDecodeMessage(f *testing.F) {
	for _, m := range sampleMessages() {
		f.Add(m.Encode())
	}
	f.Add([]byte{})
	f.Add([]byte{WireVersion, byte(MsgDec), 0, 0, 0, 0, 0, 0, 0, 0, 0})
	members := testMembers(4)
	cfg := interfaces.ConsensusConfig{Self: members[0], Members: members}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := DecodeMessage(raw)
		if err == nil {
			if again := m.Encode(); !bytes.Equal(again, raw) {
				t.Fatalf("accepted a non-canonical encoding:\n%x\nre-encodes to\n%x", raw, again)
			}
		}
		e, nerr := newEngine(cfg, modeA())
		if nerr != nil {
			t.Fatal(nerr)
		}
		out, serr := e.Step(members[1], raw)
		if serr != nil {
			t.Fatalf("Step returned error %v", serr)
		}
		if err != nil && (len(out.Faults) != 1 || out.Faults[0].Kind != interfaces.FaultMalformed) {
			t.Fatalf("undecodable input gave faults %v, want one FaultMalformed", out.Faults)
		}
	})
}
