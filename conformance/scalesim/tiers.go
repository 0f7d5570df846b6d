package scalesim

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/constellation-chain/constellation/conformance/sim"
	"github.com/constellation-chain/constellation/interfaces"
)

// Contributions are opaque to the engine; the experiment encodes what it
// needs to count in their first bytes and pads them to their real size.
const (
	tagTxs         = 'T' // a delegate's transactions: tag, proposer u32, epoch u64, count u32, padding
	tagCheckpoints = 'C' // a galaxy member's checkpoints: tag, count u32, count × record
	txHeader       = 17
	cpRecord       = 16 // cluster u32, height u64, transactions u32 (then padding to CheckpointSize)
)

func txContribution(node int, epoch uint64, txs, txSize int) []byte {
	b := make([]byte, max(txs*txSize, txHeader))
	b[0] = tagTxs
	binary.BigEndian.PutUint32(b[1:], uint32(node))
	binary.BigEndian.PutUint64(b[5:], epoch)
	binary.BigEndian.PutUint32(b[13:], uint32(txs))
	return b
}

func txCount(b []byte) int {
	if len(b) < txHeader || b[0] != tagTxs {
		return 0
	}
	return int(binary.BigEndian.Uint32(b[13:]))
}

// clusterHost prices a delegate's work on each decision: every
// transaction's signature checked TxVerifies times (pool admission, which
// the ledger trusts) and applied, and the checkpoint threshold-signed (one share, one
// combine of f+1).
type clusterHost struct {
	p   *Params
	f   int
	txs []int // per decision index, as the first member to decide it saw; -1 not yet
}

func (h *clusterHost) decided(_ int, _ sim.Time, d interfaces.Decision) Work {
	n := 0
	for _, c := range d.Contributions {
		n += txCount(c.Data)
	}
	if k := int(d.Epoch); k >= len(h.txs) || h.txs[k] < 0 {
		for len(h.txs) <= k {
			h.txs = append(h.txs, -1)
		}
		h.txs[k] = n
	}
	var w Work
	w[CatTx] = time.Duration(n) * (time.Duration(h.p.TxVerifies)*h.p.CPU.Ed25519Verify + h.p.CPU.TxApply)
	w[CatCert] = h.p.CPU.SignShare + h.p.CPU.Combine(h.f+1)
	return w
}

// ClusterRun is one simulated Star Cluster (or one flat cluster).
type ClusterRun struct {
	N, F int
	Seed uint64
	// Epochs decided by every member.
	Epochs int
	// Txs is the transactions of each epoch; Included the proposals each
	// decision included.
	Txs      []int
	Included []int
	// CertAt[e][d] is when delegate d holds epoch e's certificate;
	// Certified[e] the earliest of them (the checkpoint exists).
	CertAt    [][]sim.Time
	Certified []sim.Time
	// TPS is the committed transactions per second over the measured
	// epochs, EpochTime the mean interval between their certificates.
	TPS       float64
	EpochTime sim.Time
	// CPU is the members' mean busy share by category over the measured
	// epochs; Uplink their mean uplink busy share.
	CPU    Shares
	Uplink float64
	// Messages is the number of messages delivered; Kinds counts them by
	// the Meter's names.
	Messages int
	Kinds    map[string]int
}

// runCluster simulates one cluster of n delegates.
func runCluster(p *Params, n, epochs, warmup int, seed uint64, role string) (*ClusterRun, error) {
	h := &clusterHost{p: p, f: (n - 1) / 3}
	contribute := func(node int, epoch uint64, _ sim.Time) []byte {
		return txContribution(node, epoch, p.TxPerNode, p.TxSize)
	}
	s := sim.SeedFromUint64(seed)
	g, err := runGroup(p, n, p.TxPerNode*n, epochs, 0, s, role, contribute, h)
	if err != nil {
		return nil, err
	}
	r := &ClusterRun{N: n, F: g.f, Seed: seed, Epochs: g.epochsDecided(), Kinds: g.costs.kinds}
	if r.Epochs < epochs || warmup < 1 || warmup >= epochs {
		return nil, fmt.Errorf("%s (N=%d): %d of %d epochs decided, warm-up %d", role, n, r.Epochs, epochs, warmup)
	}
	for k := range r.Epochs {
		at, _ := g.decidedAt(k)
		cert := g.certified(at)
		r.CertAt = append(r.CertAt, cert)
		r.Certified = append(r.Certified, slices.Min(cert))
		r.Txs = append(r.Txs, h.txs[k])
		r.Included = append(r.Included, len(g.res.Nodes[0].Decisions[k].Contributions))
	}
	txs := 0
	for k := warmup; k < epochs; k++ {
		txs += r.Txs[k]
	}
	span := r.Certified[epochs-1] - r.Certified[warmup-1]
	r.TPS = float64(txs) / seconds(span)
	r.EpochTime = span / sim.Time(epochs-warmup)
	r.CPU, r.Uplink, _ = g.utilisation(warmup-1, epochs-1)
	for _, nr := range g.res.Nodes {
		r.Messages += nr.Received
	}
	return r, nil
}

// includedShare is the mean share of proposals the epochs from warmup on
// included.
func (r *ClusterRun) includedShare(warmup int) float64 {
	var s float64
	for _, v := range r.Included[warmup:] {
		s += float64(v)
	}
	return s / float64(len(r.Included)-warmup) / float64(r.N)
}

func seconds(t sim.Time) float64 { return float64(t) / float64(sim.Second) }

// checkpoint is one cluster checkpoint on its way to the galaxy.
type checkpoint struct {
	cluster, height, txs int
	certified            sim.Time
	arrive               []sim.Time // at each galaxy member
}

// streams builds the checkpoints of k clusters: cluster i replays cluster
// run i mod len(runs), shifted by a seeded phase below its epoch time, and
// each checkpoint reaches galaxy member g from the first delegate that
// holds its certificate, one link latency (drawn per cluster, delegate and
// member) and one uplink transmission later.
func streams(p *Params, runs []*ClusterRun, k int, seed interfaces.Hash) []checkpoint {
	r := rng(seed, fmt.Sprintf("phases/%d", k))
	var out []checkpoint
	for i := range k {
		run := runs[i%len(runs)]
		phase := sim.Time(r.Int64N(int64(max(run.EpochTime, 1))))
		lat := newLatencyTable(p.Link, max(run.N, p.GalaxySize), seed, fmt.Sprintf("cluster-galaxy/%d/%d", k, i))
		tx := p.Link.transmit(p.CheckpointSize)
		for e := range run.Epochs {
			c := checkpoint{cluster: i, height: e, txs: run.Txs[e], certified: run.Certified[e] + phase, arrive: make([]sim.Time, p.GalaxySize)}
			for g := range p.GalaxySize {
				best := sim.Time(-1)
				for d, at := range run.CertAt[e] {
					t := at + phase + tx + lat.at(d, g)
					if best < 0 || t < best {
						best = t
					}
				}
				c.arrive[g] = best
			}
			out = append(out, c)
		}
	}
	return out
}

// galaxy is the host of every galaxy member: its pool of arrived
// checkpoints, the contribution it proposes (the kernel's sampling), and
// what it pays for each decision.
type galaxy struct {
	p      *Params
	n, f   int
	k      int
	cps    []checkpoint
	index  map[[2]int]int // (cluster, height) -> index in cps
	order  [][]int        // per member: checkpoint indices by arrival
	next   []int          // per member: arrivals taken so far
	has    [][][]bool     // per member, cluster: arrived heights
	head   [][]int        // per member, cluster: next height to finalize
	oldest [][]sim.Time   // per member, cluster: arrival of the first waiting checkpoint
	seed   interfaces.Hash
	// final[e] lists the checkpoints (indices) black hole e finalized, as
	// the first member to decide it saw.
	final [][]int
	// dupes counts checkpoint copies in decisions beyond the first.
	dupes int
}

func newGalaxy(p *Params, k int, cps []checkpoint, seed interfaces.Hash) *galaxy {
	n := p.GalaxySize
	g := &galaxy{p: p, n: n, f: (n - 1) / 3, k: k, cps: cps, index: map[[2]int]int{}, seed: seed,
		order: make([][]int, n), next: make([]int, n), has: make([][][]bool, n), head: make([][]int, n), oldest: make([][]sim.Time, n)}
	heights := make([]int, k)
	for i, c := range cps {
		g.index[[2]int{c.cluster, c.height}] = i
		heights[c.cluster] = max(heights[c.cluster], c.height+1)
	}
	for m := range n {
		ord := make([]int, len(cps))
		for i := range ord {
			ord[i] = i
		}
		sort.SliceStable(ord, func(a, b int) bool { return cps[ord[a]].arrive[m] < cps[ord[b]].arrive[m] })
		g.order[m] = ord
		g.has[m] = make([][]bool, k)
		for c := range k {
			g.has[m][c] = make([]bool, heights[c])
		}
		g.head[m] = make([]int, k)
		g.oldest[m] = make([]sim.Time, k)
	}
	return g
}

// contribution is member m's proposal for epoch at time at: like the
// kernel's group, it reaps up to the batch size B of waiting checkpoints
// (each cluster's run of consecutive heights after the last finalized one,
// clusters by the arrival of their oldest waiting checkpoint), and if that
// is more than its share B/N it takes whole runs in a random order until
// the share is reached.
func (g *galaxy) contribution(m int, epoch uint64, at sim.Time) []byte {
	for g.next[m] < len(g.order[m]) {
		i := g.order[m][g.next[m]]
		c := &g.cps[i]
		if c.arrive[m] > at {
			break
		}
		g.has[m][c.cluster][c.height] = true
		g.next[m]++
	}
	type run struct {
		cluster, from, to int
		oldest            sim.Time
	}
	var runs []run
	for c := range g.k {
		h := g.head[m][c]
		e := h
		var first sim.Time = -1
		for e < len(g.has[m][c]) && g.has[m][c][e] {
			if t := g.cps[g.index[[2]int{c, e}]].arrive[m]; first < 0 || t < first {
				first = t
			}
			e++
		}
		if e > h {
			runs = append(runs, run{c, h, e, first})
		}
	}
	sort.SliceStable(runs, func(a, b int) bool { return runs[a].oldest < runs[b].oldest })
	batch, share := g.p.GalaxyBatch, max(g.p.GalaxyBatch/g.n, 1)
	var reaped []run
	total := 0
	for _, r := range runs {
		if total >= batch {
			break
		}
		r.to = min(r.to, r.from+batch-total)
		reaped = append(reaped, r)
		total += r.to - r.from
	}
	if total > share {
		rr := rng(g.seed, fmt.Sprintf("sample/%d/%d", m, epoch))
		rr.Shuffle(len(reaped), func(a, b int) { reaped[a], reaped[b] = reaped[b], reaped[a] })
		var taken []run
		left := share
		for _, r := range reaped {
			if left == 0 {
				break
			}
			r.to = min(r.to, r.from+left)
			left -= r.to - r.from
			taken = append(taken, r)
		}
		reaped = taken
	}
	count := 0
	for _, r := range reaped {
		count += r.to - r.from
	}
	b := make([]byte, 5+count*g.p.CheckpointSize)
	b[0] = tagCheckpoints
	binary.BigEndian.PutUint32(b[1:], uint32(count))
	off := 5
	for _, r := range reaped {
		for h := r.from; h < r.to; h++ {
			c := g.cps[g.index[[2]int{r.cluster, h}]]
			binary.BigEndian.PutUint32(b[off:], uint32(c.cluster))
			binary.BigEndian.PutUint64(b[off+4:], uint64(c.height))
			binary.BigEndian.PutUint32(b[off+12:], uint32(c.txs))
			off += g.p.CheckpointSize
		}
	}
	return b
}

// decided applies a black hole at member m: every checkpoint it carries
// that is the next of its cluster is finalized once (copies proposed by
// several members count once); each costs CheckpointVerifies certificate
// checks and the black hole one signature share and one combine.
func (g *galaxy) decided(m int, _ sim.Time, d interfaces.Decision) Work {
	seen := map[[2]int]bool{}
	byCluster := map[int][]int{}
	for _, c := range d.Contributions {
		b := c.Data
		if len(b) < 5 || b[0] != tagCheckpoints {
			continue
		}
		count := int(binary.BigEndian.Uint32(b[1:]))
		for j := range count {
			off := 5 + j*g.p.CheckpointSize
			if off+cpRecord > len(b) {
				break
			}
			key := [2]int{int(binary.BigEndian.Uint32(b[off:])), int(binary.BigEndian.Uint64(b[off+4:]))}
			if seen[key] {
				if m == 0 {
					g.dupes++
				}
				continue
			}
			seen[key] = true
			byCluster[key[0]] = append(byCluster[key[0]], key[1])
		}
	}
	var fresh []int
	clusters := make([]int, 0, len(byCluster))
	for c := range byCluster {
		clusters = append(clusters, c)
	}
	sort.Ints(clusters)
	for _, c := range clusters {
		hs := byCluster[c]
		sort.Ints(hs)
		for _, h := range hs {
			if c < g.k && h == g.head[m][c] {
				g.head[m][c]++
				fresh = append(fresh, g.index[[2]int{c, h}])
			}
		}
	}
	if e := int(d.Epoch); e >= len(g.final) || g.final[e] == nil {
		for len(g.final) <= e {
			g.final = append(g.final, nil)
		}
		g.final[e] = append([]int{}, fresh...) // non-nil: recorded
	}
	var w Work
	w[CatCheckpoint] = time.Duration(len(fresh)) * (time.Duration(g.p.CheckpointVerifies)*g.p.CPU.VerifySignature + g.p.CPU.TxApply)
	w[CatCert] = g.p.CPU.SignShare + g.p.CPU.Combine(g.f+1)
	return w
}
