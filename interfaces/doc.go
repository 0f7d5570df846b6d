// Package interfaces holds the contracts between the parts of a Constellation
// node: the core protocol types (hashes, star identities, transactions,
// blocks, envelopes) with their canonical binary encodings, and the Go
// interfaces that consensus, reputation, partitioning, contract and transport
// plugins implement.
//
// It sits below everything else in the data flow: the kernel (framework/),
// the built-in plugins (builtin/), the RPC layer (plugins/) and the
// conformance suites (conformance/) all speak these types. It performs no I/O
// and depends only on the standard library, a sha256 implementation and
// curve25519-voi (the transaction signature rule, txsig.go), so a
// third-party plugin can import it without pulling in the kernel.
package interfaces
