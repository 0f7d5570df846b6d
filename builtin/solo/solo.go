// Package solo is a development-only consensus engine: one member proposes
// and every proposal is decided at once, in its own epoch. It tolerates no
// faults and hides nothing, like geth's --dev mode; it exists so a node can
// produce blocks end to end before a real engine is configured, and as the
// simplest subject for the consensus conformance suite, which skips the
// capabilities it does not claim.
//
// It sits where every engine sits in the data flow: the node runtime feeds
// it the contribution it reaped from the pool and applies the decision to
// the ledger.
package solo

import (
	"errors"
	"fmt"

	"github.com/constellation-chain/constellation/interfaces"
)

// Version is the engine's semver.
const Version = "1.0.0"

// Factory builds solo engines. The zero value is ready to use.
type Factory struct{}

// Info describes the engine. It claims no capability: not fault tolerant,
// not asynchronous-safe beyond one member, no censorship resilience.
func (Factory) Info() interfaces.PluginInfo {
	return interfaces.PluginInfo{
		Kind:        interfaces.KindConsensus,
		Name:        "solo",
		Version:     Version,
		APIVersions: []int{interfaces.APIVersion},
		Config: []interfaces.ConfigField{
			{Name: "batch_size", Type: interfaces.ConfigNumber, Default: "1000",
				Doc: "largest number of transactions the node proposes per block"},
			{Name: "block_interval_ms", Type: interfaces.ConfigNumber, Default: "500",
				Doc: "how long the node waits between proposals when the pool is not full"},
		},
	}
}

// ErrNotSingleMember is returned when solo is configured with more than one
// member: it has no way to agree between several.
var ErrNotSingleMember = errors.New("solo consensus runs with exactly one member (it is a development engine; use honeybadger for a cluster)")

// NewConsensus returns an engine for cfg, which must name exactly one member,
// Self.
func (Factory) NewConsensus(cfg interfaces.ConsensusConfig) (interfaces.Consensus, error) {
	if len(cfg.Members) != 1 {
		return nil, fmt.Errorf("solo: %d members configured: %w", len(cfg.Members), ErrNotSingleMember)
	}
	if cfg.Members[0] != cfg.Self {
		return nil, fmt.Errorf("solo: the only member %s is not this node %s", cfg.Members[0].Short(), cfg.Self.Short())
	}
	return &Engine{self: cfg.Self, epoch: cfg.Epoch}, nil
}

// Engine is one solo state machine. It is not safe for concurrent use, like
// every interfaces.Consensus.
type Engine struct {
	self  interfaces.StarID
	epoch uint64
}

// Propose decides contribution as the current epoch and moves to the next.
func (e *Engine) Propose(contribution []byte) (interfaces.Output, error) {
	d := interfaces.Decision{
		Epoch: e.epoch,
		Contributions: []interfaces.ContributionFrom{{
			Proposer: e.self,
			Data:     append([]byte(nil), contribution...),
		}},
	}
	e.epoch++
	return interfaces.Output{Decisions: []interfaces.Decision{d}}, nil
}

// Step ignores every message: a solo network has no other member, so
// anything arriving is noise from a misconfigured peer.
func (e *Engine) Step(interfaces.StarID, []byte) (interfaces.Output, error) {
	return interfaces.Output{}, nil
}

// Epoch returns the epoch the next Propose decides.
func (e *Engine) Epoch() uint64 { return e.epoch }
