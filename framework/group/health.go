package group

import (
	"slices"
	"sync"
	"time"

	"github.com/constellation-chain/constellation/interfaces"
)

// What a group keeps for the node API's health check: when its height last
// rose, the heads its peers announced over block sync, and the blocks it
// refused. It is written from the group's goroutine and the transport's,
// read from the API's; nothing in it feeds consensus.

// peerHistory is how many announcements of each peer are kept: enough to
// find one at or below this node's height when the peer runs a few blocks
// ahead (peers announce once per sync interval).
const peerHistory = 8

// PeerHead is a head a peer announced over block sync.
type PeerHead struct {
	Star   interfaces.StarID
	Height uint64
	Hash   interfaces.Hash
	At     time.Time // when this node heard it (its own clock)
}

// Health is a snapshot of what the group knows of its own progress and
// of its peers' heads.
type Health struct {
	Name     string
	Interval time.Duration // the block interval
	Height   uint64
	Hash     interfaces.Hash
	// LastRise is when the height last rose, or when the group opened if
	// it has not committed since.
	LastRise time.Time
	// Peers are the stars this node compares its head with: the running
	// membership epoch's members but itself (every member, for a star
	// that only follows the chain). Empty for a group of one.
	Peers []interfaces.StarID
	// Heads are the recent announcements of those peers, oldest first
	// per peer.
	Heads []PeerHead
	// Refused counts the blocks a quorum of peers vouched for that this
	// node's ledger refused (validation failures); LastRefusal says when
	// and why the last one was.
	Refused       uint64
	LastRefusal   time.Time
	RefusalReason string
}

type healthState struct {
	mu       sync.Mutex
	lastRise time.Time
	peers    []interfaces.StarID
	heads    map[interfaces.StarID][]PeerHead
	refused  uint64
	lastRef  time.Time
	reason   string
}

func (h *healthState) rose(at time.Time) {
	h.mu.Lock()
	h.lastRise = at
	h.mu.Unlock()
}

// setPeers makes the members but self the peers to compare with, forgetting
// the announcements of stars no longer among them.
func (h *healthState) setPeers(self interfaces.StarID, members []interfaces.StarID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.peers = h.peers[:0]
	for _, m := range members {
		if m != self {
			h.peers = append(h.peers, m)
		}
	}
	slices.SortFunc(h.peers, interfaces.CompareStars)
	h.peers = slices.Compact(h.peers)
	for s := range h.heads {
		if _, ok := slices.BinarySearchFunc(h.peers, s, interfaces.CompareStars); !ok {
			delete(h.heads, s)
		}
	}
}

// heard records a peer's announced head (blocksync.Syncer.Heard).
func (h *healthState) heard(from interfaces.StarID, height uint64, hash interfaces.Hash, at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.heads == nil {
		h.heads = map[interfaces.StarID][]PeerHead{}
	}
	hs := append(h.heads[from], PeerHead{Star: from, Height: height, Hash: hash, At: at})
	if len(hs) > peerHistory {
		hs = slices.Delete(hs, 0, len(hs)-peerHistory)
	}
	h.heads[from] = hs
}

func (h *healthState) refusedBlock(at time.Time, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.refused++
	h.lastRef, h.reason = at, reason
}

// Health returns the group's health snapshot. Safe for concurrent use.
func (n *Group) Health() Health {
	height, hash := n.Head()
	h := &n.health
	h.mu.Lock()
	defer h.mu.Unlock()
	out := Health{
		Name: n.cfg.Name, Interval: n.cfg.Interval, Height: height, Hash: hash,
		LastRise: h.lastRise, Peers: slices.Clone(h.peers),
		Refused: h.refused, LastRefusal: h.lastRef, RefusalReason: h.reason,
	}
	for _, p := range out.Peers {
		out.Heads = append(out.Heads, h.heads[p]...)
	}
	return out
}

// Interval returns the group's block interval: how long it waits between
// proposals when the pool is short of a block.
func (n *Group) Interval() time.Duration { return n.cfg.Interval }

// Name returns the group's name in the network ("cluster/0", "galaxy").
func (n *Group) Name() string { return n.cfg.Name }

// Reputation returns the reputation the group feeds, nil when none.
func (n *Group) Reputation() *Reputation { return n.cfg.Reputation }
