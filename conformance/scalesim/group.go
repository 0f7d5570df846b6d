package scalesim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/constellation-chain/constellation/conformance/sim"
	"github.com/constellation-chain/constellation/interfaces"
)

// Category is one kind of CPU work, for the utilisation breakdowns.
type Category int

// The kinds of work a node does.
const (
	// CatVerify: checking the signature of every consensus message.
	CatVerify Category = iota
	// CatSign: signing every consensus message sent.
	CatSign
	// CatEngine: the engine's and host's own handling of each message.
	CatEngine
	// CatThreshold: threshold encryption, ciphertext checks, decryption
	// and coin shares.
	CatThreshold
	// CatTx: checking and applying the transactions of each decision.
	CatTx
	// CatCert: threshold-signing each block the group decides.
	CatCert
	// CatCheckpoint: the galaxy's checks of checkpoint certificates.
	CatCheckpoint
	numCategories
)

var categoryNames = [numCategories]string{"msg signatures", "signing", "engine", "threshold crypto", "transactions", "certificates", "checkpoint certificates"}

func (c Category) String() string {
	if c >= 0 && c < numCategories {
		return categoryNames[c]
	}
	return fmt.Sprintf("category(%d)", int(c))
}

// Work is CPU time by category.
type Work [numCategories]time.Duration

// Total sums every category.
func (w Work) Total() time.Duration {
	var t time.Duration
	for _, v := range w {
		t += v
	}
	return t
}

func (w Work) sub(o Work) Work {
	for i := range w {
		w[i] -= o[i]
	}
	return w
}

// host is the part of a group's host the experiment prices beside the
// engine: what a member does with a decision.
type host interface {
	// decided returns the host's work for one decision of node, made at
	// virtual time at (the call's start).
	decided(node int, at sim.Time, d interfaces.Decision) Work
}

// snapshot is a node's cumulative work and uplink time when it recorded
// one decision.
type snapshot struct {
	work   Work
	uplink sim.Time
}

// groupCosts implements sim.Costs for one group.
type groupCosts struct {
	cpu   CPU
	link  Link
	meter Meter
	n, f  int
	lat   *latencyTable
	host  host

	up     []sim.Time      // uplink free at
	carry  []time.Duration // work below one virtual µs, carried to the next call
	total  []Work          // cumulative work per node
	upBusy []sim.Time      // cumulative uplink time per node
	snaps  [][]snapshot    // per node, one per decision
	kinds  map[string]int
}

func newGroupCosts(cpu CPU, link Link, meter Meter, n int, seed interfaces.Hash, role string, h host) *groupCosts {
	return &groupCosts{
		cpu: cpu, link: link, meter: meter, n: n, f: (n - 1) / 3,
		lat:    newLatencyTable(link, n, seed, role),
		host:   h,
		up:     make([]sim.Time, n),
		carry:  make([]time.Duration, n),
		total:  make([]Work, n),
		upBusy: make([]sim.Time, n),
		snaps:  make([][]snapshot, n),
		kinds:  map[string]int{},
	}
}

// Work implements sim.Costs.
func (g *groupCosts) Work(c sim.Call) sim.Time {
	ops := g.meter.Count(c, g.n, g.f)
	var w Work
	cpu := g.cpu
	w[CatVerify] = time.Duration(ops.Checked) * cpu.Ed25519Verify
	w[CatSign] = time.Duration(ops.Signed) * cpu.Ed25519Sign
	handled, bytes := ops.Checked, ops.CheckedBytes
	if c.Propose {
		handled, bytes = 1, len(c.Payload) // erasure-coding the proposal
	}
	w[CatEngine] = time.Duration(handled)*cpu.MsgFixed + time.Duration(float64(cpu.MsgPerKiB)*float64(bytes)/1024)
	th := time.Duration(ops.CiphertextChecks)*cpu.VerifyCiphertext +
		time.Duration(ops.DecShares)*cpu.DecryptShare +
		time.Duration(ops.Decrypts)*cpu.Decrypt(g.f+1) +
		time.Duration(ops.CoinShares)*cpu.SignShare +
		time.Duration(ops.CoinSharesIn)*cpu.Combine(g.f+1)/time.Duration(g.f+1)
	for _, size := range ops.Encrypted {
		th += cpu.Encrypt(size)
	}
	w[CatThreshold] = th
	for _, d := range c.Output.Decisions {
		hw := g.host.decided(c.Node, c.At, d)
		for i := range w {
			w[i] += hw[i]
		}
	}
	if !c.Propose {
		g.kinds[ops.Kind]++
	}
	tot := &g.total[c.Node]
	for i := range w {
		tot[i] += w[i]
	}
	ns := w.Total() + g.carry[c.Node]
	us := sim.Time(ns / time.Microsecond)
	g.carry[c.Node] = ns - time.Duration(us)*time.Microsecond
	for range c.Output.Decisions {
		g.snaps[c.Node] = append(g.snaps[c.Node], snapshot{work: *tot, uplink: g.upBusy[c.Node]})
	}
	return us
}

// Wire implements sim.Costs: the sender's uplink queue, then the pair's
// latency.
func (g *groupCosts) Wire(from, to, size int, at sim.Time, _ *rand.Rand) sim.Time {
	depart := max(at, g.up[from])
	tx := g.link.transmit(size)
	g.up[from] = depart + tx
	g.upBusy[from] += tx
	return g.up[from] - at + g.lat.at(from, to)
}

// groupRun is one simulated group.
type groupRun struct {
	n, f  int
	res   *sim.Result
	costs *groupCosts
}

// runGroup simulates n members of factory for epochs epochs (or until
// maxTime, if positive), proposing one epoch at a time as the kernel's
// group does.
func runGroup(p *Params, n, batch, epochs int, maxTime sim.Time, seed interfaces.Hash, role string, contribution func(node int, epoch uint64, at sim.Time) []byte, h host) (*groupRun, error) {
	costs := newGroupCosts(p.CPU, p.Link, p.Meter, n, seed, role, h)
	cfg := sim.Config{
		Factory:            p.Factory,
		N:                  n,
		Seed:               seed,
		Epochs:             epochs,
		ContributionAt:     contribution,
		BatchSize:          batch,
		Params:             p.EngineParams,
		Costs:              costs,
		ProposeAfterDecide: true,
		MaxSteps:           math.MaxInt,
		MaxTime:            maxTime,
	}
	res := sim.Run(cfg)
	switch {
	case res.Reason == sim.Done:
	case res.Reason == sim.TimeLimit && maxTime > 0:
	default:
		return nil, fmt.Errorf("%s (N=%d): run ended %s after %d steps at %v (%v%s)", role, n, res.Reason, res.Steps, res.Time, res.Err, res.Panic)
	}
	if len(res.Errors) > 0 {
		return nil, fmt.Errorf("%s (N=%d): engine returned an error: %w", role, n, res.Errors[0])
	}
	return &groupRun{n: n, f: (n - 1) / 3, res: res, costs: costs}, nil
}

// decidedAt returns the virtual time every member decided the k-th epoch
// of the run (k from 0), or false if one has not.
func (g *groupRun) decidedAt(k int) ([]sim.Time, bool) {
	out := make([]sim.Time, g.n)
	for i, nr := range g.res.Nodes {
		if k >= len(nr.DecidedAt) {
			return nil, false
		}
		out[i] = nr.DecidedAt[k]
	}
	return out, true
}

// epochsDecided is the number of epochs every member decided.
func (g *groupRun) epochsDecided() int {
	m := math.MaxInt
	for _, nr := range g.res.Nodes {
		m = min(m, len(nr.DecidedAt))
	}
	return m
}

// certified returns, for each member d, when d holds the group's
// certificate of a block every member decided at the given times: its own
// decision and f+1 shares (its own and those sent to it as soon as each
// member decided, one link latency away).
func (g *groupRun) certified(decided []sim.Time) []sim.Time {
	out := make([]sim.Time, g.n)
	arr := make([]sim.Time, 0, g.n)
	for d := range g.n {
		arr = arr[:0]
		for i, t := range decided {
			if i == d {
				arr = append(arr, t)
			} else {
				arr = append(arr, t+g.costs.lat.at(i, d)+g.costs.link.transmit(96))
			}
		}
		out[d] = max(decided[d], kth(arr, g.f+1))
	}
	return out
}

// Shares is a busy share of a member's time by category.
type Shares [numCategories]float64

// Total sums every category.
func (s Shares) Total() float64 {
	var t float64
	for _, v := range s {
		t += v
	}
	return t
}

// utilisation is the members' mean busy share, by category, and their mean
// uplink share, between two of their decisions (indices from 0).
func (g *groupRun) utilisation(fromDecision, toDecision int) (Shares, float64, bool) {
	var sum Shares
	var up float64
	for i, nr := range g.res.Nodes {
		s := g.costs.snaps[i]
		if fromDecision < 0 || toDecision >= len(s) || toDecision >= len(nr.DecidedAt) {
			return Shares{}, 0, false
		}
		span := float64(nr.DecidedAt[toDecision] - nr.DecidedAt[fromDecision]) // µs
		if span <= 0 {
			return Shares{}, 0, false
		}
		w := s[toDecision].work.sub(s[fromDecision].work)
		for c := range w {
			sum[c] += float64(w[c]) / (span * 1000) / float64(g.n)
		}
		up += float64(s[toDecision].uplink-s[fromDecision].uplink) / span / float64(g.n)
	}
	return sum, up, true
}

// kth returns the k-th smallest (from 1) of v, which it reorders.
func kth(v []sim.Time, k int) sim.Time {
	// insertion sort: groups are small
	for i := 1; i < len(v); i++ {
		for j := i; j > 0 && v[j] < v[j-1]; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
	return v[min(k, len(v))-1]
}
