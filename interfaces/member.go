package interfaces

import (
	"crypto/ed25519"
	"fmt"
)

// Candidacy. A star that keeps a cluster's chain stands for that cluster's
// seats with a TxMember join ordered by that cluster's own chain, and
// stands down with a leave. The cluster's ledger lists the block's
// candidacies in its metadata (BlockMeta.Candidacy), which checkpoints
// carry to the galaxy; the galaxy draws each cluster's next delegates from
// the stars standing for it (its genesis delegates stand from the start).
// The registry is a function of the galaxy's chain, so every member draws
// from the same candidates.

// MemberAction is what a TxMember does.
type MemberAction uint8

const (
	// MemberJoin makes the sender a candidate of the payload's cluster
	// (leaving the one it stood for before, if any).
	MemberJoin MemberAction = 1
	// MemberLeave makes the sender stand down from the payload's cluster:
	// it is drawn there no more.
	MemberLeave MemberAction = 2
)

func (a MemberAction) String() string {
	switch a {
	case MemberJoin:
		return "join"
	case MemberLeave:
		return "leave"
	}
	return fmt.Sprintf("action(%d)", uint8(a))
}

// MemberPayload is a TxMember's payload.
type MemberPayload struct {
	Action  MemberAction
	Cluster ClusterID // the cluster joined or left, whose chain orders the transaction
}

// Encode returns the payload's canonical bytes: version 1, action, cluster.
func (p MemberPayload) Encode() []byte {
	e := NewEncoder(6)
	e.U8(1)
	e.U8(uint8(p.Action))
	e.U32(uint32(p.Cluster))
	return e.Bytes()
}

// DecodeMemberPayload decodes and checks a TxMember payload: a known
// action. Cluster may be GalaxyCluster: a candidacy for the galaxy, which
// only a rotating galaxy's chain orders (the ledger decides).
func DecodeMemberPayload(b []byte) (MemberPayload, error) {
	var p MemberPayload
	d := NewDecoder(b)
	if v := d.U8(); d.Err() == nil && v != 1 {
		d.Fail(fmt.Errorf("membership payload version %d, want 1", v))
	}
	p.Action = MemberAction(d.U8())
	p.Cluster = ClusterID(d.U32())
	if err := d.Finish(); err != nil {
		return p, fmt.Errorf("decode membership payload: %w", err)
	}
	switch {
	case p.Action != MemberJoin && p.Action != MemberLeave:
		return p, fmt.Errorf("decode membership payload: unknown action %d (1 joins, 2 leaves)", uint8(p.Action))
	}
	return p, nil
}

// MemberStar is the pseudo-account whose chain, in a cluster's chain,
// sequences star s's TxMember transactions for that cluster, apart from
// its account (which may live in another cluster).
func MemberStar(s StarID) StarID {
	return StarID(DomainSum("constellation/member-chain/v1", s[:]))
}

// NewMemberTx builds and signs key's star's membership transaction number
// seq of its membership chain, after prev.
func NewMemberTx(key ed25519.PrivateKey, seq uint64, prev Hash, p MemberPayload) (*Transaction, error) {
	sender, err := StarIDFromPublicKey(key.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, err
	}
	t := &Transaction{Sender: sender, Seq: seq, Prev: prev, Kind: TxMember, Payload: p.Encode()}
	if err := t.Sign(key); err != nil {
		return nil, err
	}
	return t, nil
}

// Candidacy is one membership change a cluster block ordered
// (BlockMeta.Candidacy): the star and what it did.
type Candidacy struct {
	Star   StarID
	Action MemberAction
}

// MaxCandidacy bounds BlockMeta.Candidacy.
const MaxCandidacy = 256
