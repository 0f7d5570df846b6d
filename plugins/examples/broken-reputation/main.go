// Command broken-reputation is a deliberately broken reputation plugin: it
// exists to show how `constellation conformance` reports violations. See
// reputation.go for the bugs and docs/plugin-authors.md for the workflow.
package main

import "github.com/constellation-chain/constellation/plugins"

func main() { plugins.ServeReputation(Factory{}) }
