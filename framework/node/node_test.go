package node_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/builtin/honeybadger"
	"github.com/constellation-chain/constellation/builtin/memnet"
	"github.com/constellation-chain/constellation/framework/ledger"
	"github.com/constellation-chain/constellation/framework/node"
	"github.com/constellation-chain/constellation/interfaces"
)

// groupConfigs deals HoneyBadger keys for one group and returns each
// member's config, keyed by name.
func groupConfigs(t *testing.T, name string, cluster interfaces.ClusterID, names []string, trs map[string]*memnet.Transport) map[string]node.Config {
	t.Helper()
	var members []interfaces.StarID
	for _, nm := range names {
		members = append(members, interfaces.DevStar(nm))
	}
	sorted := slices.Clone(members)
	slices.SortFunc(sorted, interfaces.CompareStars)
	shares, err := honeybadger.Factory{}.DealKeys(sorted, 0, rand.NewChaCha8([32]byte{byte(cluster)}))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]node.Config{}
	for i, nm := range names {
		out[nm] = node.Config{
			Name:          name,
			Cluster:       cluster,
			Key:           interfaces.DevKey(nm),
			DataDir:       t.TempDir(),
			Genesis:       ledger.Genesis{Seed: "two-groups"},
			Members:       members,
			Consensus:     honeybadger.Factory{},
			ConsensusKeys: shares[slices.Index(sorted, members[i])],
			BatchSize:     40,
			Interval:      10 * time.Millisecond,
			Transport:     trs[nm],
		}
	}
	return out
}

// TestOneProcessRunsTwoGroupsThatNeverSeeEachOther: star a is a member of
// two groups with otherwise different members (a, b, c, d and a, e, f, g),
// running both over one transport. Both groups must make progress, each
// chain must name only its own members, and no group may ever be handed a
// consensus message of the other (it would refuse it as another
// instance's).
func TestOneProcessRunsTwoGroupsThatNeverSeeEachOther(t *testing.T) {
	hub := memnet.NewHub()
	trs := map[string]*memnet.Transport{}
	for _, nm := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		tr, err := hub.Join(interfaces.DevStar(nm), 4096)
		if err != nil {
			t.Fatal(err)
		}
		trs[nm] = tr
	}
	one := groupConfigs(t, "cluster/0", 0, []string{"a", "b", "c", "d"}, trs)
	two := groupConfigs(t, "cluster/1", 1, []string{"a", "e", "f", "g"}, trs)
	var nodes []*node.Node
	for _, nm := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		var n *node.Node
		var err error
		switch {
		case nm == "a":
			n, err = node.Open(one[nm], two[nm])
		case one[nm].Key != nil:
			n, err = node.Open(one[nm])
		default:
			n, err = node.Open(two[nm])
		}
		if err != nil {
			t.Fatalf("open %s: %v", nm, err)
		}
		nodes = append(nodes, n)
	}
	a := nodes[0]
	if len(a.Groups()) != 2 || a.Groups()[0].Topic() == a.Groups()[1].Topic() {
		t.Fatal("star a does not run two groups on topics of their own")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := make(chan error, len(nodes))
	for _, n := range nodes {
		go func() { done <- n.Run(ctx) }()
	}
	for {
		h0, _ := a.Groups()[0].Head()
		h1, _ := a.Groups()[1].Head()
		if h0 >= 5 && h1 >= 5 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("heights %d and %d: the two groups did not both make progress", h0, h1)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	for range nodes {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	for i, n := range nodes {
		for _, g := range n.Groups() {
			if r := g.Refused(); r != 0 {
				t.Errorf("node %d, group %s: %d consensus messages of another instance reached it", i, g.Instance().Short(), r)
			}
		}
	}
	// Each chain names its own members only.
	for k, cfgs := range []map[string]node.Config{one, two} {
		want := slices.Clone(cfgs["a"].Members)
		slices.SortFunc(want, interfaces.CompareStars)
		reopened, err := node.Open(cfgs["a"])
		if err != nil {
			t.Fatal(err)
		}
		h, _ := reopened.Head()
		for ht := uint64(1); ht <= h; ht++ {
			b, err := reopened.Block(ht)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(b.Meta.Members, want) {
				t.Fatalf("group %d block %d names members %v", k, ht, b.Meta.Members)
			}
			for _, p := range b.Meta.Proposers {
				if !slices.Contains(want, p) {
					t.Fatalf("group %d block %d has a contribution of %s, not a member", k, ht, p.Short())
				}
			}
		}
		reopened.Groups()[0].Close()
		t.Logf("group %d: %d blocks", k, h)
	}
}
