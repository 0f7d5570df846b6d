package group

import (
	"fmt"
	"sync"

	"github.com/constellation-chain/constellation/interfaces"
)

// Reputation wraps a reputation engine for the node: the consensus loop
// feeds it every committed block in height order, and the pool asks it for
// sender priorities from other goroutines, so calls are serialized here.
type Reputation struct {
	mu     sync.Mutex
	rep    interfaces.Reputation
	expand func(*interfaces.Block) []*interfaces.Block
	also   []func(*interfaces.Block) error
}

// Also makes r call fn with each committed block, before folding it, in
// the same order and on the same paths (live commits and Rebuild): state
// derived from the chain alongside reputation, such as the galaxy's
// placement learner, advances in step with it. It returns r.
func (r *Reputation) Also(fn func(*interfaces.Block) error) *Reputation {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.also = append(r.also, fn)
	return r
}

// ScoreInHook returns a star's score for a function Also registered,
// which runs under r's lock (Score would wait for it forever): the score
// before the block being folded.
func (r *Reputation) ScoreInHook(s interfaces.StarID) interfaces.Score { return r.rep.Score(s) }

// Expanding makes r observe, for each committed block b, the blocks
// expand(b) instead: the galaxy's reputation folds the cluster blocks a
// black hole finalizes, not the black hole. It returns r.
func (r *Reputation) Expanding(expand func(*interfaces.Block) []*interfaces.Block) *Reputation {
	r.expand = expand
	return r
}

// NewReputation wraps rep.
func NewReputation(rep interfaces.Reputation) *Reputation { return &Reputation{rep: rep} }

// ObservationOf is what reputation learns from a block: its metadata and
// the transfers between stars (the interaction graph). A block known by
// its header and metadata only, which is what the galaxy knows of a
// cluster block, shows its transfers through its edge sample
// (BlockMeta.Edges), each counted as a transfer of 1.
func ObservationOf(b *interfaces.Block) interfaces.Observation {
	o := interfaces.Observation{
		Cluster:   b.Header.Cluster,
		Height:    b.Header.Height,
		Epoch:     b.Header.Epoch,
		Timestamp: b.Header.Timestamp,
		Meta:      b.Meta,
	}
	for _, tx := range b.Txs {
		if tx.Kind != interfaces.TxTransfer {
			continue
		}
		p, err := interfaces.DecodeTransferPayload(tx.Payload)
		if err != nil {
			continue // the ledger accepted it, so this cannot happen
		}
		o.Interactions = append(o.Interactions, interfaces.Interaction{From: tx.Sender, To: p.To, Amount: p.Amount})
	}
	if len(b.Txs) == 0 {
		for _, e := range b.Meta.Edges {
			o.Interactions = append(o.Interactions, interfaces.Interaction{From: e.From, To: e.To, Amount: 1})
		}
	}
	return o
}

// Observe folds a committed block in.
func (r *Reputation) Observe(b *interfaces.Block) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, fn := range r.also {
		if err := fn(b); err != nil {
			return err
		}
	}
	blocks := []*interfaces.Block{b}
	if r.expand != nil {
		blocks = r.expand(b)
	}
	for _, x := range blocks {
		if err := r.rep.Observe(ObservationOf(x)); err != nil {
			return fmt.Errorf("reputation observe block %d of cluster %d: %w", x.Header.Height, x.Header.Cluster, err)
		}
	}
	return nil
}

// Score returns a star's current score.
func (r *Reputation) Score(s interfaces.StarID) interfaces.Score {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rep.Score(s)
}

// Select draws k delegates from candidates with seed (see
// interfaces.Reputation.Select).
func (r *Reputation) Select(candidates []interfaces.StarID, k int, seed interfaces.Hash) ([]interfaces.StarID, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rep.Select(candidates, k, seed)
}

// Priority ranks a sender for the pool: its score. No fees; a low score is
// served later, never refused.
func (r *Reputation) Priority(s interfaces.StarID) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return int64(r.rep.Score(s))
}

// Read calls fn with the wrapped engine while no block is being folded
// in, for read-only queries (the node API's scores and explanations). fn
// must not keep the engine, call r, or change the engine's state.
func (r *Reputation) Read(fn func(interfaces.Reputation)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fn(r.rep)
}

// Engine returns the wrapped engine for read-only use by the caller, who
// must not call it concurrently with the node.
func (r *Reputation) Engine() interfaces.Reputation { return r.rep }

// Rebuild feeds every stored block from 1 to height into rep, for a node
// that opens with history (the reputation state is derived, not stored).
func Rebuild(rep *Reputation, height uint64, blocks func(from, to uint64, fn func(*interfaces.Block) error) error) error {
	if height == 0 {
		return nil
	}
	return blocks(1, height, rep.Observe)
}
