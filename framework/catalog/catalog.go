// Package catalog is the kernel's plugin registry. Built-in plugins register
// here by kind and name; external plugin binaries named in a manifest are
// started through the same Open path, so the node never cares which kind of
// plugin it is talking to. It sits between the manifest (which names plugins)
// and node assembly (which uses their factories).
package catalog

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/hashicorp/hcl/v2"

	"github.com/constellation-chain/constellation/framework/manifest"
	"github.com/constellation-chain/constellation/interfaces"
)

// ExternalLoader starts an external plugin binary for decl and returns its
// factory (implementing the kind's factory interface) and what stops it.
type ExternalLoader func(decl *manifest.PluginDecl) (interfaces.Plugin, io.Closer, error)

// Catalog holds the built-in plugins and the loader for external ones. It is
// read-only after New and safe for concurrent use.
type Catalog struct {
	builtins   map[interfaces.Kind]map[string]interfaces.Plugin
	external   ExternalLoader
	checkFiles bool
}

// CheckingFiles makes Open check, before starting anything, that every
// external plugin's binary exists and is executable
// (manifest.CheckPluginFiles), so a wrong path is an error at its line
// rather than a fork/exec failure. It returns c.
func (c *Catalog) CheckingFiles() *Catalog {
	c.checkFiles = true
	return c
}

// New registers builtins. Each must describe itself validly, implement its
// kind's factory interface, and have a unique kind and name.
func New(external ExternalLoader, builtins ...interfaces.Plugin) (*Catalog, error) {
	c := &Catalog{builtins: map[interfaces.Kind]map[string]interfaces.Plugin{}, external: external}
	for _, p := range builtins {
		info := p.Info()
		if err := info.Validate(); err != nil {
			return nil, fmt.Errorf("register builtin: %w", err)
		}
		if err := CheckFactory(info.Kind, p); err != nil {
			return nil, fmt.Errorf("register builtin %s/%s: %w", info.Kind, info.Name, err)
		}
		byName := c.builtins[info.Kind]
		if byName == nil {
			byName = map[string]interfaces.Plugin{}
			c.builtins[info.Kind] = byName
		}
		if _, dup := byName[info.Name]; dup {
			return nil, fmt.Errorf("register builtin %s/%s: registered twice", info.Kind, info.Name)
		}
		byName[info.Name] = p
	}
	return c, nil
}

// CheckFactory reports whether p implements the factory interface of kind.
func CheckFactory(kind interfaces.Kind, p interfaces.Plugin) error {
	var ok bool
	switch kind {
	case interfaces.KindConsensus:
		_, ok = p.(interfaces.ConsensusFactory)
	case interfaces.KindReputation:
		_, ok = p.(interfaces.ReputationFactory)
	case interfaces.KindPartitioner:
		_, ok = p.(interfaces.PartitionerFactory)
	case interfaces.KindContracts:
		_, ok = p.(interfaces.ContractsFactory)
	case interfaces.KindTransport:
		_, ok = p.(interfaces.TransportFactory)
	default:
		return fmt.Errorf("unknown plugin kind %q", kind)
	}
	if !ok {
		return fmt.Errorf("does not implement the %s factory interface", kind)
	}
	return nil
}

// Builtin returns the built-in plugin of kind and name.
func (c *Catalog) Builtin(kind interfaces.Kind, name string) (interfaces.Plugin, bool) {
	p, ok := c.builtins[kind][name]
	return p, ok
}

// Lookup returns a builtin's description, with the host's consensus
// settings added to a consensus plugin's schema; it is manifest.Check's
// lookup.
func (c *Catalog) Lookup(kind interfaces.Kind, name string) (interfaces.PluginInfo, bool) {
	p, ok := c.Builtin(kind, name)
	if !ok {
		return interfaces.PluginInfo{}, false
	}
	return withHostFields(p.Info()), true
}

// Known lists the builtin names of kind, sorted.
func (c *Catalog) Known(kind interfaces.Kind) []string {
	var out []string
	for name := range c.builtins[kind] {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// All returns every builtin sorted by kind and name.
func (c *Catalog) All() []interfaces.Plugin {
	var out []interfaces.Plugin
	for _, k := range interfaces.Kinds {
		for _, name := range c.Known(k) {
			out = append(out, c.builtins[k][name])
		}
	}
	return out
}

// Loaded is one plugin ready for use: its factory, its validated config as
// JSON, and what to close when the node stops.
type Loaded struct {
	Decl   *manifest.PluginDecl
	Plugin interfaces.Plugin
	Info   interfaces.PluginInfo
	Params []byte
	// HostParams holds the kernel's own settings from a consensus plugin's
	// config block (HostConsensusFields), as JSON.
	HostParams []byte
	closer     io.Closer
}

// Set is every plugin a manifest names, opened.
type Set struct {
	Plugins []*Loaded
}

// Of returns the loaded plugins of kind in manifest order.
func (s *Set) Of(kind interfaces.Kind) []*Loaded {
	var out []*Loaded
	for _, l := range s.Plugins {
		if l.Info.Kind == kind {
			out = append(out, l)
		}
	}
	return out
}

// One returns the single plugin of kind, or nil if none is declared.
func (s *Set) One(kind interfaces.Kind) *Loaded {
	if l := s.Of(kind); len(l) > 0 {
		return l[0]
	}
	return nil
}

// Close stops every external plugin. It is safe to call more than once.
func (s *Set) Close() error {
	var first error
	for _, l := range s.Plugins {
		if l.closer != nil {
			if err := l.closer.Close(); err != nil && first == nil {
				first = err
			}
			l.closer = nil
		}
	}
	return first
}

// Open resolves every plugin m declares, builtin or external, through one
// path: find the factory, check it implements its kind, and decode the
// manifest's config block against the schema the plugin itself declares.
// Every problem is a diagnostic at the declaration's source range.
func (c *Catalog) Open(m *manifest.Manifest) (*Set, hcl.Diagnostics) {
	if c.checkFiles {
		if d := m.CheckPluginFiles(); d.HasErrors() {
			return nil, d // before anything starts: no fork/exec error later
		}
	}
	set := &Set{}
	var diags hcl.Diagnostics
	for _, decl := range m.Plugins {
		l, ds := c.open(decl)
		diags = append(diags, ds...)
		if l != nil {
			set.Plugins = append(set.Plugins, l)
		}
	}
	diags = append(diags, checkLearner(m, set)...)
	if diags.HasErrors() {
		set.Close()
		return nil, diags
	}
	return set, diags
}

// checkLearner refuses a partitioner configured to learn placement in a
// network without a galaxy, which is the only thing that runs the learner:
// the setting would do nothing.
func checkLearner(m *manifest.Manifest, set *Set) hcl.Diagnostics {
	if m.HasGalaxy() {
		return nil
	}
	l := set.One(interfaces.KindPartitioner)
	if l == nil {
		return nil
	}
	f, ok := l.Plugin.(interfaces.PartitionerFactory)
	if !ok {
		return nil
	}
	p, err := f.NewPartitioner(1, l.Params)
	if err != nil {
		return nil // reported when the node starts it
	}
	if lp, ok := p.(interface {
		Learner() interfaces.PlacementLearner
	}); !ok || lp.Learner() == nil {
		return nil
	}
	subject := l.Decl.DeclRange
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Placement learning needs a galaxy",
		Detail:   fmt.Sprintf("The partitioner %q is configured to learn locality, but this network has no node with the galaxy role, which is what runs the learner and publishes account moves. Remove the setting (placement = \"hash\") or add a galaxy.", l.Info.Name),
		Subject:  &subject,
	}}
}

func (c *Catalog) open(decl *manifest.PluginDecl) (*Loaded, hcl.Diagnostics) {
	subject := decl.DeclRange
	l := &Loaded{Decl: decl}
	if decl.Builtin {
		p, ok := c.Builtin(decl.Kind, decl.Name)
		if !ok {
			return nil, hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("No builtin %s plugin named %q", decl.Kind, decl.Name),
				Detail:   fmt.Sprintf("The builtin %s plugins are: %v. For an external plugin, give path and sha256 instead of source = \"builtin\".", decl.Kind, c.Known(decl.Kind)),
				Subject:  &subject,
			}}
		}
		l.Plugin = p
	} else {
		if c.external == nil {
			return nil, hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "External plugins are not available here",
				Detail:   fmt.Sprintf("Plugin %s/%s names a binary, but this command cannot start external plugins.", decl.Kind, decl.Name),
				Subject:  &subject,
			}}
		}
		p, closer, err := c.external(decl)
		if err != nil {
			return nil, hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Cannot start plugin %s/%s", decl.Kind, decl.Name),
				Detail:   err.Error(),
				Subject:  &subject,
			}}
		}
		l.Plugin, l.closer = p, closer
	}
	l.Info = l.Plugin.Info()
	var err error
	fail := func(summary, detail string) (*Loaded, hcl.Diagnostics) {
		if l.closer != nil {
			l.closer.Close()
		}
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: &subject}}
	}
	if l.Info.Kind != decl.Kind {
		return fail("Plugin is of another kind", fmt.Sprintf("The manifest declares %s/%s, but the plugin says it is a %s plugin.", decl.Kind, decl.Name, l.Info.Kind))
	}
	if err := CheckFactory(decl.Kind, l.Plugin); err != nil {
		return fail("Plugin does not implement its kind", err.Error())
	}
	params, diags := manifest.DecodeConfig(decl, withHostFields(l.Info))
	if diags.HasErrors() {
		if l.closer != nil {
			l.closer.Close()
		}
		return nil, diags
	}
	l.Params, l.HostParams, err = splitHostParams(params, l.Info)
	if err != nil {
		return fail("Cannot read the decoded config", err.Error())
	}
	return l, diags
}

// splitHostParams separates the host's consensus settings from the
// plugin's own config, so the plugin sees only fields it declared.
func splitHostParams(params []byte, info interfaces.PluginInfo) (own, host []byte, err error) {
	if info.Kind != interfaces.KindConsensus {
		return params, []byte("{}"), nil
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(params, &all); err != nil {
		return nil, nil, err
	}
	h := map[string]json.RawMessage{}
	for _, f := range HostConsensusFields {
		v, ok := all[f.Name]
		if !ok {
			continue
		}
		h[f.Name] = v
		declared := false
		for _, pf := range info.Config {
			declared = declared || pf.Name == f.Name
		}
		if !declared {
			delete(all, f.Name)
		}
	}
	if own, err = json.Marshal(all); err != nil {
		return nil, nil, err
	}
	if host, err = json.Marshal(h); err != nil {
		return nil, nil, err
	}
	return own, host, nil
}

// HostConsensusFields are settings of the node runtime that every consensus
// plugin's config block accepts, whether or not the engine declares them:
// how many transactions an epoch carries and how long the node waits
// between proposals when its pool is not full.
var HostConsensusFields = []interfaces.ConfigField{
	{Name: "batch_size", Type: interfaces.ConfigNumber, Default: "1000",
		Doc: "B: transactions per epoch across all members; each member proposes about B/N"},
	{Name: "block_interval_ms", Type: interfaces.ConfigNumber, Default: "500",
		Doc: "how long a member waits between proposals when fewer than B/N transactions wait"},
}

// withHostFields adds HostConsensusFields to a consensus plugin's schema
// (a field the plugin declares itself keeps the plugin's definition).
func withHostFields(info interfaces.PluginInfo) interfaces.PluginInfo {
	if info.Kind != interfaces.KindConsensus {
		return info
	}
	out := info
	out.Config = append([]interfaces.ConfigField(nil), info.Config...)
	for _, h := range HostConsensusFields {
		declared := false
		for _, f := range info.Config {
			declared = declared || f.Name == h.Name
		}
		if !declared {
			out.Config = append(out.Config, h)
		}
	}
	return out
}
