package sim_test

import (
	"fmt"

	"github.com/constellation-chain/constellation/conformance/sim"
	"github.com/constellation-chain/constellation/conformance/sim/simtest"
)

// A run of four members, one of them equivocating, over a network that
// delays, reorders and duplicates messages and cuts node 0 off for a while.
func ExampleRun() {
	behaviours := make([]sim.Behaviour, 4)
	behaviours[3] = sim.Equivocate()
	r := sim.Run(sim.Config{
		Factory:    simtest.ACSFactory{},
		N:          4,
		Seed:       sim.SeedFromUint64(42),
		FirstEpoch: 1,
		Epochs:     3,
		Contribution: func(node int, epoch uint64) []byte {
			return []byte(fmt.Sprintf("batch of node %d for epoch %d", node, epoch))
		},
		Delay:         sim.Exponential{Min: sim.Millisecond, Mean: 20 * sim.Millisecond},
		DuplicateProb: 0.1,
		Partitions:    []sim.Partition{{Isolated: []int{0}, Start: 0, Heal: 300 * sim.Millisecond}},
		Behaviours:    behaviours,
	})
	fmt.Println(r.Reason)
	for _, i := range r.Honest() {
		fmt.Printf("node %d decided %d epochs\n", i, len(r.Nodes[i].Decisions))
	}
	// Output:
	// done
	// node 0 decided 3 epochs
	// node 1 decided 3 epochs
	// node 2 decided 3 epochs
}
