package honeybadger

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/constellation-chain/constellation/interfaces"
)

// Version is the semver of this implementation.
const Version = "0.1.0"

// Params is the engine's configuration. The manifest's config block sets
// only the fields with a JSON name; the two switches that weaken the
// protocol are not in the manifest schema at all: they are set in Go, by
// ProtocolOnly, for benchmarks.
type Params struct {
	// Encrypt encrypts each contribution under the cluster key before
	// reliable broadcast (censorship resilience). Always true from a
	// manifest.
	Encrypt bool `json:"-"`
	// ThresholdCoin uses the threshold BLS coin. false selects a coin anyone
	// can predict, for benchmarks only: it keeps safety but gives up
	// termination against an adversarial scheduler. Always true from a
	// manifest.
	ThresholdCoin bool `json:"-"`
	// CoinSchedule fixes the coin of rounds 0 and 1 (1, then 0), which ends
	// the common cases without pairings. Default true.
	CoinSchedule bool `json:"coin_schedule"`
	// MaxFutureEpochs is the pipeline window: how many epochs from the
	// oldest undecided one run at once. Default 4.
	MaxFutureEpochs int `json:"max_future_epochs"`
}

// DefaultParams returns the defaults.
func DefaultParams() Params {
	return Params{Encrypt: true, ThresholdCoin: true, CoinSchedule: true, MaxFutureEpochs: 4}
}

// ParseParams reads the config block as JSON over the defaults; unknown
// fields are errors.
func ParseParams(raw []byte) (Params, error) {
	p := DefaultParams()
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return p, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, fmt.Errorf("honeybadger: parse config: %w", err)
	}
	if p.MaxFutureEpochs < 1 || p.MaxFutureEpochs > 64 {
		return p, fmt.Errorf("honeybadger: config max_future_epochs=%d, want 1 to 64", p.MaxFutureEpochs)
	}
	return p, nil
}

// Factory builds HoneyBadger engines. It implements
// interfaces.ConsensusFactory and interfaces.KeyDealer. The zero value is
// the engine every manifest gets.
type Factory struct {
	// protocolOnly turns threshold encryption and the threshold coin off
	// (benchmark mode A); see ProtocolOnly.
	protocolOnly bool
}

var (
	_ interfaces.ConsensusFactory = Factory{}
	_ interfaces.KeyDealer        = Factory{}
)

// ProtocolOnly returns the benchmark-only factory of "mode A": the
// protocol alone, without threshold encryption (so a scheduler that reads
// plaintext can censor) and with a predictable coin (so an adversarial
// scheduler can stall agreement). It is named ProtocolOnlyName, claims
// neither CapCensorship nor CapAsynchronous, and is never offered to a
// manifest: `constellation bench` builds it in Go, and serves it out of
// process only to itself.
func ProtocolOnly() Factory { return Factory{protocolOnly: true} }

// ProtocolOnlyName is the name the mode-A factory reports.
const ProtocolOnlyName = "honeybadger-protocol-only"

// Name is the plugin's name in manifests (`plugin "consensus" "honeybadger"`).
const Name = "honeybadger"

// Info describes the plugin.
//
// Capabilities follow the configuration in force: the protocol-only
// factory gives up censorship resilience (no encryption) and termination
// under an adversarial scheduler (a predictable coin).
func (f Factory) Info() interfaces.PluginInfo {
	info := interfaces.PluginInfo{
		Kind:        interfaces.KindConsensus,
		Name:        Name,
		Version:     Version,
		APIVersions: []int{interfaces.APIVersion},
		Capabilities: []string{
			interfaces.CapFaultTolerance,
			interfaces.CapAsynchronous,
			interfaces.CapCensorship,
			interfaces.CapMultiMember,
			interfaces.CapFaultEvidence,
			interfaces.CapThresholdSignature,
		},
		Config: []interfaces.ConfigField{
			{Name: "coin_schedule", Type: interfaces.ConfigBool, Default: "true",
				Doc: "Fix the coin of agreement rounds 0 and 1 (1 then 0); sound, and ends the common cases without pairings."},
			{Name: "max_future_epochs", Type: interfaces.ConfigNumber, Default: "4",
				Doc: "Pipeline window: how many epochs run at once, from the oldest undecided one (1 to 64)."},
		},
	}
	if f.protocolOnly {
		info.Name = ProtocolOnlyName
		info.Capabilities = []string{interfaces.CapFaultTolerance, interfaces.CapMultiMember, interfaces.CapFaultEvidence}
	}
	return info
}

// NewConsensus builds an engine for cfg.
func (f Factory) NewConsensus(cfg interfaces.ConsensusConfig) (interfaces.Consensus, error) {
	p, err := ParseParams(cfg.Params)
	if err != nil {
		return nil, err
	}
	if f.protocolOnly {
		p.Encrypt, p.ThresholdCoin = false, false
	}
	e, err := newEngine(cfg, p)
	if err != nil {
		return nil, err
	}
	return e, nil
}
