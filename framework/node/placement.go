package node

import (
	"bytes"
	"fmt"
	"slices"
	"sync"

	"github.com/constellation-chain/constellation/interfaces"
)

// Placement by locality. The galaxy's members run the partitioner's
// learner (interfaces.PlacementLearner) over the edge samples of the
// cluster blocks each black hole finalizes. Every RelabelEvery black holes
// it relabels, and the placer queues, in an order keyed by the placement
// key, a move for every account whose wanted cluster differs from its
// current one. Each beacon publishes the head of the queue (at most
// interfaces.MaxMoves); once a black hole holds that beacon, its moves are
// the current placement and leave the queue, and every cluster carries
// them out when it claims the beacon (framework/ledger/migrate.go).
//
// The placement key is the beacon that the first relabelling reads (the
// newest one a black hole holds by then), fixed from then on so that
// communities keep their clusters across relabellings: nobody could know
// it before the network ran, so no account could be made in advance to
// land a community where it wants.
type placer struct {
	mu      sync.Mutex
	learner interfaces.PlacementLearner
	base    func(interfaces.StarID) interfaces.ClusterID
	seed    string
	owner   map[interfaces.StarID]interfaces.ClusterID // accounts moved, where they are now
	queue   []interfaces.Move
	key     interfaces.Hash
	keyed   bool
	beacon  interfaces.Hash // the newest beacon a black hole holds
	height  uint64          // the last black hole observed
	// live are the clusters, genesis and opened and not closing, in
	// order: a learner that can place in opened ones
	// (interfaces.ClusterResizer) places in len(live) clusters, its i-th
	// being live[i] (the identity until a cluster closes).
	live []interfaces.ClusterID
	// lastMove is, by cluster, the Seq of the last beacon that moved an
	// account from or to it.
	lastMove map[interfaces.ClusterID]uint64
	// into is, by closing or closed cluster, where its accounts go.
	into map[interfaces.ClusterID]interfaces.ClusterID
}

func newPlacer(h *Hierarchy) *placer {
	if h.Learner == nil {
		return nil
	}
	l := h.Learner()
	if l == nil {
		return nil
	}
	p := &placer{learner: l, base: h.Owner, seed: h.Seed, owner: map[interfaces.StarID]interfaces.ClusterID{}, lastMove: map[interfaces.ClusterID]uint64{}, into: map[interfaces.ClusterID]interfaces.ClusterID{}, beacon: interfaces.DomainSum("constellation/placement-key/v1", []byte(h.Seed))}
	for c := range h.Clusters {
		p.live = append(p.live, interfaces.ClusterID(c))
	}
	return p
}

// owned returns how many accounts cluster c owns by a move, or is queued
// to receive, and the Seq of the last beacon that moved an account from
// or to it (registry.closes). A cluster opened after genesis owns only
// what moves gave it.
func (p *placer) owned(c interfaces.ClusterID) (int, uint64) {
	if p == nil {
		return 0, 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, o := range p.owner {
		if o == c {
			n++
		}
	}
	for _, m := range p.queue {
		if m.To == c {
			n++
		}
	}
	return n, p.lastMove[c]
}

// closeLocked stops placing in closing cluster c and queues a move to
// into for every account c owns (and no move to c).
func (p *placer) closeLocked(c, into interfaces.ClusterID) {
	p.into[c] = into
	p.live = slices.DeleteFunc(p.live, func(x interfaces.ClusterID) bool { return x == c })
	if rz, ok := p.learner.(interfaces.ClusterResizer); ok {
		rz.SetClusters(len(p.live))
	}
	queue := slices.DeleteFunc(p.queue, func(m interfaces.Move) bool { return m.To == c })
	queued := map[interfaces.StarID]bool{}
	for _, m := range queue {
		queued[m.Star] = true // to a live cluster: it leaves c that way
	}
	for s, o := range p.owner {
		if o == c && !queued[s] {
			queue = append(queue, interfaces.Move{Star: s, To: into})
		}
	}
	p.queue = queue
	p.sortQueueLocked()
}

func (p *placer) sortQueueLocked() {
	order := func(m interfaces.Move) interfaces.Hash {
		return interfaces.DomainSum("constellation/placement-order/v1", p.key[:], m.Star[:])
	}
	slices.SortFunc(p.queue, func(a, b interfaces.Move) int {
		ha, hb := order(a), order(b)
		return bytes.Compare(ha[:], hb[:])
	})
}

func (p *placer) ownerOf(s interfaces.StarID) interfaces.ClusterID {
	if c, ok := p.owner[s]; ok {
		return c
	}
	return p.base(s)
}

// observe advances the placement over black hole bh, in height order.
func (p *placer) observe(bh *interfaces.Block) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if bh.Header.Height != p.height+1 {
		return fmt.Errorf("placement: black hole %d after %d", bh.Header.Height, p.height)
	}
	for _, tx := range bh.Txs {
		if tx.Kind != interfaces.TxBeacon {
			continue
		}
		bp, err := interfaces.DecodeBeaconPayload(tx.Payload)
		if err != nil {
			return fmt.Errorf("placement: black hole %d: %w", bh.Header.Height, err)
		}
		p.beacon = Beacon(bp.Signature)
		if len(bp.Moves) > len(p.queue) || !slices.Equal(bp.Moves, p.queue[:len(bp.Moves)]) {
			// The ledger checked the beacon against this placer before the
			// black hole was accepted, so this is a bug, not an attack.
			return fmt.Errorf("placement: black hole %d holds moves this placement did not queue", bh.Header.Height)
		}
		for _, m := range bp.Moves {
			p.lastMove[p.ownerOf(m.Star)] = tx.Seq
			p.lastMove[m.To] = tx.Seq
			p.owner[m.Star] = m.To
		}
		p.queue = p.queue[len(bp.Moves):]
		if len(bp.Opens) > 0 {
			for _, o := range bp.Opens {
				p.live = append(p.live, o.Cluster)
			}
			if rz, ok := p.learner.(interfaces.ClusterResizer); ok {
				rz.SetClusters(len(p.live))
			}
		}
		for _, cl := range bp.Closes {
			if !cl.Done {
				p.closeLocked(cl.Cluster, cl.Into)
			}
		}
	}
	for _, b := range FinalizedBlocks(bh) {
		p.learner.LearnEdges(b.Meta.Edges)
	}
	p.height = bh.Header.Height
	if p.height%p.learner.RelabelEvery() != 0 {
		return nil
	}
	if !p.keyed {
		p.key, p.keyed = p.beacon, true
	}
	p.learner.Relabel(p.key)
	var queue []interfaces.Move
	p.learner.Placed(func(s interfaces.StarID, i interfaces.ClusterID) {
		if int(i) >= len(p.live) {
			return // a learner that places beyond the clusters it was told of
		}
		if c := p.live[i]; p.ownerOf(s) != c {
			queue = append(queue, interfaces.Move{Star: s, To: c})
		}
	})
	// A closing cluster's accounts leave it whatever the learner says: it
	// places in the live clusters only, but may not know every account.
	placed := map[interfaces.StarID]bool{}
	for _, m := range queue {
		placed[m.Star] = true
	}
	for s, o := range p.owner {
		if into, ok := p.into[o]; ok && !placed[s] {
			for x, ok := p.into[into]; ok; x, ok = p.into[into] {
				into = x // it closed in its turn
			}
			queue = append(queue, interfaces.Move{Star: s, To: into})
		}
	}
	p.queue = queue
	p.sortQueueLocked()
	return nil
}

// moves returns what the beacon of black hole n publishes: the head of
// the queue as of n.
func (p *placer) moves(n uint64) ([]interfaces.Move, error) {
	if p == nil {
		return nil, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if n != p.height {
		return nil, fmt.Errorf("placement is at black hole %d, not %d", p.height, n)
	}
	return slices.Clone(p.queue[:min(len(p.queue), interfaces.MaxMoves)]), nil
}

// pending returns how many moves wait for a beacon.
func (p *placer) pending() int {
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.queue)
}
