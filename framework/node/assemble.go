package node

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/constellation-chain/constellation/framework/catalog"
	"github.com/constellation-chain/constellation/framework/keys"
	"github.com/constellation-chain/constellation/framework/ledger"
	"github.com/constellation-chain/constellation/framework/manifest"
	"github.com/constellation-chain/constellation/framework/metrics"
	"github.com/constellation-chain/constellation/interfaces"
)

// AssembleOptions say which manifest node to build and where it lives.
type AssembleOptions struct {
	NodeName string
	// DataDir is where this node's chain is stored.
	DataDir string
	// KeyBase resolves relative key_file paths; "" means they were resolved
	// by the manifest loader already.
	KeyBase string
	// CreateKeys generates missing key files (development networks only).
	CreateKeys bool
	// ConsensusKeys, when set, is this node's engine key material,
	// overriding the manifest's cluster_key_file (testnet deals it).
	ConsensusKeys []byte
	// GalaxyKeys is the same for the galaxy (galaxy_key_file).
	GalaxyKeys []byte
	// GenesisFile is the network's genesis file (keys.GenesisFile), needed
	// when the manifest has a galaxy; "" means genesis.json beside the
	// node's key file.
	GenesisFile string
	Transport   interfaces.Transport
	Logger      hclog.Logger
	// Misbehave, when set, rewrites this node's outgoing consensus
	// payloads (see Config.Misbehave). Only the byzantine test build of
	// the CLI sets it.
	Misbehave func(to interfaces.StarID, payload []byte) [][]byte
	// Metrics, when set, is the node's registry: Assemble meters the
	// transport with it and every group reports to it (served at
	// GET /metrics).
	Metrics *metrics.Registry
}

// KeyPath returns where node's key file is.
func KeyPath(n *manifest.Node, base string) string {
	if base == "" || filepath.IsAbs(n.KeyFile) {
		return n.KeyFile
	}
	return filepath.Join(base, n.KeyFile)
}

// LoadKey loads (or, with create, makes) a manifest node's star key.
func LoadKey(n *manifest.Node, base string, create bool) (ed25519.PrivateKey, error) {
	path := KeyPath(n, base)
	if create {
		key, made, err := keys.LoadOrCreate(path)
		if err != nil {
			return nil, fmt.Errorf("node %q: %w", n.Name, err)
		}
		_ = made
		return key, nil
	}
	key, err := keys.Load(path)
	if err != nil {
		return nil, fmt.Errorf("node %q (%s): %w", n.Name, n.KeyFile, err)
	}
	return key, nil
}

// ClusterMembers returns the stars of the manifest's nodes with the cluster
// role: a node's stated `star`, or else the identity in its key file (which
// must then be on this machine; with create, a missing one is generated).
func ClusterMembers(m *manifest.Manifest, base string, create bool) ([]interfaces.StarID, error) {
	return GroupMembers(m, base, create, fmt.Sprintf("no node with the %q role", manifest.RoleCluster), func(n *manifest.Node) bool { return n.HasRole(manifest.RoleCluster) })
}

// TierMembers returns the members of cluster c, or of the galaxy for
// interfaces.GalaxyCluster, as ClusterMembers does.
func TierMembers(m *manifest.Manifest, base string, create bool, c interfaces.ClusterID) ([]interfaces.StarID, error) {
	if c == interfaces.GalaxyCluster {
		return GroupMembers(m, base, create, "no galaxy member", func(n *manifest.Node) bool { return n.HasRole(manifest.RoleGalaxy) })
	}
	return GroupMembers(m, base, create, fmt.Sprintf("no delegate of cluster %d", c), func(n *manifest.Node) bool { return n.HasRole(manifest.RoleCluster) && n.Cluster == c })
}

// GroupMembers returns the stars of the manifest's nodes that in selects;
// none is an error saying the manifest names none.
func GroupMembers(m *manifest.Manifest, base string, create bool, none string, in func(*manifest.Node) bool) ([]interfaces.StarID, error) {
	var out []interfaces.StarID
	for i := range m.Nodes {
		n := &m.Nodes[i]
		if !in(n) {
			continue
		}
		if !n.Star.IsZero() {
			out = append(out, n.Star)
			continue
		}
		key, err := LoadKey(n, base, create)
		if err != nil {
			return nil, fmt.Errorf("%w (give the node's star = \"ed25519:…\" in the manifest when its key file lives on another machine)", err)
		}
		out = append(out, keys.Star(key))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("manifest %s names %s", m.Filename, none)
	}
	return out, nil
}

// GenesisOf converts the manifest's genesis block for the ledger.
func GenesisOf(m *manifest.Manifest) ledger.Genesis {
	g := ledger.Genesis{Seed: m.Network.Genesis.Seed, Timestamp: m.Network.Genesis.Timestamp}
	for _, a := range m.Network.Genesis.Allocations {
		g.Allocations = append(g.Allocations, ledger.Allocation{Star: a.Star, Amount: a.Amount})
	}
	return g
}

// hostParams are the consensus config fields the node itself reads.
type hostParams struct {
	BatchSize       *float64 `json:"batch_size"`
	BlockIntervalMS *float64 `json:"block_interval_ms"`
}

// Assemble builds the node named opts.NodeName from a manifest and its
// opened plugins.
func Assemble(m *manifest.Manifest, set *catalog.Set, opts AssembleOptions) (*Node, error) {
	mn, ok := m.Node(opts.NodeName)
	if !ok {
		var names []string
		for _, n := range m.Nodes {
			names = append(names, n.Name)
		}
		return nil, fmt.Errorf("manifest %s has no node %q (it has %v)", m.Filename, opts.NodeName, names)
	}
	key, err := LoadKey(mn, opts.KeyBase, opts.CreateKeys)
	if err != nil {
		return nil, err
	}
	if !mn.Star.IsZero() && keys.Star(key) != mn.Star {
		return nil, fmt.Errorf("node %q: key file %s holds %s, but the manifest says star = %s", mn.Name, KeyPath(mn, opts.KeyBase), keys.Star(key), mn.Star)
	}
	cons := set.One(interfaces.KindConsensus)
	if cons == nil {
		return nil, fmt.Errorf("manifest %s declares no consensus plugin", m.Filename)
	}
	clusterKeys := opts.ConsensusKeys
	if clusterKeys == nil && !m.HasGalaxy() {
		// The manifest's cluster_key_file, or by convention
		// <node>.cluster.key beside the star key (where testnet and
		// keygen put it), when that file exists.
		path := ShareFile(mn, opts.KeyBase, "cluster")
		_, dealt := cons.Plugin.(interfaces.KeyDealer)
		if _, statErr := os.Stat(path); mn.ClusterKeyFile != "" || (dealt && statErr == nil) {
			if clusterKeys, err = keys.LoadClusterShare(path, cons.Info.Name, keys.Star(key)); err != nil {
				return nil, fmt.Errorf("node %q: %w", mn.Name, err)
			}
		}
	}
	var hp hostParams
	if err := json.Unmarshal(cons.HostParams, &hp); err != nil {
		return nil, fmt.Errorf("consensus config of %s: %w", cons.Info.Name, err)
	}
	opts.Transport = opts.Metrics.Transport(opts.Transport)
	if m.HasGalaxy() {
		return assembleTiers(m, set, opts, mn, key, clusterKeys, hp)
	}
	members, err := ClusterMembers(m, opts.KeyBase, opts.CreateKeys)
	if err != nil {
		return nil, err
	}
	cfg := Config{
		Key:             key,
		DataDir:         opts.DataDir,
		Genesis:         GenesisOf(m),
		Members:         members,
		Consensus:       cons.Plugin.(interfaces.ConsensusFactory),
		ConsensusParams: cons.Params,
		ConsensusKeys:   clusterKeys,
		Transport:       opts.Transport,
		Logger:          opts.Logger,
		Misbehave:       opts.Misbehave,
		Metrics:         opts.Metrics,
	}
	if l := set.One(interfaces.KindReputation); l != nil {
		rep, err := l.Plugin.(interfaces.ReputationFactory).NewReputation(l.Params)
		if err != nil {
			return nil, fmt.Errorf("start reputation %s: %w", l.Info.Name, err)
		}
		cfg.Reputation = NewReputation(rep)
	}
	if hp.BatchSize != nil {
		cfg.BatchSize = int(*hp.BatchSize)
	}
	if hp.BlockIntervalMS != nil {
		cfg.Interval = time.Duration(*hp.BlockIntervalMS) * time.Millisecond
	}
	var ch *contractHost
	if l := set.One(interfaces.KindContracts); l != nil {
		if ch, err = openContracts(l, opts.DataDir, key); err != nil {
			return nil, err
		}
		cfg.Contracts = true
	}
	n, err := Open(cfg)
	if err != nil {
		if ch != nil {
			ch.rt.Close()
		}
		return nil, err
	}
	n.contracts = ch
	return n, nil
}

// shareFile returns where a node's key share for a group lives: the
// manifest's path, or by convention <key dir>/<node>.<suffix>.key.
func shareFile(mn *manifest.Node, base, stated, suffix string) string {
	if stated != "" {
		if base != "" && !filepath.IsAbs(stated) {
			return filepath.Join(base, stated)
		}
		return stated
	}
	return filepath.Join(filepath.Dir(KeyPath(mn, base)), mn.Name+"."+suffix+".key")
}

// ShareFile returns where node mn's key share for its cluster ("cluster")
// or the galaxy ("galaxy") lives.
func ShareFile(mn *manifest.Node, base, tier string) string {
	if tier == "galaxy" {
		return shareFile(mn, base, mn.GalaxyKeyFile, tier)
	}
	return shareFile(mn, base, mn.ClusterKeyFile, tier)
}

// GenesisFilePath is where a node finds its network's genesis file by
// convention: genesis.json beside its key file.
func GenesisFilePath(mn *manifest.Node, base string) string {
	return filepath.Join(filepath.Dir(KeyPath(mn, base)), "genesis.json")
}

// assembleTiers builds a node of a hierarchical network.
func assembleTiers(m *manifest.Manifest, set *catalog.Set, opts AssembleOptions, mn *manifest.Node, key ed25519.PrivateKey, clusterKeys []byte, hp hostParams) (*Node, error) {
	cons := set.One(interfaces.KindConsensus)
	verifier, ok := cons.Plugin.(interfaces.GroupVerifier)
	if !ok {
		return nil, fmt.Errorf("consensus %s cannot check group signatures by public key, which a network with a galaxy needs (honeybadger can)", cons.Info.Name)
	}
	k := m.Clusters()
	pl := set.One(interfaces.KindPartitioner)
	if pl == nil {
		return nil, fmt.Errorf("manifest %s has a galaxy but no partitioner to place accounts in its %d clusters; add plugin \"partitioner\" \"lsh\" { source = \"builtin\" }", m.Filename, k)
	}
	part, err := pl.Plugin.(interfaces.PartitionerFactory).NewPartitioner(k, pl.Params)
	if err != nil {
		return nil, fmt.Errorf("start partitioner %s: %w", pl.Info.Name, err)
	}
	gpath := opts.GenesisFile
	if gpath == "" {
		gpath = GenesisFilePath(mn, opts.KeyBase)
	}
	gf, err := keys.LoadGenesisFile(gpath)
	if err != nil {
		return nil, fmt.Errorf("node %q: %w (the dealer writes it: `constellation testnet` on a development network)", mn.Name, err)
	}
	if gf.Seed != m.Network.Genesis.Seed {
		return nil, fmt.Errorf("%s is for the network of seed %q, the manifest's seed is %q", gpath, gf.Seed, m.Network.Genesis.Seed)
	}
	h, err := HierarchyFrom(gf, k, verifier, CachedOwner(part))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", gpath, err)
	}
	h.Genesis(m)
	h.Learner = LearnerOf(pl.Plugin.(interfaces.PartitionerFactory), k, pl.Params)
	for c := range k {
		if err := sameMembers(m, opts, h.Clusters[c], interfaces.ClusterID(c), gpath); err != nil {
			return nil, err
		}
	}
	if err := sameMembers(m, opts, h.Galaxy, interfaces.GalaxyCluster, gpath); err != nil {
		return nil, err
	}
	self := keys.Star(key)
	base := Config{
		Key:             key,
		Genesis:         GenesisOf(m),
		Consensus:       cons.Plugin.(interfaces.ConsensusFactory),
		ConsensusParams: cons.Params,
		Logger:          opts.Logger,
		Misbehave:       opts.Misbehave,
		Metrics:         opts.Metrics,
	}
	if hp.BatchSize != nil {
		base.BatchSize = int(*hp.BatchSize)
	}
	if hp.BlockIntervalMS != nil {
		base.Interval = time.Duration(*hp.BlockIntervalMS) * time.Millisecond
	}
	if l := set.One(interfaces.KindReputation); l != nil && mn.KeepsCluster() {
		rep, err := l.Plugin.(interfaces.ReputationFactory).NewReputation(l.Params)
		if err != nil {
			return nil, fmt.Errorf("start reputation %s: %w", l.Info.Name, err)
		}
		base.Reputation = NewReputation(rep)
	}
	load := func(given []byte, tier string) ([]byte, error) {
		if given != nil {
			return given, nil
		}
		path := ShareFile(mn, opts.KeyBase, tier)
		b, err := keys.LoadClusterShare(path, cons.Info.Name, self)
		if err != nil {
			return nil, fmt.Errorf("node %q: %s key share: %w", mn.Name, tier, err)
		}
		return b, nil
	}
	var clusterCfg, galaxyCfg *Config
	if mn.HasRole(manifest.RoleCluster) {
		ks, err := load(clusterKeys, "cluster")
		if err != nil {
			return nil, err
		}
		c := base
		c.Cluster, c.Members, c.ConsensusKeys, c.DataDir = mn.Cluster, h.Clusters[mn.Cluster].Members, ks, opts.DataDir
		clusterCfg = &c
	}
	if mn.HasRole(manifest.RoleCandidate) {
		// No genesis seat and no share: the node follows the cluster's
		// chain from its genesis delegates, stands once caught up, and
		// takes a seat, with keys it generates, when a rotation draws it.
		c := base
		c.Cluster, c.Members, c.DataDir = mn.Cluster, h.Clusters[mn.Cluster].Members, opts.DataDir
		clusterCfg = &c
	}
	if clusterCfg != nil {
		// A star a beacon split off to a new cluster keeps that one's
		// chain, in its own directory (founding.go).
		moved, err := FollowMoves(clusterCfg, h, !mn.KeepsGalaxy())
		if err != nil {
			return nil, fmt.Errorf("node %q: %w", mn.Name, err)
		}
		if moved && opts.Logger != nil {
			opts.Logger.Info("this star moved to a new cluster; keeping its chain", "cluster", clusterCfg.Cluster, "data", clusterCfg.DataDir, "first_member", clusterCfg.ConsensusKeys != nil)
		}
	}
	if mn.HasRole(manifest.RoleGalaxyCandidate) && !h.GalaxyRotates() {
		return nil, fmt.Errorf("node %q is a galaxy candidate, and the galaxy does not rotate: consensus %s cannot reshare the galaxy's key (honeybadger can)", mn.Name, cons.Info.Name)
	}
	if mn.KeepsGalaxy() {
		var ks []byte
		if mn.HasRole(manifest.RoleGalaxy) {
			if ks, err = load(opts.GalaxyKeys, "galaxy"); err != nil {
				return nil, err
			}
		}
		// A galaxy candidate has no share: it follows the galaxy's chain,
		// stands once caught up, and takes a seat, with a share the
		// members in force reshare to it, when a galaxy rotation draws it.
		g := base
		g.Reputation = nil
		if l := set.One(interfaces.KindReputation); l != nil {
			// A second instance: the galaxy's reputation folds what black
			// holes finalize, and the beacon's draw reads it.
			rep, err := l.Plugin.(interfaces.ReputationFactory).NewReputation(l.Params)
			if err != nil {
				return nil, fmt.Errorf("start reputation %s for the galaxy: %w", l.Info.Name, err)
			}
			g.Reputation = NewReputation(rep)
		}
		g.Cluster, g.Members, g.ConsensusKeys, g.DataDir = interfaces.GalaxyCluster, h.Galaxy.Members, ks, opts.DataDir
		if clusterCfg != nil {
			g.DataDir = filepath.Join(opts.DataDir, "galaxy")
		}
		galaxyCfg = &g
	}
	return OpenTiers(h, opts.Transport, opts.Logger, clusterCfg, galaxyCfg)
}

// Genesis sets what the manifest's genesis block decides of the hierarchy:
// the mint schedule and the rotation (period, seats, split bound). Every
// path that builds a hierarchy (a node, and the offline replays) uses it,
// so they apply the same rules.
func (h *Hierarchy) Genesis(m *manifest.Manifest) {
	h.Mint = MintOf(m)
	r := m.Network.Genesis.Rotation
	h.RotateEvery = r.Every
	h.SeatCount = int(r.Seats)
	h.SplitAbove = int(r.MaxCandidates)
	h.MergeBelow = int(r.MinCandidates)
}

// MintOf returns the manifest's mint schedule.
func MintOf(m *manifest.Manifest) MintSchedule {
	g := m.Network.Genesis.Mint
	return MintSchedule{Reward: g.Reward, Halving: g.Halving, Until: g.Until}
}

// sameMembers checks that the genesis file's group has the manifest's
// members.
func sameMembers(m *manifest.Manifest, opts AssembleOptions, g GroupKey, c interfaces.ClusterID, gpath string) error {
	want, err := TierMembers(m, opts.KeyBase, opts.CreateKeys, c)
	if err != nil {
		return err
	}
	slices.SortFunc(want, interfaces.CompareStars)
	if !slices.Equal(want, g.Members) {
		return fmt.Errorf("%s: group %s has %d members that differ from the manifest's %d; deal its keys again", gpath, g.Name, len(g.Members), len(want))
	}
	return nil
}
