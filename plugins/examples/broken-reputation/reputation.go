package main

import (
	"encoding/binary"
	"fmt"

	"github.com/constellation-chain/constellation/interfaces"
)

// Factory builds a reputation plugin that is wrong on purpose, to show what
// the conformance suite reports. Each bug is marked BUG and names the
// property of interfaces.Reputation it breaks.
type Factory struct{}

// Info describes the broken plugin. It claims the snapshot capability, so
// the suite checks snapshots too.
func (Factory) Info() interfaces.PluginInfo {
	return interfaces.PluginInfo{
		Kind:         interfaces.KindReputation,
		Name:         "broken-trust",
		Version:      "0.0.1",
		APIVersions:  []int{interfaces.APIVersion},
		Capabilities: []string{interfaces.CapSnapshot},
	}
}

// NewReputation returns a fresh instance.
func (Factory) NewReputation([]byte) (interfaces.Reputation, error) {
	return &reputation{blocks: map[interfaces.StarID]uint64{}}, nil
}

type reputation struct {
	blocks map[interfaces.StarID]uint64
}

func (r *reputation) Observe(o interfaces.Observation) error {
	for _, s := range o.Meta.Proposers {
		r.blocks[s]++
	}
	return nil
}

func (r *reputation) Score(s interfaces.StarID) interfaces.Score {
	return interfaces.Score(r.blocks[s]+1) * interfaces.ScoreOne
}

// Select takes the first k candidates.
//
// BUG (k distinct sorted delegates): neither deduplicates nor sorts.
// BUG (seed sensitivity): ignores the seed, so a proposer could predict
// every future delegate set.
func (r *reputation) Select(candidates []interfaces.StarID, k int, _ interfaces.Hash) ([]interfaces.StarID, error) {
	if k > len(candidates) {
		return nil, fmt.Errorf("select %d of %d", k, len(candidates))
	}
	return append([]interfaces.StarID(nil), candidates[:k]...), nil
}

// Snapshot writes each star and its count.
//
// BUG (canonical snapshot): iterates the map in Go's random order, so two
// snapshots of the same state differ.
func (r *reputation) Snapshot() ([]byte, error) {
	var out []byte
	for s, n := range r.blocks {
		out = append(out, s[:]...)
		out = binary.BigEndian.AppendUint64(out, n)
	}
	return out, nil
}

// Restore reads what Snapshot wrote.
//
// BUG (restore of garbage is an error): ignores a trailing partial record
// instead of refusing it.
func (r *reputation) Restore(snapshot []byte) error {
	blocks := map[interfaces.StarID]uint64{}
	for len(snapshot) >= 40 {
		var s interfaces.StarID
		copy(s[:], snapshot)
		blocks[s] = binary.BigEndian.Uint64(snapshot[32:40])
		snapshot = snapshot[40:]
	}
	r.blocks = blocks
	return nil
}
