package honeybadger

import (
	"encoding/binary"

	"github.com/klauspost/reedsolomon"

	"github.com/constellation-chain/constellation/interfaces"
)

// Reliable broadcast with erasure coding: Bracha's broadcast carrying
// Reed–Solomon shards with Merkle branches, as in Cachin and Tessaro's AVID
// ("Asynchronous verifiable information dispersal", SRDS 2005) and
// HoneyBadgerBFT §4.2. The proposer splits its value into N−2f data shards,
// adds 2f parity shards and commits to all N with a Merkle root:
//
//	VAL(root, branch_j, shard_j)  proposer → member j
//	ECHO(root, branch_i, shard_i) member i → all, on VAL
//	READY(root)                   member i → all, on N−f ECHOs or f+1 READYs
//
// A member delivers after 2f+1 READYs and N−2f valid ECHOs for one root:
// it decodes, re-encodes all N shards and checks that they hash to the root.
// If they do not (the proposer committed to shards that are not a codeword)
// every honest member finds the same mismatch and delivers ⊥, so the
// proposal is dropped deterministically.
//
// The value is framed before coding as a big-endian u32 length, the bytes,
// then zero padding to a multiple of N−2f.

// coder holds the erasure code shared by all broadcasts of an engine.
type coder struct {
	n, data int
	rs      reedsolomon.Encoder
}

func newCoder(n, f int) (*coder, error) {
	data := n - 2*f
	rs, err := reedsolomon.New(data, n-data)
	if err != nil {
		return nil, err
	}
	return &coder{n: n, data: data, rs: rs}, nil
}

// split frames value and returns the N shards.
func (c *coder) split(value []byte) ([][]byte, error) {
	framed := 4 + len(value)
	size := (framed + c.data - 1) / c.data
	if size == 0 {
		size = 1
	}
	buf := make([]byte, size*c.n)
	binary.BigEndian.PutUint32(buf, uint32(len(value)))
	copy(buf[4:], value)
	shards := make([][]byte, c.n)
	for i := range shards {
		shards[i] = buf[i*size : (i+1)*size : (i+1)*size]
	}
	if err := c.rs.Encode(shards); err != nil {
		return nil, err
	}
	return shards, nil
}

// echoSet collects the ECHO shards received for one root.
type echoSet struct {
	shards   [][]byte
	branches [][]interfaces.Hash // each sender's branch, kept to prove an ECHO equivocation
	leaves   []interfaces.Hash   // leaf hash of each received shard, computed when its branch was checked
	count    int
}

// rbc is one reliable broadcast instance: one proposer in one epoch.
type rbc struct {
	env      protoEnv
	hs       *hasher
	cd       *coder
	epoch    uint64
	inst     uint32
	n, f     int
	self     int
	proposer int

	gotVal    bool
	valRoot   interfaces.Hash
	valMsg    *Message // the VAL accepted, kept to prove a VAL equivocation
	readySent bool
	echoFrom  bitset
	echoRoot  []interfaces.Hash // per sender, valid when echoFrom has it
	readyFrom bitset
	readyRoot []interfaces.Hash
	echoes    map[interfaces.Hash]*echoSet
	readies   map[interfaces.Hash]int
	flagged   bool // proposer equivocation already reported

	delivered bool
	root      interfaces.Hash // the delivered root
	valid     bool            // false: the shards were not a codeword (⊥)
	value     []byte          // the delivered value when valid
}

func newRBC(env protoEnv, hs *hasher, cd *coder, epoch uint64, inst uint32, n, f, self int) *rbc {
	return &rbc{
		env: env, hs: hs, cd: cd, epoch: epoch, inst: inst, n: n, f: f, self: self, proposer: int(inst),
		echoRoot:  make([]interfaces.Hash, n),
		readyRoot: make([]interfaces.Hash, n),
		echoes:    make(map[interfaces.Hash]*echoSet, 1),
		readies:   make(map[interfaces.Hash]int, 1),
	}
}

// propose starts the broadcast of value; only the proposer calls it.
func (b *rbc) propose(value []byte) error {
	shards, err := b.cd.split(value)
	if err != nil {
		return err
	}
	root, branches := b.hs.merkleTree(shards)
	for j := 0; j < b.n; j++ {
		if j == b.self {
			continue
		}
		b.env.send(j, &Message{Type: MsgVal, Epoch: b.epoch, Instance: b.inst, Root: root, Branch: branches[j], Payload: shards[j]})
	}
	b.acceptVal(root, branches[b.self], shards[b.self], b.hs.leaf(shards[b.self]))
	return nil
}

// handle processes VAL, ECHO or READY from member from.
func (b *rbc) handle(from int, m *Message) {
	if b.delivered {
		return
	}
	switch m.Type {
	case MsgVal:
		if from != b.proposer {
			b.env.fault(from, interfaces.FaultMalformed, m)
			return
		}
		if b.gotVal {
			if m.Root != b.valRoot && !b.flagged && b.valMsg != nil {
				// Two VALs with different roots, both to this member: the
				// proposer's own signatures prove it.
				b.flagged = true
				b.env.equivocation(from, b.valMsg, m)
			}
			return
		}
		leaf, ok := b.hs.verifyBranch(&m.Root, b.n, b.self, m.Payload, m.Branch)
		if !ok {
			b.env.fault(from, interfaces.FaultInvalidMerkle, m)
			return
		}
		b.valMsg = m
		b.acceptVal(m.Root, m.Branch, m.Payload, leaf)
	case MsgEcho:
		if b.echoFrom.has(from) {
			if r := b.echoRoot[from]; r != m.Root {
				es := b.echoes[r]
				b.env.equivocation(from, &Message{Type: MsgEcho, Epoch: b.epoch, Instance: b.inst, Root: r, Branch: es.branches[from], Payload: es.shards[from]}, m)
			}
			return
		}
		leaf, ok := b.hs.verifyBranch(&m.Root, b.n, from, m.Payload, m.Branch)
		if !ok {
			b.env.fault(from, interfaces.FaultInvalidMerkle, m)
			return
		}
		b.addEcho(from, m.Root, m.Branch, m.Payload, leaf)
		b.checkEquivocation(m.Root, m)
		b.advance(m.Root)
	case MsgReady:
		if b.readyFrom.has(from) {
			if r := b.readyRoot[from]; r != m.Root {
				b.env.equivocation(from, &Message{Type: MsgReady, Epoch: b.epoch, Instance: b.inst, Root: r}, m)
			}
			return
		}
		b.addReady(from, m.Root)
		b.advance(m.Root)
	}
}

func (b *rbc) acceptVal(root interfaces.Hash, branch []interfaces.Hash, shard []byte, leaf interfaces.Hash) {
	b.gotVal = true
	b.valRoot = root
	b.env.broadcast(&Message{Type: MsgEcho, Epoch: b.epoch, Instance: b.inst, Root: root, Branch: branch, Payload: shard})
	if !b.echoFrom.has(b.self) {
		b.addEcho(b.self, root, branch, shard, leaf)
	}
	// ECHOs with another root that arrived before VAL may already prove
	// equivocation (scanned in sender order, so the evidence is the same on
	// every run).
	for j := 0; j < b.n; j++ {
		if r := b.echoRoot[j]; b.echoFrom.has(j) && r != root && b.echoes[r].count >= b.f+1 {
			b.flagProposer(&Message{Type: MsgEcho, Epoch: b.epoch, Instance: b.inst, Root: r})
			break
		}
	}
	b.advance(root)
}

func (b *rbc) addEcho(from int, root interfaces.Hash, branch []interfaces.Hash, shard []byte, leaf interfaces.Hash) {
	b.echoFrom.set(from)
	b.echoRoot[from] = root
	es := b.echoes[root]
	if es == nil {
		es = &echoSet{shards: make([][]byte, b.n), branches: make([][]interfaces.Hash, b.n), leaves: make([]interfaces.Hash, b.n)}
		b.echoes[root] = es
	}
	es.shards[from] = shard
	es.branches[from] = branch
	es.leaves[from] = leaf
	es.count++
}

func (b *rbc) addReady(from int, root interfaces.Hash) {
	b.readyFrom.set(from)
	b.readyRoot[from] = root
	b.readies[root]++
}

// checkEquivocation reports the proposer when f+1 members (so at least one
// honest) echoed a root other than the one the proposer sent this member.
func (b *rbc) checkEquivocation(root interfaces.Hash, m *Message) {
	if b.gotVal && root != b.valRoot && b.echoes[root].count >= b.f+1 {
		b.flagProposer(m)
	}
}

func (b *rbc) flagProposer(m *Message) {
	if b.flagged || b.proposer == b.self {
		return
	}
	b.flagged = true
	b.env.fault(b.proposer, interfaces.FaultEquivocation, m)
}

// advance sends READY and delivers when the counts for root allow.
func (b *rbc) advance(root interfaces.Hash) {
	es := b.echoes[root]
	echoes := 0
	if es != nil {
		echoes = es.count
	}
	if !b.readySent && (echoes >= b.n-b.f || b.readies[root] >= b.f+1) {
		b.readySent = true
		b.env.broadcast(&Message{Type: MsgReady, Epoch: b.epoch, Instance: b.inst, Root: root})
		if !b.readyFrom.has(b.self) {
			b.addReady(b.self, root)
		}
	}
	if b.readies[root] >= 2*b.f+1 && echoes >= b.n-2*b.f {
		b.deliver(root, es)
	}
}

// deliver reconstructs the value from the ECHO shards of root and checks
// the re-encoding against root.
func (b *rbc) deliver(root interfaces.Hash, es *echoSet) {
	b.delivered = true
	b.root = root
	b.echoes = nil
	b.readies = nil
	received := es.shards
	// Lay all N shards out in one buffer so that the data shards end up
	// contiguous (the value is read from them without another copy) and
	// the parity shards need no allocation of their own.
	size := 0
	for _, sh := range received {
		if len(sh) > 0 {
			size = len(sh)
			break
		}
	}
	if size == 0 {
		b.valid = false
		return
	}
	buf := make([]byte, b.n*size)
	shards := make([][]byte, b.n)
	for i := range shards {
		slot := buf[i*size : (i+1)*size : (i+1)*size]
		switch {
		case received[i] == nil:
			shards[i] = slot[:0] // missing: ReconstructData fills it in place
		case len(received[i]) != size:
			b.valid = false // committed shards of different sizes: not a codeword
			return
		case i < b.cd.data:
			copy(slot, received[i])
			shards[i] = slot
		default:
			shards[i] = received[i] // parity: read by reconstruction, then recomputed
		}
	}
	// Rebuild the data shards, then recompute every parity shard from them:
	// the result is a codeword, so it hashes to root exactly when the
	// proposer committed to a codeword. Keeping received parity shards
	// instead would let a proposer that corrupted a parity shard pass here
	// and fail elsewhere.
	if err := b.cd.rs.ReconstructData(shards); err != nil {
		b.valid = false
		return
	}
	for i := b.cd.data; i < b.n; i++ {
		shards[i] = buf[i*size : (i+1)*size : (i+1)*size]
	}
	if err := b.cd.rs.Encode(shards); err != nil {
		b.valid = false
		return
	}
	// A received shard equal to the recomputed one has the leaf hash that
	// was computed when its branch was checked; only the others are hashed.
	leaves := es.leaves
	for i := range shards {
		if received[i] == nil || string(received[i]) != string(shards[i]) {
			leaves[i] = b.hs.leaf(shards[i])
		}
	}
	if b.hs.rootOfLeaves(leaves) != root {
		b.valid = false
		return
	}
	total := size * b.cd.data
	if total < 4 {
		b.valid = false
		return
	}
	flat := buf[:total:total]
	l := binary.BigEndian.Uint32(flat)
	if uint64(l) > uint64(total-4) {
		b.valid = false
		return
	}
	b.valid = true
	b.value = flat[4 : 4+l : 4+l]
}
