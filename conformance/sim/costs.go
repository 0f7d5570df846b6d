package sim

import (
	"math/rand/v2"

	"github.com/constellation-chain/constellation/interfaces"
)

// Costs models what running a node costs in virtual time, for experiments
// that measure throughput rather than check properties (the scaling
// experiment in conformance/scalesim). It is optional: with Config.Costs
// nil the simulator behaves exactly as without it. With Config.Costs set:
//
//   - every node is a single server. A call that starts at t and for which
//     Work returns w occupies the node until t+w; a message that arrives
//     while the node is busy waits in the node's inbox, first in first out,
//     and is handed to the engine when the node is free;
//   - the call's output leaves at t+w: its messages are handed to the
//     network then, its decisions are recorded at t+w, and the host's next
//     proposal (a call of its own, with its own cost) is made then;
//   - Wire replaces Delay for every message an engine sends. Delay still
//     times what the network does on its own: the redelivery of messages a
//     partition held back or a crashed node missed;
//   - nodes keep no input log unless Config.Crashes is set (only a restart
//     reads it), so long runs do not hold every message in memory.
//
// Both methods are called from the simulator's single loop in a
// deterministic order (Wire in the order the messages are sent), so an
// implementation may keep state, such as each link's queue, without locks.
// It must draw randomness only from the generator it is given, so a run
// stays a function of its seed.
type Costs interface {
	// Work returns the CPU time (>= 0) the node spent on one call: the
	// engine's own work and the host's around it (checking signatures,
	// applying a decision).
	Work(c Call) Time
	// Wire returns how long (>= 0) a message of size payload bytes, handed
	// to the network by node from at time at, takes to reach node to.
	Wire(from, to, size int, at Time, r *rand.Rand) Time
}

// Call is one engine call as Costs.Work sees it. Payload and Output belong
// to the simulator: Work may read them but must not keep or change them.
type Call struct {
	Node int
	// At is the virtual time the call started.
	At Time
	// Propose is true for Propose (Epoch is the epoch proposed to) and
	// false for Step (From is the sender's node index).
	Propose bool
	Epoch   uint64
	From    int
	// Payload is the contribution or the message the engine consumed.
	Payload []byte
	// Output is what the engine returned.
	Output interfaces.Output
}

// arrive hands a delivery to a node under Config.Costs: to the engine at
// once if the node is idle, else to the back of its inbox.
func (s *simulation) arrive(e *event) {
	n := s.nodes[e.node]
	if n.busy <= s.now && len(n.inbox) == 0 && !n.wake {
		s.deliver(e)
		return
	}
	n.inbox = append(n.inbox, e)
	if !n.wake {
		n.wake = true
		s.schedule(&event{at: max(n.busy, s.now), kind: evWake, node: n.idx})
	}
}

// wakeUp is a node becoming free under Config.Costs: the oldest message in
// its inbox goes to the engine, and the node wakes again when that call's
// work is done if more are waiting.
func (s *simulation) wakeUp(n *node) {
	n.wake = false
	if n.busy > s.now {
		// A proposal made the node busy after this wake-up was planned.
		n.wake = true
		s.schedule(&event{at: n.busy, kind: evWake, node: n.idx})
		return
	}
	if len(n.inbox) == 0 {
		return
	}
	e := n.inbox[0]
	n.inbox[0] = nil
	n.inbox = n.inbox[1:]
	s.deliver(e)
	if len(n.inbox) > 0 && !n.wake {
		n.wake = true
		s.schedule(&event{at: max(n.busy, s.now), kind: evWake, node: n.idx})
	}
}

// charge accounts for one call under Config.Costs: it moves the virtual
// time of the call's output to the end of its work and keeps the node busy
// until then.
func (s *simulation) charge(n *node, in logEntry, what input, out interfaces.Output) {
	c := Call{Node: n.idx, At: s.now, Propose: in.propose, Payload: in.payload, Output: out}
	if in.propose {
		c.Epoch = what.epoch
	} else {
		c.From = what.from
	}
	w := max(s.cfg.Costs.Work(c), 0)
	s.now += w
	n.busy = s.now
}
