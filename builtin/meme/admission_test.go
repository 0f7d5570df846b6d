package meme

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/constellation-chain/constellation/interfaces"
)

func TestPowQMatchesFloatPower(t *testing.T) {
	for _, base := range []uint64{0, 1, q / 2, 998_000_000, 999_500_000, q} {
		for _, n := range []uint64{0, 1, 2, 7, 100, 1000, 123456} {
			got := powQ(base, n)
			want := math.Pow(float64(base)/float64(q), float64(n)) * float64(q)
			if got > uint64(want)+1 || float64(got) < want*(1-1e-6)-float64(n) {
				t.Errorf("powQ(%d, %d) = %d, want about %.0f (never above)", base, n, got, want)
			}
		}
	}
}

func TestEdgeCapacityDecaysWithTime(t *testing.T) {
	a, b, c := star("cap", 0), star("cap", 1), star("cap", 2)
	r := mustNew(t, `{"decay": 0.1}`)
	mustObserve(t, r, interfaces.Observation{Interactions: []interfaces.Interaction{{From: a, To: b, Amount: 1000}}})
	e := r.edges[edgeKey{a, b}]
	if got := r.capacity(e, nil); got != 1000 {
		t.Fatalf("capacity in the round of the payment %d, want 1000", got)
	}
	for range 2 {
		mustObserve(t, r, interfaces.Observation{Interactions: []interfaces.Interaction{{From: b, To: c, Amount: 1}}})
	}
	if got := r.capacity(e, nil); got != 810 {
		t.Fatalf("capacity two rounds later %d, want 810 (1000·0.9²)", got)
	}
	// A new payment adds to the decayed amount.
	mustObserve(t, r, interfaces.Observation{Interactions: []interfaces.Interaction{{From: a, To: b, Amount: 10}}})
	if got := r.capacity(e, nil); got != 739 {
		t.Fatalf("capacity after a new payment %d, want 739 (810·0.9 rounded down + 10)", got)
	}
}

// TestAdmissionSpendsTheVouchingCapacity: one honest star A is the only
// bridge (100 units) from the evaluator to five identities behind it. While
// none of them has served, each is eligible (each needs 10 units); once two
// have been admitted they hold A's whole capacity for admission_window
// rounds, so the other three are not eligible until the window ends —
// while a newcomer paid directly by the evaluator stays eligible.
func TestAdmissionSpendsTheVouchingCapacity(t *testing.T) {
	ev, bridge, direct := star("adm", 0), star("adm", 1), star("adm", 2)
	var behind []interfaces.StarID
	for i := range 5 {
		behind = append(behind, star("behind", i))
	}
	r := mustNew(t, fmt.Sprintf(`{"seeds": [%q], "flow_interval": 1, "decay": 0, "newcomer_min_credit": 0.1, "admission_window": 20}`, ev))
	pay := []interfaces.Interaction{{From: ev, To: bridge, Amount: 100}, {From: ev, To: direct, Amount: 100}}
	for _, s := range behind {
		pay = append(pay, interfaces.Interaction{From: bridge, To: s, Amount: 1000})
	}
	mustObserve(t, r, interfaces.Observation{Interactions: pay})
	for _, s := range append([]interfaces.StarID{direct}, behind...) {
		if !r.eligible(r.stars[s]) {
			t.Fatalf("newcomer %s not eligible before anyone was admitted (credit %s)", s.Short(), formatFixed(r.stars[s].credit))
		}
	}
	admitted := behind[:2]
	mustObserve(t, r, epoch(sortedUnique(admitted), sortedUnique(admitted), 50))
	for _, s := range behind[2:] {
		if r.eligible(r.stars[s]) {
			t.Errorf("%s still eligible although the admitted hold the bridge's capacity (credit %s)", s.Short(), formatFixed(r.stars[s].credit))
		}
	}
	if !r.eligible(r.stars[direct]) {
		t.Errorf("a newcomer with its own voucher lost eligibility (credit %s)", formatFixed(r.stars[direct].credit))
	}
	for range 20 {
		mustObserve(t, r, interfaces.Observation{})
	}
	for _, s := range behind[2:] {
		if !r.eligible(r.stars[s]) {
			t.Errorf("%s not eligible after the admission window ended (credit %s)", s.Short(), formatFixed(r.stars[s].credit))
		}
	}
}

// TestUnreliableStarsOnlyFillExhaustedBuckets: members that withhold their
// contribution (or equivocate) leave the score buckets; they are drawn
// only once every other candidate is seated.
func TestUnreliableStarsOnlyFillExhaustedBuckets(t *testing.T) {
	r := mustNew(t, `{"newcomer_quota": 0}`)
	var good, silent, faulty []interfaces.StarID
	for i := range 10 {
		good = append(good, star("rel-good", i))
		silent = append(silent, star("rel-silent", i))
		faulty = append(faulty, star("rel-faulty", i))
	}
	all := sortedUnique(slices.Concat(good, silent, faulty))
	mustObserve(t, r, epoch(all, all, 10)) // everyone served once, correctly
	for range 5 {
		mustObserve(t, r, epoch(all, slices.Concat(good, faulty), 10)) // the silent ones withhold
	}
	mustObserve(t, r, epoch(all, slices.Concat(good, faulty), 10, faulty...))
	for _, s := range slices.Concat(silent, faulty) {
		if b := r.Explain(s).Bucket; b != UnreliableBucket {
			t.Fatalf("%s is in bucket %d, want unreliable", s.Short(), b)
		}
	}
	isGood := map[interfaces.StarID]bool{}
	for _, s := range good {
		isGood[s] = true
	}
	for i := range 50 {
		got, err := r.Select(all, 10, interfaces.Sum([]byte{byte(i)}))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range got {
			if !isGood[s] {
				t.Fatalf("draw %d seated unreliable %s while reliable stars were left", i, s.Short())
			}
		}
	}
	got, err := r.Select(all, 25, interfaces.Sum([]byte("exhausted")))
	if err != nil || len(got) != 25 {
		t.Fatalf("selection with buckets exhausted: %d seats, %v", len(got), err)
	}
}
