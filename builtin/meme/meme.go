package meme

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/constellation-chain/constellation/interfaces"
)

// Name is the plugin's name in manifests (`plugin "reputation" "meme"`).
const Name = "meme"

// Version is the semver of this implementation.
const Version = "0.1.0"

// Factory builds Proof-of-Meme instances. It is the value the kernel's
// catalog registers for the built-in reputation plugin.
type Factory struct{}

var (
	_ interfaces.ReputationFactory = Factory{}
	_ interfaces.Reputation        = (*Reputation)(nil)
)

// Info describes the plugin: its kind, name, version, API versions,
// capabilities and config schema.
func (Factory) Info() interfaces.PluginInfo {
	return interfaces.PluginInfo{
		Kind:         interfaces.KindReputation,
		Name:         Name,
		Version:      Version,
		APIVersions:  []int{interfaces.APIVersion},
		Capabilities: []string{interfaces.CapSnapshot, interfaces.CapSybilGuard},
		Config:       configSchema(),
	}
}

// NewReputation parses params (the JSON config object) and returns a fresh
// instance with no history.
func (Factory) NewReputation(params []byte) (interfaces.Reputation, error) {
	cfg, err := ParseConfig(params)
	if err != nil {
		return nil, fmt.Errorf("build meme reputation: %w", err)
	}
	return New(cfg), nil
}

// Limits on one observation's metadata lists, matching what the block
// decoder accepts.
const maxObservedEntries = 1 << 16

// Reputation is the Proof-of-Meme state: one meme per remembered star, the
// aggregated interaction graph and the round counter. It is not safe for
// concurrent use; the host calls it from one goroutine. The zero value is
// not usable: build it with New or Factory.NewReputation.
type Reputation struct {
	cfg    Config
	cfgEnc []byte // canonical encoding of cfg, bound into snapshots

	// round counts the observations folded in. It is the clock for decay,
	// age and evaluator windows: one finalized block is one round.
	round uint64
	stars map[interfaces.StarID]*meme
	edges map[edgeKey]*edge

	// tprNorm is the median Temporal PageRank value of the evaluators,
	// recomputed at the end of every Observe and after Restore; r/tprNorm,
	// capped at 1, is the TPR part of the interaction feature (tpr.go).
	tprNorm     uint64
	normScratch []uint64 // reused by refreshTPRNorm; not state
}

// New returns an empty instance using cfg, which must have come from
// ParseConfig or DefaultConfig.
func New(cfg Config) *Reputation {
	cfg.Seeds = sortedUnique(cfg.Seeds) // a copy; refreshTPRNorm searches it
	cfg.BucketBounds = append([]uint64(nil), cfg.BucketBounds...)
	cfg.BucketProbs = append([]uint64(nil), cfg.BucketProbs...)
	e := interfaces.NewEncoder(512)
	cfg.encode(e)
	return &Reputation{
		cfg:    cfg,
		cfgEnc: e.Bytes(),
		stars:  map[interfaces.StarID]*meme{},
		edges:  map[edgeKey]*edge{},
	}
}

// Config returns the instance's configuration (a copy).
func (r *Reputation) Config() Config {
	c := r.cfg
	c.Seeds = append([]interfaces.StarID(nil), c.Seeds...)
	c.BucketBounds = append([]uint64(nil), c.BucketBounds...)
	c.BucketProbs = append([]uint64(nil), c.BucketProbs...)
	return c
}

// Round returns the number of observations folded in so far.
func (r *Reputation) Round() uint64 { return r.round }

// Observe folds one finalized block in. It validates the observation first
// and returns an error without changing any state if it is malformed (lists
// beyond their limits, a latency list longer than the member list). Zero
// star ids and self-interactions are ignored. See features.go for what each
// part of the observation feeds. Heights are not checked: when several
// clusters' blocks feed one instance, feeding them in finalization order
// (the galaxy's order) is the host's duty, and every node must use the same.
func (r *Reputation) Observe(o interfaces.Observation) error {
	if err := r.check(o); err != nil {
		return fmt.Errorf("observe block %d of cluster %d: %w", o.Height, o.Cluster, err)
	}
	r.round++
	r.decayAll()
	r.applyConsensus(o.Meta)
	r.applyInteractions(o.Interactions)
	r.evict()
	r.refreshTPRNorm()
	if r.round%r.cfg.FlowInterval == 0 {
		r.recomputeFlow()
	}
	return nil
}

func (r *Reputation) check(o interfaces.Observation) error {
	m := o.Meta
	if len(m.Members) > maxObservedEntries || len(m.Proposers) > maxObservedEntries || len(m.Faults) > maxObservedEntries {
		return fmt.Errorf("block meta lists exceed %d entries", maxObservedEntries)
	}
	if len(m.LatencyMillis) > len(m.Members) {
		return fmt.Errorf("block meta has %d latencies for %d members", len(m.LatencyMillis), len(m.Members))
	}
	if uint64(len(o.Interactions)) > r.cfg.MaxInteractions {
		return fmt.Errorf("%d interactions exceed the limit of %d", len(o.Interactions), r.cfg.MaxInteractions)
	}
	if r.round == ^uint64(0) {
		return errors.New("round counter exhausted")
	}
	return nil
}

// touch returns the meme of s, creating a newcomer's if s is not yet
// remembered, and marks s as seen this round.
func (r *Reputation) touch(s interfaces.StarID) *meme {
	m := r.stars[s]
	if m == nil {
		m = &meme{firstSeen: r.round}
		r.stars[s] = m
	}
	m.lastSeen = r.round
	return m
}

// sortedStars returns the remembered stars in StarID order.
func (r *Reputation) sortedStars() []interfaces.StarID {
	out := make([]interfaces.StarID, 0, len(r.stars))
	for s := range r.stars {
		out = append(out, s)
	}
	slices.SortFunc(out, interfaces.CompareStars)
	return out
}

// evict forgets the least recently seen stars once more than MaxStars are
// remembered, and the oldest edges once more than MaxEdges are kept. It
// trims to 7/8 of the bound so the sort is amortized. A forgotten star that
// returns is a newcomer again, which sits at the minimum score, so
// forgetting never rewards anyone.
func (r *Reputation) evict() {
	if uint64(len(r.stars)) > r.cfg.MaxStars {
		ids := r.sortedStars()
		sort.SliceStable(ids, func(i, j int) bool { return r.stars[ids[i]].lastSeen < r.stars[ids[j]].lastSeen })
		keep := int(r.cfg.MaxStars - r.cfg.MaxStars/8)
		gone := map[interfaces.StarID]bool{}
		for _, s := range ids[:len(ids)-keep] {
			delete(r.stars, s)
			gone[s] = true
		}
		for k := range r.edges {
			if gone[k.from] || gone[k.to] {
				delete(r.edges, k)
			}
		}
	}
	if uint64(len(r.edges)) > r.cfg.MaxEdges {
		type aged struct {
			k    edgeKey
			last uint64
		}
		all := make([]aged, 0, len(r.edges))
		for k, e := range r.edges {
			all = append(all, aged{k, e.last})
		}
		slices.SortFunc(all, func(a, b aged) int {
			if c := cmp.Compare(a.last, b.last); c != 0 {
				return c
			}
			if c := bytes.Compare(a.k.from[:], b.k.from[:]); c != 0 {
				return c
			}
			return bytes.Compare(a.k.to[:], b.k.to[:])
		})
		keep := int(r.cfg.MaxEdges - r.cfg.MaxEdges/8)
		for _, a := range all[:len(all)-keep] {
			delete(r.edges, a.k)
		}
	}
}
