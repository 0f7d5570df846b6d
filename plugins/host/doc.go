// Package host is the kernel's side of the plugin RPC: it starts a plugin
// binary named in the manifest, checks it, and hands the kernel a factory
// that implements the same interfaces a builtin does, so external and
// built-in plugins go through one catalog and one configure path.
//
// Load refuses a binary without a sha256 checksum unless Dev is set, checks
// the checksum through go-plugin's SecureConfig (with sha256-simd), turns
// on automatic mutual TLS, re-logs the plugin's hclog JSON under a logger
// named after the plugin, and verifies the plugin's self-description (kind,
// API versions) before anything else is called.
//
// Faults of the plugin never panic the host. An answer that does not decode
// or breaks the interface's rules (a star id of the wrong length, a
// selection that is not k sorted distinct candidates, decisions out of
// epoch order) is returned as an error wrapping ErrBadAnswer. A crash is
// reported as a *CrashError with the exit status and the tail of the
// plugin's stderr; where that is safe the process is restarted and every
// live instance rebuilt by replaying the inputs it had accepted (consensus,
// reputation and partitioners are deterministic state machines, contract
// runtimes are rebuilt from their deployments), at most MaxRestarts times.
package host
