package group

import (
	"context"
	"crypto/ed25519"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/builtin/honeybadger"
	"github.com/constellation-chain/constellation/builtin/meme"
	"github.com/constellation-chain/constellation/builtin/memnet"
	"github.com/constellation-chain/constellation/framework/ledger"
	"github.com/constellation-chain/constellation/framework/pool"
	"github.com/constellation-chain/constellation/interfaces"
)

// cluster is four HoneyBadger members with real threshold keys over the
// in-memory transport, each with Proof-of-Meme reputation.
type cluster struct {
	names []string
	keys  []ed25519.PrivateKey
	stars []interfaces.StarID // in names order
	trs   []*memnet.Transport
	nodes []*Group
	dirs  []string
	hub   *memnet.Hub
	share [][]byte
	// membership, when set, adjusts member i's config before it opens.
	membership func(i int, cfg *Config)
}

func newCluster(t *testing.T, names ...string) *cluster {
	t.Helper()
	c := &cluster{names: names, hub: memnet.NewHub()}
	var members []interfaces.StarID
	for _, nm := range names {
		c.keys = append(c.keys, interfaces.DevKey(nm))
		c.stars = append(c.stars, interfaces.DevStar(nm))
		c.dirs = append(c.dirs, t.TempDir())
	}
	members = slices.Clone(c.stars)
	slices.SortFunc(members, interfaces.CompareStars)
	shares, err := honeybadger.Factory{}.DealKeys(members, 0, rand.NewChaCha8([32]byte{7}))
	if err != nil {
		t.Fatal(err)
	}
	for i := range names {
		c.share = append(c.share, shares[slices.Index(members, c.stars[i])])
		tr, err := c.hub.Join(c.stars[i], 4096)
		if err != nil {
			t.Fatal(err)
		}
		c.trs = append(c.trs, tr)
		c.nodes = append(c.nodes, c.open(t, i))
	}
	return c
}

func (c *cluster) open(t *testing.T, i int) *Group {
	t.Helper()
	rep, err := meme.Factory{}.NewReputation(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Key:           c.keys[i],
		DataDir:       c.dirs[i],
		Genesis:       ledger.Genesis{Seed: "safety-test", Allocations: []ledger.Allocation{{Star: interfaces.DevStar("faucet"), Amount: 1 << 40}}},
		Members:       c.stars,
		Consensus:     honeybadger.Factory{},
		ConsensusKeys: c.share[i],
		BatchSize:     40,
		Interval:      10 * time.Millisecond,
		Transport:     c.trs[i],
		Reputation:    NewReputation(rep),
	}
	if c.membership != nil {
		c.membership(i, &cfg)
	}
	n, err := Open(cfg)
	if err != nil {
		t.Fatalf("open %s: %v", c.names[i], err)
	}
	return n
}

// run runs every node until each has committed height, or fails the test.
func (c *cluster) run(t *testing.T, height uint64, during func(ctx context.Context)) {
	t.Helper()
	c.runUntil(t, func() bool {
		for _, n := range c.nodes {
			if h, _ := n.Head(); h < height {
				return false
			}
		}
		return true
	}, during)
}

// runUntil runs every node until done says so, or fails the test.
func (c *cluster) runUntil(t *testing.T, reached func() bool, during func(ctx context.Context)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	done := make(chan error, len(c.nodes))
	for _, n := range c.nodes {
		go func() { done <- n.Run(ctx) }()
	}
	if during != nil {
		during(ctx)
	}
	for !reached() {
		if ctx.Err() != nil {
			for i, n := range c.nodes {
				h, _ := n.Head()
				t.Logf("%s at height %d", c.names[i], h)
			}
			t.Fatal("the nodes did not get where the test wants in time")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	for range c.nodes {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// endMembershipAt reopens the cluster with a first membership epoch that
// ends with epoch last and a second of a, b and c with keys of their own;
// it returns the second's members, sorted.
func (c *cluster) endMembershipAt(t *testing.T, last uint64) []interfaces.StarID {
	t.Helper()
	next := []interfaces.StarID{c.stars[0], c.stars[1], c.stars[2]}
	sorted := slices.Clone(next)
	slices.SortFunc(sorted, interfaces.CompareStars)
	keys, err := honeybadger.Factory{}.DealKeys(sorted, 0, rand.NewChaCha8([32]byte{9}))
	if err != nil {
		t.Fatal(err)
	}
	c.closeAll()
	c.membership = func(i int, cfg *Config) {
		cfg.LastEpoch = last
		m := Membership{Members: next}
		if i < 3 {
			m.Keys = keys[slices.Index(sorted, c.stars[i])]
		}
		cfg.Next = []Membership{m}
	}
	c.reopen(t)
	return sorted
}

// garbageFrom makes member from send `ff ff` to member to once block 2 is
// committed: unsigned, then signed by from for the instance.
func (c *cluster) garbageFrom(ctx context.Context, t *testing.T, from, to int) {
	for {
		if h, _ := c.nodes[to].Head(); h >= 2 || ctx.Err() != nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	topic := c.nodes[from].Topic()
	if err := c.trs[from].Send(ctx, c.stars[to], topic, []byte{0xff, 0xff}); err != nil {
		t.Error(err)
	}
	h, _ := c.nodes[to].Head()
	sm := interfaces.SignedMessage{Instance: c.nodes[from].Instance(), Epoch: h + 1, To: c.stars[to], Payload: []byte{0xff, 0xff}}
	sm.Sign(c.keys[from])
	if err := c.trs[from].Send(ctx, c.stars[to], topic, sm.Encode()); err != nil {
		t.Error(err)
	}
}

// reopen opens every (stopped) node again from its store and log.
func (c *cluster) reopen(t *testing.T) {
	t.Helper()
	for i := range c.nodes {
		c.nodes[i] = c.open(t, i)
	}
}

func (c *cluster) closeAll() {
	for _, n := range c.nodes {
		n.closeStorage()
	}
}

// requireNoFork checks that every node holds the same block hash at every
// height all of them have.
func (c *cluster) requireNoFork(t *testing.T) uint64 {
	t.Helper()
	top := ^uint64(0)
	for _, n := range c.nodes {
		h, _ := n.Head()
		top = min(top, h)
	}
	for h := uint64(1); h <= top; h++ {
		var ref interfaces.Hash
		for i, n := range c.nodes {
			b, err := n.Block(h)
			if err != nil {
				t.Fatalf("%s: block %d: %v", c.names[i], h, err)
			}
			if i == 0 {
				ref = b.Hash()
			} else if b.Hash() != ref {
				t.Fatalf("fork at height %d: %s has %s, %s has %s", h, c.names[0], ref.Short(), c.names[i], b.Hash().Short())
			}
		}
	}
	return top
}

// TestGarbageToOneMemberForksNobody is the reproduction of the fork a
// single garbage message used to cause: member d sends `ff ff` to member a
// only, once unsigned (refused before the engine: it proves nothing) and
// once signed by d for this instance (the engine calls it malformed, and the
// signature makes that provable). Every member must hold the same hash at
// every height, the provable fault must reach a block, and d's score must
// fall below every honest member's.
func TestGarbageToOneMemberForksNobody(t *testing.T) {
	c := newCluster(t, "a", "b", "c", "d")
	d := 3
	c.run(t, 12, func(ctx context.Context) {
		c.garbageFrom(ctx, t, d, 0)
	})
	c.reopen(t)
	defer c.closeAll()
	top := c.requireNoFork(t)
	var found *interfaces.Fault
	for h := uint64(1); h <= top && found == nil; h++ {
		b, _ := c.nodes[1].Block(h)
		for _, f := range b.Meta.Faults {
			if f.Star != c.stars[d] {
				t.Fatalf("block %d holds a fault of honest %s", h, f.Star.Short())
			}
			found = &f
		}
	}
	if found == nil {
		t.Fatal("no block holds d's provable fault")
	}
	if found.Kind != interfaces.FaultMalformed {
		t.Fatalf("fault kind %s, want malformed", found.Kind)
	}
	for i, n := range c.nodes {
		rep := n.cfg.Reputation.Engine()
		sd := rep.Score(c.stars[d])
		for j := range 3 {
			if s := rep.Score(c.stars[j]); s <= sd {
				t.Fatalf("on %s: d's score %d is not below %s's %d", c.names[i], sd, c.names[j], s)
			}
		}
	}
}

// TestRestartFromTheLogReproducesEveryBlockHash runs a cluster in which d
// sends signed garbage (so blocks hold faults and latency reports), then
// refolds member b's whole chain from its write-ahead log alone, in a new
// store: every block hash must come out as before.
func TestRestartFromTheLogReproducesEveryBlockHash(t *testing.T) {
	keepWholeLog = true
	defer func() { keepWholeLog = false }()
	c := newCluster(t, "a", "b", "c", "d")
	c.run(t, 8, func(ctx context.Context) { c.garbageFrom(ctx, t, 3, 0) })
	c.reopen(t)
	c.requireNoFork(t)
	b := c.nodes[1]
	h, _ := b.Head()
	faults := 0
	for k := uint64(1); k <= h; k++ {
		blk, _ := b.Block(k)
		faults += len(blk.Meta.Faults)
	}
	if faults == 0 {
		t.Fatal("no block holds a fault; the test would not show faults are reproduced")
	}
	c.refoldFromLog(t, 1)
}

// refoldFromLog stops the (reopened) cluster, deletes member i's chain,
// keeps its log, reopens it, and fails unless the chain it refolds holds
// every block it had, hash for hash.
func (c *cluster) refoldFromLog(t *testing.T, i int) {
	t.Helper()
	h, _ := c.nodes[i].Head()
	var want []interfaces.Hash
	for k := uint64(1); k <= h; k++ {
		blk, _ := c.nodes[i].Block(k)
		want = append(want, blk.Hash())
	}
	c.closeAll()
	if err := os.RemoveAll(filepath.Join(c.dirs[i], "chain")); err != nil {
		t.Fatal(err)
	}
	n := c.open(t, i)
	defer n.closeStorage()
	if got, _ := n.Head(); got < h {
		t.Fatalf("refolded %d blocks from the log, had %d", got, h)
	}
	for k := uint64(1); k <= h; k++ {
		blk, err := n.Block(k)
		if err != nil {
			t.Fatal(err)
		}
		if blk.Hash() != want[k-1] {
			t.Fatalf("block %d: %s refolded, %s before", k, blk.Hash().Short(), want[k-1].Short())
		}
	}
}

// TestGroupCertifiesADecidedBlockThroughTheSignerSeam: each member signs a
// share of the certificate of block 3 through interfaces.ThresholdSigner
// (the kernel never touches the engine's crypto); any f+1 shares make a
// certificate every member accepts, and it certifies block 3 only.
func TestGroupCertifiesADecidedBlockThroughTheSignerSeam(t *testing.T) {
	c := newCluster(t, "a", "b", "c", "d")
	c.run(t, 4, nil)
	c.reopen(t)
	defer c.closeAll()
	var shares []interfaces.SignatureShare
	for i, n := range c.nodes {
		sh, err := n.CertificateShare(3)
		if err != nil {
			t.Fatalf("%s: %v", c.names[i], err)
		}
		shares = append(shares, sh)
	}
	cert, err := c.nodes[0].Certify(3, shares[2:])
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.nodes[3].Certify(3, shares[:2])
	if err != nil {
		t.Fatal(err)
	}
	if string(cert) != string(again) {
		t.Fatal("two sets of f+1 shares gave two certificates")
	}
	for i, n := range c.nodes {
		if err := n.VerifyCertificate(3, cert); err != nil {
			t.Fatalf("%s refuses the certificate: %v", c.names[i], err)
		}
		if err := n.VerifyCertificate(2, cert); err == nil {
			t.Fatalf("%s accepts block 3's certificate for block 2", c.names[i])
		}
	}
	if _, err := c.nodes[0].Certify(3, shares[:1]); err == nil {
		t.Fatal("one share (f) made a certificate")
	}
}

// TestMembershipEpochEndsAndTheNextInstanceTakesOver drives the membership
// mechanism: the first instance of a, b, c, d ends with epoch 5; a, b, c go
// on from epoch 6 in a new instance with keys dealt for the three of them,
// and d, no longer a member, keeps its chain and stops. Every epoch must be
// decided exactly once across the boundary, each block must name the
// members of its own membership epoch, and a member reopened after the
// boundary must resume in the new instance.
func TestMembershipEpochEndsAndTheNextInstanceTakesOver(t *testing.T) {
	c := newCluster(t, "a", "b", "c", "d")
	const last = 5
	sorted := c.endMembershipAt(t, last)
	first := c.nodes[0].Instance()
	// Run until a, b and c are well past the boundary; d stops at it.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := make(chan error, 4)
	for _, n := range c.nodes {
		go func() { done <- n.Run(ctx) }()
	}
	for {
		ok := true
		for _, n := range c.nodes[:3] {
			if h, _ := n.Head(); h < last+8 {
				ok = false
			}
		}
		if ok {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the three members did not go on past the membership boundary")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	for range c.nodes {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	c.reopen(t)
	defer c.closeAll()
	if c.nodes[0].Instance() == first {
		t.Fatal("reopened after the boundary, a is still in the first instance")
	}
	d := c.nodes[3]
	defer d.closeStorage()
	c.nodes = c.nodes[:3] // d is compared below, on its own
	top := c.requireNoFork(t)
	era0 := slices.Clone(c.stars)
	slices.SortFunc(era0, interfaces.CompareStars)
	for h := uint64(1); h <= top; h++ {
		b, _ := c.nodes[0].Block(h)
		if b.Header.Epoch != h-1 {
			t.Fatalf("block %d is of epoch %d: an epoch was lost or decided twice", h, b.Header.Epoch)
		}
		want := sorted
		if b.Header.Epoch <= last {
			want = era0
		}
		if !slices.Equal(b.Meta.Members, want) {
			t.Fatalf("block %d (epoch %d) names %d members, want %d", h, b.Header.Epoch, len(b.Meta.Members), len(want))
		}
	}
	dh, _ := d.Head()
	if dh != last+1 {
		t.Fatalf("d, no longer a member, is at height %d, want %d", dh, last+1)
	}
	for h := uint64(1); h <= dh; h++ {
		bd, _ := d.Block(h)
		ba, _ := c.nodes[0].Block(h)
		if bd.Hash() != ba.Hash() {
			t.Fatalf("d differs from a at height %d", h)
		}
	}
}

// TestRefoldingFromTheLogCrossesAMembershipBoundary refolds a member's
// whole chain from its log alone after a membership epoch ended: the first
// instance's entries replay into the first engine up to its last epoch, the
// second instance then starts and replays its own, and every block hash
// comes out as before.
func TestRefoldingFromTheLogCrossesAMembershipBoundary(t *testing.T) {
	keepWholeLog = true
	defer func() { keepWholeLog = false }()
	c := newCluster(t, "a", "b", "c", "d")
	c.endMembershipAt(t, 3)
	c.runUntil(t, func() bool {
		for _, n := range c.nodes[:3] {
			if h, _ := n.Head(); h < 9 {
				return false
			}
		}
		return true
	}, nil)
	c.reopen(t)
	c.refoldFromLog(t, 1)
}

// cutAll cuts (or heals) every link between the cluster's members.
func (c *cluster) cutAll(cut bool) {
	for i := range c.stars {
		for j := i + 1; j < len(c.stars); j++ {
			c.hub.SetCut(c.stars[i], c.stars[j], cut)
		}
	}
}

// TestAGroupRestartedWholeMidEpochDecidesAgain: every member proposed
// for an epoch none of them could decide (every link cut), then all of
// them restart. What each replays from its log is sent while the links
// are still down and lost; with every member restarted, nobody else
// holds those messages, so unless the retransmission repeats what was
// replayed, the group waits for the epoch forever.
func TestAGroupRestartedWholeMidEpochDecidesAgain(t *testing.T) {
	c := newCluster(t, "a", "b", "c", "d")
	c.run(t, 3, nil)
	c.reopen(t)
	// The members may stand at different heights (one a block behind).
	heights := make([]uint64, len(c.nodes))
	var top uint64
	for i, n := range c.nodes {
		heights[i], _ = n.Head()
		top = max(top, heights[i])
	}
	c.cutAll(true)
	start := time.Now()
	// Each member proposes at its first tick (10 ms); nothing is heard.
	c.runUntil(t, func() bool { return time.Since(start) > 500*time.Millisecond }, nil)
	for i, n := range c.nodes {
		if h, _ := n.Head(); h != heights[i] {
			t.Fatalf("%s committed height %d (from %d) with every link cut", c.names[i], h, heights[i])
		}
	}
	c.reopen(t)
	c.run(t, top+2, func(ctx context.Context) {
		time.Sleep(300 * time.Millisecond)
		c.cutAll(false)
	})
	c.reopen(t)
	c.requireNoFork(t)
}

// TestARestartedMemberStillSignsTheMembershipEpochThatEnded: the last
// block of a membership epoch can be committed but not yet certified when
// its members stop. Reopened in the next instance, each member (and the
// one that left) must still be able to sign that block's certificate, or
// the block never gets one and the galaxy, which takes a cluster's
// checkpoints in order, takes none of the cluster's again.
func TestARestartedMemberStillSignsTheMembershipEpochThatEnded(t *testing.T) {
	c := newCluster(t, "a", "b", "c", "d")
	const last = 5
	c.endMembershipAt(t, last)
	c.closeAll()
	ends := c.membership
	c.membership = func(i int, cfg *Config) {
		ends(i, cfg)
		cfg.Certify = true
	}
	c.reopen(t)
	c.runUntil(t, func() bool {
		for _, n := range c.nodes[:3] {
			if h, _ := n.Head(); h < last+4 {
				return false
			}
		}
		return true
	}, nil)
	c.reopen(t)
	defer c.closeAll()
	var shares []interfaces.SignatureShare
	for i, n := range c.nodes {
		sh, err := n.CertificateShare(last + 1) // the block of epoch last
		if err != nil {
			t.Fatalf("%s, restarted, cannot sign the last block of the membership epoch that ended: %v", c.names[i], err)
		}
		shares = append(shares, sh)
	}
	cert, err := c.nodes[0].Certify(last+1, shares[2:])
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range c.nodes {
		if err := n.VerifyCertificate(last+1, cert); err != nil {
			t.Fatalf("%s refuses the certificate: %v", c.names[i], err)
		}
	}
}

// TestASubmittedDuplicateIsGossipedAgain: a transaction submitted a second
// time while the pool still holds it is refused as a duplicate and
// published on the cluster's topic again (a first publish can reach
// nobody, and a node that is not a delegate has no other way to hand its
// pool to the delegates). The transaction waits for a sequence number
// before it, so it stays in the pool.
func TestASubmittedDuplicateIsGossipedAgain(t *testing.T) {
	c := newCluster(t, "a", "b", "c", "d")
	ear, err := c.hub.Join(interfaces.DevStar("ear"), 64)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := interfaces.NewTransfer(interfaces.DevKey("faucet"), 2, interfaces.Hash{}, interfaces.DevStar("x"), 1)
	if err != nil {
		t.Fatal(err)
	}
	var heard atomic.Int32
	if _, err := ear.Subscribe(interfaces.TxTopic(0), func(e interfaces.Envelope) {
		b, err := interfaces.DecodeTxBatch(e.Payload)
		if err != nil || e.From != c.stars[0] {
			return
		}
		for _, x := range b.Txs {
			if x.ID() == tx.ID() {
				heard.Add(1)
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	c.runUntil(t, func() bool { return heard.Load() >= 2 }, func(ctx context.Context) {
		if err := c.nodes[0].Submit(tx); err != nil {
			t.Fatalf("first submission: %v", err)
		}
		for heard.Load() < 1 && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		if err := c.nodes[0].Submit(tx); !errors.Is(err, pool.ErrDuplicate) {
			t.Fatalf("second submission: %v, want a duplicate", err)
		}
	})
}

// muteCerts drops what a member publishes on certificate topics while
// mute is set.
type muteCerts struct {
	interfaces.Transport
	mute *atomic.Bool
}

func (m muteCerts) Publish(ctx context.Context, topic string, payload []byte) error {
	if m.mute.Load() && strings.HasPrefix(topic, "cert/") {
		return nil
	}
	return m.Transport.Publish(ctx, topic, payload)
}

// TestABlockWhoseSharesWereAllLostIsCertifiedLater: every certificate
// share of the first blocks is lost (here: dropped until the chain is far
// past them), so no member holds their certificates when the shares flow
// again. Asking about the newest blocks alone never reaches them; the
// members ask about the oldest too, and every member ends up with the
// certificate of block 1 (the galaxy takes a cluster's checkpoints in
// order, so one uncertified block would hold back all later ones).
func TestABlockWhoseSharesWereAllLostIsCertifiedLater(t *testing.T) {
	c := newCluster(t, "a", "b", "c", "d")
	c.closeAll()
	var mute atomic.Bool
	mute.Store(true)
	c.membership = func(i int, cfg *Config) {
		cfg.Certify = true
		cfg.Transport = muteCerts{Transport: cfg.Transport, mute: &mute}
	}
	c.reopen(t)
	defer c.closeAll()
	c.runUntil(t, func() bool {
		if mute.Load() {
			for _, n := range c.nodes {
				if h, _ := n.Head(); h < maxCertAhead+8 {
					return false
				}
			}
			if cert, _ := c.nodes[0].Certificate(1); cert != nil {
				t.Fatal("block 1 is certified although every share was dropped")
			}
			mute.Store(false)
		}
		for _, n := range c.nodes {
			if cert, _ := n.Certificate(1); cert == nil {
				return false
			}
		}
		return true
	}, nil)
}

// TestAConflictingTransactionIsDroppedWithAReason: the faucet signs two
// transfers with sequence 1, one handed to a and one to d. One commits;
// the other can never be included, and the pool that held it says why
// (PoolStatus, which GET /v1/txs/{id}/status and wallet send read).
func TestAConflictingTransactionIsDroppedWithAReason(t *testing.T) {
	c := newCluster(t, "a", "b", "c", "d")
	defer c.closeAll()
	faucet := interfaces.DevKey("faucet")
	one, _ := interfaces.NewTransfer(faucet, 1, interfaces.Hash{}, interfaces.DevStar("x"), 1)
	two, _ := interfaces.NewTransfer(faucet, 1, interfaces.Hash{}, interfaces.DevStar("y"), 2)
	var reason string
	c.runUntil(t, func() bool {
		for _, n := range c.nodes {
			for _, tx := range []*interfaces.Transaction{one, two} {
				if pending, why := n.PoolStatus(tx.ID()); !pending && why != "" {
					reason = why
					return true
				}
			}
		}
		return false
	}, func(ctx context.Context) {
		if err := c.nodes[0].Submit(one); err != nil {
			t.Error(err)
		}
		if err := c.nodes[3].Submit(two); err != nil && !errors.Is(err, pool.ErrConflict) {
			t.Error(err)
		}
	})
	if !strings.Contains(reason, "sequence 1") {
		t.Fatalf("the dropped transfer's reason %q does not name the sequence it lost", reason)
	}
	t.Logf("dropped: %s", reason)
}
