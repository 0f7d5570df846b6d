// Package sim is the deterministic network simulator that every consensus
// test in Constellation stands on. It drives N interfaces.Consensus state
// machines, built from one interfaces.ConsensusFactory, over an in-memory
// network with virtual time: no goroutines, no wall clock, no sockets.
//
// One seeded random generator (math/rand/v2 ChaCha8) decides everything the
// network does: each message's delay (a pluggable Delay distribution, so
// messages are reordered), whether it is duplicated, which messages a
// partition holds back until it heals, when nodes crash and restart, and the
// choices of Byzantine Behaviours. The same Config therefore gives the same
// run bit for bit; Result.Digest (a hash over every delivered message,
// decision and fault, in order) lets a test check that.
//
// The simulator plays the host's part exactly as the node runtime does: it
// records every input of a node (Propose and Step) in a per-node log before
// acting on the output, and a restarted node is a fresh instance from the
// factory fed that log, with the outputs produced during replay discarded
// (they were already sent). Messages addressed to a crashed node wait for its
// restart: the model is asynchronous, every message is eventually delivered.
//
// Where it sits: conformance's consensus suite (conformance.RunConsensus)
// builds its scenarios on Run, and engine authors may use Run directly for
// their own Byzantine scenarios through the public Behaviour interface.
package sim
