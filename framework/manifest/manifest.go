package manifest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/constellation-chain/constellation/interfaces"
)

// MaxManifestSize bounds the size of a manifest source. Real manifests are a
// few kilobytes; the bound keeps a hostile or mistaken file (a log, a binary)
// from being parsed at all.
const MaxManifestSize = 1 << 20

// Node roles. A node may hold several.
const (
	RoleStar    = "star"    // holds a key, sends transactions, keeps the ledger
	RoleCluster = "cluster" // a delegate of its Star Cluster (the node's `cluster`)
	RoleGalaxy  = "galaxy"  // a member of the galaxy, which orders checkpoints into black holes
	// RoleCandidate keeps its Star Cluster's chain (the node's `cluster`)
	// with no genesis seat or key share, and stands for the cluster's
	// seats once it has caught up; a rotation may draw it.
	RoleCandidate = "candidate"
	// RoleGalaxyCandidate keeps the galaxy's chain with no genesis seat
	// or key share, and stands for the galaxy once it has caught up; a
	// galaxy rotation may draw it (docs/hierarchy.md, galaxy rotation).
	RoleGalaxyCandidate = "galaxy-candidate"
)

// Roles lists the known node roles in a fixed order.
var Roles = []string{RoleStar, RoleCluster, RoleGalaxy, RoleCandidate, RoleGalaxyCandidate}

// KeepsGalaxy reports whether the node keeps the galaxy's chain: a member
// or a candidate.
func (n *Node) KeepsGalaxy() bool { return n.HasRole(RoleGalaxy) || n.HasRole(RoleGalaxyCandidate) }

// KeepsCluster reports whether the node keeps its cluster's chain: a
// delegate or a candidate.
func (n *Node) KeepsCluster() bool { return n.HasRole(RoleCluster) || n.HasRole(RoleCandidate) }

// MaxClusters bounds the number of Star Clusters of one network.
const MaxClusters = 1024

// MaxSeedLen bounds the genesis seed, in bytes. It equals the ledger's
// own bound (framework/ledger.MaxSeedLen), so a manifest that loads also
// makes a valid genesis.
const MaxSeedLen = 4096

// Manifest is a parsed, validated manifest. It is a plain value: the loader
// hands it to the caller and keeps no reference; callers may read it from
// several goroutines but must not mutate it concurrently.
type Manifest struct {
	// Filename is the name the source was parsed under; diagnostics use it.
	Filename string
	// Dir is the directory relative paths were resolved against (absolute),
	// or "" if they were left as written (Parse without ResolvePaths).
	Dir     string
	Network Network
	// Nodes in source order.
	Nodes []Node
	// Plugins in source order.
	Plugins []*PluginDecl
	// Files holds the parsed source by filename, for WriteDiagnostics.
	Files map[string]*hcl.File
}

// Network is the `network "<name>" { }` block.
type Network struct {
	Name string
	// Dev marks a development network: "dev:<name>" star ids, whose private
	// keys anyone can derive, are allowed in its genesis. It is set by
	// `dev = true`, and defaults to true when the network name starts with
	// "dev" (devnet, dev-local, …).
	Dev       bool
	Genesis   Genesis
	DeclRange hcl.Range
}

// Genesis is the `genesis { }` block: what the first ledger state holds.
type Genesis struct {
	// Seed is the genesis value: the first entry of the first block.
	Seed string
	// Timestamp is the genesis time in unix milliseconds (0 if unset).
	Timestamp int64
	// Allocations of the native token (noOs), in source order. Stars are
	// distinct and the amounts are positive and sum to at most 2^64-1.
	Allocations []Allocation
	// Mint is the `mint { }` block; zero when there is none (nothing is
	// ever minted).
	Mint Mint
	// Rotation is the `rotation { }` block; zero when there is none (the
	// genesis delegates keep their seats and their dealt keys).
	Rotation Rotation
}

// Rotation is how the Star Clusters' delegates rotate: every Every black
// holes each cluster takes the delegate set the beacon published for it,
// whose members generate their keys without a dealer. It needs a galaxy.
type Rotation struct {
	Every uint64
	// Seats is how many delegates each cluster draws at a rotation (all
	// its candidates when fewer stand); 0: as many as its genesis
	// delegates.
	Seats uint64
	// MaxCandidates, when not 0, is how many candidates a cluster may
	// hold: at a rotation each cluster with more splits, and a new
	// cluster opens with half of them (docs/hierarchy.md). At least twice
	// Seats.
	MaxCandidates uint64
	// MinCandidates, when not 0, is how few candidates an opened cluster
	// may hold: at a rotation one with fewer merges back into the cluster
	// it split from (docs/hierarchy.md). From 1 to MaxCandidates/2.
	MinCandidates uint64
	Range         hcl.Range
}

// MaxSeats bounds a rotation block's seats.
const MaxSeats = 256

// DefaultRotationEvery is a rotation block's `every` when it names none.
const DefaultRotationEvery = 16

// Mint is how the galaxy mints noOs at each black hole: Reward noOs at
// black hole 1, halving every Halving black holes, none after black hole
// Until. It needs a galaxy.
type Mint struct {
	Reward, Halving, Until uint64
	Range                  hcl.Range
}

// Allocation is one `allocation { star = … amount = … }` block.
type Allocation struct {
	Star interfaces.StarID
	// StarText is the star as written ("ed25519:…" or "dev:<name>").
	StarText string
	Amount   uint64
	// Range is the allocation block's definition range.
	Range hcl.Range
}

// Node is one `node "<name>" { }` block.
type Node struct {
	Name    string
	KeyFile string // resolved against Manifest.Dir by LoadFile/ResolvePaths
	// Star is the node's public identity when the manifest states it
	// (needed when other machines hold the node's key file); zero if not.
	Star interfaces.StarID
	// ClusterKeyFile holds the node's share of its cluster's threshold keys
	// (written by `constellation keygen --cluster`), "" if not given;
	// resolved like KeyFile.
	ClusterKeyFile string
	// GalaxyKeyFile holds the node's share of the galaxy's threshold keys,
	// "" if not given; resolved like KeyFile.
	GalaxyKeyFile string
	// Cluster is the Star Cluster a node with the cluster role is a
	// delegate of (0 unless `cluster` says otherwise).
	Cluster   interfaces.ClusterID
	Listen    string // a multiaddr: /ip4|ip6|dns4|dns6|dns/<host>/tcp/<port>
	API       string // host:port of the node API, "" if not served
	Bootstrap []string
	Roles     []string // distinct, each one of Roles
	DeclRange hcl.Range
	// KeyFileRange and ListenRange locate the attributes, so that errors
	// found later (missing key file, address in use) can be reported at
	// the manifest line that caused them.
	KeyFileRange hcl.Range
	ListenRange  hcl.Range
}

// HasRole reports whether the node holds role r.
func (n *Node) HasRole(r string) bool {
	for _, x := range n.Roles {
		if x == r {
			return true
		}
	}
	return false
}

// Clusters returns the number of Star Clusters: one more than the highest
// `cluster` of a node with the cluster role (the loader checks that every
// cluster below it has a delegate), and 1 for a manifest with none.
func (m *Manifest) Clusters() int {
	k := 1
	for i := range m.Nodes {
		if n := &m.Nodes[i]; n.HasRole(RoleCluster) && int(n.Cluster)+1 > k {
			k = int(n.Cluster) + 1
		}
	}
	return k
}

// HasGalaxy reports whether some node holds the galaxy role: the network
// then runs the hierarchy (checkpoints, black holes, receipts).
func (m *Manifest) HasGalaxy() bool {
	for i := range m.Nodes {
		if m.Nodes[i].HasRole(RoleGalaxy) {
			return true
		}
	}
	return false
}

// PluginDecl is one `plugin "<kind>" "<name>" { }` block.
type PluginDecl struct {
	Kind interfaces.Kind
	Name string
	// Builtin is true for source = "builtin"; otherwise Path names the
	// external plugin binary.
	Builtin bool
	Path    string // resolved against Manifest.Dir by LoadFile/ResolvePaths
	// SHA256 is the expected checksum of the binary at Path (32 bytes), nil
	// if absent. The host refuses an external plugin without one unless it
	// runs in development mode (see RequireChecksums).
	SHA256 []byte
	// Config is the body of the `config { }` block, nil if there is none.
	// Decode it with DecodeConfig against the plugin's declared schema.
	Config    hcl.Body
	DeclRange hcl.Range
	// KindRange and NameRange locate the two labels; PathRange the path
	// attribute (or DeclRange if absent); ConfigRange the config block (or
	// DeclRange if absent).
	KindRange   hcl.Range
	NameRange   hcl.Range
	PathRange   hcl.Range
	ConfigRange hcl.Range
}

// String returns "kind/name".
func (p *PluginDecl) String() string { return string(p.Kind) + "/" + p.Name }

// PluginsOf returns the declarations of kind k in source order.
func (m *Manifest) PluginsOf(k interfaces.Kind) []*PluginDecl {
	var out []*PluginDecl
	for _, p := range m.Plugins {
		if p.Kind == k {
			out = append(out, p)
		}
	}
	return out
}

// Node returns the node named name.
func (m *Manifest) Node(name string) (*Node, bool) {
	for i := range m.Nodes {
		if m.Nodes[i].Name == name {
			return &m.Nodes[i], true
		}
	}
	return nil, false
}

// ResolvePaths makes every relative key_file and plugin path absolute by
// joining it to dir, and records dir in m.Dir. Absolute paths are kept.
// LoadFile calls it with the manifest's directory; a caller that parsed the
// embedded default manifest calls it with its data directory.
func (m *Manifest) ResolvePaths(dir string) {
	m.Dir = dir
	for i := range m.Nodes {
		m.Nodes[i].KeyFile = resolve(dir, m.Nodes[i].KeyFile)
		if m.Nodes[i].ClusterKeyFile != "" {
			m.Nodes[i].ClusterKeyFile = resolve(dir, m.Nodes[i].ClusterKeyFile)
		}
		if m.Nodes[i].GalaxyKeyFile != "" {
			m.Nodes[i].GalaxyKeyFile = resolve(dir, m.Nodes[i].GalaxyKeyFile)
		}
	}
	for _, p := range m.Plugins {
		if !p.Builtin {
			p.Path = resolve(dir, p.Path)
		}
	}
}

func resolve(dir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// CheckPluginFiles reports, as errors at their path attribute, external
// plugins whose binary is missing, is a directory or is not executable:
// what would otherwise surface as a bare fork/exec error when the node
// starts. Paths must be resolved (LoadFile does it).
func (m *Manifest) CheckPluginFiles() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, p := range m.Plugins {
		if p.Builtin {
			continue
		}
		fi, err := os.Stat(p.Path)
		var problem string
		switch {
		case errors.Is(err, os.ErrNotExist):
			problem = "does not exist"
		case err != nil:
			problem = "cannot be read: " + err.Error()
		case fi.IsDir():
			problem = "is a directory, not a plugin binary"
		case fi.Mode()&0o111 == 0:
			problem = "is not executable (chmod +x it)"
		default:
			continue
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unusable plugin binary",
			Detail:   fmt.Sprintf("The %s plugin %q names the binary %s, which %s.", p.Kind, p.Name, p.Path, problem),
			Subject:  p.PathRange.Ptr(),
		})
	}
	return diags
}

// RequireChecksums reports, as errors, every external plugin declared
// without a sha256. The host calls it unless it runs in development mode
// (--dev), so that no unchecked binary is started by default.
func (m *Manifest) RequireChecksums() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, p := range m.Plugins {
		if p.Builtin || p.SHA256 != nil {
			continue
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "External plugin without a checksum",
			Detail: fmt.Sprintf("The %s plugin %q is an external binary but has no sha256. "+
				"Compute it with `sha256sum %s` and add sha256 = \"<64 hex digits>\" to the plugin block, "+
				"or run the node with --dev to accept unchecked plugins (development only).",
				p.Kind, p.Name, p.Path),
			Subject: p.PathRange.Ptr(),
		})
	}
	return diags
}

// Parse parses and validates manifest source. filename is used in
// diagnostics only; relative paths are left as written (see ResolvePaths).
//
// The returned Manifest is non-nil whenever the source could be lexed, so
// that its Files can be handed to WriteDiagnostics; its contents are only
// meaningful when !diags.HasErrors(). Diagnostics are sorted by position.
func Parse(filename string, src []byte) (*Manifest, hcl.Diagnostics) {
	start := hcl.Pos{Line: 1, Column: 1, Byte: 0}
	fileStart := hcl.Range{Filename: filename, Start: start, End: start}
	m := &Manifest{
		Filename: filename,
		// Until the parser has run, keep the raw bytes so that
		// diagnostics still get a snippet.
		Files: map[string]*hcl.File{filename: {Bytes: src}},
	}
	file, files, diags := parseSource(filename, src)
	if files[filename] != nil {
		m.Files = files
	}
	if diags.HasErrors() {
		return m, finish(diags, fileStart)
	}

	var raw rawFile
	diags = append(diags, gohcl.DecodeBody(file.Body, nil, &raw)...)
	explainUnsupported(diags, file.Body)
	missing := file.Body.MissingItemRange()
	diags = append(diags, m.build(&raw, missing)...)
	return m, finish(diags, fileStart)
}

// parseSource runs the checks that must precede evaluation (size, nesting
// and operator limits, syntax, constants only) and returns the parsed file
// and the parser's file map. It never evaluates an expression.
func parseSource(filename string, src []byte) (*hcl.File, map[string]*hcl.File, hcl.Diagnostics) {
	start := hcl.Pos{Line: 1, Column: 1, Byte: 0}
	fileStart := hcl.Range{Filename: filename, Start: start, End: start}
	if len(src) > MaxManifestSize {
		return nil, nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Manifest too large",
			Detail: fmt.Sprintf("The manifest is %d bytes; at most %d are accepted. "+
				"Check that the right file was given.", len(src), MaxManifestSize),
			Subject: &fileStart,
		}}
	}
	if diags := checkShape(filename, src); diags.HasErrors() {
		return nil, nil, firstSyntaxError(diags)
	}
	p := hclparse.NewParser()
	file, diags := p.ParseHCL(src, filename)
	if file == nil || diags.HasErrors() {
		return nil, p.Files(), firstSyntaxError(diags)
	}
	if cd := checkConstants(file.Body); cd.HasErrors() {
		return nil, p.Files(), append(diags, cd...)
	}
	return file, p.Files(), diags
}

// firstSyntaxError keeps the first syntax error of diags: after one (an
// unterminated string, a missing brace) the parser's later errors follow
// from it, and dozens of them bury the one to fix.
func firstSyntaxError(diags hcl.Diagnostics) hcl.Diagnostics {
	var first *hcl.Diagnostic
	n := 0
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			if first == nil {
				first = d
			}
			n++
		}
	}
	if first == nil || n == 1 {
		return diags
	}
	d := *first
	d.Detail = strings.TrimSpace(d.Detail + fmt.Sprintf(" (%d more syntax errors after this one are not shown: they most likely follow from it.)", n-1))
	return hcl.Diagnostics{&d}
}

// LoadFile reads and parses the manifest at path, then resolves relative
// key_file and plugin paths against the manifest's directory (made
// absolute). Like Parse, it returns a non-nil Manifest whenever the file
// could be read.
func LoadFile(path string) (*Manifest, hcl.Diagnostics) {
	start := hcl.Pos{Line: 1, Column: 1, Byte: 0}
	fileStart := hcl.Range{Filename: path, Start: start, End: start}
	src, err := readLimited(path)
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read manifest",
			Detail:   fmt.Sprintf("Reading the manifest failed: %v. Check the path and its permissions.", err),
			Subject:  &fileStart,
		}}
	}
	m, diags := Parse(path, src)
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Cannot resolve the manifest's directory",
			Detail:   fmt.Sprintf("Making %q absolute failed: %v; relative paths in the manifest cannot be resolved.", filepath.Dir(path), err),
			Subject:  &fileStart,
		})
		return m, diags
	}
	m.ResolvePaths(dir)
	return m, diags
}

var errTooLarge = errors.New("file too large")

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening manifest: %w", err)
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, MaxManifestSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading manifest %s: %w", path, err)
	}
	if len(src) > MaxManifestSize {
		return nil, fmt.Errorf("manifest %s is larger than %d bytes: %w", path, MaxManifestSize, errTooLarge)
	}
	return src, nil
}

// finish gives every diagnostic a subject (the file start if it had none)
// and sorts them by position, so that output is deterministic even though
// gohcl decodes fields in map order.
func finish(diags hcl.Diagnostics, fallback hcl.Range) hcl.Diagnostics {
	for _, d := range diags {
		if d.Subject == nil {
			r := fallback
			d.Subject = &r
		}
	}
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Subject, diags[j].Subject
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		return a.Start.Byte < b.Start.Byte
	})
	return diags
}
