package honeybadger

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/constellation-chain/constellation/interfaces"
)

// Version is the semver of this implementation.
const Version = "0.1.0"

// Params is the plugin's config block. Every field has a safe default; the
// switches exist for benchmarks (mode A turns encryption and the threshold
// coin off).
type Params struct {
	// Encrypt encrypts each contribution under the cluster key before
	// reliable broadcast (censorship resilience). Default true.
	Encrypt bool `json:"encrypt"`
	// ThresholdCoin uses the threshold BLS coin. false selects a coin anyone
	// can predict, for benchmarks only: it keeps safety but gives up
	// termination against an adversarial scheduler. Default true.
	ThresholdCoin bool `json:"threshold_coin"`
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
// interfaces.ConsensusFactory and interfaces.KeyDealer.
type Factory struct{}

var (
	_ interfaces.ConsensusFactory = Factory{}
	_ interfaces.KeyDealer        = Factory{}
)

// Name is the plugin's name in manifests (`plugin "consensus" "honeybadger"`).
const Name = "honeybadger"

// Info describes the plugin.
func (Factory) Info() interfaces.PluginInfo {
	return interfaces.PluginInfo{
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
		},
		Config: []interfaces.ConfigField{
			{Name: "encrypt", Type: interfaces.ConfigBool, Default: "true",
				Doc: "Threshold-encrypt contributions until ACS has agreed on them (censorship resilience). Turn off for benchmarks only."},
			{Name: "threshold_coin", Type: interfaces.ConfigBool, Default: "true",
				Doc: "Use the threshold BLS common coin. false selects a predictable coin for benchmarks: safe, but an adversarial scheduler can stall agreement."},
			{Name: "coin_schedule", Type: interfaces.ConfigBool, Default: "true",
				Doc: "Fix the coin of agreement rounds 0 and 1 (1 then 0); sound, and ends the common cases without pairings."},
			{Name: "max_future_epochs", Type: interfaces.ConfigNumber, Default: "4",
				Doc: "Pipeline window: how many epochs run at once, from the oldest undecided one (1 to 64)."},
		},
	}
}

// NewConsensus builds an engine for cfg.
func (Factory) NewConsensus(cfg interfaces.ConsensusConfig) (interfaces.Consensus, error) {
	e, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return e, nil
}
