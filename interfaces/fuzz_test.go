package interfaces_test

import (
	"bytes"
	"testing"

	"github.com/constellation-chain/constellation/interfaces"
)

// Each fuzz target checks the two properties every canonical decoder must
// have: it never panics on any input, and whatever it accepts re-encodes to
// exactly the input bytes (one value, one encoding), so hashes and
// signatures over re-encoded values agree with the ones over received bytes.

func sampleTx(tb testing.TB, name string, seq uint64, counter bool) *interfaces.Transaction {
	tb.Helper()
	key := interfaces.DevKey(name)
	to := interfaces.DevStar(name + "-to")
	tx, err := interfaces.NewTransfer(key, seq, interfaces.Sum([]byte(name)), to, 42)
	if err != nil {
		tb.Fatal(err)
	}
	if counter {
		tx.Counterparty = to
		if err := tx.Sign(key); err != nil {
			tb.Fatal(err)
		}
		if err := tx.CounterSign(interfaces.DevKey(name + "-to")); err != nil {
			tb.Fatal(err)
		}
	}
	return tx
}

func sampleBlock(tb testing.TB) *interfaces.Block {
	tb.Helper()
	b := &interfaces.Block{
		Header: interfaces.BlockHeader{Cluster: 3, Height: 9, Epoch: 11, Prev: interfaces.GenesisHash("fuzz"), Timestamp: 1_700_000_000_123},
		Txs:    []*interfaces.Transaction{sampleTx(tb, "a", 1, false), sampleTx(tb, "b", 2, true)},
		Meta: interfaces.BlockMeta{
			Proposers:     []interfaces.StarID{interfaces.DevStar("a")},
			Members:       []interfaces.StarID{interfaces.DevStar("a"), interfaces.DevStar("b")},
			Faults:        []interfaces.Fault{{Star: interfaces.DevStar("b"), Kind: interfaces.FaultEquivocation, Epoch: 10, Evidence: []byte("proof")}},
			LatencyMillis: []uint32{5, 0},
		},
	}
	b.Seal()
	return b
}

func FuzzDecodeTransaction(f *testing.F) {
	f.Add(sampleTx(f, "a", 1, false).Encode())
	f.Add(sampleTx(f, "b", 7, true).Encode())
	f.Add([]byte{})
	f.Add([]byte{interfaces.TxVersion})
	f.Fuzz(func(t *testing.T, raw []byte) {
		tx, err := interfaces.DecodeTransaction(raw)
		if err != nil {
			return
		}
		if out := tx.Encode(); !bytes.Equal(out, raw) {
			t.Fatalf("not canonical:\n in  %x\n out %x", raw, out)
		}
		_ = tx.ID()
		_ = tx.VerifySignatures()
		if tx.Kind == interfaces.TxTransfer {
			_, _ = interfaces.DecodeTransferPayload(tx.Payload)
		}
	})
}

func FuzzDecodeTransferPayload(f *testing.F) {
	f.Add(interfaces.TransferPayload{To: interfaces.DevStar("x"), Amount: 5}.Encode())
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := interfaces.DecodeTransferPayload(raw)
		if err != nil {
			return
		}
		if out := p.Encode(); !bytes.Equal(out, raw) {
			t.Fatalf("not canonical:\n in  %x\n out %x", raw, out)
		}
	})
}

func FuzzDecodeMemberPayload(f *testing.F) {
	f.Add(interfaces.MemberPayload{Action: interfaces.MemberJoin, Cluster: 3}.Encode())
	f.Add(interfaces.MemberPayload{Action: interfaces.MemberLeave, Cluster: 1}.Encode())
	f.Add([]byte{1, 2, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := interfaces.DecodeMemberPayload(raw)
		if err != nil {
			return
		}
		if out := p.Encode(); !bytes.Equal(out, raw) {
			t.Fatalf("not canonical:\n in  %x\n out %x", raw, out)
		}
	})
}

func FuzzDecodeBlock(f *testing.F) {
	f.Add(sampleBlock(f).Encode())
	empty := &interfaces.Block{Header: interfaces.BlockHeader{Height: 1}}
	empty.Seal()
	f.Add(empty.Encode())
	f.Add([]byte{interfaces.BlockVersion})
	f.Fuzz(func(t *testing.T, raw []byte) {
		b, err := interfaces.DecodeBlock(raw)
		if err != nil {
			return
		}
		if out := b.Encode(); !bytes.Equal(out, raw) {
			t.Fatalf("not canonical:\n in  %x\n out %x", raw, out)
		}
		if err := b.CheckBody(); err != nil {
			t.Fatalf("decoded block does not commit to its body: %v", err)
		}
		h, err := interfaces.DecodeBlockHeader(b.Header.Encode())
		if err != nil || h != b.Header {
			t.Fatalf("header does not round-trip: %v", err)
		}
	})
}

func FuzzDecodeBlockHeader(f *testing.F) {
	b := sampleBlock(f)
	f.Add(b.Header.Encode())
	f.Fuzz(func(t *testing.T, raw []byte) {
		h, err := interfaces.DecodeBlockHeader(raw)
		if err != nil {
			return
		}
		if out := h.Encode(); !bytes.Equal(out, raw) {
			t.Fatalf("not canonical:\n in  %x\n out %x", raw, out)
		}
	})
}

func FuzzDecodeBlockMeta(f *testing.F) {
	m := sampleBlock(f).Meta
	f.Add(m.Encode())
	m.Edges = []interfaces.Edge{{From: interfaces.DevStar("a"), To: interfaces.DevStar("b")}}
	f.Add(m.Encode())
	m.Handover = &interfaces.Handover{FirstEpoch: 9, Members: []interfaces.StarID{interfaces.DevStar("a")}, GroupKey: []byte{1, 2}}
	f.Add(m.Encode())
	m.Edges = nil
	f.Add(m.Encode())
	m.Candidacy = []interfaces.Candidacy{{Star: interfaces.DevStar("c"), Action: interfaces.MemberJoin}}
	f.Add(m.Encode())
	m.Handover = nil
	f.Add(m.Encode())
	m.Founded = []interfaces.Founding{{Cluster: 2, Members: []interfaces.StarID{interfaces.DevStar("d")}, GroupKey: []byte{3}}}
	f.Add(m.Encode())
	m.Candidacy = nil
	f.Add(m.Encode())
	m.Flow = &interfaces.Flow{Claimed: 4, Sent: []interfaces.Route{{Cluster: 1, Seq: 3}, {Cluster: 2, Seq: 1}}, Credited: []interfaces.Route{{Cluster: 2, Seq: 7}}}
	f.Add(m.Encode())
	m.Founded = nil
	f.Add(m.Encode())
	m.Flow = &interfaces.Flow{}
	f.Add(m.Encode())
	m.Clusters = 3
	f.Add(m.Encode())
	m.Flow = nil
	f.Add(m.Encode())
	f.Add((&interfaces.BlockMeta{}).Encode())
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := interfaces.DecodeBlockMeta(raw)
		if err != nil {
			return
		}
		if out := m.Encode(); !bytes.Equal(out, raw) {
			t.Fatalf("not canonical:\n in  %x\n out %x", raw, out)
		}
	})
}

func FuzzDecodeEnvelope(f *testing.F) {
	f.Add((&interfaces.Envelope{From: interfaces.DevStar("a"), Topic: interfaces.TxTopic(2), Payload: []byte("hello")}).Encode())
	f.Add((&interfaces.Envelope{}).Encode())
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := interfaces.DecodeEnvelope(raw)
		if err != nil {
			return
		}
		if out := m.Encode(); !bytes.Equal(out, raw) {
			t.Fatalf("not canonical:\n in  %x\n out %x", raw, out)
		}
	})
}

func FuzzDecodeTxBatch(f *testing.F) {
	f.Add((&interfaces.TxBatch{Timestamp: 77, Txs: []*interfaces.Transaction{sampleTx(f, "a", 1, false), sampleTx(f, "c", 3, true)}}).Encode())
	f.Add((&interfaces.TxBatch{Timestamp: -1}).Encode())
	f.Add((&interfaces.TxBatch{Timestamp: 3, Faults: []interfaces.Fault{{Star: interfaces.DevStar("d"), Kind: interfaces.FaultMalformed, Epoch: 4, Evidence: []byte{1, 2}}}, Latency: []uint32{0, 7, 1}}).Encode())
	f.Fuzz(func(t *testing.T, raw []byte) {
		b, err := interfaces.DecodeTxBatch(raw)
		if err != nil {
			return
		}
		if out := b.Encode(); !bytes.Equal(out, raw) {
			t.Fatalf("not canonical:\n in  %x\n out %x", raw, out)
		}
	})
}

func sampleSigned(name string, epoch uint64, payload []byte) interfaces.SignedMessage {
	m := interfaces.SignedMessage{Instance: interfaces.NewInstanceID("net", "cluster/0", 0, []interfaces.StarID{interfaces.DevStar(name)}), Epoch: epoch, Payload: payload}
	m.Sign(interfaces.DevKey(name))
	return m
}

func FuzzDecodeSignedMessage(f *testing.F) {
	m := sampleSigned("a", 3, []byte{0xff, 0xff})
	f.Add(m.Encode())
	f.Add((&interfaces.SignedMessage{}).Encode())
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := interfaces.DecodeSignedMessage(raw)
		if err != nil {
			return
		}
		if out := m.Encode(); !bytes.Equal(out, raw) {
			t.Fatalf("not canonical:\n in  %x\n out %x", raw, out)
		}
		_ = m.Verify() // must not panic on any key or signature bytes
	})
}

func FuzzDecodeEvidence(f *testing.F) {
	a, b := sampleSigned("a", 1, []byte("x")), sampleSigned("a", 1, []byte("y"))
	f.Add((&interfaces.Evidence{Messages: []interfaces.SignedMessage{a, b}}).Encode())
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := interfaces.DecodeEvidence(raw)
		if err != nil {
			return
		}
		if out := ev.Encode(); !bytes.Equal(out, raw) {
			t.Fatalf("not canonical:\n in  %x\n out %x", raw, out)
		}
	})
}

func FuzzDecodePayloadEvidence(f *testing.F) {
	f.Add(interfaces.PayloadEvidence([]byte("first"), []byte("second")))
	f.Add(interfaces.PayloadEvidence())
	f.Fuzz(func(t *testing.T, raw []byte) {
		ps, err := interfaces.DecodePayloadEvidence(raw)
		if err != nil {
			return
		}
		if out := interfaces.PayloadEvidence(ps...); !bytes.Equal(out, raw) {
			t.Fatalf("not canonical:\n in  %x\n out %x", raw, out)
		}
	})
}
