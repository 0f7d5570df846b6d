package honeybadger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/constellation-chain/constellation/interfaces"
)

// A small deterministic driver for this package's own tests: N engines in
// one goroutine, a seeded queue delivering messages in random order, and
// per-node Byzantine behaviour (silence or a Mutator on everything it
// sends). The general simulator lives in conformance/sim.

type behaviour int

const (
	honest behaviour = iota
	silent           // sends nothing at all
	mutate           // sends through a Mutator
)

type packet struct {
	from, to int
	payload  []byte
}

type testNet struct {
	t              fataler
	rng            *rand.Rand
	members        []interfaces.StarID
	nodes          []*Engine
	kind           []behaviour
	mutators       []Mutator
	queue          []packet
	decisions      [][]interfaces.Decision
	faults         [][]interfaces.Fault
	epochs         int // how many epochs each honest node proposes to
	proposed       []int
	contrib        func(node int, epoch uint64) []byte
	delivered      int
	deliveredBytes int
	// priority, when set, lets a test bias the scheduler: the packet whose
	// index it returns is delivered next.
	priority func(q []packet) int
}

func testMembers(n int) []interfaces.StarID {
	ms := make([]interfaces.StarID, n)
	for i := range ms {
		ms[i] = interfaces.DevStar(fmt.Sprintf("honeybadger-test-%d", i))
	}
	slices.SortFunc(ms, func(a, b interfaces.StarID) int { return bytes.Compare(a[:], b[:]) })
	return ms
}

var (
	keyCacheMu sync.Mutex
	keyCache   = map[int][][]byte{}
)

// testKeys deals keys once per N (dealing is deterministic from a fixed seed).
func testKeys(t fataler, members []interfaces.StarID) [][]byte {
	keyCacheMu.Lock()
	defer keyCacheMu.Unlock()
	if k, ok := keyCache[len(members)]; ok {
		return k
	}
	keys, err := Factory{}.DealKeys(members, 0, rand.NewChaCha8([32]byte{byte(len(members))}))
	if err != nil {
		t.Fatalf("deal keys: %v", err)
	}
	keyCache[len(members)] = keys
	return keys
}

func paramsJSON(p Params) []byte {
	b, _ := json.Marshal(p)
	return b
}

func newTestNet(t fataler, n int, seed uint64, p Params) *testNet {
	t.Helper()
	members := testMembers(n)
	var keys [][]byte
	if p.Encrypt || p.ThresholdCoin {
		keys = testKeys(t, members)
	}
	net := &testNet{
		t:         t,
		rng:       rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		members:   members,
		nodes:     make([]*Engine, n),
		kind:      make([]behaviour, n),
		mutators:  make([]Mutator, n),
		decisions: make([][]interfaces.Decision, n),
		faults:    make([][]interfaces.Fault, n),
		proposed:  make([]int, n),
		epochs:    1,
	}
	net.contrib = func(i int, e uint64) []byte {
		return []byte(fmt.Sprintf("contribution of node %d in epoch %d", i, e))
	}
	for i := range n {
		cfg := interfaces.ConsensusConfig{
			Self:    members[i],
			Members: members,
			Seed:    interfaces.DomainSum("test-seed", []byte{byte(i)}, []byte(fmt.Sprint(seed))),
			Params:  paramsJSON(p),
		}
		if keys != nil {
			cfg.Keys = keys[i]
		}
		e, err := newEngine(cfg, p)
		if err != nil {
			t.Fatalf("new engine %d: %v", i, err)
		}
		net.nodes[i] = e
	}
	return net
}

func (net *testNet) honestNodes() []int {
	var out []int
	for i, k := range net.kind {
		if k == honest {
			out = append(out, i)
		}
	}
	return out
}

func (net *testNet) absorb(i int, o interfaces.Output) {
	net.faults[i] = append(net.faults[i], o.Faults...)
	for _, d := range o.Decisions {
		if want := uint64(len(net.decisions[i])); d.Epoch != want {
			net.t.Fatalf("node %d decided epoch %d, want %d (decisions out of order)", i, d.Epoch, want)
		}
		net.decisions[i] = append(net.decisions[i], d)
	}
	if net.kind[i] == silent {
		return
	}
	for _, m := range o.Messages {
		targets := []int{}
		if m.To == interfaces.Broadcast {
			for j := range net.members {
				if j != i {
					targets = append(targets, j)
				}
			}
		} else {
			targets = append(targets, net.nodes[i].index[m.To])
		}
		for _, j := range targets {
			payloads := [][]byte{m.Payload}
			if net.kind[i] == mutate && net.mutators[i] != nil {
				payloads = net.mutators[i](net.members[j], m.Payload)
			}
			for _, p := range payloads {
				net.queue = append(net.queue, packet{from: i, to: j, payload: p})
			}
		}
	}
	// The host proposes the next epoch once the previous one is decided.
	if len(o.Decisions) > 0 {
		net.proposeNext(i)
	}
}

func (net *testNet) proposeNext(i int) {
	if net.kind[i] == silent || net.proposed[i] >= net.epochs {
		return
	}
	e := net.nodes[i].Epoch()
	if int(e) >= net.epochs {
		return
	}
	out, err := net.nodes[i].Propose(net.contrib(i, e))
	if err != nil {
		net.t.Fatalf("node %d propose epoch %d: %v", i, e, err)
	}
	net.proposed[i]++
	net.absorb(i, out)
}

// run proposes and delivers until every honest node decided net.epochs
// epochs or the queue empties or maxSteps deliveries pass.
func (net *testNet) run(maxSteps int) {
	for i := range net.nodes {
		net.proposeNext(i)
	}
	for steps := 0; steps < maxSteps && len(net.queue) > 0; steps++ {
		if net.allDecided() {
			return
		}
		k := net.rng.IntN(len(net.queue))
		if net.priority != nil {
			if p := net.priority(net.queue); p >= 0 {
				k = p
			}
		}
		p := net.queue[k]
		net.queue[k] = net.queue[len(net.queue)-1]
		net.queue = net.queue[:len(net.queue)-1]
		out, err := net.nodes[p.to].Step(net.members[p.from], p.payload)
		if err != nil {
			net.t.Fatalf("node %d step: %v", p.to, err)
		}
		net.delivered++
		net.deliveredBytes += len(p.payload)
		net.absorb(p.to, out)
	}
}

func (net *testNet) allDecided() bool {
	for i, k := range net.kind {
		if k == honest && len(net.decisions[i]) < net.epochs {
			return false
		}
	}
	return true
}

// checkAgreement checks the paper's agreement, validity (≥ N−f
// contributions) and termination properties over the honest nodes.
func (net *testNet) checkAgreement() {
	t := net.t
	t.Helper()
	n := len(net.members)
	f := (n - 1) / 3
	hon := net.honestNodes()
	for _, i := range hon {
		if len(net.decisions[i]) < net.epochs {
			t.Fatalf("termination: node %d decided %d of %d epochs (queue %d, delivered %d)", i, len(net.decisions[i]), net.epochs, len(net.queue), net.delivered)
		}
	}
	ref := net.decisions[hon[0]]
	for _, i := range hon[1:] {
		for e := 0; e < net.epochs; e++ {
			if !ref[e].Equal(net.decisions[i][e]) {
				t.Fatalf("agreement: nodes %d and %d decided differently in epoch %d", hon[0], i, e)
			}
		}
	}
	for e := 0; e < net.epochs; e++ {
		if got := len(ref[e].Contributions); got < n-f {
			t.Fatalf("validity: epoch %d has %d contributions, want at least N−f = %d", e, got, n-f)
		}
		for _, c := range ref[e].Contributions {
			j := net.nodes[hon[0]].index[c.Proposer]
			if net.kind[j] == honest && !bytes.Equal(c.Data, net.contrib(j, uint64(e))) {
				t.Fatalf("validity: epoch %d contribution of honest node %d altered", e, j)
			}
		}
	}
	// No honest node is ever blamed.
	for _, i := range hon {
		for _, fl := range net.faults[i] {
			j := net.nodes[i].index[fl.Star]
			if net.kind[j] == honest {
				t.Fatalf("node %d reported honest node %d: %v in epoch %d", i, j, fl.Kind, fl.Epoch)
			}
		}
	}
}

// provenKinds returns, per member, the fault kinds honest nodes reported
// against it whose evidence the reporter's own CheckFault accepts (every
// message taken as signed to the reporter: VAL is the only type sent to
// one member, and always to the reporter).
func (net *testNet) provenKinds() []map[interfaces.FaultKind]int {
	out := make([]map[interfaces.FaultKind]int, len(net.members))
	for j := range out {
		out[j] = map[interfaces.FaultKind]int{}
	}
	for _, i := range net.honestNodes() {
		for _, fl := range net.faults[i] {
			ps, err := interfaces.DecodePayloadEvidence(fl.Evidence)
			if err != nil || len(ps) == 0 {
				continue
			}
			to := make([]interfaces.StarID, len(ps))
			for k := range to {
				to[k] = net.members[i]
			}
			if net.nodes[i].CheckFault(fl, to, ps) == nil {
				out[slices.Index(net.members, fl.Star)][fl.Kind]++
			}
		}
	}
	return out
}

// faultKinds returns the fault kinds honest nodes reported against node j.
func (net *testNet) faultKinds(j int) map[interfaces.FaultKind]int {
	out := map[interfaces.FaultKind]int{}
	for _, i := range net.honestNodes() {
		for _, fl := range net.faults[i] {
			if fl.Star == net.members[j] {
				out[fl.Kind]++
			}
		}
	}
	return out
}

func modeA() Params {
	p := DefaultParams()
	p.Encrypt, p.ThresholdCoin = false, false
	return p
}

func testConfig(members []interfaces.StarID, self int) interfaces.ConsensusConfig {
	return interfaces.ConsensusConfig{Self: members[self], Members: members, Params: paramsJSON(DefaultParams())}
}
