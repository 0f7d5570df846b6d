package ledger

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/constellation-chain/constellation/interfaces"
)

// TxLocation says which block committed a transaction.
type TxLocation struct {
	ID     interfaces.Hash
	Height uint64
}

// Snapshot is a map-free dump of ledger state at one height: every list is
// sorted (balances and heads by star, transactions by id), so two snapshots
// of the same state are equal field by field. It holds the whole state and
// transaction index, so it is meant for verification and tests, not for
// hot paths.
type Snapshot struct {
	Height    uint64
	Hash      interfaces.Hash // hash of the block at Height; the genesis hash at 0
	StateRoot interfaces.Hash
	Balances  []Balance
	Heads     []Head
	Txs       []TxLocation
}

// Supply returns the sum of all balances.
func (s *Snapshot) Supply() uint64 {
	var total uint64
	for _, b := range s.Balances {
		total += b.Amount
	}
	return total
}

// Diff returns a description of the first difference between s and o, or ""
// when they are equal.
func (s *Snapshot) Diff(o *Snapshot) string {
	switch {
	case s.Height != o.Height:
		return fmt.Sprintf("height %d != %d", s.Height, o.Height)
	case s.Hash != o.Hash:
		return fmt.Sprintf("head hash %s != %s", s.Hash.Short(), o.Hash.Short())
	case s.StateRoot != o.StateRoot:
		return fmt.Sprintf("state root %s != %s", s.StateRoot.Short(), o.StateRoot.Short())
	}
	if i := firstDiff(s.Balances, o.Balances); i >= 0 {
		return fmt.Sprintf("balances differ at entry %d (%d vs %d entries)", i, len(s.Balances), len(o.Balances))
	}
	if i := firstDiff(s.Heads, o.Heads); i >= 0 {
		return fmt.Sprintf("chain heads differ at entry %d (%d vs %d entries)", i, len(s.Heads), len(o.Heads))
	}
	if i := firstDiff(s.Txs, o.Txs); i >= 0 {
		return fmt.Sprintf("transaction index differs at entry %d (%d vs %d entries)", i, len(s.Txs), len(o.Txs))
	}
	return ""
}

func firstDiff[T comparable](a, b []T) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// CheckCommit checks that block b with changes ch may be committed on top
// of parent: b is the next height and names parent's hash, its header
// commits to its body, ch belongs to b (same height, same transaction ids in
// order, sorted unique stars) and b's StateRoot chains parent's root with
// ch. Both MemState and the store call it before writing anything.
func CheckCommit(parent Parent, b *interfaces.Block, ch *Changes) error {
	if b == nil || ch == nil {
		return fmt.Errorf("commit: block and changes are required")
	}
	h := b.Header.Height
	if h != parent.Height+1 {
		return fmt.Errorf("commit block %d: not the next block (head is %d)", h, parent.Height)
	}
	if b.Header.Prev != parent.Hash {
		return fmt.Errorf("commit block %d: names previous block %s, head is %s", h, b.Header.Prev.Short(), parent.Hash.Short())
	}
	if err := b.CheckBody(); err != nil {
		return fmt.Errorf("commit block %d: %w", h, err)
	}
	if ch.Height != h {
		return fmt.Errorf("commit block %d: changes are for height %d", h, ch.Height)
	}
	if len(ch.TxIDs) != len(b.Txs) {
		return fmt.Errorf("commit block %d: changes list %d transactions, block has %d", h, len(ch.TxIDs), len(b.Txs))
	}
	for i, t := range b.Txs {
		if t.ID() != ch.TxIDs[i] {
			return fmt.Errorf("commit block %d: transaction %d id differs between block and changes", h, i)
		}
	}
	for i := 1; i < len(ch.Balances); i++ {
		if bytes.Compare(ch.Balances[i-1].Star[:], ch.Balances[i].Star[:]) >= 0 {
			return fmt.Errorf("commit block %d: balance changes not sorted by star at entry %d", h, i)
		}
	}
	for i := 1; i < len(ch.Heads); i++ {
		if bytes.Compare(ch.Heads[i-1].Star[:], ch.Heads[i].Star[:]) >= 0 {
			return fmt.Errorf("commit block %d: chain head changes not sorted by star at entry %d", h, i)
		}
	}
	if want := StateRoot(parent.StateRoot, ch); b.Header.StateRoot != want {
		return fmt.Errorf("commit block %d: state root %s does not match changes (want %s)", h, b.Header.StateRoot.Short(), want.Short())
	}
	return nil
}

// MemState is ledger state held in memory. It implements View and commits
// blocks like the store does; tests, benchmarks and Replay use it. It is
// not safe for concurrent use.
type MemState struct {
	genesis  Genesis
	parent   Parent
	balances map[interfaces.StarID]uint64
	heads    map[interfaces.StarID]Head
	txs      map[interfaces.Hash]uint64
}

// NewMemState returns the state at height 0 of genesis g.
func NewMemState(g Genesis) (*MemState, error) {
	ch, root, err := GenesisChanges(g)
	if err != nil {
		return nil, err
	}
	m := &MemState{
		genesis:  g,
		parent:   Parent{Height: 0, Hash: g.Hash(), StateRoot: root},
		balances: make(map[interfaces.StarID]uint64, len(ch.Balances)),
		heads:    make(map[interfaces.StarID]Head),
		txs:      make(map[interfaces.Hash]uint64),
	}
	for _, b := range ch.Balances {
		m.balances[b.Star] = b.Amount
	}
	return m, nil
}

// Genesis returns the genesis the state started from.
func (m *MemState) Genesis() Genesis { return m.genesis }

// Parent returns the head block, which the next block builds on.
func (m *MemState) Parent() Parent { return m.parent }

// Balance implements View.
func (m *MemState) Balance(star interfaces.StarID) (uint64, error) { return m.balances[star], nil }

// ChainHead implements View.
func (m *MemState) ChainHead(star interfaces.StarID) (uint64, interfaces.Hash, error) {
	h := m.heads[star]
	return h.Seq, h.Last, nil
}

// TxHeight implements View.
func (m *MemState) TxHeight(id interfaces.Hash) (uint64, bool, error) {
	h, ok := m.txs[id]
	return h, ok, nil
}

// Commit checks b and ch with CheckCommit and applies ch. On error the
// state is unchanged.
func (m *MemState) Commit(b *interfaces.Block, ch *Changes) error {
	if err := CheckCommit(m.parent, b, ch); err != nil {
		return err
	}
	for _, bal := range ch.Balances {
		m.balances[bal.Star] = bal.Amount
	}
	for _, h := range ch.Heads {
		m.heads[h.Star] = h
	}
	for _, id := range ch.TxIDs {
		m.txs[id] = ch.Height
	}
	m.parent = Parent{Height: b.Header.Height, Hash: b.Hash(), StateRoot: b.Header.StateRoot}
	return nil
}

// Snapshot dumps the state in sorted order.
func (m *MemState) Snapshot() *Snapshot {
	s := &Snapshot{
		Height:    m.parent.Height,
		Hash:      m.parent.Hash,
		StateRoot: m.parent.StateRoot,
		Balances:  make([]Balance, 0, len(m.balances)),
		Heads:     make([]Head, 0, len(m.heads)),
		Txs:       make([]TxLocation, 0, len(m.txs)),
	}
	for star, v := range m.balances {
		s.Balances = append(s.Balances, Balance{Star: star, Amount: v})
	}
	for _, h := range m.heads {
		s.Heads = append(s.Heads, h)
	}
	for id, h := range m.txs {
		s.Txs = append(s.Txs, TxLocation{ID: id, Height: h})
	}
	slices.SortFunc(s.Balances, func(x, y Balance) int { return compareStars(x.Star, y.Star) })
	slices.SortFunc(s.Heads, func(x, y Head) int { return compareStars(x.Star, y.Star) })
	slices.SortFunc(s.Txs, func(x, y TxLocation) int { return bytes.Compare(x.ID[:], y.ID[:]) })
	return s
}

// Replay re-validates and re-applies blocks from genesis g and returns the
// resulting state. Block i must have height i+1, name its predecessor's hash
// (the genesis hash for the first), belong to the same cluster as the first
// block, carry a header that commits to its body, and contain only
// transactions that are valid in order; rebuilding it from those
// transactions must give exactly its header (so its TxRoot, MetaHash and
// StateRoot match). The first failure is returned with its height.
func Replay(g Genesis, blocks []*interfaces.Block) (*MemState, error) {
	st, err := NewMemState(g)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	for i, b := range blocks {
		if i > 0 && b != nil && b.Header.Cluster != blocks[0].Header.Cluster {
			return nil, fmt.Errorf("replay block %d of %d: belongs to cluster %d, the chain to cluster %d", i+1, len(blocks), b.Header.Cluster, blocks[0].Header.Cluster)
		}
		if err := ReplayBlock(st, b); err != nil {
			return nil, fmt.Errorf("replay block %d of %d: %w", i+1, len(blocks), err)
		}
	}
	return st, nil
}

// ReplayBlock re-validates b against st with VerifyBlock and commits it to
// st. On error st is unchanged.
func ReplayBlock(st *MemState, b *interfaces.Block) error { return ReplayBlockWith(st, b, nil) }

// ReplayBlockWith is ReplayBlock under a hierarchical network's rules.
func ReplayBlockWith(st *MemState, b *interfaces.Block, rules *Rules) error {
	ch, err := VerifyBlockWith(st, st.Parent(), b, rules)
	if err != nil {
		return err
	}
	return st.Commit(b, ch)
}

// VerifyBlock checks a block received from elsewhere (a peer during
// catch-up, or the disk during Replay) against view, which holds the state
// after parent: b must be the next height and name parent's hash, its header
// must commit to its body, every transaction must be valid in order, and
// rebuilding the block from them with b's epoch, timestamp and meta must give
// exactly b's header (so TxRoot, MetaHash and StateRoot all match). It
// returns the Changes to commit with b.
func VerifyBlock(view View, parent Parent, b *interfaces.Block) (*Changes, error) {
	return VerifyBlockWith(view, parent, b, nil)
}

// VerifyBlockWith is VerifyBlock under a hierarchical network's rules.
func VerifyBlockWith(view View, parent Parent, b *interfaces.Block, rules *Rules) (*Changes, error) {
	if b == nil {
		return nil, fmt.Errorf("verify block: nil block")
	}
	h := b.Header.Height
	if h != parent.Height+1 {
		return nil, fmt.Errorf("verify block: height %d, want %d", h, parent.Height+1)
	}
	if b.Header.Prev != parent.Hash {
		return nil, fmt.Errorf("verify block %d: names previous %s, want %s", h, b.Header.Prev.Short(), parent.Hash.Short())
	}
	if err := b.CheckBody(); err != nil {
		return nil, fmt.Errorf("verify block %d: %w", h, err)
	}
	bl := NewBuilder(view, b.Header.Cluster, parent).WithRules(rules)
	// The transactions this node never had in its pool are verified here,
	// in batches, before they are applied in order.
	bl.Preverify(b.Txs)
	for i, tx := range b.Txs {
		if err := bl.Apply(tx); err != nil {
			return nil, fmt.Errorf("verify block %d: transaction %d: %w", h, i, err)
		}
	}
	nb, ch := bl.Finish(b.Header.Epoch, b.Header.Timestamp, b.Meta)
	if nb.Header != b.Header {
		if nb.Header.StateRoot != b.Header.StateRoot {
			return nil, fmt.Errorf("verify block %d: state root %s, rebuilding gives %s", h, b.Header.StateRoot.Short(), nb.Header.StateRoot.Short())
		}
		return nil, fmt.Errorf("verify block %d: header differs from the rebuilt header", h)
	}
	return ch, nil
}
