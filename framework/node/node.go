// Package node assembles one Constellation node from a manifest and runs
// it: it owns the transport and builds the node's consensus groups
// (framework/group) — its Star Cluster today, the galaxy later — each with
// its own engine, log, chain and topics. The node's API speaks for its
// primary group, the cluster whose chain it keeps.
//
// Data flow: manifest → Assemble → groups; Run drives every group at once
// until the context ends or one of them fails.
package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/constellation-chain/constellation/framework/group"
)

// Aliases for what the node's users need of its groups.
type (
	// Config is the configuration of one group.
	Config = group.Config
	// BlockEvent announces a block a group committed.
	BlockEvent = group.BlockEvent
	// Reputation is the reputation engine a group feeds.
	Reputation = group.Reputation
)

// NewReputation wraps a reputation engine for a group.
var NewReputation = group.NewReputation

// Rebuild feeds a chain's blocks into a reputation engine.
var Rebuild = group.Rebuild

// Node is one running star: its groups over one transport. The methods of
// the primary group (Submit, Head, Block, Balance, Subscribe, …) are the
// node's.
type Node struct {
	*group.Group
	others []*group.Group
}

// Open opens the node with primary as its first group and others beside
// it. Each group needs a data directory of its own; they share the
// transport given in their configs.
func Open(primary Config, others ...Config) (*Node, error) {
	seen := map[string]bool{primary.DataDir: true}
	for _, c := range others {
		if seen[c.DataDir] {
			return nil, fmt.Errorf("two groups of one node share the data directory %s", c.DataDir)
		}
		seen[c.DataDir] = true
	}
	g, err := group.Open(primary)
	if err != nil {
		return nil, err
	}
	n := &Node{Group: g}
	for _, c := range others {
		o, err := group.Open(c)
		if err != nil {
			n.closeAll()
			return nil, err
		}
		n.others = append(n.others, o)
	}
	return n, nil
}

// Groups returns the node's groups, the primary first.
func (n *Node) Groups() []*group.Group { return append([]*group.Group{n.Group}, n.others...) }

func (n *Node) closeAll() {
	for _, g := range n.Groups() {
		g.Close()
	}
}

// Run drives every group until ctx ends or one fails; then it stops the
// others and returns the first error.
func (n *Node) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	groups := n.Groups()
	errs := make(chan error, len(groups))
	for _, g := range groups {
		go func() {
			err := g.Run(ctx)
			if err != nil {
				cancel()
			}
			errs <- err
		}()
	}
	var all []error
	for range groups {
		if err := <-errs; err != nil {
			all = append(all, err)
		}
	}
	return errors.Join(all...)
}
