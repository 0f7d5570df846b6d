package meme_test

import (
	"fmt"

	"github.com/constellation-chain/constellation/builtin/meme"
	"github.com/constellation-chain/constellation/interfaces"
)

// A star that served ten decisive epochs, then committed a provable fault:
// Explain shows where its score comes from and which bucket it fell into.
func ExampleReputation_Explain() {
	r := meme.New(meme.DefaultConfig())
	s := interfaces.DevStar("star-1")
	for i := range 10 {
		r.Observe(interfaces.Observation{Height: uint64(i + 1), Meta: interfaces.BlockMeta{
			Members: []interfaces.StarID{s}, Proposers: []interfaces.StarID{s}, LatencyMillis: []uint32{120},
		}})
	}
	before, priority := r.Explain(s), r.Priority(s)
	r.Observe(interfaces.Observation{Height: 11, Meta: interfaces.BlockMeta{
		Faults: []interfaces.Fault{{Star: s, Kind: interfaces.FaultEquivocation, Epoch: 11}},
	}})
	after := r.Explain(s)
	fmt.Println("before:", before.Score, before.BucketName, "priority", priority)
	fmt.Println("after: ", after.Score, after.BucketName, "priority", r.Priority(s))
	for _, f := range after.Features {
		fmt.Printf("  %-13s %10d\n", f.Name, f.Normalized)
	}
	// Output:
	// before: 320076112 b1 [0.2, 0.5) priority 320
	// after:  23890490 unreliable priority 23
	//   trust           18098734
	//   participation  330894608
	//   liveness       908178178
	//   latency        732401755
	//   uptime         330894608
	//   age             17807415
	//   resources              0
	//   interaction            0
}
