package interfaces

import (
	"fmt"
	"slices"
	"sort"
)

// Kind names what a plugin implements.
type Kind string

const (
	KindConsensus   Kind = "consensus"
	KindReputation  Kind = "reputation"
	KindPartitioner Kind = "partitioner"
	KindContracts   Kind = "contracts"
	KindTransport   Kind = "transport"
)

// Kinds lists every plugin kind in a fixed order.
var Kinds = []Kind{KindConsensus, KindReputation, KindPartitioner, KindContracts, KindTransport}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return slices.Contains(Kinds, k) }

// APIVersion is the newest version of these interfaces. Version 2 added
// what a group needs to make faults provable and to certify blocks:
// OutMessage.Epoch, FaultChecker and ThresholdSigner (and their RPCs).
const APIVersion = 2

// SupportedAPIVersions are the versions this node accepts from a plugin. A
// consensus plugin that speaks only version 1 still runs, but nothing it
// reports is provable (its faults never reach a block) and its group
// cannot threshold-sign.
var SupportedAPIVersions = []int{1, 2}

// Speaks reports whether the plugin speaks API version v.
func (p PluginInfo) Speaks(v int) bool { return slices.Contains(p.APIVersions, v) }

// Compatible reports whether the plugin speaks a version this node
// supports.
func (p PluginInfo) Compatible() bool { return slices.ContainsFunc(SupportedAPIVersions, p.Speaks) }

// ConfigType is the type of one field of a plugin's config block.
type ConfigType string

const (
	ConfigString     ConfigType = "string"
	ConfigNumber     ConfigType = "number" // decoded as a float64 or int64 by the plugin
	ConfigBool       ConfigType = "bool"
	ConfigStringList ConfigType = "list(string)"
	ConfigNumberList ConfigType = "list(number)"
)

// ConfigField describes one attribute of a plugin's `config { }` block. The
// kernel turns the list into an HCL schema and validates the manifest
// against it before the plugin is started.
type ConfigField struct {
	Name     string
	Type     ConfigType
	Required bool
	Default  string // JSON text of the default value; empty for none
	Doc      string
}

// PluginInfo is how a plugin describes itself, in process or over RPC.
type PluginInfo struct {
	Kind         Kind
	Name         string
	Version      string // semver of the implementation
	APIVersions  []int  // interface versions it speaks
	Capabilities []string
	Config       []ConfigField
}

// Has reports whether the plugin claims capability c.
func (p PluginInfo) Has(c string) bool { return slices.Contains(p.Capabilities, c) }

// Validate checks the description itself: known kind, a name, unique config
// field names of known types.
func (p PluginInfo) Validate() error {
	if !p.Kind.Valid() {
		return fmt.Errorf("plugin %q: unknown kind %q", p.Name, p.Kind)
	}
	if p.Name == "" {
		return fmt.Errorf("plugin of kind %s has no name", p.Kind)
	}
	if len(p.APIVersions) == 0 {
		return fmt.Errorf("plugin %s/%s declares no API versions", p.Kind, p.Name)
	}
	seen := map[string]bool{}
	for _, f := range p.Config {
		if seen[f.Name] {
			return fmt.Errorf("plugin %s/%s: config field %q declared twice", p.Kind, p.Name, f.Name)
		}
		seen[f.Name] = true
		switch f.Type {
		case ConfigString, ConfigNumber, ConfigBool, ConfigStringList, ConfigNumberList:
		default:
			return fmt.Errorf("plugin %s/%s: config field %q has unknown type %q", p.Kind, p.Name, f.Name, f.Type)
		}
	}
	return nil
}

// SortedCapabilities returns the capabilities sorted, for display.
func (p PluginInfo) SortedCapabilities() []string {
	out := append([]string(nil), p.Capabilities...)
	sort.Strings(out)
	return out
}

// Plugin is implemented by every plugin factory, built in or external.
type Plugin interface {
	Info() PluginInfo
}
