package interfaces

import (
	"errors"
	"fmt"
	"slices"
)

// The hierarchy: Star Clusters order their accounts' transactions into
// checkpoint blocks; the galaxy orders the clusters' certified checkpoints,
// carried as TxCheckpoint transactions, into black holes, which it
// certifies with its threshold signature. A checkpoint is final once a
// black hole includes it. A transfer to an account another cluster owns is
// debited at the source, which puts it in a receipt batch committed by the
// checkpoint's ReceiptRoot; the destination credits the batch (TxCredit)
// against a black hole that includes the checkpoint, once per (source,
// destination, sequence).

// GalaxyCluster is the ClusterID of the galaxy's chain of black holes.
const GalaxyCluster ClusterID = 0xFFFFFFFF

// GalaxyGroup is the galaxy group's name in instance ids.
const GalaxyGroup = "galaxy"

// ClusterGroup is cluster c's group name in instance ids.
func ClusterGroup(c ClusterID) string {
	if c == GalaxyCluster {
		return GalaxyGroup
	}
	return fmt.Sprintf("cluster/%d", c)
}

// ClusterStar is the account that stands for cluster c in other chains: the
// sender of its checkpoints in the galaxy and of its credits in other
// clusters. No key signs for it (it is not a curve point anyone knows the
// logarithm of); certificates authenticate what it sends.
func ClusterStar(c ClusterID) StarID {
	var b [4]byte
	b[0], b[1], b[2], b[3] = byte(c>>24), byte(c>>16), byte(c>>8), byte(c)
	return StarID(DomainSum("constellation/cluster-account/v1", b[:]))
}

// OutboxStar is the account whose chain head, in a cluster's ledger, counts
// the receipt batches that cluster sent to cluster dst (the head's Last is
// the last batch's hash). It is distinct from ClusterStar(dst), which in
// the same ledger counts the batches credited from dst.
func OutboxStar(dst ClusterID) StarID {
	var b [4]byte
	b[0], b[1], b[2], b[3] = byte(dst>>24), byte(dst>>16), byte(dst>>8), byte(dst)
	return StarID(DomainSum("constellation/receipt-outbox/v1", b[:]))
}

// PlacementStar is the pseudo-account whose chain head, in a cluster's
// ledger, records where account s lives once it has ever moved: Seq counts
// the moves the cluster applied to s, and Last packs the owner and whether
// this cluster holds s's chain head (PackPlacement). An account with no
// record lives where the partitioner's base placement puts it.
func PlacementStar(s StarID) StarID {
	return StarID(DomainSum("constellation/placement/v1", s[:]))
}

// KeyGenStar is the pseudo-account whose chain, in a chain that orders key
// generations, sequences star s's TxKeyGen messages of one session, apart
// from its account's own transactions: each session's messages start at
// sequence 1, so a message a finished session refused leaves no gap in the
// next session's.
func KeyGenStar(s StarID, session Hash) StarID {
	return StarID(DomainSum("constellation/keygen-chain/v1", s[:], session[:]))
}

// Placement is an account's place as one cluster's ledger knows it.
type Placement struct {
	Owner ClusterID // the cluster that owns the account
	Holds bool      // this cluster holds the account's chain head
}

// placementMark fills the rest of a packed placement, so that a chain
// head can be told to be a placement record (IsPlacementRecord): an
// account's own head ends in a transaction id, which matches 27 given
// bytes with probability 2^-216.
var placementMark = DomainSum("constellation/placement-record/v1")

// PackPlacement encodes a placement in a chain head's Last field: the
// owner in the first four bytes, big-endian, then 1 if held, then a mark.
func PackPlacement(p Placement) Hash {
	h := placementMark
	h[0], h[1], h[2], h[3] = byte(p.Owner>>24), byte(p.Owner>>16), byte(p.Owner>>8), byte(p.Owner)
	h[4] = 0
	if p.Holds {
		h[4] = 1
	}
	return h
}

// IsPlacementRecord says whether a chain head's Last is a packed
// placement: the head belongs to a PlacementStar, not to an account.
func IsPlacementRecord(last Hash) bool { return [27]byte(last[5:]) == [27]byte(placementMark[5:]) }

// UnpackPlacement decodes PackPlacement.
func UnpackPlacement(h Hash) Placement {
	return Placement{Owner: ClusterID(uint32(h[0])<<24 | uint32(h[1])<<16 | uint32(h[2])<<8 | uint32(h[3])), Holds: h[4] == 1}
}

// CertificateMessage is what a group threshold-signs to certify its block
// of hash h: the instance and the hash, so that a certificate of one group
// can never pass for another's.
func CertificateMessage(inst InstanceID, h Hash) []byte {
	m := DomainSum("constellation/block-certificate/v1", inst[:], h[:])
	return m[:]
}

// GroupVerifier is implemented by consensus factories whose group
// signatures anyone can check with the group's public key (HoneyBadger's
// BLS12-381 key set): other clusters, the galaxy and light clients verify
// certificates of groups they are not members of.
type GroupVerifier interface {
	// GroupKey returns the public group key inside a member's key
	// material (ConsensusConfig.Keys).
	GroupKey(keys []byte) ([]byte, error)
	// VerifyGroupKey checks sig, a group signature made through
	// ThresholdSigner, on msg under groupKey.
	VerifyGroupKey(groupKey, msg, sig []byte) error
}

// MaxReceiptBatches bounds the receipt batches of one block (one per
// destination cluster).
const MaxReceiptBatches = 1 << 12

// MaxReceipts bounds the receipts of one batch, so that a credit carrying a
// whole batch fits in a transaction payload.
const MaxReceipts = 640

// MaxCertificate bounds a group signature's encoding.
const MaxCertificate = 1024

// Receipt is one amount on its way to an account of another cluster,
// debited at the source: a cross-cluster transfer, or an account's
// migration (see ReceiptKind).
type Receipt struct {
	To     StarID
	Amount uint64
	Tx     Hash // the transfer's id in the source chain (zero for a migration)
	// Kind is ReceiptTransfer or ReceiptMove. A move carries the account's
	// chain head (Seq, Last): the one token that lets a cluster order the
	// account's transactions. Exactly one cluster holds it, or it is in
	// flight in exactly one move receipt.
	Kind ReceiptKind
	Seq  uint64
	Last Hash
}

// ReceiptKind tells a transfer's receipt from an account's migration.
type ReceiptKind uint8

const (
	// ReceiptTransfer credits Amount to To.
	ReceiptTransfer ReceiptKind = 0
	// ReceiptMove credits Amount to To and hands the receiving cluster the
	// account's chain head: from then on it orders the account.
	ReceiptMove ReceiptKind = 1
)

// ReceiptBatch is what one block sends to one destination cluster. Seq is
// the (Src, Dst) pair's sequence number: 1 for the first batch Src ever
// sent Dst, then one more per block that sends Dst anything. Epoch is the
// placement the source routed by: how many beacons (and so how many
// published account moves) it had applied. The destination credits the
// batch only once it has applied as many, so it never routes by an older
// placement than the source did.
type ReceiptBatch struct {
	Src, Dst ClusterID
	Seq      uint64
	Epoch    uint64
	Receipts []Receipt
}

// EncodeTo appends the canonical encoding: version 1 (no epoch, transfers
// only) while neither is used, so blocks of networks without migration
// keep their bytes; version 2 otherwise.
func (r *ReceiptBatch) EncodeTo(e *Encoder) {
	v2 := r.Epoch != 0
	for _, x := range r.Receipts {
		v2 = v2 || x.Kind != ReceiptTransfer
	}
	if !v2 {
		e.U8(1)
	} else {
		e.U8(2)
	}
	e.U32(uint32(r.Src))
	e.U32(uint32(r.Dst))
	e.U64(r.Seq)
	if v2 {
		e.U64(r.Epoch)
	}
	e.Uvarint(uint64(len(r.Receipts)))
	for _, x := range r.Receipts {
		e.Fixed(x.To[:])
		e.U64(x.Amount)
		e.Fixed(x.Tx[:])
		if v2 {
			e.U8(uint8(x.Kind))
			if x.Kind == ReceiptMove {
				e.U64(x.Seq)
				e.Fixed(x.Last[:])
			}
		}
	}
}

// Hash is the batch's leaf in its block's ReceiptRoot.
func (r *ReceiptBatch) Hash() Hash {
	e := NewEncoder(32 + 72*len(r.Receipts))
	r.EncodeTo(e)
	return DomainSum("constellation/receipts/v1", e.Bytes())
}

// Total is the sum of the batch's amounts (false if it overflows).
func (r *ReceiptBatch) Total() (uint64, bool) {
	var sum uint64
	for _, x := range r.Receipts {
		if sum+x.Amount < sum {
			return 0, false
		}
		sum += x.Amount
	}
	return sum, true
}

func decodeReceiptBatchFrom(d *Decoder) ReceiptBatch {
	var r ReceiptBatch
	v := d.U8()
	if d.Err() == nil && v != 1 && v != 2 {
		d.Fail(fmt.Errorf("receipt batch version %d, want 1 or 2", v))
	}
	r.Src = ClusterID(d.U32())
	r.Dst = ClusterID(d.U32())
	r.Seq = d.U64()
	if v == 2 {
		r.Epoch = d.U64()
	}
	n := d.Len(MaxReceipts)
	if d.Err() == nil && n*72 > d.Remaining() {
		d.Fail(ErrTruncated)
	}
	v2 := r.Epoch != 0
	for i := 0; i < n && d.Err() == nil; i++ {
		var x Receipt
		d.Fixed(x.To[:])
		x.Amount = d.U64()
		d.Fixed(x.Tx[:])
		if v == 2 {
			x.Kind = ReceiptKind(d.U8())
			switch x.Kind {
			case ReceiptTransfer:
			case ReceiptMove:
				x.Seq = d.U64()
				d.Fixed(x.Last[:])
				v2 = true
			default:
				if d.Err() == nil {
					d.Fail(fmt.Errorf("receipt %d: unknown kind %d", i, x.Kind))
				}
			}
		}
		r.Receipts = append(r.Receipts, x)
	}
	if v == 2 && !v2 && d.Err() == nil {
		// Canonical: a batch that version 1 can say is said in version 1.
		d.Fail(errors.New("receipt batch version 2 with neither an epoch nor a move"))
	}
	return r
}

// CheckpointPayload is a TxCheckpoint's payload: a cluster's block header,
// the summary of its metadata (BlockMeta.Summary: proposers, members,
// latency, and each fault with its evidence's hash, what the galaxy's
// reputation folds) and the cluster's certificate of the header.
type CheckpointPayload struct {
	Header      BlockHeader
	Meta        BlockMeta
	Certificate []byte
}

// Encode returns the canonical encoding.
func (c *CheckpointPayload) Encode() []byte {
	e := NewEncoder(600)
	c.Header.EncodeTo(e)
	c.Meta.EncodeTo(e)
	e.VarBytes(c.Certificate)
	return e.Bytes()
}

// DecodeCheckpointPayload decodes a TxCheckpoint payload and checks that
// the header commits to the metadata.
func DecodeCheckpointPayload(b []byte) (CheckpointPayload, error) {
	d := NewDecoder(b)
	c := CheckpointPayload{Header: decodeHeaderFrom(d)}
	c.Meta = decodeMetaFrom(d)
	c.Certificate = d.VarBytes(MaxCertificate)
	if err := d.Finish(); err != nil {
		return CheckpointPayload{}, fmt.Errorf("decode checkpoint: %w", err)
	}
	if Sum(c.Meta.Encode()) != c.Header.MetaHash { // the summary's encoding is what Digest hashes
		return CheckpointPayload{}, fmt.Errorf("decode checkpoint %d of cluster %d: metadata does not match the header", c.Header.Height, c.Header.Cluster)
	}
	return c, nil
}

// Checkpoint returns block b with certificate cert as a checkpoint.
func Checkpoint(b *Block, cert []byte) CheckpointPayload {
	return CheckpointPayload{Header: b.Header, Meta: b.Meta.Summary(), Certificate: cert}
}

// CheckpointTx is the galaxy transaction that carries cp: sent by the
// cluster's account at the checkpoint's height. Every galaxy member builds
// the same bytes from the same checkpoint, so copies deduplicate.
func CheckpointTx(cp CheckpointPayload) *Transaction {
	return &Transaction{
		Sender:  ClusterStar(cp.Header.Cluster),
		Seq:     cp.Header.Height,
		Kind:    TxCheckpoint,
		Payload: cp.Encode(),
	}
}

// DelegateSet is the delegate set a black hole publishes for a cluster.
type DelegateSet struct {
	Cluster ClusterID
	Members []StarID // sorted
}

// BeaconPayload is a TxBeacon's payload: the galaxy's certificate of a
// black hole (the selection beacon) and the delegate sets drawn with it.
type BeaconPayload struct {
	Height    uint64 // the black hole certified
	Signature []byte
	Sets      []DelegateSet // by cluster
	// Mint is what black hole Height mints, by star (sorted; Tx zero).
	Mint []Receipt
	// Moves are the account migrations the galaxy's placement publishes
	// with this beacon (at most MaxMoves, each account once). Every
	// cluster applies them when it claims the beacon.
	Moves []Move
	// Opens are the clusters this beacon opens (a rotation beacon, when a
	// cluster's candidates exceed the genesis bound): each new cluster,
	// the cluster it splits from and the candidates that leave for it. Sets
	// then holds a set for each new cluster too, so len(Sets) is the
	// number of clusters from this beacon on.
	Opens []Opening
	// Closes are the clusters this beacon starts or finishes closing (see
	// Closing); a rotation beacon starts at most one, any beacon finishes
	// the one whose flow drained.
	Closes []Closing
}

// Closing is a cluster a beacon starts to close (Done false), when its
// candidates fell below the genesis minimum, or finishes closing (Done
// true). Stars (sorted) stand for Into from then on instead of for
// Cluster: at the start, its candidates that are neither delegates nor
// drawn to be; at the finish, everyone left. From the start the placement
// moves its accounts to Into, and its delegates run its chain until the
// galaxy's chain shows that nothing more can reach it. A closed cluster's
// id is never used again.
type Closing struct {
	Cluster, Into ClusterID
	Done          bool
	Stars         []StarID
}

// MaxCloses bounds the clusters one beacon starts or finishes closing.
const MaxCloses = 64

// Opening is a cluster a beacon opens: Cluster, the next cluster id,
// splits from Parent, and Stars (sorted) stand for it from then on
// instead of for Parent.
type Opening struct {
	Parent, Cluster ClusterID
	Stars           []StarID
}

// MaxClusters bounds the clusters of a network, genesis and opened.
const MaxClusters = 1 << 12

// MaxOpens bounds the clusters one beacon opens.
const MaxOpens = 64

// Move is a published account migration: Star's owner becomes cluster To.
type Move struct {
	Star StarID
	To   ClusterID
}

// MaxMoves bounds the migrations one beacon publishes.
const MaxMoves = 256

// maxDelegates bounds a delegate set.
const maxDelegates = 1 << 12

// Encode returns the canonical encoding.
func (p *BeaconPayload) Encode() []byte {
	e := NewEncoder(128 + 40*len(p.Sets))
	e.U8(1)
	e.U64(p.Height)
	e.VarBytes(p.Signature)
	e.Uvarint(uint64(len(p.Sets)))
	for _, s := range p.Sets {
		e.U32(uint32(s.Cluster))
		e.Uvarint(uint64(len(s.Members)))
		for _, m := range s.Members {
			e.Fixed(m[:])
		}
	}
	e.Uvarint(uint64(len(p.Mint)))
	for _, m := range p.Mint {
		e.Fixed(m.To[:])
		e.U64(m.Amount)
	}
	// Version 1 ends with the moves, present only when there are any (so
	// beacons of networks that never migrate keep their bytes); version 2,
	// a beacon that opens clusters, with the moves (perhaps none) and the
	// openings (at least one); version 3, a beacon that closes clusters,
	// with the moves and openings (perhaps none) and the closings (at
	// least one).
	if len(p.Moves) > 0 || len(p.Opens) > 0 || len(p.Closes) > 0 {
		e.Uvarint(uint64(len(p.Moves)))
		for _, m := range p.Moves {
			e.Fixed(m.Star[:])
			e.U32(uint32(m.To))
		}
	}
	if len(p.Opens) > 0 || len(p.Closes) > 0 {
		e.Uvarint(uint64(len(p.Opens)))
		for _, o := range p.Opens {
			e.U32(uint32(o.Parent))
			e.U32(uint32(o.Cluster))
			e.Uvarint(uint64(len(o.Stars)))
			for _, s := range o.Stars {
				e.Fixed(s[:])
			}
		}
	}
	if len(p.Closes) > 0 {
		e.Uvarint(uint64(len(p.Closes)))
		for _, c := range p.Closes {
			e.U32(uint32(c.Cluster))
			e.U32(uint32(c.Into))
			e.Bool(c.Done)
			e.Uvarint(uint64(len(c.Stars)))
			for _, s := range c.Stars {
				e.Fixed(s[:])
			}
		}
	}
	b := e.Bytes()
	switch {
	case len(p.Closes) > 0:
		b[0] = 3
	case len(p.Opens) > 0:
		b[0] = 2
	}
	return b
}

// DecodeBeaconPayload decodes a TxBeacon payload.
func DecodeBeaconPayload(b []byte) (BeaconPayload, error) {
	d := NewDecoder(b)
	var p BeaconPayload
	v := d.U8()
	if d.Err() == nil && (v < 1 || v > 3) {
		d.Fail(fmt.Errorf("beacon version %d, want 1 to 3", v))
	}
	p.Height = d.U64()
	p.Signature = d.VarBytes(MaxCertificate)
	n := d.Len(MaxReceiptBatches)
	for i := 0; i < n && d.Err() == nil; i++ {
		s := DelegateSet{Cluster: ClusterID(d.U32())}
		k := d.Len(maxDelegates)
		if d.Err() == nil && k*len(StarID{}) > d.Remaining() {
			d.Fail(ErrTruncated)
		}
		for j := 0; j < k && d.Err() == nil; j++ {
			var m StarID
			d.Fixed(m[:])
			s.Members = append(s.Members, m)
		}
		p.Sets = append(p.Sets, s)
	}
	m := d.Len(maxDelegates)
	if d.Err() == nil && m*40 > d.Remaining() {
		d.Fail(ErrTruncated)
	}
	for i := 0; i < m && d.Err() == nil; i++ {
		var r Receipt
		d.Fixed(r.To[:])
		r.Amount = d.U64()
		p.Mint = append(p.Mint, r)
	}
	if d.Err() == nil && (d.Remaining() > 0 || v >= 2) {
		// The moves: in version 1 present only when there are any.
		k := d.Len(MaxMoves)
		if d.Err() == nil && ((k == 0 && v == 1) || k*36 > d.Remaining()) {
			d.Fail(fmt.Errorf("beacon lists %d moves in %d bytes", k, d.Remaining()))
		}
		for i := 0; i < k && d.Err() == nil; i++ {
			var m Move
			d.Fixed(m.Star[:])
			m.To = ClusterID(d.U32())
			p.Moves = append(p.Moves, m)
		}
	}
	if d.Err() == nil && v >= 2 {
		k := d.Len(MaxOpens)
		if d.Err() == nil && k == 0 && v == 2 {
			d.Fail(errors.New("a version 2 beacon opens no cluster"))
		}
		for i := 0; i < k && d.Err() == nil; i++ {
			o := Opening{Parent: ClusterID(d.U32()), Cluster: ClusterID(d.U32())}
			n := d.Len(maxDelegates)
			if d.Err() == nil && n*len(StarID{}) > d.Remaining() {
				d.Fail(ErrTruncated)
			}
			for j := 0; j < n && d.Err() == nil; j++ {
				var s StarID
				d.Fixed(s[:])
				o.Stars = append(o.Stars, s)
			}
			p.Opens = append(p.Opens, o)
		}
	}
	if d.Err() == nil && v == 3 {
		k := d.Len(MaxCloses)
		if d.Err() == nil && k == 0 {
			d.Fail(errors.New("a version 3 beacon closes no cluster"))
		}
		for i := 0; i < k && d.Err() == nil; i++ {
			c := Closing{Cluster: ClusterID(d.U32()), Into: ClusterID(d.U32()), Done: d.Bool()}
			n := d.Len(maxDelegates)
			if d.Err() == nil && n*len(StarID{}) > d.Remaining() {
				d.Fail(ErrTruncated)
			}
			for j := 0; j < n && d.Err() == nil; j++ {
				var s StarID
				d.Fixed(s[:])
				c.Stars = append(c.Stars, s)
			}
			if d.Err() == nil && c.Cluster == c.Into {
				d.Fail(fmt.Errorf("beacon closes cluster %d into itself", c.Cluster))
			}
			if d.Err() == nil && !slices.IsSortedFunc(c.Stars, CompareStars) {
				d.Fail(fmt.Errorf("beacon closing cluster %d lists its stars unsorted", c.Cluster))
			}
			p.Closes = append(p.Closes, c)
		}
	}
	if err := d.Finish(); err != nil {
		return BeaconPayload{}, fmt.Errorf("decode beacon: %w", err)
	}
	return p, nil
}

// MintClaim is a TxMint's payload: the proof that a certified black hole
// holds a beacon, whose minted amounts the claiming cluster credits to the
// accounts it owns. Finality.Checkpoint holds the beacon transaction.
type MintClaim struct {
	Beacon Finality
}

// Encode returns the canonical encoding.
func (c *MintClaim) Encode() []byte {
	e := NewEncoder(1024)
	e.U8(1)
	c.Beacon.encodeTo(e)
	return e.Bytes()
}

// DecodeMintClaim decodes a TxMint payload.
func DecodeMintClaim(b []byte) (MintClaim, error) {
	d := NewDecoder(b)
	if v := d.U8(); d.Err() == nil && v != 1 {
		d.Fail(fmt.Errorf("mint claim version %d, want 1", v))
	}
	c := MintClaim{Beacon: decodeFinalityFrom(d)}
	if err := d.Finish(); err != nil {
		return MintClaim{}, fmt.Errorf("decode mint claim: %w", err)
	}
	return c, nil
}

// MintTx is the transaction by which a cluster claims a beacon's mint:
// sent by the galaxy's account, at the beacon's own sequence number, so
// each beacon is claimed once and in order.
func MintTx(c MintClaim) *Transaction {
	return &Transaction{Sender: ClusterStar(GalaxyCluster), Seq: c.Beacon.Checkpoint.Seq, Kind: TxMint, Payload: c.Encode()}
}

// Verify checks the claim under the galaxy instance and key and returns
// the beacon it proves.
func (c *MintClaim) Verify(galaxy InstanceID, galaxyKey []byte, v GroupVerifier) (BeaconPayload, error) {
	f := &c.Beacon
	if f.Checkpoint == nil || f.Checkpoint.Kind != TxBeacon || f.Checkpoint.Sender != ClusterStar(GalaxyCluster) {
		return BeaconPayload{}, fmt.Errorf("%w: no beacon transaction", ErrNotFinal)
	}
	p, err := DecodeBeaconPayload(f.Checkpoint.Payload)
	if err != nil {
		return BeaconPayload{}, fmt.Errorf("%w: %w", ErrNotFinal, err)
	}
	if err := f.included(galaxy, galaxyKey, v); err != nil {
		return BeaconPayload{}, err
	}
	return p, nil
}

// BeaconTx is the galaxy transaction that publishes the beacon of black
// hole p.Height and the delegate sets drawn with it, as the galaxy's
// seq-th beacon. It belongs in black hole p.Height+1: the draw reads the
// reputation state as of black hole p.Height, which its proposers fixed
// before anyone could know the signature.
func BeaconTx(seq uint64, p BeaconPayload) *Transaction {
	return &Transaction{Sender: ClusterStar(GalaxyCluster), Seq: seq, Kind: TxBeacon, Payload: p.Encode()}
}

// Inclusion proves that a transaction is in a block: its position among
// the block's transactions and the Merkle branch to the header's TxRoot
// (whose leaves are [Prev, tx ids…]).
type Inclusion struct {
	Index  uint32
	Branch []Hash
}

// maxBranch bounds a Merkle branch (2^64 leaves need 64 hashes).
const maxBranch = 64

func (p *Inclusion) encodeTo(e *Encoder) {
	e.U32(p.Index)
	e.Uvarint(uint64(len(p.Branch)))
	for _, h := range p.Branch {
		e.Fixed(h[:])
	}
}

func decodeInclusionFrom(d *Decoder) Inclusion {
	p := Inclusion{Index: d.U32()}
	n := d.Len(maxBranch)
	if d.Err() == nil && n*HashSize > d.Remaining() {
		d.Fail(ErrTruncated)
	}
	for i := 0; i < n && d.Err() == nil; i++ {
		var h Hash
		d.Fixed(h[:])
		p.Branch = append(p.Branch, h)
	}
	return p
}

// TxInclusion returns the inclusion proof of b's transaction i.
func TxInclusion(b *Block, i int) Inclusion {
	leaves := make([]Hash, 0, len(b.Txs)+1)
	leaves = append(leaves, b.Header.Prev)
	for _, t := range b.Txs {
		leaves = append(leaves, t.ID())
	}
	_, br := MerkleProof(leaves, i+1)
	return Inclusion{Index: uint32(i), Branch: br}
}

// Verify reports whether the transaction of id id is at p.Index of the
// block h heads.
func (p *Inclusion) Verify(h *BlockHeader, id Hash) bool {
	if p.Index >= h.TxCount {
		return false
	}
	return VerifyMerkleProof(h.TxRoot, int(h.TxCount)+1, int(p.Index)+1, id, p.Branch)
}

// ReceiptInclusion returns the proof that b's receipt batch i is under
// its ReceiptRoot.
func ReceiptInclusion(b *Block, i int) Inclusion {
	_, br := MerkleProof(receiptLeaves(b.Receipts), i)
	return Inclusion{Index: uint32(i), Branch: br}
}

// VerifyReceipts reports whether batch is at p.Index under h's ReceiptRoot.
func (p *Inclusion) VerifyReceipts(h *BlockHeader, batch *ReceiptBatch) bool {
	if p.Index >= h.Receipts {
		return false
	}
	return VerifyMerkleProof(h.ReceiptRoot, int(h.Receipts), int(p.Index), batch.Hash(), p.Branch)
}

// Finality proves that a cluster's checkpoint is final: the galaxy
// transaction carrying it, where it sits in a black hole, the black hole's
// header and the galaxy's certificate of it.
type Finality struct {
	Checkpoint  *Transaction // a TxCheckpoint
	InBlackHole Inclusion
	BlackHole   BlockHeader
	Certificate []byte
}

func (f *Finality) encodeTo(e *Encoder) {
	f.Checkpoint.EncodeTo(e)
	f.InBlackHole.encodeTo(e)
	f.BlackHole.EncodeTo(e)
	e.VarBytes(f.Certificate)
}

func decodeFinalityFrom(d *Decoder) Finality {
	var f Finality
	f.Checkpoint = DecodeTransactionFrom(d)
	f.InBlackHole = decodeInclusionFrom(d)
	f.BlackHole = decodeHeaderFrom(d)
	f.Certificate = d.VarBytes(MaxCertificate)
	return f
}

// Errors of finality checks.
var (
	ErrNotFinal       = errors.New("not final")
	ErrBadCertificate = errors.New("certificate does not verify")
)

// Verify checks f under the galaxy instance and key and returns the
// checkpoint header it finalizes.
func (f *Finality) Verify(galaxy InstanceID, galaxyKey []byte, v GroupVerifier) (BlockHeader, error) {
	if f.Checkpoint == nil || f.Checkpoint.Kind != TxCheckpoint {
		return BlockHeader{}, fmt.Errorf("%w: no checkpoint transaction", ErrNotFinal)
	}
	cp, err := DecodeCheckpointPayload(f.Checkpoint.Payload)
	if err != nil {
		return BlockHeader{}, fmt.Errorf("%w: %w", ErrNotFinal, err)
	}
	if f.Checkpoint.Sender != ClusterStar(cp.Header.Cluster) || f.Checkpoint.Seq != cp.Header.Height {
		return BlockHeader{}, fmt.Errorf("%w: checkpoint transaction does not match its header", ErrNotFinal)
	}
	if err := f.included(galaxy, galaxyKey, v); err != nil {
		return BlockHeader{}, fmt.Errorf("checkpoint %d of cluster %d: %w", cp.Header.Height, cp.Header.Cluster, err)
	}
	return cp.Header, nil
}

// included checks that f's transaction is in its black hole and that the
// galaxy certified the black hole.
func (f *Finality) included(galaxy InstanceID, galaxyKey []byte, v GroupVerifier) error {
	if f.BlackHole.Cluster != GalaxyCluster {
		return fmt.Errorf("%w: block of cluster %d is not a black hole", ErrNotFinal, f.BlackHole.Cluster)
	}
	if err := f.Checkpoint.VerifySignatures(); err != nil {
		return fmt.Errorf("%w: %w", ErrNotFinal, err)
	}
	if !f.InBlackHole.Verify(&f.BlackHole, f.Checkpoint.ID()) {
		return fmt.Errorf("%w: not in black hole %d", ErrNotFinal, f.BlackHole.Height)
	}
	if err := v.VerifyGroupKey(galaxyKey, CertificateMessage(galaxy, f.BlackHole.Hash()), f.Certificate); err != nil {
		return fmt.Errorf("black hole %d: %w: %v", f.BlackHole.Height, ErrBadCertificate, err)
	}
	return nil
}

// CreditPayload is a TxCredit's payload: a receipt batch, the proof that
// its checkpoint committed it, and the proof that the checkpoint is final.
type CreditPayload struct {
	Batch    ReceiptBatch
	InBlock  Inclusion
	Finality Finality
}

// Encode returns the canonical encoding.
func (c *CreditPayload) Encode() []byte {
	e := NewEncoder(1024 + 72*len(c.Batch.Receipts))
	e.U8(1)
	c.Batch.EncodeTo(e)
	c.InBlock.encodeTo(e)
	c.Finality.encodeTo(e)
	return e.Bytes()
}

// DecodeCreditPayload decodes a TxCredit payload.
func DecodeCreditPayload(b []byte) (CreditPayload, error) {
	d := NewDecoder(b)
	var c CreditPayload
	if v := d.U8(); d.Err() == nil && v != 1 {
		d.Fail(fmt.Errorf("credit version %d, want 1", v))
	}
	c.Batch = decodeReceiptBatchFrom(d)
	c.InBlock = decodeInclusionFrom(d)
	c.Finality = decodeFinalityFrom(d)
	if err := d.Finish(); err != nil {
		return CreditPayload{}, fmt.Errorf("decode credit: %w", err)
	}
	return c, nil
}

// CreditTx is the transaction that credits c in its destination cluster.
func CreditTx(c CreditPayload) *Transaction {
	return &Transaction{
		Sender:  ClusterStar(c.Batch.Src),
		Seq:     c.Batch.Seq,
		Kind:    TxCredit,
		Payload: c.Encode(),
	}
}

// Verify checks the credit under the galaxy instance and key: the black
// hole is certified, it includes the source's checkpoint, and the
// checkpoint commits to the batch.
func (c *CreditPayload) Verify(galaxy InstanceID, galaxyKey []byte, v GroupVerifier) error {
	h, err := c.Finality.Verify(galaxy, galaxyKey, v)
	if err != nil {
		return err
	}
	if h.Cluster != c.Batch.Src {
		return fmt.Errorf("batch from cluster %d proven by a checkpoint of cluster %d", c.Batch.Src, h.Cluster)
	}
	if !c.InBlock.VerifyReceipts(&h, &c.Batch) {
		return fmt.Errorf("receipt batch %d→%d seq %d is not in checkpoint %d", c.Batch.Src, c.Batch.Dst, c.Batch.Seq, h.Height)
	}
	return nil
}

// TxProof is a light client's proof that a transaction is final: the
// transaction, its inclusion in its cluster's checkpoint, and that
// checkpoint's finality. `constellation proof` writes it and
// `constellation verify` checks it with no node running.
type TxProof struct {
	Tx       *Transaction
	InBlock  Inclusion
	Finality Finality
}

// TxProofVersion is the version byte of a TxProof encoding.
const TxProofVersion = 1

// Encode returns the canonical encoding.
func (p *TxProof) Encode() []byte {
	e := NewEncoder(2048)
	e.U8(TxProofVersion)
	p.Tx.EncodeTo(e)
	p.InBlock.encodeTo(e)
	p.Finality.encodeTo(e)
	return e.Bytes()
}

// DecodeTxProof decodes a TxProof.
func DecodeTxProof(b []byte) (*TxProof, error) {
	d := NewDecoder(b)
	if v := d.U8(); d.Err() == nil && v != TxProofVersion {
		d.Fail(fmt.Errorf("proof version %d, want %d", v, TxProofVersion))
	}
	p := &TxProof{Tx: DecodeTransactionFrom(d)}
	p.InBlock = decodeInclusionFrom(d)
	p.Finality = decodeFinalityFrom(d)
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("decode proof: %w", err)
	}
	return p, nil
}

// Verify checks the proof and returns the checkpoint header that holds the
// transaction and the black hole that finalized it.
func (p *TxProof) Verify(galaxy InstanceID, galaxyKey []byte, v GroupVerifier) (BlockHeader, error) {
	h, err := p.Finality.Verify(galaxy, galaxyKey, v)
	if err != nil {
		return h, err
	}
	// The block commits to the transaction's id, which leaves its
	// signatures out; check them, so every byte of the proof counts.
	if err := p.Tx.VerifySignatures(); err != nil {
		return h, fmt.Errorf("%w: transaction %s: %w", ErrNotFinal, p.Tx.ID().Short(), err)
	}
	if !p.InBlock.Verify(&h, p.Tx.ID()) {
		return h, fmt.Errorf("%w: transaction %s is not in checkpoint %d of cluster %d", ErrNotFinal, p.Tx.ID().Short(), h.Height, h.Cluster)
	}
	return h, nil
}

// SortReceiptBatches orders batches by destination, as blocks keep them.
func SortReceiptBatches(bs []ReceiptBatch) {
	slices.SortFunc(bs, func(a, b ReceiptBatch) int {
		switch {
		case a.Dst < b.Dst:
			return -1
		case a.Dst > b.Dst:
			return 1
		}
		return 0
	})
}

// CheckpointAnnounce is what a cluster's members gossip on
// TopicCheckpoints once they certified a block: the checkpoint and the
// block's receipt batches, which the destination clusters credit.
type CheckpointAnnounce struct {
	Checkpoint CheckpointPayload
	Receipts   []ReceiptBatch
}

// Encode returns the canonical encoding.
func (a *CheckpointAnnounce) Encode() []byte {
	e := NewEncoder(512)
	e.U8(1)
	e.VarBytes(a.Checkpoint.Encode())
	e.Uvarint(uint64(len(a.Receipts)))
	for i := range a.Receipts {
		a.Receipts[i].EncodeTo(e)
	}
	return e.Bytes()
}

// DecodeCheckpointAnnounce decodes a CheckpointAnnounce and checks that
// the receipts are the ones the checkpoint commits to.
func DecodeCheckpointAnnounce(b []byte) (*CheckpointAnnounce, error) {
	d := NewDecoder(b)
	if v := d.U8(); d.Err() == nil && v != 1 {
		d.Fail(fmt.Errorf("checkpoint announcement version %d, want 1", v))
	}
	raw := d.VarBytes(MaxTxPayload)
	n := d.Len(MaxReceiptBatches)
	a := &CheckpointAnnounce{}
	for i := 0; i < n && d.Err() == nil; i++ {
		a.Receipts = append(a.Receipts, decodeReceiptBatchFrom(d))
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("decode checkpoint announcement: %w", err)
	}
	cp, err := DecodeCheckpointPayload(raw)
	if err != nil {
		return nil, err
	}
	a.Checkpoint = cp
	h := &cp.Header
	if int(h.Receipts) != len(a.Receipts) || ComputeReceiptRoot(a.Receipts) != h.ReceiptRoot {
		return nil, fmt.Errorf("checkpoint %d of cluster %d: receipts do not match its receipt root", h.Height, h.Cluster)
	}
	return a, nil
}

// BlackHoleAnnounce is what the galaxy's members gossip on TopicBlackHoles
// once they certified a black hole: its header, certificate and the
// checkpoint transactions it ordered.
type BlackHoleAnnounce struct {
	Header      BlockHeader
	Certificate []byte
	Txs         []*Transaction
}

// Encode returns the canonical encoding.
func (a *BlackHoleAnnounce) Encode() []byte {
	e := NewEncoder(512 + 400*len(a.Txs))
	e.U8(1)
	a.Header.EncodeTo(e)
	e.VarBytes(a.Certificate)
	e.Uvarint(uint64(len(a.Txs)))
	for _, t := range a.Txs {
		t.EncodeTo(e)
	}
	return e.Bytes()
}

// DecodeBlackHoleAnnounce decodes a BlackHoleAnnounce and checks that the
// transactions are the ones the header commits to.
func DecodeBlackHoleAnnounce(b []byte) (*BlackHoleAnnounce, error) {
	d := NewDecoder(b)
	if v := d.U8(); d.Err() == nil && v != 1 {
		d.Fail(fmt.Errorf("black hole announcement version %d, want 1", v))
	}
	a := &BlackHoleAnnounce{Header: decodeHeaderFrom(d)}
	a.Certificate = d.VarBytes(MaxCertificate)
	n := d.Len(MaxBlockTxs)
	if d.Err() == nil && n > d.Remaining()/170 {
		d.Fail(fmt.Errorf("%d transactions cannot fit in %d bytes", n, d.Remaining()))
	}
	for i := 0; i < n && d.Err() == nil; i++ {
		a.Txs = append(a.Txs, DecodeTransactionFrom(d))
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("decode black hole announcement: %w", err)
	}
	if a.Header.Cluster != GalaxyCluster {
		return nil, fmt.Errorf("black hole announcement of a block of cluster %d", a.Header.Cluster)
	}
	if int(a.Header.TxCount) != len(a.Txs) || ComputeTxRoot(a.Header.Prev, a.Txs) != a.Header.TxRoot {
		return nil, fmt.Errorf("black hole %d: transactions do not match its root", a.Header.Height)
	}
	return a, nil
}

// Block returns the announced black hole as a block without meta, enough
// for TxInclusion.
func (a *BlackHoleAnnounce) Block() *Block { return &Block{Header: a.Header, Txs: a.Txs} }

// Want asks, on TopicWants, whoever holds it to announce again cluster
// Cluster's checkpoint at Height, or the black hole at Height when Cluster
// is GalaxyCluster. A node that missed an announcement asks for it.
type Want struct {
	Cluster ClusterID
	Height  uint64
}

// Encode returns the canonical encoding.
func (w Want) Encode() []byte {
	e := NewEncoder(13)
	e.U8(1)
	e.U32(uint32(w.Cluster))
	e.U64(w.Height)
	return e.Bytes()
}

// DecodeWant decodes a Want.
func DecodeWant(b []byte) (Want, error) {
	d := NewDecoder(b)
	if v := d.U8(); d.Err() == nil && v != 1 {
		d.Fail(fmt.Errorf("want version %d, want 1", v))
	}
	w := Want{Cluster: ClusterID(d.U32()), Height: d.U64()}
	if err := d.Finish(); err != nil {
		return Want{}, fmt.Errorf("decode want: %w", err)
	}
	if w.Height == 0 {
		return Want{}, errors.New("decode want: height 0")
	}
	return w, nil
}
