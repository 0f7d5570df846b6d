package conformance_test

import (
	"testing"

	"github.com/constellation-chain/constellation/builtin/solo"
	"github.com/constellation-chain/constellation/conformance"
)

// The dev engine claims no capability: the suite runs N=1 and skips the
// rest, naming what is missing.
func TestConsensusSuiteOnSolo(t *testing.T) {
	conformance.RunConsensus(t, solo.Factory{})
}
