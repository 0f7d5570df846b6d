package contracts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/constellation-chain/constellation/interfaces"
)

// Name and Version of the builtin.
const (
	Name    = "microservices"
	Version = "0.1.0"
)

// MaxCallBoundMS bounds call_bound_ms (ten minutes).
const MaxCallBoundMS = 600_000

// Factory builds contract runtimes. It implements
// interfaces.ContractsFactory.
type Factory struct {
	// Logger, when set, is given to every runtime.
	Logger hclog.Logger
}

var _ interfaces.ContractsFactory = Factory{}

// Info describes the plugin and its config.
func (Factory) Info() interfaces.PluginInfo {
	return interfaces.PluginInfo{
		Kind:        interfaces.KindContracts,
		Name:        Name,
		Version:     Version,
		APIVersions: []int{interfaces.APIVersion},
		Config: []interfaces.ConfigField{
			{Name: "dir", Type: interfaces.ConfigString, Doc: "where this host writes contract bundles; default: the node's data directory's contracts folder"},
			{Name: "bundle_dir", Type: interfaces.ConfigString, Doc: "the local contracts directory, where bundles too large for their deploy transaction (Go binaries) are found by sha256; default: dir"},
			{Name: "call_bound_ms", Type: interfaces.ConfigNumber, Default: "5000", Doc: "how long one call may run on this host before it is stopped and refused (never co-signed); host configuration, it decides no state"},
			{Name: "jvm_classpath", Type: interfaces.ConfigStringList, Doc: "the Java contract SDK's class path (its jar and the Debian jars it needs); empty: this host runs no jvm contracts"},
			{Name: "java", Type: interfaces.ConfigString, Doc: "the java executable; default: java on PATH"},
		},
	}
}

// Params is the runtime's config block.
type Params struct {
	Dir          string   `json:"dir"`
	BundleDir    string   `json:"bundle_dir"`
	CallBoundMS  int64    `json:"call_bound_ms"`
	JVMClasspath []string `json:"jvm_classpath"`
	Java         string   `json:"java"`
}

// ParseParams decodes a config block (JSON, unknown fields refused).
func ParseParams(params []byte) (Params, error) {
	p := Params{CallBoundMS: DefaultCallBound.Milliseconds()}
	if b := bytes.TrimSpace(params); len(b) != 0 && string(b) != "null" {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			return p, fmt.Errorf("contracts: config: %w", err)
		}
	}
	if p.CallBoundMS < 1 || p.CallBoundMS > MaxCallBoundMS {
		return p, fmt.Errorf("contracts: call_bound_ms = %d, want 1 to %d", p.CallBoundMS, MaxCallBoundMS)
	}
	return p, nil
}

// NewRuntime builds a runtime from a config block; dir is required (the
// node fills it in from its data directory).
func (f Factory) NewRuntime(params []byte) (interfaces.ContractRuntime, error) {
	p, err := ParseParams(params)
	if err != nil {
		return nil, err
	}
	return New(Config{
		Dir: p.Dir, BundleDir: p.BundleDir, CallBound: time.Duration(p.CallBoundMS) * time.Millisecond,
		JVMClasspath: p.JVMClasspath, Java: p.Java, Logger: f.Logger,
	})
}
