// Package bench is the consensus benchmark harness behind
// `constellation bench consensus` and docs/benchmarks.md.
//
// # Where it sits
//
// It drives N instances of any interfaces.ConsensusFactory — a builtin in
// process, or a plugin served by a child process through plugins/host —
// inside one Go process, playing the host's part for each: it keeps a
// transaction pool per member, samples the member's contribution from it,
// delivers messages through an in-memory transport, checks that every
// honest member decides the same thing in every epoch, verifies the decided
// transactions' signatures as a node's kernel would, and measures
// throughput, latency, traffic and CPU. It imports nothing but interfaces,
// so it measures an engine only through the plugin interface.
//
// # The definition
//
//   - One process holds all N members; the command sets GOMAXPROCS=2.
//   - The transport is a queue drawn from in a seeded random order: every
//     message is copied to bytes per recipient (a broadcast becomes N−1
//     copies) and its payload bytes counted. Nothing sleeps; the engines
//     are stepped from one goroutine.
//   - Transactions are 250 bytes of random data. Unsigned mode (mode A)
//     proposes them raw, concatenated. Signed mode (modes B and C) wraps
//     each in an ed25519-signed interfaces.Transaction of kind TxData
//     whose payload pads the encoding to 250 bytes, proposes an
//     interfaces.TxBatch, and every honest member decodes every decided
//     batch and checks every signature (interfaces.Transaction
//     VerifySignatures) on a pool of GOMAXPROCS verifier goroutines, as a
//     host applying blocks would. That CPU is part of the measurement.
//   - Each member proposes B/N transactions per epoch (Config.TxPerNode),
//     a uniformly random sample of its pool (HoneyBadgerBFT's sampling),
//     and refills its pool to 3×B/N afterwards. Pools are disjoint (a
//     client submits a transaction to one member); a sample that was not
//     committed stays in the pool and may be proposed again, so the count
//     is of unique committed transactions, deduplicated by hash.
//   - Members propose epoch e+1 when they have decided epoch e. The first
//     Config.Warmup epochs are not measured; the next Config.Measured are.
//   - Silent members (mode C) have no engine: they never send, and what
//     is sent to them is counted and dropped.
//
// # What is measured
//
// The measured window opens at the first Propose of the first measured
// epoch and closes when every honest member has decided (and, in signed
// mode, verified) the last one. Within it: unique committed tx/s, wall ms
// per epoch, messages and payload bytes sent per epoch, and process CPU
// seconds per epoch (getrusage; plus Config.ExtraCPU, which the command
// uses for a plugin's child process). The latency of an epoch runs from
// its first Propose to the moment the last honest member has decided (and
// verified) it; p50 and p99 are nearest-rank over the measured epochs.
// Transaction generation (signing included, which is the clients' work)
// is done before the window when it fits in memory and otherwise
// subtracted from wall and CPU time.
//
// The harness fails loudly — Run returns an error — when honest members
// disagree on an epoch, decide epochs out of order, stall, or decide a
// transaction whose signature does not verify. It never asserts timings.
package bench
