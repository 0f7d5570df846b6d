// Package ledger is the kernel's pure validation and state-transition logic
// for HyloChain blocks. It sits between consensus and storage in the data
// flow: consensus decides an ordered list of transactions, a Builder checks
// each one against the ExtendedTrustChain rules (signature, per-star sequence
// and previous-hash link, replay, double spend, balance) and folds the
// accepted ones into the next block plus the state Changes that the store
// commits together with it. Replay re-derives the same state from genesis,
// which is how crash recovery and catch-up are verified.
//
// The package performs no I/O, reads no clock and starts no goroutines. Its
// results depend only on its inputs, so every honest node that applies the
// same decided transactions to the same parent state builds the same block,
// byte for byte.
//
// # State commitment
//
// A block's StateRoot is a chained commitment to state changes, not a Merkle
// state tree: StateRoot(n) = H(StateRoot(n-1) || Changes(n)), where Changes(n)
// lists the new balances and chain heads of every star block n touched, in
// sorted order, and the ids of the transactions it applied. Two nodes agree on
// StateRoot(n) exactly when they agree on the whole history of state changes
// up to n. It does not allow proving one account's balance to a light client;
// a sparse Merkle tree can replace it later behind the same header field.
package ledger
