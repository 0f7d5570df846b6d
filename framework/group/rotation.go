package group

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/constellation-chain/constellation/framework/keygen"
	"github.com/constellation-chain/constellation/interfaces"
)

// Rotation: a group whose membership its own chain decides. At the blocks
// Draw names (every few blocks, or a Star Cluster's claim of every R-th
// beacon) the group takes the next members Draw returns, a deterministic
// function of the chain, and those members generate their threshold keys without a
// dealer (framework/keygen), their messages ordered as TxKeyGen
// transactions by the group's current consensus. The block after the one
// that completes the key carries the handover in its metadata (the next
// members, their first epoch and their group key, certified by the
// outgoing members) and ends the current membership epoch: the next epoch
// is the new members' instance, with the new keys, and the old keys are
// retired. A
// star of the group that is not a member of the current membership epoch
// follows the chain (block sync from the members), so it can deal, answer
// and take over when it is drawn.
//
// Everything that decides the schedule is in the chain, so every node that
// holds the same blocks runs the same membership epochs; each member's
// secret key material is its own, assembled from the dealings sealed to it.

// Rotation configures a rotating group.
type Rotation struct {
	// Window is the key generation's window in blocks
	// (keygen.DefaultWindow when 0).
	Window uint64
	// Draw returns the members of the rotation block b opens, or nil when
	// b opens none; it is asked after every committed block while no key
	// generation is open. It must be deterministic: a function of the
	// chain up to b.
	Draw func(b *interfaces.Block) ([]interfaces.StarID, error)
	// Generator is the consensus engine's dealer-free key generation.
	Generator interfaces.KeyGenerator
	// Rand supplies this member's dealing randomness (crypto/rand when
	// nil).
	Rand io.Reader
}

// Fold is a rotation's schedule as a function of the chain alone: the key
// generation open, the one completed whose handover the next block
// carries, and the round. Every node that folds the same blocks holds the
// same Fold; a group's rotator adds what this member submitted, and an
// offline replay (chain verify) uses a Fold by itself for the ledger's
// rules (KeyGen, Handover).
type Fold struct {
	cfg            Rotation
	network, group string
	round          uint64
	session        *keygen.State
	// completed is the key generation whose handover the next block
	// carries (pending), once the session completed.
	completed *keygen.State
	pending   *interfaces.Handover
}

// NewFold returns the fold of group's rotation in network (the genesis
// seed), before its first block.
func NewFold(cfg Rotation, network, group string) (*Fold, error) {
	switch {
	case cfg.Draw == nil:
		return nil, errors.New("rotation: no draw of the next members")
	case cfg.Generator == nil:
		return nil, errors.New("rotation: the consensus engine cannot generate keys without a dealer")
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	return &Fold{cfg: cfg, network: network, group: group}, nil
}

// AdmitKeyGen is the ledger's rule for a TxKeyGen transaction
// (Rules.KeyGen): it must belong to the key generation open as of the
// block being built.
func (f *Fold) AdmitKeyGen(tx *interfaces.Transaction) error {
	if f.session == nil {
		return errors.New("no key generation is open")
	}
	_, err := f.session.Admit(tx.Sender, tx.Payload)
	return err
}

// Handover is the ledger's rule (Rules.Handover): the block of epoch
// epoch after a key generation completed names the next membership epoch.
func (f *Fold) Handover(epoch uint64) *interfaces.Handover {
	if f.pending == nil {
		return nil
	}
	h := *f.pending
	h.FirstEpoch = epoch + 1
	return &h
}

// Observe folds committed block b (Rules.Replayed, for an offline replay).
func (f *Fold) Observe(b *interfaces.Block) error {
	_, err := f.step(b, nil)
	return err
}

// folded is what one block did to the fold.
type folded struct {
	handedOver *keygen.State // the key generation whose handover b carries
	completed  *keygen.State // the key generation b completed
	failed     bool          // b ended a key generation that failed (and opened it again)
	opened     bool          // b opened a key generation
}

// step folds committed block b; applied, when set, is told of each
// key-generation message b delivers.
func (f *Fold) step(b *interfaces.Block, applied func(tx *interfaces.Transaction, m keygen.Message, what string)) (folded, error) {
	var out folded
	h := b.Header.Height
	if b.Meta.Handover != nil {
		if f.completed == nil {
			return out, fmt.Errorf("block %d carries a handover no key generation completed", h)
		}
		out.handedOver = f.completed
		f.completed, f.pending = nil, nil
	}
	if st := f.session; st != nil {
		for _, tx := range b.Txs {
			if tx.Kind != interfaces.TxKeyGen {
				continue
			}
			m, err := st.Admit(tx.Sender, tx.Payload)
			if err != nil {
				continue // the ledger admitted it, so this cannot happen
			}
			what := st.Apply(tx.Sender, m, h)
			if applied != nil {
				applied(tx, m, what)
			}
		}
		st.EndBlock(h)
		switch {
		case st.Done():
			f.completed = st
			f.pending = &interfaces.Handover{Members: st.Session().Members, GroupKey: st.GroupKey()}
			f.session = nil
			out.completed = st
		case st.Failed():
			out.failed = true
			if err := f.open(b, st.Session().Members); err != nil {
				return out, err
			}
			out.opened = true
		}
	}
	if f.session == nil {
		members, err := f.cfg.Draw(b)
		if err != nil {
			return out, fmt.Errorf("rotation after block %d: draw: %w", h, err)
		}
		if members != nil {
			if err := f.open(b, members); err != nil {
				return out, err
			}
			out.opened = true
		}
	}
	return out, nil
}

// open opens the next round's key generation among members after b.
func (f *Fold) open(b *interfaces.Block, members []interfaces.StarID) error {
	f.round++
	s := keygen.Session{Network: f.network, Group: f.group, Round: f.round, Members: sortedStars(members)}
	st, err := keygen.New(s, f.cfg.Generator, b.Header.Height, f.cfg.Window)
	if err != nil {
		return fmt.Errorf("rotation %d after block %d: %w", f.round, b.Header.Height, err)
	}
	f.session = st
	return nil
}

// rotator is a group's rotation state: the chain's fold, and what this
// member submitted in the open session, so it deals and answers once (the
// tail of its key-generation chain it submitted).
type rotator struct {
	*Fold
	dealt    bool
	answered map[int]bool
	seq      uint64
	last     interfaces.Hash
}

func newRotator(cfg Rotation, network, group string) (*rotator, error) {
	f, err := NewFold(cfg, network, group)
	if err != nil {
		return nil, err
	}
	return &rotator{Fold: f}, nil
}

// admitKeyGen is the ledger's rule for a TxKeyGen transaction (Rules.KeyGen).
func (n *Group) admitKeyGen(tx *interfaces.Transaction) error {
	if n.rot == nil {
		return errors.New("no key generation is open")
	}
	return n.rot.AdmitKeyGen(tx)
}

// rotate folds committed block b into the rotation: its key-generation
// messages, the deadline, and the opening of the next rotation. It runs for
// every block, live or rebuilt at start, in height order.
func (n *Group) rotate(b *interfaces.Block) error {
	r := n.rot
	if r == nil {
		return nil
	}
	h := b.Header.Height
	var logged func(*interfaces.Transaction, keygen.Message, string)
	if !n.replaying {
		logged = func(tx *interfaces.Transaction, m keygen.Message, what string) {
			n.log.Debug("key generation", "round", r.round, "height", h, "from", tx.Sender.Short(), "kind", m.Kind, "dealer", m.Dealer, "result", what)
		}
	}
	failedRound := r.round
	out, err := r.step(b, logged)
	if out.handedOver != nil {
		if err := n.schedule(b, out.handedOver); err != nil {
			return err
		}
	}
	if err != nil {
		return err
	}
	if out.completed != nil {
		n.anticipate(b, out.completed)
	}
	if out.failed {
		n.log.Warn("key generation failed: too few dealings qualified by the deadline; trying again", "round", failedRound, "height", h)
	}
	if out.opened {
		s := r.session.Session()
		r.dealt, r.answered, r.seq, r.last = false, map[int]bool{}, 0, interfaces.Hash{}
		n.log.Info("key generation opened", "group", n.cfg.Name, "round", r.round, "height", h, "members", len(s.Members), "member", s.Index(n.self) >= 0, "deadline", r.session.Deadline())
	}
	return nil
}

// anticipate subscribes a member of the next membership epoch to its
// topic a block before the handover schedules it: the handover is the next
// block, of the next epoch, so the new instance will start at the epoch
// after that. A member that commits the handover first and starts sending
// is then heard by one that has not committed it yet.
func (n *Group) anticipate(b *interfaces.Block, st *keygen.State) {
	s := st.Session()
	if n.replaying || n.cfg.Transport == nil || s.Index(n.self) < 0 {
		return
	}
	e := era{start: b.Header.Epoch + 2, members: s.Members}
	e.id = interfaces.NewInstanceID(n.cfg.Genesis.Seed, n.cfg.Name, e.start, e.members)
	e.topic = interfaces.ConsensusTopic(e.id)
	if err := n.watch(e); err != nil {
		n.log.Warn("subscribe to the next membership epoch's topic", "error", err)
		return
	}
	n.expect = &e
}

// handover is the ledger's rule (Rules.Handover).
func (n *Group) handover(epoch uint64) *interfaces.Handover {
	if n.rot == nil {
		return nil
	}
	return n.rot.Handover(epoch)
}

// schedule makes the completed key generation's members the next
// membership epoch, from the epoch after block b's, the block that carries
// the handover.
func (n *Group) schedule(b *interfaces.Block, st *keygen.State) error {
	s := st.Session()
	cur := &n.eras[len(n.eras)-1]
	if cur.last != 0 {
		return fmt.Errorf("rotation %d: the membership epoch after block %d is already scheduled", s.Round, b.Header.Height)
	}
	cur.last = b.Header.Epoch
	next := era{start: b.Header.Epoch + 1, members: s.Members}
	if me := s.Index(n.self); me >= 0 {
		keys, err := st.Keys(me, n.cfg.Key)
		if err != nil {
			// This member missed a share (it answered too late); it
			// follows the chain through this membership epoch.
			n.log.Error("key generation complete, but this member cannot assemble its keys; it sits this membership epoch out", "round", s.Round, "error", err)
			next.keyless = true
		}
		next.keys = keys
	}
	next.id = interfaces.NewInstanceID(n.cfg.Genesis.Seed, n.cfg.Name, next.start, next.members)
	next.topic = interfaces.ConsensusTopic(next.id)
	n.eras = append(n.eras, next)
	n.expect = nil
	n.log.Info("key generation complete; next membership epoch scheduled", "group", n.cfg.Name, "round", s.Round, "height", b.Header.Height, "first_epoch", next.start, "members", len(next.members), "member", next.sits(n.self), "dealings", len(st.Qualified()))
	return nil
}

// keyGenTxs returns this member's messages for the open key generation
// that it has not submitted yet: its dealing, then an answer to each
// dealing delivered.
func (n *Group) keyGenTxs() []*interfaces.Transaction {
	r := n.rot
	if r == nil || r.session == nil {
		return nil
	}
	st := r.session
	me := st.Session().Index(n.self)
	if me < 0 {
		return nil
	}
	var msgs []keygen.Message
	if !r.dealt && !st.Delivered(me) {
		m, err := st.DealMessage(me, n.cfg.Key, r.cfg.Rand)
		if err != nil {
			n.log.Error("key generation: deal", "error", err)
		} else {
			msgs = append(msgs, m)
		}
		r.dealt = true
	}
	for j := range st.Session().Members {
		if r.answered[j] || st.Answered(me, j) {
			continue
		}
		if _, _, ok := st.Dealing(j); !ok {
			continue
		}
		m, err := st.AnswerMessage(me, j, n.cfg.Key)
		if err != nil {
			n.log.Error("key generation: answer", "dealer", j, "error", err)
			continue
		}
		r.answered[j] = true
		msgs = append(msgs, m)
	}
	if len(msgs) == 0 {
		return nil
	}
	// Chain them after what this member's key-generation chain holds, or
	// after what it submitted already if that is further.
	if seq, last, err := n.store.ChainHead(interfaces.KeyGenStar(n.self, st.Session().ID())); err == nil && seq >= r.seq {
		r.seq, r.last = seq, last
	}
	var out []*interfaces.Transaction
	for _, m := range msgs {
		tx, err := keygen.Tx(n.cfg.Key, r.seq+1, r.last, m)
		if err != nil {
			n.log.Error("key generation: sign", "error", err)
			break
		}
		r.seq, r.last = tx.Seq, tx.ID()
		out = append(out, tx)
	}
	return out
}

// submitKeyGen submits this member's pending key-generation messages.
func (n *Group) submitKeyGen() {
	for _, tx := range n.keyGenTxs() {
		if err := n.Submit(tx); err != nil {
			n.log.Warn("key generation: submit", "error", err)
		}
	}
}

// sortedStars returns ms sorted, without repeats.
func sortedStars(ms []interfaces.StarID) []interfaces.StarID {
	out := slices.Clone(ms)
	slices.SortFunc(out, interfaces.CompareStars)
	return slices.Compact(out)
}
