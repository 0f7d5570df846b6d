package host

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/interfaces"
)

// TestEveryPluginRPCIsObservedWithItsMethodAndLatency: with ObserveRPC
// set, the host reports each unary call to the plugin (the handshake's
// info query, then the kind's own methods) with a non-negative duration.
func TestEveryPluginRPCIsObservedWithItsMethodAndLatency(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	p, _ := load(t, interfaces.KindReputation, func(o *LoadOptions) {
		o.ObserveRPC = func(method string, d time.Duration, err error) {
			mu.Lock()
			defer mu.Unlock()
			if d < 0 {
				t.Errorf("%s took %v", method, d)
			}
			seen[method]++
		}
	})
	f, err := p.Factory()
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.(interfaces.ReputationFactory).NewReputation(nil)
	if err != nil {
		t.Fatal(err)
	}
	ms := members(4)
	if err := r.Observe(interfaces.Observation{Height: 1, Meta: interfaces.BlockMeta{Proposers: ms, Members: ms}}); err != nil {
		t.Fatal(err)
	}
	_ = r.Score(ms[0])
	mu.Lock()
	defer mu.Unlock()
	var info, observe, score bool
	for m := range seen {
		info = info || strings.HasSuffix(m, "/PluginInfo")
		observe = observe || strings.HasSuffix(m, "/Observe")
		score = score || strings.HasSuffix(m, "/Score")
	}
	if !info || !observe || !score {
		t.Fatalf("observed RPCs %v; want the info query, Observe and Score among them", seen)
	}
}
