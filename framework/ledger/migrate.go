package ledger

import (
	"bytes"
	"fmt"
	"math"
	"slices"

	"github.com/constellation-chain/constellation/interfaces"
)

// Migration. The galaxy publishes account moves in its beacons; every
// cluster applies a beacon's moves when it claims the beacon (TxMint),
// beacons in order, so every cluster that has claimed n beacons places
// every account alike. A cluster's ledger keeps, for each account that ever
// moved, a placement record (interfaces.PlacementStar): the owner, and
// whether this cluster holds the account's chain head.
//
// When a move of account a to cluster d takes effect:
//   - in a's current owner: a is locked (no transaction of a is accepted
//     any more) and its balance and, if held here, its chain head leave in
//     a move receipt to d, through the ordinary receipt batches;
//   - in d: a is owned here but not yet held, so it receives transfers but
//     sends nothing until the move receipt arrives with its chain head;
//   - everywhere: transfers to a are routed to d.
//
// A receipt that reaches a cluster that does not own its recipient (it
// was routed before the move, or the account moved on before its head
// arrived) is forwarded to the owner. A batch is credited only by a
// cluster that has applied at least the beacons its source had (the
// batch's Epoch), so forwarding follows moves forward, never back. So a
// balance is always in exactly one cluster's state or in exactly one
// receipt in flight, and an account's chain head is held by at most one
// cluster: no account is ever ordered in two places.

// ErrNotYet means a credit's batch was routed by a placement this cluster
// has not applied yet (see ReceiptBatch.Epoch); it becomes valid once the
// cluster has claimed the beacons it waits for.
var ErrNotYet = fmt.Errorf("%w: credit waits for a beacon", ErrInvalidTx)

// placement returns where account s lives, as this chain knows it.
func (b *Builder) placement(s interfaces.StarID) (interfaces.Placement, error) {
	if b.rules == nil || b.rules.Owner == nil {
		return interfaces.Placement{Owner: b.cluster, Holds: true}, nil
	}
	seq, last, err := b.ChainHead(interfaces.PlacementStar(s))
	if err != nil {
		return interfaces.Placement{}, fmt.Errorf("read placement of %s: %w", s.Short(), err)
	}
	if seq == 0 {
		o := b.rules.Owner(s)
		return interfaces.Placement{Owner: o, Holds: o == b.cluster}, nil
	}
	return interfaces.UnpackPlacement(last), nil
}

// effects collects what one transaction does to balances, chain heads and
// outgoing receipts, on top of the builder's overlay, so that Apply
// changes nothing until every check passed.
type effects struct {
	b        *Builder
	balances map[interfaces.StarID]uint64
	heads    map[interfaces.StarID]Head
	out      map[interfaces.ClusterID][]interfaces.Receipt
	dsts     []interfaces.ClusterID // out's keys, in first-use order
}

func (b *Builder) effects() *effects {
	return &effects{b: b, balances: map[interfaces.StarID]uint64{}, heads: map[interfaces.StarID]Head{}}
}

func (e *effects) balance(s interfaces.StarID) (uint64, error) {
	if v, ok := e.balances[s]; ok {
		return v, nil
	}
	return e.b.Balance(s)
}

func (e *effects) head(s interfaces.StarID) (Head, error) {
	if h, ok := e.heads[s]; ok {
		return h, nil
	}
	seq, last, err := e.b.ChainHead(s)
	return Head{Star: s, Seq: seq, Last: last}, err
}

func (e *effects) placement(s interfaces.StarID) (interfaces.Placement, error) {
	if h, ok := e.heads[interfaces.PlacementStar(s)]; ok {
		return interfaces.UnpackPlacement(h.Last), nil
	}
	return e.b.placement(s)
}

// setPlacement records s's placement; moved counts a move.
func (e *effects) setPlacement(s interfaces.StarID, p interfaces.Placement, moved bool) error {
	ps := interfaces.PlacementStar(s)
	h, err := e.head(ps)
	if err != nil {
		return err
	}
	if moved || h.Seq == 0 {
		h.Seq++
	}
	h.Last = interfaces.PackPlacement(p)
	e.heads[ps] = h
	return nil
}

// send queues r for cluster dst, within the batch's bound.
func (e *effects) send(dst interfaces.ClusterID, r interfaces.Receipt) error {
	have := len(e.out[dst])
	if batch := e.b.receipts[dst]; batch != nil {
		have += len(batch.Receipts)
	}
	if have >= interfaces.MaxReceipts {
		return fmt.Errorf("%w: %d receipts to cluster %d already", ErrReceiptsFull, have, dst)
	}
	if e.out == nil {
		e.out = map[interfaces.ClusterID][]interfaces.Receipt{}
	}
	if _, ok := e.out[dst]; !ok {
		e.dsts = append(e.dsts, dst)
	}
	e.out[dst] = append(e.out[dst], r)
	return nil
}

// credit delivers r: to its recipient's balance when this cluster owns
// the recipient (taking its chain head, for a move), otherwise onward to
// the owner.
func (e *effects) credit(r interfaces.Receipt) error {
	p, err := e.placement(r.To)
	if err != nil {
		return err
	}
	if p.Owner != e.b.cluster {
		return e.send(p.Owner, r)
	}
	v, err := e.balance(r.To)
	if err != nil {
		return err
	}
	if v > math.MaxUint64-r.Amount {
		// Unreachable while supply is conserved (genesis supply fits in 64
		// bits), but checked so a broken invariant cannot wrap around.
		return fmt.Errorf("%w: credit would overflow %s's balance", ErrMalformed, r.To.Short())
	}
	e.balances[r.To] = v + r.Amount
	if r.Kind == interfaces.ReceiptMove {
		if p.Holds {
			// Only the holder sends a head, and it stops holding it.
			return fmt.Errorf("%w: a chain head for %s arrived where it is held already", ErrMalformed, r.To.Short())
		}
		if r.Seq > 0 {
			// An account that never sent has no chain to install (and
			// whatever this cluster keeps under its name stays).
			e.heads[r.To] = Head{Star: r.To, Seq: r.Seq, Last: r.Last}
		}
		return e.setPlacement(r.To, interfaces.Placement{Owner: e.b.cluster, Holds: true}, false)
	}
	return nil
}

// move applies a published move: the owner locks the account and sends
// what it holds of it to the new owner; every cluster records the new
// owner.
func (e *effects) move(m interfaces.Move) error {
	if e.b.rules.Pseudo != nil && e.b.rules.Pseudo(m.Star) {
		return nil // a cluster's own accounts stay in every chain
	}
	if h, err := e.head(m.Star); err != nil {
		return err
	} else if interfaces.IsPlacementRecord(h.Last) {
		// Another account's placement record, which anyone may pay and
		// so get sampled and placed: it is the same in every cluster that
		// applied the same moves, and it never moves.
		return nil
	}
	p, err := e.placement(m.Star)
	if err != nil {
		return err
	}
	if p.Owner == m.To {
		return nil // nothing moves (the galaxy publishes only changes)
	}
	if p.Owner == e.b.cluster {
		v, err := e.balance(m.Star)
		if err != nil {
			return err
		}
		r := interfaces.Receipt{To: m.Star, Amount: v}
		if p.Holds {
			h, err := e.head(m.Star)
			if err != nil {
				return err
			}
			r.Kind, r.Seq, r.Last = interfaces.ReceiptMove, h.Seq, h.Last
		}
		if r.Kind == interfaces.ReceiptMove || r.Amount > 0 {
			if err := e.send(m.To, r); err != nil {
				return err
			}
		}
		e.balances[m.Star] = 0
	}
	return e.setPlacement(m.Star, interfaces.Placement{Owner: m.To}, true)
}

// commit writes the effects into the builder's overlay and batches.
func (e *effects) commit() error {
	for _, dst := range e.dsts {
		if e.b.receipts[dst] == nil {
			if err := e.b.openBatch(dst); err != nil {
				return fmt.Errorf("read receipt sequence: %w", err)
			}
		}
		batch := e.b.receipts[dst]
		batch.Receipts = append(batch.Receipts, e.out[dst]...)
	}
	for s, v := range e.balances {
		e.b.balances[s] = v
	}
	for s, h := range e.heads {
		e.b.heads[s] = h
	}
	return nil
}

// sampled is one transfer of the block being built.
type sampled struct {
	id   interfaces.Hash
	key  interfaces.Hash
	edge interfaces.Edge
}

// sampling says whether blocks carry an edge sample: in a hierarchical
// network's clusters, where the galaxy's placement learns from it.
func (b *Builder) sampling() bool {
	return b.rules != nil && b.rules.Owner != nil && b.cluster != interfaces.GalaxyCluster
}

// sample returns the block's edge sample: the MaxEdges transfers of lowest
// key, in key order. A transfer's key hashes its id with a seed made of
// the ids of all the block's transactions, so no sender can grind its
// transaction into the sample: the seed depends on what others sent.
func (b *Builder) sample() []interfaces.Edge {
	if len(b.edges) == 0 {
		return nil
	}
	all := make([]byte, 0, 32*len(b.ids))
	for _, id := range b.ids {
		all = append(all, id[:]...)
	}
	seed := interfaces.DomainSum("constellation/edges-seed/v1", b.parent.Hash[:], all)
	for i := range b.edges {
		b.edges[i].key = interfaces.DomainSum("constellation/edges/v1", seed[:], b.edges[i].id[:])
	}
	slices.SortFunc(b.edges, func(x, y sampled) int { return bytes.Compare(x.key[:], y.key[:]) })
	n := min(len(b.edges), interfaces.MaxEdges)
	out := make([]interfaces.Edge, n)
	for i := range out {
		out[i] = b.edges[i].edge
	}
	return out
}
