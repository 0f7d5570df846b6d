package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/constellation-chain/constellation/framework/catalog"
	"github.com/constellation-chain/constellation/framework/keys"
	"github.com/constellation-chain/constellation/framework/ledger"
	"github.com/constellation-chain/constellation/framework/manifest"
	"github.com/constellation-chain/constellation/framework/node"
	"github.com/constellation-chain/constellation/interfaces"
)

// tierKeys are the dealt keys of a hierarchical network, by star: each
// delegate's share of its cluster's keys and each galaxy member's share of
// the galaxy's, and where the genesis file is.
type tierKeys struct {
	cluster map[interfaces.StarID][]byte
	galaxy  map[interfaces.StarID][]byte
	genesis string
}

// tierGroup is one group of a manifest: its name and nodes.
type tierGroup struct {
	name  string
	tier  string // "cluster" or "galaxy": which key share file
	nodes []*manifest.Node
}

// tierGroups lists a hierarchical manifest's groups: the clusters in
// order, then the galaxy.
func tierGroups(m *manifest.Manifest) []tierGroup {
	var out []tierGroup
	for c := range m.Clusters() {
		g := tierGroup{name: interfaces.ClusterGroup(interfaces.ClusterID(c)), tier: "cluster"}
		for i := range m.Nodes {
			if n := &m.Nodes[i]; n.HasRole(manifest.RoleCluster) && int(n.Cluster) == c {
				g.nodes = append(g.nodes, n)
			}
		}
		out = append(out, g)
	}
	g := tierGroup{name: interfaces.GalaxyGroup, tier: "galaxy"}
	for i := range m.Nodes {
		if n := &m.Nodes[i]; n.HasRole(manifest.RoleGalaxy) {
			g.nodes = append(g.nodes, n)
		}
	}
	return append(out, g)
}

// dealTiers reads every group's key shares of a hierarchical manifest,
// or, on a development network where any is missing, deals every group
// afresh as a trusted dealer. Either way it writes the genesis file (the
// groups' public keys) beside each node's key file.
//
// With dealer set (`constellation keygen --manifest`), it deals every
// group whose shares are missing on any network, creating missing star
// keys, as the operator's trusted dealer.
func dealTiers(c *cli.Context, m *manifest.Manifest, set *catalog.Set, base string, dealer bool) (*tierKeys, error) {
	cons := set.One(interfaces.KindConsensus)
	d, ok := cons.Plugin.(interfaces.KeyDealer)
	v, ok2 := cons.Plugin.(interfaces.GroupVerifier)
	if !ok || !ok2 {
		return nil, fmt.Errorf("consensus %s deals no group keys; a network with a galaxy needs an engine that does (honeybadger)", cons.Info.Name)
	}
	engine := cons.Info.Name
	tk := &tierKeys{cluster: map[interfaces.StarID][]byte{}, galaxy: map[interfaces.StarID][]byte{}}
	gf := &keys.GenesisFile{Network: m.Network.Name, Seed: m.Network.Genesis.Seed, Engine: engine}
	dealt := false
	for _, g := range tierGroups(m) {
		into := tk.cluster
		if g.tier == "galaxy" {
			into = tk.galaxy
		}
		var members []interfaces.StarID
		paths := map[interfaces.StarID]string{}
		for _, mn := range g.nodes {
			key, err := node.LoadKey(mn, base, m.Network.Dev || dealer)
			if err != nil {
				return nil, err
			}
			star := keys.Star(key)
			members = append(members, star)
			paths[star] = node.ShareFile(mn, base, g.tier)
		}
		shares := map[interfaces.StarID][]byte{}
		var missing error
		for _, star := range members {
			b, err := keys.LoadClusterShare(paths[star], engine, star)
			if err != nil {
				missing = err
				break
			}
			shares[star] = b
		}
		if missing != nil {
			if !m.Network.Dev && !dealer {
				return nil, fmt.Errorf("%s: %w; deal every group's keys with `constellation keygen --manifest FILE` on a trusted machine", g.name, missing)
			}
			var err error
			if shares, err = dealShares(d, members, 0, rand.Reader); err != nil {
				return nil, fmt.Errorf("deal %s: %w", g.name, err)
			}
			for star, path := range paths {
				if err := keys.SaveClusterShare(path, keys.ClusterShare{Engine: engine, Member: star, Keys: shares[star]}, true); err != nil {
					return nil, err
				}
			}
			dealt = true
			why := "development network: this process is the trusted dealer"
			if dealer {
				why = "this process is the trusted dealer; hand each member its own share file only"
			}
			fmt.Fprintf(c.App.Writer, "dealt %s keys for %s (%d members; %s)\n", engine, g.name, len(members), why)
		}
		pub, err := v.GroupKey(shares[members[0]])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", g.name, err)
		}
		gf.SetGroup(g.name, members, pub)
		for star, b := range shares {
			into[star] = b
		}
	}
	written := map[string]bool{}
	for i := range m.Nodes {
		mn := &m.Nodes[i]
		if !runsGroup(mn) {
			continue
		}
		path := node.GenesisFilePath(mn, base)
		if tk.genesis == "" {
			tk.genesis = path
		}
		if written[path] {
			continue
		}
		written[path] = true
		if !dealt {
			if old, err := keys.LoadGenesisFile(path); err == nil && sameGenesis(old, gf) {
				continue
			}
		}
		if err := gf.Save(path); err != nil {
			return nil, err
		}
	}
	if tk.genesis == "" {
		return nil, errors.New("the manifest has no cluster or galaxy node")
	}
	return tk, nil
}

func sameGenesis(a, b *keys.GenesisFile) bool {
	if a.Seed != b.Seed || a.Engine != b.Engine || len(a.Groups) != len(b.Groups) {
		return false
	}
	for i := range a.Groups {
		x, y := a.Groups[i], b.Groups[i]
		if x.Name != y.Name || x.Key != y.Key || fmt.Sprint(x.Members) != fmt.Sprint(y.Members) {
			return false
		}
	}
	return true
}

// ownerOf returns the manifest's account placement (its partitioner),
// for tools that must find an account's cluster; nil for a flat network.
func ownerOf(m *manifest.Manifest, set *catalog.Set) (func(interfaces.StarID) interfaces.ClusterID, error) {
	if !m.HasGalaxy() {
		return nil, nil
	}
	pl := set.One(interfaces.KindPartitioner)
	if pl == nil {
		return nil, fmt.Errorf("manifest %s has a galaxy but no partitioner", m.Filename)
	}
	p, err := pl.Plugin.(interfaces.PartitionerFactory).NewPartitioner(m.Clusters(), pl.Params)
	if err != nil {
		return nil, fmt.Errorf("start partitioner %s: %w", pl.Info.Name, err)
	}
	return node.CachedOwner(p), nil
}

// runsGroup reports whether a manifest node runs any consensus group.
func runsGroup(mn *manifest.Node) bool {
	return mn.KeepsCluster() || mn.KeepsGalaxy()
}

var _ = os.Stdout

// offlineTiers is what tools need to re-check a hierarchical chain
// offline: the hierarchy and the manifest's reputation engine.
type offlineTiers struct {
	h   *node.Hierarchy
	gen interfaces.KeyGenerator          // the consensus engine's key generation, nil if it has none
	rep func() (*node.Reputation, error) // a fresh engine; nil without a reputation plugin
}

// rules returns the ledger rules that re-validate the chain of cluster c
// from genesis: for the galaxy, with a beaconer whose reputation advances
// as the replay goes.
func (o *offlineTiers) rules(c interfaces.ClusterID) (*ledger.Rules, error) {
	r, err := o.h.ReplayRules(c, o.gen)
	if err != nil {
		return nil, err
	}
	if c != interfaces.GalaxyCluster || o.rep == nil {
		return r, nil
	}
	rep, err := o.rep()
	if err != nil {
		return nil, err
	}
	b := node.NewBeaconer(o.h, rep)
	r.VerifyBeacon = b.Verify
	r.Clusters = b.Live
	r.VerifyCheckpoint = b.VerifyCheckpoint
	fold, observe := r.Replayed, b.Reputation().Observe
	r.Replayed = observe
	if fold != nil { // a rotating galaxy's key generations (ReplayRules)
		r.Replayed = func(bl *interfaces.Block) error {
			if err := fold(bl); err != nil {
				return err
			}
			return observe(bl)
		}
	}
	return r, nil
}

// hierarchyOf builds the hierarchy of a manifest's network from its
// genesis file: nil for a network without a galaxy.
func hierarchyOf(c *cli.Context, manifestPath, genesisPath, dataDir string) (*offlineTiers, func(), error) {
	m, _, err := loadManifest(c, manifestPath, dataDir)
	if err != nil {
		return nil, nil, err
	}
	if !m.HasGalaxy() {
		return nil, func() {}, nil
	}
	cat, err := newCatalog(externalLoader(logger(c, "verify"), c.Bool("dev")))
	if err != nil {
		return nil, nil, err
	}
	set, diags := cat.Open(m)
	if diags.HasErrors() {
		return nil, nil, reportDiagnostics(c, m, m.Filename, diags)
	}
	owner, err := ownerOf(m, set)
	if err != nil {
		set.Close()
		return nil, nil, err
	}
	v, ok := set.One(interfaces.KindConsensus).Plugin.(interfaces.GroupVerifier)
	if !ok {
		set.Close()
		return nil, nil, errors.New("the manifest's consensus engine cannot check group signatures")
	}
	gf, err := keys.LoadGenesisFile(genesisPath)
	if err != nil {
		set.Close()
		return nil, nil, err
	}
	h, err := node.HierarchyFrom(gf, m.Clusters(), v, owner)
	if err != nil {
		set.Close()
		return nil, nil, err
	}
	h.Genesis(m)
	if pl := set.One(interfaces.KindPartitioner); pl != nil {
		h.Learner = node.LearnerOf(pl.Plugin.(interfaces.PartitionerFactory), m.Clusters(), pl.Params)
	}
	o := &offlineTiers{h: h}
	o.gen, _ = set.One(interfaces.KindConsensus).Plugin.(interfaces.KeyGenerator)
	if l := set.One(interfaces.KindReputation); l != nil {
		o.rep = func() (*node.Reputation, error) {
			rep, err := l.Plugin.(interfaces.ReputationFactory).NewReputation(l.Params)
			if err != nil {
				return nil, fmt.Errorf("start reputation %s: %w", l.Info.Name, err)
			}
			return node.NewReputation(rep), nil
		}
	}
	return o, func() { set.Close() }, nil
}
