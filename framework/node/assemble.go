package node

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/constellation-chain/constellation/framework/catalog"
	"github.com/constellation-chain/constellation/framework/keys"
	"github.com/constellation-chain/constellation/framework/ledger"
	"github.com/constellation-chain/constellation/framework/manifest"
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
	Transport     interfaces.Transport
	Logger        hclog.Logger
	// Misbehave, when set, rewrites this node's outgoing consensus
	// payloads (see Config.Misbehave). Only the byzantine test build of
	// the CLI sets it.
	Misbehave func(to interfaces.StarID, payload []byte) [][]byte
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
	var out []interfaces.StarID
	for i := range m.Nodes {
		n := &m.Nodes[i]
		if !n.HasRole(manifest.RoleCluster) {
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
		return nil, fmt.Errorf("manifest %s names no node with the %q role", m.Filename, manifest.RoleCluster)
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
	if clusterKeys == nil && mn.ClusterKeyFile != "" {
		path := mn.ClusterKeyFile
		if opts.KeyBase != "" && !filepath.IsAbs(path) {
			path = filepath.Join(opts.KeyBase, path)
		}
		if clusterKeys, err = keys.LoadClusterShare(path, cons.Info.Name, keys.Star(key)); err != nil {
			return nil, fmt.Errorf("node %q: %w", mn.Name, err)
		}
	}
	members, err := ClusterMembers(m, opts.KeyBase, opts.CreateKeys)
	if err != nil {
		return nil, err
	}
	var hp hostParams
	if err := json.Unmarshal(cons.HostParams, &hp); err != nil {
		return nil, fmt.Errorf("consensus config of %s: %w", cons.Info.Name, err)
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
	return Open(cfg)
}
