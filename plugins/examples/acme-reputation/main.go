// Command acme-reputation is an example third-party reputation plugin for
// Constellation, in its own Go module. Build it, record its sha256 in the
// manifest, and the node runs it as a child process; check it with
//
//	constellation conformance --kind reputation --plugin ./acme-reputation --dev
//
// See docs/plugin-authors.md.
package main

import "github.com/constellation-chain/constellation/plugins"

func main() { plugins.ServeReputation(Factory{}) }
