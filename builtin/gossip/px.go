package gossip

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/constellation-chain/constellation/interfaces"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	ma "github.com/multiformats/go-multiaddr"
)

// Peer exchange: the requester opens a pxProtocol stream and closes its
// write side; the responder writes one frame holding the stars it is
// connected to with their known addresses, then closes. The requester adds
// them as dial targets (up to max_peers). Only TCP addresses are shared.
const pxProtocol = protocol.ID("/constellation/px/1.0.0")

// Limits of one peer-exchange record set.
const (
	maxPXPeers     = 64
	maxPXAddrs     = 8
	maxPXAddrBytes = 256
	maxPXFrame     = 64 << 10
	pxVersion      = 1
)

// PXRecord is one peer in a peer-exchange response.
type PXRecord struct {
	Star  interfaces.StarID
	Addrs [][]byte // binary multiaddrs, without /p2p
}

// EncodePX returns the canonical encoding of a peer-exchange response:
// version byte, uvarint count, then per record the 32-byte star, a uvarint
// address count and each address as length-prefixed bytes.
func EncodePX(recs []PXRecord) []byte {
	e := interfaces.NewEncoder(64 * (len(recs) + 1))
	e.U8(pxVersion)
	e.Uvarint(uint64(len(recs)))
	for _, r := range recs {
		e.Fixed(r.Star[:])
		e.Uvarint(uint64(len(r.Addrs)))
		for _, a := range r.Addrs {
			e.VarBytes(a)
		}
	}
	return e.Bytes()
}

// DecodePX decodes a peer-exchange response strictly (limits on counts and
// sizes, no trailing bytes). It does not interpret the addresses.
func DecodePX(b []byte) ([]PXRecord, error) {
	d := interfaces.NewDecoder(b)
	if v := d.U8(); d.Err() == nil && v != pxVersion {
		d.Fail(fmt.Errorf("peer exchange version %d, want %d", v, pxVersion))
	}
	n := d.Len(maxPXPeers)
	var recs []PXRecord
	for i := 0; i < n && d.Err() == nil; i++ {
		var r PXRecord
		d.Fixed(r.Star[:])
		na := d.Len(maxPXAddrs)
		for j := 0; j < na && d.Err() == nil; j++ {
			r.Addrs = append(r.Addrs, d.VarBytes(maxPXAddrBytes))
		}
		recs = append(recs, r)
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("decode peer exchange: %w", err)
	}
	return recs, nil
}

// usableAddr reports whether a shared address is a plain TCP address we
// would dial: IPv4/IPv6/DNS, then TCP, and no relay or p2p part.
func usableAddr(a ma.Multiaddr) bool {
	hasTCP := false
	for _, c := range a {
		switch c.Code() {
		case ma.P_TCP:
			hasTCP = true
		case ma.P_IP4, ma.P_IP6, ma.P_DNS, ma.P_DNS4, ma.P_DNS6:
		default:
			return false
		}
	}
	return hasTCP
}

// pxRecords lists the connected stars other than exclude with their TCP
// addresses, sorted by star.
func (t *Transport) pxRecords(exclude peer.ID) []PXRecord {
	var recs []PXRecord
	for _, id := range t.host.Network().Peers() {
		if id == exclude || t.gate.isBlocked(id) {
			continue
		}
		s, err := StarFromPeerID(id)
		if err != nil {
			continue
		}
		r := PXRecord{Star: s}
		for _, a := range t.host.Peerstore().Addrs(id) {
			if len(r.Addrs) == maxPXAddrs {
				break
			}
			if usableAddr(a) && len(a.Bytes()) <= maxPXAddrBytes {
				r.Addrs = append(r.Addrs, a.Bytes())
			}
		}
		if len(r.Addrs) > 0 {
			recs = append(recs, r)
		}
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].Star.Less(recs[j].Star) })
	if len(recs) > maxPXPeers {
		recs = recs[:maxPXPeers]
	}
	for i := range recs {
		sort.Slice(recs[i].Addrs, func(a, b int) bool { return bytes.Compare(recs[i].Addrs[a], recs[i].Addrs[b]) < 0 })
	}
	return recs
}

// handlePX answers one peer-exchange request.
func (t *Transport) handlePX(s network.Stream) {
	if !*t.cfg.PeerExchange || t.gate.isBlocked(s.Conn().RemotePeer()) || !t.enter() {
		_ = s.Reset()
		return
	}
	defer t.wg.Done()
	_ = s.SetDeadline(time.Now().Add(ms(t.cfg.DialTimeoutMS)))
	if err := WriteFrame(s, EncodePX(t.pxRecords(s.Conn().RemotePeer()))); err != nil {
		_ = s.Reset()
		return
	}
	_ = s.Close()
}

// requestPX asks one peer for its peers and adds them as dial targets.
func (t *Transport) requestPX(id peer.ID) error {
	ctx, cancel := context.WithTimeout(t.ctx, ms(t.cfg.DialTimeoutMS))
	defer cancel()
	s, err := t.host.NewStream(network.WithNoDial(ctx, "peer exchange"), id, pxProtocol)
	if err != nil {
		return fmt.Errorf("peer exchange with %s: open stream: %w", id, err)
	}
	defer func() { _ = s.Close() }()
	_ = s.SetDeadline(time.Now().Add(ms(t.cfg.DialTimeoutMS)))
	_ = s.CloseWrite()
	frame, err := ReadFrame(bufio.NewReader(s), maxPXFrame)
	if err != nil {
		_ = s.Reset()
		return fmt.Errorf("peer exchange with %s: %w", id, err)
	}
	recs, err := DecodePX(frame)
	if err != nil {
		_ = s.Reset()
		t.stats.malformed.Add(1)
		return fmt.Errorf("peer exchange with %s: %w", id, err)
	}
	for _, r := range recs {
		pid, err := PeerIDFromStar(r.Star)
		if err != nil || pid == t.selfID {
			continue
		}
		ai := peer.AddrInfo{ID: pid}
		for _, b := range r.Addrs {
			a, err := ma.NewMultiaddrBytes(b)
			if err == nil && usableAddr(a) {
				ai.Addrs = append(ai.Addrs, a)
			}
		}
		if t.addKnown(ai, false) {
			t.stats.pxLearned.Add(1)
		}
	}
	return nil
}

// pxLoop runs peer exchange with every newly connected peer and, every
// px_interval, with all connected peers.
func (t *Transport) pxLoop() {
	defer t.wg.Done()
	ticker := time.NewTicker(ms(t.cfg.PXIntervalMS))
	defer ticker.Stop()
	for {
		var due []peer.ID
		select {
		case <-t.ctx.Done():
			return
		case <-ticker.C:
			due = t.host.Network().Peers()
			t.pmu.Lock()
			clear(t.pxDue)
			t.pmu.Unlock()
		case <-t.pxKick:
			t.pmu.Lock()
			for id := range t.pxDue {
				due = append(due, id)
			}
			clear(t.pxDue)
			t.pmu.Unlock()
		}
		sort.Slice(due, func(i, j int) bool { return due[i] < due[j] })
		for _, id := range due {
			if t.ctx.Err() != nil {
				return
			}
			if t.host.Network().Connectedness(id) != network.Connected {
				continue
			}
			_ = t.requestPX(id) // failures are retried at the next interval
		}
	}
}
