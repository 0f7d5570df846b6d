package group

import (
	"cmp"
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
	// Spawn, when set, returns the new clusters block b founds beside this
	// group, or nil: the first members of each generate its first keys
	// through this group's chain, in a key generation of their own (group
	// ClusterGroup of the new cluster), and the block after the one that
	// completes it names them and their group key (BlockMeta.Founded).
	// It is asked after every committed block and must be deterministic.
	Spawn func(b *interfaces.Block) ([]Spawn, error)
	// Founded, when set, is told of each founding a committed block
	// carries (live, and when the chain is replayed at start), with the
	// stars that stand for the new cluster (Spawn.Stars) and this member's
	// key material of it, or nil when it is not one of its first members
	// or cannot assemble its keys.
	Founded func(f interfaces.Founding, stars []interfaces.StarID, keys []byte)
	// Committed, when set, is told of every committed block after it was
	// folded, live and when the chain is replayed at start, in height
	// order (a node learns there that its cluster closes).
	Committed func(b *interfaces.Block)
	// Generator is the consensus engine's dealer-free key generation.
	Generator interfaces.KeyGenerator
	// Reshare makes every key generation reshare the group's key
	// (interfaces.KeyResharer) instead of making a new one: the members
	// of the membership epoch in force deal their shares to the next
	// members, and the group key, Key from the first, never changes, so
	// the group certifies every block under its first instance
	// (Group.certInstance) and whoever checks its certificates keeps
	// the key it started with. A draw of the members in force opens
	// nothing. Members and Key are the group's first members (sorted)
	// and group key; the Generator must reshare.
	Reshare bool
	Members []interfaces.StarID
	Key     []byte
	// Rand supplies this member's dealing randomness (crypto/rand when
	// nil).
	Rand io.Reader
}

// Spawn is a new cluster whose first keys a group's chain orders.
type Spawn struct {
	Cluster interfaces.ClusterID
	Members []interfaces.StarID // its first members, who generate its keys
	Stars   []interfaces.StarID // every star that stands for it, members included
}

// Fold is a rotation's schedule as a function of the chain alone: the key
// generation open, the one completed whose handover the next block
// carries, the round, and the key generations of new clusters this chain
// orders. Every node that folds the same blocks holds the same Fold; a
// group's rotator adds what this member submitted, and an offline replay
// (chain verify) uses a Fold by itself for the ledger's rules (KeyGen,
// Handover, Founded).
type Fold struct {
	cfg            Rotation
	network, group string
	round          uint64
	// holders and key are, for a resharing rotation, who holds the
	// group's key as of the last completed key generation (the first
	// members until one completes), and that key set: the next
	// reshare's dealers and the key they reshare.
	holders []interfaces.StarID
	key     []byte
	session *keygen.State
	// completed is the key generation whose handover the next block
	// carries (pending), once the session completed.
	completed *keygen.State
	pending   *interfaces.Handover
	// spawns are the open key generations of new clusters, and founded
	// those completed, which the next block names; both by cluster.
	spawns  []*spawning
	founded []*spawning
}

// spawning is one new cluster's key generation.
type spawning struct {
	cluster interfaces.ClusterID
	stars   []interfaces.StarID
	round   uint64
	st      *keygen.State
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
	f := &Fold{cfg: cfg, network: network, group: group}
	if cfg.Reshare {
		if _, ok := cfg.Generator.(interfaces.KeyResharer); !ok {
			return nil, errors.New("rotation: the consensus engine cannot reshare a group key")
		}
		if len(cfg.Members) == 0 || len(cfg.Key) == 0 {
			return nil, errors.New("rotation: a resharing rotation needs the group's first members and key")
		}
		f.holders, f.key = sortedStars(cfg.Members), slices.Clone(cfg.Key)
	}
	return f, nil
}

// open returns the key generations open: the group's own, then the new
// clusters'.
func (f *Fold) open() []*keygen.State {
	var out []*keygen.State
	if f.session != nil {
		out = append(out, f.session)
	}
	for _, sp := range f.spawns {
		out = append(out, sp.st)
	}
	return out
}

// find returns the open key generation of session id, or nil.
func (f *Fold) find(id interfaces.Hash) *keygen.State {
	for _, st := range f.open() {
		if st.Session().ID() == id {
			return st
		}
	}
	return nil
}

// AdmitKeyGen is the ledger's rule for a TxKeyGen transaction
// (Rules.KeyGen): it must belong to a key generation open as of the block
// being built.
func (f *Fold) AdmitKeyGen(tx *interfaces.Transaction) error {
	m, err := keygen.Decode(tx.Payload)
	if err != nil {
		return err
	}
	st := f.find(m.Session)
	if st == nil {
		return fmt.Errorf("no key generation %s is open", m.Session.Short())
	}
	_, err = st.Admit(tx.Sender, tx.Payload)
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

// Founded is the ledger's rule (Rules.Founded): the block after new
// clusters' key generations completed names their first members and keys.
func (f *Fold) Founded() []interfaces.Founding {
	var out []interfaces.Founding
	for _, sp := range f.founded {
		s := sp.st.Session()
		out = append(out, interfaces.Founding{Cluster: sp.cluster, Members: slices.Clone(s.Members), GroupKey: slices.Clone(sp.st.GroupKey())})
	}
	return out
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
	founded    []*spawning   // the new clusters' key generations whose founding b carries
	spawned    []*spawning   // the new clusters' key generations b opened or opened again
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
	if len(b.Meta.Founded) > 0 {
		if len(b.Meta.Founded) != len(f.founded) {
			return out, fmt.Errorf("block %d founds %d clusters, %d key generations completed", h, len(b.Meta.Founded), len(f.founded))
		}
		out.founded, f.founded = f.founded, nil
	}
	if open := f.open(); len(open) > 0 {
		for _, tx := range b.Txs {
			if tx.Kind != interfaces.TxKeyGen {
				continue
			}
			m, err := keygen.Decode(tx.Payload)
			if err != nil {
				continue // the ledger admitted it, so this cannot happen
			}
			st := f.find(m.Session)
			if st == nil {
				continue // likewise
			}
			if _, err := st.Admit(tx.Sender, tx.Payload); err != nil {
				continue
			}
			what := st.Apply(tx.Sender, m, h)
			if applied != nil {
				applied(tx, m, what)
			}
		}
	}
	if st := f.session; st != nil {
		st.EndBlock(h)
		switch {
		case st.Done():
			f.completed = st
			f.pending = &interfaces.Handover{Members: st.Session().Members, GroupKey: st.GroupKey()}
			f.session = nil
			out.completed = st
			if f.cfg.Reshare {
				f.holders, f.key = st.Session().Members, st.GroupKey()
			}
		case st.Failed():
			out.failed = true
			if err := f.openRound(b, st.Session().Members); err != nil {
				return out, err
			}
			out.opened = true
		}
	}
	var still []*spawning
	for _, sp := range f.spawns {
		sp.st.EndBlock(h)
		switch {
		case sp.st.Done():
			f.founded = append(f.founded, sp)
		case sp.st.Failed():
			again, err := f.spawn(b, Spawn{Cluster: sp.cluster, Members: sp.st.Session().Members, Stars: sp.stars}, sp.round+1)
			if err != nil {
				return out, err
			}
			still = append(still, again)
			out.spawned = append(out.spawned, again)
		default:
			still = append(still, sp)
		}
	}
	f.spawns = still
	if f.session == nil {
		members, err := f.cfg.Draw(b)
		if err != nil {
			return out, fmt.Errorf("rotation after block %d: draw: %w", h, err)
		}
		if f.cfg.Reshare && slices.Equal(sortedStars(members), f.holders) {
			members = nil // the members in force keep the key
		}
		if members != nil {
			if err := f.openRound(b, members); err != nil {
				return out, err
			}
			out.opened = true
		}
	}
	if f.cfg.Spawn != nil {
		spawns, err := f.cfg.Spawn(b)
		if err != nil {
			return out, fmt.Errorf("rotation after block %d: new clusters: %w", h, err)
		}
		for _, s := range spawns {
			sp, err := f.spawn(b, s, 1)
			if err != nil {
				return out, err
			}
			f.spawns = append(f.spawns, sp)
			out.spawned = append(out.spawned, sp)
		}
		byCluster := func(x, y *spawning) int { return cmp.Compare(x.cluster, y.cluster) }
		slices.SortFunc(f.spawns, byCluster)
		slices.SortFunc(f.founded, byCluster)
	}
	return out, nil
}

// openRound opens the next round's key generation among members after b.
func (f *Fold) openRound(b *interfaces.Block, members []interfaces.StarID) error {
	f.round++
	s := keygen.Session{Network: f.network, Group: f.group, Round: f.round, Members: sortedStars(members)}
	if f.cfg.Reshare {
		s.Dealers, s.Previous = f.holders, f.key
	}
	st, err := keygen.New(s, f.cfg.Generator, b.Header.Height, f.cfg.Window)
	if err != nil {
		return fmt.Errorf("rotation %d after block %d: %w", f.round, b.Header.Height, err)
	}
	f.session = st
	return nil
}

// spawn opens round round of new cluster sp's key generation among its
// members after b.
func (f *Fold) spawn(b *interfaces.Block, sp Spawn, round uint64) (*spawning, error) {
	s := keygen.Session{Network: f.network, Group: interfaces.ClusterGroup(sp.Cluster), Round: round, Members: sortedStars(sp.Members)}
	st, err := keygen.New(s, f.cfg.Generator, b.Header.Height, f.cfg.Window)
	if err != nil {
		return nil, fmt.Errorf("key generation of new cluster %d after block %d: %w", sp.Cluster, b.Header.Height, err)
	}
	return &spawning{cluster: sp.Cluster, stars: sortedStars(append(slices.Clone(sp.Stars), sp.Members...)), round: round, st: st}, nil
}

// rotator is a group's rotation state: the chain's fold, and what this
// member submitted in each open key generation, so it deals and answers
// once (the tail of the key-generation chain it submitted).
type rotator struct {
	*Fold
	mine map[interfaces.Hash]*submitted // by session
}

// submitted is what a member submitted in one key generation.
type submitted struct {
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
	return &rotator{Fold: f, mine: map[interfaces.Hash]*submitted{}}, nil
}

// admitKeyGen is the ledger's rule for a TxKeyGen transaction (Rules.KeyGen).
func (n *Group) admitKeyGen(tx *interfaces.Transaction) error {
	if n.rot == nil {
		return errors.New("no key generation is open")
	}
	return n.rot.AdmitKeyGen(tx)
}

// founded is the ledger's rule (Rules.Founded).
func (n *Group) founded() []interfaces.Founding {
	if n.rot == nil {
		return nil
	}
	return n.rot.Founded()
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
			n.log.Debug("key generation", "session", m.Session.Short(), "height", h, "from", tx.Sender.Short(), "kind", m.Kind, "dealer", m.Dealer, "result", what)
		}
	}
	failedRound := r.round
	out, err := r.step(b, logged)
	if out.handedOver != nil {
		if err := n.schedule(b, out.handedOver); err != nil {
			return err
		}
	}
	for _, sp := range out.founded {
		n.found(b, sp)
	}
	if err != nil {
		return err
	}
	if r.cfg.Committed != nil {
		r.cfg.Committed(b)
	}
	if out.completed != nil {
		n.anticipate(b, out.completed)
	}
	if out.failed {
		n.log.Warn("key generation failed: too few dealings qualified by the deadline; trying again", "round", failedRound, "height", h)
	}
	if out.opened {
		s := r.session.Session()
		n.log.Info("key generation opened", "group", n.cfg.Name, "round", r.round, "height", h, "members", len(s.Members), "member", s.Index(n.self) >= 0, "deadline", r.session.Deadline())
	}
	for _, sp := range out.spawned {
		s := sp.st.Session()
		n.log.Info("key generation of a new cluster opened", "group", n.cfg.Name, "cluster", sp.cluster, "round", sp.round, "height", h, "members", len(s.Members), "member", s.Index(n.self) >= 0, "deadline", sp.st.Deadline())
	}
	// Forget what this member submitted in key generations that ended.
	for id := range r.mine {
		if r.find(id) == nil {
			delete(r.mine, id)
		}
	}
	return nil
}

// found tells the configuration of a new cluster's founding that block b
// carries, with this member's key material of it.
func (n *Group) found(b *interfaces.Block, sp *spawning) {
	s := sp.st.Session()
	f := interfaces.Founding{Cluster: sp.cluster, Members: slices.Clone(s.Members), GroupKey: slices.Clone(sp.st.GroupKey())}
	var keys []byte
	if me := s.Index(n.self); me >= 0 {
		k, err := sp.st.Keys(me, n.cfg.Key)
		if err != nil {
			n.log.Error("new cluster's key generation complete, but this member cannot assemble its keys", "cluster", sp.cluster, "error", err)
		} else {
			keys = k
		}
	}
	n.log.Info("new cluster founded", "group", n.cfg.Name, "cluster", sp.cluster, "height", b.Header.Height, "members", len(f.Members), "member", keys != nil)
	if n.rot.cfg.Founded != nil {
		n.rot.cfg.Founded(f, slices.Clone(sp.stars), keys)
	}
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

// keyGenTxs returns this member's messages for the open key generations
// that it has not submitted yet: in each, its dealing, then an answer to
// each dealing delivered.
func (n *Group) keyGenTxs() []*interfaces.Transaction {
	r := n.rot
	if r == nil {
		return nil
	}
	var out []*interfaces.Transaction
	for _, st := range r.open() {
		out = append(out, n.keyGenTxsOf(st)...)
	}
	return out
}

func (n *Group) keyGenTxsOf(st *keygen.State) []*interfaces.Transaction {
	r := n.rot
	s := st.Session()
	me, dealer := s.Index(n.self), s.DealerIndex(n.self)
	if me < 0 && dealer < 0 {
		return nil
	}
	id := s.ID()
	sub := r.mine[id]
	if sub == nil {
		sub = &submitted{answered: map[int]bool{}}
		r.mine[id] = sub
	}
	var msgs []keygen.Message
	if dealer >= 0 && !sub.dealt && !st.Delivered(dealer) {
		m, tried := n.dealMessage(st, dealer)
		if m != nil {
			msgs = append(msgs, *m)
		}
		sub.dealt = tried
	}
	for j := range st.Session().Members {
		if me < 0 {
			break // an old member that is not a new one only deals
		}
		if sub.answered[j] || st.Answered(me, j) {
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
		sub.answered[j] = true
		msgs = append(msgs, m)
	}
	if len(msgs) == 0 {
		return nil
	}
	// Chain them after what this member's key-generation chain holds, or
	// after what it submitted already if that is further.
	if seq, last, err := n.store.ChainHead(interfaces.KeyGenStar(n.self, id)); err == nil && seq >= sub.seq {
		sub.seq, sub.last = seq, last
	}
	var out []*interfaces.Transaction
	for _, m := range msgs {
		tx, err := keygen.Tx(n.cfg.Key, sub.seq+1, sub.last, m)
		if err != nil {
			n.log.Error("key generation: sign", "error", err)
			break
		}
		sub.seq, sub.last = tx.Seq, tx.ID()
		out = append(out, tx)
	}
	return out
}

// dealMessage returns this member's dealing in st, dealer its index among
// the dealers (nil if making it failed, which is logged), and whether it
// tried: not yet, for a reshare whose dealer does not hold its share yet.
// A reshare's dealer deals the share it holds of the key being reshared,
// its keys of the membership epoch that holds that key, which it has once
// the handover that made it a holder is committed.
func (n *Group) dealMessage(st *keygen.State, dealer int) (*keygen.Message, bool) {
	r := n.rot
	s := st.Session()
	if !s.Reshare() {
		m, err := st.DealMessage(dealer, n.cfg.Key, r.cfg.Rand)
		if err != nil {
			n.log.Error("key generation: deal", "error", err)
			return nil, true
		}
		return &m, true
	}
	for i := len(n.eras) - 1; i >= 0; i-- {
		e := n.eras[i]
		if e.keys == nil || !slices.Equal(e.members, s.Dealers) {
			continue
		}
		m, err := st.DealReshareMessage(dealer, e.keys, r.cfg.Rand)
		if err != nil {
			n.log.Error("key generation: reshare deal", "error", err)
			return nil, true
		}
		return &m, true
	}
	return nil, false
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
