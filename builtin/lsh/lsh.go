// Package lsh is the built-in partitioner: it maps each transaction to the
// Star Cluster that orders its sender's chain. This is its baseline,
// placement by keyed rendezvous hashing (highest random weight, Thaler and
// Ravishankar 1998): a sender's cluster is the one whose weight
// sha256(domain ‖ sender ‖ cluster) is highest. Every sender is owned by
// exactly one cluster, placement spreads uniformly, and adding a cluster
// moves only the senders the new cluster wins (about 1/k of them).
//
// Locality learns placement from finalized transfers (locality.go); it is
// measured (conformance/partsim) but not offered as the plugin's placement,
// because moving an account between clusters needs the migration protocol,
// which is not built. The baseline's Learn learns nothing.
//
// Data flow: transaction → Assign → the cluster's gossip topic (tx/<c>).
package lsh

import (
	"bytes"
	"encoding/binary"
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

// Info describes the plugin. It has no config: nothing about the baseline
// is tunable.
func (Factory) Info() interfaces.PluginInfo {
	return interfaces.PluginInfo{
		Kind:        interfaces.KindPartitioner,
		Name:        Name,
		Version:     Version,
		APIVersions: []int{interfaces.APIVersion},
	}
}

// NewPartitioner builds a partitioner over clusters clusters.
func (Factory) NewPartitioner(clusters int, params []byte) (interfaces.Partitioner, error) {
	if clusters < 1 || clusters > MaxClusters {
		return nil, fmt.Errorf("lsh: %d clusters, want 1 to %d", clusters, MaxClusters)
	}
	if p := bytes.TrimSpace(params); len(p) != 0 && string(p) != "null" && string(p) != "{}" {
		return nil, fmt.Errorf("lsh: the partitioner takes no config, got %s", p)
	}
	return &Partitioner{clusters: clusters}, nil
}

// Partitioner places senders by rendezvous hashing. It is a pure function
// of the sender and the cluster count.
type Partitioner struct {
	clusters int
	buf      [len(domain) + 32 + 4]byte
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
