// Package partsim measures how a partitioner places related accounts: it
// generates a seeded transfer workload with community structure (accounts
// of power-law activity in planted communities, most transfers within a
// community) and counts the share of transfers whose sender and receiver
// are owned by different Star Clusters, which must travel by receipt.
//
// Hash placement, which ignores who transacts with whom, crosses clusters
// for a share 1 − 1/k of transfers whatever the workload; locality
// placement is meant to bring that down (the targets: within 2 points
// of 1 − 1/k for hash placement, at most 20 % at k = 16 for locality).
package partsim

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/constellation-chain/constellation/interfaces"
)

// Workload describes a generated transfer stream.
type Workload struct {
	Accounts    int     // number of accounts
	Communities int     // planted communities; every account belongs to one
	Transfers   int     // number of transfers
	Zipf        float64 // activity exponent s > 0: account of rank r has weight 1/r^s
	Intra       float64 // probability that a transfer stays in the sender's community
	Seed        uint64
}

// Transfer is one generated transfer.
type Transfer struct{ From, To int }

// Generated is a workload's accounts and transfers.
type Generated struct {
	Stars     []interfaces.StarID
	Community []int
	Transfers []Transfer
}

// Generate draws the workload. Account i's activity weight is
// 1/(rank+1)^Zipf over a random ranking, so a few accounts are busy and
// most are quiet; communities are assigned uniformly at random. A
// transfer's sender is drawn by weight; its receiver by weight among the
// sender's community with probability Intra, else among all accounts.
func Generate(w Workload) (*Generated, error) {
	switch {
	case w.Accounts < 2 || w.Communities < 1 || w.Communities > w.Accounts:
		return nil, fmt.Errorf("partsim: %d accounts in %d communities", w.Accounts, w.Communities)
	case w.Transfers < 1:
		return nil, fmt.Errorf("partsim: %d transfers", w.Transfers)
	case w.Zipf <= 0 || math.IsNaN(w.Zipf) || math.IsInf(w.Zipf, 0):
		return nil, fmt.Errorf("partsim: activity exponent %v, want above 0", w.Zipf)
	case w.Intra < 0 || w.Intra > 1 || math.IsNaN(w.Intra):
		return nil, fmt.Errorf("partsim: intra-community probability %v outside [0, 1]", w.Intra)
	}
	rng := rand.New(rand.NewPCG(w.Seed, 0xc0ffee))
	g := &Generated{Stars: make([]interfaces.StarID, w.Accounts), Community: make([]int, w.Accounts)}
	rank := rng.Perm(w.Accounts)
	weight := make([]float64, w.Accounts)
	members := make([][]int, w.Communities)
	for i := range g.Stars {
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], w.Seed)
		binary.BigEndian.PutUint64(b[8:], uint64(i))
		g.Stars[i] = interfaces.StarID(interfaces.DomainSum("constellation/partsim/account", b[:]))
		g.Community[i] = rng.IntN(w.Communities)
		members[g.Community[i]] = append(members[g.Community[i]], i)
		weight[i] = 1 / math.Pow(float64(rank[i]+1), w.Zipf)
	}
	all := newSampler(weight, nil)
	within := make([]*sampler, w.Communities)
	for c, ms := range members {
		if len(ms) > 0 {
			within[c] = newSampler(weight, ms)
		}
	}
	for len(g.Transfers) < w.Transfers {
		from := all.draw(rng)
		pool := all
		if rng.Float64() < w.Intra && len(within[g.Community[from]].idx) > 1 {
			pool = within[g.Community[from]]
		}
		// Redraw the receiver, not the sender, so that the intra share
		// stays what was asked; a busy account in a small community may
		// draw itself several times.
		for try := 0; try < 64; try++ {
			if to := pool.draw(rng); to != from {
				g.Transfers = append(g.Transfers, Transfer{From: from, To: to})
				break
			}
		}
	}
	return g, nil
}

// sampler draws indices by weight from a cumulative table.
type sampler struct {
	idx []int
	cum []float64
}

func newSampler(weight []float64, idx []int) *sampler {
	if idx == nil {
		idx = make([]int, len(weight))
		for i := range idx {
			idx[i] = i
		}
	}
	s := &sampler{idx: idx, cum: make([]float64, len(idx))}
	total := 0.0
	for k, i := range idx {
		total += weight[i]
		s.cum[k] = total
	}
	return s
}

func (s *sampler) draw(rng *rand.Rand) int {
	x := rng.Float64() * s.cum[len(s.cum)-1]
	return s.idx[sort.SearchFloat64s(s.cum, x)]
}

// CrossShare returns the share of g's transfers whose sender and receiver
// p places in different clusters. An account's cluster is the one p
// assigns its transactions to.
func CrossShare(p interfaces.Partitioner, g *Generated) float64 {
	owner := make([]interfaces.ClusterID, len(g.Stars))
	for i, s := range g.Stars {
		owner[i] = p.Assign(&interfaces.Transaction{Sender: s, Seq: 1, Kind: interfaces.TxData})
	}
	cross := 0
	for _, t := range g.Transfers {
		if owner[t.From] != owner[t.To] {
			cross++
		}
	}
	return float64(cross) / float64(len(g.Transfers))
}

// Feed has p learn transfers [from, to) of g, as finalized blocks of at
// most per transfers each (unsigned: Learn reads what blocks say, the
// ledger checked signatures before).
func Feed(p interfaces.Partitioner, g *Generated, from, to, per int) error {
	for start := from; start < to; start += per {
		end := min(start+per, to)
		b := &interfaces.Block{Header: interfaces.BlockHeader{Height: uint64(start/per + 1)}}
		for _, t := range g.Transfers[start:end] {
			b.Txs = append(b.Txs, &interfaces.Transaction{
				Sender: g.Stars[t.From], Seq: 1, Kind: interfaces.TxTransfer,
				Payload: interfaces.TransferPayload{To: g.Stars[t.To], Amount: 1}.Encode(),
			})
		}
		if err := p.Learn(b); err != nil {
			return err
		}
	}
	return nil
}

// Placement is how a partitioner placed a range of transfers.
type Placement struct {
	// Cross is the share of transfers whose sender and receiver are in
	// different clusters.
	Cross float64
	// Imbalance is the busiest cluster's share of the transfers' senders
	// over the mean share (1 is perfectly even).
	Imbalance float64
}

// Place measures p on transfers [from, to) of g.
func Place(p interfaces.Partitioner, g *Generated, from, to int) Placement {
	owner := make([]interfaces.ClusterID, len(g.Stars))
	for i, s := range g.Stars {
		owner[i] = p.Assign(&interfaces.Transaction{Sender: s, Seq: 1, Kind: interfaces.TxData})
	}
	load := make([]int, p.Clusters())
	cross := 0
	for _, t := range g.Transfers[from:to] {
		load[owner[t.From]]++
		if owner[t.From] != owner[t.To] {
			cross++
		}
	}
	n := to - from
	busiest := 0
	for _, l := range load {
		busiest = max(busiest, l)
	}
	return Placement{Cross: float64(cross) / float64(n), Imbalance: float64(busiest) * float64(len(load)) / float64(n)}
}

// Relabeller is a partitioner that recomputes its placement at a
// black-hole boundary, keyed by that black hole's beacon.
type Relabeller interface {
	interfaces.Partitioner
	Relabel(beacon interfaces.Hash)
}

// Learned measures a learning partitioner on the second half of g, placed
// in windows equal windows: before each window, p has learned every
// earlier transfer and relabels under beacon. It returns the placement of
// the whole second half and how many accounts changed cluster from one
// window to the next (what migration would move).
func Learned(p Relabeller, g *Generated, windows int, beacon interfaces.Hash) (Placement, int) {
	half := len(g.Transfers) / 2
	step := max(1, half/windows)
	var cross, load = 0, make([]int, p.Clusters())
	moved := 0
	var prev []interfaces.ClusterID
	learned := 0
	for from := half; from < len(g.Transfers); from += step {
		to := min(from+step, len(g.Transfers))
		_ = Feed(p, g, learned, from, 1000)
		learned = from
		p.Relabel(beacon)
		owner := make([]interfaces.ClusterID, len(g.Stars))
		for i, s := range g.Stars {
			owner[i] = p.Assign(&interfaces.Transaction{Sender: s, Seq: 1, Kind: interfaces.TxData})
			if prev != nil && prev[i] != owner[i] {
				moved++
			}
		}
		prev = owner
		cross += tally(g.Transfers[from:to], owner, load)
	}
	return placement(cross, load, len(g.Transfers)-half), moved
}

// tally counts transfers by sender's cluster into load and returns how
// many cross clusters under owner.
func tally(ts []Transfer, owner []interfaces.ClusterID, load []int) int {
	cross := 0
	for _, t := range ts {
		load[owner[t.From]]++
		if owner[t.From] != owner[t.To] {
			cross++
		}
	}
	return cross
}

// placement is the Placement of n transfers of which cross crossed, with
// the senders' load by cluster.
func placement(cross int, load []int, n int) Placement {
	busiest := 0
	for _, l := range load {
		busiest = max(busiest, l)
	}
	return Placement{Cross: float64(cross) / float64(n), Imbalance: float64(busiest) * float64(len(load)) / float64(n)}
}

// Deployed measures placement the way a network runs it: the galaxy's
// learner (interfaces.PlacementLearner) sees only each block's edge sample
// (at most interfaces.MaxEdges of the block's per transfers, here the
// transfers of lowest hash), relabels before each of windows windows of
// the second half under one key, and an account is where the learner
// places it, else where base puts it. It returns the second half's
// placement and the accounts moved.
func Deployed(l interfaces.PlacementLearner, base interfaces.Partitioner, g *Generated, per, windows int, key interfaces.Hash) (Placement, int) {
	half := len(g.Transfers) / 2
	step := max(1, half/windows)
	k := base.Clusters()
	owner := make([]interfaces.ClusterID, len(g.Stars))
	index := make(map[interfaces.StarID]int, len(g.Stars))
	for i, s := range g.Stars {
		owner[i] = base.Assign(&interfaces.Transaction{Sender: s, Seq: 1, Kind: interfaces.TxData})
		index[s] = i
	}
	learned, moved, cross := 0, 0, 0
	load := make([]int, k)
	for from := half; from < len(g.Transfers); from += step {
		to := min(from+step, len(g.Transfers))
		for start := learned; start < from; start += per {
			end := min(start+per, from)
			l.LearnEdges(sampleEdges(g, start, end))
		}
		learned = from
		l.Relabel(key)
		l.Placed(func(s interfaces.StarID, c interfaces.ClusterID) {
			if i := index[s]; owner[i] != c {
				owner[i] = c
				moved++
			}
		})
		cross += tally(g.Transfers[from:to], owner, load)
	}
	return placement(cross, load, len(g.Transfers)-half), moved
}

// sampleEdges returns the MaxEdges transfers of [from, to) of lowest hash
// of their position, as a block's edge sample.
func sampleEdges(g *Generated, from, to int) []interfaces.Edge {
	type keyed struct {
		key  uint64
		edge interfaces.Edge
	}
	var all []keyed
	for i := from; i < to; i++ {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(i))
		h := interfaces.DomainSum("constellation/partsim/sample", b[:])
		t := g.Transfers[i]
		all = append(all, keyed{binary.BigEndian.Uint64(h[:8]), interfaces.Edge{From: g.Stars[t.From], To: g.Stars[t.To]}})
	}
	sort.Slice(all, func(a, b int) bool { return all[a].key < all[b].key })
	out := make([]interfaces.Edge, 0, interfaces.MaxEdges)
	for i := 0; i < len(all) && i < interfaces.MaxEdges; i++ {
		out = append(out, all[i].edge)
	}
	return out
}
