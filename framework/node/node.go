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
	"path/filepath"
	"slices"
	"sync"

	"github.com/constellation-chain/constellation/framework/api"
	"github.com/constellation-chain/constellation/framework/group"
	"github.com/constellation-chain/constellation/framework/keys"
	"github.com/constellation-chain/constellation/framework/pool"
	"github.com/constellation-chain/constellation/interfaces"
	"github.com/hashicorp/go-hclog"
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
	// The hierarchy, nil for a network of one cluster without a galaxy.
	h       *Hierarchy
	relay   *relay
	tr      interfaces.Transport
	cluster *group.Group // this node's cluster group, nil if none
	galaxy  *group.Group // this node's galaxy group, nil if none
	// beaconer draws the delegate sets black holes publish (a galaxy
	// member with a reputation engine only).
	beaconer *Beaconer
	// mover records this node's move to a new cluster its cluster's chain
	// founds, nil when its cluster does not rotate.
	mover *mover
	// explain explains scores for the API (api_backend.go), nil if unset.
	explain Explainer
	// contracts runs the contracts this star hosts (contracts.go), nil
	// when the manifest declares no contract runtime.
	contracts *contractHost
}

// mover is a cluster group's Rotation.Founded hook: when the chain founds
// a cluster this star stands for, it records the move (saveFounding) and
// tells Run to stop with a MovedError.
type mover struct {
	self    interfaces.StarID
	dataDir string
	log     hclog.Logger
	once    sync.Once
	moved   chan interfaces.ClusterID // receives the cluster once
}

func (m *mover) founded(f interfaces.Founding, stars []interfaces.StarID, keys []byte) {
	if !slices.Contains(stars, m.self) || m.visited(f.Cluster) {
		return
	}
	if err := saveFounding(movedDir(m.dataDir, f.Cluster), f, keys); err != nil {
		// It stays a follower of the old cluster's chain; a restart
		// replays the founding and tries again.
		m.log.Error("record the move to a new cluster", "cluster", f.Cluster, "error", err)
		return
	}
	m.once.Do(func() {
		m.log.Info("this star stands for a new cluster; moving to its chain", "cluster", f.Cluster, "first_member", keys != nil, "members", len(f.Members))
		m.moved <- f.Cluster
	})
}

// visited says whether this node kept cluster c's chain before, in a
// directory its data directory is inside (movedDir): a cluster is founded
// once, so a node that came back to the cluster that founded c (c closed
// into it) and replays its chain must not follow that founding again.
func (m *mover) visited(c interfaces.ClusterID) bool {
	name := filepath.Base(movedDir("", c))
	for d := m.dataDir; ; d = filepath.Dir(d) {
		if filepath.Base(d) == name {
			return true
		}
		if filepath.Dir(d) == d {
			return false
		}
	}
}

// committed is a cluster group's Rotation.Committed hook: when cluster c's
// chain claims a beacon that sends this star to another cluster (a
// closing, interfaces.Closing), it records the move to that cluster as a
// follower of its chain, from its first membership (h.firstGroup), and
// tells Run to stop with a MovedError.
func (m *mover) committed(h *Hierarchy, c interfaces.ClusterID) func(b *interfaces.Block) {
	return func(b *interfaces.Block) {
		for _, p := range claimedBeacons(b) {
			for _, cl := range p.Closes {
				if cl.Cluster != c {
					continue
				}
				if !slices.Contains(cl.Stars, m.self) {
					if cl.Done {
						m.log.Warn("this star's cluster closed, and the star stands for no cluster (it stood down); its chain stops here: stop the node, or join a cluster again", "cluster", c, "into", cl.Into)
					}
					continue
				}
				first, ok := h.firstGroup(cl.Into)
				if !ok {
					m.log.Error("this star stands for another cluster now, whose first membership this node does not know; it stays", "cluster", c, "into", cl.Into)
					continue
				}
				if err := saveFounding(movedDir(m.dataDir, cl.Into), first, nil); err != nil {
					m.log.Error("record the move to another cluster", "cluster", cl.Into, "error", err)
					continue
				}
				m.once.Do(func() {
					m.log.Info("this star's cluster closes; moving to the chain of the cluster it merges into", "cluster", c, "into", cl.Into, "done", cl.Done)
					m.moved <- cl.Into
				})
			}
		}
	}
}

// Beaconer returns the galaxy member's beaconer, nil if none.
func (n *Node) Beaconer() *Beaconer { return n.beaconer }

// OpenTiers opens a node of a hierarchical network: its cluster group
// (cluster, nil when the node is no delegate) and its galaxy group
// (galaxy, nil when it is no galaxy member), each given its chain's rules
// and made to certify its blocks, and the relay between them. Both share
// tr.
func OpenTiers(h *Hierarchy, tr interfaces.Transport, log hclog.Logger, cluster, galaxy *Config) (*Node, error) {
	if cluster == nil && galaxy == nil {
		return nil, errors.New("a node of a hierarchical network needs the cluster or the galaxy role (or both)")
	}
	if tr == nil {
		return nil, errors.New("a hierarchical network needs a transport")
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	r := newRelay(h, tr, log)
	var (
		cfgs     []Config
		beaconer *Beaconer
		galaxyG  *group.Group // set once the groups are open
	)
	var mv *mover
	for _, c := range []*Config{cluster, galaxy} {
		if c == nil {
			continue
		}
		cfg := *c
		cfg.Rules = h.Rules(cfg.Cluster)
		cfg.Genesis = h.GenesisOfCluster(cfg.Genesis, cfg.Cluster)
		cfg.Name = interfaces.ClusterGroup(cfg.Cluster)
		cfg.Certify = true
		cfg.OnCertified = r.onCertified(cfg.Cluster == interfaces.GalaxyCluster)
		cfg.Transport = tr
		if cfg.Cluster != interfaces.GalaxyCluster && h.RotateEvery > 0 {
			kg, ok := cfg.Consensus.(interfaces.KeyGenerator)
			if !ok {
				return nil, fmt.Errorf("consensus %s cannot generate keys without a dealer, which rotating delegates need; remove the genesis rotation block", cfg.Consensus.Info().Name)
			}
			rot := h.rotation(cfg.Cluster, kg)
			mv = &mover{self: keys.Star(cfg.Key), dataDir: cfg.DataDir, log: log, moved: make(chan interfaces.ClusterID, 1)}
			rot.Founded = mv.founded
			rot.Committed = mv.committed(h, cfg.Cluster)
			cfg.Rotation = &rot
		}
		if cfg.Cluster == interfaces.GalaxyCluster && h.GalaxyRotates() {
			// The galaxy reshares its key to the sets the rotation
			// beacons draw for it (galaxy.go).
			kg, ok := cfg.Consensus.(interfaces.KeyGenerator)
			if !ok {
				return nil, fmt.Errorf("consensus %s cannot generate keys without a dealer, which a rotating galaxy needs", cfg.Consensus.Info().Name)
			}
			rot := h.galaxyRotation(kg)
			cfg.Rotation = &rot
		}
		if cfg.Cluster == interfaces.GalaxyCluster && cfg.Reputation != nil {
			// The galaxy's reputation folds the cluster blocks each black
			// hole finalizes; right after certifying a black hole, the
			// member proposes the beacon with the delegate sets drawn.
			beaconer = NewBeaconer(h, cfg.Reputation)
			cfg.Rules.VerifyBeacon = beaconer.Verify
			cfg.Rules.Clusters = beaconer.Live
			cfg.Rules.VerifyCheckpoint = beaconer.VerifyCheckpoint
			announce := cfg.OnCertified
			cfg.OnCertified = func(b *interfaces.Block, sig []byte) {
				announce(b, sig)
				if galaxyG == nil {
					return
				}
				if tx := beaconer.beaconTx(galaxyG, b, sig); tx != nil {
					if err := galaxyG.Submit(tx); err != nil && !expected(err) {
						log.Debug("beacon not pooled", "black_hole", b.Header.Height, "error", err)
					}
				}
			}
		}
		cfgs = append(cfgs, cfg)
	}
	n, err := Open(cfgs[0], cfgs[1:]...)
	if err != nil {
		return nil, err
	}
	n.beaconer, n.mover = beaconer, mv
	n.h, n.relay, n.tr = h, r, tr
	for _, g := range n.Groups() {
		if g.Cluster() == interfaces.GalaxyCluster {
			n.galaxy = g
		} else {
			n.cluster = g
		}
	}
	r.cluster, r.galaxy = n.cluster, n.galaxy
	if cluster != nil && (int(cluster.Cluster) >= len(h.Clusters) || !slices.Contains(h.Clusters[cluster.Cluster].Members, n.cluster.Self())) {
		// Keeping the chain without a genesis seat: a candidate, which
		// stands once it has caught up. A star that moved to an opened
		// cluster stands for it by the opening already; it stands again in
		// that cluster's chain, so that its candidacy there is on record
		// (and it can stand down there: member leave).
		r.stand = cluster.Key
	}
	if galaxy != nil && h.GalaxyRotates() && !slices.Contains(h.Galaxy.Members, n.galaxy.Self()) {
		r.standGalaxy = galaxy.Key // a galaxy candidate (galaxy.go)
	}
	galaxyG = n.galaxy
	return n, nil
}

// Hierarchy returns the network's hierarchy, nil for a flat network.
func (n *Node) Hierarchy() *Hierarchy { return n.h }

// ClusterGroup returns this node's cluster group, nil if it has none.
func (n *Node) ClusterGroup() *group.Group {
	if n.h == nil {
		return n.Group
	}
	return n.cluster
}

// GalaxyGroup returns this node's galaxy group, nil if it has none.
func (n *Node) GalaxyGroup() *group.Group { return n.galaxy }

// Finalized returns the highest checkpoint of cluster c this node knows a
// certified black hole to include, and the newest black hole's height.
func (n *Node) Finalized(c interfaces.ClusterID) (checkpoint, blackHole uint64) {
	if n.relay == nil {
		return 0, 0
	}
	return n.relay.Finalized(c), n.relay.BlackHoles()
}

// ErrNotHere means the node keeps no chain of the account's cluster.
var ErrNotHere = fmt.Errorf("%w: this node keeps no chain of that account's cluster", api.ErrNotHere)

// Tiers implements api.Tiered.
func (n *Node) Tiers() (api.TierStatus, bool) {
	if n.h == nil {
		return api.TierStatus{}, false
	}
	ts := api.TierStatus{Cluster: -1, Clusters: n.h.Known(), BlackHoles: n.relay.BlackHoles()}
	if n.beaconer != nil {
		ts.Clusters = max(ts.Clusters, n.beaconer.Clusters())
		for c := range n.beaconer.Clusters() {
			if n.beaconer.Closed(interfaces.ClusterID(c)) {
				ts.Closed = append(ts.Closed, c)
			}
		}
	}
	if n.cluster != nil {
		ts.Cluster = int(n.cluster.Cluster())
		ts.Finalized = n.relay.Finalized(n.cluster.Cluster())
	}
	if n.galaxy != nil {
		h, _ := n.galaxy.Head()
		ts.Galaxy = &h
		ts.BlackHoles = max(ts.BlackHoles, h)
	}
	return ts, true
}

// local returns the group that keeps star's account, or ErrNotHere.
func (n *Node) local(star interfaces.StarID) (*group.Group, error) {
	if n.h == nil {
		return n.Group, nil
	}
	if n.cluster != nil && n.h.pseudo(star) {
		return n.cluster, nil // every chain has its own cluster accounts
	}
	c := n.Owner(star)
	if n.cluster != nil && n.cluster.Cluster() == c {
		return n.cluster, nil
	}
	return nil, fmt.Errorf("%w: %s belongs to cluster %d", ErrNotHere, star.Short(), c)
}

// Owner returns the cluster that owns an account: as this node's cluster
// chain records it once the account has moved (every cluster applies every
// published move), else by the partitioner's base placement.
func (n *Node) Owner(star interfaces.StarID) interfaces.ClusterID {
	if n.cluster != nil {
		if seq, last, err := n.cluster.ChainHead(interfaces.PlacementStar(star)); err == nil && seq > 0 {
			return interfaces.UnpackPlacement(last).Owner
		}
	}
	return n.h.Owner(star)
}

// Submit routes a transaction to the cluster that owns its sender (a
// candidacy to the cluster it names): into this node's pool when it keeps
// that cluster's chain, else onto the cluster's gossip topic after its
// signatures verify.
func (n *Node) Submit(tx *interfaces.Transaction) error {
	if err := n.checkContractTx(tx); err != nil {
		return err
	}
	if n.h == nil {
		return n.Group.Submit(tx)
	}
	if tx == nil {
		return fmt.Errorf("submit: %w: nil transaction", pool.ErrInvalid)
	}
	if tx.Kind.Certified() {
		return fmt.Errorf("submit: %w: %s transactions are made by the nodes themselves", pool.ErrInvalid, tx.Kind)
	}
	var dst interfaces.ClusterID
	if tx.Kind == interfaces.TxMember {
		// A candidacy goes to the chain of the cluster it names.
		p, err := interfaces.DecodeMemberPayload(tx.Payload)
		if err != nil {
			return fmt.Errorf("submit: %w: %w", pool.ErrInvalid, err)
		}
		if n.cluster != nil && n.cluster.Cluster() == p.Cluster {
			return n.cluster.Submit(tx)
		}
		dst = p.Cluster
	} else {
		if g, err := n.local(tx.Sender); err == nil {
			return g.Submit(tx)
		}
		dst = n.Owner(tx.Sender)
	}
	if err := tx.VerifySignatures(); err != nil {
		return fmt.Errorf("submit: %w: %w", pool.ErrInvalid, err)
	}
	batch := interfaces.TxBatch{Txs: []*interfaces.Transaction{tx}}
	return n.tr.Publish(context.Background(), interfaces.TxTopic(dst), batch.Encode())
}

// Candidacy implements api.Candidacies.
func (n *Node) Candidacy(s interfaces.StarID) (api.Candidacy, error) {
	if n.h == nil || n.cluster == nil {
		return api.Candidacy{}, fmt.Errorf("%w: this node keeps no Star Cluster's chain", api.ErrNotHere)
	}
	c := n.cluster.Cluster()
	seq, last, err := n.cluster.ChainHead(interfaces.MemberStar(s))
	if err != nil {
		return api.Candidacy{}, err
	}
	genesis := int(c) < len(n.h.Clusters) && slices.Contains(n.h.Clusters[c].Members, s)
	out := api.Candidacy{Star: s.String(), Cluster: int(c), Genesis: genesis, Standing: genesis, Seq: seq, Last: last.String()}
	if seq == 0 {
		return out, nil
	}
	h, ok, err := n.cluster.Store().TxHeight(last)
	if err != nil || !ok {
		return out, fmt.Errorf("membership chain of %s ends in transaction %s, which the chain does not hold (%v)", s.Short(), last.Short(), err)
	}
	b, err := n.cluster.Block(h)
	if err != nil {
		return out, err
	}
	for _, tx := range b.Txs {
		if tx.Kind == interfaces.TxMember && tx.ID() == last {
			p, err := interfaces.DecodeMemberPayload(tx.Payload)
			if err != nil {
				return out, err
			}
			out.Standing = p.Action == interfaces.MemberJoin
		}
	}
	return out, nil
}

// Balance returns an account's committed balance in its cluster's chain.
func (n *Node) Balance(s interfaces.StarID) (uint64, error) {
	g, err := n.local(s)
	if err != nil {
		return 0, err
	}
	return g.Balance(s)
}

// ChainHead returns an account's committed sequence number and last
// transaction in its cluster's chain.
func (n *Node) ChainHead(s interfaces.StarID) (uint64, interfaces.Hash, error) {
	g, err := n.local(s)
	if err != nil {
		return 0, interfaces.ZeroHash, err
	}
	return g.ChainHead(s)
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
	defer n.closeContracts()
	groups := n.Groups()
	errs := make(chan error, len(groups)+1)
	if n.relay != nil {
		go func() {
			err := n.relay.run(ctx)
			if err != nil {
				cancel()
			}
			errs <- err
		}()
	}
	for _, g := range groups {
		go func() {
			err := g.Run(ctx)
			if err != nil {
				cancel()
			}
			errs <- err
		}()
	}
	moved := make(chan error, 1)
	if n.mover != nil {
		stopped := make(chan struct{})
		defer close(stopped)
		go func() {
			select {
			case c := <-n.mover.moved:
				moved <- &MovedError{Cluster: c}
				cancel()
			case <-stopped:
			}
		}()
	}
	var all []error
	waits := len(groups)
	if n.relay != nil {
		waits++
	}
	for range waits {
		if err := <-errs; err != nil {
			all = append(all, err)
		}
	}
	if len(all) == 0 {
		select {
		case err := <-moved:
			return err
		default:
		}
	}
	return errors.Join(all...)
}
