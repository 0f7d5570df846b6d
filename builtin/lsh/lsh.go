// Package lsh is the built-in partitioner: it maps each transaction to the
// Star Cluster that orders its sender's chain. This is its baseline,
// placement by keyed rendezvous hashing (highest random weight, Thaler and
// Ravishankar 1998): a sender's cluster is the one whose weight
// sha256(domain ‖ sender ‖ cluster) is highest. Every sender is owned by
// exactly one cluster, placement spreads uniformly, and adding a cluster
// moves only the senders the new cluster wins (about 1/k of them).
//
// With config { placement = "locality" } the partitioner also offers the
// galaxy a Locality learner (locality.go): the galaxy learns from sampled
// finalized transfers who transacts with whom and publishes account moves,
// which the clusters' ledgers carry out (framework/ledger/migrate.go).
// Owner stays the base placement, the one every ledger starts from; the
// baseline's Learn learns nothing.
//
// Data flow: transaction → Assign → the cluster's gossip topic (tx/<c>).
package lsh

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"

	sha256 "github.com/minio/sha256-simd"

	"github.com/constellation-chain/constellation/interfaces"
)

// Name is the plugin's name in manifests.
const Name = "lsh"

// Version is the semver of this implementation.
const Version = "0.1.0"

// domain separates placement weights from every other hash.
const domain = "constellation/lsh/rendezvous/v1"

// MaxClusters bounds the clusters a partitioner serves; Assign costs one
// hash per cluster.
const MaxClusters = 1 << 16

// Factory builds partitioners. It implements interfaces.PartitionerFactory.
type Factory struct{}

var _ interfaces.PartitionerFactory = Factory{}

// Info describes the plugin and its config.
func (Factory) Info() interfaces.PluginInfo {
	return interfaces.PluginInfo{
		Kind:        interfaces.KindPartitioner,
		Name:        Name,
		Version:     Version,
		APIVersions: []int{interfaces.APIVersion},
		Config: []interfaces.ConfigField{
			{Name: "placement", Type: interfaces.ConfigString, Default: `"hash"`, Doc: `"hash": every account stays where rendezvous hashing puts it; "locality": the galaxy learns who transacts with whom and moves accounts that transact together into one cluster (needs a galaxy)`},
			{Name: "relabel_every", Type: interfaces.ConfigNumber, Default: "16", Doc: "with locality placement, black holes between relabellings (each publishes the moves it wants over the following beacons, at most 256 per beacon)"},
		},
	}
}

// Config is the partitioner's config block.
type Config struct {
	Placement    string `json:"placement"`
	RelabelEvery int64  `json:"relabel_every"`
}

// MaxRelabelEvery bounds relabel_every (a day of one black hole a second).
const MaxRelabelEvery = 86400

// NewPartitioner builds a partitioner over clusters clusters.
func (Factory) NewPartitioner(clusters int, params []byte) (interfaces.Partitioner, error) {
	if clusters < 1 || clusters > MaxClusters {
		return nil, fmt.Errorf("lsh: %d clusters, want 1 to %d", clusters, MaxClusters)
	}
	c := Config{Placement: "hash", RelabelEvery: 16}
	if p := bytes.TrimSpace(params); len(p) != 0 && string(p) != "null" {
		dec := json.NewDecoder(bytes.NewReader(p))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return nil, fmt.Errorf("lsh: config: %w", err)
		}
	}
	p := &Partitioner{clusters: clusters}
	switch c.Placement {
	case "hash":
	case "locality":
		if c.RelabelEvery < 1 || c.RelabelEvery > MaxRelabelEvery {
			return nil, fmt.Errorf("lsh: relabel_every = %d, want 1 to %d black holes", c.RelabelEvery, MaxRelabelEvery)
		}
		p.learner = NewLocality(clusters, 10)
		p.learner.every = uint64(c.RelabelEvery)
	default:
		return nil, fmt.Errorf(`lsh: placement = %q, want "hash" or "locality"`, c.Placement)
	}
	return p, nil
}

// Partitioner places senders by rendezvous hashing: Owner is a pure
// function of the sender and the cluster count. With locality placement
// it also carries the galaxy's learner.
type Partitioner struct {
	clusters int
	buf      [len(domain) + 32 + 4]byte
	learner  *Locality
}

// Learner returns the locality learner, or nil under hash placement.
func (p *Partitioner) Learner() interfaces.PlacementLearner {
	if p.learner == nil {
		return nil
	}
	return p.learner
}

var _ interfaces.Partitioner = (*Partitioner)(nil)

// Assign returns the sender's cluster.
func (p *Partitioner) Assign(tx *interfaces.Transaction) interfaces.ClusterID {
	return p.Owner(tx.Sender)
}

// Owner returns the cluster that owns star's chain: the cluster of highest
// weight, the lowest-numbered one on a tie.
func (p *Partitioner) Owner(star interfaces.StarID) interfaces.ClusterID {
	copy(p.buf[:], domain)
	copy(p.buf[len(domain):], star[:])
	best, bestW := 0, [32]byte{}
	for c := 0; c < p.clusters; c++ {
		binary.BigEndian.PutUint32(p.buf[len(domain)+32:], uint32(c))
		w := sha256.Sum256(p.buf[:])
		if c == 0 || bytes.Compare(w[:], bestW[:]) > 0 {
			best, bestW = c, w
		}
	}
	return interfaces.ClusterID(best)
}

// Learn accepts a finalized block; the baseline learns nothing from it.
func (p *Partitioner) Learn(*interfaces.Block) error { return nil }

// Clusters returns the cluster count.
func (p *Partitioner) Clusters() int { return p.clusters }
