package simtest

import (
	"bytes"
	"testing"

	"github.com/constellation-chain/constellation/interfaces"
)

func TestMessageEncodingRoundTrips(t *testing.T) {
	for _, c := range [][]byte{nil, {}, []byte("x"), bytes.Repeat([]byte{7}, 300)} {
		ep, got, err := DecodeMessage(EncodeMessage(42, c))
		if err != nil || ep != 42 || !bytes.Equal(got, c) {
			t.Fatalf("round trip of %d bytes: epoch %d, %d bytes, err %v", len(c), ep, len(got), err)
		}
	}
}

func FuzzDecodeMessage(f *testing.F) {
	f.Add(EncodeMessage(1, []byte("hello")))
	f.Add([]byte{})
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		ep, c, err := DecodeMessage(b)
		if err != nil {
			return
		}
		if re := EncodeMessage(ep, c); !bytes.Equal(re, b) {
			t.Fatalf("decoded message re-encodes differently: %x vs %x", re, b)
		}
	})
}

func FuzzDecodeACS(f *testing.F) {
	for _, m := range []*acsMsg{
		{typ: acsVal, epoch: 3, data: []byte("x")},
		{typ: acsEcho, epoch: 3, inst: 2, data: []byte("y")},
		{typ: acsReady, epoch: 3, inst: 1},
		{typ: acsBval, epoch: 3, inst: 0, round: 7, bit: 1},
		{typ: acsAux, epoch: 3, inst: 3, round: 0, bit: 0},
		{typ: acsTerm, epoch: 3, inst: 3, bit: 1},
	} {
		f.Add(m.encode())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeACS(b, 4)
		if err != nil {
			return
		}
		if re := m.encode(); !bytes.Equal(re, b) {
			t.Fatalf("decoded message re-encodes differently: %x vs %x", re, b)
		}
	})
}

// FuzzStepNeverFails: arbitrary network input from any member never makes
// either engine panic or return an error.
func FuzzStepNeverFails(f *testing.F) {
	f.Add(uint8(1), (&acsMsg{typ: acsEcho, epoch: 1, inst: 2, data: []byte("y")}).encode())
	f.Add(uint8(2), (&acsMsg{typ: acsBval, epoch: 1, inst: 0, round: 3, bit: 1}).encode())
	f.Add(uint8(3), EncodeMessage(1, []byte("x")))
	f.Fuzz(func(t *testing.T, from uint8, b []byte) {
		members := make([]interfaces.StarID, 4)
		for i := range members {
			members[i][0] = byte(i + 1)
		}
		cfg := interfaces.ConsensusConfig{Self: members[0], Members: members, Epoch: 1}
		a, err := NewACS(cfg)
		if err != nil {
			t.Fatal(err)
		}
		c, err := NewAllcast(cfg)
		if err != nil {
			t.Fatal(err)
		}
		sender := members[int(from)%4]
		for _, m := range []interfaces.Consensus{a, c} {
			if _, err := m.Propose([]byte("mine")); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Step(sender, b); err != nil {
				t.Fatalf("Step returned an error for network input: %v", err)
			}
		}
	})
}
