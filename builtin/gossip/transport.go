package gossip

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/constellation-chain/constellation/interfaces"
	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2ptcp "github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/prometheus/client_golang/prometheus"
)

// DirectPrefix starts every topic carried on direct streams; all other
// topics are gossip topics.
const DirectPrefix = "direct/"

// ErrClosed is returned by calls on a closed transport.
var ErrClosed = errors.New("gossip transport closed")

// ErrQueueFull is wrapped (together with the context's error) when Send
// gave up because the peer's send queue stayed full until its context ended.
var ErrQueueFull = errors.New("send queue full")

// maxInboundPerPeer bounds concurrent inbound direct streams from one peer.
// An honest peer keeps one; a few more cover reconnect overlap.
const maxInboundPerPeer = 4

// senderIdle is how long a per-peer sender with nothing to send keeps its
// stream before it is torn down.
const senderIdle = 2 * time.Minute

// maxBatchFrames bounds how many queued frames a sender writes before it
// flushes.
const maxBatchFrames = 64

// Stats are the transport's counters, cumulative since it started.
type Stats struct {
	// DroppedSpoofed counts envelopes whose claimed From differed from the
	// authenticated sender: the gossip message's signing author, or the
	// remote peer of a direct stream. They are never delivered.
	DroppedSpoofed uint64
	// DroppedMalformed counts undecodable envelopes, frames with a bad
	// length prefix, topic mismatches and gossip topics on direct streams.
	DroppedMalformed uint64
	// DroppedOversize counts frames rejected for exceeding max_frame_bytes.
	DroppedOversize uint64
	// DroppedSlowSubscriber counts gossip messages pubsub could not hand to
	// a subscription because its handler fell behind.
	DroppedSlowSubscriber uint64
	// RejectedConns counts connections refused by the gate: partitioned
	// peers and peers whose key is not ed25519.
	RejectedConns uint64
	// DirectSent and DirectReceived count frames written to and read from
	// direct streams (self-sends count as both).
	DirectSent, DirectReceived uint64
	// DirectRetries counts batches rewritten after a stream failed.
	DirectRetries uint64
	// Published and GossipReceived count gossip messages published and
	// delivered to handlers.
	Published, GossipReceived uint64
	// Dials and DialFailures count outbound connection attempts made by
	// the bootstrap/reconnect loop.
	Dials, DialFailures uint64
	// PXLearned counts peers learned through peer exchange.
	PXLearned uint64
}

// counters are Prometheus counters (metrics.go); Stats reads them.
type counters struct {
	spoofed, malformed, oversize, slowSub, rejectedConns counter
	directSent, directRecv, directRetries                counter
	published, gossipRecv                                counter
	dials, dialFailures, pxLearned                       counter
}

// PeerScorer returns an application-specific gossipsub score for a star
// (gossipsub's P5 term, weight 1). It is called from pubsub's goroutines,
// often, and must be cheap, non-blocking and safe for concurrent use.
// Useful range: about -100..+100; below -10 a peer gets no gossip, below
// -50 it is not published to, below -80 its messages are ignored
// (graylisted). NaN or infinite results count as 0. Gossipsub scores are
// local routing hints, not consensus inputs, so floats are fine here.
type PeerScorer func(interfaces.StarID) float64

type handlerEntry struct {
	id uint64
	h  interfaces.Handler
}

type gossipTopic struct {
	topic *pubsub.Topic
	sub   *pubsub.Subscription // nil while no handler is registered
}

// Transport is the libp2p implementation of interfaces.Transport: gossipsub
// for gossip topics and one long-lived, length-prefixed stream per peer for
// "direct/..." topics. All methods are safe for concurrent use. Handlers are
// called on transport goroutines: those of one gossip topic one at a time,
// those of direct topics concurrently from different peers' streams, in
// order per sending peer. A handler that blocks stalls its topic (gossip:
// pubsub drops messages for it once its buffer fills, counted in
// Stats.DroppedSlowSubscriber) or its peer's stream (direct: backpressure up
// to the sender's Send). Each handler gets its own Payload slice and may keep
// it.
type Transport struct {
	cfg    Config
	self   interfaces.StarID
	selfID peer.ID
	host   host.Host
	ps     *pubsub.PubSub
	gate   *gater
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	stats  counters
	// collectors are the counters' metrics, collected by the node's
	// registry through the Transport (a prometheus.Collector).
	collectors []prometheus.Collector
	scorer     atomic.Pointer[PeerScorer]

	mu       sync.Mutex // guards everything below; never held while calling back into user code
	closed   bool
	nextID   uint64
	handlers map[string][]handlerEntry
	topics   map[string]*gossipTopic
	out      map[peer.ID]*outPeer
	inbound  map[peer.ID]int

	pmu   sync.Mutex // guards known and pxDue
	known map[peer.ID]*knownPeer
	pxDue map[peer.ID]bool

	upMu sync.Mutex
	up   chan struct{} // closed and replaced whenever a peer connects or a partition heals

	kick   chan struct{} // wakes the dial loop
	pxKick chan struct{} // wakes the peer-exchange loop
}

var _ interfaces.Transport = (*Transport)(nil)

// New starts a transport with the star's key as its libp2p identity. It
// listens on cfg.Listen (TCP multiaddrs; none means dial-only), joins
// gossipsub and starts dialling cfg.Bootstrap. A bootstrap address must
// name its peer ("/ip4/127.0.0.1/tcp/7001/p2p/<id>", see PeerIDForKey)
// because the Noise handshake authenticates the remote against that id; the
// transport's own address may appear in the list and is skipped.
//
// NAT port mapping, relays, hole punching, AutoNAT probing, mDNS and any DHT
// or public bootstrap are off: a node talks only to addresses it was given
// or learned by peer exchange.
func New(cfg interfaces.TransportConfig) (*Transport, error) {
	conf, err := ParseConfig(cfg.Params)
	if err != nil {
		return nil, err
	}
	priv, self, err := privKeyFromStar(cfg.Key)
	if err != nil {
		return nil, fmt.Errorf("start gossip transport: %w", err)
	}
	selfID, err := peer.IDFromPrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("start gossip transport: peer id: %w", err)
	}
	boot, err := parseBootstrap(cfg.Bootstrap, selfID)
	if err != nil {
		return nil, fmt.Errorf("start gossip transport: %w", err)
	}
	listen := make([]ma.Multiaddr, 0, len(cfg.Listen))
	for _, s := range cfg.Listen {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("start gossip transport: listen address %q: %w", s, err)
		}
		listen = append(listen, a)
	}

	t := &Transport{
		cfg:      conf,
		self:     self,
		selfID:   selfID,
		handlers: map[string][]handlerEntry{},
		topics:   map[string]*gossipTopic{},
		out:      map[peer.ID]*outPeer{},
		inbound:  map[peer.ID]int{},
		known:    map[peer.ID]*knownPeer{},
		pxDue:    map[peer.ID]bool{},
		up:       make(chan struct{}),
		kick:     make(chan struct{}, 1),
		pxKick:   make(chan struct{}, 1),
	}
	t.stats, t.collectors = newCounters()
	t.gate = &gater{blocked: map[peer.ID]bool{}, stats: &t.stats}

	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(defaultLimits()))
	if err != nil {
		return nil, fmt.Errorf("start gossip transport: resource manager: %w", err)
	}
	cm, err := connmgr.NewConnManager(conf.MaxPeers, 2*conf.MaxPeers+16, connmgr.WithGracePeriod(time.Minute))
	if err != nil {
		_ = rm.Close()
		return nil, fmt.Errorf("start gossip transport: connection manager: %w", err)
	}
	opts := []libp2p.Option{
		libp2p.Identity(priv),
		libp2p.Transport(libp2ptcp.NewTCPTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.ResourceManager(rm),
		libp2p.ConnectionManager(cm),
		libp2p.ConnectionGater(t.gate),
		libp2p.DisableRelay(),
		libp2p.DisableMetrics(),
		libp2p.DisableIdentifyAddressDiscovery(),
		// A static network: skip AutoNAT probing. No NATPortMap, hole
		// punching or auto-relay option is given, so none of them runs.
		libp2p.ForceReachabilityPublic(),
		libp2p.UserAgent("constellation-gossip/" + Version),
		libp2p.WithDialTimeout(ms(conf.DialTimeoutMS)),
	}
	if len(listen) > 0 {
		opts = append(opts, libp2p.ListenAddrs(listen...))
	} else {
		opts = append(opts, libp2p.NoListenAddrs)
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		// libp2p.New closes the resource and connection managers itself
		// when construction fails after taking them.
		return nil, fmt.Errorf("start gossip transport: libp2p host on %v: %w", cfg.Listen, err)
	}
	t.host = h
	t.ctx, t.cancel = context.WithCancel(context.Background())

	ps, err := t.newPubSub()
	if err != nil {
		t.cancel()
		_ = h.Close()
		return nil, fmt.Errorf("start gossip transport: %w", err)
	}
	t.ps = ps

	h.SetStreamHandler(directProtocol, t.handleDirect)
	h.SetStreamHandler(pxProtocol, t.handlePX)
	h.Network().Notify(&network.NotifyBundle{
		ConnectedF:    t.onConnected,
		DisconnectedF: t.onDisconnected,
	})

	for _, ai := range boot {
		t.addKnown(ai, true)
	}
	t.wg.Add(1)
	go t.dialLoop()
	if *conf.PeerExchange {
		t.wg.Add(1)
		go t.pxLoop()
	}
	return t, nil
}

// limitsMu serialises defaultLimits: libp2p's SetDefaultServiceLimits
// writes into maps shared with the package-level rcmgr.DefaultLimits.
var limitsMu sync.Mutex

// defaultLimits returns libp2p's default resource limits, with its service
// limits, scaled to this machine's memory and file descriptors.
func defaultLimits() rcmgr.ConcreteLimitConfig {
	limitsMu.Lock()
	defer limitsMu.Unlock()
	limits := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&limits)
	return limits.AutoScale()
}

// topicFilter admits any topic name the envelope codec can carry.
var topicFilter = regexp.MustCompile(`^(?s).{1,256}$`)

func (t *Transport) newPubSub() (*pubsub.PubSub, error) {
	params := pubsub.DefaultGossipSubParams()
	params.HeartbeatInitialDelay = 50 * time.Millisecond
	score := &pubsub.PeerScoreParams{
		AppSpecificScore:  t.appScore,
		AppSpecificWeight: 1,
		// Stars are admitted by reputation, not by address; several
		// nodes per machine is normal in test and small networks.
		IPColocationFactorWeight:  0,
		BehaviourPenaltyWeight:    -1,
		BehaviourPenaltyThreshold: 6,
		BehaviourPenaltyDecay:     pubsub.ScoreParameterDecay(10 * time.Minute),
		DecayInterval:             time.Second,
		DecayToZero:               0.01,
		RetainScore:               10 * time.Minute,
	}
	thresholds := &pubsub.PeerScoreThresholds{
		GossipThreshold:             -10,
		PublishThreshold:            -50,
		GraylistThreshold:           -80,
		AcceptPXThreshold:           100,
		OpportunisticGraftThreshold: 1,
	}
	ps, err := pubsub.NewGossipSub(t.ctx, t.host,
		pubsub.WithGossipSubParams(params),
		pubsub.WithMessageSignaturePolicy(pubsub.StrictSign),
		pubsub.WithPeerExchange(false), // our own PX protocol does discovery
		pubsub.WithFloodPublish(true),
		pubsub.WithMaxMessageSize(t.cfg.MaxMessageBytes+4096),
		pubsub.WithPeerScore(score, thresholds),
		pubsub.WithSubscriptionFilter(pubsub.WrapLimitSubscriptionFilter(
			pubsub.NewRegexpSubscriptionFilter(topicFilter), 1024)),
		pubsub.WithRawTracer(&dropTracer{stats: &t.stats}),
	)
	if err != nil {
		return nil, fmt.Errorf("gossipsub: %w", err)
	}
	return ps, nil
}

// appScore is gossipsub's P5 hook; it forwards to the scorer set with
// SetPeerScorer.
func (t *Transport) appScore(p peer.ID) float64 {
	f := t.scorer.Load()
	if f == nil || *f == nil {
		return 0
	}
	s, err := StarFromPeerID(p)
	if err != nil {
		return 0
	}
	v := (*f)(s)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return math.Max(-1000, math.Min(1000, v))
}

// SetPeerScorer installs the application-specific gossipsub score (see
// PeerScorer), e.g. a view of reputation. nil restores the neutral score 0.
// It takes effect at pubsub's next score refresh.
func (t *Transport) SetPeerScorer(f PeerScorer) {
	t.scorer.Store(&f)
}

// Self returns this star's identity.
func (t *Transport) Self() interfaces.StarID { return t.self }

// PeerID returns the libp2p peer id of this transport.
func (t *Transport) PeerID() peer.ID { return t.selfID }

// Addrs returns the transport's listen multiaddrs, each ending in
// /p2p/<id>, in a form other transports accept as bootstrap addresses.
func (t *Transport) Addrs() []string {
	suffix, err := ma.NewComponent("p2p", t.selfID.String())
	if err != nil {
		return nil
	}
	var out []string
	for _, a := range t.host.Addrs() {
		out = append(out, a.Encapsulate(suffix.Multiaddr()).String())
	}
	sort.Strings(out)
	return out
}

// Peers lists the stars currently connected, sorted.
func (t *Transport) Peers() []interfaces.StarID {
	var out []interfaces.StarID
	for _, p := range t.host.Network().Peers() {
		if t.host.Network().Connectedness(p) != network.Connected {
			continue
		}
		s, err := StarFromPeerID(p)
		if err != nil || s == t.self {
			continue
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	return out
}

// Stats returns a snapshot of the counters.
func (t *Transport) Stats() Stats {
	c := &t.stats
	return Stats{
		DroppedSpoofed:        c.spoofed.Load(),
		DroppedMalformed:      c.malformed.Load(),
		DroppedOversize:       c.oversize.Load(),
		DroppedSlowSubscriber: c.slowSub.Load(),
		RejectedConns:         c.rejectedConns.Load(),
		DirectSent:            c.directSent.Load(),
		DirectReceived:        c.directRecv.Load(),
		DirectRetries:         c.directRetries.Load(),
		Published:             c.published.Load(),
		GossipReceived:        c.gossipRecv.Load(),
		Dials:                 c.dials.Load(),
		DialFailures:          c.dialFailures.Load(),
		PXLearned:             c.pxLearned.Load(),
	}
}

// Subscribe registers h for a topic. Topics starting with "direct/" are
// delivered from direct streams (Send); any other topic is a gossipsub
// topic, joined on first use and left when its last handler is cancelled.
// The returned cancel is idempotent.
func (t *Transport) Subscribe(topic string, h interfaces.Handler) (func(), error) {
	if h == nil {
		return nil, fmt.Errorf("subscribe to %q: nil handler", topic)
	}
	if err := checkTopic(topic); err != nil {
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	direct := strings.HasPrefix(topic, DirectPrefix)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, fmt.Errorf("subscribe to %q: %w", topic, ErrClosed)
	}
	if !direct {
		if err := t.ensureSubscriptionLocked(topic); err != nil {
			return nil, fmt.Errorf("subscribe to %q: %w", topic, err)
		}
	}
	t.nextID++
	id := t.nextID
	t.handlers[topic] = append(t.handlers[topic], handlerEntry{id: id, h: h})
	var once sync.Once
	return func() { once.Do(func() { t.unsubscribe(topic, id) }) }, nil
}

func (t *Transport) unsubscribe(topic string, id uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	hs := t.handlers[topic]
	for i, e := range hs {
		if e.id == id {
			hs = append(hs[:i:i], hs[i+1:]...)
			break
		}
	}
	if len(hs) > 0 {
		t.handlers[topic] = hs
		return
	}
	delete(t.handlers, topic)
	if gt := t.topics[topic]; gt != nil && gt.sub != nil {
		gt.sub.Cancel()
		gt.sub = nil
	}
}

// dispatch hands env to every handler of its topic, in registration order.
// Each handler after the first gets its own copy of the payload.
func (t *Transport) dispatch(env *interfaces.Envelope) int {
	t.mu.Lock()
	hs := append([]handlerEntry(nil), t.handlers[env.Topic]...)
	t.mu.Unlock()
	for i, e := range hs {
		ev := *env
		if i > 0 {
			ev.Payload = append([]byte(nil), env.Payload...)
		}
		e.h(ev)
	}
	return len(hs)
}

func checkTopic(topic string) error {
	switch {
	case topic == "":
		return errors.New("empty topic")
	case len(topic) > interfaces.MaxTopicLen:
		return fmt.Errorf("topic of %d bytes, limit %d", len(topic), interfaces.MaxTopicLen)
	case topic == DirectPrefix:
		return fmt.Errorf("topic %q names no direct protocol", topic)
	}
	return nil
}

// FaultSwitch is implemented by transports that can cut links on command;
// the node runtime type-asserts its transport to it for partition tests.
type FaultSwitch interface {
	SetPartitioned(peers []interfaces.StarID, cut bool) error
}

var _ FaultSwitch = (*Transport)(nil)

// SetPartitioned is the fault switch for partition tests: cut=true closes
// every connection to the given stars and refuses new ones in both
// directions until a later call with cut=false heals the links, after which
// the dial loop and the senders reconnect at once. Sends to a cut peer queue
// (and block when the queue is full) exactly as for a crashed peer. Only the
// links of this transport are cut; a full partition sets it on both sides.
func (t *Transport) SetPartitioned(peers []interfaces.StarID, cut bool) error {
	ids := make([]peer.ID, 0, len(peers))
	for _, s := range peers {
		id, err := PeerIDFromStar(s)
		if err != nil {
			return fmt.Errorf("set partition: %w", err)
		}
		ids = append(ids, id)
	}
	t.gate.set(ids, cut)
	if cut {
		for _, id := range ids {
			_ = t.host.Network().ClosePeer(id)
		}
		return nil
	}
	t.pmu.Lock()
	for _, id := range ids {
		if k := t.known[id]; k != nil {
			k.failures = 0
			k.next = time.Time{}
		}
	}
	t.pmu.Unlock()
	t.wakeDialer()
	t.signalUp()
	return nil
}

// Close stops the transport: blocked Sends return ErrClosed, handlers are
// no longer called once Close returns, connections and the listener are
// closed, and every goroutine the transport started has exited. It waits for
// running handlers, so it must not be called from a handler. Idempotent.
func (t *Transport) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	var subs []*pubsub.Subscription
	var topics []*pubsub.Topic
	for _, gt := range t.topics {
		if gt.sub != nil {
			subs = append(subs, gt.sub)
			gt.sub = nil
		}
		topics = append(topics, gt.topic)
	}
	t.mu.Unlock()

	t.cancel()
	for _, s := range subs {
		s.Cancel()
	}
	for _, tp := range topics {
		_ = tp.Close() // fails only while subscriptions linger; the context is gone anyway
	}
	err := t.host.Close()
	t.wg.Wait()
	if err != nil {
		return fmt.Errorf("close gossip transport: %w", err)
	}
	return nil
}

// enter registers a transport goroutine started from a libp2p callback; it
// fails once Close has begun, so Close's Wait covers every such goroutine.
func (t *Transport) enter() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.wg.Add(1)
	return true
}

func (t *Transport) isClosed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed
}

// upSignal returns a channel closed the next time a peer connects or a
// partition heals; senders in backoff wait on it to retry early.
func (t *Transport) upSignal() <-chan struct{} {
	t.upMu.Lock()
	defer t.upMu.Unlock()
	return t.up
}

func (t *Transport) signalUp() {
	t.upMu.Lock()
	close(t.up)
	t.up = make(chan struct{})
	t.upMu.Unlock()
}

func (t *Transport) wakeDialer() {
	select {
	case t.kick <- struct{}{}:
	default:
	}
}

var _ pubsub.RawTracer = (*dropTracer)(nil)

// dropTracer counts gossip messages pubsub could not hand to a slow
// subscription; every other trace event is ignored.
type dropTracer struct{ stats *counters }

func (d *dropTracer) OnNewOutboundStream(peer.ID, protocol.ID)             {}
func (d *dropTracer) OnClosedOutboundStream(peer.ID)                       {}
func (d *dropTracer) Join(string)                                          {}
func (d *dropTracer) Leave(string)                                         {}
func (d *dropTracer) Graft(peer.ID, string)                                {}
func (d *dropTracer) Prune(peer.ID, string)                                {}
func (d *dropTracer) ValidateMessage(*pubsub.Message)                      {}
func (d *dropTracer) DeliverMessage(*pubsub.Message)                       {}
func (d *dropTracer) RejectMessage(*pubsub.Message, string)                {}
func (d *dropTracer) DuplicateMessage(*pubsub.Message)                     {}
func (d *dropTracer) ThrottlePeer(peer.ID)                                 {}
func (d *dropTracer) RecvRPC(*pubsub.RPC)                                  {}
func (d *dropTracer) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (d *dropTracer) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
func (d *dropTracer) DropRPC(*pubsub.RPC, peer.ID)                         {}
func (d *dropTracer) UndeliverableMessage(*pubsub.Message)                 { d.stats.slowSub.Add(1) }
