// Package scalesim is the scaling experiment behind `constellation sim
// scaling`: aggregate throughput against population for Star Clusters under
// a galaxy, compared with one flat cluster of the same population (the
// whitepaper's Figure 5), in virtual time.
//
// The real consensus engine (any interfaces.ConsensusFactory; the built-in
// HoneyBadger in practice) runs on the deterministic simulator
// (conformance/sim) with a cost model (sim.Costs): every node is one CPU,
// every engine call costs what a Meter counts priced by CPU (costs taken
// from this machine's benchmarks), and every message crosses a link with a
// stated latency and uplink bandwidth (Link). Three kinds of group run:
//
//   - clusters: a fixed number of delegates ordering opaque transactions;
//     each decided epoch becomes a checkpoint once f+1 delegates have
//     signed it;
//   - the galaxy: a group of the same engine whose contributions are the
//     clusters' checkpoints as they arrive, sampled the way the kernel's
//     group samples its pool, paying for each checkpoint's certificate and
//     threshold-signing each black hole;
//   - flat clusters of growing size, the comparison, simulated up to the
//     size that fits the CPU budget and extrapolated beyond it by a fitted
//     model of epoch time (Fit).
//
// Clusters share nothing but the galaxy, so the cluster tier of a
// configuration with k clusters is k independent cluster runs; the
// experiment simulates Params.ClusterRuns distinct ones and gives cluster i
// of a configuration run i mod ClusterRuns, shifted by a seeded phase.
// Every galaxy run is its own simulation over exactly the checkpoint
// streams of its configuration.
//
// The package sits outside a node's data flow and depends on interfaces
// and conformance/sim only: the engine's wire format is known only to the
// Meter the caller supplies (cmd/constellation has HoneyBadger's).
//
// Determinism: the same Params give the same Report. Every run draws from
// ChaCha8 streams keyed by Params.Seed and the run's role; runs executed in
// parallel write only their own result slot.
package scalesim
