// Package blocksync lets a node that was down, or is new, fetch the blocks
// it missed from its cluster's other members and rejoin. Members announce
// their head to each other; a node that sees peers ahead asks them for the
// missing blocks and accepts a block only when f+1 distinct members sent a
// block with the same hash at that height, so at least one honest member
// vouches for it (the f Byzantine members alone cannot make a node adopt a
// block). The node then re-validates the block against its own state before
// committing it.
//
// Syncer is a state machine with no I/O, clock or goroutine: the node feeds
// it messages and ticks and sends what it returns.
package blocksync

import (
	"fmt"
	"slices"

	"github.com/constellation-chain/constellation/interfaces"
)

// Topic is the direct-stream topic of one consensus instance's sync
// messages: each group syncs its own chain, on its own topic.
func Topic(i interfaces.InstanceID) string { return "direct/blocksync/" + interfaces.Hash(i).String() }

// Limits.
const (
	MaxBlocksPerReply = 32
	MaxReplyBytes     = 4 << 20
	// StuckTicks is how many status rounds a node may be exactly one block
	// behind a peer before it fetches instead of waiting for consensus.
	StuckTicks = 3
)

const (
	msgStatus  = 1
	msgRequest = 2
	msgBlocks  = 3
)

// Out is a message to send to one member.
type Out struct {
	To      interfaces.StarID
	Payload []byte
}

// Reader reads the local chain.
type Reader interface {
	Head() (uint64, interfaces.Hash)
	Block(height uint64) (*interfaces.Block, error)
}

type candidate struct {
	block *interfaces.Block
	peers map[interfaces.StarID]struct{}
}

// Syncer tracks peers' heads and the blocks they sent. Not safe for
// concurrent use; the node calls it from its one loop.
type Syncer struct {
	self    interfaces.StarID
	members []interfaces.StarID
	quorum  int

	peerHeads map[interfaces.StarID]uint64
	votes     map[uint64]map[interfaces.Hash]*candidate
	behind    int                          // consecutive ticks a peer was ahead of us
	asked     map[interfaces.StarID]uint64 // highest height asked of each peer this tick

	// Heard, when set, is called with every head a peer member announces
	// (its height and hash), on the caller's goroutine, before Handle
	// acts on it. The node's health check compares them with its own
	// chain; they decide nothing here beyond what Handle does anyway.
	Heard func(from interfaces.StarID, height uint64, hash interfaces.Hash)
}

// New returns a syncer for self among members (sorted or not) tolerating f
// Byzantine members.
func New(self interfaces.StarID, members []interfaces.StarID, f int) *Syncer {
	ms := slices.Clone(members)
	slices.SortFunc(ms, interfaces.CompareStars)
	return &Syncer{
		self: self, members: slices.Compact(ms), quorum: f + 1,
		peerHeads: map[interfaces.StarID]uint64{},
		votes:     map[uint64]map[interfaces.Hash]*candidate{},
		asked:     map[interfaces.StarID]uint64{},
	}
}

func (s *Syncer) isPeer(p interfaces.StarID) bool {
	if p == s.self {
		return false
	}
	_, ok := slices.BinarySearchFunc(s.members, p, interfaces.CompareStars)
	return ok
}

// Tick announces our head to every peer and, if peers are ahead, asks them
// for the next blocks. Call it about once a second.
func (s *Syncer) Tick(r Reader) []Out {
	height, hash := r.Head()
	s.prune(height)
	e := interfaces.NewEncoder(48)
	e.U8(msgStatus)
	e.U64(height)
	e.Fixed(hash[:])
	status := e.Bytes()
	var out []Out
	for _, p := range s.members {
		if p != s.self {
			out = append(out, Out{To: p, Payload: status})
		}
	}
	best := uint64(0)
	for _, h := range s.peerHeads {
		best = max(best, h)
	}
	switch {
	case best > height+1:
		s.behind = StuckTicks
	case best > height:
		s.behind++
	default:
		s.behind = 0
	}
	clear(s.asked)
	if s.behind >= StuckTicks {
		out = append(out, s.request(height, best)...)
	}
	return out
}

func (s *Syncer) request(height, best uint64) []Out {
	from := height + 1
	count := min(best-height, MaxBlocksPerReply)
	e := interfaces.NewEncoder(17)
	e.U8(msgRequest)
	e.U64(from)
	e.U64(count)
	req := e.Bytes()
	var out []Out
	for _, p := range s.members {
		if p != s.self && s.peerHeads[p] >= from && s.asked[p] < from+count-1 {
			s.asked[p] = from + count - 1
			out = append(out, Out{To: p, Payload: req})
		}
	}
	return out
}

// prune forgets candidates at or below the committed height.
func (s *Syncer) prune(height uint64) {
	for h := range s.votes {
		if h <= height {
			delete(s.votes, h)
		}
	}
}

// Handle processes one message from a member. It returns replies to send
// and the blocks now vouched for by a quorum, in height order starting at
// the local head + 1. A malformed message or one from a non-member is
// returned as an error for the caller to log; it changes nothing.
//
// A star that is not a member (a follower: a candidate that keeps the
// chain to be ready when it is drawn, or a member of a later membership
// epoch) is served: its status is answered with this node's, and its
// requests with blocks. Its own blocks and heads count for nothing.
func (s *Syncer) Handle(from interfaces.StarID, payload []byte, r Reader) ([]Out, []*interfaces.Block, error) {
	if len(payload) == 0 {
		return nil, nil, fmt.Errorf("blocksync: empty message from %s", from.Short())
	}
	peer := s.isPeer(from)
	if !peer && payload[0] != msgStatus && payload[0] != msgRequest {
		return nil, nil, fmt.Errorf("blocksync: blocks from %s, not a peer member", from.Short())
	}
	d := interfaces.NewDecoder(payload[1:])
	height, hash := r.Head()
	switch payload[0] {
	case msgStatus:
		if !peer {
			if from == s.self {
				return nil, nil, nil
			}
			e := interfaces.NewEncoder(48)
			e.U8(msgStatus)
			e.U64(height)
			e.Fixed(hash[:])
			return []Out{{To: from, Payload: e.Bytes()}}, nil, nil
		}
		h := d.U64()
		var hash interfaces.Hash
		d.Fixed(hash[:])
		if err := d.Finish(); err != nil {
			return nil, nil, fmt.Errorf("blocksync status from %s: %w", from.Short(), err)
		}
		s.peerHeads[from] = h
		if s.Heard != nil {
			s.Heard(from, h, hash)
		}
		if h > height+1 {
			return s.request(height, h), nil, nil
		}
		return nil, nil, nil
	case msgRequest:
		first, count := d.U64(), d.U64()
		if err := d.Finish(); err != nil {
			return nil, nil, fmt.Errorf("blocksync request from %s: %w", from.Short(), err)
		}
		if first == 0 || first > height {
			return nil, nil, nil
		}
		count = min(count, MaxBlocksPerReply, height-first+1)
		e := interfaces.NewEncoder(1 << 16)
		e.U8(msgBlocks)
		var blocks [][]byte
		size := 0
		for h := first; h < first+count; h++ {
			b, err := r.Block(h)
			if err != nil {
				return nil, nil, fmt.Errorf("blocksync: read block %d for %s: %w", h, from.Short(), err)
			}
			raw := b.Encode()
			if size+len(raw) > MaxReplyBytes && len(blocks) > 0 {
				break
			}
			size += len(raw)
			blocks = append(blocks, raw)
		}
		e.Uvarint(uint64(len(blocks)))
		for _, raw := range blocks {
			e.VarBytes(raw)
		}
		return []Out{{To: from, Payload: e.Bytes()}}, nil, nil
	case msgBlocks:
		n := d.Len(MaxBlocksPerReply)
		var got []*interfaces.Block
		for i := 0; i < n && d.Err() == nil; i++ {
			raw := d.VarBytes(MaxReplyBytes)
			if d.Err() != nil {
				break
			}
			b, err := interfaces.DecodeBlock(raw)
			if err != nil {
				return nil, nil, fmt.Errorf("blocksync blocks from %s: %w", from.Short(), err)
			}
			got = append(got, b)
		}
		if err := d.Finish(); err != nil {
			return nil, nil, fmt.Errorf("blocksync blocks from %s: %w", from.Short(), err)
		}
		for _, b := range got {
			h := b.Header.Height
			if h <= height || h > height+4*MaxBlocksPerReply {
				continue
			}
			byHash := s.votes[h]
			if byHash == nil {
				byHash = map[interfaces.Hash]*candidate{}
				s.votes[h] = byHash
			}
			hash := b.Hash()
			c := byHash[hash]
			if c == nil {
				c = &candidate{block: b, peers: map[interfaces.StarID]struct{}{}}
				byHash[hash] = c
			}
			c.peers[from] = struct{}{}
		}
		return nil, s.ready(height), nil
	}
	return nil, nil, fmt.Errorf("blocksync: unknown message kind %d from %s", payload[0], from.Short())
}

// ready returns the run of quorum-vouched blocks following height, each
// naming the previous one's hash.
func (s *Syncer) ready(height uint64) []*interfaces.Block {
	var out []*interfaces.Block
	for h := height + 1; ; h++ {
		var pick *interfaces.Block
		for _, c := range s.votes[h] {
			if len(c.peers) >= s.quorum {
				pick = c.block
			}
		}
		if pick == nil {
			return out
		}
		if len(out) > 0 && pick.Header.Prev != out[len(out)-1].Hash() {
			return out
		}
		out = append(out, pick)
	}
}
