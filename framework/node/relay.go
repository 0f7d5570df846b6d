package node

import (
	"context"
	"crypto/ed25519"
	"errors"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/constellation-chain/constellation/framework/group"
	"github.com/constellation-chain/constellation/framework/pool"
	"github.com/constellation-chain/constellation/interfaces"
)

// The relay carries the hierarchy between a node's groups and the network:
//
//   - when this node's cluster certifies a block, it gossips the checkpoint
//     and its receipt batches (TopicCheckpoints);
//   - a galaxy member puts every checkpoint it hears of, once its
//     cluster's certificate verifies, into the galaxy's pool as a
//     TxCheckpoint;
//   - when the galaxy certifies a black hole, its members gossip it
//     (TopicBlackHoles);
//   - a cluster member that holds both a receipt batch for its cluster and
//     a certified black hole including the batch's checkpoint submits the
//     credit (TxCredit) to its cluster's pool. Every member builds the same
//     credit, so copies deduplicate.
//
// Gossip is best effort, so each second a cluster member announces again
// its checkpoints that no black hole it heard of finalized yet, and a
// galaxy member its newest black holes. A cluster member also asks
// (TopicWants) for what it knows it missed: black holes below the newest
// one it heard of, and the checkpoints with receipts that a black hole
// finalized but whose batches it never received; whoever holds them
// announces them again. Everything announced is checked before use: a
// forged checkpoint, black hole or receipt is dropped here, and the ledger
// checks every proof again when it applies the transaction.

// announceAgain bounds what is announced again per tick.
const announceAgain = 16

// maxPending bounds the receipt batches and finality proofs a relay keeps
// while it waits for their other half.
const maxPending = 4096

// wantWindow bounds how far below the newest black hole a relay looks for
// ones it missed; maxAnswers bounds the wants it answers per second.
const (
	wantWindow = 256
	maxAnswers = 64
)

type relay struct {
	h       *Hierarchy
	tr      interfaces.Transport
	log     hclog.Logger
	cluster *group.Group // nil when this node is no cluster's delegate
	// stand, for a node that keeps a cluster's chain without being one of
	// its genesis delegates, signs its candidacy (nil otherwise).
	stand ed25519.PrivateKey
	// standGalaxy, for a node that keeps the galaxy's chain without a
	// genesis seat in a rotating galaxy, is its key until its candidacy
	// for the galaxy is in that chain (galaxy.go).
	standGalaxy ed25519.PrivateKey
	galaxy      *group.Group // nil when it is not a galaxy member

	checkpoints chan *interfaces.CheckpointAnnounce
	blackHoles  chan *interfaces.BlackHoleAnnounce
	wants       chan interfaces.Want
	certified   chan certifiedBlock

	mu        sync.Mutex
	finalized map[interfaces.ClusterID]uint64 // highest checkpoint a black hole finalized
	lastBH    uint64                          // highest black hole heard of

	// Relay goroutine only.
	batches  map[interfaces.Hash]*interfaces.CheckpointAnnounce // checkpoints with a batch for this cluster
	finality map[interfaces.Hash]*waiting                       // proofs waiting for their batch
	seenBH   map[uint64]bool                                    // black holes above bhFloor taken
	bhFloor  uint64                                             // every black hole at or below was taken (or given up)
	answered int                                                // wants answered since the last tick
}

// waiting is a finality proof of a checkpoint with receipts whose batches
// this relay has not seen.
type waiting struct {
	fin     *interfaces.Finality
	cluster interfaces.ClusterID
	height  uint64
}

type certifiedBlock struct {
	galaxy bool
	block  *interfaces.Block
	cert   []byte
}

func newRelay(h *Hierarchy, tr interfaces.Transport, log hclog.Logger) *relay {
	return &relay{
		h: h, tr: tr, log: log.Named("relay"),
		checkpoints: make(chan *interfaces.CheckpointAnnounce, 1024),
		blackHoles:  make(chan *interfaces.BlackHoleAnnounce, 256),
		wants:       make(chan interfaces.Want, 256),
		certified:   make(chan certifiedBlock, 256),
		finalized:   map[interfaces.ClusterID]uint64{},
		batches:     map[interfaces.Hash]*interfaces.CheckpointAnnounce{},
		finality:    map[interfaces.Hash]*waiting{},
		seenBH:      map[uint64]bool{},
	}
}

// onCertified is the groups' OnCertified hook; it must not block.
func (r *relay) onCertified(galaxy bool) func(*interfaces.Block, []byte) {
	return func(b *interfaces.Block, cert []byte) {
		select {
		case r.certified <- certifiedBlock{galaxy: galaxy, block: b, cert: cert}:
		default:
			r.log.Debug("certified-block queue full; the block is announced again later", "height", b.Header.Height)
		}
	}
}

// subscribe registers the gossip handlers. They decode and verify on the
// transport's goroutines and hand what passes to the relay loop.
func (r *relay) subscribe() ([]func(), error) {
	var cancels []func()
	if r.galaxy != nil || r.cluster != nil {
		c, err := r.tr.Subscribe(interfaces.TopicCheckpoints, func(e interfaces.Envelope) {
			a, err := interfaces.DecodeCheckpointAnnounce(e.Payload)
			if err != nil {
				r.log.Debug("malformed checkpoint announcement", "from", e.From.Short(), "error", err)
				return
			}
			if err := r.h.VerifyCheckpoint(&a.Checkpoint); err != nil {
				// Right after a cluster's handover its new checkpoints are
				// signed under a key this node learns only once a black
				// hole finalizes the handover; they are announced again
				// and taken then. One signed under a key the cluster
				// handed over since (a node that restarted announces its
				// old ones until it hears a black hole) is of no use
				// either. Neither is news, and a peer sending garbage
				// must not be able to fill the log, so this is debug.
				hdr := a.Checkpoint.Header
				r.mu.Lock()
				final := r.finalized[hdr.Cluster]
				r.mu.Unlock()
				r.log.Debug("checkpoint announcement refused", "from", e.From.Short(), "cluster", hdr.Cluster, "height", hdr.Height, "finalized", final, "error", err)
				return
			}
			select {
			case r.checkpoints <- a:
			default:
			}
		})
		if err != nil {
			return nil, err
		}
		cancels = append(cancels, c)
	}
	c, err := r.tr.Subscribe(interfaces.TopicBlackHoles, func(e interfaces.Envelope) {
		a, err := interfaces.DecodeBlackHoleAnnounce(e.Payload)
		if err != nil {
			r.log.Debug("malformed black hole announcement", "from", e.From.Short(), "error", err)
			return
		}
		if err := r.h.VerifyBlackHole(&a.Header, a.Certificate); err != nil {
			r.log.Warn("black hole announcement refused", "from", e.From.Short(), "height", a.Header.Height, "error", err)
			return
		}
		select {
		case r.blackHoles <- a:
		default:
		}
	})
	if err != nil {
		for _, c := range cancels {
			c()
		}
		return nil, err
	}
	cancels = append(cancels, c)
	c, err = r.tr.Subscribe(interfaces.TopicWants, func(e interfaces.Envelope) {
		w, err := interfaces.DecodeWant(e.Payload)
		if err != nil {
			return
		}
		select {
		case r.wants <- w:
		default:
		}
	})
	if err != nil {
		for _, c := range cancels {
			c()
		}
		return nil, err
	}
	return append(cancels, c), nil
}

// run is the relay loop.
func (r *relay) run(ctx context.Context) error {
	cancels, err := r.subscribe()
	if err != nil {
		return err
	}
	defer func() {
		for _, c := range cancels {
			c()
		}
	}()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case cb := <-r.certified:
			// A transport need not hand a node its own gossip: take it
			// here too (the pool drops the copy).
			if cb.galaxy {
				a := r.announceBlackHole(ctx, cb.block, cb.cert)
				r.takeBlackHole(a)
			} else {
				a := r.announceCheckpoint(ctx, cb.block, cb.cert)
				r.takeCheckpoint(a)
			}
		case a := <-r.checkpoints:
			r.takeCheckpoint(a)
		case a := <-r.blackHoles:
			r.takeBlackHole(a)
		case w := <-r.wants:
			r.answer(ctx, w)
		case <-tick.C:
			r.answered = 0
			r.standIfReady()
			r.standForGalaxyIfReady()
			r.announceAgain(ctx)
			r.askForMissed(ctx)
			r.prune()
		}
	}
}

// standIfReady submits this node's candidacy for its cluster's seats once
// it has caught up: it heard of a black hole, and its cluster chain holds
// every checkpoint of the cluster that black holes finalized. It stands
// once: when its membership chain in the cluster is empty (a star that
// left stays out until it joins again by hand).
func (r *relay) standIfReady() {
	if r.stand == nil || r.cluster == nil {
		return
	}
	c := r.cluster.Cluster()
	r.mu.Lock()
	heard, final := r.lastBH, r.finalized[c]
	r.mu.Unlock()
	head, _ := r.cluster.Head()
	if heard == 0 || head < final {
		return
	}
	self := r.cluster.Self()
	seq, _, err := r.cluster.ChainHead(interfaces.MemberStar(self))
	if err != nil || seq > 0 {
		if seq > 0 {
			r.stand = nil // its candidacy is in the chain
			r.log.Info("candidacy committed; this star stands for its cluster's seats", "cluster", c)
		}
		return
	}
	tx, err := interfaces.NewMemberTx(r.stand, 1, interfaces.ZeroHash, interfaces.MemberPayload{Action: interfaces.MemberJoin, Cluster: c})
	if err != nil {
		r.log.Error("sign candidacy", "error", err)
		return
	}
	if err := r.cluster.Submit(tx); err != nil && !expected(err) {
		r.log.Warn("candidacy not pooled", "error", err)
		return
	}
	r.log.Debug("candidacy submitted", "cluster", c, "height", head, "finalized", final)
}

// galaxyStandLag is how many black holes behind the newest it heard of a
// galaxy follower may be and count as caught up.
const galaxyStandLag = 4

// standForGalaxyIfReady submits this node's candidacy for the galaxy
// once its galaxy chain has caught up with the newest black hole it heard
// of, once, as standIfReady does for a cluster.
func (r *relay) standForGalaxyIfReady() {
	if r.standGalaxy == nil || r.galaxy == nil {
		return
	}
	r.mu.Lock()
	heard := r.lastBH
	r.mu.Unlock()
	head, _ := r.galaxy.Head()
	if heard == 0 || head+galaxyStandLag < heard {
		return // black holes come faster than a follower syncs them: near is caught up
	}
	seq, _, err := r.galaxy.ChainHead(interfaces.MemberStar(r.galaxy.Self()))
	if err != nil || seq > 0 {
		if seq > 0 {
			r.standGalaxy = nil
			r.log.Info("candidacy committed; this star stands for the galaxy")
		}
		return
	}
	tx, err := interfaces.NewMemberTx(r.standGalaxy, 1, interfaces.ZeroHash, interfaces.MemberPayload{Action: interfaces.MemberJoin, Cluster: interfaces.GalaxyCluster})
	if err != nil {
		r.log.Error("sign galaxy candidacy", "error", err)
		return
	}
	if err := r.galaxy.Submit(tx); err != nil && !expected(err) {
		r.log.Warn("galaxy candidacy not pooled", "error", err)
		return
	}
	r.log.Debug("galaxy candidacy submitted", "height", head)
}

func (r *relay) announceCheckpoint(ctx context.Context, b *interfaces.Block, cert []byte) *interfaces.CheckpointAnnounce {
	a := &interfaces.CheckpointAnnounce{Checkpoint: interfaces.Checkpoint(b, cert), Receipts: b.Receipts}
	if err := r.tr.Publish(ctx, interfaces.TopicCheckpoints, a.Encode()); err != nil {
		r.log.Debug("announce checkpoint", "height", b.Header.Height, "error", err)
	}
	return a
}

func (r *relay) announceBlackHole(ctx context.Context, b *interfaces.Block, cert []byte) *interfaces.BlackHoleAnnounce {
	a := &interfaces.BlackHoleAnnounce{Header: b.Header, Certificate: cert, Txs: b.Txs}
	if err := r.tr.Publish(ctx, interfaces.TopicBlackHoles, a.Encode()); err != nil {
		r.log.Debug("announce black hole", "height", b.Header.Height, "error", err)
	}
	return a
}

// takeCheckpoint handles a verified checkpoint announcement.
func (r *relay) takeCheckpoint(a *interfaces.CheckpointAnnounce) {
	h := &a.Checkpoint.Header
	if r.galaxy != nil {
		if err := r.galaxy.Submit(interfaces.CheckpointTx(a.Checkpoint)); err != nil && !expected(err) {
			r.log.Debug("checkpoint not pooled", "cluster", h.Cluster, "height", h.Height, "error", err)
		}
	}
	if r.cluster == nil || h.Cluster == r.cluster.Cluster() {
		return
	}
	key := h.Hash()
	w, final := r.finality[key]
	if batchFor(a, r.cluster.Cluster()) == nil {
		delete(r.finality, key) // nothing in it for this cluster
		return
	}
	if final {
		r.credit(a, w.fin)
		delete(r.finality, key)
		return
	}
	if len(r.batches) < maxPending {
		r.batches[key] = a
	}
}

// takeBlackHole handles a verified black hole announcement.
func (r *relay) takeBlackHole(a *interfaces.BlackHoleAnnounce) {
	r.mu.Lock()
	r.lastBH = max(r.lastBH, a.Header.Height)
	r.mu.Unlock()
	if a.Header.Height <= r.bhFloor || r.seenBH[a.Header.Height] {
		return
	}
	r.seenBH[a.Header.Height] = true
	for r.seenBH[r.bhFloor+1] {
		delete(r.seenBH, r.bhFloor+1)
		r.bhFloor++
	}
	blk := a.Block()
	if r.galaxy == nil {
		// A node without the galaxy's chain learns the clusters' handed-over
		// keys from certified black holes, to check their checkpoints. (A
		// galaxy member learns them from its own chain only, in order: its
		// ledger's verdicts must follow the chain.)
		if err := r.h.ObserveHandovers(blk); err != nil {
			r.log.Debug("handovers of black hole", "height", a.Header.Height, "error", err)
		}
	}
	for i, tx := range a.Txs {
		if tx.Kind == interfaces.TxBeacon && r.cluster != nil {
			r.claimMint(blk, i, a.Certificate)
			continue
		}
		if tx.Kind != interfaces.TxCheckpoint {
			continue
		}
		cp, err := interfaces.DecodeCheckpointPayload(tx.Payload)
		if err != nil {
			continue // the galaxy's ledger admitted it, so this cannot happen
		}
		r.mu.Lock()
		if cp.Header.Height > r.finalized[cp.Header.Cluster] {
			r.finalized[cp.Header.Cluster] = cp.Header.Height
		}
		r.mu.Unlock()
		if r.cluster == nil || cp.Header.Cluster == r.cluster.Cluster() {
			continue
		}
		f := &interfaces.Finality{Checkpoint: tx, InBlackHole: interfaces.TxInclusion(blk, i), BlackHole: a.Header, Certificate: a.Certificate}
		key := cp.Header.Hash()
		if ck, ok := r.batches[key]; ok {
			r.credit(ck, f)
			delete(r.batches, key)
		} else if cp.Header.Receipts > 0 && len(r.finality) < maxPending {
			r.finality[key] = &waiting{fin: f, cluster: cp.Header.Cluster, height: cp.Header.Height}
		}
	}
}

// claimMint submits this cluster's claim of the mint of the beacon at
// index i of black hole bh. Every cluster claims every beacon, even one
// that mints it nothing, so claims stay in sequence.
func (r *relay) claimMint(bh *interfaces.Block, i int, cert []byte) {
	tx := bh.Txs[i]
	if seq, _, err := r.cluster.ChainHead(interfaces.ClusterStar(interfaces.GalaxyCluster)); err == nil && seq >= tx.Seq {
		return // claimed already
	}
	c := interfaces.MintClaim{Beacon: interfaces.Finality{Checkpoint: tx, InBlackHole: interfaces.TxInclusion(bh, i), BlackHole: bh.Header, Certificate: cert}}
	if err := r.cluster.Submit(interfaces.MintTx(c)); err != nil && !expected(err) {
		r.log.Warn("mint claim not pooled", "beacon", tx.Seq, "error", err)
	}
}

// batchFor returns the announcement's batch for cluster c, nil if none.
func batchFor(a *interfaces.CheckpointAnnounce, c interfaces.ClusterID) *interfaces.ReceiptBatch {
	for i := range a.Receipts {
		if a.Receipts[i].Dst == c {
			return &a.Receipts[i]
		}
	}
	return nil
}

// credit submits the credit of a's batch for this cluster, proven final
// by f.
func (r *relay) credit(a *interfaces.CheckpointAnnounce, f *interfaces.Finality) {
	mine := r.cluster.Cluster()
	blk := &interfaces.Block{Header: a.Checkpoint.Header, Receipts: a.Receipts}
	for j := range a.Receipts {
		b := a.Receipts[j]
		if b.Dst != mine {
			continue
		}
		if seq, _, err := r.cluster.ChainHead(interfaces.ClusterStar(b.Src)); err == nil && seq >= b.Seq {
			return // credited already
		}
		c := interfaces.CreditPayload{Batch: b, InBlock: interfaces.ReceiptInclusion(blk, j), Finality: *f}
		if err := r.cluster.Submit(interfaces.CreditTx(c)); err != nil && !expected(err) {
			r.log.Warn("credit not pooled", "from", b.Src, "seq", b.Seq, "error", err)
		}
	}
}

// expected reports pool refusals that only mean someone was first.
func expected(err error) bool {
	return errors.Is(err, pool.ErrDuplicate) || errors.Is(err, pool.ErrStale) || errors.Is(err, pool.ErrConflict)
}

// announceAgain re-announces this node's unfinalized checkpoints and, for
// a galaxy member, its newest black holes.
func (r *relay) announceAgain(ctx context.Context) {
	// Until it hears a black hole (just after a restart) this node does
	// not know what the galaxy took already, and would announce its
	// cluster's checkpoints from the first.
	if g := r.cluster; g != nil && r.BlackHoles() > 0 {
		head, _ := g.Head()
		final := r.Finalized(g.Cluster())
		// The oldest first: the galaxy takes a cluster's checkpoints in
		// order, so a refused one (its key's handover not final yet when
		// it was first announced) holds back every later one.
		for h := final + 1; h <= head && h <= final+announceAgain; h++ {
			r.announceStored(ctx, g, h, false)
		}
	}
	if g := r.galaxy; g != nil {
		head, _ := g.Head()
		for h := head; h > 0 && h+4 > head; h-- {
			r.announceStored(ctx, g, h, true)
		}
	}
}

// askForMissed asks for the black holes below the newest one that this
// relay never took, and for the batches of final checkpoints with
// receipts it never received.
func (r *relay) askForMissed(ctx context.Context) {
	if r.cluster == nil {
		return
	}
	last := r.BlackHoles()
	if last > wantWindow {
		// Black holes older than the window are given up, except those
		// this cluster still needs for the beacons it has not claimed (a
		// cluster opened late claims every beacon from the first): a
		// black hole holds only beacons of lower black holes, so those at
		// or below the claimed count are done with.
		give := last - wantWindow
		if claimed, _, err := r.cluster.ChainHead(interfaces.ClusterStar(interfaces.GalaxyCluster)); err == nil {
			give = min(give, claimed)
		}
		r.bhFloor = max(r.bhFloor, give)
	}
	for h := range r.seenBH {
		if h <= r.bhFloor {
			delete(r.seenBH, h)
		}
	}
	asked := 0
	want := func(w interfaces.Want) {
		if err := r.tr.Publish(ctx, interfaces.TopicWants, w.Encode()); err == nil {
			asked++
		}
	}
	for h := r.bhFloor + 1; h < last && asked < announceAgain; h++ {
		if !r.seenBH[h] {
			want(interfaces.Want{Cluster: interfaces.GalaxyCluster, Height: h})
		}
	}
	for _, w := range r.finality {
		if asked >= 2*announceAgain {
			break
		}
		want(interfaces.Want{Cluster: w.cluster, Height: w.height})
	}
}

// answer announces again what a want asks for, when this node holds it.
func (r *relay) answer(ctx context.Context, w interfaces.Want) {
	if r.answered >= maxAnswers {
		return
	}
	switch {
	case w.Cluster == interfaces.GalaxyCluster && r.galaxy != nil:
		r.answered++
		r.announceStored(ctx, r.galaxy, w.Height, true)
	case r.cluster != nil && w.Cluster == r.cluster.Cluster():
		r.answered++
		r.announceStored(ctx, r.cluster, w.Height, false)
	}
}

func (r *relay) announceStored(ctx context.Context, g *group.Group, h uint64, galaxy bool) {
	if head, _ := g.Head(); h > head {
		return
	}
	cert, err := g.Certificate(h)
	if err != nil || cert == nil {
		return
	}
	b, err := g.Block(h)
	if err != nil {
		return
	}
	if galaxy {
		r.announceBlackHole(ctx, b, cert)
	} else {
		r.announceCheckpoint(ctx, b, cert)
	}
}

// prune forgets batches this cluster credited already.
func (r *relay) prune() {
	if r.cluster == nil {
		return
	}
	mine := r.cluster.Cluster()
	for k, a := range r.batches {
		b := batchFor(a, mine)
		if seq, _, err := r.cluster.ChainHead(interfaces.ClusterStar(b.Src)); err == nil && seq >= b.Seq {
			delete(r.batches, k)
		}
	}
	if len(r.finality) >= maxPending {
		clear(r.finality) // waiting for batches that never came
	}
}

// Finalized returns the highest checkpoint of cluster c a black hole this
// node heard of finalized.
func (r *relay) Finalized(c interfaces.ClusterID) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.finalized[c]
}

// BlackHoles returns the height of the newest black hole heard of.
func (r *relay) BlackHoles() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastBH
}
