package ledger_test

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/constellation-chain/constellation/framework/ledger"
	"github.com/constellation-chain/constellation/framework/ledger/ledgertest"
	"github.com/constellation-chain/constellation/interfaces"
)

// twoClusters is a hierarchy's two cluster ledgers in memory: stars 0 and 1
// start in cluster 0, stars 2 and 3 in cluster 1, 100 noOs each. Credits
// and mint claims are taken as certified (their certificates are checked
// by the node's rules, tested in framework/node), so what is tested here
// is the ledger's accounting.
type twoClusters struct {
	t     *testing.T
	w     *ledgertest.World
	st    [2]*ledger.MemState
	rules *ledger.Rules
	base  map[interfaces.StarID]interfaces.ClusterID
}

func newTwoClusters(t *testing.T) *twoClusters {
	w := ledgertest.NewWorld("migrate", 4, 100)
	tc := &twoClusters{t: t, w: w, base: map[interfaces.StarID]interfaces.ClusterID{}}
	for i, s := range w.Stars {
		tc.base[s] = interfaces.ClusterID(i / 2)
	}
	tc.rules = &ledger.Rules{
		Owner:        func(s interfaces.StarID) interfaces.ClusterID { return tc.base[s] },
		VerifyCredit: func(*interfaces.CreditPayload) error { return nil },
		VerifyMint:   func(*interfaces.MintClaim) error { return nil },
		Pseudo:       pseudoOf(2),
	}
	for c := range tc.st {
		g := ledger.Genesis{Seed: w.Genesis.Seed, Timestamp: w.Genesis.Timestamp, Allocations: w.Genesis.Allocations[2*c : 2*c+2]}
		tc.st[c] = mustState(t, g)
	}
	return tc
}

// block applies txs in cluster c, each expected to pass, and commits.
func (tc *twoClusters) block(c int, txs ...*interfaces.Transaction) *interfaces.Block {
	tc.t.Helper()
	b := ledger.NewBuilder(tc.st[c], interfaces.ClusterID(c), tc.st[c].Parent()).WithRules(tc.rules)
	for i, tx := range txs {
		if err := b.Apply(tx); err != nil {
			tc.t.Fatalf("cluster %d block %d tx %d: %v", c, b.Height(), i, err)
		}
	}
	blk, ch := b.Finish(b.Height(), 0, interfaces.BlockMeta{})
	if err := tc.st[c].Commit(blk, ch); err != nil {
		tc.t.Fatal(err)
	}
	// Every block must replay the same under the same rules.
	return blk
}

// refused checks that tx is refused in cluster c with want.
func (tc *twoClusters) refused(c int, tx *interfaces.Transaction, want error) {
	tc.t.Helper()
	b := ledger.NewBuilder(tc.st[c], interfaces.ClusterID(c), tc.st[c].Parent()).WithRules(tc.rules)
	if err := b.Apply(tx); !errors.Is(err, want) {
		tc.t.Fatalf("cluster %d: got %v, want %v", c, err, want)
	}
}

func (tc *twoClusters) pay(c, from, to int, amount uint64) *interfaces.Transaction {
	tc.t.Helper()
	tx, err := tc.w.Transfer(tc.st[c], from, to, amount)
	if err != nil {
		tc.t.Fatal(err)
	}
	return tx
}

// credit is the TxCredit of blk's batch to dst.
func credit(t *testing.T, blk *interfaces.Block, dst interfaces.ClusterID) *interfaces.Transaction {
	t.Helper()
	for _, r := range blk.Receipts {
		if r.Dst == dst {
			beacon := interfaces.BeaconTx(1, interfaces.BeaconPayload{Height: 1})
			return interfaces.CreditTx(interfaces.CreditPayload{Batch: r, Finality: interfaces.Finality{Checkpoint: beacon}})
		}
	}
	t.Fatalf("block %d of cluster %d sends cluster %d nothing", blk.Header.Height, blk.Header.Cluster, dst)
	return nil
}

func claim(seq uint64, moves ...interfaces.Move) *interfaces.Transaction {
	bt := interfaces.BeaconTx(seq, interfaces.BeaconPayload{Height: seq, Moves: moves})
	return interfaces.MintTx(interfaces.MintClaim{Beacon: interfaces.Finality{Checkpoint: bt}})
}

func (tc *twoClusters) balance(c, star int) uint64 {
	v, _ := tc.st[c].Balance(tc.w.Stars[star])
	return v
}

// TestAMigrationMovesBalanceAndChainOnceAndOrdersTheAccountInOnePlace walks
// star 0 from cluster 0 to cluster 1 with transfers to it in flight from
// both sides, one of them routed by the old placement.
func TestAMigrationMovesBalanceAndChainOnceAndOrdersTheAccountInOnePlace(t *testing.T) {
	tc := newTwoClusters(t)
	first := tc.pay(0, 0, 2, 5)
	b01 := tc.block(0, first)              // batch 0→1 #1: a transfer to star 2
	b11 := tc.block(1, tc.pay(1, 3, 0, 7)) // batch 1→0 #1, routed by the old placement
	move := interfaces.Move{Star: tc.w.Stars[0], To: 1}
	b02 := tc.block(0, claim(1, move)) // star 0 is locked; batch 0→1 #2 carries it
	if len(b02.Receipts) != 1 || b02.Receipts[0].Receipts[0].Kind != interfaces.ReceiptMove || b02.Receipts[0].Receipts[0].Amount != 95 || b02.Receipts[0].Epoch != 1 {
		t.Fatalf("the claim sent %+v, want one move of 95 noOs at epoch 1", b02.Receipts)
	}
	if tc.balance(0, 0) != 0 {
		t.Fatalf("star 0 keeps %d noOs in cluster 0 after leaving", tc.balance(0, 0))
	}
	tc.refused(0, tc.pay(0, 0, 1, 1), ledger.ErrWrongCluster) // locked at the source

	tc.block(1, credit(t, b01, 1))
	tc.refused(1, credit(t, b02, 1), ledger.ErrNotYet) // cluster 1 has not applied the move
	b03 := tc.block(0, credit(t, b11, 0))              // star 0 is gone: forwarded
	if len(b03.Receipts) != 1 || b03.Receipts[0].Dst != 1 || b03.Receipts[0].Receipts[0].Amount != 7 {
		t.Fatalf("cluster 0 did not forward the transfer to star 0: %+v", b03.Receipts)
	}

	// Cluster 1 applies the move: star 0 is its own, but its chain head
	// is not here yet.
	early, err := interfaces.NewTransfer(tc.w.Keys[0], 2, first.ID(), tc.w.Stars[2], 1)
	if err != nil {
		t.Fatal(err)
	}
	tc.block(1, claim(1, move))
	tc.refused(1, early, ledger.ErrWrongCluster)
	tc.block(1, credit(t, b02, 1), credit(t, b03, 1))
	if got := tc.balance(1, 0); got != 95+7 {
		t.Fatalf("star 0 has %d in cluster 1, want 102", got)
	}
	// Its chain goes on where it stopped, and its old transactions cannot
	// be replayed here.
	tc.block(1, early)
	tc.refused(1, first, ledger.ErrReplay)

	// Cluster 0 now routes transfers to star 0 to cluster 1.
	b04 := tc.block(0, tc.pay(0, 1, 0, 3))
	if len(b04.Receipts) != 1 || b04.Receipts[0].Dst != 1 {
		t.Fatalf("a transfer to star 0 in cluster 0 went to %+v", b04.Receipts)
	}
	tc.block(1, credit(t, b04, 1))

	want := map[int]uint64{0: 100 - 5 + 7 - 1 + 3, 1: 97, 2: 106, 3: 93}
	var supply uint64
	for star, v := range want {
		got := tc.balance(0, star) + tc.balance(1, star)
		if got != v {
			t.Errorf("star %d has %d in all, want %d", star, got, v)
		}
		supply += got
	}
	if supply != 400 {
		t.Fatalf("supply %d, want 400", supply)
	}
}

// TestAnAccountThatMovesOnBeforeItArrivesFollowsItsHead: star 0 is moved
// to cluster 1 and, before its head arrives there, back to cluster 0. The
// head goes 0 → 1 → 0 and star 0 is spendable again only once it is back.
func TestAnAccountThatMovesOnBeforeItArrivesFollowsItsHead(t *testing.T) {
	tc := newTwoClusters(t)
	there := interfaces.Move{Star: tc.w.Stars[0], To: 1}
	back := interfaces.Move{Star: tc.w.Stars[0], To: 0}
	b01 := tc.block(0, claim(1, there)) // the head leaves for cluster 1
	tc.block(0, claim(2, back))         // cluster 0 owns star 0 again, without its head
	tc.refused(0, tc.pay(0, 0, 1, 1), ledger.ErrWrongCluster)
	tc.block(1, claim(1, there), claim(2, back))
	b12 := tc.block(1, credit(t, b01, 1)) // not star 0's cluster any more: forwarded
	if len(b12.Receipts) != 1 || b12.Receipts[0].Receipts[0].Kind != interfaces.ReceiptMove {
		t.Fatalf("cluster 1 did not forward the head: %+v", b12.Receipts)
	}
	if tc.balance(1, 0) != 0 {
		t.Fatalf("cluster 1 kept %d of star 0", tc.balance(1, 0))
	}
	tc.block(0, credit(t, b12, 0))
	tc.block(0, tc.pay(0, 0, 1, 1))
	if tc.balance(0, 0) != 99 || tc.balance(0, 1) != 101 {
		t.Fatalf("balances %d and %d after the round trip", tc.balance(0, 0), tc.balance(0, 1))
	}
}

// TestAForgedSecondHeadIsRefused: a move receipt for an account that the
// receiving cluster holds already is malformed (only the holder sends a
// head), so no second chain can start.
func TestAForgedSecondHeadIsRefused(t *testing.T) {
	tc := newTwoClusters(t)
	forged := interfaces.ReceiptBatch{Src: 0, Dst: 1, Seq: 1, Receipts: []interfaces.Receipt{{To: tc.w.Stars[2], Amount: 1, Kind: interfaces.ReceiptMove}}}
	tx := interfaces.CreditTx(interfaces.CreditPayload{Batch: forged, Finality: interfaces.Finality{Checkpoint: interfaces.BeaconTx(1, interfaces.BeaconPayload{Height: 1})}})
	tc.refused(1, tx, ledger.ErrMalformed)
}

// TestRandomMigrationsNeverLoseDuplicateOrSplitAnAccount runs three
// clusters through random transfers, random published moves and random
// delays: each cluster claims beacons and credits batches when a coin says
// so. After every block, the noOs in all ledgers plus those in batches not
// yet credited equal genesis, and no account's chain head is held by two
// clusters (nor lost: it is held, or in exactly one move in flight). At
// the end, with everything delivered, every account is held exactly where
// the published placement puts it.
func TestRandomMigrationsNeverLoseDuplicateOrSplitAnAccount(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		randomMigrations(t, seed)
	}
}

func randomMigrations(t *testing.T, seed uint64) {
	const k, n = 3, 9
	rng := rand.New(rand.NewPCG(seed, 7))
	w := ledgertest.NewWorld("migrate-random", n, 100)
	base := map[interfaces.StarID]interfaces.ClusterID{}
	for i, s := range w.Stars {
		base[s] = interfaces.ClusterID(i % k)
	}
	rules := &ledger.Rules{
		Owner:        func(s interfaces.StarID) interfaces.ClusterID { return base[s] },
		VerifyCredit: func(*interfaces.CreditPayload) error { return nil },
		VerifyMint:   func(*interfaces.MintClaim) error { return nil },
		Pseudo:       pseudoOf(k),
	}
	var st [k]*ledger.MemState
	for c := range st {
		g := ledger.Genesis{Seed: w.Genesis.Seed, Timestamp: w.Genesis.Timestamp}
		for i, a := range w.Genesis.Allocations {
			if i%k == c {
				g.Allocations = append(g.Allocations, a)
			}
		}
		st[c] = mustState(t, g)
	}
	var beacons [][]interfaces.Move // published, in order
	table := map[interfaces.StarID]interfaces.ClusterID{}
	for s, c := range base {
		table[s] = c
	}
	var claimed [k]int
	type pair struct{ src, dst int }
	pending := map[pair][]interfaces.ReceiptBatch{}
	var txs [k][]*interfaces.Transaction

	build := func(c int) {
		b := ledger.NewBuilder(st[c], interfaces.ClusterID(c), st[c].Parent()).WithRules(rules)
		for _, tx := range txs[c] {
			err := b.Apply(tx)
			// A transfer chosen on the committed state may meet its
			// sender's move, claimed earlier in the same block.
			moved := tx.Kind == interfaces.TxTransfer && errors.Is(err, ledger.ErrWrongCluster)
			if err != nil && !moved {
				t.Fatalf("seed %d cluster %d: %v", seed, c, err)
			}
		}
		txs[c] = nil
		blk, ch := b.Finish(b.Height(), 0, interfaces.BlockMeta{})
		if err := st[c].Commit(blk, ch); err != nil {
			t.Fatal(err)
		}
		for _, r := range blk.Receipts {
			p := pair{int(r.Src), int(r.Dst)}
			pending[p] = append(pending[p], r)
		}
	}
	check := func(final bool) {
		var supply uint64
		holders := map[interfaces.StarID]int{}
		for c := range st {
			for _, s := range w.Stars {
				v, _ := st[c].Balance(s)
				supply += v
				if held(t, st[c], rules, interfaces.ClusterID(c), s) {
					holders[s]++
				}
			}
		}
		for _, q := range pending {
			for _, r := range q {
				for _, x := range r.Receipts {
					supply += x.Amount
					if x.Kind == interfaces.ReceiptMove {
						holders[x.To]++
					}
				}
			}
		}
		if supply != 100*n {
			t.Fatalf("seed %d: %d noOs in ledgers and in flight, want %d", seed, supply, 100*n)
		}
		for _, s := range w.Stars {
			if holders[s] != 1 {
				t.Fatalf("seed %d: star %s is held or in flight %d times", seed, s.Short(), holders[s])
			}
			if final && !held(t, st[table[s]], rules, table[s], s) {
				t.Fatalf("seed %d: star %s is not held by its owner %d after delivery", seed, s.Short(), table[s])
			}
		}
	}
	deliver := func(c int, all bool) {
		for claimed[c] < len(beacons) && (all || rng.IntN(2) == 0) {
			txs[c] = append(txs[c], claim(uint64(claimed[c]+1), beacons[claimed[c]]...))
			claimed[c]++
		}
		for src := 0; src < k; src++ {
			q := pending[pair{src, c}]
			for len(q) > 0 && (all || rng.IntN(2) == 0) {
				if int(q[0].Epoch) > claimed[c] {
					break
				}
				txs[c] = append(txs[c], interfaces.CreditTx(interfaces.CreditPayload{Batch: q[0], Finality: interfaces.Finality{Checkpoint: interfaces.BeaconTx(1, interfaces.BeaconPayload{Height: 1})}}))
				q = q[1:]
			}
			pending[pair{src, c}] = q
		}
	}
	for step := 0; step < 150; step++ {
		if rng.IntN(5) == 0 {
			var moves []interfaces.Move
			seen := map[int]bool{}
			for j := rng.IntN(3); j >= 0; j-- {
				i := rng.IntN(n)
				to := interfaces.ClusterID(rng.IntN(k))
				if rng.IntN(4) == 0 {
					// Stars anyone may pay, and so get placed: another
					// account's placement record, a cluster's account.
					odd := []interfaces.StarID{interfaces.PlacementStar(w.Stars[i]), interfaces.ClusterStar(to), interfaces.OutboxStar(to)}
					moves = append(moves, interfaces.Move{Star: odd[rng.IntN(len(odd))], To: interfaces.ClusterID(rng.IntN(k))})
					continue
				}
				if seen[i] || table[w.Stars[i]] == to {
					continue
				}
				seen[i] = true
				moves = append(moves, interfaces.Move{Star: w.Stars[i], To: to})
				table[w.Stars[i]] = to
			}
			beacons = append(beacons, moves)
		}
		c := rng.IntN(k)
		deliver(c, false)
		for i, s := range w.Stars {
			if rng.IntN(3) != 0 || !held(t, st[c], rules, interfaces.ClusterID(c), s) {
				continue
			}
			if v, _ := st[c].Balance(s); v > 0 {
				to := rng.IntN(n - 1)
				if to >= i {
					to++
				}
				tx, err := w.Transfer(st[c], i, to, 1+rng.Uint64N(v))
				if err != nil {
					t.Fatal(err)
				}
				txs[c] = append(txs[c], tx)
				break // one per block, so the pre-signed sequence holds
			}
		}
		build(c)
		check(false)
	}
	for round := 0; round < 4*k; round++ {
		for c := 0; c < k; c++ {
			deliver(c, true)
			build(c)
		}
	}
	check(true)
}

// held says whether cluster c's ledger holds s's chain head.
func held(t *testing.T, st *ledger.MemState, rules *ledger.Rules, c interfaces.ClusterID, s interfaces.StarID) bool {
	seq, last, err := st.ChainHead(interfaces.PlacementStar(s))
	if err != nil {
		t.Fatal(err)
	}
	if seq == 0 {
		return rules.Owner(s) == c
	}
	p := interfaces.UnpackPlacement(last)
	return p.Holds && p.Owner == c
}

// TestTheEdgeSampleIsTheLedgers: a cluster block's edge sample is computed
// by the ledger from the block's transfers, so a block whose metadata
// claims other edges (re-hashed into its header) does not verify.
func TestTheEdgeSampleIsTheLedgers(t *testing.T) {
	tc := newTwoClusters(t)
	st0 := mustState(t, tc.st[0].Genesis())
	blk := tc.block(0, tc.pay(0, 0, 1, 5), tc.pay(0, 1, 2, 3))
	if len(blk.Meta.Edges) != 2 {
		t.Fatalf("the block samples %d edges of its 2 transfers", len(blk.Meta.Edges))
	}
	if _, err := ledger.VerifyBlockWith(st0, st0.Parent(), blk, tc.rules); err != nil {
		t.Fatalf("the honest block does not verify: %v", err)
	}
	forged := *blk
	forged.Meta.Edges = slices.Clone(blk.Meta.Edges)
	forged.Meta.Edges[0].To = tc.w.Stars[3]
	forged.Header.MetaHash = forged.Meta.Digest()
	if _, err := ledger.VerifyBlockWith(st0, st0.Parent(), &forged, tc.rules); err == nil {
		t.Fatal("a block with a forged edge sample verified")
	}
}

func pseudoOf(k int) func(interfaces.StarID) bool {
	set := map[interfaces.StarID]bool{interfaces.ClusterStar(interfaces.GalaxyCluster): true}
	for c := 0; c < k; c++ {
		set[interfaces.ClusterStar(interfaces.ClusterID(c))] = true
		set[interfaces.OutboxStar(interfaces.ClusterID(c))] = true
	}
	return func(s interfaces.StarID) bool { return set[s] }
}

// TestMovesOfRecordsAndClusterAccountsAreIgnored: a published move of a
// placement record or of a cluster's own account changes nothing, so the
// galaxy's learner may name any star it was shown.
func TestMovesOfRecordsAndClusterAccountsAreIgnored(t *testing.T) {
	tc := newTwoClusters(t)
	star0 := tc.w.Stars[0]
	tc.block(0, claim(1, interfaces.Move{Star: star0, To: 1}))
	tc.block(1, claim(1, interfaces.Move{Star: star0, To: 1}))
	record := func(c int) ledger.Head {
		seq, last, _ := tc.st[c].ChainHead(interfaces.PlacementStar(star0))
		return ledger.Head{Seq: seq, Last: last}
	}
	before := [2]ledger.Head{record(0), record(1)}
	odd := []interfaces.Move{{Star: interfaces.PlacementStar(star0), To: 1}, {Star: interfaces.ClusterStar(0), To: 1}, {Star: interfaces.OutboxStar(1), To: 0}}
	b02 := tc.block(0, claim(2, odd...))
	tc.block(1, claim(2, odd...))
	if len(b02.Receipts) != 0 {
		t.Fatalf("the ignored moves sent receipts: %+v", b02.Receipts)
	}
	if record(0) != before[0] || record(1) != before[1] {
		t.Fatal("a move of star 0's placement record changed it")
	}
}

// TestAnAccountThatNeverSentMovesItsBalanceOnly: star 3 (cluster 1) was
// only ever paid; moved to cluster 0, its balance follows and cluster 0
// orders its first transaction.
func TestAnAccountThatNeverSentMovesItsBalanceOnly(t *testing.T) {
	tc := newTwoClusters(t)
	m := interfaces.Move{Star: tc.w.Stars[3], To: 0}
	b := tc.block(1, claim(1, m))
	if r := b.Receipts[0].Receipts[0]; r.Kind != interfaces.ReceiptMove || r.Seq != 0 || r.Amount != 100 {
		t.Fatalf("the move sent %+v", r)
	}
	tc.block(0, claim(1, m), credit(t, b, 0))
	tc.block(0, tc.pay(0, 3, 0, 40))
	if tc.balance(0, 3) != 60 || tc.balance(0, 0) != 140 || tc.balance(1, 3) != 0 {
		t.Fatalf("balances after the move: star 3 %d here, %d there; star 0 %d", tc.balance(0, 3), tc.balance(1, 3), tc.balance(0, 0))
	}
}
