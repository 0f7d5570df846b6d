package honeybadger_test

import (
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/constellation-chain/constellation/builtin/honeybadger"
	"github.com/constellation-chain/constellation/conformance"
	"github.com/constellation-chain/constellation/interfaces"
)

// TestConformance runs the shared consensus conformance suite (agreement,
// validity, termination under asynchrony, Byzantine members, censorship
// resilience, crash-restart replay, robustness, determinism) at every
// cluster size the issue names, N ∈ {4, 7, 10, 16}. make test runs two
// seeds per case, which keeps the suite within a few minutes on two cores
// with real BLS12-381 cryptography; CONSTELLATION_CONFORMANCE_FULL=1 runs
// the suite's full ten seeds (about twelve minutes there), and -short its
// quick subset.
func TestConformance(t *testing.T) {
	if testing.Short() || os.Getenv("CONSTELLATION_CONFORMANCE_FULL") == "1" {
		conformance.RunConsensus(t, honeybadger.Factory{})
		return
	}
	conformance.RunConsensusWith(t, honeybadger.Factory{}, conformance.ConsensusOptions{
		Sizes: []int{4, 7, 10, 16},
		Seeds: 2,
	})
}

// overclaim is the protocol-only engine claiming censorship resilience it
// does not have, so the suite runs the censorship cases against it.
type overclaim struct{ honeybadger.Factory }

func (o overclaim) Info() interfaces.PluginInfo {
	info := o.Factory.Info()
	info.Capabilities = append(info.Capabilities, interfaces.CapCensorship)
	return info
}

func runOne(f interfaces.ConsensusFactory) []conformance.Result {
	r := &conformance.Runner{ShortMode: true}
	r.Run("consensus", func(tb conformance.TB) {
		conformance.ConsensusSuiteWith(tb, f, conformance.ConsensusOptions{Sizes: []int{4}, Seeds: 1})
	})
	return r.Results()
}

func failed(results []conformance.Result, name, want string) bool {
	for _, res := range results {
		if res.Name == name && res.Status == conformance.Fail && strings.Contains(strings.Join(res.Messages, "\n"), want) {
			return true
		}
	}
	return false
}

// TestWithoutEncryptionThePlaintextSchedulerCensors: HoneyBadger with
// threshold encryption passes the plaintext-scheduler case (TestConformance);
// the same engine with encryption off, made to claim the capability, fails
// it, because the scheduler recognises the marker in the shards it carries.
func TestWithoutEncryptionThePlaintextSchedulerCensors(t *testing.T) {
	res := runOne(overclaim{honeybadger.ProtocolOnly()})
	if !failed(res, "consensus/censorship-plaintext-scheduler/N=4", "censorship resilience violated") {
		t.Fatalf("HoneyBadger without encryption passed the plaintext-scheduler case: %+v", res)
	}
}

// amnesiac is HoneyBadger that forgets its votes across a restart: at its
// first live call after a restart it re-sends each READY and AUX of its
// earlier lives with another root or value. Lives are told apart by the
// instance's seed, which the simulator derives per run and node.
type amnesiac struct {
	honeybadger.Factory
	lives *sync.Map // ConsensusConfig.Seed -> *life
}

type life struct {
	calls int // inputs consumed by live instances so far: a restart replays them
	sent  []interfaces.OutMessage
}

type amnesiacEngine struct {
	interfaces.Consensus
	l      *life
	replay int // calls still to come from the replayed log
	revote bool
}

func (a amnesiac) NewConsensus(cfg interfaces.ConsensusConfig) (interfaces.Consensus, error) {
	c, err := a.Factory.NewConsensus(cfg)
	if err != nil {
		return nil, err
	}
	v, _ := a.lives.LoadOrStore(cfg.Seed, &life{})
	l := v.(*life)
	return &amnesiacEngine{Consensus: c, l: l, replay: l.calls, revote: l.calls > 0}, nil
}

// CheckFault passes the engine's own rules through, so the suite judges the
// amnesiac by them.
func (e *amnesiacEngine) CheckFault(f interfaces.Fault, to []interfaces.StarID, ps [][]byte) error {
	return e.Consensus.(interfaces.FaultChecker).CheckFault(f, to, ps)
}

func (e *amnesiacEngine) Step(from interfaces.StarID, p []byte) (interfaces.Output, error) {
	return e.wrap(e.Consensus.Step(from, p))
}

func (e *amnesiacEngine) Propose(p []byte) (interfaces.Output, error) {
	return e.wrap(e.Consensus.Propose(p))
}

func (e *amnesiacEngine) wrap(out interfaces.Output, err error) (interfaces.Output, error) {
	if e.replay > 0 {
		e.replay--
		return out, err
	}
	e.l.calls++
	if e.revote {
		e.revote = false
		for _, m := range e.l.sent {
			msg, derr := honeybadger.DecodeMessage(m.Payload)
			if derr != nil {
				continue
			}
			switch msg.Type {
			case honeybadger.MsgReady:
				msg.Root[0] ^= 0xff
			case honeybadger.MsgAux:
				msg.Value ^= 1
			default:
				continue
			}
			out.Messages = append(out.Messages, interfaces.OutMessage{To: m.To, Epoch: m.Epoch, Payload: msg.Encode()})
		}
	}
	e.l.sent = append(e.l.sent, out.Messages...)
	return out, err
}

// TestRestartCaseCatchesAMemberThatContradictsItself shows the
// restart-at-any-point case failing on an engine that, restarted, votes
// again differently: its own FaultChecker proves the equivocation.
func TestRestartCaseCatchesAMemberThatContradictsItself(t *testing.T) {
	res := runOne(amnesiac{lives: &sync.Map{}})
	if !failed(res, "consensus/restart-at-any-point/N=4", "restart safety violated") {
		t.Fatalf("an engine that contradicts itself after a restart passed: %+v", res)
	}
}

// malleable is HoneyBadger whose "group signature" is the concatenation of
// the shares it was given: it verifies, but it is not unique, so it could
// never seed a selection beacon.
type malleable struct{ honeybadger.Factory }

type malleableEngine struct{ *honeybadger.Engine }

func (m malleable) NewConsensus(cfg interfaces.ConsensusConfig) (interfaces.Consensus, error) {
	c, err := m.Factory.NewConsensus(cfg)
	if err != nil {
		return nil, err
	}
	return malleableEngine{c.(*honeybadger.Engine)}, nil
}

func (m malleableEngine) CombineShares(msg []byte, shares []interfaces.SignatureShare) ([]byte, error) {
	var out []byte
	for _, s := range shares {
		out = append(out, s.Share...)
	}
	return out, nil
}

func (m malleableEngine) VerifyGroupSignature(msg, sig []byte) error { return nil }

func TestThresholdSignatureCaseCatchesANonUniqueSignature(t *testing.T) {
	if !failed(runOne(malleable{}), "consensus/threshold-signature/N=4", "unique") {
		t.Fatal("a signer whose group signature depends on the shares chosen passed")
	}
}
