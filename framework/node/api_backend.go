package node

import (
	"errors"
	"fmt"
	"slices"

	"github.com/constellation-chain/constellation/framework/api"
	"github.com/constellation-chain/constellation/framework/events"
	"github.com/constellation-chain/constellation/framework/group"
	"github.com/constellation-chain/constellation/framework/store"
	"github.com/constellation-chain/constellation/interfaces"
)

// What the node serves through its API beyond the primary group's methods:
// health, the event stream, transactions by id, stars' chains, black
// holes, memes and clusters. Everything here reads committed chain data or
// the groups' health snapshots; nothing feeds consensus.

// Explainer turns a reputation engine's state into a star's explanation;
// false when the engine cannot explain (a plugin out of process, whose
// scores alone cross the RPC). It is called with the engine locked and must
// only read it.
type Explainer func(rep interfaces.Reputation, star interfaces.StarID) (*api.MemeExplanation, bool)

// SetExplainer sets how GET /v1/memes/{star}?explain=true explains a
// score. The framework does not know the built-in engine's types, so the
// CLI, which does, sets it.
func (n *Node) SetExplainer(e Explainer) { n.explain = e }

// ChainHealth implements api.HealthReporter: one view per group.
func (n *Node) ChainHealth() []api.ChainView {
	var out []api.ChainView
	for _, g := range n.Groups() {
		h := g.Health()
		v := api.ChainView{
			Name: h.Name, Interval: h.Interval, Height: h.Height, Hash: h.Hash, LastRise: h.LastRise,
			Peers: h.Peers, Refused: h.Refused, LastRefusal: h.LastRefusal, RefusalReason: h.RefusalReason,
			HashAt: func(height uint64) (interfaces.Hash, error) {
				b, err := g.Block(height)
				if err != nil {
					return interfaces.Hash{}, err
				}
				return b.Hash(), nil
			},
		}
		for _, p := range h.Heads {
			v.Heads = append(v.Heads, api.PeerHead{Star: p.Star, Height: p.Height, Hash: p.Hash, At: p.At})
		}
		out = append(out, v)
	}
	return out
}

// EventSources implements api.Streamer: every group's chain.
func (n *Node) EventSources() []api.EventSource {
	var out []api.EventSource
	for _, g := range n.Groups() {
		out = append(out, api.EventSource{
			Name:   g.Name(),
			Galaxy: g.Cluster() == interfaces.GalaxyCluster,
			Head:   func() uint64 { h, _ := g.Head(); return h },
			Subscribe: func(buffer int) (<-chan events.Event[*interfaces.Block], func()) {
				in, cancel := g.Subscribe(buffer)
				ch := make(chan events.Event[*interfaces.Block], max(buffer, 2))
				go func() {
					defer close(ch)
					for ev := range in {
						e := events.Event[*interfaces.Block]{Seq: ev.Seq, Gap: ev.Gap}
						if ev.Gap == nil {
							e.Value = ev.Value.Block
						}
						ch <- e
					}
				}()
				return ch, cancel
			},
			Blocks: func(from, to uint64, fn func(*interfaces.Block) error) error {
				return g.Resume(events.Gap{From: from, To: to}, fn)
			},
		})
	}
	return out
}

// Tx implements api.TxReader: the transaction in any chain this node
// keeps.
func (n *Node) Tx(id interfaces.Hash) (api.TxRecord, error) {
	for _, g := range n.Groups() {
		h, ok, err := g.Store().TxHeight(id)
		if err != nil {
			return api.TxRecord{}, err
		}
		if !ok {
			continue
		}
		b, err := g.Block(h)
		if err != nil {
			return api.TxRecord{}, err
		}
		for _, tx := range b.Txs {
			if tx.ID() == id {
				return api.TxRecordOf(tx, b, g.Name()), nil
			}
		}
		return api.TxRecord{}, fmt.Errorf("the index puts transaction %s in block %d of %s, which does not hold it", id.Short(), h, g.Name())
	}
	return api.TxRecord{}, fmt.Errorf("%w: no chain this node keeps (%s) holds transaction %s; it may be pending, or in another cluster's chain",
		api.ErrNotFound, n.groupNames(), id)
}

// TxStatus implements api.TxStatuser: committed in a chain this node
// keeps, else pending in or dropped from one of its pools.
func (n *Node) TxStatus(id interfaces.Hash) (api.TxStatus, error) {
	st := api.TxStatus{ID: id.String(), Status: api.TxUnknown}
	rec, err := n.Tx(id)
	switch {
	case err == nil:
		st.Status, st.Chain, st.Height = api.TxCommitted, rec.Chain, rec.Height
		return st, nil
	case !errors.Is(err, api.ErrNotFound):
		return st, err
	}
	for _, g := range n.Groups() {
		pending, why := g.PoolStatus(id)
		switch {
		case pending:
			st.Status, st.Chain, st.Reason = api.TxPending, g.Name(), ""
			return st, nil
		case why != "":
			st.Status, st.Chain, st.Reason = api.TxDropped, g.Name(), why
		}
	}
	return st, nil
}

func (n *Node) groupNames() string {
	var names []string
	for _, g := range n.Groups() {
		names = append(names, g.Name())
	}
	return fmt.Sprint(names)
}

// Chain implements api.ChainReader: it walks star's chain back from from
// (its head when zero) through each transaction's Prev.
func (n *Node) Chain(star interfaces.StarID, from interfaces.Hash, limit int) (api.StarChain, error) {
	g, err := n.local(star)
	if err != nil {
		return api.StarChain{}, err
	}
	seq, last, err := g.ChainHead(star)
	if err != nil {
		return api.StarChain{}, err
	}
	out := api.StarChain{Star: star.String(), Seq: seq, Last: last.String(), Txs: []api.TxRecord{}}
	next := from
	if next.IsZero() {
		next = last
	}
	for len(out.Txs) < limit && !next.IsZero() && seq > 0 {
		h, ok, err := g.Store().TxHeight(next)
		if err != nil {
			return out, err
		}
		if !ok {
			return out, fmt.Errorf("%w: transaction %s is not committed in %s", api.ErrNotFound, next.Short(), g.Name())
		}
		b, err := g.Block(h)
		if err != nil {
			return out, err
		}
		var tx *interfaces.Transaction
		for _, t := range b.Txs {
			if t.ID() == next {
				tx = t
				break
			}
		}
		if tx == nil || tx.Sender != star || tx.Chain() != star {
			return out, fmt.Errorf("%w: transaction %s is not on the chain of %s", api.ErrNotFound, next.Short(), star.Short())
		}
		out.Txs = append(out.Txs, api.TxRecordOf(tx, b, g.Name()))
		next = tx.Prev
	}
	if !next.IsZero() {
		out.Next = next.String()
	}
	return out, nil
}

// BlackHole implements api.BlackHoleReader from the galaxy's chain.
func (n *Node) BlackHole(height uint64) (api.BlackHole, error) {
	if n.galaxy == nil {
		return api.BlackHole{}, fmt.Errorf("%w: this node keeps no galaxy chain; ask a galaxy member", api.ErrNotHere)
	}
	if head, _ := n.galaxy.Head(); height > head {
		return api.BlackHole{}, fmt.Errorf("%w: no black hole at height %d (head is %d)", api.ErrNotFound, height, head)
	}
	b, err := n.galaxy.Block(height)
	if errors.Is(err, store.ErrNotFound) {
		return api.BlackHole{}, fmt.Errorf("%w: %w", api.ErrNotFound, err)
	}
	if err != nil {
		return api.BlackHole{}, err
	}
	cert, err := n.galaxy.Certificate(height)
	if err != nil {
		return api.BlackHole{}, err
	}
	return api.BlackHoleOf(b, cert), nil
}

// reputation returns the reputation the API reports, and the group whose
// chain feeds it: the galaxy's (the one delegate draws read) on a galaxy
// member, else the cluster's.
func (n *Node) reputation() (*group.Reputation, *group.Group) {
	if n.beaconer != nil && n.galaxy != nil {
		return n.beaconer.Reputation(), n.galaxy
	}
	for _, g := range n.Groups() {
		if r := g.Reputation(); r != nil {
			return r, g
		}
	}
	return nil, nil
}

// Meme implements api.MemeReader.
func (n *Node) Meme(star interfaces.StarID, explain bool) (api.Meme, error) {
	rep, g := n.reputation()
	if rep == nil {
		return api.Meme{}, fmt.Errorf("%w: this node runs no reputation engine", api.ErrNotFound)
	}
	var m api.Meme
	var plugErr error
	rep.Read(func(r interfaces.Reputation) {
		h, _ := g.Head()
		s := r.Score(star)
		if e, ok := r.(interface{ Err() error }); ok {
			plugErr = e.Err()
		}
		m = api.Meme{Star: star.String(), Score: int64(s), ScoreText: api.ScoreText(s), Chain: g.Name(), Height: h}
		if !explain {
			return
		}
		if n.explain != nil {
			if ex, ok := n.explain(r, star); ok {
				m.Explain = ex
				return
			}
		}
		m.ExplainNote = "this reputation engine cannot explain a score (only the score crosses the plugin RPC)"
	})
	if plugErr != nil {
		// A failed plugin's 0 would be a silently wrong score.
		return api.Meme{}, fmt.Errorf("score %s: the reputation plugin did not answer: %w", star.Short(), plugErr)
	}
	return m, nil
}

// Memes implements api.MemeReader: the delegates, candidates and galaxy
// members this node knows of.
func (n *Node) Memes() (api.MemeList, error) {
	rep, g := n.reputation()
	if rep == nil {
		return api.MemeList{}, fmt.Errorf("%w: this node runs no reputation engine", api.ErrNotFound)
	}
	cs, err := n.Clusters()
	if err != nil {
		return api.MemeList{}, err
	}
	var stars []string
	for _, c := range cs.Clusters {
		stars = append(append(stars, c.Delegates...), c.Candidates...)
	}
	if cs.Galaxy != nil {
		stars = append(stars, cs.Galaxy.Members...)
	}
	slices.Sort(stars)
	stars = slices.Compact(stars)
	h, _ := g.Head()
	out := api.MemeList{Chain: g.Name(), Height: h, ScoreOne: int64(interfaces.ScoreOne), Memes: []api.Meme{}}
	for _, s := range stars {
		id, err := interfaces.ParseStarID(s)
		if err != nil {
			continue
		}
		m, err := n.Meme(id, false)
		if err != nil {
			return out, err
		}
		out.Memes = append(out.Memes, m)
	}
	return out, nil
}

// Clusters implements api.ClusterReader.
func (n *Node) Clusters() (api.Clusters, error) {
	if n.h == nil {
		g := n.Group
		ci, err := chainCluster(g)
		if err != nil {
			return api.Clusters{}, err
		}
		return api.Clusters{Clusters: []api.ClusterInfo{ci}}, nil
	}
	var out api.Clusters
	count := n.h.Known()
	if n.beaconer != nil {
		count = max(count, n.beaconer.Clusters())
	}
	var sets map[interfaces.ClusterID]interfaces.DelegateSet
	var setsAt uint64
	if n.galaxy != nil {
		sets, setsAt = latestSets(n.galaxy)
	}
	for c := range interfaces.ClusterID(count) {
		var ci api.ClusterInfo
		switch s, published := sets[c]; {
		case n.cluster != nil && n.cluster.Cluster() == c:
			var err error
			if ci, err = chainCluster(n.cluster); err != nil {
				return out, err
			}
		case published:
			ci = api.ClusterInfo{Cluster: uint32(c), Delegates: starStrings(s.Members), Source: "beacon", Height: setsAt}
		case int(c) < len(n.h.Clusters):
			ci = api.ClusterInfo{Cluster: uint32(c), Delegates: starStrings(n.h.Clusters[c].Members), Source: "genesis"}
		default:
			ci = api.ClusterInfo{Cluster: uint32(c), Delegates: []string{}, Source: "unknown"}
		}
		if n.beaconer != nil {
			if cands := n.beaconer.Candidates(c); len(cands) > 0 {
				ci.Candidates = starStrings(cands)
			}
		}
		ci.Finalized = n.relay.Finalized(c)
		out.Clusters = append(out.Clusters, ci)
	}
	gi := &api.GalaxyInfo{Members: starStrings(n.h.Galaxy.Members), BlackHoles: n.relay.BlackHoles(), Here: n.galaxy != nil}
	if n.galaxy != nil {
		h, _ := n.galaxy.Head()
		gi.BlackHoles = max(gi.BlackHoles, h)
		if h > 0 {
			if b, err := n.galaxy.Block(h); err == nil && len(b.Meta.Members) > 0 {
				gi.Members = starStrings(b.Meta.Members)
			}
		}
	}
	if n.beaconer != nil && n.h.GalaxyRotates() {
		cands, _ := n.beaconer.GalaxyCandidates()
		gi.Candidates = starStrings(cands)
	}
	out.Galaxy = gi
	return out, nil
}

// chainCluster describes the cluster whose chain g keeps, from its head
// block.
func chainCluster(g *group.Group) (api.ClusterInfo, error) {
	ci := api.ClusterInfo{Cluster: uint32(g.Cluster()), Source: "chain", Here: true, Delegates: []string{}}
	h, _ := g.Head()
	ci.Height = h
	if h == 0 {
		// No block yet: the members this node syncs with, and itself.
		hs := g.Health()
		ms := append(slices.Clone(hs.Peers), g.Self())
		slices.SortFunc(ms, interfaces.CompareStars)
		ci.Delegates = starStrings(slices.Compact(ms))
		return ci, nil
	}
	b, err := g.Block(h)
	if err != nil {
		return ci, err
	}
	ci.Delegates = starStrings(b.Meta.Members)
	if b.Meta.Handover != nil {
		ci.Next = starStrings(b.Meta.Handover.Members)
	}
	return ci, nil
}

// beaconLookback bounds how far below the galaxy's head latestSets looks
// for a beacon (one follows each black hole's certificate).
const beaconLookback = 64

// latestSets returns the delegate sets of the newest beacon in the
// galaxy's chain, and the black hole it certifies.
func latestSets(g *group.Group) (map[interfaces.ClusterID]interfaces.DelegateSet, uint64) {
	head, _ := g.Head()
	for h := head; h > 0 && head-h < beaconLookback; h-- {
		b, err := g.Block(h)
		if err != nil {
			return nil, 0
		}
		for _, tx := range b.Txs {
			if tx.Kind != interfaces.TxBeacon {
				continue
			}
			p, err := interfaces.DecodeBeaconPayload(tx.Payload)
			if err != nil {
				continue
			}
			out := map[interfaces.ClusterID]interfaces.DelegateSet{}
			for _, s := range p.Sets {
				out[s.Cluster] = s
			}
			return out, p.Height
		}
	}
	return nil, 0
}

func starStrings(ss []interfaces.StarID) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.String()
	}
	return out
}

var (
	_ api.HealthReporter  = (*Node)(nil)
	_ api.Streamer        = (*Node)(nil)
	_ api.TxReader        = (*Node)(nil)
	_ api.ChainReader     = (*Node)(nil)
	_ api.BlackHoleReader = (*Node)(nil)
	_ api.MemeReader      = (*Node)(nil)
	_ api.ClusterReader   = (*Node)(nil)
	_ api.Metered         = (*Node)(nil)
)
