package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/constellation-chain/constellation/framework/api"
	"github.com/constellation-chain/constellation/framework/loadgen"
	"github.com/constellation-chain/constellation/framework/node"
	"github.com/constellation-chain/constellation/interfaces"
)

// tierSource is what the testnet's display reads of a hierarchical
// network: a delegate of each cluster and a galaxy member.
type tierSource interface {
	// status returns a delegate of cluster c's view.
	status(ctx context.Context, c int) (api.Status, error)
	block(ctx context.Context, c int, h uint64) (api.BlockSummary, error)
	// seq returns account s's chain head in cluster c's chain.
	seq(ctx context.Context, c int, s interfaces.StarID) (uint64, error)
}

// showTiers prints one line per second: each cluster's height, committed
// user transactions per second and finalized height, the black holes, the
// share of the interval's transfers that crossed clusters, and the
// receipt batches debited but not yet credited, and, when load (which
// may be nil) has a running load generator, the transactions per second
// it offered, the nodes accepted and the clusters committed. With limit
// > 0 it calls stop once that many new black holes were made.
func showTiers(ctx context.Context, out io.Writer, src tierSource, k int, limit uint64, stop func(), load *loadMeter) error {
	next := make([]uint64, k)
	for c := range k {
		st, err := src.status(ctx, c)
		if err != nil {
			return fmt.Errorf("cluster %d: %w", c, err)
		}
		next[c] = st.Height + 1
	}
	var startBH uint64
	if st, err := src.status(ctx, 0); err == nil && st.Tiers != nil {
		startBH = st.Tiers.BlackHoles
	}
	fmt.Fprintf(out, "running %d Star Clusters and the galaxy (Ctrl-C to stop); one line per second:\n", k)
	legend := "  cluster c: height (final) tx/s | black holes | cross-cluster share of transfers | receipt batches in flight | accounts moved by locality placement"
	if load != nil {
		legend += " | load: offered/accepted/committed tx/s"
	}
	fmt.Fprintln(out, legend)
	var lastLoad loadgen.Stats
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last := time.Now()
	moved := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		now := time.Now()
		secs := now.Sub(last).Seconds()
		last = now
		var line strings.Builder
		var users, cross int
		var bh uint64
		var closed []int
		if st, err := src.status(ctx, 0); err == nil && st.Tiers != nil {
			if st.Tiers.Clusters > k {
				// A beacon opened clusters: show them from their first block.
				for range st.Tiers.Clusters - k {
					next = append(next, 1)
				}
				k = st.Tiers.Clusters
			}
			closed = st.Tiers.Closed
		}
		for c := range k {
			if slices.Contains(closed, c) {
				fmt.Fprintf(&line, "c%d: closed | ", c)
				continue
			}
			st, err := src.status(ctx, c)
			if err != nil {
				fmt.Fprintf(&line, "c%d: (%v)  ", c, err)
				continue
			}
			txs := 0
			for ; next[c] <= st.Height; next[c]++ {
				b, err := src.block(ctx, c, next[c])
				if err != nil {
					break
				}
				txs += len(b.Txs) - b.Credits
				cross += b.Receipts
				moved += b.Moves
			}
			users += txs
			final := uint64(0)
			if st.Tiers != nil {
				final = st.Tiers.Finalized
				bh = max(bh, st.Tiers.BlackHoles)
			}
			fmt.Fprintf(&line, "c%d: %d (%d) %.0f tx/s | ", c, st.Height, final, float64(txs)/secs)
		}
		share := "-"
		if users > 0 {
			share = fmt.Sprintf("%.1f%%", 100*float64(cross)/float64(users))
		}
		fmt.Fprintf(&line, "black holes %d | cross %s | in flight %d | moved %d", bh, share, inFlight(ctx, src, k), moved)
		if load != nil {
			if ls, ok := load.stats(); ok {
				fmt.Fprintf(&line, " | load %.0f/%.0f/%.0f tx/s", float64(ls.Offered-lastLoad.Offered)/secs, float64(ls.Accepted-lastLoad.Accepted)/secs, float64(users)/secs)
				lastLoad = ls
			}
		}
		fmt.Fprintln(out, line.String())
		if limit > 0 && bh >= startBH+limit {
			stop()
			return nil
		}
	}
}

// inFlight counts receipt batches debited and not yet credited: for each
// pair of clusters, the batches the source sent less those the
// destination credited.
func inFlight(ctx context.Context, src tierSource, k int) uint64 {
	var n uint64
	for s := range k {
		for d := range k {
			if s == d {
				continue
			}
			sent, err1 := src.seq(ctx, s, interfaces.OutboxStar(interfaces.ClusterID(d)))
			got, err2 := src.seq(ctx, d, interfaces.ClusterStar(interfaces.ClusterID(s)))
			if err1 == nil && err2 == nil && sent > got {
				n += sent - got
			}
		}
	}
	return n
}

// processTiers reads a process testnet through its nodes' APIs: a
// genesis cluster through a delegate the manifest names, a cluster opened
// since through a node whose status says it keeps that cluster's chain.
type processTiers struct {
	children []*child
	mu       sync.Mutex
	opened   map[int]*child // nodes found keeping an opened cluster's chain
}

func newProcessTiers(children []*child) *processTiers {
	return &processTiers{children: children, opened: map[int]*child{}}
}

func (p *processTiers) delegate(ctx context.Context, c int) (*child, error) {
	for _, ch := range p.children {
		if ch.node.HasRole("cluster") && int(ch.node.Cluster) == c {
			return ch, nil
		}
	}
	p.mu.Lock()
	ch := p.opened[c]
	p.mu.Unlock()
	if ch != nil {
		// A node moves on when its cluster closes: ask it again.
		if st, err := ch.client.Status(ctx); err != nil || st.Tiers == nil || st.Tiers.Cluster == c {
			return ch, nil
		}
		p.mu.Lock()
		delete(p.opened, c)
		p.mu.Unlock()
	}
	for _, ch := range p.children {
		if !ch.node.HasRole("candidate") {
			continue
		}
		if st, err := ch.client.Status(ctx); err == nil && st.Tiers != nil && st.Tiers.Cluster == c {
			p.mu.Lock()
			p.opened[c] = ch
			p.mu.Unlock()
			return ch, nil
		}
	}
	return nil, fmt.Errorf("no node keeps cluster %d's chain yet", c)
}

func (p *processTiers) status(ctx context.Context, c int) (api.Status, error) {
	ch, err := p.delegate(ctx, c)
	if err != nil {
		return api.Status{}, err
	}
	return ch.client.Status(ctx)
}

func (p *processTiers) block(ctx context.Context, c int, h uint64) (api.BlockSummary, error) {
	ch, err := p.delegate(ctx, c)
	if err != nil {
		return api.BlockSummary{}, err
	}
	return ch.client.Block(ctx, h)
}

func (p *processTiers) seq(ctx context.Context, c int, s interfaces.StarID) (uint64, error) {
	ch, err := p.delegate(ctx, c)
	if err != nil {
		return 0, err
	}
	a, err := ch.client.Account(ctx, s)
	return a.Seq, err
}

// inProcessTiers reads an in-process testnet's nodes directly.
type inProcessTiers []*node.Node

func (p inProcessTiers) delegate(c int) *node.Node {
	for _, n := range p {
		if g := n.ClusterGroup(); g != nil && int(g.Cluster()) == c {
			return n
		}
	}
	return p[0]
}

func (p inProcessTiers) status(_ context.Context, c int) (api.Status, error) {
	n := p.delegate(c)
	h, hash := n.Head()
	st := api.Status{Star: n.Self().String(), Height: h, Hash: hash.String(), Pool: n.PoolLen()}
	if ts, ok := n.Tiers(); ok {
		st.Tiers = &ts
	}
	return st, nil
}

func (p inProcessTiers) block(_ context.Context, c int, h uint64) (api.BlockSummary, error) {
	b, err := p.delegate(c).Block(h)
	if err != nil {
		return api.BlockSummary{}, err
	}
	return api.BlockSummaryOf(b), nil
}

func (p inProcessTiers) seq(_ context.Context, c int, s interfaces.StarID) (uint64, error) {
	seq, _, err := p.delegate(c).ChainHead(s)
	return seq, err
}
