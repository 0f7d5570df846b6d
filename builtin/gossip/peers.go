package gossip

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	ma "github.com/multiformats/go-multiaddr"
)

// maxConcurrentDials bounds the dial loop's parallel connection attempts.
const maxConcurrentDials = 8

// stableAfter is how long a connection must last for the peer's backoff to
// reset when it drops; a peer that accepts and immediately closes keeps
// backing off instead of being redialled at the minimum delay forever.
const stableAfter = 10 * time.Second

// forgetAfterFailures drops a peer learned by peer exchange after this many
// consecutive failed dials. Bootstrap peers are never forgotten.
const forgetAfterFailures = 8

// knownPeer is a dial target: a bootstrap peer or one learned by peer
// exchange. Guarded by Transport.pmu.
type knownPeer struct {
	id          peer.ID
	bootstrap   bool
	failures    int
	next        time.Time // earliest next dial
	dialing     bool
	connectedAt time.Time // zero while not connected
}

// parseBootstrap turns bootstrap multiaddrs into peer infos, merging
// addresses of the same peer and skipping our own. Every address must end
// in /p2p/<id>: without it the Noise handshake has nothing to authenticate
// the remote against.
func parseBootstrap(addrs []string, self peer.ID) ([]peer.AddrInfo, error) {
	byID := map[peer.ID]*peer.AddrInfo{}
	var order []peer.ID
	for _, s := range addrs {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("bootstrap address %q: %w", s, err)
		}
		ai, err := peer.AddrInfoFromP2pAddr(a)
		if err != nil {
			return nil, fmt.Errorf("bootstrap address %q must end in /p2p/<peer id> (gossip.PeerIDForKey gives it from the star's public key): %w", s, err)
		}
		if _, err := StarFromPeerID(ai.ID); err != nil {
			return nil, fmt.Errorf("bootstrap address %q: %w", s, err)
		}
		if ai.ID == self {
			continue
		}
		if len(ai.Addrs) == 0 {
			return nil, fmt.Errorf("bootstrap address %q has no transport part before /p2p", s)
		}
		if prev := byID[ai.ID]; prev != nil {
			prev.Addrs = append(prev.Addrs, ai.Addrs...)
			continue
		}
		byID[ai.ID] = ai
		order = append(order, ai.ID)
	}
	out := make([]peer.AddrInfo, 0, len(order))
	for _, id := range order {
		out = append(out, *byID[id])
	}
	return out, nil
}

// addKnown records a dial target and its addresses. Bootstrap addresses are
// kept permanently in the peerstore; learned ones for an hour. It reports
// whether the peer was new. Learned peers beyond max_peers are ignored.
func (t *Transport) addKnown(ai peer.AddrInfo, bootstrap bool) bool {
	if ai.ID == t.selfID || len(ai.Addrs) == 0 {
		return false
	}
	t.pmu.Lock()
	k := t.known[ai.ID]
	isNew := k == nil
	if isNew {
		if !bootstrap && len(t.known) >= t.cfg.MaxPeers {
			t.pmu.Unlock()
			return false
		}
		k = &knownPeer{id: ai.ID}
		t.known[ai.ID] = k
	}
	k.bootstrap = k.bootstrap || bootstrap
	t.pmu.Unlock()

	ttl := peerstore.AddressTTL
	if bootstrap {
		ttl = peerstore.PermanentAddrTTL
		t.host.ConnManager().Protect(ai.ID, "constellation-bootstrap")
	}
	t.host.Peerstore().AddAddrs(ai.ID, ai.Addrs, ttl)
	if isNew {
		t.wakeDialer()
	}
	return isNew
}

// backoffDelay is the redial delay after the given number of consecutive
// failures: min·2^(failures-1), capped at max, with "equal jitter" (half
// fixed, half uniform in u ∈ [0,1)) so restarted peers do not redial in
// lockstep. Zero failures means no delay.
func backoffDelay(min, max time.Duration, failures int, u float64) time.Duration {
	if failures <= 0 {
		return 0
	}
	d := min
	for i := 1; i < failures && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	half := d / 2
	return half + time.Duration(float64(d-half)*u)
}

func (t *Transport) backoff(failures int) time.Duration {
	return backoffDelay(ms(t.cfg.ReconnectMinMS), ms(t.cfg.ReconnectMaxMS), failures, rand.Float64())
}

// dialLoop keeps a connection to every known peer: it dials each
// disconnected, unblocked peer whose backoff has passed, and sleeps until the
// next one is due or something changes.
func (t *Transport) dialLoop() {
	defer t.wg.Done()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-t.ctx.Done():
			return
		case <-timer.C:
		case <-t.kick:
		}
		wait := t.startDueDials()
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

// startDueDials starts the dials that are due and returns how long until
// the next one is.
func (t *Transport) startDueDials() time.Duration {
	// Ask libp2p about connectedness without holding pmu: libp2p's
	// notifications take pmu, so pmu is never held while calling libp2p.
	t.pmu.Lock()
	ids := make([]peer.ID, 0, len(t.known))
	for id := range t.known {
		ids = append(ids, id)
	}
	t.pmu.Unlock()
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	connected := make(map[peer.ID]bool, len(ids))
	for _, id := range ids {
		connected[id] = t.host.Network().Connectedness(id) == network.Connected
	}

	now := time.Now()
	wait := ms(t.cfg.ReconnectMaxMS)
	t.pmu.Lock()
	defer t.pmu.Unlock()
	dialing := 0
	for _, k := range t.known {
		if k.dialing {
			dialing++
		}
	}
	for _, id := range ids {
		k := t.known[id]
		if k == nil || k.dialing || connected[id] || t.gate.isBlocked(id) {
			continue
		}
		if d := k.next.Sub(now); d > 0 {
			wait = min(wait, d)
			continue
		}
		if dialing >= maxConcurrentDials {
			wait = min(wait, ms(t.cfg.ReconnectMinMS))
			continue
		}
		dialing++
		k.dialing = true
		t.wg.Add(1)
		go t.dial(id)
	}
	return wait
}

func (t *Transport) dial(id peer.ID) {
	defer t.wg.Done()
	t.stats.dials.Add(1)
	t.clearSwarmBackoff(id)
	ctx, cancel := context.WithTimeout(t.ctx, ms(t.cfg.DialTimeoutMS))
	err := t.host.Connect(ctx, peer.AddrInfo{ID: id})
	cancel()
	t.pmu.Lock()
	if k := t.known[id]; k != nil {
		k.dialing = false
		if err != nil {
			t.stats.dialFailures.Add(1)
			k.failures++
			k.next = time.Now().Add(t.backoff(k.failures))
			if !k.bootstrap && k.failures >= forgetAfterFailures {
				delete(t.known, id)
			}
		}
	}
	t.pmu.Unlock()
	t.wakeDialer()
}

// clearSwarmBackoff forgets libp2p's own per-address dial backoff (5 s
// and growing) for a peer: the transport's bounded backoff decides when to
// redial, and a restarted peer must be reachable as soon as it listens.
func (t *Transport) clearSwarmBackoff(id peer.ID) {
	if sw, ok := t.host.Network().(*swarm.Swarm); ok {
		sw.Backoff().Clear(id)
	}
}

// onConnected is a libp2p notification; it must not block.
func (t *Transport) onConnected(_ network.Network, c network.Conn) {
	id := c.RemotePeer()
	t.pmu.Lock()
	if k := t.known[id]; k != nil && k.connectedAt.IsZero() {
		k.connectedAt = time.Now()
	}
	t.pxDue[id] = true
	t.pmu.Unlock()
	select {
	case t.pxKick <- struct{}{}:
	default:
	}
	t.signalUp()
}

// onDisconnected is a libp2p notification; it must not block.
func (t *Transport) onDisconnected(n network.Network, c network.Conn) {
	id := c.RemotePeer()
	if n.Connectedness(id) == network.Connected {
		return // another connection to the peer remains
	}
	t.pmu.Lock()
	if k := t.known[id]; k != nil {
		if !k.connectedAt.IsZero() && time.Since(k.connectedAt) >= stableAfter {
			k.failures = 0
		}
		k.connectedAt = time.Time{}
		k.failures++
		k.next = time.Now().Add(t.backoff(k.failures))
	}
	t.pmu.Unlock()
	t.wakeDialer()
}

// gater is the connection gate: it refuses peers cut by SetPartitioned and
// peers whose identity is not an ed25519 key (they cannot be stars).
type gater struct {
	mu      sync.RWMutex
	blocked map[peer.ID]bool
	stats   *counters
}

func (g *gater) set(ids []peer.ID, cut bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, id := range ids {
		if cut {
			g.blocked[id] = true
		} else {
			delete(g.blocked, id)
		}
	}
}

func (g *gater) isBlocked(id peer.ID) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.blocked[id]
}

func (g *gater) InterceptPeerDial(p peer.ID) bool {
	if g.isBlocked(p) {
		g.stats.rejectedConns.Add(1)
		return false
	}
	return true
}

func (g *gater) InterceptAddrDial(peer.ID, ma.Multiaddr) bool { return true }

func (g *gater) InterceptAccept(network.ConnMultiaddrs) bool { return true }

func (g *gater) InterceptSecured(_ network.Direction, p peer.ID, _ network.ConnMultiaddrs) bool {
	if g.isBlocked(p) {
		g.stats.rejectedConns.Add(1)
		return false
	}
	if _, err := StarFromPeerID(p); err != nil {
		g.stats.rejectedConns.Add(1)
		return false
	}
	return true
}

func (g *gater) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) { return true, 0 }
