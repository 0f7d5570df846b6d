// Package plugins is the go-plugin RPC layer of Constellation, plugin side:
// the handshake both sides share, the gRPC servers that expose a factory
// from the interfaces package, and the one-call SDK for plugin authors
// (Serve, ServeConsensus, ServeReputation, ServePartitioner), and
// ServeContract, which serves one smart contract (plugins/contract wraps it).
//
// In the data flow it sits between the kernel and a plugin binary: the
// kernel loads a binary through plugins/host, which starts it as a child
// process, checks its checksum, negotiates this handshake over gRPC with
// automatic mutual TLS, and then drives the factory through the services in
// plugins/proto. Values that are hashed (transactions, blocks, block
// metadata) cross the wire in their canonical interfaces encodings.
//
// A plugin binary is a main package calling one Serve function:
//
//	func main() { plugins.ServeReputation(myFactory{}) }
//
// The plugin logs hclog JSON to stderr (see Logger); the host re-logs each
// line under a logger named after the plugin. Setting
// CONSTELLATION_PLUGIN_DEBUG=1 serves in go-plugin's reattach mode and
// prints a CONSTELLATION_PLUGIN_REATTACH line, so the plugin can run under a
// debugger and the host attach to it (docs/plugin-authors.md).
package plugins
