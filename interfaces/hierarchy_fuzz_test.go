package interfaces_test

import (
	"bytes"
	"testing"

	"github.com/constellation-chain/constellation/interfaces"
)

// Fuzz targets of the hierarchy's decoders: no input panics, and whatever
// decodes re-encodes to exactly the input.

func sampleReceiptBlock(tb testing.TB) *interfaces.Block {
	tb.Helper()
	b := sampleBlock(tb)
	b.Receipts = []interfaces.ReceiptBatch{
		{Src: 3, Dst: 1, Seq: 4, Receipts: []interfaces.Receipt{{To: interfaces.DevStar("x"), Amount: 9, Tx: interfaces.Sum([]byte("t"))}}},
		{Src: 3, Dst: 5, Seq: 1, Receipts: []interfaces.Receipt{{To: interfaces.DevStar("y"), Amount: 1}, {To: interfaces.DevStar("z"), Amount: 2}}},
		// Version 2: an epoch and an account's migration.
		{Src: 3, Dst: 6, Seq: 2, Epoch: 4, Receipts: []interfaces.Receipt{
			{To: interfaces.DevStar("w"), Amount: 3, Kind: interfaces.ReceiptMove, Seq: 12, Last: interfaces.Sum([]byte("last"))},
			{To: interfaces.DevStar("v"), Amount: 1},
		}},
	}
	b.Meta.Edges = []interfaces.Edge{{From: interfaces.DevStar("v"), To: interfaces.DevStar("w")}}
	b.Seal()
	return b
}

func sampleCredit(tb testing.TB) interfaces.CreditPayload {
	tb.Helper()
	b := sampleReceiptBlock(tb)
	cp := interfaces.CheckpointTx(interfaces.Checkpoint(b, []byte("sig")))
	bh := &interfaces.Block{Header: interfaces.BlockHeader{Cluster: interfaces.GalaxyCluster, Height: 2}, Txs: []*interfaces.Transaction{cp}}
	bh.Seal()
	return interfaces.CreditPayload{
		Batch:   b.Receipts[0],
		InBlock: interfaces.ReceiptInclusion(b, 0),
		Finality: interfaces.Finality{
			Checkpoint: cp, InBlackHole: interfaces.TxInclusion(bh, 0), BlackHole: bh.Header, Certificate: []byte("galaxy sig"),
		},
	}
}

// roundTrip fuzzes a decoder whose accepted inputs must re-encode exactly.
func roundTrip[T any](f *testing.F, seeds [][]byte, decode func([]byte) (T, error), encode func(T) []byte) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, raw []byte) {
		v, err := decode(raw)
		if err != nil {
			return
		}
		if again := encode(v); !bytes.Equal(again, raw) {
			t.Fatalf("re-encoding differs:\n got  %x\n want %x", again, raw)
		}
	})
}

func FuzzDecodeCheckpointPayload(f *testing.F) {
	b := sampleReceiptBlock(f)
	cp := interfaces.Checkpoint(b, []byte("sig"))
	roundTrip(f, [][]byte{cp.Encode()}, interfaces.DecodeCheckpointPayload, func(c interfaces.CheckpointPayload) []byte { return c.Encode() })
}

func FuzzDecodeCreditPayload(f *testing.F) {
	c := sampleCredit(f)
	moved := c
	moved.Batch = sampleReceiptBlock(f).Receipts[2]
	roundTrip(f, [][]byte{c.Encode(), moved.Encode()}, interfaces.DecodeCreditPayload, func(c interfaces.CreditPayload) []byte { return c.Encode() })
}

func FuzzDecodeTxProof(f *testing.F) {
	c := sampleCredit(f)
	p := &interfaces.TxProof{Tx: sampleTx(f, "p", 1, false), InBlock: c.InBlock, Finality: c.Finality}
	roundTrip(f, [][]byte{p.Encode()}, interfaces.DecodeTxProof, func(p *interfaces.TxProof) []byte { return p.Encode() })
}

func FuzzDecodeCheckpointAnnounce(f *testing.F) {
	b := sampleReceiptBlock(f)
	a := &interfaces.CheckpointAnnounce{Checkpoint: interfaces.Checkpoint(b, []byte("sig")), Receipts: b.Receipts}
	roundTrip(f, [][]byte{a.Encode()}, interfaces.DecodeCheckpointAnnounce, func(a *interfaces.CheckpointAnnounce) []byte { return a.Encode() })
}

func FuzzDecodeBlackHoleAnnounce(f *testing.F) {
	c := sampleCredit(f)
	a := &interfaces.BlackHoleAnnounce{Header: c.Finality.BlackHole, Certificate: []byte("sig"), Txs: []*interfaces.Transaction{c.Finality.Checkpoint}}
	roundTrip(f, [][]byte{a.Encode()}, interfaces.DecodeBlackHoleAnnounce, func(a *interfaces.BlackHoleAnnounce) []byte { return a.Encode() })
}

func FuzzDecodeWant(f *testing.F) {
	roundTrip(f, [][]byte{interfaces.Want{Cluster: 2, Height: 9}.Encode()}, interfaces.DecodeWant, func(w interfaces.Want) []byte { return w.Encode() })
}

// TestSampleCreditVerifiesItsBranches: the helper's credit is consistent,
// so the fuzz seeds exercise the decoders past their first checks.
func TestHierarchyEncodingsRoundTrip(t *testing.T) {
	c := sampleCredit(t)
	got, err := interfaces.DecodeCreditPayload(c.Encode())
	if err != nil {
		t.Fatal(err)
	}
	b := sampleReceiptBlock(t)
	if !got.InBlock.VerifyReceipts(&b.Header, &got.Batch) {
		t.Fatal("receipt branch does not verify")
	}
	if !got.Finality.InBlackHole.Verify(&got.Finality.BlackHole, got.Finality.Checkpoint.ID()) {
		t.Fatal("checkpoint branch does not verify")
	}
	if _, err := interfaces.DecodeBlock(b.Encode()); err != nil {
		t.Fatalf("block with receipts: %v", err)
	}
}

func FuzzDecodeBeaconPayload(f *testing.F) {
	p := interfaces.BeaconPayload{Height: 7, Signature: []byte("sig"), Sets: []interfaces.DelegateSet{
		{Cluster: 0, Members: []interfaces.StarID{interfaces.DevStar("a"), interfaces.DevStar("b")}},
		{Cluster: 1, Members: []interfaces.StarID{interfaces.DevStar("c")}},
	}}
	withMoves := p
	withMoves.Mint = []interfaces.Receipt{{To: interfaces.DevStar("m"), Amount: 5}}
	withMoves.Moves = []interfaces.Move{{Star: interfaces.DevStar("x"), To: 1}, {Star: interfaces.DevStar("y"), To: 0}}
	opens := p
	opens.Sets = append(opens.Sets, interfaces.DelegateSet{Cluster: 2, Members: []interfaces.StarID{interfaces.DevStar("d")}})
	opens.Opens = []interfaces.Opening{{Parent: 0, Cluster: 2, Stars: []interfaces.StarID{interfaces.DevStar("d"), interfaces.DevStar("e")}}}
	opensMoves := opens
	opensMoves.Moves = withMoves.Moves
	closes := p
	closes.Closes = []interfaces.Closing{{Cluster: 2, Into: 0, Stars: []interfaces.StarID{interfaces.DevStar("d")}}}
	closesAll := opensMoves
	closesAll.Closes = []interfaces.Closing{{Cluster: 3, Into: 1, Done: true}, {Cluster: 4, Into: 0}}
	roundTrip(f, [][]byte{p.Encode(), withMoves.Encode(), opens.Encode(), opensMoves.Encode(), closes.Encode(), closesAll.Encode()}, interfaces.DecodeBeaconPayload, func(p interfaces.BeaconPayload) []byte { return p.Encode() })
}

func FuzzDecodeMintClaim(f *testing.F) {
	c := sampleCredit(f)
	b := interfaces.BeaconTx(3, interfaces.BeaconPayload{Height: 2, Signature: []byte("s"), Mint: []interfaces.Receipt{{To: interfaces.DevStar("m"), Amount: 5}}})
	claim := interfaces.MintClaim{Beacon: interfaces.Finality{Checkpoint: b, InBlackHole: c.Finality.InBlackHole, BlackHole: c.Finality.BlackHole, Certificate: []byte("sig")}}
	roundTrip(f, [][]byte{claim.Encode()}, interfaces.DecodeMintClaim, func(c interfaces.MintClaim) []byte { return c.Encode() })
}

// TestCheckpointsCarryBoundedMetadata: a block whose fault evidence is
// large (a VAL equivocation carries two erasure-coded shards) still makes
// a checkpoint of bounded size, which verifies against the block's header;
// and a summary with a fault changed does not.
func TestCheckpointsCarryBoundedMetadata(t *testing.T) {
	b := sampleBlock(t)
	b.Meta.Faults[0].Evidence = bytes.Repeat([]byte{7}, 300<<10)
	b.Seal()
	cp := interfaces.Checkpoint(b, []byte("sig"))
	raw := cp.Encode()
	if len(raw) > 4096 || len(raw) > interfaces.MaxTxPayload {
		t.Fatalf("checkpoint of %d bytes for a block with 300 KiB of evidence", len(raw))
	}
	if _, err := interfaces.DecodeCheckpointPayload(raw); err != nil {
		t.Fatalf("the checkpoint does not verify against its header: %v", err)
	}
	if _, err := interfaces.DecodeBlock(b.Encode()); err != nil {
		t.Fatalf("the block itself: %v", err)
	}
	cp.Meta.Faults[0].Epoch++
	if _, err := interfaces.DecodeCheckpointPayload(cp.Encode()); err == nil {
		t.Fatal("a checkpoint whose fault summary was changed verifies")
	}
}
