package honeybadger

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"pgregory.net/rapid"

	"github.com/constellation-chain/constellation/interfaces"
)

// A network of bare sub-protocol instances (one per member) for the unit
// tests of RBC and ABA, with messages encoded and decoded on the way.

type protoMsg struct {
	from, to int
	raw      []byte
}

type protoNet struct {
	n, f   int
	queue  []protoMsg
	faults []map[int][]interfaces.FaultKind // per observer: culprit → kinds
	drop   func(from, to int, m *Message) bool
}

type nodeEnv struct {
	net  *protoNet
	self int
}

func (e nodeEnv) broadcast(m *Message) {
	raw := m.Encode()
	for j := 0; j < e.net.n; j++ {
		if j != e.self {
			e.net.push(e.self, j, m, raw)
		}
	}
}

func (e nodeEnv) send(to int, m *Message) { e.net.push(e.self, to, m, m.Encode()) }

func (e nodeEnv) fault(from int, kind interfaces.FaultKind, _ *Message) {
	e.net.faults[e.self][from] = append(e.net.faults[e.self][from], kind)
}

func (e nodeEnv) equivocation(from int, _, _ *Message) {
	e.fault(from, interfaces.FaultEquivocation, nil)
}

func (p *protoNet) push(from, to int, m *Message, raw []byte) {
	if p.drop != nil && p.drop(from, to, m) {
		return
	}
	p.queue = append(p.queue, protoMsg{from, to, raw})
}

func newProtoNet(n int) *protoNet {
	p := &protoNet{n: n, f: (n - 1) / 3, faults: make([]map[int][]interfaces.FaultKind, n)}
	for i := range p.faults {
		p.faults[i] = map[int][]interfaces.FaultKind{}
	}
	return p
}

// pump delivers queued messages in an order chosen by pick until the queue
// is empty or steps run out.
func (p *protoNet) pump(pick func(q []protoMsg) int, deliver func(to, from int, m *Message), steps int) {
	for ; steps > 0 && len(p.queue) > 0; steps-- {
		k := pick(p.queue)
		msg := p.queue[k]
		p.queue = append(p.queue[:k], p.queue[k+1:]...)
		m, err := DecodeMessage(msg.raw)
		if err != nil {
			panic(fmt.Sprintf("undecodable message in test network: %v", err))
		}
		deliver(msg.to, msg.from, m)
	}
}

func randomPick(rng *rand.Rand) func([]protoMsg) int {
	return func(q []protoMsg) int { return rng.IntN(len(q)) }
}

// --- Reliable broadcast -------------------------------------------------

func newRBCs(p *protoNet, proposer int) []*rbc {
	cd, err := newCoder(p.n, p.f)
	if err != nil {
		panic(err)
	}
	out := make([]*rbc, p.n)
	for i := range out {
		out[i] = newRBC(nodeEnv{p, i}, newHasher(), cd, 0, uint32(proposer), p.n, p.f, i)
	}
	return out
}

func TestRBCValidityHonestProposer(t *testing.T) {
	for _, n := range []int{1, 4, 7, 10} {
		for seed := range uint64(5) {
			p := newProtoNet(n)
			rs := newRBCs(p, 0)
			value := bytes.Repeat([]byte(fmt.Sprintf("v%d-%d.", n, seed)), int(seed)*97+1)
			if err := rs[0].propose(value); err != nil {
				t.Fatal(err)
			}
			p.pump(randomPick(rand.New(rand.NewPCG(seed, 1))), func(to, from int, m *Message) { rs[to].handle(from, m) }, 1<<20)
			for i, r := range rs {
				if !r.delivered || !r.valid || !bytes.Equal(r.value, value) {
					t.Fatalf("N=%d seed %d: node %d delivered=%v valid=%v, value differs=%v", n, seed, i, r.delivered, r.valid, !bytes.Equal(r.value, value))
				}
			}
		}
	}
}

func TestRBCEmptyValue(t *testing.T) {
	p := newProtoNet(4)
	rs := newRBCs(p, 2)
	if err := rs[2].propose(nil); err != nil {
		t.Fatal(err)
	}
	p.pump(func([]protoMsg) int { return 0 }, func(to, from int, m *Message) { rs[to].handle(from, m) }, 1<<20)
	for i, r := range rs {
		if !r.delivered || !r.valid || len(r.value) != 0 {
			t.Fatalf("node %d: delivered=%v valid=%v len=%d", i, r.delivered, r.valid, len(r.value))
		}
	}
}

// byzantineVals makes proposer 0 (Byzantine) send VALs for shards that are
// not a codeword: one parity shard is altered before the Merkle tree is
// built, so every branch verifies but different subsets decode differently.
func byzantineVals(t *testing.T, p *protoNet, hs *hasher, value []byte, to []int) {
	cd, _ := newCoder(p.n, p.f)
	shards, err := cd.split(value)
	if err != nil {
		t.Fatal(err)
	}
	shards[p.n-1] = corrupt(shards[p.n-1])
	root, branches := hs.merkleTree(shards)
	for _, j := range to {
		m := &Message{Type: MsgVal, Root: root, Branch: branches[j], Payload: shards[j]}
		p.push(0, j, m, m.Encode())
	}
}

// Agreement and totality with a Byzantine proposer whose shards are
// inconsistent: every honest member delivers, and all deliver the same ⊥.
func TestRBCAgreementInconsistentShards(t *testing.T) {
	for _, n := range []int{4, 7} {
		for seed := range uint64(10) {
			p := newProtoNet(n)
			rs := newRBCs(p, 0)
			honestIdx := []int{}
			for j := 1; j < n; j++ {
				honestIdx = append(honestIdx, j)
			}
			byzantineVals(t, p, newHasher(), bytes.Repeat([]byte{byte(seed)}, 1000), honestIdx)
			p.pump(randomPick(rand.New(rand.NewPCG(seed, 2))), func(to, from int, m *Message) {
				if to != 0 {
					rs[to].handle(from, m)
				}
			}, 1<<20)
			for _, j := range honestIdx {
				if !rs[j].delivered || rs[j].valid {
					t.Fatalf("N=%d seed %d: node %d delivered=%v valid=%v, want ⊥ everywhere", n, seed, j, rs[j].delivered, rs[j].valid)
				}
			}
		}
	}
}

// Totality and agreement when a Byzantine proposer sends VAL to only some
// members, or sends two different values to two halves: either no honest
// member delivers or all deliver the same value.
func TestRBCTotalityPartialAndEquivocatingProposer(t *testing.T) {
	prop := rapid.Custom(func(t *rapid.T) [2]uint64 {
		return [2]uint64{rapid.Uint64().Draw(t, "seed"), uint64(rapid.IntRange(0, 3).Draw(t, "mode"))}
	})
	rapid.Check(t, func(rt *rapid.T) {
		x := prop.Draw(rt, "case")
		seed, mode := x[0], x[1]
		n := 7
		p := newProtoNet(n)
		rs := newRBCs(p, 0)
		hs := newHasher()
		cd, _ := newCoder(n, p.f)
		rng := rand.New(rand.NewPCG(seed, 3))
		values := [][]byte{[]byte("first value of the equivocating proposer"), []byte("second value, different")}
		for j := 1; j < n; j++ {
			v := values[0]
			switch mode {
			case 1: // only some members get VAL
				if j > 3 {
					continue
				}
			case 2: // two values
				v = values[j%2]
			case 3: // two values, and member 6 sees neither
				if j == 6 {
					continue
				}
				v = values[j%2]
			}
			shards, _ := cd.split(v)
			root, br := hs.merkleTree(shards)
			m := &Message{Type: MsgVal, Root: root, Branch: br[j], Payload: shards[j]}
			p.push(0, j, m, m.Encode())
		}
		p.pump(randomPick(rng), func(to, from int, m *Message) {
			if to != 0 {
				rs[to].handle(from, m)
			}
		}, 1<<20)
		var got []byte
		delivered := 0
		for j := 1; j < n; j++ {
			if rs[j].delivered {
				delivered++
				if got == nil {
					got = rs[j].value
				} else if !bytes.Equal(got, rs[j].value) {
					rt.Fatalf("agreement: members deliver different values")
				}
			}
		}
		if delivered != 0 && delivered != n-1 {
			rt.Fatalf("totality: %d of %d honest members delivered", delivered, n-1)
		}
	})
}

func TestRBCBadBranchIsInvalidMerkleFault(t *testing.T) {
	p := newProtoNet(4)
	rs := newRBCs(p, 0)
	cd, _ := newCoder(4, 1)
	hs := newHasher()
	shards, _ := cd.split([]byte("hello"))
	root, br := hs.merkleTree(shards)
	m := &Message{Type: MsgEcho, Root: root, Branch: br[2], Payload: corrupt(shards[2])}
	rs[1].handle(2, m)
	if got := p.faults[1][2]; len(got) != 1 || got[0] != interfaces.FaultInvalidMerkle {
		t.Fatalf("faults against member 2: %v, want [invalid-merkle]", got)
	}
	// A second ECHO with another root is equivocation.
	good := &Message{Type: MsgEcho, Root: root, Branch: br[3], Payload: shards[3]}
	rs[1].handle(3, good)
	shards2, _ := cd.split([]byte("other"))
	root2, br2 := hs.merkleTree(shards2)
	rs[1].handle(3, &Message{Type: MsgEcho, Root: root2, Branch: br2[3], Payload: shards2[3]})
	if got := p.faults[1][3]; len(got) != 1 || got[0] != interfaces.FaultEquivocation {
		t.Fatalf("faults against member 3: %v, want [equivocation]", got)
	}
}

// --- Binary agreement ---------------------------------------------------

// fataler is the part of testing.TB that rapid.T also has.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

func newABAs(t fataler, p *protoNet, coin func(i int) coinSource) []*aba {
	out := make([]*aba, p.n)
	for i := range out {
		out[i] = newABA(nodeEnv{p, i}, coin(i), 3, 1, p.n, p.f, i)
	}
	return out
}

func thresholdCoins(t fataler, n int, schedule bool) func(int) coinSource {
	keys := testKeys(t, testMembers(n))
	return func(i int) coinSource {
		k, err := DecodeKeys(keys[i])
		if err != nil {
			t.Fatalf("%v", err)
		}
		return &thresholdCoin{pks: k.Public, sk: k.Secret, schedule: schedule}
	}
}

// runABA gives inputs (−1: none; the node is then silent) and delivers with
// pick; it returns the decisions of the participating nodes.
func runABA(t fataler, n int, inputs []int, coins func(int) coinSource, pick func([]protoMsg) int) []*aba {
	p := newProtoNet(n)
	as := newABAs(t, p, coins)
	p.drop = func(from, to int, m *Message) bool { return inputs[from] < 0 || inputs[to] < 0 }
	for i, v := range inputs {
		if v >= 0 {
			as[i].input(uint8(v))
		}
	}
	p.pump(pick, func(to, from int, m *Message) { as[to].handle(from, m) }, 1<<20)
	return as
}

func checkABA(t fataler, as []*aba, inputs []int) {
	var dec = -1
	allSame := -2
	for i, v := range inputs {
		if v < 0 {
			continue
		}
		if allSame == -2 {
			allSame = v
		} else if allSame != v {
			allSame = -1
		}
		if !as[i].decided {
			t.Fatalf("termination: node %d did not decide (round %d)", i, as[i].round)
		}
		if dec == -1 {
			dec = int(as[i].decision)
		} else if dec != int(as[i].decision) {
			t.Fatalf("agreement: node %d decided %d, another %d", i, as[i].decision, dec)
		}
	}
	if allSame >= 0 && dec != allSame {
		t.Fatalf("validity: all honest inputs were %d, decided %d", allSame, dec)
	}
}

// splitPick is an adversarial scheduler: it first delivers messages that
// carry value 0 to even members and value 1 to odd members, trying to split
// the members' views, and falls back to random order.
func splitPick(rng *rand.Rand) func([]protoMsg) int {
	return func(q []protoMsg) int {
		for k := 0; k < len(q) && k < 64; k++ {
			i := len(q) - 1 - k
			m, err := DecodeMessage(q[i].raw)
			if err != nil {
				continue
			}
			if (m.Type == MsgBval || m.Type == MsgAux) && int(m.Value) == q[i].to%2 {
				return i
			}
		}
		return rng.IntN(len(q))
	}
}

func TestABAAgreementValidityTermination(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.SampledFrom([]int{4, 7}).Draw(rt, "n")
		f := (n - 1) / 3
		inputs := make([]int, n)
		for i := range inputs {
			inputs[i] = rapid.IntRange(0, 1).Draw(rt, fmt.Sprintf("input%d", i))
		}
		silentCount := rapid.IntRange(0, f).Draw(rt, "silent")
		for i := 0; i < silentCount; i++ {
			inputs[n-1-i] = -1
		}
		seed := rapid.Uint64().Draw(rt, "seed")
		rng := rand.New(rand.NewPCG(seed, 4))
		pick := randomPick(rng)
		if rapid.Bool().Draw(rt, "adversarial") {
			pick = splitPick(rng)
		}
		as := runABA(rt, n, inputs, func(int) coinSource { return hashCoin{} }, pick)
		checkABA(rt, as, inputs)
	})
}

func TestABAThresholdCoinTermination(t *testing.T) {
	for _, n := range []int{4, 7} {
		for seed := range uint64(3) {
			rng := rand.New(rand.NewPCG(seed, 5))
			inputs := make([]int, n)
			for i := range inputs {
				inputs[i] = i % 2
			}
			inputs[n-1] = -1
			as := runABA(t, n, inputs, thresholdCoins(t, n, false), splitPick(rng))
			checkABA(t, as, inputs)
		}
	}
}

// A decided member's TERM brings a member that missed every other message
// to the same decision (f+1 TERMs).
func TestABATermBringsLaggardAlong(t *testing.T) {
	n := 4
	p := newProtoNet(n)
	as := newABAs(t, p, func(int) coinSource { return hashCoin{} })
	p.drop = func(from, to int, m *Message) bool { return to == 3 && m.Type != MsgTerm }
	for i := 0; i < 3; i++ {
		as[i].input(1)
	}
	p.pump(randomPick(rand.New(rand.NewPCG(1, 1))), func(to, from int, m *Message) { as[to].handle(from, m) }, 1<<20)
	if !as[3].decided || as[3].decision != 1 {
		t.Fatalf("laggard decided=%v decision=%d, want 1", as[3].decided, as[3].decision)
	}
}

// Every branch of a Merkle tree verifies for its own leaf only, for every
// tree size up to MaxMembers.
func TestMerkleBranchesVerifyOnlyTheirLeaf(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, MaxMembers).Draw(rt, "n")
		hs := newHasher()
		shards := make([][]byte, n)
		for i := range shards {
			shards[i] = []byte(fmt.Sprintf("shard %d", i))
		}
		root, branches := hs.merkleTree(shards)
		i := rapid.IntRange(0, n-1).Draw(rt, "i")
		if len(branches[i]) > maxBranch {
			rt.Fatalf("branch of %d hashes exceeds the wire limit %d", len(branches[i]), maxBranch)
		}
		if _, ok := hs.verifyBranch(&root, n, i, shards[i], branches[i]); !ok {
			rt.Fatalf("branch %d of %d does not verify", i, n)
		}
		if n > 1 {
			j := (i + 1) % n
			if _, ok := hs.verifyBranch(&root, n, j, shards[i], branches[i]); ok {
				rt.Fatalf("branch %d verifies at index %d", i, j)
			}
		}
		if _, ok := hs.verifyBranch(&root, n, i, corrupt(shards[i]), branches[i]); ok {
			rt.Fatalf("corrupted shard verifies")
		}
		leaves := make([]interfaces.Hash, n)
		for k := range leaves {
			leaves[k] = hs.leaf(shards[k])
		}
		if hs.rootOfLeaves(leaves) != root {
			rt.Fatalf("root of leaves differs from the tree's root")
		}
	})
}
