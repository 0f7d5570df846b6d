package gossip

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/interfaces"
	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	"pgregory.net/rapid"
)

// fastParams keep reconnects and peer exchange quick on loopback.
const fastParams = `{"reconnect_min_ms": 20, "reconnect_max_ms": 300, "px_interval_ms": 200, "dial_timeout_ms": 2000}`

func startTransport(t testing.TB, name string, boot []string, params string) *Transport {
	t.Helper()
	return startTransportOn(t, name, "/ip4/127.0.0.1/tcp/0", boot, params)
}

func startTransportOn(t testing.TB, name, listen string, boot []string, params string) *Transport {
	t.Helper()
	tr, err := Factory{}.NewTransport(interfaces.TransportConfig{
		Key:       interfaces.DevKey(name),
		Listen:    []string{listen},
		Bootstrap: boot,
		Params:    []byte(params),
	})
	if err != nil {
		t.Fatalf("start transport %s: %v", name, err)
	}
	gt := tr.(*Transport)
	t.Cleanup(func() { _ = gt.Close() })
	return gt
}

func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<22)
			n := runtime.Stack(buf, true)
			os.WriteFile("/tmp/gossip-stacks.txt", buf[:n], 0o644)
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// inbox collects envelopes delivered to a handler.
type inbox struct {
	mu  sync.Mutex
	got []interfaces.Envelope
}

func (b *inbox) handler(e interfaces.Envelope) {
	b.mu.Lock()
	b.got = append(b.got, e)
	b.mu.Unlock()
}

func (b *inbox) snapshot() []interfaces.Envelope {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]interfaces.Envelope(nil), b.got...)
}

func (b *inbox) count() int { return len(b.snapshot()) }

func connectedTo(tr *Transport, others ...*Transport) bool {
	peers := map[interfaces.StarID]bool{}
	for _, p := range tr.Peers() {
		peers[p] = true
	}
	for _, o := range others {
		if !peers[o.Self()] {
			return false
		}
	}
	return true
}

func topicPeers(tr *Transport, topic string) int {
	tr.mu.Lock()
	gt := tr.topics[topic]
	tr.mu.Unlock()
	if gt == nil {
		return 0
	}
	return len(gt.topic.ListPeers())
}

func TestIdentityMapsStarsAndPeerIDsBothWays(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		seed := rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(t, "seed")
		sk := ed25519.NewKeyFromSeed(seed)
		star, _ := interfaces.StarIDFromPublicKey(sk.Public().(ed25519.PublicKey))
		id, err := PeerIDFromStar(star)
		if err != nil {
			t.Fatal(err)
		}
		back, err := StarFromPeerID(id)
		if err != nil || back != star {
			t.Fatalf("round trip: %v, %v", back, err)
		}
		if PeerIDForKey(sk.Public().(ed25519.PublicKey)) != id.String() {
			t.Fatal("PeerIDForKey disagrees with PeerIDFromStar")
		}
		priv, self, err := privKeyFromStar(sk)
		if err != nil || self != star {
			t.Fatalf("privKeyFromStar: %v", err)
		}
		if pid, _ := peer.IDFromPrivateKey(priv); pid != id {
			t.Fatal("libp2p identity differs from the star's peer id")
		}
	})
	if PeerIDForKey([]byte{1, 2}) != "" {
		t.Fatal("short key accepted")
	}
	_, secpPub, _ := crypto.GenerateSecp256k1Key(nil)
	if id, err := peer.IDFromPublicKey(secpPub); err == nil {
		if _, err := StarFromPeerID(id); err == nil {
			t.Fatal("secp256k1 peer mapped to a star")
		}
	}
}

func TestConfigDefaultsSchemaAndErrors(t *testing.T) {
	info := Factory{}.Info()
	if err := info.Validate(); err != nil {
		t.Fatal(err)
	}
	if info.Kind != interfaces.KindTransport || info.Name != "gossip" {
		t.Fatalf("info %+v", info)
	}
	c, err := ParseConfig(nil)
	if err != nil || c.MaxFrameBytes != DefaultMaxFrameBytes || !*c.PeerExchange {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	// Every field of Config is in the schema and the schema names no other.
	fields := map[string]bool{}
	for _, f := range info.Config {
		fields[f.Name] = true
	}
	for _, name := range []string{"max_frame_bytes", "max_message_bytes", "send_queue", "send_queue_bytes", "reconnect_min_ms", "reconnect_max_ms", "peer_exchange", "px_interval_ms", "max_peers", "dial_timeout_ms"} {
		if !fields[name] {
			t.Errorf("schema lacks %s", name)
		}
		delete(fields, name)
	}
	if len(fields) > 0 {
		t.Errorf("schema has unknown fields %v", fields)
	}
	for _, bad := range []string{`{"max_frame_byte": 1}`, `{"send_queue": -1}`, `{"reconnect_min_ms": 500, "reconnect_max_ms": 100}`, `{"max_frame_bytes": 1e12}`, `[1]`} {
		if _, err := ParseConfig([]byte(bad)); err == nil {
			t.Errorf("config %s accepted", bad)
		}
	}
}

func TestBootstrapNeedsPeerIDAndSkipsSelf(t *testing.T) {
	_, err := New(interfaces.TransportConfig{Key: interfaces.DevKey("a"), Listen: []string{"/ip4/127.0.0.1/tcp/0"}, Bootstrap: []string{"/ip4/127.0.0.1/tcp/7001"}})
	if err == nil || !strings.Contains(err.Error(), "/p2p/") {
		t.Fatalf("bootstrap without peer id: %v", err)
	}
	if _, err := New(interfaces.TransportConfig{Key: []byte{1}}); err == nil {
		t.Fatal("short key accepted")
	}
	self := PeerIDForKey(interfaces.DevStar("a").PublicKey())
	tr := startTransport(t, "a", []string{"/ip4/127.0.0.1/tcp/1/p2p/" + self}, fastParams)
	tr.pmu.Lock()
	n := len(tr.known)
	tr.pmu.Unlock()
	if n != 0 {
		t.Fatalf("own address became a dial target")
	}
	for _, a := range tr.Addrs() {
		if !strings.HasPrefix(a, "/ip4/127.0.0.1/tcp/") || !strings.HasSuffix(a, "/p2p/"+self) {
			t.Fatalf("address %s", a)
		}
	}
}

// Four transports that only know the first one find each other through
// peer exchange, and a transaction published on a cluster's topic reaches
// every subscriber with the publisher as its authenticated From.
func TestGossipReachesAllSubscribersWithAuthenticatedFrom(t *testing.T) {
	hub := startTransport(t, "n0", nil, fastParams)
	nodes := []*Transport{hub}
	for i := 1; i < 4; i++ {
		nodes = append(nodes, startTransport(t, fmt.Sprintf("n%d", i), hub.Addrs(), fastParams))
	}
	topic := interfaces.TxTopic(7)
	boxes := make([]*inbox, len(nodes))
	for i, n := range nodes {
		boxes[i] = &inbox{}
		if _, err := n.Subscribe(topic, boxes[i].handler); err != nil {
			t.Fatal(err)
		}
	}
	for i, n := range nodes {
		others := append(append([]*Transport(nil), nodes[:i]...), nodes[i+1:]...)
		eventually(t, 10*time.Second, fmt.Sprintf("node %d connected to all (peer exchange)", i), func() bool { return connectedTo(n, others...) })
		eventually(t, 10*time.Second, fmt.Sprintf("node %d sees 3 subscribers", i), func() bool { return topicPeers(n, topic) == 3 })
	}
	ctx := context.Background()
	for i, n := range nodes {
		if err := n.Publish(ctx, topic, []byte(fmt.Sprintf("tx from %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	for i, b := range boxes {
		eventually(t, 10*time.Second, fmt.Sprintf("node %d got 4 messages", i), func() bool { return b.count() == 4 })
		for _, e := range b.snapshot() {
			var from int
			if _, err := fmt.Sscanf(string(e.Payload), "tx from %d", &from); err != nil {
				t.Fatalf("payload %q", e.Payload)
			}
			if e.From != nodes[from].Self() || e.Topic != topic {
				t.Fatalf("node %d: message from %d claims %s on %s", i, from, e.From.Short(), e.Topic)
			}
		}
	}
	// The non-hub nodes know each other only through peer exchange, so
	// whichever of them dialed another learned its address that way;
	// which one dials first is a race, so the count is over all of them.
	learned := uint64(0)
	for _, n := range nodes[1:] {
		s := n.Stats()
		learned += uint64(s.PXLearned)
		if s.DroppedSpoofed != 0 {
			t.Fatalf("stats %+v", s)
		}
	}
	if learned == 0 {
		t.Fatal("the nodes connected without learning any peer by peer exchange")
	}
	if err := hub.Publish(ctx, testConsensusTopic, []byte("x")); err == nil {
		t.Fatal("publishing on a direct topic accepted")
	}
}

func TestDirectSendDeliversInOrderToPeerAndSelf(t *testing.T) {
	a := startTransport(t, "a", nil, fastParams)
	b := startTransport(t, "b", a.Addrs(), fastParams)
	var boxA, boxB inbox
	if _, err := a.Subscribe(testConsensusTopic, boxA.handler); err != nil {
		t.Fatal(err)
	}
	cancel, err := b.Subscribe(testConsensusTopic, boxB.handler)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const n = 200
	for i := range n {
		if err := a.Send(ctx, b.Self(), testConsensusTopic, []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Send(ctx, a.Self(), testConsensusTopic, []byte("self")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "200 frames at b", func() bool { return boxB.count() == n })
	for i, e := range boxB.snapshot() {
		if string(e.Payload) != fmt.Sprint(i) || e.From != a.Self() {
			t.Fatalf("frame %d: %q from %s", i, e.Payload, e.From.Short())
		}
	}
	eventually(t, 5*time.Second, "self-send", func() bool { return boxA.count() == 1 })
	if e := boxA.snapshot()[0]; string(e.Payload) != "self" || e.From != a.Self() {
		t.Fatalf("self-send got %+v", e)
	}
	if err := a.Send(ctx, b.Self(), "tx/0", []byte("x")); err == nil {
		t.Fatal("send on a gossip topic accepted")
	}
	cancel()
	cancel()
	if err := a.Send(ctx, b.Self(), testConsensusTopic, []byte("after cancel")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if boxB.count() != n {
		t.Fatal("cancelled handler still called")
	}
}

func TestOversizedSendIsRejected(t *testing.T) {
	a := startTransport(t, "a", nil, `{"max_frame_bytes": 2048, "send_queue_bytes": 4096}`)
	err := a.Send(context.Background(), interfaces.DevStar("b"), testConsensusTopic, make([]byte, 4096))
	if !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("got %v, want ErrFrameTooLarge", err)
	}
	err = a.Publish(context.Background(), "tx/0", make([]byte, DefaultMaxMessageBytes))
	if !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("publish: got %v, want ErrFrameTooLarge", err)
	}
}

// attacker is a bare libp2p host with a valid ed25519 identity that does
// not follow the protocol.
func startAttacker(t *testing.T, name string) (host.Host, interfaces.StarID) {
	t.Helper()
	priv, star, err := privKeyFromStar(interfaces.DevKey(name))
	if err != nil {
		t.Fatal(err)
	}
	h, err := libp2p.New(libp2p.Identity(priv), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay(), libp2p.DisableMetrics())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h, star
}

func connectAttacker(t *testing.T, h host.Host, victim *Transport) {
	t.Helper()
	ai, err := peer.AddrInfoFromP2pAddr(ma.StringCast(victim.Addrs()[0]))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.Connect(ctx, *ai); err != nil {
		t.Fatal(err)
	}
}

// A frame whose From names another star than the stream's authenticated
// peer is dropped and counted; an honest frame on the same stream still
// arrives; an oversized frame resets the stream and is counted.
func TestDirectSpoofedFromIsDroppedAndCounted(t *testing.T) {
	b := startTransport(t, "b", nil, `{"max_frame_bytes": 4096}`)
	var box inbox
	if _, err := b.Subscribe(testConsensusTopic, box.handler); err != nil {
		t.Fatal(err)
	}
	h, evil := startAttacker(t, "mallory")
	connectAttacker(t, h, b)
	s, err := h.NewStream(context.Background(), b.PeerID(), directProtocol)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(s)
	spoof := interfaces.Envelope{From: interfaces.DevStar("victim"), Topic: testConsensusTopic, Payload: []byte("forged vote")}
	honest := interfaces.Envelope{From: evil, Topic: testConsensusTopic, Payload: []byte("own vote")}
	gossipOnDirect := interfaces.Envelope{From: evil, Topic: "tx/0", Payload: []byte("sneaky tx")}
	for _, e := range []interfaces.Envelope{spoof, gossipOnDirect, honest} {
		if err := WriteFrame(w, e.Encode()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Write([]byte("\x00garbage")); err != nil { // zero-length frame: bad framing
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "honest frame delivered", func() bool { return box.count() == 1 })
	eventually(t, 5*time.Second, "counters", func() bool {
		st := b.Stats()
		return st.DroppedSpoofed == 1 && st.DroppedMalformed == 2
	})
	if got := box.snapshot()[0]; got.From != evil || string(got.Payload) != "own vote" {
		t.Fatalf("delivered %+v", got)
	}

	// Oversized: a header declaring more than max_frame_bytes.
	s2, err := h.NewStream(context.Background(), b.PeerID(), directProtocol)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = s2.Write(AppendFrame(nil, make([]byte, 5000)))
	eventually(t, 5*time.Second, "oversize counted", func() bool { return b.Stats().DroppedOversize == 1 })
	_ = s2.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := s2.Read(make([]byte, 1)); err == nil {
		t.Fatal("stream with an oversized frame was not closed")
	}
	if box.count() != 1 {
		t.Fatal("oversized frame delivered")
	}
}

// A gossip message signed by the attacker but claiming another star as
// From is rejected by the validator, counted, and not delivered.
func TestGossipSpoofedFromIsDroppedAndCounted(t *testing.T) {
	b := startTransport(t, "b", nil, fastParams)
	topic := interfaces.TxTopic(0)
	var box inbox
	if _, err := b.Subscribe(topic, box.handler); err != nil {
		t.Fatal(err)
	}
	h, evil := startAttacker(t, "mallory")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ps, err := pubsub.NewGossipSub(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	tp, err := ps.Join(topic)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := tp.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Cancel()
	connectAttacker(t, h, b)
	eventually(t, 10*time.Second, "attacker sees b on the topic", func() bool { return len(tp.ListPeers()) == 1 })
	eventually(t, 10*time.Second, "b sees the attacker on the topic", func() bool { return topicPeers(b, topic) == 1 })
	spoof := interfaces.Envelope{From: interfaces.DevStar("victim"), Topic: topic, Payload: []byte("forged")}
	wrongTopic := interfaces.Envelope{From: evil, Topic: "tx/1", Payload: []byte("misrouted")}
	honest := interfaces.Envelope{From: evil, Topic: topic, Payload: []byte("honest")}
	// Gossipsub drops publishes made before the stream to a new peer is
	// up; probe until one arrives.
	eventually(t, 10*time.Second, "a probe from the attacker arrives", func() bool {
		probe := interfaces.Envelope{From: evil, Topic: topic, Payload: []byte("probe")}
		if err := tp.Publish(ctx, probe.Encode()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		return box.count() > 0
	})
	for _, e := range []interfaces.Envelope{spoof, wrongTopic, honest} {
		if err := tp.Publish(ctx, e.Encode()); err != nil {
			t.Fatal(err)
		}
	}
	nonProbe := func() []interfaces.Envelope {
		var out []interfaces.Envelope
		for _, e := range box.snapshot() {
			if string(e.Payload) != "probe" {
				out = append(out, e)
			}
		}
		return out
	}
	eventually(t, 10*time.Second, "honest message delivered", func() bool { return len(nonProbe()) > 0 })
	eventually(t, 5*time.Second, "counters", func() bool {
		st := b.Stats()
		return st.DroppedSpoofed == 1 && st.DroppedMalformed == 1
	})
	time.Sleep(100 * time.Millisecond)
	got := nonProbe()
	if len(got) != 1 {
		t.Fatalf("%d messages delivered besides probes, want 1", len(got))
	}
	if got := got[0]; got.From != evil || string(got.Payload) != "honest" {
		t.Fatalf("delivered %+v", got)
	}
}

// Cutting a link closes it and keeps it closed; direct frames sent
// meanwhile wait in the queue and arrive after the partition heals; gossip
// flows again after the heal.
func TestPartitionSwitchCutsAndHeals(t *testing.T) {
	a := startTransport(t, "a", nil, fastParams)
	b := startTransport(t, "b", a.Addrs(), fastParams)
	c := startTransport(t, "c", a.Addrs(), fastParams)
	all := []*Transport{a, b, c}
	var boxC inbox
	if _, err := c.Subscribe(testConsensusTopic, boxC.handler); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "full mesh", func() bool {
		return connectedTo(a, b, c) && connectedTo(b, a, c) && connectedTo(c, a, b)
	})
	// Partition {a} | {c}, both sides.
	if err := a.SetPartitioned([]interfaces.StarID{c.Self()}, true); err != nil {
		t.Fatal(err)
	}
	if err := c.SetPartitioned([]interfaces.StarID{a.Self()}, true); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "a and c disconnected", func() bool { return !connectedTo(a, c) && !connectedTo(c, a) })
	ctx := context.Background()
	if err := a.Send(ctx, c.Self(), testConsensusTopic, []byte("during partition")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // several reconnect attempts' worth
	if connectedTo(a, c) || connectedTo(c, a) || boxC.count() != 0 {
		t.Fatal("partition leaked: reconnected or delivered")
	}
	if !connectedTo(b, a, c) {
		t.Fatal("b lost its links")
	}
	if err := a.SetPartitioned([]interfaces.StarID{c.Self()}, false); err != nil {
		t.Fatal(err)
	}
	if err := c.SetPartitioned([]interfaces.StarID{a.Self()}, false); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "a and c reconnected", func() bool { return connectedTo(a, c) && connectedTo(c, a) })
	eventually(t, 5*time.Second, "queued frame delivered after heal", func() bool { return boxC.count() == 1 })
	if e := boxC.snapshot()[0]; e.From != a.Self() || string(e.Payload) != "during partition" {
		t.Fatalf("got %+v", e)
	}
	for _, n := range all {
		if n.Stats().DroppedSpoofed != 0 {
			t.Fatal("spurious spoof count")
		}
	}
}

// A full per-peer queue blocks Send until the context ends, with an error
// naming the cause; the queued frames are delivered in order once the peer
// is reachable.
func TestSendBackpressureOnFullQueue(t *testing.T) {
	params := `{"send_queue": 4, "reconnect_min_ms": 20, "reconnect_max_ms": 200}`
	a := startTransport(t, "a", nil, params)
	b := startTransport(t, "b", a.Addrs(), params)
	var box inbox
	if _, err := b.Subscribe(testConsensusTopic, box.handler); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "connected", func() bool { return connectedTo(a, b) })
	if err := a.SetPartitioned([]interfaces.StarID{b.Self()}, true); err != nil {
		t.Fatal(err)
	}
	accepted := 0
	var sendErr error
	for i := 0; i < 20; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		start := time.Now()
		err := a.Send(ctx, b.Self(), testConsensusTopic, []byte(fmt.Sprint(i)))
		cancel()
		if err != nil {
			if time.Since(start) < 40*time.Millisecond {
				t.Fatalf("Send failed after %v without waiting for room", time.Since(start))
			}
			sendErr = err
			break
		}
		accepted++
	}
	if !errors.Is(sendErr, ErrQueueFull) || !errors.Is(sendErr, context.DeadlineExceeded) {
		t.Fatalf("got %v, want ErrQueueFull and DeadlineExceeded", sendErr)
	}
	// At most the queue plus the one batch the sender holds while it retries.
	if accepted < 4 || accepted > 8 {
		t.Fatalf("%d sends accepted with send_queue=4", accepted)
	}
	if err := a.SetPartitioned([]interfaces.StarID{b.Self()}, false); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "queued frames delivered", func() bool { return box.count() == accepted })
	for i, e := range box.snapshot() {
		if string(e.Payload) != fmt.Sprint(i) {
			t.Fatalf("frame %d is %q", i, e.Payload)
		}
	}
}

// Garbage from a plain TCP client is refused without harming the node.
func TestRawTCPGarbageIsRejectedWithoutCrash(t *testing.T) {
	a := startTransport(t, "a", nil, fastParams)
	b := startTransport(t, "b", a.Addrs(), fastParams)
	var box inbox
	if _, err := a.Subscribe(testConsensusTopic, box.handler); err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(strings.Split(a.Addrs()[0], "/p2p/")[0], "/ip4/")
	hostPort := strings.Replace(addr, "/tcp/", ":", 1)
	rng := rand.New(rand.NewPCG(1, 2))
	payloads := [][]byte{
		randomBytes(rng, 8192),
		append([]byte("\x13/multistream/1.0.0\n"), randomBytes(rng, 4096)...),
		// Past protocol negotiation into the Noise handshake: enough bytes
		// to fill any handshake message length the garbage declares.
		append([]byte("\x13/multistream/1.0.0\n\x07/noise\n"), randomBytes(rng, 70000)...),
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
	}
	for i, p := range payloads {
		conn, err := net.Dial("tcp", hostPort)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = conn.Write(p)
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 4096)
		var rerr error
		for rerr == nil {
			_, rerr = conn.Read(buf)
		}
		_ = conn.Close()
		var ne net.Error
		if errors.As(rerr, &ne) && ne.Timeout() {
			t.Fatalf("garbage %d: connection still open after 10 s", i)
		}
	}
	if err := b.Send(context.Background(), a.Self(), testConsensusTopic, []byte("still alive")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "node still serves peers", func() bool { return box.count() == 1 })
}

func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// A peer that restarts (same key, same address) is redialled and direct
// traffic resumes in both directions.
func TestReconnectAfterPeerRestart(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	listen := fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", port)
	bAddr := fmt.Sprintf("%s/p2p/%s", listen, PeerIDForKey(interfaces.DevStar("b").PublicKey()))

	a := startTransport(t, "a", []string{bAddr}, fastParams)
	var boxA inbox
	if _, err := a.Subscribe(testConsensusTopic, boxA.handler); err != nil {
		t.Fatal(err)
	}
	b1 := startTransportOn(t, "b", listen, nil, fastParams)
	eventually(t, 5*time.Second, "a dialled b", func() bool { return connectedTo(a, b1) })
	ctx := context.Background()
	if err := b1.Send(ctx, a.Self(), testConsensusTopic, []byte("before")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "first frame", func() bool { return boxA.count() == 1 })
	if err := a.Send(ctx, b1.Self(), testConsensusTopic, []byte("to old b")); err != nil {
		t.Fatal(err)
	}
	if err := b1.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "a notices b is gone", func() bool { return !connectedTo(a, b1) })

	b2 := startTransportOn(t, "b", listen, nil, fastParams)
	var boxB inbox
	if _, err := b2.Subscribe(testConsensusTopic, boxB.handler); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "a redialled the restarted b", func() bool { return connectedTo(a, b2) })
	if err := a.Send(ctx, b2.Self(), testConsensusTopic, []byte("after restart")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "frame to restarted b", func() bool {
		for _, e := range boxB.snapshot() {
			if string(e.Payload) == "after restart" {
				return true
			}
		}
		return false
	})
	if err := b2.Send(ctx, a.Self(), testConsensusTopic, []byte("back")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "frame from restarted b", func() bool { return boxA.count() == 2 })
}

func TestPeerScorerFeedsGossipsub(t *testing.T) {
	a := startTransport(t, "a", nil, fastParams)
	id, _ := PeerIDFromStar(interfaces.DevStar("b"))
	if got := a.appScore(id); got != 0 {
		t.Fatalf("default score %v", got)
	}
	a.SetPeerScorer(func(s interfaces.StarID) float64 {
		switch s {
		case interfaces.DevStar("b"):
			return 42
		case interfaces.DevStar("c"):
			return math.NaN()
		}
		return -1e9
	})
	idC, _ := PeerIDFromStar(interfaces.DevStar("c"))
	idD, _ := PeerIDFromStar(interfaces.DevStar("d"))
	if a.appScore(id) != 42 || a.appScore(idC) != 0 || a.appScore(idD) != -1000 {
		t.Fatalf("scores %v %v %v", a.appScore(id), a.appScore(idC), a.appScore(idD))
	}
	a.SetPeerScorer(nil)
	if a.appScore(id) != 0 {
		t.Fatal("nil scorer not neutral")
	}
}

// Close stops every goroutine the transports started, including blocked
// Sends, and is idempotent.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	run := func() {
		a, err := New(interfaces.TransportConfig{Key: interfaces.DevKey("a"), Listen: []string{"/ip4/127.0.0.1/tcp/0"}, Params: []byte(`{"send_queue": 1}`)})
		if err != nil {
			t.Fatal(err)
		}
		b, err := New(interfaces.TransportConfig{Key: interfaces.DevKey("b"), Listen: []string{"/ip4/127.0.0.1/tcp/0"}, Bootstrap: a.Addrs()})
		if err != nil {
			t.Fatal(err)
		}
		var box inbox
		_, _ = a.Subscribe(testConsensusTopic, box.handler)
		_, _ = a.Subscribe("tx/0", box.handler)
		_, _ = b.Subscribe("tx/0", box.handler)
		eventually(t, 5*time.Second, "connected", func() bool { return connectedTo(b, a) })
		_ = b.Send(context.Background(), a.Self(), testConsensusTopic, []byte("x"))
		_ = b.Publish(context.Background(), "tx/0", []byte("y"))
		eventually(t, 5*time.Second, "delivered", func() bool { return box.count() >= 2 })
		// A Send blocked on a full queue to an unreachable star.
		blocked := make(chan error, 1)
		go func() {
			for {
				if err := a.Send(context.Background(), interfaces.DevStar("nobody"), testConsensusTopic, []byte("z")); err != nil {
					blocked <- err
					return
				}
			}
		}()
		time.Sleep(50 * time.Millisecond)
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-blocked; !errors.Is(err, ErrClosed) {
			t.Fatalf("blocked Send returned %v, want ErrClosed", err)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		if err := a.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if err := a.Send(context.Background(), b.Self(), testConsensusTopic, nil); !errors.Is(err, ErrClosed) {
			t.Fatalf("Send after Close: %v", err)
		}
	}
	run() // warm up libp2p's process-wide goroutines
	time.Sleep(200 * time.Millisecond)
	before := runtime.NumGoroutine()
	run()
	run()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before+2 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("%d goroutines before, %d after two open/close rounds:\n%s", before, runtime.NumGoroutine(), buf[:n])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Only ed25519 identities can be stars; any other key is refused at the
// connection gate.
func TestNonEd25519PeersAreRefused(t *testing.T) {
	b := startTransport(t, "b", nil, fastParams)
	sk, _, err := crypto.GenerateSecp256k1Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := libp2p.New(libp2p.Identity(sk), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay(), libp2p.DisableMetrics())
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ai, err := peer.AddrInfoFromP2pAddr(ma.StringCast(b.Addrs()[0]))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = h.Connect(ctx, *ai) // may report success before b drops the connection
	eventually(t, 5*time.Second, "refusal counted", func() bool { return b.Stats().RejectedConns >= 1 })
	eventually(t, 5*time.Second, "no connection left", func() bool { return len(b.host.Network().ConnsToPeer(h.ID())) == 0 })
	if len(b.Peers()) != 0 {
		t.Fatalf("peers %v", b.Peers())
	}
}

// testConsensusTopic is a direct-stream topic as a group uses one.
var testConsensusTopic = interfaces.ConsensusTopic(interfaces.InstanceID{1})
