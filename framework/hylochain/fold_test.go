package hylochain_test

import (
	"errors"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/constellation-chain/constellation/framework/hylochain"
	"github.com/constellation-chain/constellation/framework/ledger"
	"github.com/constellation-chain/constellation/framework/ledger/ledgertest"
	"github.com/constellation-chain/constellation/interfaces"
)

// toyRules: a payload "bad" is malformed; any two different payloads are
// an equivocation.
type toyRules struct{}

func (toyRules) CheckFault(f interfaces.Fault, _ []interfaces.StarID, ps [][]byte) error {
	switch {
	case f.Kind == interfaces.FaultMalformed && len(ps) == 1 && string(ps[0]) == "bad":
		return nil
	case f.Kind == interfaces.FaultEquivocation && len(ps) == 2 && string(ps[0]) != string(ps[1]):
		return nil
	}
	return errors.New("no rule broken")
}

type fixture struct {
	w       *ledgertest.World
	state   *ledger.MemState
	inst    hylochain.Instance
	members []string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	names := []string{"a", "b", "c", "d"}
	var members []interfaces.StarID
	for _, n := range names {
		members = append(members, interfaces.DevStar(n))
	}
	slices.SortFunc(members, interfaces.CompareStars)
	w := ledgertest.NewWorld("fold", 3, 1000)
	st, err := ledger.NewMemState(w.Genesis)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{w: w, state: st, members: names, inst: hylochain.Instance{
		ID: interfaces.NewInstanceID("fold", "cluster/0", 0, members), Members: members, Checker: toyRules{},
	}}
}

func (fx *fixture) signed(name string, epoch uint64, payload string) interfaces.SignedMessage {
	m := interfaces.SignedMessage{Instance: fx.inst.ID, Epoch: epoch, Payload: []byte(payload)}
	m.Sign(interfaces.DevKey(name))
	return m
}

func (fx *fixture) fault(kind interfaces.FaultKind, ms ...interfaces.SignedMessage) interfaces.Fault {
	return interfaces.Fault{Star: ms[0].From, Kind: kind, Epoch: ms[0].Epoch, Evidence: (&interfaces.Evidence{Messages: ms}).Encode()}
}

func (fx *fixture) fold(t *testing.T, d interfaces.Decision) *hylochain.Result {
	t.Helper()
	res, err := hylochain.Fold(fx.inst, fx.state, hylochain.Parent{Ref: fx.state.Parent(), Timestamp: fx.w.Genesis.Timestamp}, d)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func contribution(name string, b interfaces.TxBatch) interfaces.ContributionFrom {
	return interfaces.ContributionFrom{Proposer: interfaces.DevStar(name), Data: b.Encode()}
}

func TestFoldIsAFunctionOfTheDecisionAlone(t *testing.T) {
	fx := newFixture(t)
	tx, err := fx.w.Transfer(fx.state, 0, 1, 5)
	if err != nil {
		t.Fatal(err)
	}
	bad := fx.fault(interfaces.FaultMalformed, fx.signed("d", 3, "bad"))
	d := interfaces.Decision{Epoch: 3, Contributions: []interfaces.ContributionFrom{
		contribution("a", interfaces.TxBatch{Timestamp: fx.w.Genesis.Timestamp + 10, Txs: []*interfaces.Transaction{tx}, Faults: []interfaces.Fault{bad}, Latency: []uint32{1, 20, 30, 0}}),
		contribution("b", interfaces.TxBatch{Timestamp: fx.w.Genesis.Timestamp + 30, Txs: []*interfaces.Transaction{tx}, Latency: []uint32{25, 1, 35, 0}}),
		contribution("c", interfaces.TxBatch{Timestamp: fx.w.Genesis.Timestamp + 20, Latency: []uint32{15, 22, 1, 40}}),
	}}
	one, two := fx.fold(t, d), fx.fold(t, d)
	if one.Block.Hash() != two.Block.Hash() {
		t.Fatal("the same decision folded into two blocks")
	}
	b := one.Block
	if len(b.Txs) != 1 || one.Duplicates != 1 {
		t.Fatalf("%d transactions, %d duplicates; want 1 and 1", len(b.Txs), one.Duplicates)
	}
	if b.Header.Timestamp != fx.w.Genesis.Timestamp+20 {
		t.Fatalf("timestamp %d, want the median", b.Header.Timestamp)
	}
	if len(b.Meta.Faults) != 1 || b.Meta.Faults[0].Star != interfaces.DevStar("d") {
		t.Fatalf("faults %+v", b.Meta.Faults)
	}
	if len(b.Meta.Proposers) != 3 {
		t.Fatalf("proposers %v", b.Meta.Proposers)
	}
	// Reports per member, "not heard" (0) sorting last: lower medians.
	if want := []uint32{15, 20, 30, 0}; !slices.Equal(b.Meta.LatencyMillis, want) {
		t.Fatalf("latency %v, want %v", b.Meta.LatencyMillis, want)
	}
}

func TestFoldAdmitsOnlyFaultsWhoseEvidenceVerifies(t *testing.T) {
	fx := newFixture(t)
	d1, d2 := fx.signed("d", 4, "x"), fx.signed("d", 4, "y")
	c1 := fx.signed("c", 4, "x")
	forged := d2
	forged.Payload = []byte("z")
	honest := fx.fault(interfaces.FaultMalformed, fx.signed("c", 4, "fine"))
	outsider := fx.signed("zed", 4, "bad")
	cases := []interfaces.Fault{
		fx.fault(interfaces.FaultEquivocation, d1, forged), // forged signature; does not block the real one
		fx.fault(interfaces.FaultEquivocation, d1, d2),     // admitted
		fx.fault(interfaces.FaultEquivocation, d2, d1),     // same key: once
		fx.fault(interfaces.FaultEquivocation, c1, d1),     // mixes signers
		honest, // breaks no rule
		fx.fault(interfaces.FaultMalformed, outsider), // not a member
		{Star: interfaces.DevStar("b"), Kind: interfaces.FaultMalformed, Epoch: 4, Evidence: []byte("I saw it")},
	}
	d := interfaces.Decision{Epoch: 4, Contributions: []interfaces.ContributionFrom{
		contribution("a", interfaces.TxBatch{Faults: cases}),
		contribution("b", interfaces.TxBatch{Faults: []interfaces.Fault{fx.fault(interfaces.FaultMalformed, fx.signed("a", 2, "bad"))}}),
	}}
	res := fx.fold(t, d)
	got := res.Block.Meta.Faults
	if len(got) != 2 {
		t.Fatalf("admitted %d faults, want 2: %+v", len(got), got)
	}
	if !slices.IsSortedFunc(got, func(x, y interfaces.Fault) int {
		return hylochain.CompareFaultKeys(hylochain.KeyOf(x), hylochain.KeyOf(y))
	}) {
		t.Fatal("faults are not in key order")
	}
	if res.BadEvidence != 5 {
		t.Fatalf("%d refused, want 5", res.BadEvidence)
	}
}

func TestUndecodableContributionCountsAsNotProposed(t *testing.T) {
	fx := newFixture(t)
	d := interfaces.Decision{Epoch: 0, Contributions: []interfaces.ContributionFrom{
		contribution("a", interfaces.TxBatch{}),
		{Proposer: interfaces.DevStar("b"), Data: []byte{0xff, 0xff}},
	}}
	res := fx.fold(t, d)
	if len(res.Block.Meta.Proposers) != 1 || len(res.Undecodable) != 1 || res.Undecodable[0] != interfaces.DevStar("b") {
		t.Fatalf("proposers %v, undecodable %v", res.Block.Meta.Proposers, res.Undecodable)
	}
}

// TestLatencyMedianStaysWithinTheHonestReports: with k ≥ 2f+1 reports of
// which at most f lie arbitrarily, each member's aggregate lies between
// the smallest and largest honest report (0, "not heard", ranking above
// every latency).
func TestLatencyMedianStaysWithinTheHonestReports(t *testing.T) {
	fx := newFixture(t)
	rank := func(v uint32) uint64 {
		if v == 0 {
			return 1 << 32
		}
		return uint64(v)
	}
	rapid.Check(t, func(rt *rapid.T) {
		f := rapid.IntRange(0, 1).Draw(rt, "f")
		k := rapid.IntRange(2*f+1, 4).Draw(rt, "k")
		gen := rapid.SliceOfN(rapid.Uint32Range(0, 5000), 4, 4)
		var cs []interfaces.ContributionFrom
		var honest [][]uint32
		for i := 0; i < k; i++ {
			r := gen.Draw(rt, "report")
			if i >= f {
				honest = append(honest, r)
			}
			cs = append(cs, contribution(fx.members[i], interfaces.TxBatch{Latency: r}))
		}
		got := fx.fold(t, interfaces.Decision{Epoch: 1, Contributions: cs}).Block.Meta.LatencyMillis
		for j := range 4 {
			lo, hi := ^uint64(0), uint64(0)
			for _, r := range honest {
				lo, hi = min(lo, rank(r[j])), max(hi, rank(r[j]))
			}
			if g := rank(got[j]); g < lo || g > hi {
				rt.Fatalf("member %d: aggregate %d outside the honest range [%d, %d]", j, got[j], lo, hi)
			}
		}
	})
}
