package group

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/constellation-chain/constellation/builtin/honeybadger"
	"github.com/constellation-chain/constellation/builtin/memnet"
	"github.com/constellation-chain/constellation/interfaces"
)

// rotatingCluster is five stars: a, b, c and d start as the members, with
// dealt keys; e follows the chain. Every few blocks the next four are
// drawn (the star left out moves down the sorted list each rotation), and
// their keys come from the key generation their own chain orders.
func rotatingCluster(t *testing.T, every uint64) *cluster {
	t.Helper()
	return rotatingClusterWith(t, every, nil)
}

// rotatingClusterWith is rotatingCluster with node i's rotation changed
// by also.
func rotatingClusterWith(t *testing.T, every uint64, also func(i int, r *Rotation)) *cluster {
	t.Helper()
	names := []string{"a", "b", "c", "d", "e"}
	c := &cluster{names: names, hub: memnet.NewHub()}
	for _, nm := range names {
		c.keys = append(c.keys, interfaces.DevKey(nm))
		c.stars = append(c.stars, interfaces.DevStar(nm))
		c.dirs = append(c.dirs, t.TempDir())
	}
	first := slices.Clone(c.stars[:4])
	slices.SortFunc(first, interfaces.CompareStars)
	shares, err := honeybadger.Factory{}.DealKeys(first, 0, rand.NewChaCha8([32]byte{7}))
	if err != nil {
		t.Fatal(err)
	}
	candidates := slices.Clone(c.stars)
	slices.SortFunc(candidates, interfaces.CompareStars)
	draw := func(b *interfaces.Block) ([]interfaces.StarID, error) {
		if b.Header.Height%every != 0 {
			return nil, nil
		}
		out := slices.Clone(candidates)
		out = slices.Delete(out, int(b.Header.Height/every)%len(out), int(b.Header.Height/every)%len(out)+1)
		return out, nil
	}
	for i := range names {
		var share []byte
		if i < 4 {
			share = shares[slices.Index(first, c.stars[i])]
		}
		c.share = append(c.share, share)
		tr, err := c.hub.Join(c.stars[i], 4096)
		if err != nil {
			t.Fatal(err)
		}
		c.trs = append(c.trs, tr)
	}
	c.membership = func(i int, cfg *Config) {
		cfg.Members = first
		if os.Getenv("ROTATION_LOG") != "" {
			cfg.Logger = hclog.New(&hclog.LoggerOptions{Name: c.names[i], Level: hclog.Debug})
		}
		cfg.Rotation = &Rotation{Window: 40, Draw: draw, Generator: honeybadger.Factory{}, Rand: rand.NewChaCha8([32]byte{byte(i), 1})}
		if also != nil {
			also(i, cfg.Rotation)
		}
	}
	for i := range names {
		c.nodes = append(c.nodes, c.open(t, i))
	}
	return c
}

// TestDelegatesRotateWithKeysTheyGenerated runs a group through three
// rotations: each time the drawn members deal, acknowledge and assemble
// new keys through the group's own chain, and take over at the epoch after
// the block that completed the key. The follower e is drawn in and
// proposes; every node, member or not, holds the same chain, and a restart
// rebuilds the same membership epochs from it.
func TestDelegatesRotateWithKeysTheyGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three key generations")
	}
	const every = 8
	c := rotatingCluster(t, every)
	defer c.closeAll()
	// Transfers keep flowing through the rotations.
	const transfers = 60
	faucet := interfaces.DevKey("faucet")
	during := func(ctx context.Context) {
		go func() {
			var prev interfaces.Hash
			for seq := uint64(1); seq <= transfers && ctx.Err() == nil; seq++ {
				tx, _ := interfaces.NewTransfer(faucet, seq, prev, interfaces.DevStar("sink"), 1)
				prev = tx.ID()
				for _, n := range c.nodes {
					n.Submit(tx)
				}
				time.Sleep(30 * time.Millisecond)
			}
		}()
	}
	c.runUntil(t, func() bool {
		for _, n := range c.nodes {
			// Every transfer committed, through every rotation.
			if bal, _ := n.Balance(interfaces.DevStar("sink")); bal != transfers {
				return false
			}
			// Three rotations done, and a few blocks into the third.
			if k, first := n.Membership(); k < 3 {
				return false
			} else if h, _ := n.Head(); h < first+4 {
				return false
			}
		}
		return true
	}, during)
	// Run closed the stores; reopening rebuilds the membership epochs from
	// each chain, which must give what the running nodes scheduled.
	ran := make([][]interfaces.InstanceID, len(c.nodes))
	for i, n := range c.nodes {
		for _, e := range n.eras {
			ran[i] = append(ran[i], e.id)
		}
	}
	c.reopen(t)
	for i, n := range c.nodes {
		for k, e := range n.eras {
			if k < len(ran[i]) && e.id != ran[i][k] {
				t.Fatalf("%s: after a restart membership epoch %d is another instance", c.names[i], k)
			}
		}
	}
	top := c.requireNoFork(t)
	a := c.nodes[0]
	// Every node scheduled the same membership epochs.
	for i, n := range c.nodes {
		for k := range 4 {
			if n.eras[k].id != a.eras[k].id || n.eras[k].start != a.eras[k].start {
				t.Fatalf("%s's membership epoch %d differs from a's", c.names[i], k)
			}
		}
	}
	// Blocks name their membership epoch's members, epochs run on with
	// none lost or decided twice, and the keys changed each time.
	for h := uint64(1); h <= top; h++ {
		b, _ := a.Block(h)
		if b.Header.Epoch != h-1 {
			t.Fatalf("block %d is of epoch %d", h, b.Header.Epoch)
		}
		if e := a.eraOf(b.Header.Epoch); !slices.Equal(b.Meta.Members, e.members) {
			t.Fatalf("block %d names other members than its membership epoch's", h)
		}
	}
	f := honeybadger.Factory{}
	var keys [][]byte
	for k := range 4 {
		e := a.eras[k]
		if !e.member(c.stars[0]) {
			continue
		}
		gk, err := f.GroupKey(e.keys)
		if err != nil {
			t.Fatal(err)
		}
		for _, old := range keys {
			if bytes.Equal(old, gk) {
				t.Fatalf("membership epoch %d kept an earlier group key", k)
			}
		}
		keys = append(keys, gk)
	}
	// Each membership epoch after the first was announced by a handover in
	// the block that ended the one before: its members and the group key
	// the members' own key material holds.
	handovers := map[uint64]*interfaces.Handover{}
	for h := uint64(1); h <= top; h++ {
		b, _ := a.Block(h)
		if b.Meta.Handover != nil {
			if b.Meta.Handover.FirstEpoch != b.Header.Epoch+1 {
				t.Fatalf("block %d hands over from epoch %d", h, b.Meta.Handover.FirstEpoch)
			}
			handovers[b.Meta.Handover.FirstEpoch] = b.Meta.Handover
		}
	}
	for k := 1; k < 4; k++ {
		e := a.eras[k]
		ho := handovers[e.start]
		if ho == nil || !slices.Equal(ho.Members, e.members) {
			t.Fatalf("membership epoch %d (from epoch %d) has no matching handover", k, e.start)
		}
		for i, n := range c.nodes {
			if ne := n.eras[k]; ne.member(c.stars[i]) {
				gk, err := f.GroupKey(ne.keys)
				if err != nil || !bytes.Equal(gk, ho.GroupKey) {
					t.Fatalf("%s's keys of membership epoch %d are not under the handed-over group key", c.names[i], k)
				}
			}
		}
	}
	// e, a follower at first, was drawn and proposed.
	eStar := c.stars[4]
	var proposed bool
	for h := uint64(1); h <= top; h++ {
		b, _ := a.Block(h)
		if slices.Contains(b.Meta.Proposers, eStar) {
			proposed = true
		}
	}
	if !proposed {
		t.Fatal("e was never a proposer")
	}
	// None applied twice: the faucet's chain holds each sequence once.
	if seq, _, _ := a.ChainHead(interfaces.DevStar("faucet")); seq != transfers {
		t.Fatalf("the faucet's chain is at %d after %d transfers", seq, transfers)
	}
}

// TestAGroupFoundsAClusterThroughItsChain: at block 5 the group's chain
// opens the key generation of a new cluster's first members (b, c, d and
// the follower e), which runs beside the group's own rotations. The block
// after it completes names the new cluster's members and group key
// (BlockMeta.Founded), the same on every node; each first member holds key
// material under that key, the other node none; and a restart replays the
// same founding from the chain.
func TestAGroupFoundsAClusterThroughItsChain(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two key generations at once")
	}
	const every, newCluster = 8, interfaces.ClusterID(7)
	type told struct {
		f    interfaces.Founding
		keys []byte
	}
	var mu sync.Mutex
	founded := map[int][]told{}
	var first []interfaces.StarID
	for _, nm := range []string{"b", "c", "d", "e"} {
		first = append(first, interfaces.DevStar(nm))
	}
	slices.SortFunc(first, interfaces.CompareStars)
	c := rotatingClusterWith(t, every, func(i int, r *Rotation) {
		r.Spawn = func(b *interfaces.Block) ([]Spawn, error) {
			if b.Header.Height != 5 {
				return nil, nil
			}
			return []Spawn{{Cluster: newCluster, Members: first}}, nil
		}
		r.Founded = func(f interfaces.Founding, _ []interfaces.StarID, keys []byte) {
			mu.Lock()
			founded[i] = append(founded[i], told{f, keys})
			mu.Unlock()
		}
	})
	defer c.closeAll()
	c.runUntil(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		for i := range c.nodes {
			if len(founded[i]) == 0 {
				return false
			}
		}
		for _, n := range c.nodes {
			if k, _ := n.Membership(); k < 1 {
				return false
			}
		}
		return true
	}, nil)
	// Run closed the stores; reopening replays the chains, whose
	// foundings must be what the running nodes were told.
	mu.Lock()
	live := maps.Clone(founded)
	clear(founded)
	mu.Unlock()
	c.reopen(t)
	top := c.requireNoFork(t)
	var carried *interfaces.Founding
	for h := uint64(1); h <= top; h++ {
		b, _ := c.nodes[0].Block(h)
		for _, f := range b.Meta.Founded {
			if carried != nil {
				t.Fatalf("block %d founds cluster %d again", h, f.Cluster)
			}
			carried = &f
		}
	}
	if carried == nil || carried.Cluster != newCluster || !slices.Equal(carried.Members, first) {
		t.Fatalf("the chain founds %+v, want cluster %d with b, c, d and e", carried, newCluster)
	}
	gen := honeybadger.Factory{}
	for i := range c.nodes {
		got := live[i]
		if len(got) != 1 || got[0].f.Cluster != newCluster || !bytes.Equal(got[0].f.GroupKey, carried.GroupKey) {
			t.Fatalf("%s was told of %d foundings, or another key", c.names[i], len(got))
		}
		member := slices.Contains(first, c.stars[i])
		if member != (got[0].keys != nil) {
			t.Fatalf("%s (a first member: %v) holds key material: %v", c.names[i], member, got[0].keys != nil)
		}
		if member {
			if gk, err := gen.GroupKey(got[0].keys); err != nil || !bytes.Equal(gk, carried.GroupKey) {
				t.Fatalf("%s's key material is not under the founded group key (%v)", c.names[i], err)
			}
		}
	}
	// The new cluster's key is not the group's: no membership epoch of
	// the group runs under it.
	for _, e := range c.nodes[1].eras {
		if e.keys == nil {
			continue
		}
		if gk, _ := gen.GroupKey(e.keys); bytes.Equal(gk, carried.GroupKey) {
			t.Fatal("the founded cluster's key is one of the group's own")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for i := range c.nodes {
		if len(founded[i]) != 1 || !bytes.Equal(founded[i][0].f.GroupKey, carried.GroupKey) {
			t.Fatalf("after a restart %s replays %d foundings", c.names[i], len(founded[i]))
		}
	}
}

// resharingCluster is rotatingCluster, rotating every 8 blocks, with
// Reshare and certificates on, reopened from empty stores; also, when
// set, changes node i's configuration. It returns the group key.
func resharingCluster(t *testing.T, also func(i int, cfg *Config)) (*cluster, []byte) {
	t.Helper()
	c := rotatingClusterWith(t, 8, nil)
	c.closeAll()
	members := slices.Clone(c.stars[:4])
	slices.SortFunc(members, interfaces.CompareStars)
	first, err := honeybadger.Factory{}.GroupKey(c.share[0])
	if err != nil {
		t.Fatal(err)
	}
	prev := c.membership
	c.membership = func(i int, cfg *Config) {
		prev(i, cfg)
		cfg.Certify = true
		cfg.Rotation.Reshare, cfg.Rotation.Members, cfg.Rotation.Key = true, members, first
		if also != nil {
			also(i, cfg)
		}
	}
	for i := range c.nodes {
		c.dirs[i] = t.TempDir()
		c.nodes[i] = c.open(t, i)
	}
	return c, first
}

// TestAGroupResharesItsKey runs the rotating group with Reshare: at each
// rotation the members in force deal their shares to the next ones, so
// the group key never changes. After two rotations (the follower e drawn
// in, a left out) every membership epoch's keys are under the first group
// key, every certified block's certificate verifies under it and the first
// instance, and a restart rebuilds the same membership epochs.
func TestAGroupResharesItsKey(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two key generations")
	}
	f := honeybadger.Factory{}
	c, first := resharingCluster(t, nil)
	defer c.closeAll()
	// Rotations every 8 blocks, on and on: wait for certificates in the
	// first three membership epochs (a's store), the third having begun
	// everywhere.
	var why string
	t.Cleanup(func() {
		if t.Failed() && why != "" {
			t.Log("waiting for:", why)
		}
	})
	certifiedIn := func(n *Group, era int) bool {
		e := n.eras[era]
		for ep := e.start; e.last == 0 || ep <= e.last; ep++ {
			if cert, _ := n.store.Certificate(ep + 1); cert != nil {
				return true
			}
			if h, _ := n.Head(); ep+1 > h {
				return false
			}
		}
		return false
	}
	c.runUntil(t, func() bool {
		for i, n := range c.nodes {
			if k, _ := n.Membership(); k < 2 {
				why = fmt.Sprintf("%s in membership epoch %d", c.names[i], k)
				return false
			}
		}
		for k := range 3 {
			if !certifiedIn(c.nodes[0], k) {
				why = fmt.Sprintf("a certificate of a block of membership epoch %d", k)
				return false
			}
		}
		why = ""
		return true
	}, nil)
	ran := slices.Clone(c.nodes[0].eras)
	c.reopen(t)
	a := c.nodes[0]
	for k := range ran {
		if a.eras[k].id != ran[k].id {
			t.Fatalf("after a restart membership epoch %d is another instance", k)
		}
	}
	c.requireNoFork(t)
	top, _ := a.Head()
	byEra := map[interfaces.InstanceID]int{}
	for h := uint64(1); h <= top; h++ {
		cert, err := a.store.Certificate(h)
		if err != nil || cert == nil {
			continue
		}
		b, _ := a.Block(h)
		if err := f.VerifyGroupKey(first, CertificateMessage(a.eras[0].id, b.Hash()), cert); err != nil {
			t.Fatalf("the certificate of block %d (epoch %d) does not verify under the first key and instance: %v", h, b.Header.Epoch, err)
		}
		byEra[a.eraOf(b.Header.Epoch).id]++
	}
	if len(byEra) < 3 {
		t.Fatalf("certified blocks in %d membership epochs, want 3 or more", len(byEra))
	}
}

// deafCerts is muteCerts that also drops the certificate traffic it
// would receive.
type deafCerts struct{ muteCerts }

func (d deafCerts) Subscribe(topic string, h interfaces.Handler) (func(), error) {
	if !strings.HasPrefix(topic, "cert/") {
		return d.Transport.Subscribe(topic, h)
	}
	return d.Transport.Subscribe(topic, func(e interfaces.Envelope) {
		if !d.mute.Load() {
			h(e)
		}
	})
}

// TestAMemberGetsTheCertificatesOfEpochsWhoseKeysItDropped: a hears no
// certificate traffic through the first membership epochs of a group that
// reshares its key every 8 blocks, while the others certify every block.
// When a hears again it has long dropped the signers of those epochs
// (maxEnded), so it has no share to ask with; it asks with an empty one,
// the others answer with the certificate, and a checks it with the group
// key. This is how a landing run of TestAGroupResharesItsKey failed: a
// never held a certificate of membership epoch 0.
func TestAMemberGetsTheCertificatesOfEpochsWhoseKeysItDropped(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ten key generations")
	}
	f := honeybadger.Factory{}
	var deaf atomic.Bool
	deaf.Store(true)
	c, first := resharingCluster(t, func(i int, cfg *Config) {
		if i == 0 {
			cfg.Transport = deafCerts{muteCerts{Transport: cfg.Transport, mute: &deaf}}
		}
	})
	defer c.closeAll()
	a := c.nodes[0]
	c.runUntil(t, func() bool {
		if deaf.Load() {
			// a sits in about four membership epochs of five (the
			// draw leaves one star out): by epoch 2*maxEnded it has
			// signed more than maxEnded after epoch 0, whose signer it
			// dropped (checked below, once the nodes stopped).
			if k, _ := a.Membership(); k < 2*maxEnded {
				return false
			}
			if cert, _ := c.nodes[1].Certificate(1); cert == nil {
				return false
			}
			if cert, _ := a.Certificate(1); cert != nil {
				t.Fatal("a holds the certificate of block 1 although it heard no certificate traffic")
			}
			deaf.Store(false)
			return false
		}
		cert, _ := a.Certificate(1)
		return cert != nil
	}, nil)
	if _, err := a.signerFor(0); err == nil {
		t.Fatal("a still holds the signer of membership epoch 0: the test does not show what it is for")
	}
	c.reopen(t)
	a = c.nodes[0]
	cert, _ := a.Certificate(1)
	b, err := a.Block(1)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.VerifyGroupKey(first, CertificateMessage(a.eras[0].id, b.Hash()), cert); err != nil {
		t.Fatalf("a's certificate of block 1 does not verify under the group key: %v", err)
	}
}
