// Package repsim is the reputation attack-resistance simulation behind
// `constellation sim reputation`.
//
// It drives a reputation plugin (any interfaces.ReputationFactory; the
// Proof-of-Meme built-in in practice) through a synthetic chain of rounds —
// select a committee from a beacon seed, simulate the epoch with honest and
// Byzantine delegates, feed the resulting interfaces.Observation back with
// Observe — and measures how many seats attackers win under seven attack
// scenarios. Two baselines implemented here, uniform random and
// stake-weighted selection, face the same scenarios. Results come back as a
// Report that renders as a markdown table (Markdown) and as PNG line plots
// drawn with the standard library only (WritePlot).
//
// The package sits outside the data flow of a running node: it depends on
// interfaces and the standard library only, never on builtin/ or
// framework/, so it judges a plugin through its public interface exactly as
// the kernel would use it.
//
// Determinism: a Run with the same Params gives the same Report. Every run
// (scenario, Byzantine share, committee size, seed, method) draws its
// environment from math/rand/v2 PCG streams keyed by the seed and the
// round, beacons are sha256 of the seed and the round, and runs executed in
// parallel write only their own result slot.
package repsim
