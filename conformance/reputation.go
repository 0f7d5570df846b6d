package conformance

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/interfaces"
)

// RunReputation runs the reputation conformance suite against f as subtests
// of t. Call it from a plugin's own test:
//
//	func TestConformance(t *testing.T) { conformance.RunReputation(t, myplugin.Factory{}) }
func RunReputation(t *testing.T, f interfaces.ReputationFactory) {
	t.Helper()
	ReputationSuite(FromTesting(t), f)
}

// ReputationSuite runs every reputation case under t. Each case builds its
// own instances with f.NewReputation(nil) (the plugin's defaults) and feeds
// them observations from a seeded generator, so a failure names the seed
// and is reproducible. The properties checked are those of
// interfaces.Reputation: determinism (also across Snapshot/Restore when
// interfaces.CapSnapshot is claimed), k distinct sorted delegates from the
// candidates, an error (never a panic) for too few candidates, seed
// sensitivity, bounded selection work at 10k candidates, and robustness
// against garbage snapshots and odd observations.
func ReputationSuite(t TB, f interfaces.ReputationFactory) {
	t.Helper()
	cases := []struct {
		name string
		run  func(TB, interfaces.ReputationFactory)
	}{
		{"info-describes-a-reputation-plugin", repInfo},
		{"determinism-same-observations-same-scores-and-selections", repDeterminism},
		{"snapshot-restore-determinism", repSnapshotDeterminism},
		{"unknown-stars-share-the-newcomer-score", repNewcomerScore},
		{"selection-returns-k-distinct-sorted-candidates", repSelectionShape},
		{"selection-with-too-few-candidates-is-an-error", repTooFew},
		{"different-seeds-give-different-selections", repSeedSensitivity},
		{"selection-at-10k-candidates-completes-in-bounded-time", repSelectionScale},
		{"restore-of-garbage-is-an-error", repRestoreGarbage},
		{"observe-with-odd-inputs-never-panics", repOddObservations},
	}
	for _, c := range cases {
		t.Run(c.name, func(t TB) { c.run(t, f) })
	}
}

// repGen generates a reproducible stream of observations: a validator set
// taking turns as members of a 7-seat epoch, most contributions included,
// occasional faults, and random interactions among all stars.
type repGen struct {
	rng        *rand.Rand
	validators []interfaces.StarID
	all        []interfaces.StarID
	height     uint64
}

// repStar returns a deterministic star id for the suite's namespace.
func repStar(ns string, i int) interfaces.StarID {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(i))
	return interfaces.StarID(interfaces.DomainSum("constellation/conformance/reputation/star/"+ns, b[:]))
}

func newRepGen(seed uint64, validators, others int) *repGen {
	g := &repGen{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	for i := 0; i < validators; i++ {
		g.validators = append(g.validators, repStar("validator", i))
	}
	g.all = append(g.all, g.validators...)
	for i := 0; i < others; i++ {
		g.all = append(g.all, repStar("other", i))
	}
	return g
}

func (g *repGen) next() interfaces.Observation {
	g.height++
	perm := g.rng.Perm(len(g.validators))
	seats := min(7, len(g.validators))
	members := make([]interfaces.StarID, 0, seats)
	for _, i := range perm[:seats] {
		members = append(members, g.validators[i])
	}
	sort.Slice(members, func(i, j int) bool { return members[i].Less(members[j]) })
	var meta interfaces.BlockMeta
	meta.Members = members
	for _, m := range members {
		lat := uint32(0)
		if g.rng.IntN(10) > 0 {
			lat = uint32(1 + g.rng.IntN(900))
			meta.Proposers = append(meta.Proposers, m)
		}
		meta.LatencyMillis = append(meta.LatencyMillis, lat)
	}
	if g.rng.IntN(20) == 0 {
		meta.Faults = append(meta.Faults, interfaces.Fault{
			Star: members[g.rng.IntN(len(members))], Kind: interfaces.FaultEquivocation,
			Epoch: g.height, Evidence: []byte("conflicting votes"),
		})
	}
	var inter []interfaces.Interaction
	for n := g.rng.IntN(9); n > 0; n-- {
		a, b := g.all[g.rng.IntN(len(g.all))], g.all[g.rng.IntN(len(g.all))]
		inter = append(inter, interfaces.Interaction{From: a, To: b, Amount: uint64(1 + g.rng.IntN(100))})
	}
	return interfaces.Observation{
		Cluster: 0, Height: g.height, Epoch: g.height, Timestamp: int64(g.height) * 1000,
		Meta: meta, Interactions: inter,
	}
}

func (g *repGen) take(n int) []interfaces.Observation {
	out := make([]interfaces.Observation, n)
	for i := range out {
		out[i] = g.next()
	}
	return out
}

// safely runs f and turns a panic into an error naming what was called.
func repSafely(what string, f func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%s %w: %v", what, errRepPanicked, v)
		}
	}()
	return f()
}

func repNew(t TB, f interfaces.ReputationFactory) interfaces.Reputation {
	t.Helper()
	var r interfaces.Reputation
	err := repSafely("NewReputation(nil)", func() error {
		var err error
		r, err = f.NewReputation(nil)
		return err
	})
	if err != nil {
		t.Fatalf("NewReputation with the default (empty) config: %v", err)
	}
	if r == nil {
		t.Fatalf("NewReputation returned a nil instance and no error")
	}
	return r
}

func repFeed(t TB, r interfaces.Reputation, obs []interfaces.Observation, label string) {
	t.Helper()
	for _, o := range obs {
		if err := repSafely("Observe", func() error { return r.Observe(o) }); err != nil {
			t.Fatalf("%s: Observe(height %d) of a well-formed generated observation: %v", label, o.Height, err)
		}
	}
}

func repSelect(r interfaces.Reputation, cands []interfaces.StarID, k int, seed interfaces.Hash) ([]interfaces.StarID, error) {
	var out []interfaces.StarID
	err := repSafely(fmt.Sprintf("Select(k=%d, %d candidates)", k, len(cands)), func() error {
		var err error
		out, err = r.Select(cands, k, seed)
		return err
	})
	return out, err
}

func repSeed(i int) interfaces.Hash {
	return interfaces.DomainSum("constellation/conformance/reputation/seed", []byte{byte(i >> 8), byte(i)})
}

// compareInstances checks that a and b give identical scores for every star
// of g and identical selections for a few seeds and sizes.
func repCompare(t TB, a, b interfaces.Reputation, g *repGen, label string) {
	t.Helper()
	for _, s := range g.all {
		if sa, sb := a.Score(s), b.Score(s); sa != sb {
			t.Fatalf("%s: Score(%s) differs: %d vs %d", label, s.Short(), sa, sb)
		}
	}
	for i := 0; i < 5; i++ {
		for _, k := range []int{1, 7, len(g.all) / 2} {
			sa, errA := repSelect(a, g.all, k, repSeed(i))
			sb, errB := repSelect(b, g.all, k, repSeed(i))
			if (errA == nil) != (errB == nil) {
				t.Fatalf("%s: Select(k=%d, seed %d) errors differ: %v vs %v", label, k, i, errA, errB)
			}
			if errA != nil {
				t.Fatalf("%s: Select(k=%d, seed %d, %d candidates): %v", label, k, i, len(g.all), errA)
			}
			if !repEqualStars(sa, sb) {
				t.Fatalf("%s: Select(k=%d, seed %d) differs:\n%v\n%v", label, k, i, repShortStars(sa), repShortStars(sb))
			}
		}
	}
}

func repEqualStars(a, b []interfaces.StarID) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func repShortStars(s []interfaces.StarID) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = x.Short()
	}
	return out
}

func repInfo(t TB, f interfaces.ReputationFactory) {
	info := f.Info()
	if err := info.Validate(); err != nil {
		t.Fatalf("Info().Validate(): %v", err)
	}
	if info.Kind != interfaces.KindReputation {
		t.Errorf("Info().Kind = %q, want %q", info.Kind, interfaces.KindReputation)
	}
	ok := false
	for _, v := range info.APIVersions {
		ok = ok || v == interfaces.APIVersion
	}
	if !ok {
		t.Errorf("Info().APIVersions = %v does not include %d", info.APIVersions, interfaces.APIVersion)
	}
}

func repDeterminism(t TB, f interfaces.ReputationFactory) {
	const seed = 1
	g := newRepGen(seed, 30, 60)
	obs := g.take(300)
	a, b := repNew(t, f), repNew(t, f)
	for i, o := range obs {
		repFeed(t, a, []interfaces.Observation{o}, "instance A")
		repFeed(t, b, []interfaces.Observation{o}, "instance B")
		if i%50 == 49 {
			repCompare(t, a, b, g, fmt.Sprintf("determinism (generator seed %d, after %d observations)", seed, i+1))
		}
	}
}

func repSnapshotDeterminism(t TB, f interfaces.ReputationFactory) {
	if !f.Info().Has(interfaces.CapSnapshot) {
		t.Skipf("plugin does not claim capability %q (interfaces.CapSnapshot)", interfaces.CapSnapshot)
	}
	const seed = 2
	g := newRepGen(seed, 30, 60)
	first, second := g.take(200), g.take(200)
	a := repNew(t, f)
	repFeed(t, a, first, "original")
	snap, err := a.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot after %d observations (generator seed %d): %v", len(first), seed, err)
	}
	b := repNew(t, f)
	if err := repSafely("Restore", func() error { return b.Restore(snap) }); err != nil {
		t.Fatalf("Restore of a fresh snapshot (%d bytes, generator seed %d): %v", len(snap), seed, err)
	}
	again, err := b.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot of the restored instance: %v", err)
	}
	if !bytes.Equal(snap, again) {
		t.Fatalf("snapshot is not canonical: restoring %d bytes and snapshotting again gave %d different bytes", len(snap), len(again))
	}
	repCompare(t, a, b, g, "right after restore")
	// Restore also replaces a non-empty state entirely.
	c := repNew(t, f)
	repFeed(t, c, newRepGen(99, 10, 10).take(50), "unrelated history")
	if err := c.Restore(snap); err != nil {
		t.Fatalf("Restore over an instance with unrelated history: %v", err)
	}
	for i, o := range second {
		repFeed(t, a, []interfaces.Observation{o}, "never snapshotted")
		repFeed(t, b, []interfaces.Observation{o}, "restored into a fresh instance")
		repFeed(t, c, []interfaces.Observation{o}, "restored over other history")
		if i%50 == 49 {
			label := fmt.Sprintf("snapshot/restore (generator seed %d, %d observations after the snapshot)", seed, i+1)
			repCompare(t, a, b, g, label+", fresh")
			repCompare(t, a, c, g, label+", over other history")
		}
	}
	sa, errA := a.Snapshot()
	sb, errB := b.Snapshot()
	if errA != nil || errB != nil {
		t.Fatalf("final snapshots: %v, %v", errA, errB)
	}
	if !bytes.Equal(sa, sb) {
		t.Errorf("final snapshots differ after identical histories (%d vs %d bytes)", len(sa), len(sb))
	}
}

func repNewcomerScore(t TB, f interfaces.ReputationFactory) {
	r := repNew(t, f)
	repFeed(t, r, newRepGen(3, 20, 20).take(100), "history")
	x, y := repStar("never-seen", 1), repStar("never-seen", 2)
	if sx, sy := r.Score(x), r.Score(y); sx != sy {
		t.Errorf("two never-seen stars have different scores %d and %d; both must have the newcomer score", sx, sy)
	}
}

func repCheckSelection(t TB, got, cands []interfaces.StarID, k int, label string) {
	t.Helper()
	if len(got) != k {
		t.Fatalf("%s: got %d delegates, want k=%d", label, len(got), k)
	}
	in := map[interfaces.StarID]bool{}
	for _, c := range cands {
		in[c] = true
	}
	for i, s := range got {
		if !in[s] {
			t.Fatalf("%s: delegate %s is not a candidate", label, s.Short())
		}
		if i > 0 && !got[i-1].Less(s) {
			t.Fatalf("%s: result not strictly sorted by StarID (duplicate or out of order at %d: %s, %s)", label, i, got[i-1].Short(), s.Short())
		}
	}
}

func repSelectionShape(t TB, f interfaces.ReputationFactory) {
	g := newRepGen(4, 30, 60)
	r := repNew(t, f)
	repFeed(t, r, g.take(200), "history")
	// Candidates: known validators, known others and never-seen stars, with
	// duplicates, in a shuffled order.
	var cands []interfaces.StarID
	cands = append(cands, g.all...)
	for i := 0; i < 20; i++ {
		cands = append(cands, repStar("unseen", i))
	}
	cands = append(cands, g.all[:25]...)
	rng := rand.New(rand.NewPCG(4, 4))
	rng.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
	distinct := len(g.all) + 20
	for _, k := range []int{0, 1, 2, 7, 31, 100, distinct} {
		for i := 0; i < 3; i++ {
			label := fmt.Sprintf("Select(k=%d, %d candidates with duplicates, %d distinct, seed %d)", k, len(cands), distinct, i)
			got, err := repSelect(r, cands, k, repSeed(i))
			if err != nil {
				t.Fatalf("%s: %v", label, err)
			}
			repCheckSelection(t, got, cands, k, label)
		}
	}
	before := append([]interfaces.StarID(nil), cands...)
	if _, err := repSelect(r, cands, 7, repSeed(0)); err != nil {
		t.Fatalf("Select: %v", err)
	}
	if !repEqualStars(before, cands) {
		t.Errorf("Select modified the caller's candidate slice")
	}
}

func repTooFew(t TB, f interfaces.ReputationFactory) {
	r := repNew(t, f)
	repFeed(t, r, newRepGen(5, 10, 10).take(50), "history")
	a, b, c := repStar("few", 1), repStar("few", 2), repStar("few", 3)
	for _, tc := range []struct {
		cands []interfaces.StarID
		k     int
	}{
		{nil, 1},
		{[]interfaces.StarID{a, b, c}, 4},
		{[]interfaces.StarID{a, a, a, b}, 3}, // four entries, two distinct
	} {
		got, err := repSelect(r, tc.cands, tc.k, repSeed(0))
		if err == nil {
			t.Errorf("Select(k=%d, candidates %v) = %v, want an error (fewer distinct candidates than k)", tc.k, repShortStars(tc.cands), repShortStars(got))
		} else if errors.Is(err, errRepPanicked) {
			t.Errorf("%v", err)
		}
	}
}

var errRepPanicked = errors.New("panicked")

func repSeedSensitivity(t TB, f interfaces.ReputationFactory) {
	g := newRepGen(6, 30, 60)
	r := repNew(t, f)
	repFeed(t, r, g.take(200), "history")
	const k = 10
	seen := map[string]bool{}
	for i := 0; i < 20; i++ {
		got, err := repSelect(r, g.all, k, repSeed(i))
		if err != nil {
			t.Fatalf("Select(k=%d, %d candidates, seed %d): %v", k, len(g.all), i, err)
		}
		key := fmt.Sprint(repShortStars(got))
		seen[key] = true
	}
	if len(seen) < 2 {
		t.Errorf("20 different seeds gave the same selection of %d from %d candidates: the seed does not drive the draw", k, len(g.all))
	}
}

func repSelectionScale(t TB, f interfaces.ReputationFactory) {
	const n, k = 10000, 100
	g := newRepGen(7, 200, 2000)
	r := repNew(t, f)
	repFeed(t, r, g.take(200), "history")
	cands := make([]interfaces.StarID, 0, n)
	cands = append(cands, g.all...)
	for i := len(cands); i < n; i++ {
		cands = append(cands, repStar("scale", i))
	}
	// A generous bound: this checks the selection is not super-linear in a
	// pathological way, not the machine's speed, so it allows for noisy
	// shared machines. Three runs; the fastest counts.
	const bound = 5 * time.Second
	best := time.Duration(1<<63 - 1)
	for i := 0; i < 3; i++ {
		start := time.Now()
		got, err := repSelect(r, cands, k, repSeed(i))
		el := time.Since(start)
		if err != nil {
			t.Fatalf("Select(k=%d, %d candidates, seed %d): %v", k, n, i, err)
		}
		repCheckSelection(t, got, cands, k, fmt.Sprintf("Select(k=%d, %d candidates, seed %d)", k, n, i))
		best = min(best, el)
	}
	t.Logf("Select(k=%d) from %d candidates: fastest of 3 runs %v", k, n, best)
	if best > bound {
		t.Errorf("Select(k=%d) from %d candidates took %v (fastest of 3), above the generous bound of %v", k, n, best, bound)
	}
}

func repRestoreGarbage(t TB, f interfaces.ReputationFactory) {
	r := repNew(t, f)
	g := newRepGen(8, 10, 10)
	repFeed(t, r, g.take(50), "history")
	good, err := r.Snapshot()
	if err != nil && f.Info().Has(interfaces.CapSnapshot) {
		t.Fatalf("Snapshot: %v", err)
	}
	rng := rand.New(rand.NewPCG(8, 8))
	random := make([]byte, 512)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	inputs := []struct {
		name string
		b    []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"one zero byte", []byte{0}},
		{"one 0xff byte", []byte{0xff}},
		{"512 random bytes", random},
	}
	if len(good) > 1 {
		inputs = append(inputs,
			struct {
				name string
				b    []byte
			}{"valid snapshot truncated by one byte", good[:len(good)-1]},
			struct {
				name string
				b    []byte
			}{"valid snapshot plus a trailing byte", append(append([]byte(nil), good...), 0)},
			struct {
				name string
				b    []byte
			}{"valid snapshot with its first byte flipped", append([]byte{good[0] ^ 0xff}, good[1:]...)},
		)
	}
	want := r.Score(g.all[0])
	for _, in := range inputs {
		err := repSafely("Restore", func() error { return r.Restore(in.b) })
		if err == nil {
			t.Errorf("Restore(%s, %d bytes) returned no error", in.name, len(in.b))
			continue
		}
		if errors.Is(err, errRepPanicked) {
			t.Errorf("Restore(%s): %v", in.name, err)
		}
	}
	if f.Info().Has(interfaces.CapSnapshot) {
		if got := r.Score(g.all[0]); got != want {
			t.Errorf("a failed Restore changed the state: Score(%s) was %d, now %d", g.all[0].Short(), want, got)
		}
	}
	if _, err := repSelect(r, g.all, 3, repSeed(0)); err != nil {
		t.Errorf("Select after failed Restores: %v", err)
	}
}

func repOddObservations(t TB, f interfaces.ReputationFactory) {
	a, b := repStar("odd", 1), repStar("odd", 2)
	var zero interfaces.StarID
	odd := []struct {
		name string
		o    interfaces.Observation
	}{
		{"empty observation", interfaces.Observation{}},
		{"duplicate members", interfaces.Observation{Height: 1, Meta: interfaces.BlockMeta{Members: []interfaces.StarID{a, a, b}, LatencyMillis: []uint32{5, 7, 0}}}},
		{"more latencies than members", interfaces.Observation{Height: 2, Meta: interfaces.BlockMeta{Members: []interfaces.StarID{a}, LatencyMillis: []uint32{1, 2, 3}}}},
		{"fewer latencies than members", interfaces.Observation{Height: 3, Meta: interfaces.BlockMeta{Members: []interfaces.StarID{a, b}, LatencyMillis: []uint32{1}}}},
		{"proposer that is not a member", interfaces.Observation{Height: 4, Meta: interfaces.BlockMeta{Proposers: []interfaces.StarID{b}, Members: []interfaces.StarID{a}}}},
		{"zero star ids everywhere", interfaces.Observation{Height: 5, Meta: interfaces.BlockMeta{Proposers: []interfaces.StarID{zero}, Members: []interfaces.StarID{zero}, Faults: []interfaces.Fault{{Star: zero}}}, Interactions: []interfaces.Interaction{{From: zero, To: zero}}}},
		{"fault of an unknown star with unknown kind", interfaces.Observation{Height: 6, Meta: interfaces.BlockMeta{Faults: []interfaces.Fault{{Star: repStar("odd", 9), Kind: 255, Epoch: ^uint64(0)}}}}},
		{"the same fault twice", interfaces.Observation{Height: 7, Meta: interfaces.BlockMeta{Members: []interfaces.StarID{a}, Faults: []interfaces.Fault{{Star: a, Kind: 1, Epoch: 7}, {Star: a, Kind: 1, Epoch: 7}}}}},
		{"self-interaction", interfaces.Observation{Height: 8, Interactions: []interfaces.Interaction{{From: a, To: a, Amount: 5}}}},
		{"maximal amounts", interfaces.Observation{Height: 9, Interactions: []interfaces.Interaction{{From: a, To: b, Amount: ^uint64(0)}, {From: a, To: b, Amount: ^uint64(0)}, {From: b, To: a, Amount: ^uint64(0)}}}},
		{"maximal latencies", interfaces.Observation{Height: 10, Meta: interfaces.BlockMeta{Members: []interfaces.StarID{a, b}, Proposers: []interfaces.StarID{a, b}, LatencyMillis: []uint32{^uint32(0), ^uint32(0)}}}},
		{"height going backwards", interfaces.Observation{Height: 1, Epoch: 0, Timestamp: -1}},
	}
	r := repNew(t, f)
	repFeed(t, r, newRepGen(10, 10, 10).take(30), "history")
	for _, in := range odd {
		if err := repSafely("Observe", func() error { return r.Observe(in.o) }); errors.Is(err, errRepPanicked) {
			t.Errorf("Observe(%s): %v", in.name, err)
		}
	}
	// A long run of one member faulting in every block.
	for i := 0; i < 200; i++ {
		o := interfaces.Observation{Height: uint64(100 + i), Meta: interfaces.BlockMeta{Members: []interfaces.StarID{a, b}, Proposers: []interfaces.StarID{a}, Faults: []interfaces.Fault{{Star: b, Kind: 1, Epoch: uint64(i)}}}}
		if err := repSafely("Observe", func() error { return r.Observe(o) }); errors.Is(err, errRepPanicked) {
			t.Fatalf("Observe(block %d of a member faulting in every block): %v", i, err)
		}
	}
	// The instance must still answer.
	for _, s := range []interfaces.StarID{a, b, zero} {
		if err := repSafely("Score", func() error { r.Score(s); return nil }); err != nil {
			t.Errorf("Score(%s) after odd observations: %v", s.Short(), err)
		}
	}
	if _, err := repSelect(r, []interfaces.StarID{a, b, zero}, 3, repSeed(0)); errors.Is(err, errRepPanicked) {
		t.Errorf("Select after odd observations: %v", err)
	}
	if f.Info().Has(interfaces.CapSnapshot) {
		snap, err := r.Snapshot()
		if err != nil {
			t.Fatalf("Snapshot after odd observations: %v", err)
		}
		c := repNew(t, f)
		if err := repSafely("Restore", func() error { return c.Restore(snap) }); err != nil {
			t.Errorf("Restore of the snapshot taken after odd observations: %v", err)
		}
	}
}
