// Package memnet is an in-memory Transport: every star in one process joins
// a shared Hub, and envelopes are delivered through it with the sender
// authenticated by construction. It serves the in-process testnet, unit
// tests and examples; real networks use builtin/gossip. It is not the
// simulator (conformance/sim), which controls time and ordering itself.
package memnet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/constellation-chain/constellation/interfaces"
)

// Hub connects the transports of one process.
type Hub struct {
	mu    sync.RWMutex
	peers map[interfaces.StarID]*Transport
	cut   map[[2]interfaces.StarID]bool
}

// NewHub returns an empty hub.
func NewHub() *Hub {
	return &Hub{peers: map[interfaces.StarID]*Transport{}, cut: map[[2]interfaces.StarID]bool{}}
}

// Join attaches a new transport for self. queue bounds each subscriber's
// pending deliveries; a full queue makes Send and Publish wait (backpressure)
// until the context ends.
func (h *Hub) Join(self interfaces.StarID, queue int) (*Transport, error) {
	if queue <= 0 {
		queue = 1024
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.peers[self]; ok {
		return nil, fmt.Errorf("memnet: star %s joined twice", self.Short())
	}
	t := &Transport{hub: h, self: self, queue: queue, subs: map[string]map[int]*sub{}}
	h.peers[self] = t
	return t, nil
}

// SetCut cuts (or heals) the link between a and b in both directions.
// Messages sent across a cut link are dropped, as a partition would.
func (h *Hub) SetCut(a, b interfaces.StarID, cut bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cut[[2]interfaces.StarID{a, b}] = cut
	h.cut[[2]interfaces.StarID{b, a}] = cut
}

func (h *Hub) peer(s interfaces.StarID) *Transport {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.peers[s]
}

func (h *Hub) linked(a, b interfaces.StarID) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return !h.cut[[2]interfaces.StarID{a, b}]
}

func (h *Hub) all() []*Transport {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]*Transport, 0, len(h.peers))
	for _, t := range h.peers {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b *Transport) int {
		if a.self.Less(b.self) {
			return -1
		}
		return 1
	})
	return out
}

type sub struct {
	ch   chan interfaces.Envelope
	done chan struct{}
}

// Transport is one star's endpoint on a Hub.
type Transport struct {
	hub   *Hub
	self  interfaces.StarID
	queue int

	mu     sync.Mutex
	subs   map[string]map[int]*sub
	nextID int
	closed bool
}

var _ interfaces.Transport = (*Transport)(nil)

// ErrClosed is returned after Close.
var ErrClosed = errors.New("memnet: transport closed")

// Self returns the star this transport speaks for.
func (t *Transport) Self() interfaces.StarID { return t.self }

// Send delivers payload to one peer's subscribers of topic.
func (t *Transport) Send(ctx context.Context, to interfaces.StarID, topic string, payload []byte) error {
	p := t.hub.peer(to)
	if p == nil {
		return fmt.Errorf("memnet: no peer %s", to.Short())
	}
	if !t.hub.linked(t.self, to) {
		return nil
	}
	return p.deliver(ctx, interfaces.Envelope{From: t.self, Topic: topic, Payload: slices.Clone(payload)})
}

// Publish delivers payload to every other peer's subscribers of topic.
func (t *Transport) Publish(ctx context.Context, topic string, payload []byte) error {
	for _, p := range t.hub.all() {
		if p == t || !t.hub.linked(t.self, p.self) {
			continue
		}
		if err := p.deliver(ctx, interfaces.Envelope{From: t.self, Topic: topic, Payload: slices.Clone(payload)}); err != nil && !errors.Is(err, ErrClosed) {
			return err
		}
	}
	return nil
}

func (t *Transport) deliver(ctx context.Context, e interfaces.Envelope) error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return ErrClosed
	}
	subs := make([]*sub, 0, len(t.subs[e.Topic]))
	for _, s := range t.subs[e.Topic] {
		subs = append(subs, s)
	}
	t.mu.Unlock()
	for _, s := range subs {
		select {
		case s.ch <- e:
		case <-s.done:
		case <-ctx.Done():
			return fmt.Errorf("memnet: deliver to %s: %w", t.self.Short(), ctx.Err())
		}
	}
	return nil
}

// Subscribe calls h for each envelope on topic, from one goroutine per
// subscription, in arrival order.
func (t *Transport) Subscribe(topic string, h interfaces.Handler) (func(), error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, ErrClosed
	}
	s := &sub{ch: make(chan interfaces.Envelope, t.queue), done: make(chan struct{})}
	if t.subs[topic] == nil {
		t.subs[topic] = map[int]*sub{}
	}
	id := t.nextID
	t.nextID++
	t.subs[topic][id] = s
	go func() {
		for {
			select {
			case e := <-s.ch:
				h(e)
			case <-s.done:
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			t.mu.Lock()
			delete(t.subs[topic], id)
			t.mu.Unlock()
			close(s.done)
		})
	}, nil
}

// Peers lists the other stars on the hub this one is linked to, sorted.
func (t *Transport) Peers() []interfaces.StarID {
	var out []interfaces.StarID
	for _, p := range t.hub.all() {
		if p != t && t.hub.linked(t.self, p.self) {
			out = append(out, p.self)
		}
	}
	return out
}

// Close stops every subscription and leaves the hub.
func (t *Transport) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	var all []*sub
	for _, m := range t.subs {
		for _, s := range m {
			all = append(all, s)
		}
	}
	t.subs = nil
	t.mu.Unlock()
	for _, s := range all {
		close(s.done)
	}
	t.hub.mu.Lock()
	delete(t.hub.peers, t.self)
	t.hub.mu.Unlock()
	return nil
}
