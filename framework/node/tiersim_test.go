package node_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/constellation-chain/constellation/builtin/honeybadger"
	"github.com/constellation-chain/constellation/builtin/lsh"
	"github.com/constellation-chain/constellation/conformance/sim"
	"github.com/constellation-chain/constellation/framework/hylochain"
	"github.com/constellation-chain/constellation/framework/keys"
	"github.com/constellation-chain/constellation/framework/ledger"
	"github.com/constellation-chain/constellation/framework/node"
	"github.com/constellation-chain/constellation/interfaces"
)

// The hierarchy's Byzantine cases on the deterministic simulator: two
// Star Clusters and a galaxy, each four HoneyBadger members run by
// conformance/sim in virtual time, one group round at a time. Each
// round's decision is folded by the real fold (hylochain.Fold) into the
// real ledger under the hierarchy's real rules (node.Hierarchy: BLS
// certificates checked by public key, Merkle branches, pair sequence
// numbers), and each block is certified by f+1 members' threshold-signature
// shares. Everything is derived from the seed, so a run is reproducible
// bit for bit.

const simMembers = 4

// simChain is one group's chain in the simulated hierarchy.
type simChain struct {
	cluster interfaces.ClusterID
	key     node.GroupKey
	state   *ledger.MemState
	rules   *ledger.Rules
	cfgs    []interfaces.ConsensusConfig
	signers []interfaces.ThresholdSigner
	seed    interfaces.Hash
	epoch   uint64
	blocks  []*interfaces.Block
	certs   [][]byte
	pending []*interfaces.Transaction
	// refused collects every transaction a fold refused for good.
	refused map[interfaces.Hash]bool
}

type simTiers struct {
	t        *testing.T
	h        *node.Hierarchy
	clusters []*simChain
	galaxy   *simChain
	genesis  ledger.Genesis
	// sent is how far each cluster's checkpoints went to the galaxy;
	// withhold stops a cluster sending them.
	sent     []int
	withhold []bool
	// finalized[c] is how many of cluster c's blocks a black hole holds;
	// credited marks the batches whose credit was proposed.
	finalized []uint64
	credits   map[[3]uint64]*interfaces.Transaction
	// hold keeps new credits out of the destinations' pools (in credits
	// only) until release.
	hold bool
}

// release hands every held credit to its destination.
func (st *simTiers) release(keys ...[3]uint64) {
	for _, k := range keys {
		st.clusters[k[1]].pending = append(st.clusters[k[1]].pending, st.credits[k])
	}
}

func groupSeed(name string) interfaces.Hash {
	return interfaces.DomainSum("tiersim/group", []byte(name))
}

func newSimTiers(t *testing.T) *simTiers {
	t.Helper()
	part, err := lsh.Factory{}.NewPartitioner(2, nil)
	if err != nil {
		t.Fatal(err)
	}
	owner := node.CachedOwner(part)
	members := sim.Members(simMembers)
	gf := &keys.GenesisFile{Network: "devnet", Seed: "tiersim", Engine: honeybadger.Name}
	names := []string{interfaces.ClusterGroup(0), interfaces.ClusterGroup(1), interfaces.GalaxyGroup}
	cfgs := map[string][]interfaces.ConsensusConfig{}
	for _, nm := range names {
		c, err := sim.Configs(honeybadger.Factory{}, simMembers, 0, 1, groupSeed(nm), 64, nil)
		if err != nil {
			t.Fatal(err)
		}
		cfgs[nm] = c
		pub, err := honeybadger.Factory{}.GroupKey(c[0].Keys)
		if err != nil {
			t.Fatal(err)
		}
		gf.SetGroup(nm, members, pub)
	}
	h, err := node.HierarchyFrom(gf, 2, honeybadger.Factory{}, owner)
	if err != nil {
		t.Fatal(err)
	}
	st := &simTiers{t: t, h: h, sent: make([]int, 2), withhold: make([]bool, 2), finalized: make([]uint64, 2), credits: map[[3]uint64]*interfaces.Transaction{}}
	st.genesis = ledger.Genesis{Seed: "tiersim", Timestamp: 1_700_000_000_000, Allocations: []ledger.Allocation{
		{Star: interfaces.DevStar(devIn(owner, "alice", 0)), Amount: 1000},
		{Star: interfaces.DevStar(devIn(owner, "bob", 1)), Amount: 500},
	}}
	open := func(c interfaces.ClusterID, key node.GroupKey, nm string) *simChain {
		state, err := ledger.NewMemState(h.GenesisOfCluster(st.genesis, c))
		if err != nil {
			t.Fatal(err)
		}
		ch := &simChain{cluster: c, key: key, state: state, rules: h.Rules(c), cfgs: cfgs[nm], seed: groupSeed(nm), epoch: 1, refused: map[interfaces.Hash]bool{}}
		for _, cfg := range ch.cfgs {
			e, err := honeybadger.Factory{}.NewConsensus(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ch.signers = append(ch.signers, e.(interfaces.ThresholdSigner))
		}
		return ch
	}
	st.clusters = []*simChain{open(0, h.Clusters[0], names[0]), open(1, h.Clusters[1], names[1])}
	st.galaxy = open(interfaces.GalaxyCluster, h.Galaxy, names[2])
	return st
}

// round runs one epoch of ch on the simulator over its pending
// transactions (member i proposes every fourth), folds the decision,
// commits the block and certifies it.
func (st *simTiers) round(ch *simChain) *hylochain.Result {
	t := st.t
	t.Helper()
	parts := make([][]*interfaces.Transaction, simMembers)
	for i, tx := range ch.pending {
		parts[i%simMembers] = append(parts[i%simMembers], tx)
	}
	parent := ch.state.Parent()
	stamp := st.genesis.Timestamp + int64(ch.epoch)*1000
	res := sim.Run(sim.Config{
		Factory:    honeybadger.Factory{},
		N:          simMembers,
		Seed:       ch.seed,
		FirstEpoch: ch.epoch,
		Epochs:     1,
		BatchSize:  64,
		Contribution: func(n int, _ uint64) []byte {
			return (&interfaces.TxBatch{Timestamp: stamp, Txs: parts[n]}).Encode()
		},
	})
	if res.Reason != sim.Done {
		t.Fatalf("group of cluster %d, epoch %d: %s %v", ch.cluster, ch.epoch, res.Reason, res.Err)
	}
	// The run's members hold the keys dealt from the group's seed, so the
	// simulated group is the one the genesis file names.
	if !slices.Equal(res.Configs[0].Keys, ch.cfgs[0].Keys) {
		t.Fatal("the simulator dealt other keys than the genesis file's")
	}
	d := res.Nodes[0].Decisions[0]
	for i := 1; i < simMembers; i++ {
		if fmt.Sprint(res.Nodes[i].Decisions[0]) != fmt.Sprint(d) {
			t.Fatalf("cluster %d epoch %d: members decided differently", ch.cluster, ch.epoch)
		}
	}
	inst := hylochain.Instance{ID: ch.key.Instance, Cluster: ch.cluster, Members: ch.key.Members, Rules: ch.rules}
	prevStamp := st.genesis.Timestamp
	if n := len(ch.blocks); n > 0 {
		prevStamp = ch.blocks[n-1].Header.Timestamp
	}
	out, err := hylochain.Fold(inst, ch.state, hylochain.Parent{Ref: parent, Timestamp: prevStamp}, d)
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.state.Commit(out.Block, out.Changes); err != nil {
		t.Fatal(err)
	}
	msg := interfaces.CertificateMessage(ch.key.Instance, out.Block.Hash())
	var shares []interfaces.SignatureShare
	for i := 0; i <= ch.cfgs[0].F(); i++ {
		sh, err := ch.signers[i].SignShare(msg)
		if err != nil {
			t.Fatal(err)
		}
		shares = append(shares, interfaces.SignatureShare{Member: ch.cfgs[i].Self, Share: sh})
	}
	cert, err := ch.signers[0].CombineShares(msg, shares)
	if err != nil {
		t.Fatal(err)
	}
	ch.blocks = append(ch.blocks, out.Block)
	ch.certs = append(ch.certs, cert)
	ch.epoch++
	in := map[interfaces.Hash]bool{}
	for _, tx := range out.Block.Txs {
		in[tx.ID()] = true
	}
	for _, tx := range out.Refused {
		ch.refused[tx.ID()] = true
	}
	// What was neither included nor refused for good waits for a later
	// round (a credit whose turn has not come, a transfer out of order).
	var left []*interfaces.Transaction
	for _, tx := range ch.pending {
		if id := tx.ID(); !in[id] && !ch.refused[id] {
			left = append(left, tx)
		}
	}
	ch.pending = left
	return out
}

// step runs one round of every cluster, sends their new checkpoints to
// the galaxy (unless withheld), runs a galaxy round and turns every
// receipt batch its black hole finalized into a credit for the
// destination.
func (st *simTiers) step() {
	for c, ch := range st.clusters {
		st.round(ch)
		if st.withhold[c] {
			continue
		}
		for ; st.sent[c] < len(ch.blocks); st.sent[c]++ {
			b := ch.blocks[st.sent[c]]
			st.galaxy.pending = append(st.galaxy.pending, interfaces.CheckpointTx(interfaces.Checkpoint(b, ch.certs[st.sent[c]])))
		}
	}
	st.round(st.galaxy)
	bh, cert := st.galaxy.blocks[len(st.galaxy.blocks)-1], st.galaxy.certs[len(st.galaxy.certs)-1]
	for i, tx := range bh.Txs {
		if tx.Kind != interfaces.TxCheckpoint {
			continue
		}
		cp, err := interfaces.DecodeCheckpointPayload(tx.Payload)
		if err != nil {
			st.t.Fatal(err)
		}
		c := cp.Header.Cluster
		st.finalized[c] = cp.Header.Height
		b := st.clusters[c].blocks[cp.Header.Height-1]
		for j, batch := range b.Receipts {
			credit := interfaces.CreditTx(interfaces.CreditPayload{
				Batch:   batch,
				InBlock: interfaces.ReceiptInclusion(b, j),
				Finality: interfaces.Finality{
					Checkpoint: tx, InBlackHole: interfaces.TxInclusion(bh, i), BlackHole: bh.Header, Certificate: cert,
				},
			})
			st.credits[[3]uint64{uint64(batch.Src), uint64(batch.Dst), batch.Seq}] = credit
			if !st.hold {
				st.clusters[batch.Dst].pending = append(st.clusters[batch.Dst].pending, credit)
			}
		}
	}
}

// pay queues a transfer of from's next transaction in its cluster.
func (st *simTiers) pay(from string, c interfaces.ClusterID, to interfaces.StarID, amount uint64, seq uint64, prev interfaces.Hash) *interfaces.Transaction {
	tx, err := interfaces.NewTransfer(interfaces.DevKey(from), seq, prev, to, amount)
	if err != nil {
		st.t.Fatal(err)
	}
	st.clusters[c].pending = append(st.clusters[c].pending, tx)
	return tx
}

func (st *simTiers) balance(c interfaces.ClusterID, s interfaces.StarID) uint64 {
	v, _ := st.clusters[c].state.Balance(s)
	return v
}

func (st *simTiers) committed(c interfaces.ClusterID, tx *interfaces.Transaction) bool {
	_, ok, _ := st.clusters[c].state.TxHeight(tx.ID())
	return ok
}

// runSimTiers plays the scenario and returns the final state roots.
func runSimTiers(t *testing.T) []interfaces.Hash {
	st := newSimTiers(t)
	alice := devIn(st.h.Owner, "alice", 0)
	bobName := devIn(st.h.Owner, "bob", 1)
	bob, carol := interfaces.DevStar(bobName), interfaces.DevStar(devIn(st.h.Owner, "carol", 0))

	// Round 1: alice pays bob 100 across clusters, bob pays alice 50. The
	// credits the black hole makes possible are held back for a round.
	a1 := st.pay(alice, 0, bob, 100, 1, interfaces.Hash{})
	b1 := st.pay(bobName, 1, interfaces.DevStar(alice), 50, 1, interfaces.Hash{})
	st.hold = true
	st.step()
	st.hold = false
	honest := st.credits[[3]uint64{0, 1, 1}]
	if honest == nil || st.credits[[3]uint64{1, 0, 1}] == nil {
		t.Fatal("the first black hole finalized no receipt batch")
	}

	// Before the honest credit: a forged receipt (amount raised after
	// certification), a credit against a black hole the galaxy did not
	// sign (a real certificate, of another group and block), and a credit
	// offered to the wrong cluster. Each is next in line, so only its
	// proof refuses it; none moves a balance.
	p, _ := interfaces.DecodeCreditPayload(honest.Payload)
	if err := st.h.VerifyCredit(&p); err != nil {
		t.Fatalf("the honest credit does not verify: %v", err)
	}
	forged := p
	forged.Batch.Receipts = slices.Clone(p.Batch.Receipts)
	forged.Batch.Receipts[0].Amount += 1000
	unsigned := p
	unsigned.Finality.Certificate = st.clusters[0].certs[0]
	byzantine := map[string]*interfaces.Transaction{
		"forged receipt":          interfaces.CreditTx(forged),
		"unsigned black hole":     interfaces.CreditTx(unsigned),
		"credit to wrong cluster": honest,
	}
	for what, want := range map[string]error{"forged receipt": ledger.ErrBadSignature, "unsigned black hole": ledger.ErrBadSignature, "credit to wrong cluster": ledger.ErrWrongCluster} {
		c := st.clusters[1]
		if what == "credit to wrong cluster" {
			c = st.clusters[0]
		}
		b := ledger.NewBuilder(c.state, c.cluster, c.state.Parent()).WithRules(c.rules)
		if err := b.Apply(byzantine[what]); !errors.Is(err, want) {
			t.Fatalf("the %s: %v, want %v", what, err, want)
		}
	}
	st.clusters[1].pending = append(st.clusters[1].pending, byzantine["forged receipt"], byzantine["unsigned black hole"])
	st.clusters[0].pending = append(st.clusters[0].pending, honest)
	st.step()
	for what, tx := range byzantine {
		if st.committed(0, tx) || st.committed(1, tx) {
			t.Fatalf("the %s was credited", what)
		}
	}
	if !st.clusters[1].refused[byzantine["forged receipt"].ID()] || !st.clusters[1].refused[byzantine["unsigned black hole"].ID()] || !st.clusters[0].refused[honest.ID()] {
		t.Fatal("a Byzantine credit was not refused by the fold")
	}
	if st.balance(1, bob) != 500-50 || st.balance(0, interfaces.DevStar(alice)) != 1000-100 {
		t.Fatalf("balances moved under Byzantine credits: bob %d, alice %d", st.balance(1, bob), st.balance(0, interfaces.DevStar(alice)))
	}
	// The honest credits, then the honest one replayed: credited once.
	st.release([3]uint64{0, 1, 1}, [3]uint64{1, 0, 1})
	st.step()
	if !st.committed(1, honest) || st.balance(1, bob) != 500-50+100 || st.balance(0, interfaces.DevStar(alice)) != 1000-100+50 {
		t.Fatalf("after the credits: bob %d, alice %d", st.balance(1, bob), st.balance(0, interfaces.DevStar(alice)))
	}
	st.clusters[1].pending = append(st.clusters[1].pending, honest)
	st.step()
	if !st.clusters[1].refused[honest.ID()] || st.balance(1, bob) != 500-50+100 {
		t.Fatalf("the replayed receipt was not refused (bob has %d)", st.balance(1, bob))
	}
	before := st.balance(1, bob)

	// Cluster 1 withholds its checkpoints: its receipts never become
	// final, so cluster 0 never credits bob's second payment, while
	// cluster 0's own accounts go on (alice pays carol, and bob) and
	// cluster 1 still credits what cluster 0 sends it.
	st.withhold[1] = true
	b2 := st.pay(bobName, 1, interfaces.DevStar(alice), 20, 2, b1.ID())
	a2 := st.pay(alice, 0, carol, 30, 2, a1.ID())
	a3 := st.pay(alice, 0, bob, 40, 3, a2.ID())
	for range 3 {
		st.step()
	}
	if !st.committed(0, a2) || !st.committed(0, a3) || st.balance(0, carol) != 30 {
		t.Fatal("cluster 0's own transfers stalled while cluster 1 withheld its checkpoints")
	}
	if st.balance(1, bob) != before-20+40 {
		t.Fatalf("bob has %d: cluster 1 did not credit cluster 0's receipts while withholding", st.balance(1, bob))
	}
	if !st.committed(1, b2) || st.balance(0, interfaces.DevStar(alice)) != 1000-100+50-30-40 {
		t.Fatalf("alice has %d: bob's receipt became final without a checkpoint", st.balance(0, interfaces.DevStar(alice)))
	}
	// Once it sends them again, the withheld checkpoints are finalized in
	// order and alice is credited.
	st.withhold[1] = false
	st.step()
	st.step()
	if got := st.balance(0, interfaces.DevStar(alice)); got != 1000-100+50-30-40+20 {
		t.Fatalf("alice has %d after cluster 1 resumed", got)
	}
	var supply uint64
	for c := range st.clusters {
		supply += st.clusters[c].state.Snapshot().Supply()
	}
	if supply != 1500 {
		t.Fatalf("supply %d, want 1500", supply)
	}
	return []interfaces.Hash{st.clusters[0].state.Parent().StateRoot, st.clusters[1].state.Parent().StateRoot, st.galaxy.state.Parent().Hash}
}

func TestTheHierarchysByzantineCasesOnTheSimulator(t *testing.T) {
	first := runSimTiers(t)
	if again := runSimTiers(t); !slices.Equal(first, again) {
		t.Fatal("two runs from the same seed ended in different states")
	}
}
