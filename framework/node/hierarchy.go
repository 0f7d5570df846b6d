package node

import (
	"cmp"
	"fmt"
	"slices"
	"sync"

	"github.com/constellation-chain/constellation/framework/group"
	"github.com/constellation-chain/constellation/framework/keys"
	"github.com/constellation-chain/constellation/framework/ledger"
	"github.com/constellation-chain/constellation/interfaces"
)

// Hierarchy is a hierarchical network as every node sees it: each Star
// Cluster's and the galaxy's first instance and public group key, the
// verifier of group signatures and the owner of every account. From it a
// node derives the ledger rules of each chain it keeps, and checks the
// checkpoints and black holes it hears of.
type Hierarchy struct {
	Seed     string
	Clusters []GroupKey // by ClusterID
	Galaxy   GroupKey
	Verifier interfaces.GroupVerifier
	// Owner returns the cluster that owns an account (the partitioner's
	// placement). It must be deterministic.
	Owner func(interfaces.StarID) interfaces.ClusterID
	// Mint is what the galaxy mints at each black hole.
	Mint MintSchedule
	// RotateEvery, when not 0, makes every cluster take the delegate set
	// published for it at each RotateEvery-th black hole's beacon, with
	// keys its new delegates generate (the manifest's rotation block).
	RotateEvery uint64
	// GalaxyEvery, when not 0, is how many black holes apart the
	// galaxy rotates (a multiple of RotateEvery); 0 means
	// GalaxyEveryRotations rotation beacons (galaxy.go).
	GalaxyEvery uint64
	// SeatCount is how many delegates each cluster draws (0: as many as
	// its genesis delegates; the rotation block's seats).
	SeatCount int
	// SplitAbove, when not 0, is how many candidates a cluster may hold:
	// a rotation beacon opens a new cluster for each cluster with more,
	// and splits its candidates (Beaconer.Draw).
	SplitAbove int
	// MergeBelow, when not 0, is how few candidates an opened cluster may
	// hold: a rotation beacon starts closing one with fewer, merging it
	// back into the cluster it split from (closing.go).
	MergeBelow int
	// Learner, when set, makes a fresh placement learner of the
	// partitioner's, which each galaxy beaconer runs to move accounts by
	// locality (see placement.go).
	Learner func() interfaces.PlacementLearner

	once    sync.Once
	pseudos map[interfaces.StarID]bool

	// handed are the clusters' later group keys, learned from the
	// handovers their finalized checkpoints carry (see ObserveHandovers),
	// in height order per cluster.
	handedMu sync.Mutex
	handed   map[interfaces.ClusterID][]handedKey
	// founded are the first keys of the clusters opened after genesis,
	// learned from the foundings their parents' finalized checkpoints
	// carry (see ObserveHandovers).
	founded map[interfaces.ClusterID]GroupKey

	// verified remembers group signatures that verified, so that the
	// same certificate, announced by every delegate, pooled and then
	// folded, costs one pairing check per node (a pure function of its
	// inputs, so a cached yes is the same yes).
	verified   sync.Map // DomainSum(key, message, sig) -> struct{}
	verifiedN  int
	verifiedMu sync.Mutex
}

// maxVerified bounds the cache of verified certificates.
const maxVerified = 1 << 16

// verifyGroup checks sig by g on the block of hash h, once per distinct
// input.
func (h *Hierarchy) verifyGroup(g *GroupKey, hash interfaces.Hash, sig []byte) error {
	return h.cached().VerifyGroupKey(g.Key, interfaces.CertificateMessage(g.Instance, hash), sig)
}

// cached is the hierarchy's verifier behind its cache of verified
// signatures.
func (h *Hierarchy) cached() interfaces.GroupVerifier { return cachedVerifier{h} }

type cachedVerifier struct{ h *Hierarchy }

func (c cachedVerifier) GroupKey(keys []byte) ([]byte, error) { return c.h.Verifier.GroupKey(keys) }

// VerifyGroupKey checks a group signature through the cache.
func (c cachedVerifier) VerifyGroupKey(key, msg, sig []byte) error {
	id := interfaces.DomainSum("constellation/verified-signature/v1", key, msg, sig)
	if _, ok := c.h.verified.Load(id); ok {
		return nil
	}
	if err := c.h.Verifier.VerifyGroupKey(key, msg, sig); err != nil {
		return err
	}
	c.h.verifiedMu.Lock()
	if c.h.verifiedN >= maxVerified {
		c.h.verified.Clear()
		c.h.verifiedN = 0
	}
	c.h.verifiedN++
	c.h.verifiedMu.Unlock()
	c.h.verified.Store(id, struct{}{})
	return nil
}

// handedKey is a cluster's group key from checkpoint height from on.
type handedKey struct {
	from uint64
	key  GroupKey
}

// ObserveHandovers learns, from a committed black hole, the group keys the
// clusters handed over: a finalized checkpoint of cluster c at height h
// whose metadata carries a handover (certified by c's key at h) makes the
// handed-over key c's from checkpoint h+1 on. This chain of custody from
// the genesis keys is all the galaxy needs to keep checking a rotating
// cluster's certificates. Call it with every black hole, in order; it is a
// deterministic function of the galaxy's chain.
func (h *Hierarchy) ObserveHandovers(bh *interfaces.Block) error {
	for _, b := range FinalizedBlocks(bh) {
		c := b.Header.Cluster
		if h.ClusterKey(c, b.Header.Height) == nil {
			continue // the ledger admitted it, so this cannot happen
		}
		for _, f := range b.Meta.Founded {
			h.found(f)
		}
		ho := b.Meta.Handover
		if ho == nil {
			continue
		}
		name := interfaces.ClusterGroup(c)
		k := handedKey{from: b.Header.Height + 1, key: GroupKey{
			Name:     name,
			Members:  ho.Members,
			Instance: interfaces.NewInstanceID(h.Seed, name, ho.FirstEpoch, ho.Members),
			Key:      ho.GroupKey,
		}}
		h.handedMu.Lock()
		if h.handed == nil {
			h.handed = map[interfaces.ClusterID][]handedKey{}
		}
		// Sorted by height, each once: a node without the galaxy learns
		// handovers from black holes in the order gossip brings them.
		ks := h.handed[c]
		i, found := slices.BinarySearchFunc(ks, k.from, func(x handedKey, from uint64) int { return cmp.Compare(x.from, from) })
		if !found {
			h.handed[c] = slices.Insert(ks, i, k)
		}
		h.handedMu.Unlock()
	}
	return nil
}

// Known returns how many clusters this node knows a key of: the genesis
// clusters and those founded since, as far as it has heard.
func (h *Hierarchy) Known() int {
	h.handedMu.Lock()
	defer h.handedMu.Unlock()
	return len(h.Clusters) + len(h.founded)
}

// found learns a new cluster's first key from its founding: the key of its
// chain's epoch 0 instance. The first founding of a cluster counts (a
// beacon opens each cluster id once, from one parent).
func (h *Hierarchy) found(f interfaces.Founding) {
	if int(f.Cluster) < len(h.Clusters) || f.Cluster == interfaces.GalaxyCluster {
		return
	}
	name := interfaces.ClusterGroup(f.Cluster)
	h.handedMu.Lock()
	defer h.handedMu.Unlock()
	if _, ok := h.founded[f.Cluster]; ok {
		return
	}
	if h.founded == nil {
		h.founded = map[interfaces.ClusterID]GroupKey{}
	}
	h.founded[f.Cluster] = GroupKey{Name: name, Members: slices.Clone(f.Members), Instance: interfaces.NewInstanceID(h.Seed, name, 0, f.Members), Key: slices.Clone(f.GroupKey)}
}

// firstGroup returns cluster c's first membership (its genesis group, or
// the founding of a cluster opened later) as a founding, which a node that
// moves to c follows its chain from; false when this node does not know
// it.
func (h *Hierarchy) firstGroup(c interfaces.ClusterID) (interfaces.Founding, bool) {
	if int(c) < len(h.Clusters) {
		g := h.Clusters[c]
		return interfaces.Founding{Cluster: c, Members: slices.Clone(g.Members), GroupKey: slices.Clone(g.Key)}, true
	}
	h.handedMu.Lock()
	defer h.handedMu.Unlock()
	g, ok := h.founded[c]
	if !ok {
		return interfaces.Founding{}, false
	}
	return interfaces.Founding{Cluster: c, Members: slices.Clone(g.Members), GroupKey: slices.Clone(g.Key)}, true
}

// claimedBeacons returns the beacons block b of a cluster's chain claims
// (its TxMint transactions), in block order.
func claimedBeacons(b *interfaces.Block) []interfaces.BeaconPayload {
	var out []interfaces.BeaconPayload
	for _, tx := range b.Txs {
		if tx.Kind != interfaces.TxMint {
			continue
		}
		claim, err := interfaces.DecodeMintClaim(tx.Payload)
		if err != nil || claim.Beacon.Checkpoint == nil {
			continue // the ledger admitted it, so this cannot happen
		}
		p, err := interfaces.DecodeBeaconPayload(claim.Beacon.Checkpoint.Payload)
		if err != nil {
			continue
		}
		out = append(out, p)
	}
	return out
}

// RotationDraw is cluster c's rotation rule (group.Rotation.Draw): a
// block of c's chain that claims the beacon of a black hole whose height
// is a multiple of RotateEvery opens a rotation to the delegate set that
// beacon published for c, unless that beacon opened c (its first members
// generate their keys in the parent's chain: SpawnDraw).
func (h *Hierarchy) RotationDraw(c interfaces.ClusterID) func(b *interfaces.Block) ([]interfaces.StarID, error) {
	return func(b *interfaces.Block) ([]interfaces.StarID, error) {
		var members []interfaces.StarID
		for _, p := range claimedBeacons(b) {
			if h.RotateEvery == 0 || p.Height%h.RotateEvery != 0 {
				continue
			}
			if slices.ContainsFunc(p.Opens, func(o interfaces.Opening) bool { return o.Cluster == c }) {
				continue
			}
			for _, s := range p.Sets {
				if s.Cluster == c {
					members = s.Members
				}
			}
		}
		return members, nil
	}
}

// SpawnDraw is cluster c's rule for the clusters it founds
// (group.Rotation.Spawn): a block of c's chain that claims a beacon
// opening clusters split from c starts, for each, the key generation of
// its first delegates (the set that beacon published for it) through c's
// chain. They stood for c until the split, so they follow c's chain.
func (h *Hierarchy) SpawnDraw(c interfaces.ClusterID) func(b *interfaces.Block) ([]group.Spawn, error) {
	return func(b *interfaces.Block) ([]group.Spawn, error) {
		var out []group.Spawn
		for _, p := range claimedBeacons(b) {
			for _, o := range p.Opens {
				if o.Parent != c {
					continue
				}
				for _, s := range p.Sets {
					if s.Cluster == o.Cluster && len(s.Members) > 0 {
						out = append(out, group.Spawn{Cluster: o.Cluster, Members: s.Members, Stars: o.Stars})
					}
				}
			}
		}
		return out, nil
	}
}

// ClusterKey returns cluster c's group key for its block at height: the
// genesis key (or, for a cluster opened later, its founding key), or the
// last one handed over before height; nil for a cluster this node knows
// no key of.
func (h *Hierarchy) ClusterKey(c interfaces.ClusterID, height uint64) *GroupKey {
	h.handedMu.Lock()
	defer h.handedMu.Unlock()
	ks := h.handed[c]
	for i := len(ks) - 1; i >= 0; i-- {
		if ks[i].from <= height {
			k := ks[i].key
			return &k
		}
	}
	if int(c) < len(h.Clusters) {
		return &h.Clusters[c]
	}
	if k, ok := h.founded[c]; ok {
		return &k
	}
	return nil
}

// GroupKey is one group's public identity.
type GroupKey struct {
	Name     string
	Members  []interfaces.StarID // sorted
	Instance interfaces.InstanceID
	Key      []byte
}

// HierarchyFrom builds the hierarchy of k clusters from a genesis file.
func HierarchyFrom(g *keys.GenesisFile, k int, v interfaces.GroupVerifier, owner func(interfaces.StarID) interfaces.ClusterID) (*Hierarchy, error) {
	h := &Hierarchy{Seed: g.Seed, Verifier: v, Owner: owner}
	read := func(name string) (GroupKey, error) {
		r, ok := g.Group(name)
		if !ok {
			return GroupKey{}, fmt.Errorf("the genesis file names no group %q (deal the keys again)", name)
		}
		members, err := r.Stars()
		if err != nil {
			return GroupKey{}, err
		}
		key, err := r.KeyBytes()
		if err != nil {
			return GroupKey{}, err
		}
		return GroupKey{Name: name, Members: members, Instance: interfaces.NewInstanceID(g.Seed, name, 0, members), Key: key}, nil
	}
	for c := range k {
		gk, err := read(interfaces.ClusterGroup(interfaces.ClusterID(c)))
		if err != nil {
			return nil, err
		}
		h.Clusters = append(h.Clusters, gk)
	}
	gk, err := read(interfaces.GalaxyGroup)
	if err != nil {
		return nil, err
	}
	h.Galaxy = gk
	return h, nil
}

// pseudo reports whether s is one of the accounts that stand for a
// cluster (ClusterStar, OutboxStar) of any cluster the network may hold:
// each chain keeps its own.
func (h *Hierarchy) pseudo(s interfaces.StarID) bool {
	h.once.Do(func() {
		h.pseudos = map[interfaces.StarID]bool{interfaces.ClusterStar(interfaces.GalaxyCluster): true}
		for c := range interfaces.MaxClusters {
			h.pseudos[interfaces.ClusterStar(interfaces.ClusterID(c))] = true
			h.pseudos[interfaces.OutboxStar(interfaces.ClusterID(c))] = true
		}
	})
	return h.pseudos[s]
}

// VerifyCheckpoint checks a cluster's certificate of its checkpoint.
func (h *Hierarchy) VerifyCheckpoint(cp *interfaces.CheckpointPayload) error {
	c := cp.Header.Cluster
	k := h.ClusterKey(c, cp.Header.Height)
	if k == nil {
		return fmt.Errorf("checkpoint of cluster %d, which the network has not founded", c)
	}
	return h.verifyGroup(k, cp.Header.Hash(), cp.Certificate)
}

// VerifyBlackHole checks the galaxy's certificate of a black hole.
func (h *Hierarchy) VerifyBlackHole(bh *interfaces.BlockHeader, cert []byte) error {
	return h.VerifyBlackHoleHash(bh.Hash(), cert)
}

// VerifyBlackHoleHash checks the galaxy's certificate of the black hole of
// hash bh.
func (h *Hierarchy) VerifyBlackHoleHash(bh interfaces.Hash, cert []byte) error {
	return h.verifyGroup(&h.Galaxy, bh, cert)
}

// VerifyCredit checks a credit's receipt and finality proofs.
func (h *Hierarchy) VerifyCredit(c *interfaces.CreditPayload) error {
	// Whether the source cluster exists is the galaxy's to say: it
	// finalizes only checkpoints of clusters it founded, so a certified
	// black hole's proof is enough (and this node's knowledge of the
	// foundings, which depends on what it heard, must not decide a
	// cluster's chain).
	if c.Batch.Src == interfaces.GalaxyCluster {
		return fmt.Errorf("credit from the galaxy's chain")
	}
	return c.Verify(h.Galaxy.Instance, h.Galaxy.Key, h.cached())
}

// Rules returns the ledger rules of cluster c's chain, or of the galaxy's
// for interfaces.GalaxyCluster.
func (h *Hierarchy) Rules(c interfaces.ClusterID) *ledger.Rules {
	if c == interfaces.GalaxyCluster {
		return &ledger.Rules{Owner: h.Owner, VerifyCheckpoint: h.VerifyCheckpoint}
	}
	return &ledger.Rules{Owner: h.Owner, VerifyCredit: h.VerifyCredit, VerifyMint: h.VerifyMint, Pseudo: h.pseudo}
}

// rotation is cluster c's rotation with the engine's key generation gen:
// what its group runs live and what an offline replay folds.
func (h *Hierarchy) rotation(c interfaces.ClusterID, gen interfaces.KeyGenerator) group.Rotation {
	return group.Rotation{Draw: h.RotationDraw(c), Spawn: h.SpawnDraw(c), Generator: gen}
}

// ReplayRules returns the rules that re-validate chain c offline from its
// genesis (chain verify): Rules, and for a rotating cluster the rotation's
// fold, advanced after each block, for its key-generation messages and
// handovers. gen is the consensus engine's key generation (needed only
// with rotation).
func (h *Hierarchy) ReplayRules(c interfaces.ClusterID, gen interfaces.KeyGenerator) (*ledger.Rules, error) {
	r := h.Rules(c)
	if h.RotateEvery == 0 || (c == interfaces.GalaxyCluster && !h.GalaxyRotates()) {
		return r, nil
	}
	if gen == nil {
		return nil, fmt.Errorf("cluster %d rotates, and the consensus engine cannot replay key generations", c)
	}
	rot := h.rotation(c, gen)
	if c == interfaces.GalaxyCluster {
		rot = h.galaxyRotation(gen)
	}
	f, err := group.NewFold(rot, h.Seed, interfaces.ClusterGroup(c))
	if err != nil {
		return nil, err
	}
	r.KeyGen, r.Handover, r.Founded = f.AdmitKeyGen, f.Handover, f.Founded
	prev := r.Replayed
	r.Replayed = func(b *interfaces.Block) error {
		if prev != nil {
			if err := prev(b); err != nil {
				return err
			}
		}
		return f.Observe(b)
	}
	return r, nil
}

// Seats returns how many delegates cluster c draws at each rotation: the
// genesis rotation block's seats, or as many as its genesis delegates.
func (h *Hierarchy) Seats(c interfaces.ClusterID) int {
	if h.SeatCount > 0 {
		return h.SeatCount
	}
	if int(c) >= len(h.Clusters) {
		c = 0 // an opened cluster seats as many as the first
	}
	return len(h.Clusters[c].Members)
}

// VerifyMint checks a mint claim's proof that a certified black hole holds
// its beacon.
func (h *Hierarchy) VerifyMint(c *interfaces.MintClaim) error {
	_, err := c.Verify(h.Galaxy.Instance, h.Galaxy.Key, h.cached())
	return err
}

// GenesisOfCluster is cluster c's genesis: the network's seed and time
// and the allocations of the accounts c owns. The galaxy's holds none.
func (h *Hierarchy) GenesisOfCluster(g ledger.Genesis, c interfaces.ClusterID) ledger.Genesis {
	out := ledger.Genesis{Seed: g.Seed, Timestamp: g.Timestamp}
	if c == interfaces.GalaxyCluster {
		return out
	}
	for _, a := range g.Allocations {
		if h.Owner(a.Star) == c {
			out.Allocations = append(out.Allocations, a)
		}
	}
	return out
}

// LearnerOf returns a maker of the placement learner of the partitioner
// that f builds for k clusters with params, or nil when it learns nothing
// (it has no Learner method, or that returns nil).
func LearnerOf(f interfaces.PartitionerFactory, k int, params []byte) func() interfaces.PlacementLearner {
	learner := func() interfaces.PlacementLearner {
		p, err := f.NewPartitioner(k, params)
		if err != nil {
			return nil
		}
		l, ok := p.(interface {
			Learner() interfaces.PlacementLearner
		})
		if !ok {
			return nil
		}
		return l.Learner()
	}
	if learner() == nil {
		return nil
	}
	return learner
}

// CachedOwner wraps a partitioner's placement with a cache, for a
// partitioner whose placement never changes (it learns nothing, as the
// built-in baseline does not yet) and may be slow to ask (an external
// plugin over RPC).
func CachedOwner(p interfaces.Partitioner) func(interfaces.StarID) interfaces.ClusterID {
	var (
		mu    sync.Mutex
		cache = map[interfaces.StarID]interfaces.ClusterID{}
	)
	const maxCache = 1 << 20
	return func(s interfaces.StarID) interfaces.ClusterID {
		// The lock also keeps the partitioner's calls on one goroutine
		// at a time, as interfaces.Partitioner asks.
		mu.Lock()
		defer mu.Unlock()
		if c, ok := cache[s]; ok {
			return c
		}
		c := p.Assign(&interfaces.Transaction{Sender: s})
		if len(cache) >= maxCache {
			clear(cache)
		}
		cache[s] = c
		return c
	}
}
