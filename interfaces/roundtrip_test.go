package interfaces_test

import (
	"bytes"
	"crypto/ed25519"
	"testing"

	"pgregory.net/rapid"

	"github.com/constellation-chain/constellation/interfaces"
)

// Generators for arbitrary (not necessarily valid) values of the core
// types: the encodings must round-trip whatever the field values are.

func genHash() *rapid.Generator[interfaces.Hash] {
	return rapid.Custom(func(t *rapid.T) (h interfaces.Hash) {
		copy(h[:], rapid.SliceOfN(rapid.Byte(), interfaces.HashSize, interfaces.HashSize).Draw(t, "hash"))
		return h
	})
}

func genStar() *rapid.Generator[interfaces.StarID] {
	return rapid.Custom(func(t *rapid.T) (s interfaces.StarID) {
		if rapid.Bool().Draw(t, "zeroStar") {
			return s
		}
		copy(s[:], rapid.SliceOfN(rapid.Byte(), len(s), len(s)).Draw(t, "star"))
		return s
	})
}

func genBytes(max int) *rapid.Generator[[]byte] { return rapid.SliceOfN(rapid.Byte(), 0, max) }

func genTx() *rapid.Generator[*interfaces.Transaction] {
	return rapid.Custom(func(t *rapid.T) *interfaces.Transaction {
		tx := &interfaces.Transaction{
			Sender:       genStar().Draw(t, "sender"),
			Seq:          rapid.Uint64().Draw(t, "seq"),
			Prev:         genHash().Draw(t, "prev"),
			Kind:         interfaces.TxKind(rapid.Uint8().Draw(t, "kind")),
			Payload:      genBytes(300).Draw(t, "payload"),
			Counterparty: genStar().Draw(t, "counterparty"),
		}
		copy(tx.Sig[:], rapid.SliceOfN(rapid.Byte(), ed25519.SignatureSize, ed25519.SignatureSize).Draw(t, "sig"))
		if rapid.Bool().Draw(t, "counterSigned") {
			tx.CounterSig = rapid.SliceOfN(rapid.Byte(), ed25519.SignatureSize, ed25519.SignatureSize).Draw(t, "counterSig")
		}
		return tx
	})
}

func genMeta() *rapid.Generator[interfaces.BlockMeta] {
	return rapid.Custom(func(t *rapid.T) interfaces.BlockMeta {
		m := interfaces.BlockMeta{
			Proposers:     rapid.SliceOfN(genStar(), 0, 4).Draw(t, "proposers"),
			Members:       rapid.SliceOfN(genStar(), 0, 4).Draw(t, "members"),
			LatencyMillis: rapid.SliceOfN(rapid.Uint32(), 0, 4).Draw(t, "latency"),
		}
		for i, n := 0, rapid.IntRange(0, 3).Draw(t, "faults"); i < n; i++ {
			m.Faults = append(m.Faults, interfaces.Fault{
				Star:     genStar().Draw(t, "faultStar"),
				Kind:     interfaces.FaultKind(rapid.Uint8().Draw(t, "faultKind")),
				Epoch:    rapid.Uint64().Draw(t, "faultEpoch"),
				Evidence: genBytes(100).Draw(t, "evidence"),
			})
		}
		return m
	})
}

func genBlock() *rapid.Generator[*interfaces.Block] {
	return rapid.Custom(func(t *rapid.T) *interfaces.Block {
		b := &interfaces.Block{
			Header: interfaces.BlockHeader{
				Cluster:   interfaces.ClusterID(rapid.Uint32().Draw(t, "cluster")),
				Height:    rapid.Uint64().Draw(t, "height"),
				Epoch:     rapid.Uint64().Draw(t, "epoch"),
				Prev:      genHash().Draw(t, "prev"),
				StateRoot: genHash().Draw(t, "stateRoot"),
				Timestamp: rapid.Int64().Draw(t, "timestamp"),
			},
			Txs:  rapid.SliceOfN(genTx(), 0, 5).Draw(t, "txs"),
			Meta: genMeta().Draw(t, "meta"),
		}
		b.Seal()
		return b
	})
}

// sameTx compares transactions field by field, treating nil and empty byte
// slices as equal (the encoding does not distinguish them).
func sameTx(a, b *interfaces.Transaction) bool {
	return a.Sender == b.Sender && a.Seq == b.Seq && a.Prev == b.Prev && a.Kind == b.Kind &&
		bytes.Equal(a.Payload, b.Payload) && a.Counterparty == b.Counterparty && a.Sig == b.Sig &&
		bytes.Equal(a.CounterSig, b.CounterSig)
}

func TestTransactionEncodingRoundTrips(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		tx := genTx().Draw(t, "tx")
		raw := tx.Encode()
		got, err := interfaces.DecodeTransaction(raw)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if !sameTx(tx, got) || !bytes.Equal(got.Encode(), raw) || got.ID() != tx.ID() {
			t.Fatalf("round trip changed the transaction")
		}
		// The id covers the body, not the signatures.
		signed := *got
		signed.Sig[0] ^= 1
		if signed.ID() != tx.ID() {
			t.Fatalf("changing the signature changed the id")
		}
		// Any strict prefix and any extension is refused.
		cut := rapid.IntRange(0, len(raw)-1).Draw(t, "cut")
		if _, err := interfaces.DecodeTransaction(raw[:cut]); err == nil {
			t.Fatalf("prefix of %d/%d bytes decoded", cut, len(raw))
		}
		if _, err := interfaces.DecodeTransaction(append(raw, 0)); err == nil {
			t.Fatalf("trailing byte accepted")
		}
	})
}

func TestSignedTransactionVerifiesAfterRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		key := interfaces.DevKey(rapid.StringN(1, 8, 8).Draw(t, "name"))
		tx, err := interfaces.NewTransfer(key, rapid.Uint64Min(1).Draw(t, "seq"), genHash().Draw(t, "prev"),
			genStar().Draw(t, "to"), rapid.Uint64().Draw(t, "amount"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := interfaces.DecodeTransaction(tx.Encode())
		if err != nil {
			t.Fatal(err)
		}
		if err := got.VerifySignatures(); err != nil {
			t.Fatalf("signature lost in the round trip: %v", err)
		}
	})
}

func TestBlockEncodingRoundTrips(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := genBlock().Draw(t, "block")
		raw := b.Encode()
		got, err := interfaces.DecodeBlock(raw)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if got.Header != b.Header || got.Hash() != b.Hash() || !bytes.Equal(got.Encode(), raw) {
			t.Fatalf("round trip changed the block")
		}
		if len(got.Txs) != len(b.Txs) {
			t.Fatalf("round trip changed the transaction count")
		}
		for i := range b.Txs {
			if !sameTx(b.Txs[i], got.Txs[i]) {
				t.Fatalf("transaction %d changed", i)
			}
		}
		if !bytes.Equal(got.Meta.Encode(), b.Meta.Encode()) || len(got.Meta.Faults) != len(b.Meta.Faults) {
			t.Fatalf("meta changed")
		}
		// A block whose body no longer matches its header is refused.
		if len(b.Txs) > 0 {
			tampered := *b
			tampered.Txs = b.Txs[1:]
			tampered.Header.TxCount = uint32(len(tampered.Txs))
			if _, err := interfaces.DecodeBlock(tampered.Encode()); err == nil {
				t.Fatalf("block with a dropped transaction decoded")
			}
		}
		cut := rapid.IntRange(0, len(raw)-1).Draw(t, "cut")
		if _, err := interfaces.DecodeBlock(raw[:cut]); err == nil {
			t.Fatalf("prefix of %d/%d bytes decoded", cut, len(raw))
		}
	})
}

func TestBlockMetaChangesTheBlockHash(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := genBlock().Draw(t, "block")
		other := *b
		other.Meta.LatencyMillis = append(append([]uint32(nil), b.Meta.LatencyMillis...), 1)
		other.Seal()
		if other.Hash() == b.Hash() {
			t.Fatalf("meta is not committed to by the header")
		}
	})
}

func TestEnvelopeEncodingRoundTrips(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := &interfaces.Envelope{
			From:    genStar().Draw(t, "from"),
			Topic:   rapid.StringN(0, 40, interfaces.MaxTopicLen).Draw(t, "topic"),
			Payload: genBytes(500).Draw(t, "payload"),
		}
		raw := m.Encode()
		got, err := interfaces.DecodeEnvelope(raw)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if got.From != m.From || got.Topic != m.Topic || !bytes.Equal(got.Payload, m.Payload) || !bytes.Equal(got.Encode(), raw) {
			t.Fatalf("round trip changed the envelope")
		}
	})
}

func TestTxBatchEncodingRoundTrips(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := &interfaces.TxBatch{Timestamp: rapid.Int64().Draw(t, "ts"), Txs: rapid.SliceOfN(genTx(), 0, 5).Draw(t, "txs")}
		raw := b.Encode()
		got, err := interfaces.DecodeTxBatch(raw)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if got.Timestamp != b.Timestamp || len(got.Txs) != len(b.Txs) || !bytes.Equal(got.Encode(), raw) {
			t.Fatalf("round trip changed the batch")
		}
	})
}

func TestTopicLongerThanLimitIsRefused(t *testing.T) {
	long := &interfaces.Envelope{Topic: string(bytes.Repeat([]byte("t"), interfaces.MaxTopicLen+1))}
	if _, err := interfaces.DecodeEnvelope(long.Encode()); err == nil {
		t.Fatal("topic over MaxTopicLen decoded")
	}
}

func TestNonMinimalVarintIsRefused(t *testing.T) {
	// An envelope whose topic length 0 is written as two varint bytes.
	raw := append([]byte{1}, make([]byte, 32)...)
	raw = append(raw, 0x80, 0x00, 0x00)
	if _, err := interfaces.DecodeEnvelope(raw); err == nil {
		t.Fatal("non-minimal varint accepted")
	}
}

// A handover travels in the metadata, with or without edges, and in its
// summary, so checkpoints carry it; metadata without one keeps its bytes.
func TestMetaHandoverRoundTrips(t *testing.T) {
	plain := interfaces.BlockMeta{Members: []interfaces.StarID{interfaces.DevStar("a")}}
	before := plain.Encode()
	for _, edges := range [][]interfaces.Edge{nil, {{From: interfaces.DevStar("a"), To: interfaces.DevStar("b")}}} {
		m := plain
		m.Edges = edges
		m.Handover = &interfaces.Handover{FirstEpoch: 12, Members: []interfaces.StarID{interfaces.DevStar("a")}, GroupKey: []byte{7, 7}}
		got, err := interfaces.DecodeBlockMeta(m.Encode())
		if err != nil {
			t.Fatal(err)
		}
		if got.Handover == nil || got.Handover.FirstEpoch != 12 || !bytes.Equal(got.Handover.GroupKey, []byte{7, 7}) || len(got.Edges) != len(edges) {
			t.Fatalf("round trip gave %+v", got)
		}
		if s := m.Summary(); s.Handover == nil || s.Digest() != m.Digest() {
			t.Fatal("the summary drops the handover")
		}
	}
	if !bytes.Equal(plain.Encode(), before) || before[0] != 1 {
		t.Fatal("metadata without a handover changed its encoding")
	}
}

// A black hole's cluster count travels in the metadata with or without a
// flow, is committed to by the digest, and a count of 0 (a cluster
// block's) keeps the older encoding.
func TestMetaClusterCountRoundTrips(t *testing.T) {
	plain := interfaces.BlockMeta{Members: []interfaces.StarID{interfaces.DevStar("a")}}
	for _, flow := range []*interfaces.Flow{nil, {Claimed: 3}} {
		m := plain
		m.Flow = flow
		before := m.Encode()
		m.Clusters = 5
		got, err := interfaces.DecodeBlockMeta(m.Encode())
		if err != nil {
			t.Fatal(err)
		}
		if got.Clusters != 5 || (got.Flow == nil) != (flow == nil) {
			t.Fatalf("round trip gave %+v", got)
		}
		zero := m
		zero.Clusters = 0
		if zero.Digest() == m.Digest() || !bytes.Equal(zero.Encode(), before) {
			t.Fatal("the count is not committed to, or a count of 0 changed the encoding")
		}
	}
	bad := interfaces.BlockMeta{Clusters: interfaces.MaxClusters + 1}
	if _, err := interfaces.DecodeBlockMeta(bad.Encode()); err == nil {
		t.Fatal("a count over MaxClusters decoded")
	}
}
