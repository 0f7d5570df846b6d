package interfaces

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"io"
)

// Consensus capabilities a conformance suite checks or skips.
const (
	CapFaultTolerance = "fault-tolerance"  // tolerates f = (N-1)/3 Byzantine members
	CapAsynchronous   = "asynchronous"     // terminates without timing assumptions
	CapCensorship     = "censorship-resil" // contributions are hidden until agreed
	CapMultiMember    = "multi-member"     // more than one member may propose
	CapFaultEvidence  = "fault-evidence"   // reports provable faults
	// CapThresholdSignature: the engine implements ThresholdSigner with a
	// group key its members hold shares of.
	CapThresholdSignature = "threshold-signature"
)

// ConsensusConfig is everything a consensus instance needs. It carries its
// own keys and randomness so the state machine never reaches outside.
type ConsensusConfig struct {
	Self    StarID
	Members []StarID // the epoch's delegates, sorted by StarID; Self among them
	// Faulty is f, the number of Byzantine members tolerated; 0 asks the
	// engine for its maximum, (len(Members)-1)/3 for BFT engines.
	Faulty int
	// Epoch is the first epoch this instance decides.
	Epoch uint64
	// LastEpoch is the last epoch this instance decides (the end of its
	// membership epoch); 0 means it has no end. The engine must not
	// propose to, or decide, a later epoch: the host starts a new instance,
	// with the next member set and keys, for the epoch after it.
	LastEpoch uint64
	// Keys is the engine's key material for Self (for HoneyBadger: the
	// threshold signature and decryption shares and the public keys), in the
	// engine's own encoding. It never appears in a manifest.
	Keys []byte
	// Seed seeds the engine's deterministic random generator. It must be
	// secret to the node and fresh per run in production; the simulator
	// derives it from the run's seed so a run can be replayed bit for bit.
	Seed Hash
	// BatchSize is the target number of transactions per epoch across all
	// members (HoneyBadger's B).
	BatchSize int
	// Params is the plugin's own config block as JSON, already validated
	// against the schema in its PluginInfo.
	Params []byte
}

// F returns the fault tolerance to use: Faulty if set, else (N-1)/3.
func (c ConsensusConfig) F() int {
	if c.Faulty > 0 {
		return c.Faulty
	}
	return (len(c.Members) - 1) / 3
}

// Index returns the position of s in Members, or -1.
func (c ConsensusConfig) Index(s StarID) int {
	for i, m := range c.Members {
		if m == s {
			return i
		}
	}
	return -1
}

// Broadcast as an OutMessage's To means "every other member".
var Broadcast = StarID{}

// OutMessage is a message the host must deliver. To is a member or
// Broadcast. Payload is in the engine's own canonical wire format.
type OutMessage struct {
	To StarID
	// Epoch is the epoch the message belongs to. The host signs it with
	// the payload (SignedMessage), so evidence built from the message
	// names its epoch; engines without epochs leave it 0.
	Epoch   uint64
	Payload []byte
}

// ContributionFrom is one member's decided contribution.
type ContributionFrom struct {
	Proposer StarID
	Data     []byte
}

// Decision is the outcome of one epoch: the agreed contributions in a
// deterministic order, identical on every honest member.
type Decision struct {
	Epoch         uint64
	Contributions []ContributionFrom
}

// Equal reports whether d and o decide the same epoch with the same
// contributions in the same order.
func (d Decision) Equal(o Decision) bool {
	if d.Epoch != o.Epoch || len(d.Contributions) != len(o.Contributions) {
		return false
	}
	for i := range d.Contributions {
		if d.Contributions[i].Proposer != o.Contributions[i].Proposer || !bytes.Equal(d.Contributions[i].Data, o.Contributions[i].Data) {
			return false
		}
	}
	return true
}

// Output is what one call into a Consensus produced.
type Output struct {
	Messages  []OutMessage
	Decisions []Decision // in epoch order, each epoch exactly once
	Faults    []Fault
}

// Append merges o2 into o, keeping order.
func (o *Output) Append(o2 Output) {
	o.Messages = append(o.Messages, o2.Messages...)
	o.Decisions = append(o.Decisions, o2.Decisions...)
	o.Faults = append(o.Faults, o2.Faults...)
}

// Consensus is an agreement protocol written as a pure, deterministic state
// machine (in the style of etcd's raft): no goroutines, no clocks, no I/O.
// The host calls Propose and Step from one goroutine, in an order it records
// in a write-ahead log before acting on any output, so a restarted node can
// replay the log into a fresh instance and reach the same state without
// sending anything it did not send before.
//
// Every returned Output must be acted on before the next call: messages
// sent (after the WAL entry for the input is durable), decisions applied in
// order. A malformed or hostile message is reported as a Fault or ignored;
// it never makes the engine return an error or panic. Errors are reserved for
// misuse by the host (such as proposing twice in one epoch).
type Consensus interface {
	// Propose submits this member's contribution for the current epoch (the
	// oldest epoch not yet proposed to).
	Propose(contribution []byte) (Output, error)
	// Step delivers a message from another member, authenticated by the
	// transport.
	Step(from StarID, payload []byte) (Output, error)
	// Epoch returns the epoch the next Propose contributes to.
	Epoch() uint64
}

// ConsensusFactory builds consensus instances; both builtins and the RPC
// client for external binaries implement it.
type ConsensusFactory interface {
	Plugin
	NewConsensus(cfg ConsensusConfig) (Consensus, error)
}

// TxBatch is the contribution the kernel proposes. Besides transactions it
// carries what the proposer observed locally, so that it enters the chain
// only through agreement: ACS decides the set of contributions, and the
// fold aggregates their observations by rules f liars cannot move far.
type TxBatch struct {
	// Timestamp is the proposer's clock; the block takes the median.
	Timestamp int64
	Txs       []*Transaction
	// Faults are provable faults the proposer saw, each with an Evidence
	// encoding; the fold admits only those that verify.
	Faults []Fault
	// Latency is, per member in the instance's member order, how many
	// milliseconds after the proposer started its last finished epoch it
	// first heard from that member in that epoch; 0 means not heard. The
	// fold takes the per-member median. Empty when the proposer has no
	// finished epoch yet.
	Latency []uint32
}

// MaxBatchFaults bounds the faults one contribution carries.
const MaxBatchFaults = 64

// TxBatchVersion is the first byte of a TxBatch encoding.
const TxBatchVersion = 2

// Encode returns the canonical batch encoding.
func (b *TxBatch) Encode() []byte {
	e := NewEncoder(16 + 200*len(b.Txs) + 4*len(b.Latency))
	e.U8(TxBatchVersion)
	e.I64(b.Timestamp)
	e.Uvarint(uint64(len(b.Txs)))
	for _, t := range b.Txs {
		t.EncodeTo(e)
	}
	encodeFaults(e, b.Faults)
	e.Uvarint(uint64(len(b.Latency)))
	for _, l := range b.Latency {
		e.U32(l)
	}
	return e.Bytes()
}

// DecodeTxBatch decodes a contribution produced by Encode.
func DecodeTxBatch(raw []byte) (*TxBatch, error) {
	d := NewDecoder(raw)
	b := &TxBatch{}
	if v := d.U8(); d.Err() == nil && v != TxBatchVersion {
		d.Fail(fmt.Errorf("batch version %d, want %d", v, TxBatchVersion))
	}
	b.Timestamp = d.I64()
	n := d.Len(MaxBlockTxs)
	if d.Err() == nil && n > d.Remaining()/170 {
		d.Fail(fmt.Errorf("%d transactions cannot fit in %d bytes", n, d.Remaining()))
	}
	for i := 0; i < n && d.Err() == nil; i++ {
		b.Txs = append(b.Txs, DecodeTransactionFrom(d))
	}
	b.Faults = decodeFaults(d, MaxBatchFaults)
	n = d.Len(maxMetaEntries)
	if d.Err() == nil && n*4 > d.Remaining() {
		d.Fail(ErrTruncated)
	}
	for i := 0; i < n && d.Err() == nil; i++ {
		b.Latency = append(b.Latency, d.U32())
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("decode batch: %w", err)
	}
	return b, nil
}

// KeyDealer is implemented by consensus factories whose members need shared
// key material (threshold keys). It acts as a trusted dealer: given the
// sorted members and f, it returns each member's ConsensusConfig.Keys, in
// Members order. rnd supplies the dealer's randomness; tests pass a seeded
// source, `constellation keygen --cluster N` passes crypto/rand.
type KeyDealer interface {
	DealKeys(members []StarID, faulty int, rnd io.Reader) ([][]byte, error)
}

// KeyGenerator is implemented by consensus factories whose key material the
// members can make among themselves, without a trusted dealer: a
// distributed key generation whose messages the caller orders (through a
// group's consensus, see framework/keygen). Each member deals once; every
// member checks the dealings, answers each with an acknowledgement (its
// share is good) or a complaint anyone can check, and the key is assembled
// from the dealings the agreed order qualified. Every method is a pure
// function of its arguments (Deal of its randomness too); members are
// sorted, faulty is f as for KeyDealer, and dealer and member positions
// are indices into members.
//
// Members encrypt to and prove with their node identity keys (the Ed25519
// key of their StarID), so the private key is passed in; only factories
// built into the node implement this, never an RPC client.
type KeyGenerator interface {
	// Deal returns member self's dealing.
	Deal(members []StarID, faulty, self int, key ed25519.PrivateKey, rnd io.Reader) ([]byte, error)
	// VerifyDealing makes the checks anyone can make on dealer's dealing.
	VerifyDealing(members []StarID, faulty, dealer int, dealing []byte) error
	// Respond opens member self's share of a dealing that passed
	// VerifyDealing: nil when the share is good, else a complaint.
	Respond(members []StarID, faulty, dealer int, dealing []byte, self int, key ed25519.PrivateKey) (complaint []byte, err error)
	// VerifyComplaint checks member complainer's complaint against a
	// dealing that passed VerifyDealing: true if the dealer cheated the
	// complainer, false if the share was good (the complainer lied); an
	// error if the complaint proves nothing.
	VerifyComplaint(members []StarID, faulty, dealer int, dealing []byte, complainer int, complaint []byte) (bool, error)
	// AssembleKeys returns member self's key material
	// (ConsensusConfig.Keys) from the qualified dealings, sorted by dealer.
	AssembleKeys(members []StarID, faulty int, qualified []Dealt, self int, key ed25519.PrivateKey) ([]byte, error)
	// AssembleGroupKey returns the group key the qualified dealings make,
	// as GroupVerifier.GroupKey returns it from any member's keys.
	AssembleGroupKey(members []StarID, faulty int, qualified []Dealt) ([]byte, error)
}

// KeyResharer is implemented by engines that can also hand an existing
// group key to a new membership: the old members deal their own shares,
// the new members answer as in a key generation, and the new key material
// holds the same group secret, so a signature of the new members verifies
// under the old group key (GroupVerifier.VerifyGroupKey). A dealer index is
// the dealer's index in the old group; member indices are the new
// members'. oldGroup is the old group key (GroupVerifier.GroupKey), and the
// faulty bound f is the new membership's.
type KeyResharer interface {
	// ReshareThreshold returns how many old members' dealings must
	// qualify to reshare oldGroup (its threshold, f+1 of the old group).
	ReshareThreshold(oldGroup []byte) (int, error)
	// DealReshare returns the dealing by which the holder of oldKeys (its
	// key material of the old group, ConsensusConfig.Keys) shares its
	// share with members.
	DealReshare(oldKeys []byte, members []StarID, faulty int, rnd io.Reader) ([]byte, error)
	// VerifyReshare makes the checks anyone can make on old member
	// dealer's dealing: those of a dealing, and that it shares that
	// member's real share of oldGroup.
	VerifyReshare(oldGroup []byte, members []StarID, faulty, dealer int, dealing []byte) error
	// RespondReshare is KeyGenerator.Respond for a reshare dealing.
	RespondReshare(oldGroup []byte, members []StarID, faulty, dealer int, dealing []byte, self int, key ed25519.PrivateKey) (complaint []byte, err error)
	// VerifyReshareComplaint is KeyGenerator.VerifyComplaint for a reshare
	// dealing.
	VerifyReshareComplaint(oldGroup []byte, members []StarID, faulty, dealer int, dealing []byte, complainer int, complaint []byte) (bool, error)
	// AssembleReshareKeys returns new member self's key material from the
	// qualified dealings, sorted by dealer.
	AssembleReshareKeys(oldGroup []byte, members []StarID, faulty int, qualified []Dealt, self int, key ed25519.PrivateKey) ([]byte, error)
	// AssembleReshareGroupKey returns the new membership's group key.
	AssembleReshareGroupKey(oldGroup []byte, members []StarID, faulty int, qualified []Dealt) ([]byte, error)
}

// Dealt is one member's dealing in a key generation.
type Dealt struct {
	Dealer  int
	Dealing []byte
}

// Inbound is one message for Consensus.Step.
type Inbound struct {
	From    StarID
	Payload []byte
}

// BatchStepper is implemented by engines (or RPC clients of engines) that
// take several messages in one call. StepMany must be equivalent to calling
// Step for each message in order and concatenating the outputs; it exists
// so a host can cross a process boundary once per batch instead of once per
// message.
type BatchStepper interface {
	StepMany(msgs []Inbound) (Output, error)
}

// StepAll delivers msgs to c in order, in one call when c implements
// BatchStepper.
func StepAll(c Consensus, msgs []Inbound) (Output, error) {
	if b, ok := c.(BatchStepper); ok {
		return b.StepMany(msgs)
	}
	var out Output
	for _, m := range msgs {
		o, err := c.Step(m.From, m.Payload)
		if err != nil {
			return out, err
		}
		out.Append(o)
	}
	return out, nil
}
