package meme_test

import (
	"testing"

	"github.com/constellation-chain/constellation/builtin/meme"
	"github.com/constellation-chain/constellation/conformance"
)

func TestReputationConformance(t *testing.T) {
	conformance.RunReputation(t, meme.Factory{})
}

// The same cases pass under the CLI's Runner, which records results
// instead of using *testing.T.
func TestReputationConformanceUnderRunner(t *testing.T) {
	r := &conformance.Runner{ShortMode: true}
	r.Run("reputation", func(tb conformance.TB) { conformance.ReputationSuite(tb, meme.Factory{}) })
	res := r.Results()
	if len(res) < 10 {
		t.Fatalf("runner recorded %d results, want the suite's cases", len(res))
	}
	for _, x := range res {
		if x.Status != conformance.Pass {
			t.Errorf("%s: %s %v", x.Name, x.Status, x.Messages)
		}
	}
}
