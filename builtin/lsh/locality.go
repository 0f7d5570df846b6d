package lsh

import (
	"bytes"
	"encoding/binary"
	"slices"

	sha256 "github.com/minio/sha256-simd"

	"github.com/constellation-chain/constellation/interfaces"
)

// Locality is placement that learns who transacts with whom. The lsh
// partitioner with placement = "locality" offers it to the galaxy as its
// interfaces.PlacementLearner (the galaxy publishes the moves it wants,
// and the clusters' ledgers migrate the accounts); conformance/partsim
// measures it.
//
// How it places (all integer and sorted, so every node that learned the
// same finalized blocks places alike):
//
//  1. Learn counts, for each account, the finalized transfers it made or
//     received with each counterparty.
//  2. Relabel, run at a black-hole boundary with that black hole's beacon,
//     gives each account a community label by weighted label propagation
//     (Raghavan, Albert and Kumara, 2007): every account starts with its
//     own label and, in rounds, takes the label that carries the most
//     transfer weight among its counterparties (ties to the label of
//     lowest keyed hash). Accounts are visited in the order of a hash
//     keyed by the beacon, which nobody knows before the black hole is
//     signed.
//  3. Assign places an account by rendezvous hashing of its label keyed
//     by the beacon: a community lands in one cluster, chosen by a hash
//     nobody could compute before the beacon existed. A cluster that no
//     community's hash picks (likely when there are few communities: two
//     of them land in one of two clusters half the time) takes, of the
//     communities sharing a cluster with another, the one that ranks it
//     highest, so an opened cluster always receives accounts once there
//     are as many communities as clusters. (Neither propagation nor
//     coarsening grows a community past half of one cluster's share, so
//     there are at least 2k over k clusters: enough for the next cluster
//     opened.)
//
// So an account cannot choose its cluster with its key (the key only
// names it; its label and the beacon place it), and by choosing its
// counterparties it can only join the community it transacts with, in
// whatever cluster the next beacon puts that community. An account the
// learner has not seen is placed by its own key, keyed by the beacon.
type Locality struct {
	clusters int
	rounds   int
	key      interfaces.Hash
	weights  map[interfaces.StarID]map[interfaces.StarID]uint64
	label    map[interfaces.StarID]interfaces.StarID
	// placed is, by community label, its cluster under the current key
	// and cluster count (nil until Owner needs it).
	placed map[interfaces.StarID]interfaces.ClusterID
	every  uint64
}

var _ interfaces.Partitioner = (*Locality)(nil)

// NewLocality returns a learner over k clusters that runs rounds of label
// propagation per relabelling (5 is plenty on community workloads).
func NewLocality(k, rounds int) *Locality {
	return &Locality{clusters: k, rounds: rounds, every: 1, weights: map[interfaces.StarID]map[interfaces.StarID]uint64{}, label: map[interfaces.StarID]interfaces.StarID{}}
}

var _ interfaces.PlacementLearner = (*Locality)(nil)

// LearnEdges counts sampled finalized transfers (interfaces.BlockMeta.Edges).
func (l *Locality) LearnEdges(edges []interfaces.Edge) {
	for _, e := range edges {
		if e.From == e.To {
			continue
		}
		l.count(e.From, e.To)
		l.count(e.To, e.From)
	}
}

// RelabelEvery is the relabelling period in black holes.
func (l *Locality) RelabelEvery() uint64 { return l.every }

// Placed calls fn, in star order, for each account whose community has at
// least two members: where the last relabelling wants it. An account alone
// in its community has no neighbours to be near, so the learner leaves it
// where the base placement put it.
func (l *Locality) Placed(fn func(interfaces.StarID, interfaces.ClusterID)) {
	size := map[interfaces.StarID]int{}
	for _, lb := range l.label {
		size[lb]++
	}
	stars := make([]interfaces.StarID, 0, len(l.label))
	for s, lb := range l.label {
		if size[lb] >= 2 {
			stars = append(stars, s)
		}
	}
	slices.SortFunc(stars, interfaces.CompareStars)
	for _, s := range stars {
		fn(s, l.Owner(s))
	}
}

// Clusters returns the cluster count.
func (l *Locality) Clusters() int { return l.clusters }

var _ interfaces.ClusterResizer = (*Locality)(nil)

// SetClusters makes the learner place in k clusters from the next
// relabelling on. Rendezvous hashing moves a community only to a cluster
// that was added (when k grows), so opening a cluster takes about 1/k of
// the communities from each existing one and moves nothing else.
func (l *Locality) SetClusters(k int) {
	if k > 0 && k != l.clusters {
		l.clusters = k
		l.placed = nil
	}
}

// Learn counts a finalized block's transfers.
func (l *Locality) Learn(b *interfaces.Block) error {
	for _, tx := range b.Txs {
		if tx.Kind != interfaces.TxTransfer {
			continue
		}
		p, err := interfaces.DecodeTransferPayload(tx.Payload)
		if err != nil {
			continue // the ledger admitted it, so this cannot happen
		}
		l.count(tx.Sender, p.To)
		l.count(p.To, tx.Sender)
	}
	return nil
}

func (l *Locality) count(a, b interfaces.StarID) {
	m := l.weights[a]
	if m == nil {
		m = map[interfaces.StarID]uint64{}
		l.weights[a] = m
	}
	m[b]++
}

// keyed returns the hash of s under the current key, for orders and ties.
func (l *Locality) keyed(s interfaces.StarID) interfaces.Hash {
	return interfaces.DomainSum("constellation/lsh/locality-order/v1", l.key[:], s[:])
}

// Relabel recomputes the communities from what was learned, under the
// beacon of a black hole, and makes that beacon the placement key. Under
// the same key as before, propagation starts from the previous labels, so
// communities keep their labels, and their clusters, from one relabelling
// to the next; a new key starts afresh (and moves communities).
func (l *Locality) Relabel(beacon interfaces.Hash) {
	keep := beacon == l.key && len(l.label) > 0
	l.key, l.placed = beacon, nil
	accounts := make([]interfaces.StarID, 0, len(l.weights))
	for s := range l.weights {
		accounts = append(accounts, s)
	}
	order := make(map[interfaces.StarID]interfaces.Hash, len(accounts))
	for _, s := range accounts {
		order[s] = l.keyed(s)
	}
	slices.SortFunc(accounts, func(a, b interfaces.StarID) int {
		ha, hb := order[a], order[b]
		return bytes.Compare(ha[:], hb[:])
	})
	label := make(map[interfaces.StarID]interfaces.StarID, len(accounts))
	for _, s := range accounts {
		label[s] = s
		if old, ok := l.label[s]; ok && keep {
			label[s] = old
		}
		if _, ok := order[label[s]]; !ok {
			order[label[s]] = l.keyed(label[s])
		}
	}
	// No label grows past the cap coarsening merges up to (half a
	// cluster's even share): with some traffic between communities,
	// propagation alone can otherwise run one label over nearly every
	// account, and one community cannot be spread over clusters.
	limit := max(2, len(accounts)/(2*l.clusters)) // a pair always may form
	size := map[interfaces.StarID]int{}
	for _, s := range accounts {
		size[label[s]]++
	}
	tally := map[interfaces.StarID]uint64{}
	for r := 0; r < l.rounds; r++ {
		changed := 0
		for _, s := range accounts {
			clear(tally)
			for c, w := range l.weights[s] {
				tally[label[c]] += w
			}
			best, bestW, bestH := label[s], tally[label[s]], order[label[s]]
			for lb, w := range tally {
				h := order[lb]
				if lb != label[s] && size[lb] >= limit {
					continue
				}
				if w > bestW || (w == bestW && bytes.Compare(h[:], bestH[:]) < 0) {
					best, bestW, bestH = lb, w, h
				}
			}
			if best != label[s] {
				size[label[s]]--
				size[best]++
				label[s] = best
				changed++
			}
		}
		if changed == 0 {
			break
		}
	}
	l.label = l.coarsen(accounts, label, order)
}

// coarsen merges the fragments label propagation leaves of one community:
// treating each label as one node, weighted by the transfers between
// labels, a label joins the neighbour it shares the most weight with when
// that weight exceeds its own internal weight (inside counts each pair from
// both ends, so it is halved; the label has more to do with the
// neighbour than with itself) or when it is tiny (under 1/16 of the cap:
// the satellites of a community that propagation leaves), in the keyed
// order, while the merged community stays under a cap of half a
// cluster's even share of accounts.
func (l *Locality) coarsen(accounts []interfaces.StarID, label map[interfaces.StarID]interfaces.StarID, order map[interfaces.StarID]interfaces.Hash) map[interfaces.StarID]interfaces.StarID {
	between := map[interfaces.StarID]map[interfaces.StarID]uint64{}
	inside := map[interfaces.StarID]uint64{}
	size := map[interfaces.StarID]int{}
	for _, s := range accounts {
		ls := label[s]
		size[ls]++
		for c, w := range l.weights[s] {
			lc := label[c]
			if lc == ls {
				inside[ls] += w
				continue
			}
			m := between[ls]
			if m == nil {
				m = map[interfaces.StarID]uint64{}
				between[ls] = m
			}
			m[lc] += w
		}
	}
	limit := max(1, len(accounts)/(2*l.clusters))
	small := limit / 16 // a label this small joins its strongest neighbour anyway
	labels := make([]interfaces.StarID, 0, len(size))
	for lb := range size {
		labels = append(labels, lb)
	}
	slices.SortFunc(labels, func(a, b interfaces.StarID) int {
		ha, hb := order[a], order[b]
		return bytes.Compare(ha[:], hb[:])
	})
	into := map[interfaces.StarID]interfaces.StarID{} // merged label -> the label it joined
	for pass := 0; pass < 8; pass++ {
		merged := 0
		for _, lb := range labels {
			if _, gone := into[lb]; gone {
				continue
			}
			var best interfaces.StarID
			var bestW uint64
			var bestH interfaces.Hash
			for n, w := range between[lb] {
				h := order[n]
				if w > bestW || (w == bestW && bytes.Compare(h[:], bestH[:]) < 0) {
					best, bestW, bestH = n, w, h
				}
			}
			if bestW == 0 || (size[lb] >= small && 2*bestW <= inside[lb]) || size[best]+size[lb] > limit {
				continue
			}
			// Merge lb into best.
			into[lb] = best
			size[best] += size[lb]
			inside[best] += inside[lb] + 2*bestW
			for n, w := range between[lb] {
				if n == best {
					continue
				}
				m := between[best]
				if m == nil {
					m = map[interfaces.StarID]uint64{}
					between[best] = m
				}
				m[n] += w
				between[n][best] += w
				delete(between[n], lb)
			}
			delete(between[best], lb)
			delete(between, lb)
			merged++
		}
		if merged == 0 {
			break
		}
	}
	root := func(lb interfaces.StarID) interfaces.StarID {
		for {
			next, ok := into[lb]
			if !ok {
				return lb
			}
			lb = next
		}
	}
	out := make(map[interfaces.StarID]interfaces.StarID, len(label))
	for s, lb := range label {
		out[s] = root(lb)
	}
	return out
}

// Owner returns the cluster of star's community under the current key.
func (l *Locality) Owner(star interfaces.StarID) interfaces.ClusterID {
	lb, ok := l.label[star]
	if !ok {
		return l.top(star)
	}
	if l.placed == nil {
		l.placed = l.place()
	}
	return l.placed[lb]
}

// rank is the rendezvous weight of community label lb for cluster c
// under the current key.
func (l *Locality) rank(lb interfaces.StarID, c int) [32]byte {
	var buf [32 + 32 + 4]byte
	copy(buf[:], l.key[:])
	copy(buf[32:], lb[:])
	binary.BigEndian.PutUint32(buf[64:], uint32(c))
	return sha256.Sum256(append([]byte(domain+"/locality"), buf[:]...))
}

// top returns the cluster that ranks lb highest.
func (l *Locality) top(lb interfaces.StarID) interfaces.ClusterID {
	best, bestW := 0, [32]byte{}
	for c := 0; c < l.clusters; c++ {
		if w := l.rank(lb, c); c == 0 || bytes.Compare(w[:], bestW[:]) > 0 {
			best, bestW = c, w
		}
	}
	return interfaces.ClusterID(best)
}

// place gives every community its top cluster, then fills each cluster
// that none picked, in cluster order, with the community, among those
// whose cluster holds another, that ranks it highest (ties cannot happen:
// the ranks are distinct hashes).
func (l *Locality) place() map[interfaces.StarID]interfaces.ClusterID {
	out := map[interfaces.StarID]interfaces.ClusterID{}
	held := make([]int, l.clusters)
	for _, lb := range l.label {
		if _, ok := out[lb]; !ok {
			c := l.top(lb)
			out[lb] = c
			held[c]++
		}
	}
	labels := make([]interfaces.StarID, 0, len(out))
	for lb := range out {
		labels = append(labels, lb)
	}
	slices.SortFunc(labels, interfaces.CompareStars)
	for c := range l.clusters {
		if held[c] > 0 {
			continue
		}
		var pick interfaces.StarID
		var pickW [32]byte
		found := false
		for _, lb := range labels {
			if held[out[lb]] < 2 {
				continue
			}
			if w := l.rank(lb, c); !found || bytes.Compare(w[:], pickW[:]) > 0 {
				pick, pickW, found = lb, w, true
			}
		}
		if !found {
			break // fewer communities than clusters
		}
		held[out[pick]]--
		out[pick] = interfaces.ClusterID(c)
		held[c]++
	}
	return out
}

// Assign returns the sender's cluster.
func (l *Locality) Assign(tx *interfaces.Transaction) interfaces.ClusterID { return l.Owner(tx.Sender) }

// Labels returns how many communities the last relabelling found.
func (l *Locality) Labels() int {
	seen := map[interfaces.StarID]bool{}
	for _, lb := range l.label {
		seen[lb] = true
	}
	return len(seen)
}

// LabelSizes returns the sizes of the communities found, largest first.
func (l *Locality) LabelSizes() []int {
	n := map[interfaces.StarID]int{}
	for _, lb := range l.label {
		n[lb]++
	}
	var out []int
	for _, v := range n {
		out = append(out, v)
	}
	slices.Sort(out)
	slices.Reverse(out)
	return out
}
