package interfaces

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// BlockVersion is the current block encoding version.
const BlockVersion = 2

// MaxBlockTxs bounds the number of transactions in one block.
const MaxBlockTxs = 1 << 20

// BlockHeader is the hashed part of a HyloChain block. The block "unfolds"
// from the previous block's hash followed by its ordered transactions, and
// "folds" them into TxRoot: the Merkle root over [Prev, tx IDs...]. Genesis's
// Prev is the hash of the network seed.
type BlockHeader struct {
	Cluster   ClusterID
	Height    uint64 // genesis state is height 0; the first block is height 1
	Epoch     uint64 // the consensus epoch that decided this block
	Prev      Hash   // hash of block Height-1, or GenesisHash(seed) for height 1
	TxRoot    Hash   // MerkleRoot(Prev, tx IDs in order)
	StateRoot Hash   // digest of the ledger state after applying the block
	MetaHash  Hash   // the block's BlockMeta.Digest
	Timestamp int64  // unix milliseconds, agreed by consensus (never a local clock)
	TxCount   uint32
	// ReceiptRoot is the Merkle root over the hashes of the block's
	// receipt batches (Block.Receipts), one per destination cluster, and
	// Receipts their number; both zero when the block sends nothing to
	// another cluster.
	ReceiptRoot Hash
	Receipts    uint32
}

// Encode returns the canonical header encoding.
func (h *BlockHeader) Encode() []byte {
	e := NewEncoder(200)
	h.EncodeTo(e)
	return e.Bytes()
}

// EncodeTo appends the canonical header encoding to e.
func (h *BlockHeader) EncodeTo(e *Encoder) {
	e.U8(BlockVersion)
	e.U32(uint32(h.Cluster))
	e.U64(h.Height)
	e.U64(h.Epoch)
	e.Fixed(h.Prev[:])
	e.Fixed(h.TxRoot[:])
	e.Fixed(h.StateRoot[:])
	e.Fixed(h.MetaHash[:])
	e.I64(h.Timestamp)
	e.U32(h.TxCount)
	e.Fixed(h.ReceiptRoot[:])
	e.U32(h.Receipts)
}

func decodeHeaderFrom(d *Decoder) BlockHeader {
	var h BlockHeader
	if v := d.U8(); d.Err() == nil && v != BlockVersion {
		d.Fail(fmt.Errorf("block version %d, want %d", v, BlockVersion))
	}
	h.Cluster = ClusterID(d.U32())
	h.Height = d.U64()
	h.Epoch = d.U64()
	d.Fixed(h.Prev[:])
	d.Fixed(h.TxRoot[:])
	d.Fixed(h.StateRoot[:])
	d.Fixed(h.MetaHash[:])
	h.Timestamp = d.I64()
	h.TxCount = d.U32()
	d.Fixed(h.ReceiptRoot[:])
	h.Receipts = d.U32()
	return h
}

// Hash is the block's identity: the hash of its header.
func (h *BlockHeader) Hash() Hash { return DomainSum("constellation/block/v1", h.Encode()) }

// GenesisHash is the hash that the first block names as Prev.
func GenesisHash(seed string) Hash { return DomainSum("constellation/genesis/v1", []byte(seed)) }

// FaultKind classifies a provable fault.
type FaultKind uint8

const (
	FaultEquivocation  FaultKind = 1 // two conflicting messages for one slot
	FaultInvalidShare  FaultKind = 2 // a threshold share (coin, decryption) that fails verification
	FaultMalformed     FaultKind = 3 // a message that does not decode or breaks the protocol's rules
	FaultInvalidBlock  FaultKind = 4 // a proposal whose contents fail validation
	FaultReplay        FaultKind = 5 // a message from an epoch that is closed
	FaultInvalidMerkle FaultKind = 6 // an erasure-coded shard whose Merkle branch does not verify
)

func (k FaultKind) String() string {
	switch k {
	case FaultEquivocation:
		return "equivocation"
	case FaultInvalidShare:
		return "invalid-share"
	case FaultMalformed:
		return "malformed"
	case FaultInvalidBlock:
		return "invalid-block"
	case FaultReplay:
		return "replay"
	case FaultInvalidMerkle:
		return "invalid-merkle"
	}
	return fmt.Sprintf("fault(%d)", uint8(k))
}

// Fault is evidence that a star broke the protocol. In a block, Evidence
// is an Evidence encoding (the star's own signed messages, checked by
// VerifyFault); in an engine's Output it is PayloadEvidence naming the
// offending payloads, or nil for a fault the engine cannot prove.
type Fault struct {
	Star     StarID
	Kind     FaultKind
	Epoch    uint64
	Evidence []byte
}

func encodeFaults(e *Encoder, fs []Fault) {
	e.Uvarint(uint64(len(fs)))
	for _, f := range fs {
		e.Fixed(f.Star[:])
		e.U8(uint8(f.Kind))
		e.U64(f.Epoch)
		e.VarBytes(f.Evidence)
	}
}

func decodeFaults(d *Decoder, max int) []Fault {
	n := d.Len(max)
	var out []Fault
	for i := 0; i < n && d.Err() == nil; i++ {
		var f Fault
		d.Fixed(f.Star[:])
		f.Kind = FaultKind(d.U8())
		f.Epoch = d.U64()
		f.Evidence = d.VarBytes(MaxFieldLen)
		out = append(out, f)
	}
	return out
}

// BlockMeta is what reputation observes about a finalized block: who took
// part in deciding it and what went wrong. It is hashed into the header, so
// every field is computed from the decision alone (framework/hylochain's
// fold), identical on every honest member; nothing a single node observed
// enters it except through a decided contribution.
type BlockMeta struct {
	Proposers []StarID // stars whose contributions were included, in decided order
	Members   []StarID // the delegates of the epoch, sorted
	// Faults are the provable faults the decided contributions carried
	// whose evidence verified, one per (star, kind, epoch), sorted by
	// star, kind and epoch. Evidence is an Evidence encoding.
	Faults []Fault
	// LatencyMillis is, per member aligned with Members, the median of the
	// latencies the decided contributions reported for it (TxBatch.Latency);
	// 0 means the median proposer did not hear from it.
	LatencyMillis []uint32
	// Edges is a sample of the block's transfers, who paid whom (at most
	// MaxEdges, chosen by a hash seeded with every transaction id in the
	// block, so no sender can grind its own transfer into the sample).
	// The ledger computes it; checkpoints carry it to the galaxy, whose
	// placement learns from it which accounts transact together.
	Edges []Edge
	// Handover, in the block that ends a membership epoch of a rotating
	// group, names the next one: its first epoch, its members and their
	// group key, made by the key generation the chain completed. The
	// outgoing members certify this block with the outgoing key, so
	// whoever trusts that key learns the next one from it (a chain of
	// custody from the genesis key); checkpoints carry it to the galaxy.
	Handover *Handover
	// Candidacy lists, in block order, the membership transactions
	// (TxMember) the block ordered: stars that stood for this cluster's
	// seats or stood down. The ledger computes it; checkpoints carry it to
	// the galaxy, which draws the next delegates from the stars standing.
	Candidacy []Candidacy
	// Founded, in the block after a key generation for a new cluster
	// completed (a cluster a beacon opened, whose first delegates generate
	// their keys through the chain of the cluster it split from), names
	// that cluster's first members and group key, sorted by cluster. The
	// parent's delegates certify this block, so whoever trusts the
	// parent's key learns the new cluster's from it; checkpoints carry it
	// to the galaxy.
	Founded []Founding
	// Flow, in a hierarchy's cluster blocks, is what the block did to the
	// flow of receipts between clusters: the last beacon it claimed (0 if
	// none; claims advance the placement receipts are routed by), the
	// receipt batches it sent, by destination, and the batches it
	// credited, by source. The ledger computes it; checkpoints carry it to
	// the galaxy, which so knows from the chain which batches are in
	// flight to each cluster (a closing cluster's chain stops only when
	// none is). Nil when the block did none of these.
	Flow *Flow
	// Clusters, in a hierarchy's galaxy blocks (black holes), is how many
	// Star Clusters are in force once the block is applied: the genesis
	// clusters, plus those the beacons opened, less those whose closing
	// finished (a beacon this block holds included). Their ids are the
	// delegate sets of the last rotation beacon. The galaxy's ledger
	// computes it from its chain (ledger.Rules.Clusters), so a light
	// client reads it off any certified black hole. 0 outside a galaxy.
	Clusters uint32
}

// Flow is BlockMeta.Flow.
type Flow struct {
	Claimed  uint64
	Sent     []Route // sorted by cluster
	Credited []Route // in block order
}

// Route names a receipt batch by the other cluster of its pair (the
// destination of a batch sent, the source of a batch credited) and its
// sequence number in that pair.
type Route struct {
	Cluster ClusterID
	Seq     uint64
}

// MaxCredited bounds Flow.Credited.
const MaxCredited = 1 << 14

// Founding is a new cluster's first membership (BlockMeta.Founded): its
// first epoch is its chain's epoch 0.
type Founding struct {
	Cluster  ClusterID
	Members  []StarID // sorted
	GroupKey []byte
}

// MaxFounded bounds BlockMeta.Founded.
const MaxFounded = 64

// Handover is a group's next membership epoch (BlockMeta.Handover).
type Handover struct {
	FirstEpoch uint64
	Members    []StarID // sorted
	GroupKey   []byte
}

// MaxGroupKey bounds a group key's encoding in a handover.
const MaxGroupKey = 1 << 20

// Edge is one sampled transfer.
type Edge struct{ From, To StarID }

// MaxEdges bounds BlockMeta.Edges.
const MaxEdges = 32

// Digest is what a header's MetaHash commits to: the hash of the
// metadata's Summary encoding, in which each fault's evidence stands as
// its hash. So a checkpoint can carry the metadata to the galaxy in
// bounded size, whatever evidence the block holds, and still be checked
// against the header.
func (m *BlockMeta) Digest() Hash {
	s := m.Summary()
	return Sum(s.Encode())
}

// Summary returns the metadata with each fault's evidence replaced by the
// hash of its evidence (what the galaxy needs: who, which kind, which
// epoch). The result shares no slice with m that the caller may modify.
func (m *BlockMeta) Summary() BlockMeta {
	s := *m
	s.Faults = make([]Fault, len(m.Faults))
	for i, f := range m.Faults {
		h := Sum(f.Evidence)
		f.Evidence = h[:]
		s.Faults[i] = f
	}
	if m.Faults == nil {
		s.Faults = nil
	}
	s.Edges = slices.Clone(m.Edges)
	if m.Handover != nil {
		h := *m.Handover
		h.Members, h.GroupKey = slices.Clone(h.Members), slices.Clone(h.GroupKey)
		s.Handover = &h
	}
	s.Candidacy = slices.Clone(m.Candidacy)
	if m.Flow != nil {
		f := *m.Flow
		f.Sent, f.Credited = slices.Clone(f.Sent), slices.Clone(f.Credited)
		s.Flow = &f
	}
	if m.Founded != nil {
		s.Founded = make([]Founding, len(m.Founded))
		for i, f := range m.Founded {
			s.Founded[i] = Founding{Cluster: f.Cluster, Members: slices.Clone(f.Members), GroupKey: slices.Clone(f.GroupKey)}
		}
	}
	return s
}

// Encode returns the canonical encoding of the metadata.
func (m *BlockMeta) Encode() []byte {
	e := NewEncoder(64 * (len(m.Proposers) + len(m.Members) + 1))
	m.EncodeTo(e)
	return e.Bytes()
}

// EncodeTo appends the canonical encoding to e.
func (m *BlockMeta) EncodeTo(e *Encoder) {
	// Version 1 has no edges, so metadata of blocks without transfers
	// keeps its bytes; version 2 ends with the edges; version 3 with the
	// edges (perhaps none) and a handover; version 4 with the edges, a
	// handover flag and handover, and the candidacies (at least one);
	// version 5 with the edges, the handover flag and handover, the
	// candidacies (perhaps none) and the foundings (at least one).
	// Version 6 ends with the foundings (perhaps none) and the flow.
	// Version 7 ends with the foundings, a flow flag and flow, and the
	// cluster count (at least 1).
	v7 := m.Clusters > 0
	v6 := m.Flow != nil || v7
	v5 := len(m.Founded) > 0 || v6
	v4 := len(m.Candidacy) > 0 || v5
	switch {
	case v7:
		e.U8(7)
	case v6:
		e.U8(6)
	case v5:
		e.U8(5)
	case v4:
		e.U8(4)
	case m.Handover != nil:
		e.U8(3)
	case len(m.Edges) == 0:
		e.U8(1)
	default:
		e.U8(2)
	}
	e.Uvarint(uint64(len(m.Proposers)))
	for _, s := range m.Proposers {
		e.Fixed(s[:])
	}
	e.Uvarint(uint64(len(m.Members)))
	for _, s := range m.Members {
		e.Fixed(s[:])
	}
	encodeFaults(e, m.Faults)
	e.Uvarint(uint64(len(m.LatencyMillis)))
	for _, l := range m.LatencyMillis {
		e.U32(l)
	}
	if len(m.Edges) > 0 || m.Handover != nil || v4 {
		e.Uvarint(uint64(len(m.Edges)))
		for _, x := range m.Edges {
			e.Fixed(x.From[:])
			e.Fixed(x.To[:])
		}
	}
	if v4 {
		e.Bool(m.Handover != nil)
	}
	if h := m.Handover; h != nil {
		e.U64(h.FirstEpoch)
		e.Uvarint(uint64(len(h.Members)))
		for _, s := range h.Members {
			e.Fixed(s[:])
		}
		e.VarBytes(h.GroupKey)
	}
	if v4 {
		e.Uvarint(uint64(len(m.Candidacy)))
		for _, c := range m.Candidacy {
			e.Fixed(c.Star[:])
			e.U8(uint8(c.Action))
		}
	}
	if v5 {
		e.Uvarint(uint64(len(m.Founded)))
		for _, f := range m.Founded {
			e.U32(uint32(f.Cluster))
			e.Uvarint(uint64(len(f.Members)))
			for _, s := range f.Members {
				e.Fixed(s[:])
			}
			e.VarBytes(f.GroupKey)
		}
	}
	if v7 {
		e.Bool(m.Flow != nil)
	}
	if f := m.Flow; f != nil {
		e.U64(f.Claimed)
		for _, rs := range [][]Route{f.Sent, f.Credited} {
			e.Uvarint(uint64(len(rs)))
			for _, r := range rs {
				e.U32(uint32(r.Cluster))
				e.U64(r.Seq)
			}
		}
	}
	if v7 {
		e.U32(m.Clusters)
	}
}

// maxMetaEntries bounds list lengths inside BlockMeta.
const maxMetaEntries = 1 << 16

func decodeMetaFrom(d *Decoder) BlockMeta {
	var m BlockMeta
	v := d.U8()
	if d.Err() == nil && (v < 1 || v > 7) {
		d.Fail(fmt.Errorf("block meta version %d, want 1 to 7", v))
	}
	stars := func() []StarID {
		n := d.Len(maxMetaEntries)
		if n*len(StarID{}) > d.Remaining() {
			d.Fail(ErrTruncated)
			return nil
		}
		var out []StarID
		for i := 0; i < n && d.Err() == nil; i++ {
			var s StarID
			d.Fixed(s[:])
			out = append(out, s)
		}
		return out
	}
	m.Proposers = stars()
	m.Members = stars()
	m.Faults = decodeFaults(d, maxMetaEntries)
	n := d.Len(maxMetaEntries)
	if n*4 > d.Remaining() {
		d.Fail(ErrTruncated)
		return m
	}
	for i := 0; i < n && d.Err() == nil; i++ {
		m.LatencyMillis = append(m.LatencyMillis, d.U32())
	}
	if v >= 2 {
		k := d.Len(MaxEdges)
		if d.Err() == nil && ((k == 0 && v == 2) || k*64 > d.Remaining()) {
			d.Fail(fmt.Errorf("block meta lists %d edges in %d bytes", k, d.Remaining()))
		}
		for i := 0; i < k && d.Err() == nil; i++ {
			var x Edge
			d.Fixed(x.From[:])
			d.Fixed(x.To[:])
			m.Edges = append(m.Edges, x)
		}
	}
	if v == 3 || (v >= 4 && d.Bool()) {
		h := &Handover{FirstEpoch: d.U64()}
		h.Members = stars()
		h.GroupKey = d.VarBytes(MaxGroupKey)
		if d.Err() == nil && (len(h.Members) == 0 || len(h.GroupKey) == 0 || !slices.IsSortedFunc(h.Members, CompareStars)) {
			d.Fail(errors.New("block meta: a handover with no members, no key or unsorted members"))
		}
		m.Handover = h
	}
	if v >= 4 {
		k := d.Len(MaxCandidacy)
		if d.Err() == nil && ((k == 0 && v == 4) || k*(len(StarID{})+1) > d.Remaining()) {
			d.Fail(fmt.Errorf("block meta lists %d candidacies in %d bytes", k, d.Remaining()))
		}
		for i := 0; i < k && d.Err() == nil; i++ {
			var c Candidacy
			d.Fixed(c.Star[:])
			c.Action = MemberAction(d.U8())
			if d.Err() == nil && c.Action != MemberJoin && c.Action != MemberLeave {
				d.Fail(fmt.Errorf("block meta: candidacy action %d", uint8(c.Action)))
			}
			m.Candidacy = append(m.Candidacy, c)
		}
	}
	if v >= 5 {
		k := d.Len(MaxFounded)
		if d.Err() == nil && k == 0 && v == 5 {
			d.Fail(errors.New("block meta: version 5 founds no cluster"))
		}
		for i := 0; i < k && d.Err() == nil; i++ {
			f := Founding{Cluster: ClusterID(d.U32())}
			f.Members = stars()
			f.GroupKey = d.VarBytes(MaxGroupKey)
			if d.Err() == nil && (len(f.Members) == 0 || len(f.GroupKey) == 0 || !slices.IsSortedFunc(f.Members, CompareStars)) {
				d.Fail(errors.New("block meta: a founding with no members, no key or unsorted members"))
			}
			if d.Err() == nil && i > 0 && m.Founded[i-1].Cluster >= f.Cluster {
				d.Fail(errors.New("block meta: foundings not sorted by cluster"))
			}
			m.Founded = append(m.Founded, f)
		}
	}
	if v == 6 || (v == 7 && d.Bool()) {
		f := &Flow{Claimed: d.U64()}
		routes := func(max int) []Route {
			k := d.Len(max)
			if d.Err() == nil && k*12 > d.Remaining() {
				d.Fail(ErrTruncated)
			}
			var out []Route
			for i := 0; i < k && d.Err() == nil; i++ {
				out = append(out, Route{Cluster: ClusterID(d.U32()), Seq: d.U64()})
			}
			return out
		}
		f.Sent = routes(MaxClusters)
		f.Credited = routes(MaxCredited)
		if d.Err() == nil && !slices.IsSortedFunc(f.Sent, func(a, b Route) int { return cmp.Compare(a.Cluster, b.Cluster) }) {
			d.Fail(errors.New("block meta: batches sent not sorted by destination"))
		}
		m.Flow = f
	}
	if v == 7 {
		m.Clusters = d.U32()
		if d.Err() == nil && (m.Clusters == 0 || m.Clusters > MaxClusters) {
			d.Fail(fmt.Errorf("block meta: %d clusters, want 1 to %d", m.Clusters, MaxClusters))
		}
	}
	return m
}

// Block is a finalized HyloChain block: header, ordered transactions and the
// metadata reputation consumes.
type Block struct {
	Header BlockHeader
	Txs    []*Transaction
	Meta   BlockMeta
	// Receipts are the cross-cluster transfers the block debited, one
	// batch per destination cluster, sorted by destination.
	Receipts []ReceiptBatch
}

// Hash returns the block's header hash.
func (b *Block) Hash() Hash { return b.Header.Hash() }

// ComputeTxRoot folds prev and the transactions into the Merkle root the
// header must carry.
func ComputeTxRoot(prev Hash, txs []*Transaction) Hash {
	leaves := make([]Hash, 0, len(txs)+1)
	leaves = append(leaves, prev)
	for _, t := range txs {
		leaves = append(leaves, t.ID())
	}
	return MerkleRoot(leaves)
}

// Seal fills TxRoot, MetaHash and TxCount from the block's body. The caller
// sets the other header fields (StateRoot comes from the ledger).
func (b *Block) Seal() {
	b.Header.TxRoot = ComputeTxRoot(b.Header.Prev, b.Txs)
	b.Header.MetaHash = b.Meta.Digest()
	b.Header.TxCount = uint32(len(b.Txs))
	b.Header.ReceiptRoot, b.Header.Receipts = ComputeReceiptRoot(b.Receipts), uint32(len(b.Receipts))
}

// ComputeReceiptRoot is the header's ReceiptRoot for batches: the Merkle
// root over their hashes, or the zero hash for none.
func ComputeReceiptRoot(batches []ReceiptBatch) Hash {
	if len(batches) == 0 {
		return ZeroHash
	}
	return MerkleRoot(receiptLeaves(batches))
}

func receiptLeaves(batches []ReceiptBatch) []Hash {
	leaves := make([]Hash, len(batches))
	for i := range batches {
		leaves[i] = batches[i].Hash()
	}
	return leaves
}

// CheckBody verifies that the header commits to the body it travels with.
func (b *Block) CheckBody() error {
	if int(b.Header.TxCount) != len(b.Txs) {
		return fmt.Errorf("block %d: header counts %d transactions, body has %d", b.Header.Height, b.Header.TxCount, len(b.Txs))
	}
	if got := ComputeTxRoot(b.Header.Prev, b.Txs); got != b.Header.TxRoot {
		return fmt.Errorf("block %d: transaction root %s does not match header %s", b.Header.Height, got.Short(), b.Header.TxRoot.Short())
	}
	if int(b.Header.Receipts) != len(b.Receipts) || ComputeReceiptRoot(b.Receipts) != b.Header.ReceiptRoot {
		return fmt.Errorf("block %d: receipt root does not match its %d receipt batches", b.Header.Height, len(b.Receipts))
	}
	for i := 1; i < len(b.Receipts); i++ {
		if b.Receipts[i-1].Dst >= b.Receipts[i].Dst {
			return fmt.Errorf("block %d: receipt batches not sorted by destination", b.Header.Height)
		}
	}
	if got := b.Meta.Digest(); got != b.Header.MetaHash {
		return fmt.Errorf("block %d: meta hash %s does not match header %s", b.Header.Height, got.Short(), b.Header.MetaHash.Short())
	}
	return nil
}

// Encode returns the canonical block encoding: header, transactions, meta.
func (b *Block) Encode() []byte {
	size := 256
	for _, t := range b.Txs {
		size += 180 + len(t.Payload)
	}
	e := NewEncoder(size)
	b.Header.EncodeTo(e)
	e.Uvarint(uint64(len(b.Txs)))
	for _, t := range b.Txs {
		t.EncodeTo(e)
	}
	b.Meta.EncodeTo(e)
	e.Uvarint(uint64(len(b.Receipts)))
	for i := range b.Receipts {
		b.Receipts[i].EncodeTo(e)
	}
	return e.Bytes()
}

// DecodeBlock decodes a canonical block and checks that its header commits
// to its body.
func DecodeBlock(raw []byte) (*Block, error) {
	d := NewDecoder(raw)
	b := &Block{Header: decodeHeaderFrom(d)}
	n := d.Len(MaxBlockTxs)
	// Each transaction takes at least 170 bytes; refuse counts the input
	// cannot hold before allocating for them.
	if d.Err() == nil && n > d.Remaining()/170 {
		d.Fail(fmt.Errorf("%d transactions cannot fit in %d bytes", n, d.Remaining()))
	}
	if d.Err() == nil {
		b.Txs = make([]*Transaction, 0, n)
	}
	for i := 0; i < n && d.Err() == nil; i++ {
		b.Txs = append(b.Txs, DecodeTransactionFrom(d))
	}
	b.Meta = decodeMetaFrom(d)
	nr := d.Len(MaxReceiptBatches)
	for i := 0; i < nr && d.Err() == nil; i++ {
		b.Receipts = append(b.Receipts, decodeReceiptBatchFrom(d))
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("decode block: %w", err)
	}
	if err := b.CheckBody(); err != nil {
		return nil, fmt.Errorf("decode block: %w", err)
	}
	return b, nil
}

// DecodeBlockHeader decodes a canonical header alone.
func DecodeBlockHeader(raw []byte) (BlockHeader, error) {
	d := NewDecoder(raw)
	h := decodeHeaderFrom(d)
	if err := d.Finish(); err != nil {
		return h, fmt.Errorf("decode block header: %w", err)
	}
	return h, nil
}
