// Package conformance holds the suites every implementation of a plugin kind
// must pass, written once and run three ways: as a Go library from a
// plugin author's own tests (RunConsensus(t, factory) and its siblings), by
// the `constellation conformance` command against a plugin binary, and
// against the recorded vectors under testdata/.
//
// The suites are written against TB, the part of testing.TB they need, so
// the same cases run under `go test` and under the CLI's Runner. Capabilities
// a plugin does not claim are skipped visibly, with the capability named.
package conformance
