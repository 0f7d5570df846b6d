// Package meme is Constellation's built-in reputation plugin: Proof-of-Meme.
//
// It sits between finalized blocks and delegate selection. The galaxy feeds
// it one interfaces.Observation per finalized block (who was a delegate,
// whose contribution was included, latency, provable faults and the
// finalized transactions as interaction edges); it keeps a feature vector
// per star — the star's meme, an ontology in the spirit of REGRET (Sabater &
// Sierra, AAMAS 2001) — turns it into a fixed-point score, and draws the
// next delegates from score buckets seeded by the hash of the galaxy's
// threshold signature. The transaction pool orders senders by Priority.
//
// Its parts, each documented where it is implemented:
//
//   - features.go: the meme (ontology of features) and how an Observation
//     updates it, including GURU/ReCon-style validation feedback (Biryukov,
//     Feher, Khovratovich, eprint 2017/671): slow gain for a delegate of a
//     decisive correct epoch, an immediate hard dock on a provable fault,
//     per-round decay, newcomers at the minimum.
//   - tpr.go: Temporal PageRank (Rozenshtein & Gionis, ECML-PKDD 2016), the
//     streaming update over time-ordered interaction edges, in fixed point.
//   - flow.go: NetFlow-style Sybil capping (Otte, de Vos, Pouwelse,
//     "TrustChain", FGCS 2020): interaction credit is bounded by max-flow
//     from the evaluators (Dinic over sorted adjacency, bounded work).
//   - score.go: the weighted score model with diminishing returns.
//   - select.go: bucketed, seeded selection with a newcomer quota and a
//     sha256 counter-mode DRBG, capped so that no star's chance of a seat
//     exceeds seat_cap/M (by default the draw is uniform among the stars
//     in good standing, which a perfect sleeper cannot exploit).
//   - snapshot.go: the canonical versioned snapshot encoding.
//
// Determinism: every value that affects a score or a selection is an
// integer or fixed point with unit interfaces.ScoreOne (1e9); config
// decimals are parsed exactly into that unit; every iteration over stars or
// edges is in sorted order; nothing reads a clock or starts a goroutine. A
// *Reputation is not safe for concurrent use: the host calls it from one
// goroutine, as interfaces.Reputation requires.
//
// docs/reputation.md describes the ontology, formulas, parameters and the
// selection procedure for operators and plugin authors.
package meme
