package manifest

import (
	_ "embed"

	"github.com/hashicorp/hcl/v2"
)

// DefaultFilename is the name the embedded default manifest is parsed
// under, and the name diagnostics about it carry.
const DefaultFilename = "default.hcl"

//go:embed default.hcl
var defaultSource []byte

// Default returns the source of the embedded default manifest: an
// eight-node development network on 127.0.0.1, two Star Clusters of four
// HoneyBadger delegates under a galaxy of four of them, which `make run`
// uses. The caller owns the returned slice.
func Default() []byte { return append([]byte(nil), defaultSource...) }

// ParseDefault parses the embedded default manifest. Its key_file paths are
// left relative; call ResolvePaths with the data directory.
func ParseDefault() (*Manifest, hcl.Diagnostics) { return Parse(DefaultFilename, Default()) }

// SoloFilename is the name the embedded single-node development manifest
// is parsed under.
const SoloFilename = "solo.hcl"

//go:embed solo.hcl
var soloSource []byte

// Solo returns the source of the embedded single-node development chain
// (`constellation testnet --solo`): one star on the solo engine. The
// caller owns the returned slice.
func Solo() []byte { return append([]byte(nil), soloSource...) }

// ParseSolo parses the embedded single-node manifest. Its key_file paths
// are left relative; call ResolvePaths with the data directory.
func ParseSolo() (*Manifest, hcl.Diagnostics) { return Parse(SoloFilename, Solo()) }
