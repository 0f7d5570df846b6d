package honeybadger_test

import (
	"os"
	"testing"

	"github.com/constellation-chain/constellation/builtin/honeybadger"
	"github.com/constellation-chain/constellation/conformance"
)

// TestConformance runs the shared consensus conformance suite (agreement,
// validity, termination under asynchrony, Byzantine members, censorship
// resilience, crash-restart replay, robustness, determinism) at every
// cluster size the issue names, N ∈ {4, 7, 10, 16}. make test runs two
// seeds per case, which keeps the suite within a few minutes on two cores
// with real BLS12-381 cryptography; CONSTELLATION_CONFORMANCE_FULL=1 runs
// the suite's full ten seeds (about twelve minutes there), and -short its
// quick subset.
func TestConformance(t *testing.T) {
	if testing.Short() || os.Getenv("CONSTELLATION_CONFORMANCE_FULL") == "1" {
		conformance.RunConsensus(t, honeybadger.Factory{})
		return
	}
	conformance.RunConsensusWith(t, honeybadger.Factory{}, conformance.ConsensusOptions{
		Sizes: []int{4, 7, 10, 16},
		Seeds: 2,
	})
}
