package honeybadger_test

import (
	"testing"

	"github.com/constellation-chain/constellation/builtin/honeybadger"
	"github.com/constellation-chain/constellation/conformance"
)

// TestConformance runs the shared consensus conformance suite (agreement,
// validity, termination under asynchrony, Byzantine members, censorship
// resilience, crash-restart replay, robustness, determinism).
func TestConformance(t *testing.T) {
	conformance.RunConsensus(t, honeybadger.Factory{})
}
