package node_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/framework/api"
	"github.com/constellation-chain/constellation/interfaces"
)

// TestTheAPIOfAHierarchy reads a running hierarchy (cluster 0 of a and c,
// cluster 1 of b and d, the galaxy of a and b) through two nodes' APIs: a
// galaxy member serves black holes with their checkpoints and beacons,
// knows both clusters' delegates (its own from its chain, the other's from
// the newest beacon) and scores from the galaxy's reputation, and streams
// black holes beside its cluster's blocks; a cluster-only node sends black
// hole requests elsewhere (421) and knows the other cluster by its genesis
// delegates. Both turn healthy over both their chains.
func TestTheAPIOfAHierarchy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a hierarchy")
	}
	tt := startTiers(t)
	serve := func(nm string) *api.Client {
		srv := httptest.NewServer(api.Handler(tt.node(nm), nil))
		t.Cleanup(srv.Close)
		return &api.Client{Base: srv.URL, HTTP: &http.Client{Timeout: 20 * time.Second}}
	}
	a, c := serve("a"), serve("c")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	// A certified black hole with a beacon and one with checkpoints.
	var beacon, checkpoints *api.BlackHole
	waitFor(t, "black holes with a beacon and with checkpoints", func() bool {
		st, err := a.Status(ctx)
		if err != nil || st.Tiers == nil || st.Tiers.Galaxy == nil {
			return false
		}
		for h := uint64(1); h <= *st.Tiers.Galaxy && (beacon == nil || checkpoints == nil); h++ {
			bh, err := a.BlackHole(ctx, h)
			if err != nil {
				t.Fatalf("black hole %d: %v", h, err)
			}
			if bh.Beacon != nil && bh.Certified && beacon == nil {
				beacon = &bh
			}
			if len(bh.Checkpoints) > 0 && checkpoints == nil {
				checkpoints = &bh
			}
		}
		return beacon != nil && checkpoints != nil
	})
	if len(beacon.Beacon.Sets) != 2 || beacon.Beacon.Height != beacon.Height-1 {
		t.Fatalf("beacon of black hole %d: %+v", beacon.Height, beacon.Beacon)
	}
	var apiErr *api.Error
	if _, err := c.BlackHole(ctx, 1); !errors.As(err, &apiErr) || apiErr.Status != http.StatusMisdirectedRequest {
		t.Fatalf("black hole from a node in no galaxy: %v", err)
	}
	if _, err := a.BlackHole(ctx, 1<<40); !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound {
		t.Fatalf("black hole above the head: %v", err)
	}

	star := func(nm string) string { return interfaces.DevStar(nm).String() }
	sorted := func(nms ...string) []string {
		var out []interfaces.StarID
		for _, nm := range nms {
			out = append(out, interfaces.DevStar(nm))
		}
		slices.SortFunc(out, interfaces.CompareStars)
		var s []string
		for _, x := range out {
			s = append(s, x.String())
		}
		return s
	}
	cs, err := a.Clusters(ctx)
	if err != nil || len(cs.Clusters) != 2 || cs.Galaxy == nil || !cs.Galaxy.Here {
		t.Fatalf("a's clusters: %+v %v", cs, err)
	}
	if c0 := cs.Clusters[0]; c0.Source != "chain" || !c0.Here || !slices.Equal(c0.Delegates, sorted("a", "c")) {
		t.Errorf("a's cluster 0: %+v", c0)
	}
	if c1 := cs.Clusters[1]; c1.Source != "beacon" || c1.Here || !slices.Equal(c1.Delegates, sorted("b", "d")) {
		t.Errorf("a's cluster 1: %+v", c1)
	}
	if !slices.Equal(cs.Galaxy.Members, sorted("a", "b")) {
		t.Errorf("galaxy members %v", cs.Galaxy.Members)
	}
	cc, err := c.Clusters(ctx)
	if err != nil || len(cc.Clusters) != 2 || cc.Clusters[1].Source != "genesis" || cc.Galaxy == nil || cc.Galaxy.Here {
		t.Fatalf("c's clusters: %+v %v", cc, err)
	}
	m, err := a.Meme(ctx, interfaces.DevStar("d"), false)
	if err != nil || m.Chain != "galaxy" || m.Star != star("d") {
		t.Fatalf("a's meme of d: %+v %v", m, err)
	}

	// The stream of a galaxy member carries both chains.
	kinds := map[string]bool{}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	done := errors.New("done")
	err = a.Events(sctx, "cluster/0:0.0,galaxy:0.0", func(e api.Event) error {
		kinds[e.Type] = true
		if kinds["block"] && kinds["blackhole"] {
			return done
		}
		return nil
	})
	if !errors.Is(err, done) {
		t.Fatalf("stream of a galaxy member: %v (saw %v)", err, kinds)
	}

	for _, cl := range []*api.Client{a, c} {
		waitFor(t, "a healthy node", func() bool {
			h, err := cl.Health(ctx)
			return err == nil && h.Healthy
		})
	}
	h, _ := a.Health(ctx)
	if len(h.Chains) != 2 {
		t.Fatalf("a galaxy member's health covers %d chains, want its cluster's and the galaxy's: %+v", len(h.Chains), h)
	}
}
