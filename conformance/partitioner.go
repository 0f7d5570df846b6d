package conformance

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/constellation-chain/constellation/interfaces"
)

// RunPartitioner runs the partitioner conformance suite against f as Go
// subtests of t.
func RunPartitioner(t *testing.T, f interfaces.PartitionerFactory) {
	t.Helper()
	PartitionerSuite(FromTesting(t), f)
}

// PartitionerSuite runs every partitioner case under t. Each case builds
// its own instances with f.NewPartitioner(k, nil) and feeds them
// transactions and finalized blocks from a seeded generator, so a failure
// names the seed and is reproducible. The properties are those of
// interfaces.Partitioner:
//
//   - info: the plugin describes itself as a partitioner;
//   - in-range: every assignment is a cluster that exists, and Clusters
//     says how many;
//   - one-owner-per-sender: every transaction of one sender goes to one
//     cluster (its chain is ordered in one place) until Learn moves it;
//   - determinism: two instances fed the same finalized blocks in the same
//     order assign every transaction alike, before and after each block;
//   - uses-every-cluster: unrelated senders spread over all clusters (no
//     cluster owns less than a quarter of its fair share of 4,000), or the
//     population's throughput cannot grow with its clusters;
//   - odd-inputs: the zero sender, empty and unusual blocks never panic.
func PartitionerSuite(t TB, f interfaces.PartitionerFactory) {
	t.Helper()
	cases := []struct {
		name string
		run  func(TB, interfaces.PartitionerFactory)
	}{
		{"info-describes-a-partitioner", partInfo},
		{"assignments-are-clusters-that-exist", partInRange},
		{"one-owner-per-sender", partOneOwner},
		{"determinism-same-blocks-same-assignments", partDeterminism},
		{"uses-every-cluster", partSpread},
		{"odd-inputs-never-panic", partOdd},
	}
	for _, c := range cases {
		t.Run(c.name, func(t TB) { c.run(t, f) })
	}
}

// partGen generates reproducible transactions and blocks.
type partGen struct {
	rng    *rand.Rand
	stars  []interfaces.StarID
	seq    map[interfaces.StarID]uint64
	height uint64
}

const partSeed = 11

func newPartGen(seed uint64, stars int) *partGen {
	g := &partGen{rng: rand.New(rand.NewPCG(seed, 0x5eed)), seq: map[interfaces.StarID]uint64{}}
	for i := 0; i < stars; i++ {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(i))
		g.stars = append(g.stars, interfaces.StarID(interfaces.DomainSum("constellation/conformance/partitioner/star", b[:])))
	}
	return g
}

// tx returns a transfer from sender to a random counterparty.
func (g *partGen) tx(sender interfaces.StarID) *interfaces.Transaction {
	g.seq[sender]++
	to := g.stars[g.rng.IntN(len(g.stars))]
	payload := (&interfaces.TransferPayload{To: to, Amount: 1 + g.rng.Uint64N(1000)}).Encode()
	return &interfaces.Transaction{Sender: sender, Seq: g.seq[sender], Kind: interfaces.TxTransfer, Payload: payload}
}

// block returns the next finalized block of a random cluster's chain.
func (g *partGen) block(k int) *interfaces.Block {
	g.height++
	b := &interfaces.Block{Header: interfaces.BlockHeader{Cluster: interfaces.ClusterID(g.rng.IntN(k)), Height: g.height, Epoch: g.height - 1}}
	for i := 0; i < 1+g.rng.IntN(30); i++ {
		b.Txs = append(b.Txs, g.tx(g.stars[g.rng.IntN(len(g.stars))]))
	}
	b.Seal()
	return b
}

func newPart(t TB, f interfaces.PartitionerFactory, k int) interfaces.Partitioner {
	t.Helper()
	p, err := f.NewPartitioner(k, nil)
	if err != nil {
		t.Fatalf("partitioner: new instance for %d clusters: %v", k, err)
	}
	if p == nil {
		t.Fatalf("partitioner: the factory returned no instance and no error for %d clusters", k)
	}
	return p
}

func partInfo(t TB, f interfaces.PartitionerFactory) {
	info := f.Info()
	if info.Kind != interfaces.KindPartitioner {
		t.Fatalf("info: plugin %q says it is of kind %q, not %q", info.Name, info.Kind, interfaces.KindPartitioner)
	}
	if err := info.Validate(); err != nil {
		t.Fatalf("info: %v", err)
	}
}

func partInRange(t TB, f interfaces.PartitionerFactory) {
	for _, k := range []int{1, 2, 7, 16} {
		p := newPart(t, f, k)
		if got := p.Clusters(); got != k {
			t.Fatalf("in-range violated: built for %d clusters, Clusters() says %d", k, got)
		}
		g := newPartGen(partSeed, 500)
		for i := 0; i < 2000; i++ {
			tx := g.tx(g.stars[i%len(g.stars)])
			if c := p.Assign(tx); int(c) >= k {
				t.Fatalf("in-range violated: k=%d seed=%d: transaction %d of %s assigned to cluster %d", k, partSeed, i, tx.Sender.Short(), c)
			}
		}
		closeIfCloser(p)
	}
}

func partOneOwner(t TB, f interfaces.PartitionerFactory) {
	const k = 7
	p := newPart(t, f, k)
	defer closeIfCloser(p)
	g := newPartGen(partSeed, 300)
	for _, s := range g.stars {
		first := p.Assign(g.tx(s))
		for j := 0; j < 5; j++ {
			tx := g.tx(s)
			if j%2 == 1 {
				tx.Kind, tx.Payload = interfaces.TxData, []byte(fmt.Sprintf("data %d", j))
			}
			if c := p.Assign(tx); c != first {
				t.Fatalf("one owner per sender violated: k=%d seed=%d: %s's transactions go to clusters %d and %d, so its chain would be ordered in two places", k, partSeed, s.Short(), first, c)
			}
		}
	}
}

func partDeterminism(t TB, f interfaces.PartitionerFactory) {
	const k = 5
	a, b := newPart(t, f, k), newPart(t, f, k)
	defer closeIfCloser(a)
	defer closeIfCloser(b)
	g := newPartGen(partSeed, 200)
	probes := make([]*interfaces.Transaction, 0, 100)
	for i := 0; i < 100; i++ {
		probes = append(probes, g.tx(g.stars[i*2%len(g.stars)]))
	}
	check := func(after int) {
		for i, tx := range probes {
			if ca, cb := a.Assign(tx), b.Assign(tx); ca != cb {
				t.Fatalf("determinism violated: k=%d seed=%d: after %d blocks, two instances assign probe %d (sender %s) to clusters %d and %d", k, partSeed, after, i, tx.Sender.Short(), ca, cb)
			}
		}
	}
	check(0)
	for n := 1; n <= 40; n++ {
		blk := g.block(k)
		ea, eb := a.Learn(blk), b.Learn(blk)
		if (ea == nil) != (eb == nil) {
			t.Fatalf("determinism violated: k=%d seed=%d: block %d: Learn answered %v on one instance and %v on another", k, partSeed, n, ea, eb)
		}
		if got := a.Clusters(); got != b.Clusters() {
			t.Fatalf("determinism violated: after block %d the instances count %d and %d clusters", n, got, b.Clusters())
		}
		check(n)
	}
}

func partSpread(t TB, f interfaces.PartitionerFactory) {
	const k, n = 4, 4000
	p := newPart(t, f, k)
	defer closeIfCloser(p)
	g := newPartGen(partSeed+1, n)
	counts := make([]int, k)
	for _, s := range g.stars {
		counts[p.Assign(g.tx(s))%k]++
	}
	for c, got := range counts {
		if got < n/k/4 {
			t.Fatalf("uses every cluster violated: k=%d, %d unrelated senders: cluster %d owns %d of them (counts %v); clusters left idle add no throughput", k, n, c, got, counts)
		}
	}
}

func partOdd(t TB, f interfaces.PartitionerFactory) {
	p := newPart(t, f, 3)
	defer closeIfCloser(p)
	if c := p.Assign(&interfaces.Transaction{}); int(c) >= 3 {
		t.Fatalf("odd inputs: the zero transaction assigned to cluster %d of 3", c)
	}
	g := newPartGen(partSeed, 10)
	empty := &interfaces.Block{Header: interfaces.BlockHeader{Height: 1}}
	empty.Seal()
	big := g.block(3)
	for i := 0; i < 2000; i++ {
		big.Txs = append(big.Txs, g.tx(g.stars[i%len(g.stars)]))
	}
	big.Seal()
	odd := &interfaces.Block{Header: interfaces.BlockHeader{Cluster: 99, Height: 1 << 40}}
	odd.Seal()
	for name, b := range map[string]*interfaces.Block{"empty": empty, "2000 transactions": big, "of a cluster that does not exist": odd} {
		_ = p.Learn(b) // an error is an acceptable answer; a panic is not
		if c := p.Assign(g.tx(g.stars[0])); int(c) >= p.Clusters() {
			t.Fatalf("odd inputs: after learning a block %s, a transaction went to cluster %d of %d", name, c, p.Clusters())
		}
	}
}
