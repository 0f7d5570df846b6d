package node

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"

	"github.com/constellation-chain/constellation/framework/group"
	"github.com/constellation-chain/constellation/framework/ledger"
	"github.com/constellation-chain/constellation/interfaces"
)

// Seed and selection. The galaxy's certificate of black hole n (a BLS
// threshold signature, unique for the galaxy's key and the black hole) is
// the selection beacon. The galaxy's reputation folds exactly the cluster
// blocks black holes 1..n finalized (their metadata, carried in the
// checkpoint transactions). Black hole n+1 publishes, in a TxBeacon, the
// signature and each cluster's next delegate set drawn from that state,
// seeded by the signature's hash. The proposers of black hole n fixed the
// state before the signature existed, and nobody can know the signature
// before f+1 members sign, so no proposer can choose contents that move
// the draw; the ledger of every member recomputes the draw and refuses a
// beacon that differs. With a genesis rotation block, every cluster takes
// the set published with every RotateEvery-th beacon when it claims that
// beacon: its drawn delegates generate their keys through its chain and
// hand over (framework/group/rotation.go; Hierarchy.RotationDraw).

// BeaconDomain separates the beacon (the hash of the signature) from every
// other hash; it is the one `constellation beacon` derives.
const BeaconDomain = "constellation/beacon/v1"

// Beaconer draws and checks the delegate sets a black hole publishes.
type Beaconer struct {
	h   *Hierarchy
	rep *group.Reputation
	// candidates are the stars that may be drawn: every genesis
	// delegate of every cluster, sorted.
	candidates []interfaces.StarID
	// placer publishes account moves (nil under hash placement).
	placer *placer
	// reg is who stands for each cluster's seats.
	reg *registry
}

// NewBeaconer returns the beaconer of a hierarchy whose galaxy reputation
// is rep; it makes rep fold, for each black hole, the cluster blocks it
// finalizes.
func NewBeaconer(h *Hierarchy, rep *group.Reputation) *Beaconer {
	b := &Beaconer{h: h, rep: rep.Expanding(FinalizedBlocks), placer: newPlacer(h), reg: newRegistry(h)}
	if h.GalaxyRotates() {
		b.reg.score = b.rep.ScoreInHook // the galaxy candidates' streaks (galaxy.go)
	}
	rep.Also(h.ObserveHandovers) // rotating clusters' keys, for their later checkpoints
	rep.Also(b.reg.observe)
	if b.placer != nil {
		rep.Also(b.placer.observe)
	}
	for _, c := range h.Clusters {
		b.candidates = append(b.candidates, c.Members...)
	}
	slices.SortFunc(b.candidates, interfaces.CompareStars)
	b.candidates = slices.Compact(b.candidates)
	return b
}

// Candidates returns the stars standing for cluster c's seats as of the
// last black hole folded, sorted.
func (b *Beaconer) Candidates(c interfaces.ClusterID) []interfaces.StarID {
	return b.reg.candidates(c)
}

// Standing returns the cluster star s stands for as of the last black hole
// folded, if any.
func (b *Beaconer) Standing(s interfaces.StarID) (interfaces.ClusterID, bool) {
	return b.reg.standing(s)
}

// Reputation returns the galaxy reputation the beaconer reads.
func (b *Beaconer) Reputation() *group.Reputation { return b.rep }

// FinalizedBlocks returns the cluster blocks a black hole finalizes, in
// its order, as far as the galaxy knows them: header and metadata.
func FinalizedBlocks(bh *interfaces.Block) []*interfaces.Block {
	var out []*interfaces.Block
	for _, tx := range bh.Txs {
		if tx.Kind != interfaces.TxCheckpoint {
			continue
		}
		cp, err := interfaces.DecodeCheckpointPayload(tx.Payload)
		if err != nil {
			continue // the ledger admitted it, so this cannot happen
		}
		out = append(out, &interfaces.Block{Header: cp.Header, Meta: cp.Meta})
	}
	return out
}

// Beacon returns the selection beacon of a certificate.
func Beacon(sig []byte) interfaces.Hash { return interfaces.DomainSum(BeaconDomain, sig) }

// Draw returns what the beacon of black hole height, whose certificate is
// sig, publishes from the state as of that black hole: the clusters it
// opens (a rotation beacon, when a cluster's candidates exceed
// Hierarchy.SplitAbove; registry.splits), and each cluster's next
// delegate set: its seats (Seats, or all its candidates when fewer
// stand) drawn by the reputation from the stars standing for it
// (Candidates, after the openings, less those that stopped contributing
// while enough others stand: registry.drawable), seeded by the beacon and
// the cluster.
// A candidate keeps its cluster's chain, so it can deal its key share and
// take its seat when drawn.
func (b *Beaconer) Draw(height uint64, sig []byte) (Drawn, error) {
	beacon := Beacon(sig)
	rotation := b.h.RotateEvery > 0 && height%b.h.RotateEvery == 0
	var d Drawn
	d.Closes = b.reg.closes(rotation, b.h.MergeBelow, b.h.SplitAbove, b.placer.owned)
	if rotation && !slices.ContainsFunc(d.Closes, func(c interfaces.Closing) bool { return !c.Done }) {
		d.Opens = b.reg.splits(beacon, b.h.SplitAbove)
	}
	for c := range b.reg.count() + len(d.Opens) {
		id := interfaces.ClusterID(c)
		if b.reg.isClosed(id) || slices.ContainsFunc(d.Closes, func(x interfaces.Closing) bool { return x.Done && x.Cluster == id }) {
			continue // closed, or closed by this beacon
		}
		var cb [4]byte
		binary.BigEndian.PutUint32(cb[:], uint32(c))
		seed := interfaces.DomainSum("constellation/delegates/v1", beacon[:], cb[:])
		seats := b.h.Seats(id)
		cands := b.reg.drawable(b.reg.candidatesAfter(id, d.Opens, d.Closes), seats)
		set, err := b.rep.Select(cands, min(seats, len(cands)), seed)
		if err != nil {
			return Drawn{}, fmt.Errorf("draw for cluster %d: %w", c, err)
		}
		slices.SortFunc(set, interfaces.CompareStars)
		d.Sets = append(d.Sets, interfaces.DelegateSet{Cluster: id, Members: set})
	}
	if g := b.h.GalaxyPeriod(); g > 0 && height%g == 0 {
		set, err := b.drawGalaxy(beacon)
		if err != nil {
			return Drawn{}, err
		}
		d.Sets = append(d.Sets, set)
	}
	return d, nil
}

// Drawn is what a beacon publishes from the galaxy's state besides the
// mint and the moves: the delegate sets, and the clusters it opens and
// starts or finishes closing.
type Drawn struct {
	Sets   []interfaces.DelegateSet
	Opens  []interfaces.Opening
	Closes []interfaces.Closing
}

// VerifyCheckpoint is the galaxy ledger's rule for a checkpoint: its
// cluster's certificate (Hierarchy.VerifyCheckpoint), of a cluster that
// has not closed (closing.go: nothing of it is in flight then, and its
// chain stops).
func (b *Beaconer) VerifyCheckpoint(cp *interfaces.CheckpointPayload) error {
	if b.reg.isClosed(cp.Header.Cluster) {
		return fmt.Errorf("checkpoint %d of cluster %d, which closed", cp.Header.Height, cp.Header.Cluster)
	}
	return b.h.VerifyCheckpoint(cp)
}

// Clusters returns how many clusters there are as of the last black hole
// folded: the cluster ids used, closed clusters included (Closed).
func (b *Beaconer) Clusters() int { return b.reg.count() }

// Live returns how many clusters are in force as of the last black hole
// folded: opened and not closed (the galaxy ledger's Rules.Clusters).
func (b *Beaconer) Live() int { return len(b.reg.live()) }

// Absent returns the stars that stopped contributing as of the last black
// hole folded: those the next rotation leaves out of its draw while enough
// others stand (registry.drawable), sorted.
func (b *Beaconer) Absent() []interfaces.StarID { return b.reg.absent() }

// Closed says whether cluster c closed (closing.go) as of the last black
// hole folded.
func (b *Beaconer) Closed(c interfaces.ClusterID) bool { return b.reg.isClosed(c) }

// Verify is the galaxy ledger's rule for a beacon in the block after
// parent: it carries the galaxy's certificate of parent, and the sets and
// openings the state as of parent draws with it.
func (b *Beaconer) Verify(parent ledger.Parent, p *interfaces.BeaconPayload) error {
	if p.Height != parent.Height {
		return fmt.Errorf("beacon of black hole %d after black hole %d", p.Height, parent.Height)
	}
	if err := b.h.VerifyBlackHoleHash(parent.Hash, p.Signature); err != nil {
		return fmt.Errorf("beacon of black hole %d: %w", p.Height, err)
	}
	want, err := b.Draw(p.Height, p.Signature)
	if err != nil {
		return err
	}
	if !sameOpens(want.Opens, p.Opens) {
		return fmt.Errorf("beacon of black hole %d opens %d clusters, the state opens %d others", p.Height, len(p.Opens), len(want.Opens))
	}
	if !sameCloses(want.Closes, p.Closes) {
		return fmt.Errorf("beacon of black hole %d closes %v, the state closes %v", p.Height, p.Closes, want.Closes)
	}
	if !sameSets(want.Sets, p.Sets) {
		return fmt.Errorf("beacon of black hole %d publishes delegate sets the state does not draw", p.Height)
	}
	if mint := b.Mint(p.Height); !slices.Equal(mint, p.Mint) {
		return fmt.Errorf("beacon of black hole %d mints %v, the state mints %v", p.Height, p.Mint, mint)
	}
	moves, err := b.placer.moves(p.Height)
	if err != nil {
		return fmt.Errorf("beacon of black hole %d: %w", p.Height, err)
	}
	if !slices.Equal(moves, p.Moves) {
		return fmt.Errorf("beacon of black hole %d publishes %d account moves, the placement publishes %d others", p.Height, len(p.Moves), len(moves))
	}
	return nil
}

// PendingMoves returns how many account moves the placement has queued
// and not yet published.
func (b *Beaconer) PendingMoves() int { return b.placer.pending() }

// MintSchedule is how much the galaxy mints at each black hole (the
// manifest's genesis `mint` block): Reward noOs at black hole 1, halving
// every Halving black holes, none after Until. The zero value mints
// nothing.
type MintSchedule struct {
	Reward, Halving, Until uint64
}

// At returns what black hole n mints in all.
func (m MintSchedule) At(n uint64) uint64 {
	if m.Reward == 0 || m.Halving == 0 || n == 0 || n > m.Until {
		return 0
	}
	h := (n - 1) / m.Halving
	if h >= 64 {
		return 0
	}
	return m.Reward >> h
}

// Mint returns what black hole n mints, by star, from the reputation state
// as of n: the schedule's amount shared among the candidates in proportion
// to the integer square root of their scores (diminishing returns: four
// times the score earns twice the share), rounded down, the remainder one
// noOs each to the largest weights (ties by star). Stars that get nothing
// are left out; the result is sorted by star.
func (b *Beaconer) Mint(n uint64) []interfaces.Receipt {
	total := b.h.Mint.At(n)
	if total == 0 {
		return nil
	}
	w := make([]uint64, len(b.candidates))
	var sum uint64
	for i, s := range b.candidates {
		if sc := b.rep.Score(s); sc > 0 {
			w[i] = isqrt(uint64(sc))
		}
		sum += w[i]
	}
	if sum == 0 {
		for i := range w {
			w[i] = 1
		}
		sum = uint64(len(w))
	}
	amounts := make([]uint64, len(w))
	var given uint64
	for i := range w {
		hi, lo := bits.Mul64(total, w[i])
		amounts[i], _ = bits.Div64(hi, lo, sum) // hi < sum, as w[i] <= sum
		given += amounts[i]
	}
	order := make([]int, len(w))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int {
		switch {
		case w[x] > w[y]:
			return -1
		case w[x] < w[y]:
			return 1
		}
		return 0 // candidates are sorted by star already
	})
	for j := 0; given < total; j++ {
		amounts[order[j%len(order)]]++
		given++
	}
	var out []interfaces.Receipt
	for i, s := range b.candidates {
		if amounts[i] > 0 {
			out = append(out, interfaces.Receipt{To: s, Amount: amounts[i]})
		}
	}
	return out
}

// isqrt is the integer square root, rounded down.
func isqrt(v uint64) uint64 {
	if v < 2 {
		return v
	}
	r := uint64(1) << ((bits.Len64(v) + 1) / 2) // >= sqrt(v)
	for {
		next := (r + v/r) / 2
		if next >= r {
			return r
		}
		r = next
	}
}

func sameOpens(a, b []interfaces.Opening) bool {
	return slices.EqualFunc(a, b, func(x, y interfaces.Opening) bool {
		return x.Parent == y.Parent && x.Cluster == y.Cluster && slices.Equal(x.Stars, y.Stars)
	})
}

func sameCloses(a, b []interfaces.Closing) bool {
	return slices.EqualFunc(a, b, func(x, y interfaces.Closing) bool {
		return x.Cluster == y.Cluster && x.Into == y.Into && x.Done == y.Done && slices.Equal(x.Stars, y.Stars)
	})
}

func sameSets(a, b []interfaces.DelegateSet) bool {
	return slices.EqualFunc(a, b, func(x, y interfaces.DelegateSet) bool {
		return x.Cluster == y.Cluster && slices.Equal(x.Members, y.Members)
	})
}

// beaconTx returns the beacon a galaxy member proposes right after it
// certified black hole bh with sig, or nil when the galaxy moved past bh
// already (the beacon would belong in a block that exists).
func (b *Beaconer) beaconTx(g *group.Group, bh *interfaces.Block, sig []byte) *interfaces.Transaction {
	if head, _ := g.Head(); head != bh.Header.Height {
		return nil
	}
	d, err := b.Draw(bh.Header.Height, sig)
	if err != nil {
		return nil
	}
	seq, _, err := g.ChainHead(interfaces.ClusterStar(interfaces.GalaxyCluster))
	if err != nil {
		return nil
	}
	moves, err := b.placer.moves(bh.Header.Height)
	if err != nil {
		return nil
	}
	return interfaces.BeaconTx(seq+1, interfaces.BeaconPayload{Height: bh.Header.Height, Signature: sig, Sets: d.Sets, Mint: b.Mint(bh.Header.Height), Moves: moves, Opens: d.Opens, Closes: d.Closes})
}
