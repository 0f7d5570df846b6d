// Package repsim is the reputation attack-resistance simulation behind
// `constellation sim reputation`.
//
// It drives a reputation plugin (any interfaces.ReputationFactory; the
// Proof-of-Meme built-in in practice) through a synthetic chain of rounds —
// select a committee from a beacon seed, simulate the epoch with honest and
// Byzantine delegates, feed the resulting interfaces.Observation back with
// Observe — and measures how many seats attackers win, and in how many
// rounds they hold a third of a committee, under eleven attack scenarios.
// Two baselines implemented here, uniform random and stake-weighted
// selection, face the same scenarios. Capture is always reported as
// observed, with an exact (Clopper–Pearson) interval, next to the
// hypergeometric value that holds for uniform draws only (stats.go).
// Results come back as a Report that renders as markdown tables (Markdown,
// TargetsMarkdown, CaptureByK) and as PNG plots drawn with the standard
// library only (WritePlot, WriteCapturePlot).
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
