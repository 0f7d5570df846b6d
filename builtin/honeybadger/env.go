package honeybadger

import "github.com/constellation-chain/constellation/interfaces"

// protoEnv is what the sub-protocols (RBC, ABA) need from their epoch: a
// way to send and a way to report provable faults. Members are named by
// their index in the sorted member list. Sending never delivers to self;
// each sub-protocol records its own messages directly.
type protoEnv interface {
	// broadcast sends m to every other member, encoded once.
	broadcast(m *Message)
	// send sends m to member to only.
	send(to int, m *Message)
	// fault reports that member from broke the protocol; m is the offending
	// message, kept as evidence.
	fault(from int, kind interfaces.FaultKind, m *Message)
	// equivocation reports that member from sent first and then the
	// conflicting second; both are kept as evidence.
	equivocation(from int, first, second *Message)
}

// coinSource is the common coin of the agreement instances, named by
// epoch, instance (proposer) and round. Rounds whose coin is known in advance (the fixed schedule, or
// the benchmark-only deterministic coin) need no shares.
type coinSource interface {
	// fixed returns the coin of round r if it is known without shares.
	fixed(epoch uint64, inst, r uint32) (bit uint8, ok bool)
	// share returns this member's encoded coin share for round r.
	share(epoch uint64, inst, r uint32) ([]byte, error)
	// combine turns at least f+1 encoded shares (keyed by member index) into
	// the coin. bad names members whose shares were invalid; err is non-nil
	// when no coin could be formed from the valid ones.
	combine(epoch uint64, inst, r uint32, shares map[int][]byte) (bit uint8, bad []int, err error)
}
