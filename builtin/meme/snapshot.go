package meme

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/constellation-chain/constellation/interfaces"
)

// snapshotVersion is the first byte of every snapshot.
const snapshotVersion = 3

// memeFields is the number of uint64 fields in an encoded meme.
const memeFields = 21

// Snapshot serializes the full state canonically:
//
//	u8      version (3)
//	bytes   canonical config encoding (a snapshot restores only into an
//	        instance with the same parameters)
//	u64     round
//	uvarint star count, then per star in StarID order:
//	        32-byte id and memeFields u64 fields in declaration order
//	uvarint edge count, then per edge in (from, to) order:
//	        32-byte from, 32-byte to, u64 amount, count, last
//
// Derived values (the TPR normalizer) are not stored; Restore recomputes them.
// Two instances with the same state produce the same bytes.
func (r *Reputation) Snapshot() ([]byte, error) {
	e := interfaces.NewEncoder(64 + len(r.cfgEnc) + len(r.stars)*(32+8*memeFields) + len(r.edges)*88)
	e.U8(snapshotVersion)
	e.VarBytes(r.cfgEnc)
	e.U64(r.round)
	e.Uvarint(uint64(len(r.stars)))
	for _, s := range r.sortedStars() {
		e.Fixed(s[:])
		for _, v := range r.stars[s].fields() {
			e.U64(*v)
		}
	}
	keys := r.sortedEdges()
	e.Uvarint(uint64(len(keys)))
	for _, k := range keys {
		x := r.edges[k]
		e.Fixed(k.from[:])
		e.Fixed(k.to[:])
		e.U64(x.amount)
		e.U64(x.count)
		e.U64(x.last)
	}
	return e.Bytes(), nil
}

// fields lists the meme's encoded fields in their fixed order.
func (m *meme) fields() [memeFields]*uint64 {
	return [memeFields]*uint64{
		&m.firstSeen, &m.lastSeen, &m.firstMember, &m.lastMember, &m.proposed, &m.included, &m.seen,
		&m.latencyMicros, &m.latencySamples, &m.faults, &m.faultsTotal, &m.lastFault, &m.trust,
		&m.resources, &m.txOut, &m.txIn, &m.tprR, &m.tprS, &m.flow, &m.credit, &m.stepped,
	}
}

// Restore replaces the state with a snapshot's. The decoder is strict: a
// different version or config, unsorted or duplicate stars or edges, edges
// naming unknown stars, values outside their ranges and trailing bytes are
// errors, and on any error the current state is left untouched.
func (r *Reputation) Restore(snapshot []byte) error {
	n, err := r.decode(snapshot)
	if err != nil {
		return fmt.Errorf("restore meme snapshot: %w", err)
	}
	r.round, r.stars, r.edges = n.round, n.stars, n.edges
	r.refreshTPRNorm()
	return nil
}

func (r *Reputation) decode(b []byte) (*Reputation, error) {
	d := interfaces.NewDecoder(b)
	if v := d.U8(); d.Err() == nil && v != snapshotVersion {
		return nil, fmt.Errorf("snapshot version %d, want %d", v, snapshotVersion)
	}
	cfg := d.VarBytes(1 << 20)
	if d.Err() == nil && !bytes.Equal(cfg, r.cfgEnc) {
		return nil, errors.New("snapshot was taken with a different configuration")
	}
	n := &Reputation{cfg: r.cfg, cfgEnc: r.cfgEnc, stars: map[interfaces.StarID]*meme{}, edges: map[edgeKey]*edge{}}
	n.round = d.U64()
	const starLen = 32 + 8*memeFields
	count := d.Len(int(min(r.cfg.MaxStars, interfaces.MaxFieldLen)))
	if d.Err() == nil && count*starLen > d.Remaining() {
		d.Fail(interfaces.ErrTruncated)
	}
	var prev interfaces.StarID
	for i := 0; i < count && d.Err() == nil; i++ {
		var s interfaces.StarID
		d.Fixed(s[:])
		m := &meme{}
		fs := m.fields()
		for _, p := range fs {
			*p = d.U64()
		}
		if d.Err() != nil {
			break
		}
		if err := checkMeme(s, m, n.round); err != nil {
			d.Fail(fmt.Errorf("star %d (%s): %w", i, s.Short(), err))
			break
		}
		if i > 0 && !prev.Less(s) {
			d.Fail(fmt.Errorf("star %d (%s) is not after the previous one", i, s.Short()))
			break
		}
		prev = s
		n.stars[s] = m
	}
	const edgeLen = 32 + 32 + 24
	count = d.Len(int(min(r.cfg.MaxEdges, interfaces.MaxFieldLen)))
	if d.Err() == nil && count*edgeLen > d.Remaining() {
		d.Fail(interfaces.ErrTruncated)
	}
	var prevKey edgeKey
	for i := 0; i < count && d.Err() == nil; i++ {
		var k edgeKey
		d.Fixed(k.from[:])
		d.Fixed(k.to[:])
		x := &edge{amount: d.U64(), count: d.U64(), last: d.U64()}
		if d.Err() != nil {
			break
		}
		switch {
		case k.from == k.to:
			d.Fail(fmt.Errorf("edge %d is a self-loop", i))
		case n.stars[k.from] == nil || n.stars[k.to] == nil:
			d.Fail(fmt.Errorf("edge %d names a star not in the snapshot", i))
		case x.count == 0 || x.last == 0 || x.last > n.round:
			d.Fail(fmt.Errorf("edge %d has count %d, last round %d (round %d)", i, x.count, x.last, n.round))
		case i > 0 && !(prevKey.from.Less(k.from) || (prevKey.from == k.from && prevKey.to.Less(k.to))):
			d.Fail(fmt.Errorf("edge %d is not after the previous one", i))
		}
		prevKey = k
		x.fromM, x.toM = n.stars[k.from], n.stars[k.to]
		n.edges[k] = x
	}
	if err := d.Finish(); err != nil {
		return nil, err
	}
	return n, nil
}

// checkMeme enforces the invariants Observe maintains, so a restored state
// is one Observe could have produced in shape.
func checkMeme(s interfaces.StarID, m *meme, round uint64) error {
	switch {
	case s.IsZero():
		return errors.New("zero star id")
	case m.firstSeen == 0 || m.firstSeen > m.lastSeen || m.lastSeen > round:
		return fmt.Errorf("seen rounds %d..%d outside 1..%d", m.firstSeen, m.lastSeen, round)
	case (m.firstMember == 0) != (m.lastMember == 0) || m.firstMember > m.lastMember || m.lastMember > m.lastSeen:
		return fmt.Errorf("member rounds %d..%d inconsistent", m.firstMember, m.lastMember)
	case m.firstMember != 0 && m.firstMember < m.firstSeen:
		return errors.New("member before first seen")
	case m.lastFault > m.lastSeen || (m.lastFault == 0) != (m.faultsTotal == 0):
		return fmt.Errorf("fault round %d with %d faults inconsistent", m.lastFault, m.faultsTotal)
	case m.stepped > m.lastSeen:
		return fmt.Errorf("walk step at round %d after last seen %d", m.stepped, m.lastSeen)
	case m.trust > q || m.flow > q || m.credit > q:
		return fmt.Errorf("trust %d, flow %d or credit %d above %d", m.trust, m.flow, m.credit, q)
	}
	return nil
}
