package conformance

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"

	"github.com/constellation-chain/constellation/interfaces"
)

// Vector is one recorded encoding case: a value's canonical bytes and its
// hash. Every implementation of the protocol, in any language, must encode
// the value to exactly these bytes and derive exactly this hash; a decoder
// must accept the bytes and reject the listed corruptions.
type Vector struct {
	Name string `json:"name"`
	// Type is transaction, block, block_header, envelope, tx_batch,
	// transfer_payload, merkle or genesis.
	Type string `json:"type"`
	Hex  string `json:"hex"`
	// Hash is the value's identity: a transaction's ID, a block's header
	// hash, a Merkle root, the genesis hash; empty where a type has none.
	Hash string `json:"hash,omitempty"`
	// Note says what the case exercises.
	Note string `json:"note,omitempty"`
}

// VectorsFile is where the encoding vectors are recorded.
const VectorsFile = "testdata/encoding-vectors.json"

// LoadVectors reads a vectors file.
func LoadVectors(path string) ([]Vector, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read vectors: %w", err)
	}
	var v []Vector
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("parse vectors %s: %w", path, err)
	}
	return v, nil
}

// CheckVector decodes v with this implementation, re-encodes it and
// compares bytes and hash.
func CheckVector(v Vector) error {
	raw, err := hex.DecodeString(v.Hex)
	if err != nil {
		return fmt.Errorf("%s: hex: %w", v.Name, err)
	}
	var again []byte
	var hash interfaces.Hash
	switch v.Type {
	case "transaction":
		t, err := interfaces.DecodeTransaction(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", v.Name, err)
		}
		again, hash = t.Encode(), t.ID()
	case "block":
		b, err := interfaces.DecodeBlock(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", v.Name, err)
		}
		again, hash = b.Encode(), b.Hash()
	case "block_header":
		h, err := interfaces.DecodeBlockHeader(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", v.Name, err)
		}
		again, hash = h.Encode(), h.Hash()
	case "envelope":
		e, err := interfaces.DecodeEnvelope(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", v.Name, err)
		}
		again = e.Encode()
	case "tx_batch":
		b, err := interfaces.DecodeTxBatch(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", v.Name, err)
		}
		again = b.Encode()
	case "transfer_payload":
		p, err := interfaces.DecodeTransferPayload(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", v.Name, err)
		}
		again = p.Encode()
	case "merkle":
		// hex is the concatenated 32-byte leaves; hash is the root.
		if len(raw)%interfaces.HashSize != 0 {
			return fmt.Errorf("%s: leaves are not a multiple of 32 bytes", v.Name)
		}
		var leaves []interfaces.Hash
		for i := 0; i < len(raw); i += interfaces.HashSize {
			var h interfaces.Hash
			copy(h[:], raw[i:])
			leaves = append(leaves, h)
		}
		again, hash = raw, interfaces.MerkleRoot(leaves)
	case "genesis":
		// hex is the seed's bytes; hash is what block 1 names as Prev.
		again, hash = raw, interfaces.GenesisHash(string(raw))
	default:
		return fmt.Errorf("%s: unknown vector type %q", v.Name, v.Type)
	}
	if hex.EncodeToString(again) != v.Hex {
		return fmt.Errorf("%s: re-encoding differs:\n got  %x\n want %s", v.Name, again, v.Hex)
	}
	if v.Hash != "" && hash.String() != v.Hash {
		return fmt.Errorf("%s: hash %s, want %s", v.Name, hash, v.Hash)
	}
	return nil
}

// GenerateVectors builds the recorded cases from development keys, so the
// file can be regenerated bit for bit.
func GenerateVectors() []Vector {
	var out []Vector
	add := func(name, typ string, raw []byte, hash *interfaces.Hash, note string) {
		v := Vector{Name: name, Type: typ, Hex: hex.EncodeToString(raw), Note: note}
		if hash != nil {
			v.Hash = hash.String()
		}
		out = append(out, v)
	}
	alice, bob := interfaces.DevKey("vector-alice"), interfaces.DevStar("vector-bob")
	t1, _ := interfaces.NewTransfer(alice, 1, interfaces.Hash{}, bob, 1000)
	id1 := t1.ID()
	add("transfer-first", "transaction", t1.Encode(), &id1, "a star's first transaction: seq 1, zero prev")
	t2, _ := interfaces.NewTransfer(alice, 2, id1, bob, 1<<40)
	id2 := t2.ID()
	add("transfer-chained", "transaction", t2.Encode(), &id2, "seq 2 names the first transaction's id")
	contract := interfaces.DevKey("vector-contract")
	t3 := &interfaces.Transaction{Sender: t1.Sender, Seq: 3, Prev: id2, Kind: interfaces.TxCall, Payload: []byte("method:ping"), Counterparty: interfaces.DevStar("vector-contract")}
	t3.Sign(alice)
	t3.CounterSign(contract)
	id3 := t3.ID()
	add("call-countersigned", "transaction", t3.Encode(), &id3, "a contract call co-signed by the contract; the id excludes both signatures")
	add("transfer-payload", "transfer_payload", interfaces.TransferPayload{To: bob, Amount: 42}.Encode(), nil, "")
	g := interfaces.GenesisHash("constellation-devnet")
	add("genesis-devnet", "genesis", []byte("constellation-devnet"), &g, "the default manifest's seed")
	b := &interfaces.Block{
		Header: interfaces.BlockHeader{Cluster: 0, Height: 1, Epoch: 0, Prev: g, Timestamp: 1767225600000},
		Txs:    []*interfaces.Transaction{t1, t2},
		Meta: interfaces.BlockMeta{
			Proposers:     []interfaces.StarID{t1.Sender},
			Members:       []interfaces.StarID{t1.Sender, bob},
			Faults:        []interfaces.Fault{{Star: bob, Kind: interfaces.FaultInvalidShare, Epoch: 0, Evidence: []byte("evidence")}},
			LatencyMillis: []uint32{12, 0},
		},
	}
	b.Header.StateRoot = interfaces.Sum([]byte("state"))
	b.Seal()
	bh := b.Hash()
	add("block-two-transfers", "block", b.Encode(), &bh, "block 1 with two transfers, one fault and latency metadata")
	add("block-header", "block_header", b.Header.Encode(), &bh, "the same block's header alone")
	empty := &interfaces.Block{Header: interfaces.BlockHeader{Height: 2, Epoch: 1, Prev: bh}}
	empty.Seal()
	eh := empty.Hash()
	add("block-empty", "block", empty.Encode(), &eh, "an empty block still folds the previous hash into its Merkle root")
	cross := &interfaces.Block{
		Header: interfaces.BlockHeader{Cluster: 1, Height: 3, Epoch: 2, Prev: eh, Timestamp: 1767225600500},
		Txs:    []*interfaces.Transaction{t1},
		Receipts: []interfaces.ReceiptBatch{
			{Src: 1, Dst: 0, Seq: 7, Receipts: []interfaces.Receipt{{To: bob, Amount: 1000, Tx: id1}}},
			{Src: 1, Dst: 2, Seq: 1, Receipts: []interfaces.Receipt{{To: interfaces.DevStar("vector-carol"), Amount: 3, Tx: id2}}},
		},
	}
	cross.Seal()
	ch := cross.Hash()
	add("block-with-receipts", "block", cross.Encode(), &ch, "a checkpoint that sends receipt batches to clusters 0 and 2; the header commits to them by ReceiptRoot")
	cpTx := interfaces.CheckpointTx(interfaces.Checkpoint(cross, []byte("group signature")))
	cpID := cpTx.ID()
	add("checkpoint-tx", "transaction", cpTx.Encode(), &cpID, "the galaxy transaction carrying cluster 1's checkpoint 3: sent by the cluster's account, no ed25519 signature")
	add("envelope", "envelope", (&interfaces.Envelope{From: bob, Topic: interfaces.TxTopic(3), Payload: []byte{1, 2, 3}}).Encode(), nil, "")
	add("tx-batch", "tx_batch", (&interfaces.TxBatch{Timestamp: 5, Txs: []*interfaces.Transaction{t1}}).Encode(), nil, "a consensus contribution")
	for _, n := range []int{1, 2, 3, 5} {
		var raw []byte
		var leaves []interfaces.Hash
		for i := 0; i < n; i++ {
			h := interfaces.Sum([]byte{byte(i)})
			leaves = append(leaves, h)
			raw = append(raw, h[:]...)
		}
		root := interfaces.MerkleRoot(leaves)
		add(fmt.Sprintf("merkle-%d", n), "merkle", raw, &root, "leaf and node hashes are domain-separated; an odd node is promoted")
	}
	return out
}
