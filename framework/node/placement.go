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
	// clusters counts the clusters, genesis and opened, for a learner
	// that can place in opened ones (interfaces.ClusterResizer).
	clusters int
}

func newPlacer(h *Hierarchy) *placer {
	if h.Learner == nil {
		return nil
	}
	l := h.Learner()
	if l == nil {
		return nil
	}
	return &placer{clusters: len(h.Clusters), learner: l, base: h.Owner, seed: h.Seed, owner: map[interfaces.StarID]interfaces.ClusterID{}, beacon: interfaces.DomainSum("constellation/placement-key/v1", []byte(h.Seed))}
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
			p.owner[m.Star] = m.To
		}
		p.queue = p.queue[len(bp.Moves):]
		if len(bp.Opens) > 0 {
			p.clusters += len(bp.Opens)
			if rz, ok := p.learner.(interfaces.ClusterResizer); ok {
				rz.SetClusters(p.clusters)
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
	p.learner.Placed(func(s interfaces.StarID, c interfaces.ClusterID) {
		if p.ownerOf(s) != c {
			queue = append(queue, interfaces.Move{Star: s, To: c})
		}
	})
	order := func(m interfaces.Move) interfaces.Hash {
		return interfaces.DomainSum("constellation/placement-order/v1", p.key[:], m.Star[:])
	}
	slices.SortFunc(queue, func(a, b interfaces.Move) int {
		ha, hb := order(a), order(b)
		return bytes.Compare(ha[:], hb[:])
	})
	p.queue = queue
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
