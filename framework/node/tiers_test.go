package node_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/constellation-chain/constellation/builtin/honeybadger"
	"github.com/constellation-chain/constellation/builtin/lsh"
	"github.com/constellation-chain/constellation/builtin/meme"
	"github.com/constellation-chain/constellation/builtin/memnet"
	"github.com/constellation-chain/constellation/framework/group"
	"github.com/constellation-chain/constellation/framework/keys"
	"github.com/constellation-chain/constellation/framework/ledger"
	"github.com/constellation-chain/constellation/framework/node"
	"github.com/constellation-chain/constellation/framework/pool"
	"github.com/constellation-chain/constellation/interfaces"
)

// tiers is a small hierarchical network in one process: cluster 0 of
// stars a and c, cluster 1 of b and d, and a galaxy of a and b, over
// memnet.
type tiers struct {
	h       *node.Hierarchy
	nodes   map[string]*node.Node // read through node() in a test whose stars move
	mu      sync.Mutex            // guards nodes once the network runs
	genesis ledger.Genesis
	owner   func(interfaces.StarID) interfaces.ClusterID
	cancel  context.CancelFunc
	stop    map[string]context.CancelFunc // stops one node
	done    chan error
	hub     *memnet.Hub
}

var tierMembers = map[string][]string{"cluster/0": {"a", "c"}, "cluster/1": {"b", "d"}, "galaxy": {"a", "b"}}

func startTiers(t *testing.T) *tiers { return startTiersWith(t, tierMembers) }

// devIn returns a development star that cluster c owns, with a name
// starting with prefix.
func devIn(owner func(interfaces.StarID) interfaces.ClusterID, prefix string, c interfaces.ClusterID) string {
	for i := 0; ; i++ {
		nm := fmt.Sprintf("%s-%d", prefix, i)
		if owner(interfaces.DevStar(nm)) == c {
			return nm
		}
	}
}

func startTiersWith(t *testing.T, tierMembers map[string][]string) *tiers {
	t.Helper()
	return startTiersPlaced(t, tierMembers, nil)
}

// startTiersPlaced starts the network with the lsh partitioner's config.
func startTiersPlaced(t *testing.T, tierMembers map[string][]string, placement []byte) *tiers {
	t.Helper()
	return startTiersRotating(t, tierMembers, placement, 0)
}

// startTiersRotating starts the network with the clusters' delegates
// rotating every `every` black holes (0: never).
func startTiersRotating(t *testing.T, tierMembers map[string][]string, placement []byte, every uint64) *tiers {
	t.Helper()
	return startTiersOpts(t, tiersOpts{members: tierMembers, placement: placement, every: every})
}

// tiersOpts describes a test hierarchy: its genesis groups, the lsh
// config, the rotation period, and candidates (nodes that keep a
// cluster's chain with no genesis seat) with the cluster each keeps.
type tiersOpts struct {
	members    map[string][]string
	placement  []byte
	every      uint64
	candidates map[string]interfaces.ClusterID
	// galaxyCandidates keep the galaxy's chain with no genesis seat.
	galaxyCandidates []string
	alloc            []ledger.Allocation // besides alice's and bob's
	seats            int                 // Hierarchy.SeatCount
	split            int                 // Hierarchy.SplitAbove
	merge            int                 // Hierarchy.MergeBelow
}

// node returns the running node named nm (a star that moved to a new
// cluster runs as a new node).
func (tt *tiers) node(nm string) *node.Node {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return tt.nodes[nm]
}

func startTiersOpts(t *testing.T, o tiersOpts) *tiers {
	t.Helper()
	tierMembers, placement, every := o.members, o.placement, o.every
	part, err := lsh.Factory{}.NewPartitioner(2, placement)
	if err != nil {
		t.Fatal(err)
	}
	owner := node.CachedOwner(part)
	gf := &keys.GenesisFile{Network: "devnet", Seed: "tiers", Engine: honeybadger.Name}
	shares := map[string]map[string][]byte{} // group -> member -> keys
	for gname, names := range tierMembers {
		var members []interfaces.StarID
		for _, nm := range names {
			members = append(members, interfaces.DevStar(nm))
		}
		slices.SortFunc(members, interfaces.CompareStars)
		dealt, err := honeybadger.Factory{}.DealKeys(members, 0, rand.NewChaCha8([32]byte{byte(len(gname))}))
		if err != nil {
			t.Fatal(err)
		}
		shares[gname] = map[string][]byte{}
		for _, nm := range names {
			shares[gname][nm] = dealt[slices.Index(members, interfaces.DevStar(nm))]
		}
		pub, err := honeybadger.Factory{}.GroupKey(dealt[0])
		if err != nil {
			t.Fatal(err)
		}
		gf.SetGroup(gname, members, pub)
	}
	h, err := node.HierarchyFrom(gf, 2, honeybadger.Factory{}, owner)
	if err != nil {
		t.Fatal(err)
	}
	h.Mint = node.MintSchedule{Reward: 1000, Halving: 4, Until: 1000}
	h.RotateEvery = every
	h.SeatCount = o.seats
	h.SplitAbove = o.split
	h.MergeBelow = o.merge
	h.Learner = node.LearnerOf(lsh.Factory{}, 2, placement)
	tt := &tiers{h: h, nodes: map[string]*node.Node{}, owner: owner, done: make(chan error, 16), hub: memnet.NewHub()}
	tt.genesis = ledger.Genesis{Seed: "tiers", Allocations: []ledger.Allocation{
		{Star: interfaces.DevStar(devIn(owner, "alice", 0)), Amount: 1000},
		{Star: interfaces.DevStar(devIn(owner, "bob", 1)), Amount: 500},
	}}
	tt.genesis.Allocations = append(tt.genesis.Allocations, o.alloc...)
	hub := tt.hub
	var names []string
	for _, ms := range tierMembers {
		names = append(names, ms...)
	}
	for nm := range o.candidates {
		names = append(names, nm)
	}
	names = append(names, o.galaxyCandidates...)
	slices.Sort(names)
	names = slices.Compact(names)
	opens := map[string]func() (*node.Node, error){}
	for _, nm := range names {
		tr, err := hub.Join(interfaces.DevStar(nm), 4096)
		if err != nil {
			t.Fatal(err)
		}
		dirs := map[string]string{}
		cfg := func(gname string, c interfaces.ClusterID) *node.Config {
			ks, ok := shares[gname][nm]
			if cc, cand := o.candidates[nm]; cand && gname == interfaces.ClusterGroup(cc) {
				ok = true // keeps the chain with no genesis share
			}
			if gname == interfaces.GalaxyGroup && slices.Contains(o.galaxyCandidates, nm) {
				ok = true
			}
			if !ok {
				return nil
			}
			if dirs[gname] == "" {
				dirs[gname] = t.TempDir()
			}
			return &node.Config{
				Cluster: c, Key: interfaces.DevKey(nm), DataDir: dirs[gname], Genesis: tt.genesis,
				Members: h.Clusters[0].Members, Consensus: honeybadger.Factory{}, ConsensusKeys: ks,
				BatchSize: 40, Interval: 20 * time.Millisecond, SyncInterval: 200 * time.Millisecond,
				Logger: testLogger(nm + "/" + gname),
			}
		}
		// open opens the node, on the cluster it moved to if it did.
		open := func() (*node.Node, error) {
			cl := cfg("cluster/0", 0)
			if cl == nil {
				cl = cfg("cluster/1", 1)
				cl.Members = h.Clusters[1].Members
			}
			gx := cfg("galaxy", interfaces.GalaxyCluster)
			if gx != nil {
				gx.Members = h.Galaxy.Members
				rep, err := meme.Factory{}.NewReputation(nil)
				if err != nil {
					return nil, err
				}
				gx.Reputation = node.NewReputation(rep)
			}
			if _, err := node.FollowMoves(cl, h, gx == nil); err != nil {
				return nil, err
			}
			return node.OpenTiers(h, tr, testLogger(nm), cl, gx)
		}
		n, err := open()
		if err != nil {
			t.Fatal(err)
		}
		tt.nodes[nm] = n
		opens[nm] = open
	}
	ctx, cancel := context.WithCancel(context.Background())
	tt.cancel = cancel
	tt.stop = map[string]context.CancelFunc{}
	for nm, n := range tt.nodes {
		nctx, stop := context.WithCancel(ctx)
		tt.stop[nm] = stop
		go func() {
			for {
				err := n.Run(nctx)
				var mv *node.MovedError
				if !errors.As(err, &mv) {
					tt.done <- err
					return
				}
				if n, err = opens[nm](); err != nil {
					tt.done <- fmt.Errorf("%s: reopen on cluster %d: %w", nm, mv.Cluster, err)
					return
				}
				tt.mu.Lock()
				tt.nodes[nm] = n
				tt.mu.Unlock()
			}
		}()
	}
	t.Cleanup(func() {
		cancel()
		for range tt.nodes {
			if err := <-tt.done; err != nil {
				t.Error(err)
			}
		}
	})
	return tt
}

// waitFor polls cond for up to 60 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	waitFor2(t, 60*time.Second, what, cond)
}

// waitFor2 polls cond for up to limit.
func waitFor2(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTransfersAcrossClustersFinalizeAndConserveSupply: alice (cluster 0)
// pays bob (cluster 1) three times and carol (cluster 0) once. Cluster 0
// debits and issues receipts, the galaxy finalizes its checkpoints in
// certified black holes, and cluster 1 credits each receipt batch exactly
// once; the sum of every balance in both clusters equals the genesis
// supply when nothing is in flight.
func TestTransfersAcrossClustersFinalizeAndConserveSupply(t *testing.T) {
	tt := startTiers(t)
	alice := devIn(tt.owner, "alice", 0)
	bob := interfaces.DevStar(devIn(tt.owner, "bob", 1))
	carol := interfaces.DevStar(devIn(tt.owner, "carol", 0))
	var prev interfaces.Hash
	for i, p := range []struct {
		to     interfaces.StarID
		amount uint64
	}{{bob, 10}, {bob, 20}, {carol, 5}, {bob, 30}} {
		tx, err := interfaces.NewTransfer(interfaces.DevKey(alice), uint64(i+1), prev, p.to, p.amount)
		if err != nil {
			t.Fatal(err)
		}
		prev = tx.ID()
		// Submitted through a node of the other cluster: it routes the
		// transaction to alice's cluster.
		if err := tt.nodes["d"].Submit(tx); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "bob credited 60", func() bool {
		v, err := tt.nodes["b"].Balance(bob)
		return err == nil && v == 560
	})
	waitFor(t, "every member of cluster 1 credited", func() bool {
		v, err := tt.nodes["d"].Balance(bob)
		return err == nil && v == 560
	})
	if v, _ := tt.nodes["a"].Balance(carol); v != 5 {
		t.Fatalf("carol has %d, want 5", v)
	}
	if _, err := tt.nodes["a"].Balance(bob); !errors.Is(err, node.ErrNotHere) {
		t.Fatalf("cluster 0's node answered for bob's account: %v", err)
	}
	// Supply: the two clusters' committed balances, nothing in flight,
	// are genesis plus what the beacons they claimed minted for them.
	checkSupply(t, tt)
	// The galaxy's chain holds cluster 0's checkpoints in order, and its
	// black holes carry certificates that verify under the galaxy key.
	g := tt.nodes["a"].GalaxyGroup()
	waitFor(t, "a certified black hole", func() bool {
		h, _ := g.Head()
		c, _ := g.Certificate(h)
		return h > 0 && c != nil
	})
	h, _ := g.Head()
	for bh := uint64(1); bh <= h; bh++ {
		cert, _ := g.Certificate(bh)
		if cert == nil {
			continue
		}
		b, err := g.Block(bh)
		if err != nil {
			t.Fatal(err)
		}
		if err := tt.h.VerifyBlackHole(&b.Header, cert); err != nil {
			t.Fatalf("black hole %d: %v", bh, err)
		}
		for _, tx := range b.Txs {
			if tx.Kind != interfaces.TxCheckpoint && tx.Kind != interfaces.TxBeacon {
				t.Fatalf("black hole %d holds a %s transaction", bh, tx.Kind)
			}
		}
	}
	seq, _, err := g.ChainHead(interfaces.ClusterStar(0))
	if err != nil || seq == 0 {
		t.Fatalf("the galaxy includes no checkpoint of cluster 0 (%v)", err)
	}
}

// snapshot sums every balance in a store.
func snapshot(t *testing.T, st interface {
	Snapshot() (*ledger.Snapshot, error)
}) uint64 {
	t.Helper()
	s, err := st.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	return s.Supply()
}

// committedOf returns the transactions of kind a group committed, with
// the height of each.
func committedOf(t *testing.T, g *group.Group, kind interfaces.TxKind) (txs []*interfaces.Transaction, heights []uint64) {
	t.Helper()
	h, _ := g.Head()
	for i := uint64(1); i <= h; i++ {
		b, err := g.Block(i)
		if err != nil {
			t.Fatal(err)
		}
		for _, tx := range b.Txs {
			if tx.Kind == kind {
				txs, heights = append(txs, tx), append(heights, i)
			}
		}
	}
	return txs, heights
}

// committedCredit returns the first credit node n's cluster committed.
func committedCredit(t *testing.T, n *node.Node) *interfaces.Transaction {
	t.Helper()
	txs, _ := committedOf(t, n.ClusterGroup(), interfaces.TxCredit)
	if len(txs) == 0 {
		t.Fatal("no credit committed")
	}
	return txs[0]
}

// TestForgedReplayedAndUnsignedReceiptsAreRefused takes a credit cluster 1
// committed and offers cluster 1's ledger variants of it: the same credit
// again, one with a receipt amount raised, one whose black hole carries no
// valid galaxy signature, one whose black hole header was altered, and one
// offered to the wrong cluster. Each is refused by rule, so every member
// refuses it alike.
func TestForgedReplayedAndUnsignedReceiptsAreRefused(t *testing.T) {
	tt := startTiers(t)
	bob, _ := tt.payBob(t, "a", 7)
	waitFor(t, "bob credited", func() bool {
		v, err := tt.nodes["b"].Balance(bob)
		return err == nil && v == 507
	})
	real := committedCredit(t, tt.nodes["b"])
	st := tt.nodes["b"].ClusterGroup().Store()
	apply := func(c interfaces.ClusterID, tx *interfaces.Transaction) error {
		return ledger.NewBuilder(st, c, st.Parent()).WithRules(tt.h.Rules(c)).Apply(tx)
	}
	if err := apply(1, real); !errors.Is(err, ledger.ErrReplay) {
		t.Fatalf("the same credit again: %v, want a replay", err)
	}
	base, err := interfaces.DecodeCreditPayload(real.Payload)
	if err != nil {
		t.Fatal(err)
	}
	variants := map[string]func(c *interfaces.CreditPayload){
		"raised amount": func(c *interfaces.CreditPayload) { c.Batch.Receipts[0].Amount += 1000 },
		"unsigned black hole": func(c *interfaces.CreditPayload) {
			c.Finality.Certificate = append([]byte(nil), c.Finality.Certificate...)
			c.Finality.Certificate[len(c.Finality.Certificate)-1] ^= 1
		},
		"black hole altered": func(c *interfaces.CreditPayload) { c.Finality.BlackHole.Timestamp++ },
		"receipt for another account": func(c *interfaces.CreditPayload) {
			c.Batch.Receipts[0].To = interfaces.DevStar(devIn(tt.owner, "mallory", 1))
		},
	}
	for name, mutate := range variants {
		c, _ := interfaces.DecodeCreditPayload(base.Encode())
		mutate(&c)
		forged := interfaces.CreditTx(c)
		if err := apply(1, forged); !errors.Is(err, ledger.ErrInvalidTx) || errors.Is(err, ledger.ErrReplay) {
			t.Errorf("%s: %v, want refused by its proof", name, err)
		} else if !errors.Is(err, ledger.ErrBadSignature) {
			t.Errorf("%s: refused for another reason: %v", name, err)
		}
		// The pool refuses it before any proposal could carry it, and
		// the node's API path refuses certified kinds from users at all.
		if err := tt.nodes["b"].ClusterGroup().Submit(forged); !errors.Is(err, pool.ErrInvalid) {
			t.Errorf("%s: the pool took it (%v)", name, err)
		}
		if err := tt.nodes["b"].Submit(forged); !errors.Is(err, pool.ErrInvalid) {
			t.Errorf("%s: the node's submit path took it (%v)", name, err)
		}
	}
	if err := apply(0, real); !errors.Is(err, ledger.ErrWrongCluster) {
		t.Fatalf("credit offered to cluster 0: %v, want wrong cluster", err)
	}
}

// TestAClusterCutOffFromTheGalaxyStallsOnlyItself: the galaxy is cluster
// 0's delegates; cluster 1's delegates are cut off from every galaxy
// member, as if they withheld their checkpoints. The galaxy keeps making
// black holes that finalize cluster 0's checkpoints; cluster 0's local
// payments finalize; its payment to cluster 1 is debited and waits; no
// checkpoint of cluster 1 is final. When the links heal, the payment is
// credited.
func TestAClusterCutOffFromTheGalaxyStallsOnlyItself(t *testing.T) {
	tt := startTiersWith(t, map[string][]string{"cluster/0": {"a", "c"}, "cluster/1": {"b", "d"}, "galaxy": {"a", "c"}})
	for _, x := range []string{"a", "c"} {
		for _, y := range []string{"b", "d"} {
			tt.hub.SetCut(interfaces.DevStar(x), interfaces.DevStar(y), true)
		}
	}
	alice := devIn(tt.owner, "alice", 0)
	bob := interfaces.DevStar(devIn(tt.owner, "bob", 1))
	carol := interfaces.DevStar(devIn(tt.owner, "carol", 0))
	t1, _ := interfaces.NewTransfer(interfaces.DevKey(alice), 1, interfaces.Hash{}, bob, 40)
	t2, _ := interfaces.NewTransfer(interfaces.DevKey(alice), 2, t1.ID(), carol, 9)
	for _, tx := range []*interfaces.Transaction{t1, t2} {
		if err := tt.nodes["a"].Submit(tx); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "carol paid and cluster 0's checkpoint final", func() bool {
		v, _ := tt.nodes["c"].Balance(carol)
		head, _ := tt.nodes["c"].ClusterGroup().Head()
		fin, _ := tt.nodes["c"].Finalized(0)
		return v == 9 && head > 0 && fin >= 2
	})
	if fin, _ := tt.nodes["a"].Finalized(1); fin != 0 {
		t.Fatalf("a checkpoint of the cut-off cluster is final: %d", fin)
	}
	if v, _ := tt.nodes["b"].Balance(bob); v != 500 {
		t.Fatalf("bob has %d while his cluster is cut off, want 500", v)
	}
	if v, _ := tt.nodes["a"].Balance(interfaces.DevStar(alice)); v != 1000-40-9 {
		t.Fatalf("alice has %d, want %d: the transfer to bob must be debited", v, 1000-40-9)
	}
	for _, x := range []string{"a", "c"} {
		for _, y := range []string{"b", "d"} {
			tt.hub.SetCut(interfaces.DevStar(x), interfaces.DevStar(y), false)
		}
	}
	waitFor(t, "bob credited after the links heal", func() bool {
		v, _ := tt.nodes["b"].Balance(bob)
		return v == 540
	})
}

// TestEveryByteOfAProofCounts builds the light-client proof of a
// cross-cluster transfer from the nodes' chains, checks that it verifies
// under the galaxy's instance and key and is under 5 KB, and that flipping
// any one bit anywhere in its encoding makes it fail (to decode or to
// verify).
func TestEveryByteOfAProofCounts(t *testing.T) {
	tt := startTiers(t)
	_, tx := tt.payBob(t, "c", 3)
	chains := []node.Chain{
		{Store: tt.nodes["a"].ClusterGroup().Store(), Cluster: 0},
		{Store: tt.nodes["a"].GalaxyGroup().Store(), Cluster: interfaces.GalaxyCluster},
	}
	var p *interfaces.TxProof
	var err error
	waitFor(t, "a proof of the transfer", func() bool {
		p, err = node.BuildProof(chains, tx.ID())
		return err == nil
	})
	if _, err := p.Verify(tt.h.Galaxy.Instance, tt.h.Galaxy.Key, honeybadger.Factory{}); err != nil {
		t.Fatalf("the proof does not verify: %v", err)
	}
	raw := p.Encode()
	if len(raw) > 5000 {
		t.Errorf("proof of %d bytes, want under 5 KB", len(raw))
	}
	// Under another galaxy instance (another network, or another member
	// set) the same proof fails.
	other := tt.h.Galaxy.Instance
	other[0] ^= 1
	if _, err := p.Verify(other, tt.h.Galaxy.Key, honeybadger.Factory{}); err == nil {
		t.Fatal("the proof verifies under another galaxy instance")
	}
	for i := range raw {
		bad := slices.Clone(raw)
		bad[i] ^= 1 << (i % 8)
		q, err := interfaces.DecodeTxProof(bad)
		if err != nil {
			continue
		}
		if _, err := q.Verify(tt.h.Galaxy.Instance, tt.h.Galaxy.Key, honeybadger.Factory{}); err == nil {
			t.Fatalf("the proof with byte %d of %d changed still verifies", i, len(raw))
		}
	}
}

// TestBlackHolesPublishTheDelegateSetsTheirBeaconDraws: black holes carry
// beacons, each in the block right after the black hole it certifies,
// with the galaxy's signature of that black hole and the delegate sets an
// independent replay draws from the reputation state as of it; a beacon
// with another draw, or signed for another black hole, is refused.
func TestBlackHolesPublishTheDelegateSetsTheirBeaconDraws(t *testing.T) {
	tt := startTiers(t)
	g := tt.nodes["a"].GalaxyGroup()
	var beacons []*interfaces.Transaction
	var at []uint64
	waitFor(t, "three beacons", func() bool {
		beacons, at = committedOf(t, g, interfaces.TxBeacon)
		return len(beacons) >= 3
	})
	// Replay the galaxy chain into a fresh reputation, and check every
	// beacon against the draw from the state as of the black hole before
	// it.
	rep, _ := meme.Factory{}.NewReputation(nil)
	b := node.NewBeaconer(tt.h, node.NewReputation(rep))
	next := 0
	for i := uint64(1); next < len(beacons); i++ {
		if at[next] == i {
			p, err := interfaces.DecodeBeaconPayload(beacons[next].Payload)
			if err != nil {
				t.Fatal(err)
			}
			if p.Height != i-1 {
				t.Fatalf("black hole %d carries the beacon of black hole %d", i, p.Height)
			}
			prev, _ := g.Block(i - 1)
			if err := tt.h.VerifyBlackHole(&prev.Header, p.Signature); err != nil {
				t.Fatalf("beacon in black hole %d: %v", i, err)
			}
			d, err := b.Draw(p.Height, p.Signature)
			if err != nil {
				t.Fatal(err)
			}
			want := d.Sets
			if len(p.Sets) != 2 || fmt.Sprint(want) != fmt.Sprint(p.Sets) {
				t.Fatalf("black hole %d publishes %v, the replay draws %v", i, p.Sets, want)
			}
			parent := ledger.Parent{Height: prev.Header.Height, Hash: prev.Hash()}
			if err := b.Verify(parent, &p); err != nil {
				t.Fatalf("the replay refuses the published beacon: %v", err)
			}
			forged := p
			forged.Sets = slices.Clone(p.Sets)
			forged.Sets[0], forged.Sets[1] = interfaces.DelegateSet{Cluster: 0, Members: p.Sets[1].Members}, interfaces.DelegateSet{Cluster: 1, Members: p.Sets[0].Members}
			if err := b.Verify(parent, &forged); err == nil {
				t.Fatal("a beacon with swapped delegate sets passes")
			}
			if err := b.Verify(ledger.Parent{Height: prev.Header.Height, Hash: prev.Header.Prev}, &p); err == nil {
				t.Fatal("a beacon signed for another black hole passes")
			}
			next++
		}
		blk, err := g.Block(i)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Reputation().Observe(blk); err != nil {
			t.Fatal(err)
		}
	}
}

// TestEveryBeaconMintsItsScheduleAndEachClusterCreditsItsOwnOnce: each
// beacon mints exactly the schedule's amount for its black hole; each
// cluster claims every beacon once, in order, crediting the minted amounts
// of the stars it owns; and the clusters' balances add up to genesis plus
// what the claimed beacons minted. A replayed claim, one whose beacon was
// altered and one against a black hole without the galaxy's signature are
// refused.
func TestEveryBeaconMintsItsScheduleAndEachClusterCreditsItsOwnOnce(t *testing.T) {
	tt := startTiers(t)
	g := tt.nodes["a"].GalaxyGroup()
	beacons := map[uint64]interfaces.BeaconPayload{} // by beacon seq
	waitFor(t, "both clusters to claim four beacons", func() bool {
		for _, nm := range []string{"a", "b"} {
			seq, _, _ := tt.nodes[nm].ChainHead(interfaces.ClusterStar(interfaces.GalaxyCluster))
			if seq < 4 {
				return false
			}
		}
		return true
	})
	h, _ := g.Head()
	for i := uint64(1); i <= h; i++ {
		b, _ := g.Block(i)
		for _, tx := range b.Txs {
			if tx.Kind == interfaces.TxBeacon {
				p, _ := interfaces.DecodeBeaconPayload(tx.Payload)
				var sum uint64
				for _, m := range p.Mint {
					sum += m.Amount
				}
				if want := tt.h.Mint.At(p.Height); sum != want {
					t.Fatalf("the beacon of black hole %d mints %d, the schedule says %d", p.Height, sum, want)
				}
				beacons[tx.Seq] = p
			}
		}
	}
	checkSupply(t, tt)

	// Forged claims.
	st := tt.nodes["b"].ClusterGroup().Store()
	claims, _ := committedOf(t, tt.nodes["b"].ClusterGroup(), interfaces.TxMint)
	real := claims[0]
	apply := func(tx *interfaces.Transaction) error {
		return ledger.NewBuilder(st, 1, st.Parent()).WithRules(tt.h.Rules(1)).Apply(tx)
	}
	if err := apply(real); !errors.Is(err, ledger.ErrReplay) {
		t.Fatalf("a claim again: %v, want a replay", err)
	}
	c, _ := interfaces.DecodeMintClaim(real.Payload)
	p, _ := interfaces.DecodeBeaconPayload(c.Beacon.Checkpoint.Payload)
	p.Mint = append(p.Mint, interfaces.Receipt{To: interfaces.DevStar(devIn(tt.owner, "mallory", 1)), Amount: 1 << 40})
	altered := c
	bt := *c.Beacon.Checkpoint
	bt.Payload = p.Encode()
	altered.Beacon.Checkpoint = &bt
	if err := apply(interfaces.MintTx(altered)); !errors.Is(err, ledger.ErrBadSignature) {
		t.Fatalf("a claim of an altered beacon: %v, want refused by its proof", err)
	}
	unsigned := c
	unsigned.Beacon.Certificate = append([]byte(nil), c.Beacon.Certificate...)
	unsigned.Beacon.Certificate[5] ^= 1
	if err := apply(interfaces.MintTx(unsigned)); !errors.Is(err, ledger.ErrBadSignature) {
		t.Fatalf("a claim against an unsigned black hole: %v, want refused by its proof", err)
	}
}

// checkSupply checks, with no transfer in flight between the clusters,
// that each cluster's committed balances sum to its genesis allocations,
// plus what the beacons it claimed minted for its stars, plus what it was
// credited, less what it sent: in all, genesis plus minted.
func checkSupply(t *testing.T, tt *tiers) {
	t.Helper()
	if held, genesis, minted := supply(t, tt); held != genesis+minted {
		t.Fatalf("the clusters hold %d noOs; genesis made %d and the claimed beacons minted %d", held, genesis, minted)
	}
}

// supply returns what the clusters hold, what genesis made and what the
// beacons they claimed minted.
func supply(t *testing.T, tt *tiers) (held, genesis, minted uint64) {
	t.Helper()
	var claimedMax uint64
	claims := map[interfaces.ClusterID]uint64{}
	for _, nm := range []string{"a", "b"} {
		g := tt.nodes[nm].ClusterGroup()
		snap, err := g.Store().Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		held += snap.Supply()
		for _, hd := range snap.Heads {
			if hd.Star == interfaces.ClusterStar(interfaces.GalaxyCluster) {
				claims[g.Cluster()] = hd.Seq
				claimedMax = max(claimedMax, hd.Seq)
			}
		}
	}
	beacons := map[uint64]interfaces.BeaconPayload{}
	g := tt.nodes["a"].GalaxyGroup()
	waitFor(t, "the galaxy chain to hold every claimed beacon", func() bool {
		h, _ := g.Head()
		for i := uint64(1); i <= h; i++ {
			b, _ := g.Block(i)
			for _, tx := range b.Txs {
				if tx.Kind == interfaces.TxBeacon {
					p, _ := interfaces.DecodeBeaconPayload(tx.Payload)
					beacons[tx.Seq] = p
				}
			}
		}
		return uint64(len(beacons)) >= claimedMax
	})
	for c, claimed := range claims {
		for s := uint64(1); s <= claimed; s++ {
			for _, m := range beacons[s].Mint {
				if tt.owner(m.To) == c {
					minted += m.Amount
				}
			}
		}
	}
	for _, a := range tt.genesis.Allocations {
		genesis += a.Amount
	}
	return held, genesis, minted
}

// payBob has alice (cluster 0) pay bob (cluster 1) amount as her first
// transaction, submitted through node via.
func (tt *tiers) payBob(t *testing.T, via string, amount uint64) (interfaces.StarID, *interfaces.Transaction) {
	t.Helper()
	alice := devIn(tt.owner, "alice", 0)
	bob := interfaces.DevStar(devIn(tt.owner, "bob", 1))
	tx, err := interfaces.NewTransfer(interfaces.DevKey(alice), 1, interfaces.Hash{}, bob, amount)
	if err != nil {
		t.Fatal(err)
	}
	if err := tt.nodes[via].Submit(tx); err != nil {
		t.Fatal(err)
	}
	return bob, tx
}

// testLogger logs to stderr when TIERS_LOG is set (debugging), else nowhere.
func testLogger(name string) hclog.Logger {
	if os.Getenv("TIERS_LOG") == "" {
		return hclog.NewNullLogger()
	}
	return hclog.New(&hclog.LoggerOptions{Name: name, Level: hclog.Debug})
}
