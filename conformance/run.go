package conformance

import (
	"fmt"

	"github.com/constellation-chain/constellation/interfaces"
)

// Kinds lists the plugin kinds that have a conformance suite.
var Kinds = []interfaces.Kind{interfaces.KindConsensus, interfaces.KindReputation, interfaces.KindPartitioner}

// Suite runs the suite for p's kind on t. It returns an error, without
// running anything, when the kind has no suite or p does not implement the
// kind's factory interface.
func Suite(t TB, p interfaces.Plugin) error { return SuiteWith(t, p, SuiteOptions{}) }

// SuiteOptions choose how much of a suite SuiteWith runs.
type SuiteOptions struct {
	// Grid is the consensus suite's grid (GridAuto: GridShort when
	// t.Short(), else GridFull). The other kinds' suites have one grid and
	// ignore it.
	Grid Grid
}

// SuiteWith is Suite with options.
func SuiteWith(t TB, p interfaces.Plugin, opts SuiteOptions) error {
	info := p.Info()
	switch info.Kind {
	case interfaces.KindConsensus:
		f, ok := p.(interfaces.ConsensusFactory)
		if !ok {
			return fmt.Errorf("%s/%s does not implement interfaces.ConsensusFactory", info.Kind, info.Name)
		}
		ConsensusSuiteWith(t, f, ConsensusOptions{Grid: opts.Grid})
	case interfaces.KindReputation:
		f, ok := p.(interfaces.ReputationFactory)
		if !ok {
			return fmt.Errorf("%s/%s does not implement interfaces.ReputationFactory", info.Kind, info.Name)
		}
		ReputationSuite(t, f)
	case interfaces.KindPartitioner:
		f, ok := p.(interfaces.PartitionerFactory)
		if !ok {
			return fmt.Errorf("%s/%s does not implement interfaces.PartitionerFactory", info.Kind, info.Name)
		}
		PartitionerSuite(t, f)
	default:
		return fmt.Errorf("no conformance suite for %s plugins yet (suites exist for %v)", info.Kind, Kinds)
	}
	return nil
}
