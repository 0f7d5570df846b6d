package conformance

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"strings"

	"github.com/constellation-chain/constellation/conformance/sim"
	"github.com/constellation-chain/constellation/interfaces"
)

// consRobustnessInputs bounds the random payloads fed per sender.
const consRobustnessInputs = 300

// robustness feeds one instance hostile network input directly: empty and
// nil payloads, every single byte, random bytes, and real messages from
// other members truncated, bit-flipped, extended and sent under the wrong
// sender (unknown stars, the zero id, itself). Step must never panic and
// never return an error for network input.
func (s *consensusSuite) robustness(t TB) {
	s.forSizes(t, func(t TB, n int) {
		seed := uint64(7000 + n)
		cfgs, err := sim.Configs(s.f, n, s.faultyCount(n), consFirstEpoch, sim.SeedFromUint64(seed), 100*n, s.params)
		if err != nil {
			t.Fatalf("robustness: N=%d seed=%d: build configs: %v", n, seed, err)
		}
		sc := consScenario{n: n, seed: seed}
		rb := &consRobust{t: t, s: s, n: n, seed: seed}

		// Real messages: every other member proposes once.
		var real [][]byte
		var realFrom []interfaces.StarID
		for i := 1; i < n; i++ {
			m := rb.instance(cfgs[i], i)
			if m == nil {
				return
			}
			out, ok := rb.call(i, "Propose", func() (interfaces.Output, error) { return m.Propose(sc.contribution(i, consFirstEpoch)) })
			if !ok {
				return
			}
			for _, msg := range out.Messages {
				real = append(real, msg.Payload)
				realFrom = append(realFrom, cfgs[i].Self)
			}
		}

		victim := rb.instance(cfgs[0], 0)
		if victim == nil {
			return
		}
		// A nil contribution is the host's business; it may be refused but
		// must not panic.
		if _, ok := rb.call(0, "Propose(nil)", func() (interfaces.Output, error) {
			out, _ := victim.Propose(nil)
			return out, nil
		}); !ok {
			return
		}

		unknown := interfaces.DevStar("conformance/robustness/unknown-star")
		senders := []interfaces.StarID{unknown, {}, cfgs[0].Self}
		if n > 1 {
			senders = append(senders, cfgs[n-1].Self)
		}
		rng := rand.New(rand.NewPCG(seed, 0x5eed))
		step := func(from interfaces.StarID, p []byte) bool {
			desc := fmt.Sprintf("Step(from %s, %d-byte payload %x)", from.Short(), len(p), p[:min(len(p), 16)])
			_, ok := rb.call(0, desc, func() (interfaces.Output, error) { return victim.Step(from, p) })
			return ok
		}
		for _, from := range senders {
			if !step(from, nil) || !step(from, []byte{}) {
				return
			}
			for b := range 256 {
				if !step(from, []byte{byte(b)}) {
					return
				}
			}
			for range consRobustnessInputs {
				p := make([]byte, rng.IntN(512))
				for i := range p {
					p[i] = byte(rng.Uint32())
				}
				if !step(from, p) {
					return
				}
			}
		}
		for k, msg := range real {
			for cut := 0; cut < len(msg); cut += 1 + len(msg)/64 {
				if !step(realFrom[k], bytes.Clone(msg[:cut])) {
					return
				}
			}
			for range 64 {
				p := bytes.Clone(msg)
				if len(p) == 0 {
					break
				}
				bit := rng.IntN(len(p) * 8)
				p[bit/8] ^= 1 << (bit % 8)
				if !step(realFrom[k], p) {
					return
				}
			}
			if !step(realFrom[k], append(bytes.Clone(msg), 0, 1, 2, 3)) ||
				!step(unknown, bytes.Clone(msg)) ||
				!step(cfgs[0].Self, bytes.Clone(msg)) {
				return
			}
			// The genuine message, twice: duplicates are normal network input.
			if !step(realFrom[k], bytes.Clone(msg)) || !step(realFrom[k], bytes.Clone(msg)) {
				return
			}
		}
	})
}

// consRobust runs single engine calls, turning panics and errors into failures
// that name the call.
type consRobust struct {
	t    TB
	s    *consensusSuite
	n    int
	seed uint64
}

func (rb *consRobust) instance(cfg interfaces.ConsensusConfig, node int) interfaces.Consensus {
	var (
		m   interfaces.Consensus
		err error
	)
	func() {
		defer func() {
			if v := recover(); v != nil {
				err = fmt.Errorf("panic: %v\n%s", v, debug.Stack())
			}
		}()
		m, err = rb.s.f.NewConsensus(cfg)
	}()
	if err == nil && m == nil {
		err = fmt.Errorf("factory returned a nil instance")
	}
	if err != nil {
		rb.t.Errorf("robustness: N=%d seed=%d: build instance for node %d: %v", rb.n, rb.seed, node, err)
		return nil
	}
	return m
}

func (rb *consRobust) call(node int, desc string, f func() (interfaces.Output, error)) (out interfaces.Output, ok bool) {
	defer func() {
		if v := recover(); v != nil {
			rb.t.Errorf("robustness violated: N=%d seed=%d: node %d panicked on %s: %v\n%s", rb.n, rb.seed, node, desc, v, debug.Stack())
			ok = false
		}
	}()
	out, err := f()
	if err != nil {
		why := "a fresh instance must accept its first proposal"
		if strings.HasPrefix(desc, "Step") {
			why = "network input must be ignored or reported as a fault, never an error"
		}
		rb.t.Errorf("robustness violated: N=%d seed=%d: node %d returned an error on %s: %v; %s", rb.n, rb.seed, node, desc, err, why)
		return out, false
	}
	return out, true
}
