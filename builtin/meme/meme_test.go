package meme

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/constellation-chain/constellation/interfaces"
)

func star(ns string, i int) interfaces.StarID {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(i))
	return interfaces.StarID(interfaces.DomainSum("meme-test/"+ns, b[:]))
}

// fataler is the part of testing.TB and *rapid.T the helpers use.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

func mustNew(t fataler, params string) *Reputation {
	t.Helper()
	cfg, err := ParseConfig([]byte(params))
	if err != nil {
		t.Fatalf("ParseConfig(%s): %v", params, err)
	}
	return New(cfg)
}

func mustObserve(t fataler, r *Reputation, o interfaces.Observation) {
	t.Helper()
	if err := r.Observe(o); err != nil {
		t.Fatalf("Observe: %v", err)
	}
}

// epoch returns an observation in which members all took part, the
// included ones had their contribution decided with the given latency.
func epoch(members, included []interfaces.StarID, latency uint32, faults ...interfaces.StarID) interfaces.Observation {
	var o interfaces.Observation
	o.Meta.Members = members
	inc := map[interfaces.StarID]bool{}
	for _, s := range included {
		inc[s] = true
	}
	for _, m := range members {
		if inc[m] {
			o.Meta.Proposers = append(o.Meta.Proposers, m)
			o.Meta.LatencyMillis = append(o.Meta.LatencyMillis, latency)
		} else {
			o.Meta.LatencyMillis = append(o.Meta.LatencyMillis, 0)
		}
	}
	for i, f := range faults {
		o.Meta.Faults = append(o.Meta.Faults, interfaces.Fault{Star: f, Kind: interfaces.FaultEquivocation, Epoch: uint64(i)})
	}
	return o
}

func TestDefaultConfigIsValid(t *testing.T) {
	c := DefaultConfig()
	if c.WeightTrust != 350_000_000 || c.Decay != 2_000_000 || c.AgeHalf != 500 || len(c.BucketProbs) != 4 {
		t.Fatalf("defaults not parsed as documented: %+v", c)
	}
	info := Factory{}.Info()
	if err := info.Validate(); err != nil {
		t.Fatalf("Info().Validate(): %v", err)
	}
	if !info.Has(interfaces.CapSnapshot) || !info.Has(interfaces.CapSybilGuard) || info.Kind != interfaces.KindReputation {
		t.Fatalf("Info() = %+v", info)
	}
	for _, f := range info.Config {
		if !json.Valid([]byte(f.Default)) {
			t.Errorf("config field %s default %q is not JSON", f.Name, f.Default)
		}
	}
}

func TestConfigDecimalsParseExactly(t *testing.T) {
	for in, want := range map[string]uint64{"0": 0, "1": q, "0.98": 980_000_000, "0.000000001": 1, "12.5": 12_500_000_000, "1.0": q} {
		got, err := parseFixed(in)
		if err != nil || got != want {
			t.Errorf("parseFixed(%q) = %d, %v; want %d", in, got, err, want)
		}
		if err == nil && in != "1.0" {
			if back := formatFixed(got); back != in {
				t.Errorf("formatFixed(%d) = %q, want %q", got, back, in)
			}
		}
	}
	for _, bad := range []string{"", "-1", "1e-3", "0.0000000001", ".5", "5.", "0x1", "1.2.3", "99999999999999999999"} {
		if _, err := parseFixed(bad); err == nil {
			t.Errorf("parseFixed(%q) accepted", bad)
		}
	}
}

func TestConfigRejectsInconsistentValues(t *testing.T) {
	for _, bad := range []string{
		`{"nope": 1}`,
		`{"decay": 1}`,
		`{"decay": -0.1}`,
		`{"alpha": 1}`,
		`{"trust_gain": 1.5}`,
		`{"bucket_bounds": [0.5, 0.2]}`,
		`{"bucket_bounds": [0.5], "bucket_probs": [0.1, 0.2, 0.3]}`,
		`{"bucket_probs": [0, 0, 0, 0]}`,
		`{"weight_trust":0,"weight_participation":0,"weight_liveness":0,"weight_latency":0,"weight_uptime":0,"weight_age":0,"weight_resources":0,"weight_interaction":0}`,
		`{"flow_interval": 0}`,
		`{"age_half": 1.5}`,
		`{"seeds": ["zz"]}`,
		`[]`,
		`{} {}`,
	} {
		if _, err := ParseConfig([]byte(bad)); err == nil {
			t.Errorf("ParseConfig(%s) accepted", bad)
		} else if !strings.HasPrefix(err.Error(), "meme config:") {
			t.Errorf("ParseConfig(%s) error %q does not say it is the meme config", bad, err)
		}
	}
	c, err := ParseConfig([]byte(fmt.Sprintf(`{"seeds": [%q, %q, %q], "decay": 0.01}`, star("s", 2), star("s", 1), star("s", 2))))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Seeds) != 2 || !c.Seeds[0].Less(c.Seeds[1]) || c.Decay != 10_000_000 {
		t.Fatalf("seeds not sorted and deduplicated or decay wrong: %+v", c)
	}
}

func TestNewcomerStartsAtMinimum(t *testing.T) {
	r := mustNew(t, "")
	a := star("v", 1)
	if s := r.Score(a); s != 0 {
		t.Fatalf("unknown star score %d, want 0", s)
	}
	for range 20 {
		mustObserve(t, r, epoch([]interfaces.StarID{a}, []interfaces.StarID{a}, 100))
	}
	if r.Score(a) <= r.Score(star("v", 2)) {
		t.Fatalf("an established star (%d) does not outscore a fresh identity (%d)", r.Score(a), r.Score(star("v", 2)))
	}
	if ex := r.Explain(star("v", 2)); !ex.Newcomer || ex.Bucket != NewcomerBucket || ex.Score != 0 {
		t.Fatalf("Explain(fresh) = %+v", ex)
	}
	if p := r.Priority(star("v", 2)); p != 0 {
		t.Fatalf("fresh identity priority %d, want 0", p)
	}
}

func TestDecisiveCorrectEpochGainsSlowly(t *testing.T) {
	r := mustNew(t, `{"decay": 0}`)
	a := star("v", 1)
	prev := uint64(0)
	for i := 1; i <= 50; i++ {
		mustObserve(t, r, epoch([]interfaces.StarID{a}, []interfaces.StarID{a}, 100))
		tr := r.stars[a].trust
		if tr <= prev || tr >= q {
			t.Fatalf("epoch %d: trust %d, previous %d: must rise strictly and stay below 1", i, tr, prev)
		}
		if i == 1 && tr != r.cfg.TrustGain {
			t.Fatalf("first decisive epoch gives trust %d, want the gain %d", tr, r.cfg.TrustGain)
		}
		if gain := tr - prev; prev > 0 && gain >= mulQ(r.cfg.TrustGain, q-prev)+1 {
			t.Fatalf("epoch %d: gain %d exceeds TrustGain·(1−trust)", i, gain)
		}
		prev = tr
	}
	// A member whose contribution is not in the decided set gains nothing.
	b := star("v", 2)
	mustObserve(t, r, epoch([]interfaces.StarID{a, b}, []interfaces.StarID{a}, 100))
	if r.stars[b].trust != 0 {
		t.Fatalf("member without included contribution gained trust %d", r.stars[b].trust)
	}
}

func TestProvableFaultDocksAtOnceAndHard(t *testing.T) {
	r := mustNew(t, "")
	a := star("v", 1)
	for range 100 {
		mustObserve(t, r, epoch([]interfaces.StarID{a}, []interfaces.StarID{a}, 100))
	}
	before, trust := r.Score(a), r.stars[a].trust
	mustObserve(t, r, epoch([]interfaces.StarID{a}, []interfaces.StarID{a}, 100, a))
	after := r.Score(a)
	if r.stars[a].trust > mulQ(trust, q-r.cfg.FaultDock) {
		t.Fatalf("trust after a fault %d, want at most %d", r.stars[a].trust, mulQ(trust, q-r.cfg.FaultDock))
	}
	if uint64(after) > uint64(before)/10 {
		t.Fatalf("score after one provable fault %d, before %d: want a drop of at least 90%%", after, before)
	}
	if r.Explain(a).Bucket != UnreliableBucket {
		t.Fatalf("faulty star in bucket %d, want unreliable (held out of the buckets)", r.Explain(a).Bucket)
	}
	// Duplicated evidence of the same fault counts once.
	r2 := mustNew(t, "")
	o := epoch([]interfaces.StarID{a}, nil, 0, a)
	o.Meta.Faults = append(o.Meta.Faults, o.Meta.Faults[0])
	mustObserve(t, r2, o)
	if r2.stars[a].faultsTotal != 1 {
		t.Fatalf("duplicated fault counted %d times", r2.stars[a].faultsTotal)
	}
}

func TestOmissionDocksTrustMildly(t *testing.T) {
	r := mustNew(t, `{"decay": 0}`)
	a, b := star("v", 1), star("v", 2)
	both := sortedUnique([]interfaces.StarID{a, b})
	for range 50 {
		mustObserve(t, r, epoch(both, both, 100))
	}
	trust := r.stars[a].trust
	// a is excluded from the decided set but was seen (non-zero latency):
	// an honest slow member, no dock.
	o := epoch(both, []interfaces.StarID{b}, 100)
	for i, m := range o.Meta.Members {
		if m == a {
			o.Meta.LatencyMillis[i] = 900
		}
	}
	mustObserve(t, r, o)
	if r.stars[a].trust != trust {
		t.Fatalf("a seen but excluded member lost trust: %d → %d", trust, r.stars[a].trust)
	}
	// a is absent altogether: it loses MissDock, far less than a fault.
	mustObserve(t, r, epoch(both, []interfaces.StarID{b}, 100))
	if want := mulQ(trust, q-r.cfg.MissDock); r.stars[a].trust != want {
		t.Fatalf("absent member trust %d → %d, want %d", trust, r.stars[a].trust, want)
	}
}

func TestScoresDecayWhileIdle(t *testing.T) {
	r := mustNew(t, "")
	a := star("v", 1)
	for range 100 {
		mustObserve(t, r, epoch([]interfaces.StarID{a}, []interfaces.StarID{a}, 100))
	}
	start := r.Score(a)
	prev := start
	for i := 1; i <= 3000; i++ {
		mustObserve(t, r, interfaces.Observation{})
		if s := r.Score(a); s > prev {
			t.Fatalf("idle round %d: score rose from %d to %d", i, prev, s)
		} else {
			prev = s
		}
	}
	if prev > start/10 {
		t.Fatalf("after 3000 idle rounds the score is %d, started at %d: want below 10%%", prev, start)
	}
}

func TestLivenessAndLatencyFeatures(t *testing.T) {
	r := mustNew(t, `{"decay": 0}`)
	fast, slow, absent := star("v", 1), star("v", 2), star("v", 3)
	members := []interfaces.StarID{fast, slow, absent}
	for range 40 {
		o := epoch(members, []interfaces.StarID{fast, slow}, 0)
		o.Meta.LatencyMillis = []uint32{50, 2000, 0}
		// Members are sorted by id in real metadata; align by position.
		mustObserve(t, r, o)
	}
	f, s, a := r.normalize(r.stars[fast]), r.normalize(r.stars[slow]), r.normalize(r.stars[absent])
	if a[2] != 0 || f[2] <= q*9/10 || s[2] != f[2] {
		t.Fatalf("liveness: fast %d slow %d absent %d", f[2], s[2], a[2])
	}
	if !(f[3] > s[3] && s[3] > 0 && a[3] == 0) {
		t.Fatalf("latency feature: fast %d slow %d absent %d", f[3], s[3], a[3])
	}
	if r.stars[fast].latencyMicros != 50_000 {
		t.Fatalf("latency EWMA of a constant 50 ms is %d µs", r.stars[fast].latencyMicros)
	}
	if r.Score(fast) <= r.Score(slow) || r.Score(slow) <= r.Score(absent) {
		t.Fatalf("scores not ordered fast > slow > absent: %d %d %d", r.Score(fast), r.Score(slow), r.Score(absent))
	}
}

func TestAgeIsTenureAndResourcesStayZeroUntilFed(t *testing.T) {
	r := mustNew(t, "")
	a, b := star("v", 1), star("v", 2)
	mustObserve(t, r, interfaces.Observation{Interactions: []interfaces.Interaction{{From: a, To: b, Amount: 1}}})
	if f := r.normalize(r.stars[a]); f[5] != 0 {
		t.Fatalf("a star never a member has age %d", f[5])
	}
	for range 10 {
		mustObserve(t, r, epoch([]interfaces.StarID{a}, []interfaces.StarID{a}, 10))
	}
	ex := r.Explain(a)
	if ex.FirstMember != 2 || ex.Features[5].Raw != 10 {
		t.Fatalf("tenure: first member %d, age raw %d; want 2 and 10", ex.FirstMember, ex.Features[5].Raw)
	}
	if ex.Features[6].Name != FeatureResources || ex.Features[6].Raw != 0 || ex.Features[6].Normalized != 0 {
		t.Fatalf("resources feature %+v, want 0 until fed", ex.Features[6])
	}
	if !strings.Contains(ex.String(), "bucket") {
		t.Fatalf("explanation text lacks the bucket:\n%s", ex)
	}
}

func TestTemporalPageRankStreamingUpdate(t *testing.T) {
	// Hand-computed with α = 0.85, β = 0.5 (Rozenshtein & Gionis 2016,
	// Algorithm 1) for the edges a→b then b→c.
	var a, b, c meme
	alpha, beta := uint64(850_000_000), uint64(500_000_000)
	tprStep(&a, &b, alpha, beta)
	tprStep(&b, &c, alpha, beta)
	want := []struct {
		name string
		got  uint64
		want uint64
	}{
		{"r(a)", a.tprR, 150_000_000}, {"s(a)", a.tprS, 75_000_000},
		{"r(b)", b.tprR, 127_500_000 + 150_000_000}, {"s(b)", b.tprS, 106_875_000},
		{"r(c)", c.tprR, 181_687_500}, {"s(c)", c.tprS, 90_843_750},
	}
	for _, w := range want {
		if w.got != w.want {
			t.Errorf("%s = %d, want %d", w.name, w.got, w.want)
		}
	}
	// β = 1: all active mass moves on.
	var x, y meme
	tprStep(&x, &y, alpha, q)
	if x.tprS != 0 || y.tprS != 127_500_000 {
		t.Errorf("β=1: s(x)=%d s(y)=%d", x.tprS, y.tprS)
	}
}

func TestTemporalPageRankRespectsTimeOrder(t *testing.T) {
	alpha, beta := uint64(850_000_000), uint64(500_000_000)
	var a1, b1, c1, a2, b2, c2 meme
	tprStep(&a1, &b1, alpha, beta) // a→b then b→c: a temporal path a→b→c exists
	tprStep(&b1, &c1, alpha, beta)
	tprStep(&b2, &c2, alpha, beta) // b→c then a→b: it does not
	tprStep(&a2, &b2, alpha, beta)
	if c1.tprR <= c2.tprR {
		t.Fatalf("r(c) with a time-respecting path %d should exceed r(c) without %d", c1.tprR, c2.tprR)
	}
}

func TestMaxFlowDinicOnKnownGraph(t *testing.T) {
	// CLRS figure 26.1: max-flow 23.
	g := newFlowGraph(6, 9)
	const s, v1, v2, v3, v4, tt = 0, 1, 2, 3, 4, 5
	for _, a := range [][3]int{{s, v1, 16}, {s, v2, 13}, {v1, v3, 12}, {v2, v1, 4}, {v2, v4, 14}, {v3, v2, 9}, {v3, tt, 20}, {v4, v3, 7}, {v4, tt, 4}} {
		g.addArc(a[0], a[1], uint64(a[2]))
	}
	if f := g.maxFlow(s, tt, 100); f != 23 {
		t.Fatalf("max-flow %d, want 23", f)
	}
	// The phase bound cuts the work short with a valid smaller flow.
	g2 := newFlowGraph(6, 9)
	for _, a := range [][3]int{{s, v1, 16}, {s, v2, 13}, {v1, v3, 12}, {v2, v1, 4}, {v2, v4, 14}, {v3, v2, 9}, {v3, tt, 20}, {v4, v3, 7}, {v4, tt, 4}} {
		g2.addArc(a[0], a[1], uint64(a[2]))
	}
	if f := g2.maxFlow(s, tt, 1); f == 0 || f > 23 {
		t.Fatalf("one phase gave flow %d", f)
	}
}

func TestFlowCreditIsBoundedByFlowFromEvaluators(t *testing.T) {
	ev, mid, leaf, island, other := star("f", 0), star("f", 1), star("f", 2), star("f", 3), star("f", 4)
	r := mustNew(t, fmt.Sprintf(`{"seeds": [%q], "flow_interval": 1, "flow_saturation": 100}`, ev))
	mustObserve(t, r, interfaces.Observation{Interactions: []interfaces.Interaction{
		{From: ev, To: mid, Amount: 1000},
		{From: mid, To: leaf, Amount: 30}, // leaf can get at most 30 of 100
		{From: island, To: other, Amount: 1000},
	}})
	if got := r.stars[ev].flow; got != q {
		t.Errorf("evaluator credit %d, want full", got)
	}
	if got := r.stars[mid].flow; got != q {
		t.Errorf("mid credit %d, want full (1000 ≥ saturation 100)", got)
	}
	if got := r.stars[leaf].flow; got != 300_000_000 {
		t.Errorf("leaf credit %d, want 0.3 (30 of 100)", got)
	}
	if r.stars[island].flow != 0 || r.stars[other].flow != 0 {
		t.Errorf("stars unreachable from the evaluators have credit %d, %d", r.stars[island].flow, r.stars[other].flow)
	}
	if r.normalize(r.stars[other])[7] != 0 {
		t.Errorf("unreachable star has interaction feature %d despite its PageRank", r.normalize(r.stars[other])[7])
	}
}

func TestColludingEvaluatorLiftsAtMostItsBudget(t *testing.T) {
	ev := star("c", 0)
	r := mustNew(t, fmt.Sprintf(`{"seeds": [%q], "flow_interval": 1, "evaluator_budget": 4}`, ev))
	var o interfaces.Observation
	for i := 1; i <= 100; i++ { // the evaluator pays a ring of 100 friends lavishly
		o.Interactions = append(o.Interactions, interfaces.Interaction{From: ev, To: star("c", i), Amount: 1_000_000})
	}
	mustObserve(t, r, o)
	var total uint64
	for i := 1; i <= 100; i++ {
		total += r.stars[star("c", i)].flow
	}
	if total != 4*q {
		t.Fatalf("one evaluator handed out %s full credits, want its budget of 4", formatFixed(total))
	}
}

func TestSnapshotRestoreRoundTripAndStrictness(t *testing.T) {
	r := mustNew(t, `{"flow_interval": 2}`)
	for i := range 40 {
		o := epoch([]interfaces.StarID{star("v", i%3), star("v", 3+i%2)}, []interfaces.StarID{star("v", i%3)}, uint32(10*i), star("v", 3+i%2))
		o.Interactions = []interfaces.Interaction{{From: star("v", i%5), To: star("v", (i+1)%5), Amount: uint64(i)}}
		mustObserve(t, r, o)
	}
	snap, err := r.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	r2 := mustNew(t, `{"flow_interval": 2}`)
	if err := r2.Restore(snap); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if r2.tprNorm != r.tprNorm || r2.round != r.round {
		t.Fatalf("restored derived state differs")
	}
	other := mustNew(t, `{"flow_interval": 3}`)
	if err := other.Restore(snap); err == nil || !strings.Contains(err.Error(), "different configuration") {
		t.Fatalf("Restore into a differently configured instance: %v", err)
	}
	// Every strict prefix is an error and leaves the state untouched.
	before, _ := r2.Snapshot()
	for n := 0; n < len(snap); n += 1 + len(snap)/200 {
		if err := r2.Restore(snap[:n]); err == nil {
			t.Fatalf("Restore of a %d-byte prefix of %d accepted", n, len(snap))
		}
	}
	after, _ := r2.Snapshot()
	if string(before) != string(after) {
		t.Fatalf("failed restores changed the state")
	}
}

func FuzzRestore(f *testing.F) {
	r := mustNew(f, "")
	a, b := star("v", 1), star("v", 2)
	o := epoch([]interfaces.StarID{a, b}, []interfaces.StarID{a}, 5, b)
	o.Interactions = []interfaces.Interaction{{From: a, To: b, Amount: 3}}
	mustObserve(f, r, o)
	snap, _ := r.Snapshot()
	f.Add(snap)
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, data []byte) {
		x := mustNew(t, "")
		if err := x.Restore(data); err != nil {
			return
		}
		// A snapshot that restores is canonical and usable.
		again, err := x.Snapshot()
		if err != nil {
			t.Fatalf("Snapshot after a successful Restore: %v", err)
		}
		if string(again) != string(data) {
			t.Fatalf("accepted a non-canonical snapshot: %x re-encodes as %x", data, again)
		}
		if err := x.Observe(o); err != nil {
			t.Fatalf("Observe after Restore: %v", err)
		}
		x.Scores()
		if _, err := x.Select([]interfaces.StarID{a, b}, 2, interfaces.Hash{}); err != nil {
			t.Fatalf("Select after Restore: %v", err)
		}
	})
}
