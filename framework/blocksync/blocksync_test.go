package blocksync

import (
	"fmt"
	"testing"

	"github.com/constellation-chain/constellation/framework/ledger"
	"github.com/constellation-chain/constellation/interfaces"
)

// chain is an in-memory Reader over blocks built with the ledger.
type chain struct{ blocks []*interfaces.Block }

func (c *chain) Head() (uint64, interfaces.Hash) {
	if len(c.blocks) == 0 {
		return 0, interfaces.GenesisHash("sync-test")
	}
	b := c.blocks[len(c.blocks)-1]
	return b.Header.Height, b.Hash()
}

func (c *chain) Block(h uint64) (*interfaces.Block, error) {
	if h == 0 || h > uint64(len(c.blocks)) {
		return nil, fmt.Errorf("no block %d", h)
	}
	return c.blocks[h-1], nil
}

func buildChain(t *testing.T, n int, tag string) *chain {
	t.Helper()
	g := ledger.Genesis{Seed: "sync-test", Allocations: []ledger.Allocation{{Star: interfaces.DevStar("faucet"), Amount: 1 << 40}}}
	st, err := ledger.NewMemState(g)
	if err != nil {
		t.Fatal(err)
	}
	c := &chain{}
	var prev interfaces.Hash
	for i := 0; i < n; i++ {
		b := ledger.NewBuilder(st, 0, st.Parent())
		tx, _ := interfaces.NewTransfer(interfaces.DevKey("faucet"), uint64(i+1), prev, interfaces.DevStar(tag), 1)
		if err := b.Apply(tx); err != nil {
			t.Fatal(err)
		}
		prev = tx.ID()
		blk, ch := b.Finish(uint64(i), int64(i), interfaces.BlockMeta{})
		if err := st.Commit(blk, ch); err != nil {
			t.Fatal(err)
		}
		c.blocks = append(c.blocks, blk)
	}
	return c
}

var members = []interfaces.StarID{interfaces.DevStar("m0"), interfaces.DevStar("m1"), interfaces.DevStar("m2"), interfaces.DevStar("m3")}

// exchange delivers a status from peer to s, then the request s makes to
// every peer whose chain is given, and returns what became ready.
func exchange(t *testing.T, s *Syncer, local *chain, peers map[interfaces.StarID]*chain) []*interfaces.Block {
	t.Helper()
	var ready []*interfaces.Block
	for _, p := range members[1:] {
		c, ok := peers[p]
		if !ok {
			continue
		}
		for _, o := range New(p, members, 1).Tick(c) {
			if o.To != members[0] {
				continue
			}
			reqs, _, err := s.Handle(p, o.Payload, local)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range reqs {
				replies, _, err := New(r.To, members, 1).Handle(members[0], r.Payload, peers[r.To])
				if err != nil {
					t.Fatal(err)
				}
				for _, rep := range replies {
					_, got, err := s.Handle(r.To, rep.Payload, local)
					if err != nil {
						t.Fatal(err)
					}
					ready = append(ready, got...)
				}
			}
		}
	}
	return ready
}

func TestBehindNodeFetchesBlocksVouchedByFPlusOne(t *testing.T) {
	honest := buildChain(t, 10, "x")
	s := New(members[0], members, 1)
	local := &chain{}
	ready := exchange(t, s, local, map[interfaces.StarID]*chain{members[1]: honest, members[2]: honest})
	if len(ready) == 0 {
		t.Fatal("no block adopted with two honest peers")
	}
	for i, b := range ready {
		if b.Hash() != honest.blocks[i].Hash() {
			t.Fatalf("block %d differs from the honest chain", i+1)
		}
	}
}

func TestOneByzantinePeerCannotMakeANodeAdoptItsBlocks(t *testing.T) {
	fake := buildChain(t, 10, "forged")
	s := New(members[0], members, 1)
	ready := exchange(t, s, &chain{}, map[interfaces.StarID]*chain{members[3]: fake})
	if len(ready) != 0 {
		t.Fatalf("adopted %d blocks vouched by a single member", len(ready))
	}
	// With two honest peers on another chain, the honest blocks win.
	honest := buildChain(t, 10, "x")
	ready = exchange(t, s, &chain{}, map[interfaces.StarID]*chain{members[1]: honest, members[2]: honest, members[3]: fake})
	if len(ready) == 0 || ready[0].Hash() != honest.blocks[0].Hash() {
		t.Fatal("honest blocks not adopted next to a forger")
	}
}

func TestStrangersAndGarbageAreErrorsNotPanics(t *testing.T) {
	s := New(members[0], members, 1)
	local := &chain{}
	blocks := interfaces.NewEncoder(4)
	blocks.U8(msgBlocks)
	blocks.Uvarint(0)
	if _, _, err := s.Handle(interfaces.DevStar("stranger"), blocks.Bytes(), local); err == nil {
		t.Fatal("accepted blocks from a non-member")
	}
	for _, p := range [][]byte{nil, {0}, {msgStatus, 1}, {msgRequest}, {msgBlocks, 5}, {msgBlocks, 1, 3, 1, 2, 3}, {99}} {
		if _, _, err := s.Handle(members[1], p, local); err == nil {
			t.Fatalf("accepted garbage %v", p)
		}
	}
}

func TestRequestsAreAnsweredWithinLimits(t *testing.T) {
	c := buildChain(t, 40, "x")
	s := New(members[1], members, 1)
	e := interfaces.NewEncoder(17)
	e.U8(msgRequest)
	e.U64(1)
	e.U64(1000)
	out, _, err := s.Handle(members[0], e.Bytes(), c)
	if err != nil || len(out) != 1 {
		t.Fatalf("reply %v %v", out, err)
	}
	d := interfaces.NewDecoder(out[0].Payload[1:])
	if n := d.Len(1000); n != MaxBlocksPerReply {
		t.Fatalf("replied %d blocks, want %d", n, MaxBlocksPerReply)
	}
}

// FuzzHandle checks that no message makes the syncer panic.
func FuzzHandle(f *testing.F) {
	f.Add([]byte{msgStatus, 0, 0, 0, 0, 0, 0, 0, 9})
	f.Add([]byte{msgRequest, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2})
	f.Add([]byte{msgBlocks, 1, 0})
	c := &chain{}
	f.Fuzz(func(t *testing.T, payload []byte) {
		s := New(members[0], members, 1)
		s.Handle(members[1], payload, c)
		s.Tick(c)
	})
}

// A follower (not a member) learns the members' heads by sending its
// status, and adopts blocks f+1 of them vouch for; its own heads and
// blocks count for nothing with the members.
func TestFollowerCatchesUpFromMembers(t *testing.T) {
	follower := interfaces.DevStar("follower")
	fs := New(follower, members, 1)
	c := buildChain(t, 5, "x")
	local := &chain{}
	peers := map[interfaces.StarID]*Syncer{}
	for _, m := range members {
		peers[m] = New(m, members, 1)
	}
	var ready []*interfaces.Block
	queue := fs.Tick(local)
	for steps := 0; len(queue) > 0 && steps < 100; steps++ {
		o := queue[0]
		queue = queue[1:]
		replies, _, err := peers[o.To].Handle(follower, o.Payload, c)
		if err != nil {
			t.Fatalf("member %s refused the follower: %v", o.To.Short(), err)
		}
		for _, r := range replies {
			if r.To != follower {
				t.Fatalf("reply addressed to %s", r.To.Short())
			}
			more, got, err := fs.Handle(o.To, r.Payload, local)
			if err != nil {
				t.Fatal(err)
			}
			queue = append(queue, more...)
			ready = append(ready, got...)
			local.blocks = append(local.blocks, got...)
		}
	}
	if len(ready) != 5 || ready[4].Hash() != c.blocks[4].Hash() {
		t.Fatalf("follower adopted %d blocks, want the members' 5", len(ready))
	}
	st := interfaces.NewEncoder(48)
	st.U8(msgStatus)
	st.U64(1000)
	st.Fixed(make([]byte, 32))
	if out, _, err := peers[members[1]].Handle(follower, st.Bytes(), c); err != nil || len(out) != 1 || out[0].Payload[0] != msgStatus {
		t.Fatalf("a follower's status claiming height 1000 got %v %v, want only the member's status back", out, err)
	}
}

// TestHeardReportsPeerMembersHeadsOnly: every head a peer member announces
// reaches Heard with its height and hash; a stranger's does not.
func TestHeardReportsPeerMembersHeadsOnly(t *testing.T) {
	local, peer := buildChain(t, 1, "a"), buildChain(t, 3, "a")
	s := New(members[0], members, 1)
	type heard struct {
		from   interfaces.StarID
		height uint64
		hash   interfaces.Hash
	}
	var got []heard
	s.Heard = func(from interfaces.StarID, h uint64, hash interfaces.Hash) { got = append(got, heard{from, h, hash}) }
	status := New(members[1], members, 1).Tick(peer)[0].Payload
	if _, _, err := s.Handle(members[1], status, local); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Handle(interfaces.DevStar("stranger"), status, local); err != nil {
		t.Fatal(err)
	}
	h, hash := peer.Head()
	if len(got) != 1 || got[0] != (heard{members[1], h, hash}) {
		t.Fatalf("heard %+v, want one announcement of %s at %d", got, members[1].Short(), h)
	}
}
