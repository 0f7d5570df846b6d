package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"sort"
	"strings"

	"github.com/constellation-chain/constellation/interfaces"
)

// Factory builds acme-trust reputation instances. It is what main serves
// and what the tests hand to the conformance suite in process.
type Factory struct{}

// Info describes the plugin: its kind, name, version, the interface
// versions it speaks, its capabilities and its config block.
func (Factory) Info() interfaces.PluginInfo {
	return interfaces.PluginInfo{
		Kind:         interfaces.KindReputation,
		Name:         "acme-trust",
		Version:      "1.0.0",
		APIVersions:  []int{interfaces.APIVersion},
		Capabilities: []string{interfaces.CapSnapshot},
		Config: []interfaces.ConfigField{
			{Name: "decay", Type: interfaces.ConfigNumber, Default: "0.98", Doc: "factor every score is multiplied by per observed block, in (0, 1]"},
			{Name: "fault_penalty", Type: interfaces.ConfigNumber, Default: "0.5", Doc: "factor a star's score is multiplied by per provable fault, in [0, 1]"},
		},
	}
}

// config is the parsed config block, in fixed point (ScoreOne is 1.0).
type config struct {
	decay, faultPenalty interfaces.Score
}

// NewReputation parses the config block (JSON) and returns a fresh
// instance.
func (Factory) NewReputation(params []byte) (interfaces.Reputation, error) {
	cfg := config{decay: 980_000_000, faultPenalty: 500_000_000}
	if len(bytes.TrimSpace(params)) > 0 {
		var raw struct {
			Decay        json.Number `json:"decay"`
			FaultPenalty json.Number `json:"fault_penalty"`
		}
		dec := json.NewDecoder(bytes.NewReader(params))
		dec.UseNumber()
		dec.DisallowUnknownFields()
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("acme-trust config: %w", err)
		}
		var err error
		if raw.Decay != "" {
			if cfg.decay, err = parseFixed(string(raw.Decay)); err != nil || cfg.decay <= 0 || cfg.decay > interfaces.ScoreOne {
				return nil, fmt.Errorf("acme-trust config: decay %s must be a decimal in (0, 1]", raw.Decay)
			}
		}
		if raw.FaultPenalty != "" {
			if cfg.faultPenalty, err = parseFixed(string(raw.FaultPenalty)); err != nil || cfg.faultPenalty < 0 || cfg.faultPenalty > interfaces.ScoreOne {
				return nil, fmt.Errorf("acme-trust config: fault_penalty %s must be a decimal in [0, 1]", raw.FaultPenalty)
			}
		}
	}
	return &reputation{cfg: cfg, earned: map[interfaces.StarID]interfaces.Score{}}, nil
}

// parseFixed parses a plain decimal ("0.98", "1") into fixed point with
// nine decimals, without floating point, so every machine agrees.
func parseFixed(s string) (interfaces.Score, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(whole) > 9 || len(frac) > 9 || strings.ContainsAny(s, "eE+-") {
		return 0, fmt.Errorf("%q is not a plain decimal with at most 9 places", s)
	}
	var v interfaces.Score
	for _, c := range whole + frac + strings.Repeat("0", 9-len(frac)) {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not a plain decimal", s)
		}
		v = v*10 + interfaces.Score(c-'0')
	}
	return v, nil
}

// newcomer is the score of a star never seen: a tenth of a point, so that
// newcomers can still be drawn.
const newcomer = interfaces.ScoreOne / 10

// reputation keeps, per star, the score earned on top of the newcomer
// score: a point per included contribution, decayed every block, cut by
// the fault penalty per provable fault. All arithmetic is integer.
type reputation struct {
	cfg    config
	earned map[interfaces.StarID]interfaces.Score
}

// mulFixed returns a*b/ScoreOne for non-negative a and b, exactly.
func mulFixed(a, b interfaces.Score) interfaces.Score {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(interfaces.ScoreOne) {
		return interfaces.Score(1<<63 - 1)
	}
	q, _ := bits.Div64(hi, lo, uint64(interfaces.ScoreOne))
	if q > 1<<63-1 {
		return interfaces.Score(1<<63 - 1)
	}
	return interfaces.Score(q)
}

func (r *reputation) Observe(o interfaces.Observation) error {
	// Decay every star; forget those whose earned score reached zero so
	// the state stays bounded by the active stars.
	for s, v := range r.earned {
		v = mulFixed(v, r.cfg.decay)
		if v == 0 {
			delete(r.earned, s)
			continue
		}
		r.earned[s] = v
	}
	for _, s := range o.Meta.Proposers {
		if v := r.earned[s]; v <= 1<<62 {
			r.earned[s] = v + interfaces.ScoreOne
		}
	}
	for _, f := range o.Meta.Faults {
		if v, ok := r.earned[f.Star]; ok {
			r.earned[f.Star] = mulFixed(v, r.cfg.faultPenalty)
		}
	}
	return nil
}

func (r *reputation) Score(s interfaces.StarID) interfaces.Score {
	return newcomer + r.earned[s]
}

// Select draws k distinct candidates, each with probability growing with
// its score. Every candidate gets a pseudo-random ticket u from the seed
// and its id; candidates are ranked by u/score (compared exactly in 128
// bits) and the k lowest win. The result is sorted by StarID.
func (r *reputation) Select(candidates []interfaces.StarID, k int, seed interfaces.Hash) ([]interfaces.StarID, error) {
	type entry struct {
		star   interfaces.StarID
		ticket uint64
		weight uint64
	}
	seen := make(map[interfaces.StarID]bool, len(candidates))
	es := make([]entry, 0, len(candidates))
	for _, s := range candidates {
		if seen[s] {
			continue
		}
		seen[s] = true
		h := interfaces.DomainSum("acme-trust/select/v1", seed[:], s[:])
		var u uint64
		for _, b := range h[:8] {
			u = u<<8 | uint64(b)
		}
		es = append(es, entry{star: s, ticket: u | 1, weight: uint64(r.Score(s))})
	}
	if k < 0 || k > len(es) {
		return nil, fmt.Errorf("acme-trust: cannot select %d delegates from %d distinct candidates", k, len(es))
	}
	sort.Slice(es, func(i, j int) bool {
		// ticket_i / weight_i < ticket_j / weight_j  <=>  t_i*w_j < t_j*w_i
		ah, al := bits.Mul64(es[i].ticket, es[j].weight)
		bh, bl := bits.Mul64(es[j].ticket, es[i].weight)
		if ah != bh {
			return ah < bh
		}
		if al != bl {
			return al < bl
		}
		return es[i].star.Less(es[j].star)
	})
	out := make([]interfaces.StarID, k)
	for i := range out {
		out[i] = es[i].star
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	return out, nil
}

// Snapshot encodes the state canonically: version, count, then each star
// and its earned score in StarID order.
func (r *reputation) Snapshot() ([]byte, error) {
	stars := make([]interfaces.StarID, 0, len(r.earned))
	for s := range r.earned {
		stars = append(stars, s)
	}
	sort.Slice(stars, func(i, j int) bool { return stars[i].Less(stars[j]) })
	e := interfaces.NewEncoder(8 + 40*len(stars))
	e.U8(1)
	e.Uvarint(uint64(len(stars)))
	for _, s := range stars {
		e.Fixed(s[:])
		e.U64(uint64(r.earned[s]))
	}
	return e.Bytes(), nil
}

// Restore replaces the state with a snapshot's, refusing anything that is
// not exactly what Snapshot writes.
func (r *reputation) Restore(snapshot []byte) error {
	d := interfaces.NewDecoder(snapshot)
	if v := d.U8(); d.Err() == nil && v != 1 {
		return fmt.Errorf("acme-trust snapshot version %d, want 1", v)
	}
	n := d.Len(1 << 24)
	if d.Err() == nil && n > d.Remaining()/40 {
		return errors.New("acme-trust snapshot: count exceeds its length")
	}
	earned := make(map[interfaces.StarID]interfaces.Score, n)
	var prev interfaces.StarID
	for i := 0; i < n && d.Err() == nil; i++ {
		var s interfaces.StarID
		d.Fixed(s[:])
		v := d.U64()
		if d.Err() != nil {
			break
		}
		if i > 0 && !prev.Less(s) {
			return fmt.Errorf("acme-trust snapshot: star %d is out of order", i)
		}
		if v == 0 || v > 1<<63-1 {
			return fmt.Errorf("acme-trust snapshot: star %d has score %d", i, v)
		}
		earned[s] = interfaces.Score(v)
		prev = s
	}
	if err := d.Finish(); err != nil {
		return fmt.Errorf("acme-trust snapshot: %w", err)
	}
	r.earned = earned
	return nil
}
