// Package keygen runs a distributed key generation over a chain: the
// members of a group's next membership epoch deal, acknowledge and
// complain in TxKeyGen transactions, a group's consensus orders them, and
// every node that follows that chain folds them, in block order, into the
// same State. So every honest node agrees on which dealings qualified and
// on the group key; each member also assembles its own secret key
// material. The cryptography is the consensus engine's
// (interfaces.KeyGenerator); this package decides only what the agreed
// order means, the way poanetwork's hbbft SyncKeyGen does inside
// DynamicHoneyBadger.
//
// # Rules
//
// A session names the group, the round (the n-th key generation of that
// group), its members (sorted) and f; its threshold is t = f+1. Messages
// from stars that are not members, or for another session, are not
// admitted by the ledger (Admit); those it admits are folded here:
//
//   - A member's first dealing is its dealing. A second, different one
//     (equivocation) disqualifies the dealer, as does a dealing that fails
//     the public checks.
//   - Each member answers each dealing once, with an acknowledgement (its
//     share opened and matched the commitments) or a complaint the engine
//     can check. The first answer counts. A justified complaint
//     disqualifies the dealer; an unjustified one is a provable lie of the
//     complainer and changes nothing else.
//   - A dealing is fully acknowledged when every member acknowledged it.
//     The key completes as soon as t dealings are: every member then holds
//     a good share of each, so every member can sign.
//   - If that has not happened Window blocks after the session opened (a
//     silent member never acknowledges), the key completes at that block
//     from the dealings that are not disqualified and have at least N−f
//     acknowledgements, if there are at least t of them. A faulty dealer
//     that gave an honest member a bad share was disqualified by that
//     member's complaint within the window; so every honest member that
//     answered in time holds a good share of every qualified dealing.
//     With fewer than t such dealings the session fails, and the caller
//     starts the next round.
//
// With at most f faulty members, t qualified dealings include at least one
// honest dealer's, whose secret nobody else knows, so nobody knows the
// group's secret. A faulty member that deals correctly is indistinguishable
// from an honest one, so its dealing counts; what the rules guarantee is
// that f faulty members alone never complete a key.
//
// # Resharing
//
// A session with Dealers and Previous set reshares the group key Previous
// (interfaces.KeyResharer): the dealers are the old members, each dealing
// its own share, and the members, the new membership, answer. The rules
// are the same with two differences: a dealer index is a position among
// the dealers, and the key completes from as many qualified dealings as
// Previous's threshold (its f+1). The group key that results holds the
// same secret, so what the old members' key verified, the new members'
// signatures still pass.
package keygen

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/constellation-chain/constellation/interfaces"
)

// Kind is a key-generation message's kind.
type Kind uint8

const (
	// Deal carries the author's dealing.
	Deal Kind = 1
	// Ack says the author's share of a dealing is good.
	Ack Kind = 2
	// Complain carries the author's complaint against a dealing.
	Complain Kind = 3
)

func (k Kind) String() string {
	switch k {
	case Deal:
		return "deal"
	case Ack:
		return "ack"
	case Complain:
		return "complaint"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// DefaultWindow is how many blocks of the ordering chain a session waits
// for every member's answers before it completes from N−f of them.
const DefaultWindow = 16

// Session identifies one key generation.
type Session struct {
	Network string // the genesis seed
	Group   string // interfaces.ClusterGroup of the group
	Round   uint64 // 1 for the group's first key generation
	Members []interfaces.StarID
	Faulty  int // f; 0 means (N−1)/3
	// Dealers, when set, makes the session a reshare of the group key
	// Previous: the old members (sorted), who deal their shares.
	Dealers  []interfaces.StarID
	Previous []byte
}

// Reshare reports whether the session reshares an existing key.
func (s *Session) Reshare() bool { return len(s.Dealers) > 0 }

// dealers returns who deals: the old members of a reshare, else the
// members.
func (s *Session) dealers() []interfaces.StarID {
	if s.Reshare() {
		return s.Dealers
	}
	return s.Members
}

// DealerIndex returns the position of star among the dealers, or -1.
func (s *Session) DealerIndex(star interfaces.StarID) int {
	i, ok := slices.BinarySearchFunc(s.dealers(), star, interfaces.CompareStars)
	if !ok {
		return -1
	}
	return i
}

// F returns the session's f.
func (s *Session) F() int {
	if s.Faulty > 0 {
		return s.Faulty
	}
	return (len(s.Members) - 1) / 3
}

// Threshold is t = f+1: how many qualified dealings make a key.
func (s *Session) Threshold() int { return s.F() + 1 }

// ID is the session's identifier, which every message names.
func (s *Session) ID() interfaces.Hash {
	e := interfaces.NewEncoder(96 + 32*len(s.Members))
	e.String(s.Network)
	e.String(s.Group)
	e.U64(s.Round)
	e.U32(uint32(s.F()))
	e.Uvarint(uint64(len(s.Members)))
	for _, m := range s.Members {
		e.Fixed(m[:])
	}
	if !s.Reshare() {
		return interfaces.DomainSum("constellation/keygen-session/v1", e.Bytes())
	}
	e.Uvarint(uint64(len(s.Dealers)))
	for _, m := range s.Dealers {
		e.Fixed(m[:])
	}
	e.VarBytes(s.Previous)
	return interfaces.DomainSum("constellation/keygen-session/reshare/v1", e.Bytes())
}

// Index returns the position of star among the members, or -1.
func (s *Session) Index(star interfaces.StarID) int {
	i, ok := slices.BinarySearchFunc(s.Members, star, interfaces.CompareStars)
	if !ok {
		return -1
	}
	return i
}

// Message is one key-generation message: the payload of a TxKeyGen
// transaction, whose sender is the message's author and whose signature
// authenticates it.
type Message struct {
	Session interfaces.Hash
	Kind    Kind
	// Dealer is the member whose dealing an Ack or a Complain answers
	// (for a Deal, the author's own index).
	Dealer int
	// Digest is the hash of the dealing answered (zero for a Deal).
	Digest interfaces.Hash
	// Body is the dealing (Deal) or the complaint (Complain).
	Body []byte
}

const messageVersion = 1

// maxMembers bounds a session (and so the dealer index).
const maxMembers = 1 << 12

// Encode returns the canonical encoding.
func (m *Message) Encode() []byte {
	e := interfaces.NewEncoder(48 + len(m.Body))
	e.U8(messageVersion)
	e.Fixed(m.Session[:])
	e.U8(uint8(m.Kind))
	e.U32(uint32(m.Dealer))
	if m.Kind != Deal {
		e.Fixed(m.Digest[:])
	}
	if m.Kind != Ack {
		e.VarBytes(m.Body)
	}
	return e.Bytes()
}

// Decode decodes a TxKeyGen payload strictly.
func Decode(b []byte) (Message, error) {
	d := interfaces.NewDecoder(b)
	var m Message
	if v := d.U8(); d.Err() == nil && v != messageVersion {
		d.Fail(fmt.Errorf("key-generation message version %d, want %d", v, messageVersion))
	}
	d.Fixed(m.Session[:])
	m.Kind = Kind(d.U8())
	if d.Err() == nil && (m.Kind < Deal || m.Kind > Complain) {
		d.Fail(fmt.Errorf("unknown key-generation message kind %d", m.Kind))
	}
	dealer := d.U32()
	if d.Err() == nil && dealer >= maxMembers {
		d.Fail(fmt.Errorf("dealer %d out of range", dealer))
	}
	m.Dealer = int(dealer)
	if m.Kind != Deal {
		d.Fixed(m.Digest[:])
	}
	if m.Kind != Ack {
		m.Body = d.VarBytes(interfaces.MaxTxPayload)
		if d.Err() == nil && len(m.Body) == 0 {
			d.Fail(fmt.Errorf("%s with an empty body", m.Kind))
		}
	}
	if err := d.Finish(); err != nil {
		return Message{}, fmt.Errorf("decode key-generation message: %w", err)
	}
	return m, nil
}

// Digest is the hash a dealing is answered by.
func Digest(dealing []byte) interfaces.Hash {
	return interfaces.DomainSum("constellation/keygen-dealing/v1", dealing)
}

// Tx returns the signed TxKeyGen transaction of m by key at seq in the
// author's key-generation chain (KeyGenStar), after the transaction prev.
func Tx(key ed25519.PrivateKey, seq uint64, prev interfaces.Hash, m Message) (*interfaces.Transaction, error) {
	from, err := interfaces.StarIDFromPublicKey(key.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, err
	}
	tx := &interfaces.Transaction{Sender: from, Seq: seq, Prev: prev, Kind: interfaces.TxKeyGen, Payload: m.Encode()}
	if err := tx.Sign(key); err != nil {
		return nil, err
	}
	return tx, nil
}

// dealing is one member's dealing as the order has delivered it.
type dealing struct {
	body   []byte
	digest interfaces.Hash
	bad    bool   // disqualified
	why    string // why it was disqualified
	acks   []bool // by member
}

// State is a session's state. Its methods are deterministic functions of
// the messages applied, in order; it is not safe for concurrent use.
type State struct {
	s      Session
	gen    interfaces.KeyGenerator
	res    interfaces.KeyResharer // for a reshare
	need   int                    // how many qualified dealings make a key
	opened uint64                 // the height of the block that opened the session
	window uint64

	dealings []*dealing // by dealer; nil until it deals
	answered [][]bool   // answered[member][dealer]
	liars    []bool

	done      bool
	failed    bool
	qualified []interfaces.Dealt
	groupKey  []byte
}

// ErrNotMember is returned for a message whose author is not a member.
var ErrNotMember = errors.New("author is not a member of the key generation")

// New returns the state of session s, opened by the block at height
// opened of the ordering chain, which completes from N−f answers window
// blocks later (0: DefaultWindow).
func New(s Session, gen interfaces.KeyGenerator, opened, window uint64) (*State, error) {
	if gen == nil {
		return nil, errors.New("key generation: the consensus engine cannot generate keys without a dealer")
	}
	if len(s.Members) == 0 || len(s.Members) > maxMembers {
		return nil, fmt.Errorf("key generation: %d members, want 1 to %d", len(s.Members), maxMembers)
	}
	if !slices.IsSortedFunc(s.Members, interfaces.CompareStars) || len(slices.Compact(slices.Clone(s.Members))) != len(s.Members) {
		return nil, errors.New("key generation: members are not sorted and distinct")
	}
	if 3*s.F()+1 > len(s.Members) {
		return nil, fmt.Errorf("key generation: f=%d needs at least %d members, have %d", s.F(), 3*s.F()+1, len(s.Members))
	}
	if window == 0 {
		window = DefaultWindow
	}
	n := len(s.Members)
	st := &State{s: s, gen: gen, need: s.Threshold(), opened: opened, window: window}
	if s.Reshare() {
		res, ok := gen.(interfaces.KeyResharer)
		if !ok {
			return nil, errors.New("key generation: the consensus engine cannot reshare a group key")
		}
		if len(s.Dealers) > maxMembers || !slices.IsSortedFunc(s.Dealers, interfaces.CompareStars) || len(slices.Compact(slices.Clone(s.Dealers))) != len(s.Dealers) {
			return nil, errors.New("key generation: the old members are not sorted and distinct")
		}
		need, err := res.ReshareThreshold(s.Previous)
		if err != nil {
			return nil, fmt.Errorf("key generation: the key to reshare: %w", err)
		}
		if need < 1 || need > len(s.Dealers) {
			return nil, fmt.Errorf("key generation: the key to reshare needs %d dealings, and it has %d old members", need, len(s.Dealers))
		}
		st.res, st.need = res, need
	}
	d := len(s.dealers())
	st.dealings, st.answered, st.liars = make([]*dealing, d), make([][]bool, n), make([]bool, n)
	for i := range st.answered {
		st.answered[i] = make([]bool, d)
	}
	return st, nil
}

// Needed returns how many qualified dealings complete the key: t = f+1,
// or for a reshare the old key's threshold.
func (st *State) Needed() int { return st.need }

// Session returns the state's session.
func (st *State) Session() *Session { return &st.s }

// Deadline is the height of the block at which the session completes
// from N−f answers, or fails.
func (st *State) Deadline() uint64 { return st.opened + st.window }

// Done reports whether the key is complete.
func (st *State) Done() bool { return st.done }

// Failed reports whether the deadline passed with fewer than t dealings
// qualified.
func (st *State) Failed() bool { return st.failed }

// Qualified returns the qualified dealings, by dealer, once Done.
func (st *State) Qualified() []interfaces.Dealt { return st.qualified }

// GroupKey returns the group key, once Done.
func (st *State) GroupKey() []byte { return st.groupKey }

// Liars returns the members whose complaints were proven false.
func (st *State) Liars() []interfaces.StarID {
	var out []interfaces.StarID
	for i, l := range st.liars {
		if l {
			out = append(out, st.s.Members[i])
		}
	}
	return out
}

// Dealing returns dealer's dealing as delivered (nil if none, or if it
// was disqualified) and its digest.
func (st *State) Dealing(dealer int) ([]byte, interfaces.Hash, bool) {
	if dealer < 0 || dealer >= len(st.dealings) || st.dealings[dealer] == nil || st.dealings[dealer].bad {
		return nil, interfaces.Hash{}, false
	}
	return st.dealings[dealer].body, st.dealings[dealer].digest, true
}

// Delivered reports whether the order has delivered a dealing of dealer
// (qualified or not).
func (st *State) Delivered(dealer int) bool {
	return dealer >= 0 && dealer < len(st.dealings) && st.dealings[dealer] != nil
}

// Answered reports whether member has answered dealer's dealing.
func (st *State) Answered(member, dealer int) bool { return st.answered[member][dealer] }

// Admit is the ledger's check of a TxKeyGen transaction from author: it
// decodes and names this session, and the author is a dealer (for a
// dealing) or a member (for an answer). What the message means is Apply's
// business, so a well-formed message from either is ordered even when it
// will change nothing.
func (st *State) Admit(author interfaces.StarID, payload []byte) (Message, error) {
	m, err := Decode(payload)
	if err != nil {
		return Message{}, err
	}
	if m.Session != st.s.ID() {
		return Message{}, fmt.Errorf("key-generation message for session %s, the open one is %s", m.Session.Short(), st.s.ID().Short())
	}
	if st.author(author, m.Kind) < 0 {
		return Message{}, fmt.Errorf("%w: %s", ErrNotMember, author.Short())
	}
	if m.Dealer >= len(st.dealings) {
		return Message{}, fmt.Errorf("key-generation message names dealer %d of %d", m.Dealer, len(st.dealings))
	}
	return m, nil
}

// author returns the index of a message's author: among the dealers for a
// dealing, among the members for an answer; -1 if it is neither.
func (st *State) author(star interfaces.StarID, k Kind) int {
	if k == Deal {
		return st.s.DealerIndex(star)
	}
	return st.s.Index(star)
}

// Apply folds a message admitted by Admit, from author, committed in the
// block at height. It returns what the message did, for logs; the state
// changes identically on every node either way. Messages after the key
// completed or the session failed change nothing.
func (st *State) Apply(author interfaces.StarID, m Message, height uint64) string {
	if st.done || st.failed {
		return "session over"
	}
	from := st.author(author, m.Kind)
	if from < 0 || m.Dealer < 0 || m.Dealer >= len(st.dealings) {
		return "not a member"
	}
	n := len(st.s.Members)
	var what string
	switch m.Kind {
	case Deal:
		what = st.deal(from, m)
	case Ack, Complain:
		what = st.answer(from, m)
	default:
		what = "unknown kind"
	}
	// The fast path: t dealings every member acknowledged.
	var full []int
	for j, d := range st.dealings {
		if d != nil && !d.bad && countTrue(d.acks) == n {
			full = append(full, j)
		}
	}
	if len(full) >= st.need {
		st.complete(full)
		return what + "; key complete"
	}
	return what
}

func (st *State) deal(from int, m Message) string {
	if m.Dealer != from {
		return "a dealing sent for another dealer"
	}
	digest := Digest(m.Body)
	if d := st.dealings[from]; d != nil {
		if d.digest == digest {
			return "duplicate dealing"
		}
		d.bad, d.why = true, "equivocated"
		return "second dealing: dealer disqualified"
	}
	d := &dealing{body: m.Body, digest: digest, acks: make([]bool, len(st.s.Members))}
	st.dealings[from] = d
	verify := st.gen.VerifyDealing
	if st.res != nil {
		verify = func(members []interfaces.StarID, f, dealer int, body []byte) error {
			return st.res.VerifyReshare(st.s.Previous, members, f, dealer, body)
		}
	}
	if err := verify(st.s.Members, st.s.F(), from, m.Body); err != nil {
		d.bad, d.why = true, err.Error()
		return "invalid dealing: dealer disqualified"
	}
	return "dealing"
}

func (st *State) answer(from int, m Message) string {
	d := st.dealings[m.Dealer]
	switch {
	case d == nil || d.digest != m.Digest:
		return "answer to a dealing not delivered"
	case st.answered[from][m.Dealer]:
		return "second answer ignored"
	}
	st.answered[from][m.Dealer] = true
	if m.Kind == Ack {
		d.acks[from] = true
		return "acknowledgement"
	}
	if d.bad {
		return "complaint against a disqualified dealing"
	}
	check := st.gen.VerifyComplaint
	if st.res != nil {
		check = func(members []interfaces.StarID, f, dealer int, body []byte, complainer int, complaint []byte) (bool, error) {
			return st.res.VerifyReshareComplaint(st.s.Previous, members, f, dealer, body, complainer, complaint)
		}
	}
	justified, err := check(st.s.Members, st.s.F(), m.Dealer, d.body, from, m.Body)
	switch {
	case err != nil:
		st.answered[from][m.Dealer] = false // proves nothing; the member may still answer
		return "complaint refused: " + err.Error()
	case justified:
		d.bad, d.why = true, fmt.Sprintf("cheated member %d", from)
		return "justified complaint: dealer disqualified"
	}
	st.liars[from] = true
	return "unjustified complaint: complainer lied"
}

// EndBlock is called after the messages of the block at height are
// applied: at the deadline the key completes from N−f answers, or the
// session fails. It reports whether the session just ended.
func (st *State) EndBlock(height uint64) bool {
	if st.done || st.failed || height < st.Deadline() {
		return false
	}
	n, f := len(st.s.Members), st.s.F()
	var ok []int
	for j, d := range st.dealings {
		if d != nil && !d.bad && countTrue(d.acks) >= n-f {
			ok = append(ok, j)
		}
	}
	if len(ok) < st.need {
		st.failed = true
		return true
	}
	st.complete(ok)
	return true
}

func (st *State) complete(dealers []int) {
	q := make([]interfaces.Dealt, len(dealers))
	for i, j := range dealers {
		q[i] = interfaces.Dealt{Dealer: j, Dealing: st.dealings[j].body}
	}
	var key []byte
	var err error
	if st.res != nil {
		key, err = st.res.AssembleReshareGroupKey(st.s.Previous, st.s.Members, st.s.F(), q)
	} else {
		key, err = st.gen.AssembleGroupKey(st.s.Members, st.s.F(), q)
	}
	if err != nil {
		// Every dealing passed VerifyDealing, so only an engine bug gets
		// here; failing the session is what every node does alike.
		st.failed = true
		return
	}
	st.done, st.qualified, st.groupKey = true, q, key
}

// DealMessage returns member self's dealing as a message (not for a
// reshare: DealReshareMessage).
func (st *State) DealMessage(self int, key ed25519.PrivateKey, rnd io.Reader) (Message, error) {
	if st.res != nil {
		return Message{}, errors.New("key generation: a reshare's dealers deal their old key material (DealReshareMessage)")
	}
	b, err := st.gen.Deal(st.s.Members, st.s.F(), self, key, rnd)
	if err != nil {
		return Message{}, err
	}
	return Message{Session: st.s.ID(), Kind: Deal, Dealer: self, Body: b}, nil
}

// DealReshareMessage returns old member dealer's dealing of its share, its
// key material of the old group being oldKeys, as a message.
func (st *State) DealReshareMessage(dealer int, oldKeys []byte, rnd io.Reader) (Message, error) {
	if st.res == nil {
		return Message{}, errors.New("key generation: not a reshare")
	}
	b, err := st.res.DealReshare(oldKeys, st.s.Members, st.s.F(), rnd)
	if err != nil {
		return Message{}, err
	}
	return Message{Session: st.s.ID(), Kind: Deal, Dealer: dealer, Body: b}, nil
}

// AnswerMessage returns member self's answer to dealer's delivered
// dealing: an acknowledgement, or a complaint when its share is bad.
func (st *State) AnswerMessage(self, dealer int, key ed25519.PrivateKey) (Message, error) {
	body, digest, ok := st.Dealing(dealer)
	if !ok {
		return Message{}, fmt.Errorf("key generation: no qualified dealing of member %d to answer", dealer)
	}
	var c []byte
	var err error
	if st.res != nil {
		c, err = st.res.RespondReshare(st.s.Previous, st.s.Members, st.s.F(), dealer, body, self, key)
	} else {
		c, err = st.gen.Respond(st.s.Members, st.s.F(), dealer, body, self, key)
	}
	if err != nil {
		return Message{}, err
	}
	m := Message{Session: st.s.ID(), Kind: Ack, Dealer: dealer, Digest: digest}
	if c != nil {
		m.Kind, m.Body = Complain, c
	}
	return m, nil
}

// Keys assembles member self's key material from the qualified dealings.
func (st *State) Keys(self int, key ed25519.PrivateKey) ([]byte, error) {
	if !st.done {
		return nil, errors.New("key generation not complete")
	}
	if st.res != nil {
		return st.res.AssembleReshareKeys(st.s.Previous, st.s.Members, st.s.F(), st.qualified, self, key)
	}
	return st.gen.AssembleKeys(st.s.Members, st.s.F(), st.qualified, self, key)
}

func countTrue(bs []bool) int {
	c := 0
	for _, b := range bs {
		if b {
			c++
		}
	}
	return c
}
