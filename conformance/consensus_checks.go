package conformance

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"strings"
	"sync"

	"github.com/constellation-chain/constellation/conformance/sim"
	"github.com/constellation-chain/constellation/interfaces"
)

// consNetwork is the schedule a scenario runs under.
type consNetwork struct {
	name       string
	delay      sim.Delay
	dup        float64
	partitions []sim.Partition
	crashes    []sim.Crash
}

// consScenario is one simulated run of the suite.
type consScenario struct {
	property  string
	n, f      int
	seed      uint64
	epochs    int
	net       consNetwork
	byzantine []int
	behaviour func() sim.Behaviour // fresh per run; nil when byzantine is empty
	marker    []byte               // a transaction every honest node holds
	censor    func([]byte) bool    // a plaintext-reading scheduler (sim.Config.Censor)
	record    bool                 // keep every node's sent messages (sim.Config.RecordSent)
}

// consFirstEpoch is the first epoch of every run (ConsensusConfig.Epoch);
// not zero, so an engine that ignores the configured epoch is caught.
const consFirstEpoch = 1

// newScenario is a run of property at size n under network nw, with the
// suite's f and epoch goal.
func (s *consensusSuite) newScenario(property string, n int, seed uint64, nw consNetwork) consScenario {
	return consScenario{property: property, n: n, f: s.faultyCount(n), seed: seed, epochs: s.epochs(), net: nw}
}

// String names the run so a reader of CI output can reproduce it.
func (sc consScenario) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "N=%d f=%d seed=%d epochs=%d network=%s", sc.n, sc.f, sc.seed, sc.epochs, sc.net.name)
	if len(sc.byzantine) > 0 {
		fmt.Fprintf(&b, " byzantine=%v behaviour=%s", sc.byzantine, sc.behaviour().Name())
	}
	for _, c := range sc.net.crashes {
		if c.AfterSteps > 0 {
			fmt.Fprintf(&b, " crash(node %d after %d steps, down %v)", c.Node, c.AfterSteps, c.Downtime)
		} else {
			fmt.Fprintf(&b, " crash(node %d at %v, down %v)", c.Node, c.At, c.Downtime)
		}
	}
	return b.String()
}

// consDevKeys caches the dev keys the suite's proposers sign with.
var consDevKeys sync.Map // name -> ed25519.PrivateKey

// consDataTx builds a signed TxData transaction from the dev key named name.
func consDataTx(name string, seq uint64, payload string) *interfaces.Transaction {
	k, ok := consDevKeys.Load(name)
	if !ok {
		k, _ = consDevKeys.LoadOrStore(name, interfaces.DevKey(name))
	}
	priv := k.(ed25519.PrivateKey)
	sender, _ := interfaces.StarIDFromPublicKey(priv.Public().(ed25519.PublicKey))
	tx := &interfaces.Transaction{Sender: sender, Seq: seq, Kind: interfaces.TxData, Payload: []byte(payload)}
	if seq > 1 {
		tx.Prev = interfaces.DomainSum("conformance/prev", []byte(name), []byte(fmt.Sprint(seq-1)))
	}
	_ = tx.Sign(priv)
	return tx
}

// contribution is what the suite proposes for node in epoch: a canonical
// TxBatch (the kernel's own contribution format) holding one transaction
// unique to (seed, node, epoch), plus the marker if the node holds it.
func (sc consScenario) contribution(node int, epoch uint64) []byte {
	tx := consDataTx(fmt.Sprintf("conformance/proposer/%d", node), epoch, fmt.Sprintf("seed %d node %d epoch %d", sc.seed, node, epoch))
	b := interfaces.TxBatch{Timestamp: int64(epoch)*1000 + int64(node), Txs: []*interfaces.Transaction{tx}}
	if sc.marker != nil && !consContains(sc.byzantine, node) {
		m, err := interfaces.DecodeTransaction(sc.marker)
		if err == nil {
			b.Txs = append(b.Txs, m)
		}
	}
	return b.Encode()
}

func consContains(s []int, x int) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// simConfig turns a scenario into a simulator config.
func (s *consensusSuite) simConfig(sc consScenario) sim.Config {
	c := sim.Config{
		Factory:       s.f,
		N:             sc.n,
		Faulty:        sc.f,
		Seed:          sim.SeedFromUint64(sc.seed),
		FirstEpoch:    consFirstEpoch,
		Epochs:        sc.epochs,
		Contribution:  sc.contribution,
		BatchSize:     100 * sc.n,
		Params:        s.params,
		Delay:         sc.net.delay,
		DuplicateProb: sc.net.dup,
		Partitions:    sc.net.partitions,
		Crashes:       sc.net.crashes,
		Censor:        sc.censor,
		RecordSent:    sc.record,
		// Generous bounds: an engine that needs more is not terminating.
		MaxSteps: max(200_000, 400*sc.n*sc.n*sc.n*sc.epochs),
		MaxTime:  600 * sim.Second,
	}
	if len(sc.byzantine) > 0 {
		c.Behaviours = make([]sim.Behaviour, sc.n)
		for _, i := range sc.byzantine {
			c.Behaviours[i] = sc.behaviour()
		}
	}
	return c
}

func (s *consensusSuite) run(t TB, sc consScenario) *sim.Result {
	t.Helper()
	r := sim.Run(s.simConfig(sc))
	if r.Reason == sim.SetupFailed {
		t.Fatalf("setup failed [case %s]: %s: could not set up the run: %v", sc.property, sc, r.Err)
	}
	return r
}

// consChecker reports violations of one run's properties.
type consChecker struct {
	t   TB
	s   *consensusSuite
	sc  consScenario
	r   *sim.Result
	ref int // the honest node other honest nodes are compared with
}

// check makes the checks every run must pass (no panic, no error on
// consNetwork input, no honest member blamed, decisions once each and in
// order) and returns a checker for the case's own properties.
func (s *consensusSuite) check(t TB, sc consScenario, r *sim.Result) *consChecker {
	t.Helper()
	c := &consChecker{t: t, s: s, sc: sc, r: r, ref: -1}
	// Compare everyone with the honest node that decided the most epochs,
	// so a disagreement anywhere in the common prefix is seen.
	for _, i := range r.Honest() {
		if c.ref < 0 || len(r.Nodes[i].Decisions) > len(r.Nodes[c.ref].Decisions) {
			c.ref = i
		}
	}
	if r.Reason == sim.Panicked {
		t.Errorf("robustness violated [case %s]: %s: the engine panicked: %s", sc.property, sc, r.Panic)
	}
	for i, e := range r.Errors {
		if i == 3 {
			t.Errorf("robustness violated [case %s]: %s: ... and %d more errors", sc.property, sc, len(r.Errors)-3)
			break
		}
		if strings.HasPrefix(e.Input, "step") {
			t.Errorf("robustness violated [case %s]: %s: node %d returned an error for network input (%s): %v; Step must report bad input as a fault, not an error",
				sc.property, sc, e.Node, e.Input, e.Err)
		} else {
			t.Errorf("proposal rejected [case %s]: %s: node %d returned an error for the host's proposal (%s): %v", sc.property, sc, e.Node, e.Input, e.Err)
		}
	}
	c.epochOrder()
	c.noHonestBlamed()
	return c
}

func (c *consChecker) node(i int) string {
	return fmt.Sprintf("node %d [%s]", i, c.r.Members[i].Short())
}

// describe renders a decision compactly: proposer index and a short hash of
// each contribution.
func (c *consChecker) describe(d interfaces.Decision) string {
	parts := make([]string, len(d.Contributions))
	for i, x := range d.Contributions {
		parts[i] = fmt.Sprintf("n%d:%s", c.r.IndexOf(x.Proposer), interfaces.Sum(x.Data).Short())
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// epochOrder: each honest node decides each epoch exactly once, in order,
// starting from the configured first epoch.
func (c *consChecker) epochOrder() {
	for _, i := range c.r.Honest() {
		for k, d := range c.r.Nodes[i].Decisions {
			if want := uint64(consFirstEpoch + k); d.Epoch != want {
				c.t.Errorf("decision order violated [case %s]: %s: %s emitted decision #%d for epoch %d, want epoch %d (every epoch exactly once, in order)",
					c.sc.property, c.sc, c.node(i), k+1, d.Epoch, want)
				return
			}
		}
	}
}

// agreement: all honest nodes decide the same contributions in the same
// order for every epoch both decided.
func (c *consChecker) agreement() {
	if c.ref < 0 {
		return
	}
	ref := c.r.Nodes[c.ref].Decisions
	for _, i := range c.r.Honest() {
		got := c.r.Nodes[i].Decisions
		for k := 0; k < min(len(ref), len(got)); k++ {
			if !ref[k].Equal(got[k]) {
				c.t.Errorf("agreement violated [case %s]: %s: epoch %d: %s decided %s but %s decided %s",
					c.sc.property, c.sc, ref[k].Epoch, c.node(c.ref), c.describe(ref[k]), c.node(i), c.describe(got[k]))
				return
			}
		}
	}
}

// validity: each decided epoch holds at least N-f contributions (for
// fault-tolerant engines; at least one otherwise) from distinct members,
// and an honest proposer's decided contribution is exactly what the host
// proposed for it in that epoch.
func (c *consChecker) validity() {
	want := 1
	if c.s.info.Has(interfaces.CapFaultTolerance) {
		want = c.sc.n - c.sc.f
	}
	for _, i := range c.r.Honest() {
		for _, d := range c.r.Nodes[i].Decisions {
			if len(d.Contributions) < want {
				c.t.Errorf("validity violated [case %s]: %s: epoch %d: %s decided %d contributions, want at least %d (N-f): %s",
					c.sc.property, c.sc, d.Epoch, c.node(i), len(d.Contributions), want, c.describe(d))
				return
			}
			var seen []int
			for _, x := range d.Contributions {
				p := c.r.IndexOf(x.Proposer)
				switch {
				case p < 0:
					c.t.Errorf("validity violated [case %s]: %s: epoch %d: %s decided a contribution from %s, who is not a member",
						c.sc.property, c.sc, d.Epoch, c.node(i), x.Proposer.Short())
					return
				case consContains(seen, p):
					c.t.Errorf("validity violated [case %s]: %s: epoch %d: %s decided two contributions from node %d: %s",
						c.sc.property, c.sc, d.Epoch, c.node(i), p, c.describe(d))
					return
				}
				seen = append(seen, p)
				if c.r.Nodes[p].Byzantine {
					continue
				}
				prop, ok := consProposal(c.r.Nodes[p].Proposals, d.Epoch)
				switch {
				case !ok:
					c.t.Errorf("validity violated [case %s]: %s: epoch %d: %s decided a contribution from honest node %d, which proposed nothing for that epoch",
						c.sc.property, c.sc, d.Epoch, c.node(i), p)
					return
				case !bytes.Equal(prop, x.Data):
					c.t.Errorf("validity violated [case %s]: %s: epoch %d: %s decided %d bytes (hash %s) as honest node %d's contribution, but it proposed %d bytes (hash %s)",
						c.sc.property, c.sc, d.Epoch, c.node(i), len(x.Data), interfaces.Sum(x.Data).Short(), p, len(prop), interfaces.Sum(prop).Short())
					return
				}
			}
		}
	}
}

func consProposal(ps []sim.Proposal, epoch uint64) ([]byte, bool) {
	for _, p := range ps {
		if p.Epoch == epoch {
			return p.Data, true
		}
	}
	return nil, false
}

// termination: every honest node decided the scenario's epochs before the
// simulator's step and time bounds.
func (c *consChecker) termination() {
	if c.r.Reason == sim.Done || c.r.Reason == sim.Panicked {
		return
	}
	var counts []string
	for _, i := range c.r.Honest() {
		counts = append(counts, fmt.Sprintf("node %d: %d/%d", i, len(c.r.Nodes[i].Decisions), c.sc.epochs))
	}
	c.t.Errorf("termination violated [case %s]: %s: the run stopped (%s) after %d steps at virtual time %v before every honest node decided; epochs decided: %s",
		c.sc.property, c.sc, c.r.Reason, c.r.Steps, c.r.Time, strings.Join(counts, ", "))
}

// noHonestBlamed: an engine claiming fault evidence must never report a
// fault naming an honest member.
func (c *consChecker) noHonestBlamed() {
	if !c.s.info.Has(interfaces.CapFaultEvidence) {
		return
	}
	for _, i := range c.r.Honest() {
		for _, f := range c.r.Nodes[i].Faults {
			j := c.r.IndexOf(f.Fault.Star)
			if j >= 0 && c.r.Nodes[j].Byzantine {
				continue
			}
			who := "a non-member " + f.Fault.Star.Short()
			if j >= 0 {
				who = "honest " + c.node(j)
			}
			c.t.Errorf("fault evidence wrong [case %s]: %s: epoch %d: %s reported a %s fault by %s at %v",
				c.sc.property, c.sc, f.Fault.Epoch, c.node(i), f.Fault.Kind, who, f.At)
			return
		}
	}
}

// faultsReported counts faults honest nodes reported about Byzantine ones.
func (c *consChecker) faultsReported() int {
	n := 0
	for _, i := range c.r.Honest() {
		for _, f := range c.r.Nodes[i].Faults {
			if j := c.r.IndexOf(f.Fault.Star); j >= 0 && c.r.Nodes[j].Byzantine {
				n++
			}
		}
	}
	return n
}

// committedWithin: marker appears in a contribution decided by every honest
// node within the first `bound` epochs.
func (c *consChecker) committedWithin(marker []byte, bound int) {
	for _, i := range c.r.Honest() {
		ds := c.r.Nodes[i].Decisions
		found := false
		for k := 0; k < min(bound, len(ds)) && !found; k++ {
			for _, x := range ds[k].Contributions {
				if bytes.Contains(x.Data, marker) {
					found = true
					break
				}
			}
		}
		if !found {
			c.t.Errorf("censorship resilience violated [case %s]: %s: a transaction held by all %d honest nodes from epoch %d was not committed by %s within %d epochs (it decided %d)",
				c.sc.property, c.sc, c.sc.n-len(c.sc.byzantine), consFirstEpoch, c.node(i), bound, len(ds))
			return
		}
	}
}

// replayConsistent: a restarted node fed its input log produced exactly
// what it produced the first time, so it can never send a message that
// conflicts with one it sent before the crash.
func (c *consChecker) replayConsistent() {
	for k, d := range c.r.Divergences {
		if k == 3 {
			break
		}
		c.t.Errorf("crash-restart replay violated [case %s]: %s: %s, restarted and fed its own input log, produced different output for logged input #%d (output hash %s, first time %s): after a restart it may send messages conflicting with those sent before the crash",
			c.sc.property, c.sc, c.node(d.Node), d.Input+1, d.Got.Short(), d.Want.Short())
	}
}

// noSelfEquivocation: no two messages node sent, in different lives (one
// before a restart, one after), prove an equivocation by the engine's own
// rules (interfaces.FaultChecker, asked through a fresh instance of
// another member). Engines without a checker are judged by
// replayConsistent alone.
func (c *consChecker) noSelfEquivocation(node int) {
	other := -1
	for _, i := range c.r.Honest() {
		if i != node {
			other = i
			break
		}
	}
	if other < 0 || c.r.Reason == sim.SetupFailed {
		return
	}
	inst, err := c.s.f.NewConsensus(c.r.Configs[other])
	if err != nil {
		c.t.Errorf("restart check [case %s]: %s: a fresh instance for %s to judge evidence: %v", c.sc.property, c.sc, c.node(other), err)
		return
	}
	defer closeIfCloser(inst)
	checker, ok := inst.(interfaces.FaultChecker)
	if !ok {
		return
	}
	byEpoch := map[uint64][]sim.SentMessage{}
	for _, m := range c.r.Nodes[node].SentLog {
		byEpoch[m.Epoch] = append(byEpoch[m.Epoch], m)
	}
	star := c.r.Members[node]
	for ep, ms := range byEpoch {
		for i := range ms {
			for j := i + 1; j < len(ms); j++ {
				a, b := ms[i], ms[j]
				if a.Life == b.Life || bytes.Equal(a.Payload, b.Payload) {
					continue
				}
				f := interfaces.Fault{Star: star, Kind: interfaces.FaultEquivocation, Epoch: ep}
				if checker.CheckFault(f, []interfaces.StarID{a.To, b.To}, [][]byte{a.Payload, b.Payload}) == nil {
					c.t.Errorf("restart safety violated [case %s]: %s: %s sent two messages of epoch %d that the engine's own rules call an equivocation, one before restart %d and one after restart %d: a restarted member contradicted itself",
						c.sc.property, c.sc, c.node(node), ep, a.Life, b.Life)
					return
				}
			}
		}
	}
}

func closeIfCloser(v any) {
	if c, ok := v.(interface{ Close() error }); ok {
		c.Close()
	}
}

// sameRun: a second run of the same scenario is identical.
func (c *consChecker) sameRun(b *sim.Result) {
	a := c.r
	if a.Digest == b.Digest {
		return
	}
	for i := range a.Nodes {
		da, db := a.Nodes[i].Decisions, b.Nodes[i].Decisions
		for k := 0; k < max(len(da), len(db)); k++ {
			if k >= len(da) || k >= len(db) {
				c.t.Errorf("determinism violated [case %s]: %s: %s decided %d epochs in one run and %d in a second run with the same seed and inputs",
					c.sc.property, c.sc, c.node(i), len(da), len(db))
				return
			}
			if !da[k].Equal(db[k]) {
				c.t.Errorf("determinism violated [case %s]: %s: epoch %d: %s decided %s in one run and %s in a second run with the same seed and inputs",
					c.sc.property, c.sc, da[k].Epoch, c.node(i), c.describe(da[k]), c.describe(db[k]))
				return
			}
		}
	}
	c.t.Errorf("determinism violated [case %s]: %s: two runs with the same seed and inputs differ (trace digests %s and %s, %d and %d steps): the engine's messages or faults depend on something other than its config and inputs",
		c.sc.property, c.sc, a.Digest.Short(), b.Digest.Short(), a.Steps, b.Steps)
}

// restarted: the crashed node really went down and came back, so the run
// exercised log replay.
func (c *consChecker) restarted(node int) {
	if c.r.Reason == sim.Done && c.r.Nodes[node].Restarts == 0 {
		c.t.Errorf("crash-restart replay not exercised [case %s]: %s: %s was scheduled to crash but never restarted; the run checked nothing",
			c.sc.property, c.sc, c.node(node))
	}
}
