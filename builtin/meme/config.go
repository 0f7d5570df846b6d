package meme

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"

	"github.com/constellation-chain/constellation/interfaces"
)

// Config holds every parameter of the score model, Temporal PageRank, the
// flow cap and selection. Fractions are in units of q (1e9 = 1.0), parsed
// exactly from the decimals written in the manifest; counts are integers.
// A Config is immutable once built; NewReputation copies it.
type Config struct {
	// Score weights (fractions). Only their ratios matter: the score is the
	// weighted mean of the normalized features.
	WeightTrust         uint64
	WeightParticipation uint64
	WeightLiveness      uint64
	WeightLatency       uint64
	WeightUptime        uint64
	WeightAge           uint64
	WeightResources     uint64
	WeightInteraction   uint64

	// Validation feedback (GURU/ReCon).
	TrustGain uint64 // fraction of the gap to 1.0 gained per decisive correct epoch
	FaultDock uint64 // fraction of trust removed per provable fault, at once
	MissDock  uint64 // fraction of trust removed when a member's contribution is neither included nor seen
	FaultHalf uint64 // decayed fault count (fraction units) at which the fault penalty reaches 1/2
	Decay     uint64 // fraction of every decaying quantity lost per round
	// FaultDecay is the fraction of the decayed fault count lost per
	// round; lower than Decay, so misbehaviour is remembered longer than
	// good behaviour.
	FaultDecay uint64

	// Diminishing-returns half points.
	ParticipationHalf uint64 // decayed included contributions (fraction units)
	UptimeHalf        uint64 // decayed epochs as member (fraction units)
	AgeHalf           uint64 // rounds of tenure (first to latest membership)
	LatencyRefMillis  uint64 // latency at which the latency feature is 1/2
	ResourcesHalf     uint64 // committed resource units

	// Temporal PageRank (Rozenshtein & Gionis 2016).
	Alpha uint64 // probability a walk continues along the next edge; 1-Alpha restarts
	Beta  uint64 // probability a walk waits at a node instead of taking a later edge
	// StepGap is the fewest rounds between two walk steps a star sends:
	// its payments in between add flow capacity but no walk mass.
	StepGap uint64

	// NetFlow capping (Otte et al. 2020).
	FlowSaturation  uint64 // max-flow (in Interaction.Amount units) that earns full interaction credit
	FlowInterval    uint64 // rounds between max-flow recomputations
	FlowMaxPhases   uint64 // Dinic phases per recomputation (work bound)
	EvaluatorWindow uint64 // rounds a member stays an evaluator after its last membership
	EvaluatorTrust  uint64 // minimum trust of an evaluator
	EvaluatorBudget uint64 // full credits one evaluator can hand out: its source arc is EvaluatorBudget·FlowSaturation
	Seeds           []interfaces.StarID

	// Selection.
	BucketBounds  []uint64 // ascending score thresholds (fractions) between buckets
	BucketProbs   []uint64 // per-seat probability weight of each bucket, lowest first
	NewcomerQuota uint64   // fraction of seats reserved for newcomers (rounded up)
	// NewcomerMinCredit is the admission credit (fraction of
	// FlowSaturation) a newcomer needs to be eligible for a quota seat.
	NewcomerMinCredit uint64
	// MinReliability is the share of its epochs as member in which a
	// star's contribution must have been seen for it to stay in the score
	// buckets (see unreliable).
	MinReliability uint64
	// AdmissionWindow is how many rounds after its first membership a star
	// keeps claiming admission credit, holding on to the vouching capacity
	// that admitted it.
	AdmissionWindow uint64
	// SeatCap bounds how far the bucket draw concentrates seats: no star
	// in the score buckets gets a per-seat probability above SeatCap/M,
	// M the stars left in buckets of positive probability (see
	// seatMasses). 1.0 (the default) makes the draw uniform among them, so
	// a perfect sleeper gains nothing from its record; 0 turns the cap
	// off (the pre-cap draw, bucket probabilities alone).
	SeatCap uint64

	// Resource bounds.
	MaxStars        uint64 // stars remembered; the least recently seen are forgotten first
	MaxEdges        uint64 // aggregated interaction edges kept; the oldest are dropped first
	MaxInteractions uint64 // interactions accepted in one observation
}

type fieldKind int

const (
	kindFraction fieldKind = iota // decimal in q units
	kindCount                     // non-negative integer
	kindFractionList
	kindStarList
)

type configField struct {
	name string
	kind fieldKind
	def  string
	doc  string
	u    func(c *Config) *uint64
	l    func(c *Config) *[]uint64
}

// configFields is the schema, in canonical order: Info publishes it, parse
// reads it and the snapshot encodes the parsed values in this order.
var configFields = []configField{
	{name: "weight_trust", kind: kindFraction, def: "0.35", doc: "score weight of validation-feedback trust", u: func(c *Config) *uint64 { return &c.WeightTrust }},
	{name: "weight_participation", kind: kindFraction, def: "0.15", doc: "score weight of included contributions", u: func(c *Config) *uint64 { return &c.WeightParticipation }},
	{name: "weight_liveness", kind: kindFraction, def: "0.15", doc: "score weight of the share of epochs in which the star's contribution was seen", u: func(c *Config) *uint64 { return &c.WeightLiveness }},
	{name: "weight_latency", kind: kindFraction, def: "0.05", doc: "score weight of low latency", u: func(c *Config) *uint64 { return &c.WeightLatency }},
	{name: "weight_uptime", kind: kindFraction, def: "0.1", doc: "score weight of (decayed) epochs as member", u: func(c *Config) *uint64 { return &c.WeightUptime }},
	{name: "weight_age", kind: kindFraction, def: "0.05", doc: "score weight of tenure (rounds from first to latest membership)", u: func(c *Config) *uint64 { return &c.WeightAge }},
	{name: "weight_resources", kind: kindFraction, def: "0.05", doc: "score weight of committed resources", u: func(c *Config) *uint64 { return &c.WeightResources }},
	{name: "weight_interaction", kind: kindFraction, def: "0.1", doc: "score weight of flow-capped Temporal PageRank", u: func(c *Config) *uint64 { return &c.WeightInteraction }},
	{name: "trust_gain", kind: kindFraction, def: "0.02", doc: "fraction of the gap to 1 gained per decisive correct epoch", u: func(c *Config) *uint64 { return &c.TrustGain }},
	{name: "fault_dock", kind: kindFraction, def: "0.9", doc: "fraction of trust removed at once per provable fault", u: func(c *Config) *uint64 { return &c.FaultDock }},
	{name: "miss_dock", kind: kindFraction, def: "0.05", doc: "fraction of trust removed when a member's contribution is neither included nor seen (omission)", u: func(c *Config) *uint64 { return &c.MissDock }},
	{name: "fault_half", kind: kindFraction, def: "0.1", doc: "decayed fault count at which the fault penalty halves the score", u: func(c *Config) *uint64 { return &c.FaultHalf }},
	{name: "decay", kind: kindFraction, def: "0.002", doc: "fraction of trust, counters and PageRank mass lost per round", u: func(c *Config) *uint64 { return &c.Decay }},
	{name: "fault_decay", kind: kindFraction, def: "0.0005", doc: "fraction of the decayed fault count lost per round (faults are remembered longer than good behaviour)", u: func(c *Config) *uint64 { return &c.FaultDecay }},
	{name: "participation_half", kind: kindFraction, def: "20", doc: "decayed included contributions earning half the participation feature", u: func(c *Config) *uint64 { return &c.ParticipationHalf }},
	{name: "uptime_half", kind: kindFraction, def: "20", doc: "decayed epochs as member earning half the uptime feature", u: func(c *Config) *uint64 { return &c.UptimeHalf }},
	{name: "age_half", kind: kindCount, def: "500", doc: "rounds of tenure earning half the age feature", u: func(c *Config) *uint64 { return &c.AgeHalf }},
	{name: "latency_ref_ms", kind: kindCount, def: "500", doc: "latency in milliseconds at which the latency feature is one half", u: func(c *Config) *uint64 { return &c.LatencyRefMillis }},
	{name: "resources_half", kind: kindCount, def: "1000", doc: "committed resource units earning half the resources feature", u: func(c *Config) *uint64 { return &c.ResourcesHalf }},
	{name: "alpha", kind: kindFraction, def: "0.85", doc: "Temporal PageRank: probability a walk continues (1-alpha restarts)", u: func(c *Config) *uint64 { return &c.Alpha }},
	{name: "beta", kind: kindFraction, def: "0.5", doc: "Temporal PageRank: transition decay (probability a walk waits for a later edge)", u: func(c *Config) *uint64 { return &c.Beta }},
	{name: "tpr_step_gap", kind: kindCount, def: "16", doc: "Temporal PageRank: fewest rounds between two walk steps one star sends (its payments in between add flow capacity only), so stuffing blocks with payments buys no walk mass", u: func(c *Config) *uint64 { return &c.StepGap }},
	{name: "flow_saturation", kind: kindCount, def: "100", doc: "max-flow from the evaluators (amount units) that earns full interaction credit", u: func(c *Config) *uint64 { return &c.FlowSaturation }},
	{name: "flow_interval", kind: kindCount, def: "8", doc: "rounds between max-flow recomputations", u: func(c *Config) *uint64 { return &c.FlowInterval }},
	{name: "flow_max_phases", kind: kindCount, def: "64", doc: "Dinic phases per max-flow recomputation (work bound)", u: func(c *Config) *uint64 { return &c.FlowMaxPhases }},
	{name: "evaluator_window", kind: kindCount, def: "256", doc: "rounds a fault-free member stays an evaluator after its last membership", u: func(c *Config) *uint64 { return &c.EvaluatorWindow }},
	{name: "evaluator_trust", kind: kindFraction, def: "0.1", doc: "minimum trust of an evaluator", u: func(c *Config) *uint64 { return &c.EvaluatorTrust }},
	{name: "evaluator_budget", kind: kindCount, def: "16", doc: "how many stars one evaluator can lift to full credit (bounds what a colluding evaluator can vouch for)", u: func(c *Config) *uint64 { return &c.EvaluatorBudget }},
	{name: "seeds", kind: kindStarList, def: "[]", doc: "stars that are always evaluators (ed25519:<hex>)"},
	{name: "bucket_bounds", kind: kindFractionList, def: "[0.2, 0.5, 0.8]", doc: "ascending score thresholds separating the buckets", l: func(c *Config) *[]uint64 { return &c.BucketBounds }},
	{name: "bucket_probs", kind: kindFractionList, def: "[0.02, 0.13, 0.3, 0.55]", doc: "per-seat probability weight of each bucket, lowest bucket first (one more than bucket_bounds)", l: func(c *Config) *[]uint64 { return &c.BucketProbs }},
	{name: "newcomer_quota", kind: kindFraction, def: "0.05", doc: "fraction of seats reserved for stars never yet a member (rounded up)", u: func(c *Config) *uint64 { return &c.NewcomerQuota }},
	{name: "newcomer_min_credit", kind: kindFraction, def: "0.1", doc: "admission credit (share of flow_saturation received from the evaluators) a newcomer needs for a quota seat", u: func(c *Config) *uint64 { return &c.NewcomerMinCredit }},
	{name: "min_reliability", kind: kindFraction, def: "0.5", doc: "share of its (decayed) epochs as member in which a star's contribution must have been seen; below it, or with recent provable faults taking half its score, a star is drawn only when every bucket is exhausted", u: func(c *Config) *uint64 { return &c.MinReliability }},
	{name: "seat_cap", kind: kindFraction, def: "1", doc: "no star in the score buckets is drawn for a seat with probability above seat_cap/M (M: stars left in buckets of positive probability); 1 draws uniformly among them, which a perfect sleeper cannot exploit; 0 turns the cap off", u: func(c *Config) *uint64 { return &c.SeatCap }},
	{name: "admission_window", kind: kindCount, def: "200", doc: "rounds after its first membership during which a star keeps the admission credit that let it in, so vouching capacity admits one star per window", u: func(c *Config) *uint64 { return &c.AdmissionWindow }},
	{name: "max_stars", kind: kindCount, def: "65536", doc: "stars remembered; the least recently seen are forgotten first", u: func(c *Config) *uint64 { return &c.MaxStars }},
	{name: "max_edges", kind: kindCount, def: "262144", doc: "aggregated interaction edges kept; the oldest are dropped first", u: func(c *Config) *uint64 { return &c.MaxEdges }},
	{name: "max_interactions", kind: kindCount, def: "65536", doc: "interactions accepted in one observation", u: func(c *Config) *uint64 { return &c.MaxInteractions }},
}

// configSchema is the schema as interfaces.PluginInfo publishes it.
func configSchema() []interfaces.ConfigField {
	out := make([]interfaces.ConfigField, 0, len(configFields))
	for _, f := range configFields {
		t := interfaces.ConfigNumber
		switch f.kind {
		case kindFractionList:
			t = interfaces.ConfigNumberList
		case kindStarList:
			t = interfaces.ConfigStringList
		}
		out = append(out, interfaces.ConfigField{Name: f.name, Type: t, Default: f.def, Doc: f.doc})
	}
	return out
}

// DefaultConfig returns the configuration used when the config block is
// empty.
func DefaultConfig() Config {
	c, err := ParseConfig(nil)
	if err != nil {
		// The defaults are constants of this package; failing here is a
		// programming error caught by TestDefaultConfigIsValid.
		panic(fmt.Sprintf("meme: default config is invalid: %v", err))
	}
	return c
}

// ParseConfig reads a JSON config object (the plugin's `config {}` block).
// Absent fields take their defaults; unknown fields, floats with more than
// nine fractional digits, negative numbers and inconsistent values are
// errors. Empty input means all defaults.
func ParseConfig(params []byte) (Config, error) {
	var c Config
	raw := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(params)) > 0 {
		d := json.NewDecoder(bytes.NewReader(params))
		d.UseNumber()
		if err := d.Decode(&raw); err != nil {
			return c, fmt.Errorf("meme config: decode JSON object: %w", err)
		}
		if d.More() {
			return c, errors.New("meme config: trailing data after the JSON object")
		}
	}
	known := map[string]bool{}
	for _, f := range configFields {
		known[f.name] = true
	}
	var unknown []string
	for k := range raw {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return c, fmt.Errorf("meme config: unknown field(s) %q", unknown)
	}
	for _, f := range configFields {
		text := []byte(f.def)
		if v, ok := raw[f.name]; ok {
			text = v
		}
		if err := f.set(&c, text); err != nil {
			return c, fmt.Errorf("meme config: field %s: %w", f.name, err)
		}
	}
	if err := c.validate(); err != nil {
		return c, fmt.Errorf("meme config: %w", err)
	}
	return c, nil
}

func (f configField) set(c *Config, text []byte) error {
	d := json.NewDecoder(bytes.NewReader(text))
	d.UseNumber()
	switch f.kind {
	case kindFraction, kindCount:
		var n json.Number
		if err := d.Decode(&n); err != nil {
			return fmt.Errorf("want a number: %w", err)
		}
		v, err := parseNumber(f.kind, n)
		if err != nil {
			return err
		}
		*f.u(c) = v
	case kindFractionList:
		var ns []json.Number
		if err := d.Decode(&ns); err != nil {
			return fmt.Errorf("want a list of numbers: %w", err)
		}
		out := make([]uint64, 0, len(ns))
		for i, n := range ns {
			v, err := parseNumber(kindFraction, n)
			if err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
			out = append(out, v)
		}
		*f.l(c) = out
	case kindStarList:
		var ss []string
		if err := d.Decode(&ss); err != nil {
			return fmt.Errorf("want a list of star ids: %w", err)
		}
		stars := make([]interfaces.StarID, 0, len(ss))
		for _, s := range ss {
			id, err := interfaces.ParseStarID(s)
			if err != nil {
				return err
			}
			stars = append(stars, id)
		}
		c.Seeds = sortedUnique(stars)
	}
	return nil
}

func parseNumber(k fieldKind, n json.Number) (uint64, error) {
	if k == kindCount {
		v, err := strconv.ParseUint(n.String(), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("want a non-negative integer, got %s", n)
		}
		return v, nil
	}
	return parseFixed(n.String())
}

func (c *Config) validate() error {
	fractionsAtMostOne := []struct {
		name string
		v    uint64
	}{
		{"trust_gain", c.TrustGain}, {"fault_dock", c.FaultDock}, {"miss_dock", c.MissDock}, {"decay", c.Decay}, {"fault_decay", c.FaultDecay},
		{"alpha", c.Alpha}, {"beta", c.Beta}, {"evaluator_trust", c.EvaluatorTrust},
		{"newcomer_quota", c.NewcomerQuota}, {"newcomer_min_credit", c.NewcomerMinCredit}, {"min_reliability", c.MinReliability},
	}
	for _, f := range fractionsAtMostOne {
		if f.v > q {
			return fmt.Errorf("%s is %s, must be at most 1", f.name, formatFixed(f.v))
		}
	}
	if c.SeatCap != 0 && (c.SeatCap < q || c.SeatCap > 64*q) {
		return fmt.Errorf("seat_cap is %s, must be 0 (no cap) or in [1, 64]", formatFixed(c.SeatCap))
	}
	if c.Decay == q || c.FaultDecay == q {
		return errors.New("decay and fault_decay must be below 1")
	}
	if c.Alpha == q {
		return errors.New("alpha must be below 1 (a walk must be able to restart)")
	}
	weights := []uint64{c.WeightTrust, c.WeightParticipation, c.WeightLiveness, c.WeightLatency,
		c.WeightUptime, c.WeightAge, c.WeightResources, c.WeightInteraction}
	var sum uint64
	for _, w := range weights {
		if w > 1000*q {
			return fmt.Errorf("a weight of %s is above the limit of 1000", formatFixed(w))
		}
		sum += w
	}
	if sum == 0 {
		return errors.New("all score weights are zero")
	}
	for _, h := range []struct {
		name string
		v    uint64
	}{
		{"fault_half", c.FaultHalf}, {"participation_half", c.ParticipationHalf}, {"uptime_half", c.UptimeHalf},
		{"age_half", c.AgeHalf}, {"latency_ref_ms", c.LatencyRefMillis}, {"resources_half", c.ResourcesHalf},
		{"tpr_step_gap", c.StepGap}, {"flow_saturation", c.FlowSaturation}, {"evaluator_budget", c.EvaluatorBudget}, {"flow_interval", c.FlowInterval}, {"flow_max_phases", c.FlowMaxPhases},
		{"max_stars", c.MaxStars}, {"max_edges", c.MaxEdges}, {"max_interactions", c.MaxInteractions},
	} {
		if h.v == 0 {
			return fmt.Errorf("%s must be positive", h.name)
		}
	}
	if c.StepGap > 1<<20 {
		return errors.New("tpr_step_gap must be at most 2^20 rounds")
	}
	if c.FlowSaturation > 1<<40 || c.EvaluatorBudget > 1<<20 {
		return errors.New("flow_saturation must be at most 2^40 and evaluator_budget at most 2^20")
	}
	if c.MaxStars > 1<<24 || c.MaxEdges > 1<<26 || c.MaxInteractions > 1<<24 {
		return errors.New("max_stars (2^24), max_edges (2^26) or max_interactions (2^24) above its limit")
	}
	for i, b := range c.BucketBounds {
		if b == 0 || b > q {
			return fmt.Errorf("bucket_bounds[%d] = %s must be in (0, 1]", i, formatFixed(b))
		}
		if i > 0 && b <= c.BucketBounds[i-1] {
			return fmt.Errorf("bucket_bounds must be strictly ascending (element %d)", i)
		}
	}
	if len(c.BucketBounds) > 64 {
		return errors.New("at most 64 bucket bounds")
	}
	if len(c.BucketProbs) != len(c.BucketBounds)+1 {
		return fmt.Errorf("bucket_probs has %d entries, want %d (one more than bucket_bounds)", len(c.BucketProbs), len(c.BucketBounds)+1)
	}
	var psum uint64
	for i, p := range c.BucketProbs {
		if p > q {
			return fmt.Errorf("bucket_probs[%d] = %s must be at most 1", i, formatFixed(p))
		}
		psum += p
	}
	if psum == 0 {
		return errors.New("bucket_probs are all zero")
	}
	return nil
}

// encode appends the canonical encoding of the parsed config, used to bind
// a snapshot to the parameters that produced it.
func (c *Config) encode(e *interfaces.Encoder) {
	for _, f := range configFields {
		switch f.kind {
		case kindFraction, kindCount:
			e.U64(*f.u(c))
		case kindFractionList:
			l := *f.l(c)
			e.Uvarint(uint64(len(l)))
			for _, v := range l {
				e.U64(v)
			}
		case kindStarList:
			e.Uvarint(uint64(len(c.Seeds)))
			for _, s := range c.Seeds {
				e.Fixed(s[:])
			}
		}
	}
}

// sortedUnique returns the stars sorted by StarID.Less without duplicates.
func sortedUnique(in []interfaces.StarID) []interfaces.StarID {
	out := append([]interfaces.StarID(nil), in...)
	slices.SortFunc(out, interfaces.CompareStars)
	w := 0
	for i, s := range out {
		if i > 0 && s == out[w-1] {
			continue
		}
		out[w] = s
		w++
	}
	return out[:w]
}
