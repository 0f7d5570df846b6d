package api

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/interfaces"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// chainAt is a chain at height 10 whose block h hashes to hashAt(h).
func hashAt(h uint64) interfaces.Hash { return interfaces.Hash{byte(h), 0xcc} }

// healthyView is a chain of four members that rose a second ago and whose
// three peers announced its own head.
func healthyView() ChainView {
	v := ChainView{Name: "cluster/0", Interval: 200 * time.Millisecond, Height: 10, Hash: hashAt(10), LastRise: t0.Add(-time.Second),
		HashAt: func(h uint64) (interfaces.Hash, error) { return hashAt(h), nil }}
	for _, p := range []string{"b", "c", "d"} {
		s := interfaces.DevStar(p)
		v.Peers = append(v.Peers, s)
		v.Heads = append(v.Heads, PeerHead{Star: s, Height: 10, Hash: hashAt(10), At: t0.Add(-500 * time.Millisecond)})
	}
	return v
}

func checkOf(h Health, name string) Check {
	for _, c := range h.Chains[0].Checks {
		if c.Check == name {
			return c
		}
	}
	return Check{}
}

// TestHealthyOnlyWhenAllThreeHold walks the three conditions of health:
// the height rose within RiseWindow, the head matches a majority of the
// peers' announced heads, and no block was refused within RefusalMemory.
func TestHealthyOnlyWhenAllThreeHold(t *testing.T) {
	self := interfaces.DevStar("a")
	if h := Assess(self, t0, []ChainView{healthyView()}); !h.Healthy || len(h.Reasons) != 3 {
		t.Fatalf("healthy view: %+v", h)
	}
	for _, tc := range []struct {
		name    string
		change  func(*ChainView)
		healthy bool
		check   string
		reason  string
	}{
		{"stalled past the window", func(v *ChainView) { v.LastRise = t0.Add(-6 * time.Second) }, false, "height", "has not risen"},
		{"rose just within the window", func(v *ChainView) { v.LastRise = t0.Add(-4900 * time.Millisecond) }, true, "height", "last risen"},
		{"a slow chain gets 20 intervals", func(v *ChainView) { v.Interval = time.Second; v.LastRise = t0.Add(-19 * time.Second) }, true, "height", ""},
		{"never rose", func(v *ChainView) { v.LastRise = time.Time{} }, false, "height", "has not risen"},
		{"two of three peers on another chain", func(v *ChainView) {
			v.Heads[0].Hash, v.Heads[1].Hash = interfaces.Hash{1}, interfaces.Hash{2}
		}, false, "peers", "matches 1 of 3"},
		{"one peer on another chain", func(v *ChainView) { v.Heads[0].Hash = interfaces.Hash{1} }, true, "peers", "matches 2 of 3"},
		{"peers behind agree through the own chain", func(v *ChainView) {
			for i := range v.Heads {
				v.Heads[i].Height = 8
				v.Heads[i].Hash = hashAt(8)
			}
		}, true, "peers", "matches 3 of 3"},
		{"a peer ahead counts through its older announcement", func(v *ChainView) {
			v.Heads[0].Height, v.Heads[0].Hash = 12, hashAt(12)
			v.Heads = append(v.Heads, PeerHead{Star: v.Peers[0], Height: 9, Hash: hashAt(9), At: t0.Add(-1500 * time.Millisecond)})
		}, true, "peers", "matches 3 of 3"},
		{"peers far ahead cannot be compared", func(v *ChainView) {
			for i := range v.Heads[:2] {
				v.Heads[i].Height = 50
			}
		}, false, "peers", "2 too far ahead"},
		{"peers silent for the window", func(v *ChainView) {
			for i := range v.Heads {
				v.Heads[i].At = t0.Add(-time.Minute)
			}
		}, false, "peers", "3 silent"},
		{"half is not a majority", func(v *ChainView) {
			v.Peers = append(v.Peers, interfaces.DevStar("e"))
			v.Heads[0].Hash = interfaces.Hash{1}
		}, false, "peers", "matches 2 of 4"},
		{"a chain of one", func(v *ChainView) { v.Peers, v.Heads = nil, nil }, true, "peers", "no peers"},
		{"a refused block", func(v *ChainView) {
			v.Refused, v.LastRefusal, v.RefusalReason = 1, t0.Add(-time.Minute), "block 9: state root differs"
		}, false, "validation", "state root differs"},
		{"a refusal long ago", func(v *ChainView) { v.Refused, v.LastRefusal = 1, t0.Add(-time.Hour) }, true, "validation", "no block refused in the last"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := healthyView()
			tc.change(&v)
			h := Assess(self, t0, []ChainView{v})
			if h.Healthy != tc.healthy {
				t.Fatalf("healthy = %v, want %v: %v", h.Healthy, tc.healthy, h.Reasons)
			}
			c := checkOf(h, tc.check)
			if c.OK != tc.healthy || !strings.Contains(c.Reason, tc.reason) {
				t.Fatalf("check %s = %+v, want ok %v naming %q", tc.check, c, tc.healthy, tc.reason)
			}
			if !tc.healthy {
				if len(h.Reasons) != 1 || !strings.Contains(h.Reasons[0], tc.reason) || !strings.HasPrefix(h.Reasons[0], "cluster/0: ") {
					t.Fatalf("an unhealthy answer gives the failing reasons only: %v", h.Reasons)
				}
			}
		})
	}
	if h := Assess(self, t0, nil); h.Healthy {
		t.Fatal("a node with no chain is healthy")
	}
	// Every chain must be healthy.
	bad := healthyView()
	bad.Name, bad.LastRise = "galaxy", t0.Add(-time.Hour)
	if h := Assess(self, t0, []ChainView{healthyView(), bad}); h.Healthy || !strings.HasPrefix(h.Reasons[0], "galaxy: ") {
		t.Fatalf("a stalled galaxy: %+v", h)
	}
}

// TestHealthTurnsUnhealthyOverHTTP: GET /v1/health answers 200 with the
// reasons while the node is healthy, then 503 with the failing reasons
// once its height stops rising and a peer's head differs.
func TestHealthTurnsUnhealthyOverHTTP(t *testing.T) {
	b := newFullBackend()
	now := t0
	c, _ := serveFull(t, b, Options{Now: func() time.Time { return now }})
	ctx := context.Background()
	b.setViews(healthyView())
	h, err := c.Health(ctx)
	if err != nil || !h.Healthy || len(h.Reasons) != 3 || h.Star != b.Self().String() {
		t.Fatalf("healthy: %+v %v", h, err)
	}
	// Ten seconds later nothing was committed, and peers moved on to
	// another block 10.
	now = t0.Add(10 * time.Second)
	v := healthyView()
	for i := range v.Heads {
		v.Heads[i].At, v.Heads[i].Hash = now.Add(-time.Second), interfaces.Hash{0xee}
	}
	b.setViews(v)
	h, err = c.Health(ctx)
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.Status != 503 {
		t.Fatalf("unhealthy: %v", err)
	}
	if h.Healthy || len(h.Reasons) != 2 || !strings.Contains(fmt.Sprint(h.Reasons), "has not risen") || !strings.Contains(fmt.Sprint(h.Reasons), "matches 0 of 3") {
		t.Fatalf("unhealthy answer: %+v", h)
	}
	// A backend that reports no health is not healthy.
	plain, _ := newServer(t)
	if _, err := plain.Health(ctx); !errors.As(err, &apiErr) || apiErr.Status != 503 {
		t.Fatalf("plain: %v", err)
	}
}
