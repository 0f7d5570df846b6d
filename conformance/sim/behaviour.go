package sim

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/constellation-chain/constellation/interfaces"
)

// Send is one message leaving a node for one destination (a node index).
// Delay is added to the network's own delay: a Behaviour uses it to hold a
// message back.
type Send struct {
	To      int
	Payload []byte
	Delay   Time
}

// Env is what a Behaviour may use: who its node is, the run's random
// generator (the only source of randomness it may draw from, so the run
// stays a function of its seed), the virtual time, and what it needs to run
// extra honest instances (the factory, the node's config, its host
// contributions).
type Env struct {
	Node    int
	N       int
	Config  interfaces.ConsensusConfig
	Factory interfaces.ConsensusFactory
	Rand    *rand.Rand
	Now     Time
	// ProposeLimit: the host proposes only for epochs below it.
	ProposeLimit uint64

	sim *simulation
}

// Contribution returns the host's contribution for this node and epoch.
func (e *Env) Contribution(epoch uint64) []byte {
	return bytes.Clone(e.sim.contribution(e.Node, epoch))
}

// Behaviour makes a node Byzantine by intercepting its traffic. The node's
// own (honest) state machine still runs; the Behaviour sits between it and
// the network. All three hooks are called from the simulator's single loop,
// never concurrently. Engines can supply format-aware behaviours (an
// invalid coin share, a bad decryption share) by implementing this
// interface; embed Honest to get pass-through defaults.
type Behaviour interface {
	// Name names the behaviour in results and failure messages.
	Name() string
	// Propose may replace the contribution the host gives the node for epoch.
	Propose(env *Env, epoch uint64, contribution []byte) []byte
	// Input sees a message to the node before its state machine does; it
	// returns the payload to deliver (possibly mutated) or false to drop it.
	Input(env *Env, from int, payload []byte) ([]byte, bool)
	// Output sees everything the node's state machine sends, one Send per
	// destination, and returns what actually goes out. It may drop, mutate,
	// replace, delay or add messages. It is called after every input, even
	// when the machine sent nothing.
	Output(env *Env, out []Send) []Send
}

// Honest passes everything through; embed it to override only some hooks.
type Honest struct{}

// Name implements Behaviour.
func (Honest) Name() string { return "honest" }

// Propose implements Behaviour.
func (Honest) Propose(_ *Env, _ uint64, c []byte) []byte { return c }

// Input implements Behaviour.
func (Honest) Input(_ *Env, _ int, p []byte) ([]byte, bool) { return p, true }

// Output implements Behaviour.
func (Honest) Output(_ *Env, out []Send) []Send { return out }

// Silent never sends anything; it still receives.
type Silent struct{ Honest }

// Name implements Behaviour.
func (Silent) Name() string { return "silent" }

// Output implements Behaviour.
func (Silent) Output(*Env, []Send) []Send { return nil }

// crashAt behaves honestly for its first Step inputs, then neither receives
// nor sends again: a crash without restart.
type crashAt struct {
	Honest
	step, seen int
}

// CrashAt returns a Behaviour that crashes its node for good after it has
// received step messages (mid-epoch for a small step).
func CrashAt(step int) Behaviour { return &crashAt{step: step} }

func (c *crashAt) Name() string { return fmt.Sprintf("crash-at-step-%d", c.step) }

func (c *crashAt) Input(_ *Env, _ int, p []byte) ([]byte, bool) {
	if c.seen >= c.step {
		return nil, false
	}
	c.seen++
	return p, true
}

func (c *crashAt) Output(_ *Env, out []Send) []Send {
	if c.seen >= c.step {
		return nil
	}
	return out
}

// Garbage replaces every message its node sends by random bytes of a
// similar length (sometimes empty, sometimes longer), drawn from the run's
// generator.
type Garbage struct{ Honest }

// Name implements Behaviour.
func (Garbage) Name() string { return "garbage" }

// Output implements Behaviour.
func (Garbage) Output(env *Env, out []Send) []Send {
	for i := range out {
		var n int
		switch env.Rand.IntN(8) {
		case 0:
			n = 0
		case 1:
			n = len(out[i].Payload) + 1 + env.Rand.IntN(64)
		default:
			n = len(out[i].Payload)
		}
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(env.Rand.Uint32())
		}
		out[i].Payload = b
	}
	return out
}

// BitFlip flips one to three random bits of every non-empty message its node
// sends, so messages are well-formed except for a small corruption.
type BitFlip struct{ Honest }

// Name implements Behaviour.
func (BitFlip) Name() string { return "bitflip" }

// Output implements Behaviour.
func (BitFlip) Output(env *Env, out []Send) []Send {
	for i := range out {
		p := out[i].Payload
		if len(p) == 0 {
			continue
		}
		for range 1 + env.Rand.IntN(3) {
			k := env.Rand.IntN(len(p) * 8)
			p[k/8] ^= 1 << (k % 8)
		}
	}
	return out
}

// replay sends its node's messages honestly and also re-sends old ones much
// later, to random peers, including messages of epochs long finished.
type replay struct {
	Honest
	history []Send
	later   Time
}

// maxReplayHistory bounds the messages a Replay behaviour remembers.
const maxReplayHistory = 4096

// Replay returns a Behaviour that, after each output, re-sends up to two of
// its node's earlier messages (chosen at random from everything it sent)
// with an extra delay of about `later`, so they arrive after their epoch
// has closed.
func Replay(later Time) Behaviour { return &replay{later: later} }

func (r *replay) Name() string { return "replay" }

func (r *replay) Output(env *Env, out []Send) []Send {
	extra := make([]Send, 0, 2)
	for range 2 {
		if len(r.history) == 0 {
			break
		}
		old := r.history[env.Rand.IntN(len(r.history))]
		to := env.Rand.IntN(env.N)
		if to == env.Node {
			continue
		}
		d := r.later/2 + Time(env.Rand.Int64N(int64(r.later)+1))
		extra = append(extra, Send{To: to, Payload: bytes.Clone(old.Payload), Delay: d})
	}
	for _, m := range out {
		if len(r.history) < maxReplayHistory {
			r.history = append(r.history, Send{To: m.To, Payload: bytes.Clone(m.Payload)})
		} else {
			r.history[env.Rand.IntN(maxReplayHistory)] = Send{To: m.To, Payload: bytes.Clone(m.Payload)}
		}
	}
	return append(out, extra...)
}

// equivocate runs a second honest instance B beside its node's own instance
// A. B gets the same inputs but different contributions; A's messages go to
// the lower half of the peers and B's to the upper half. It needs no
// knowledge of the engine's wire format.
type equivocate struct {
	Honest
	b        interfaces.Consensus
	broken   bool
	proposed []uint64
	pending  []interfaces.OutMessage
}

// Equivocate returns the generic equivocation behaviour. B's instance uses
// the node's config with a different engine seed, and its contribution for
// each epoch is the host's with a marker appended.
func Equivocate() Behaviour { return &equivocate{} }

func (q *equivocate) Name() string { return "equivocate" }

func (q *equivocate) instance(env *Env) interfaces.Consensus {
	if q.b != nil || q.broken {
		return q.b
	}
	cfg := env.Config
	cfg.Seed = interfaces.DomainSum("constellation/sim/equivocate/v1", cfg.Seed[:])
	q.broken = true // until NewConsensus returns an instance
	func() {
		defer func() { _ = recover() }()
		if b, err := env.Factory.NewConsensus(cfg); err == nil && b != nil {
			q.b, q.broken = b, false
		}
	}()
	return q.b
}

// feed calls into B, swallowing panics and errors: B is the adversary's
// instance and its failures are not the run's business.
func (q *equivocate) feed(call func() (interfaces.Output, error)) {
	defer func() {
		if recover() != nil {
			q.broken, q.b = true, nil
		}
	}()
	out, err := call()
	if err == nil {
		q.pending = append(q.pending, out.Messages...)
	}
}

func (q *equivocate) proposeB(env *Env) {
	for range 64 {
		b := q.instance(env)
		if b == nil {
			return
		}
		ep, ok := epochOf(b)
		if !ok {
			q.broken, q.b = true, nil
			return
		}
		if ep < env.Config.Epoch || ep >= env.ProposeLimit || slices.Contains(q.proposed, ep) {
			return
		}
		q.proposed = append(q.proposed, ep)
		c := append(env.Contribution(ep), []byte("/equivocation")...)
		q.feed(func() (interfaces.Output, error) { return b.Propose(c) })
	}
}

func (q *equivocate) Propose(env *Env, epoch uint64, c []byte) []byte {
	q.proposeB(env)
	return c
}

func (q *equivocate) Input(env *Env, from int, p []byte) ([]byte, bool) {
	if b := q.instance(env); b != nil && from >= 0 && from < len(env.Config.Members) {
		sender := env.Config.Members[from]
		cp := bytes.Clone(p)
		q.feed(func() (interfaces.Output, error) { return b.Step(sender, cp) })
		q.proposeB(env)
	}
	return p, true
}

func (q *equivocate) Output(env *Env, out []Send) []Send {
	half := env.N / 2
	kept := out[:0]
	for _, m := range out {
		if m.To < half {
			kept = append(kept, m)
		}
	}
	for _, m := range q.pending {
		if m.To == interfaces.Broadcast {
			for j := half; j < env.N; j++ {
				if j != env.Node {
					kept = append(kept, Send{To: j, Payload: bytes.Clone(m.Payload)})
				}
			}
			continue
		}
		if j := env.Config.Index(m.To); j >= half && j != env.Node {
			kept = append(kept, Send{To: j, Payload: bytes.Clone(m.Payload)})
		}
	}
	q.pending = q.pending[:0]
	return kept
}

func epochOf(m interfaces.Consensus) (ep uint64, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return m.Epoch(), true
}
