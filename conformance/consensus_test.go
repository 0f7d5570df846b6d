package conformance_test

import (
	"strings"
	"testing"

	"github.com/constellation-chain/constellation/conformance"
	"github.com/constellation-chain/constellation/conformance/sim"
	"github.com/constellation-chain/constellation/conformance/sim/simtest"
	"github.com/constellation-chain/constellation/interfaces"
)

// The suite passes on a correct (non fault tolerant) multi-member engine,
// running the non-Byzantine cases and skipping the rest visibly.
func TestConsensusSuitePassesOnAllcast(t *testing.T) {
	conformance.RunConsensus(t, simtest.AllcastFactory{})
}

// brokenFactory builds Allcast engines in which odd-indexed members decide
// their epoch's contributions in reverse order: agreement is broken.
type brokenFactory struct{ simtest.AllcastFactory }

type brokenEngine struct {
	*simtest.Allcast
	reverse bool
}

func (brokenFactory) Info() interfaces.PluginInfo {
	info := simtest.AllcastFactory{}.Info()
	info.Name = "broken-order-test"
	return info
}

func (brokenFactory) NewConsensus(cfg interfaces.ConsensusConfig) (interfaces.Consensus, error) {
	a, err := simtest.NewAllcast(cfg)
	if err != nil {
		return nil, err
	}
	return &brokenEngine{a, cfg.Index(cfg.Self)%2 == 1}, nil
}

func (b *brokenEngine) fix(out interfaces.Output, err error) (interfaces.Output, error) {
	if b.reverse {
		for _, d := range out.Decisions {
			c := d.Contributions
			for i, j := 0, len(c)-1; i < j; i, j = i+1, j-1 {
				c[i], c[j] = c[j], c[i]
			}
		}
	}
	return out, err
}

func (b *brokenEngine) Propose(c []byte) (interfaces.Output, error) {
	return b.fix(b.Allcast.Propose(c))
}

func (b *brokenEngine) Step(from interfaces.StarID, p []byte) (interfaces.Output, error) {
	return b.fix(b.Allcast.Step(from, p))
}

func TestConsensusSuiteReportsBrokenAgreementReadably(t *testing.T) {
	r := &conformance.Runner{ShortMode: true}
	r.Run("consensus", func(tb conformance.TB) { conformance.ConsensusSuite(tb, brokenFactory{}) })
	if !r.Failed() {
		t.Fatal("the suite passed an engine whose members decide different orders")
	}
	var msg string
	for _, res := range r.Results() {
		if res.Name == "consensus/agreement/N=4" && res.Status == conformance.Fail {
			msg = strings.Join(res.Messages, "\n")
		}
	}
	if msg == "" {
		t.Fatalf("consensus/agreement/N=4 did not fail; results: %+v", r.Results())
	}
	for _, want := range []string{"agreement violated", "N=4", "seed=", "epoch 1", "node 0", "node 1"} {
		if !strings.Contains(msg, want) {
			t.Errorf("failure message lacks %q:\n%s", want, msg)
		}
	}
	t.Logf("the suite reports:\n%s", msg)
}

// panicky panics on any empty payload: the robustness case must catch it
// and report the panic text rather than crash.
type panickyFactory struct{ simtest.AllcastFactory }

type panickyEngine struct{ *simtest.Allcast }

func (panickyFactory) NewConsensus(cfg interfaces.ConsensusConfig) (interfaces.Consensus, error) {
	a, err := simtest.NewAllcast(cfg)
	return panickyEngine{a}, err
}

func (p panickyEngine) Step(from interfaces.StarID, b []byte) (interfaces.Output, error) {
	if len(b) == 0 {
		panic("empty payload reached the decoder")
	}
	return p.Allcast.Step(from, b)
}

func TestConsensusSuiteReportsPanicsOnMalformedInput(t *testing.T) {
	r := &conformance.Runner{ShortMode: true}
	r.Run("consensus", func(tb conformance.TB) { conformance.ConsensusSuite(tb, panickyFactory{}) })
	found := false
	for _, res := range r.Results() {
		if strings.HasPrefix(res.Name, "consensus/robustness/N=") && res.Status == conformance.Fail {
			msg := strings.Join(res.Messages, "\n")
			if strings.Contains(msg, "robustness violated") && strings.Contains(msg, "empty payload reached the decoder") {
				found = true
			}
		}
	}
	if !found {
		t.Fatalf("robustness case did not report the panic; results: %+v", r.Results())
	}
}

// The suite skips what an engine does not claim, naming the capability.
func TestConsensusSuiteSkipsUnclaimedCapabilitiesVisibly(t *testing.T) {
	r := &conformance.Runner{ShortMode: true}
	r.Run("consensus", func(tb conformance.TB) { conformance.ConsensusSuite(tb, simtest.AllcastFactory{}) })
	want := map[string]string{
		"consensus/byzantine/silent":      interfaces.CapFaultTolerance,
		"consensus/censorship-resilience": interfaces.CapCensorship,
	}
	for _, res := range r.Results() {
		if res.Status == conformance.Fail {
			t.Errorf("%s failed: %v", res.Name, res.Messages)
		}
		if c, ok := want[res.Name]; ok {
			if res.Status != conformance.Skip || !strings.Contains(strings.Join(res.Messages, " "), c) {
				t.Errorf("%s: status %s, messages %v; want a skip naming %q", res.Name, res.Status, res.Messages, c)
			}
			delete(want, res.Name)
		}
	}
	if len(want) > 0 {
		t.Errorf("cases never reported: %v", want)
	}
}

// The reference fault-tolerant engine passes every case it claims,
// including the Byzantine ones.
// An engine-specific behaviour runs beside the built-in ones.
func TestConsensusSuitePassesOnReferenceACS(t *testing.T) {
	conformance.RunConsensusWith(t, simtest.ACSFactory{}, conformance.ConsensusOptions{
		Behaviours: []conformance.ByzantineBehaviour{{
			Name: "flip-votes",
			New:  func(uint64, int) sim.Behaviour { return simtest.ACSFlipVotes() },
		}},
	})
}

// censorFactory wraps the reference engine, claims censorship resilience,
// and optionally has every member drop the tracked transaction from its
// own contribution, as a censoring proposer would.
type censorFactory struct {
	simtest.ACSFactory
	censor bool
}

func (censorFactory) Info() interfaces.PluginInfo {
	info := simtest.ACSFactory{}.Info()
	info.Name = "acs-censorship-test"
	info.Capabilities = append(info.Capabilities, interfaces.CapCensorship)
	return info
}

type censorEngine struct {
	interfaces.Consensus
	censor bool
}

func (f censorFactory) NewConsensus(cfg interfaces.ConsensusConfig) (interfaces.Consensus, error) {
	a, err := simtest.NewACS(cfg)
	return censorEngine{a, f.censor}, err
}

func (c censorEngine) Propose(data []byte) (interfaces.Output, error) {
	if c.censor {
		if b, err := interfaces.DecodeTxBatch(data); err == nil && len(b.Txs) > 1 {
			b.Txs = b.Txs[:1]
			data = b.Encode()
		}
	}
	return c.Consensus.Propose(data)
}

func TestCensorshipCaseRunsWhenClaimed(t *testing.T) {
	r := &conformance.Runner{ShortMode: true}
	r.Run("consensus", func(tb conformance.TB) { conformance.ConsensusSuite(tb, censorFactory{}) })
	ran, caught := false, false
	for _, res := range r.Results() {
		// The reference ACS sends contributions in the clear: a scheduler
		// that reads them censors it, and the suite must say so.
		if strings.HasPrefix(res.Name, "consensus/censorship-plaintext-scheduler") {
			if res.Name == "consensus/censorship-plaintext-scheduler/N=4" && res.Status == conformance.Fail &&
				strings.Contains(strings.Join(res.Messages, "\n"), "censorship resilience violated") {
				caught = true
			}
			continue
		}
		if res.Status == conformance.Fail {
			t.Errorf("%s failed: %v", res.Name, res.Messages)
		}
		if res.Name == "consensus/censorship-resilience/N=4" && res.Status == conformance.Pass {
			ran = true
		}
	}
	if !ran {
		t.Fatalf("censorship case did not pass at N=4: %+v", r.Results())
	}
	if !caught {
		t.Fatalf("an engine that proposes in the clear passed the plaintext-scheduler case: %+v", r.Results())
	}
}

func TestCensorshipCaseCatchesACensoringEngine(t *testing.T) {
	r := &conformance.Runner{ShortMode: true}
	r.Run("consensus", func(tb conformance.TB) { conformance.ConsensusSuite(tb, censorFactory{censor: true}) })
	for _, res := range r.Results() {
		if res.Name == "consensus/censorship-resilience/N=4" && res.Status == conformance.Fail &&
			strings.Contains(strings.Join(res.Messages, "\n"), "censorship resilience violated") {
			return
		}
	}
	t.Fatalf("a censoring engine was not caught: %+v", r.Results())
}

// overclaimFactory is Allcast claiming fault tolerance it does not have.
type overclaimFactory struct{ simtest.AllcastFactory }

func (overclaimFactory) Info() interfaces.PluginInfo {
	info := simtest.AllcastFactory{}.Info()
	info.Name = "overclaiming-test"
	info.Capabilities = append(info.Capabilities, interfaces.CapFaultTolerance)
	return info
}

func TestConsensusSuiteCatchesAnOverclaimedCapability(t *testing.T) {
	r := &conformance.Runner{ShortMode: true}
	r.Run("consensus", func(tb conformance.TB) { conformance.ConsensusSuite(tb, overclaimFactory{}) })
	for _, res := range r.Results() {
		if res.Name == "consensus/byzantine/silent/N=4" && res.Status == conformance.Fail {
			msg := strings.Join(res.Messages, "\n")
			for _, want := range []string{"termination violated", "byzantine=[", "behaviour=silent", "seed="} {
				if !strings.Contains(msg, want) {
					t.Errorf("failure message lacks %q:\n%s", want, msg)
				}
			}
			return
		}
	}
	t.Fatalf("an engine that stalls with one silent member passed the Byzantine case: %+v", r.Results())
}
