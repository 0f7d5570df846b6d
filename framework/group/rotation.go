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

// rotator is a group's rotation state.
type rotator struct {
	cfg     Rotation
	round   uint64
	session *keygen.State
	// completed is the key generation whose handover the next block
	// carries (pending), once the session completed.
	completed *keygen.State
	pending   *interfaces.Handover
	// what this member submitted in the open session, so it deals and
	// answers once; the tail of its key-generation chain it submitted.
	dealt    bool
	answered map[int]bool
	seq      uint64
	last     interfaces.Hash
}

func newRotator(cfg Rotation) (*rotator, error) {
	switch {
	case cfg.Draw == nil:
		return nil, errors.New("rotation: no draw of the next members")
	case cfg.Generator == nil:
		return nil, errors.New("rotation: the consensus engine cannot generate keys without a dealer")
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	return &rotator{cfg: cfg}, nil
}

// admitKeyGen is the ledger's rule for a TxKeyGen transaction (Rules.KeyGen):
// it must belong to the key generation open as of the block being built.
func (n *Group) admitKeyGen(tx *interfaces.Transaction) error {
	if n.rot == nil || n.rot.session == nil {
		return errors.New("no key generation is open")
	}
	_, err := n.rot.session.Admit(tx.Sender, tx.Payload)
	return err
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
	if b.Meta.Handover != nil {
		if r.completed == nil {
			return fmt.Errorf("block %d carries a handover no key generation completed", h)
		}
		if err := n.schedule(b, r.completed); err != nil {
			return err
		}
		r.completed, r.pending = nil, nil
	}
	if st := r.session; st != nil {
		for _, tx := range b.Txs {
			if tx.Kind != interfaces.TxKeyGen {
				continue
			}
			m, err := st.Admit(tx.Sender, tx.Payload)
			if err != nil {
				continue // the ledger admitted it, so this cannot happen
			}
			what := st.Apply(tx.Sender, m, h)
			if !n.replaying {
				n.log.Debug("key generation", "round", r.round, "height", h, "from", tx.Sender.Short(), "kind", m.Kind, "dealer", m.Dealer, "result", what)
			}
		}
		st.EndBlock(h)
		switch {
		case st.Done():
			r.completed = st
			r.pending = &interfaces.Handover{Members: st.Session().Members, GroupKey: st.GroupKey()}
			r.session = nil
			n.anticipate(b, st)
		case st.Failed():
			n.log.Warn("key generation failed: too few dealings qualified by the deadline; trying again", "round", r.round, "height", h)
			if err := n.openSession(b, st.Session().Members); err != nil {
				return err
			}
		}
	}
	if r.session == nil {
		members, err := r.cfg.Draw(b)
		if err != nil {
			return fmt.Errorf("rotation after block %d: draw: %w", h, err)
		}
		if members != nil {
			if err := n.openSession(b, members); err != nil {
				return err
			}
		}
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

// handover is the ledger's rule (Rules.Handover): the block of epoch
// epoch after a key generation completed names the next membership epoch.
func (n *Group) handover(epoch uint64) *interfaces.Handover {
	if n.rot == nil || n.rot.pending == nil {
		return nil
	}
	h := *n.rot.pending
	h.FirstEpoch = epoch + 1
	return &h
}

// openSession opens the next round's key generation among members.
func (n *Group) openSession(b *interfaces.Block, members []interfaces.StarID) error {
	r := n.rot
	r.round++
	s := keygen.Session{Network: n.cfg.Genesis.Seed, Group: n.cfg.Name, Round: r.round, Members: sortedStars(members)}
	st, err := keygen.New(s, r.cfg.Generator, b.Header.Height, r.cfg.Window)
	if err != nil {
		return fmt.Errorf("rotation %d after block %d: %w", r.round, b.Header.Height, err)
	}
	r.session, r.dealt, r.answered, r.seq, r.last = st, false, map[int]bool{}, 0, interfaces.Hash{}
	n.log.Info("key generation opened", "group", n.cfg.Name, "round", r.round, "height", b.Header.Height, "members", len(s.Members), "member", s.Index(n.self) >= 0, "deadline", st.Deadline())
	return nil
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
