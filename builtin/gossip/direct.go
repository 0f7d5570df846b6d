package gossip

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/constellation-chain/constellation/interfaces"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// directProtocol carries "direct/..." envelopes: a one-way stream of frames
// (ReadFrame) from the opener to the acceptor. Each peer keeps one such
// stream per direction and reuses it for every direct topic.
const directProtocol = protocol.ID("/constellation/direct/1.0.0")

// streamBuffer sizes the bufio reader and writer of a direct stream.
const streamBuffer = 64 << 10

// sendQueue is a per-peer FIFO of encoded frames bounded by count and
// bytes. push blocks while it is full; the sender goroutine drains it.
type sendQueue struct {
	mu       sync.Mutex
	items    [][]byte
	bytes    int
	maxItems int
	maxBytes int
	ready    chan struct{} // one pending wake-up for the sender
	space    chan struct{} // closed (and replaced) whenever items leave
}

func newSendQueue(maxItems, maxBytes int) *sendQueue {
	return &sendQueue{maxItems: maxItems, maxBytes: maxBytes, ready: make(chan struct{}, 1), space: make(chan struct{})}
}

// push appends f, waiting for room until ctx or stop ends. An empty queue
// always takes one frame, so a frame never waits for room it cannot get.
func (q *sendQueue) push(ctx context.Context, stop <-chan struct{}, f []byte) error {
	for {
		q.mu.Lock()
		if len(q.items) == 0 || (len(q.items) < q.maxItems && q.bytes+len(f) <= q.maxBytes) {
			q.items = append(q.items, f)
			q.bytes += len(f)
			q.mu.Unlock()
			select {
			case q.ready <- struct{}{}:
			default:
			}
			return nil
		}
		space := q.space
		q.mu.Unlock()
		select {
		case <-space:
		case <-ctx.Done():
			return ctx.Err()
		case <-stop:
			return ErrClosed
		}
	}
}

// pop removes up to max frames from the head.
func (q *sendQueue) pop(max int) [][]byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := min(max, len(q.items))
	if n == 0 {
		return nil
	}
	out := make([][]byte, n)
	copy(out, q.items)
	clear(q.items[:n])
	q.items = q.items[n:]
	for _, f := range out {
		q.bytes -= len(f)
	}
	close(q.space)
	q.space = make(chan struct{})
	return out
}

func (q *sendQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}

// outPeer is the sending side towards one peer: a queue and the goroutine
// that owns the peer's outbound direct stream.
type outPeer struct {
	id    peer.ID
	local bool // this transport itself: frames are delivered, not written
	q     *sendQueue
	users int // Sends currently pushing; guarded by Transport.mu
}

// Send queues payload for one peer on a direct stream under a "direct/..."
// topic and returns once it is queued (not delivered). It blocks while the
// peer's queue is full; if ctx ends first the error wraps both ErrQueueFull
// and ctx.Err(). Frames to one peer are written in Send order on one
// long-lived stream. Delivery is best effort across connection failures:
// a batch whose write fails is rewritten on a new stream after a reconnect
// (so a receiver may see a frame twice), while frames the connection had
// already accepted when it broke may be lost. Consensus protocols on top
// must tolerate loss and duplicates across reconnects; frames still queued
// when Close is called are discarded. A peer that is
// down or partitioned keeps its frames queued (its sender retries with
// backoff until it is reachable), so Sends to it block once the queue is
// full: callers use a context deadline. Sending to Self delivers to local
// handlers through the same queue.
func (t *Transport) Send(ctx context.Context, to interfaces.StarID, topic string, payload []byte) error {
	if err := checkTopic(topic); err != nil {
		return fmt.Errorf("send to %s: %w", to.Short(), err)
	}
	if !strings.HasPrefix(topic, DirectPrefix) {
		return fmt.Errorf("send to %s: topic %q is not a direct topic (must start with %q; use Publish for gossip)", to.Short(), topic, DirectPrefix)
	}
	if len(payload) > interfaces.MaxEnvelopePayload {
		return fmt.Errorf("send to %s on %s: payload of %d bytes over the %d-byte envelope limit: %w", to.Short(), topic, len(payload), interfaces.MaxEnvelopePayload, ErrFrameTooLarge)
	}
	env := interfaces.Envelope{From: t.self, Topic: topic, Payload: payload}
	frame := env.Encode()
	if len(frame) > t.cfg.MaxFrameBytes {
		return fmt.Errorf("send to %s on %s: frame of %d bytes over max_frame_bytes %d: %w", to.Short(), topic, len(frame), t.cfg.MaxFrameBytes, ErrFrameTooLarge)
	}
	id, err := PeerIDFromStar(to)
	if err != nil {
		return fmt.Errorf("send to %s: %w", to.Short(), err)
	}

	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return fmt.Errorf("send to %s: %w", to.Short(), ErrClosed)
	}
	p := t.out[id]
	if p == nil {
		if len(t.out) >= 4*t.cfg.MaxPeers+16 {
			t.mu.Unlock()
			return fmt.Errorf("send to %s: %d peers already have a send queue (limit from max_peers)", to.Short(), len(t.out))
		}
		p = &outPeer{id: id, local: id == t.selfID, q: newSendQueue(t.cfg.SendQueue, t.cfg.SendQueueBytes)}
		t.out[id] = p
		t.wg.Add(1)
		go t.runSender(p)
	}
	p.users++
	t.mu.Unlock()

	err = p.q.push(ctx, t.ctx.Done(), frame)

	t.mu.Lock()
	p.users--
	t.mu.Unlock()
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrClosed):
		return fmt.Errorf("send to %s on %s: %w", to.Short(), topic, ErrClosed)
	default:
		return fmt.Errorf("send to %s on %s: %w (%d frames queued) until the context ended: %w", to.Short(), topic, ErrQueueFull, p.q.len(), err)
	}
}

// runSender owns p's outbound stream: it drains the queue in batches,
// writes and flushes them, and on failure reconnects with backoff and
// rewrites the failed batch. It exits on Close or after senderIdle with
// nothing to send and no Send in progress.
func (t *Transport) runSender(p *outPeer) {
	defer t.wg.Done()
	var s network.Stream
	var bw *bufio.Writer
	defer func() {
		if s != nil {
			_ = s.Reset()
		}
	}()
	idle := time.NewTimer(senderIdle)
	defer idle.Stop()
	failures := 0
	for {
		batch := p.q.pop(maxBatchFrames)
		if batch == nil {
			if !idle.Stop() {
				select {
				case <-idle.C:
				default:
				}
			}
			idle.Reset(senderIdle)
			select {
			case <-t.ctx.Done():
				return
			case <-p.q.ready:
				continue
			case <-idle.C:
				if t.reapSender(p) {
					return
				}
				continue
			}
		}
		if p.local {
			t.deliverLocal(batch)
			continue
		}
		for {
			if t.ctx.Err() != nil {
				return
			}
			if s == nil {
				var err error
				s, err = t.openDirect(p.id)
				if err != nil {
					failures++
					if !t.sleepBackoff(failures) {
						return
					}
					continue
				}
				bw = bufio.NewWriterSize(s, streamBuffer)
			}
			if err := writeBatch(bw, batch); err != nil {
				_ = s.Reset()
				s = nil
				failures++
				t.stats.directRetries.Add(1)
				if !t.sleepBackoff(failures) {
					return
				}
				continue
			}
			failures = 0
			t.stats.directSent.Add(uint64(len(batch)))
			break
		}
	}
}

func writeBatch(bw *bufio.Writer, batch [][]byte) error {
	for _, f := range batch {
		if err := WriteFrame(bw, f); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("flush direct stream: %w", err)
	}
	return nil
}

// sleepBackoff waits the reconnect delay for the given failure count, or
// less if a peer connects or a partition heals meanwhile. It returns false
// when the transport is closing.
func (t *Transport) sleepBackoff(failures int) bool {
	up := t.upSignal()
	timer := time.NewTimer(t.backoff(failures))
	defer timer.Stop()
	select {
	case <-t.ctx.Done():
		return false
	case <-timer.C:
	case <-up:
	}
	return true
}

func (t *Transport) openDirect(id peer.ID) (network.Stream, error) {
	if t.gate.isBlocked(id) {
		return nil, fmt.Errorf("open direct stream to %s: peer is partitioned", id)
	}
	if t.host.Network().Connectedness(id) != network.Connected {
		t.clearSwarmBackoff(id)
	}
	ctx, cancel := context.WithTimeout(t.ctx, ms(t.cfg.DialTimeoutMS))
	defer cancel()
	s, err := t.host.NewStream(ctx, id, directProtocol)
	if err != nil {
		return nil, fmt.Errorf("open direct stream to %s: %w", id, err)
	}
	return s, nil
}

// reapSender removes an idle sender unless a Send is using it or frames
// arrived meanwhile.
func (t *Transport) reapSender(p *outPeer) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p.users > 0 || p.q.len() > 0 {
		return false
	}
	if t.out[p.id] == p {
		delete(t.out, p.id)
	}
	return true
}

// deliverLocal hands self-sent frames to local handlers.
func (t *Transport) deliverLocal(batch [][]byte) {
	for _, f := range batch {
		env, err := interfaces.DecodeEnvelope(f)
		if err != nil {
			t.stats.malformed.Add(1) // cannot happen: we encoded it
			continue
		}
		t.stats.directSent.Add(1)
		t.stats.directRecv.Add(1)
		t.dispatch(env)
	}
}

// handleDirect reads frames from one inbound direct stream. Every envelope
// must claim the stream's authenticated remote peer as From and a direct
// topic; others are dropped and counted. A bad frame header or an oversized
// frame resets the stream, since framing cannot recover from it.
func (t *Transport) handleDirect(s network.Stream) {
	remote := s.Conn().RemotePeer()
	star, err := StarFromPeerID(remote)
	if err != nil || t.gate.isBlocked(remote) {
		_ = s.Reset()
		return
	}
	if !t.enter() {
		_ = s.Reset()
		return
	}
	defer t.wg.Done()
	t.mu.Lock()
	if t.inbound[remote] >= maxInboundPerPeer {
		t.mu.Unlock()
		_ = s.Reset()
		return
	}
	t.inbound[remote]++
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		if t.inbound[remote]--; t.inbound[remote] <= 0 {
			delete(t.inbound, remote)
		}
		t.mu.Unlock()
	}()
	_ = s.CloseWrite() // the acceptor never writes

	br := bufio.NewReaderSize(s, streamBuffer)
	for {
		frame, err := ReadFrame(br, t.cfg.MaxFrameBytes)
		if err != nil {
			switch {
			case errors.Is(err, io.EOF):
				_ = s.Close()
				return
			case errors.Is(err, ErrFrameTooLarge):
				t.stats.oversize.Add(1)
			case errors.Is(err, ErrBadFrame):
				t.stats.malformed.Add(1)
			}
			_ = s.Reset()
			return
		}
		env, err := interfaces.DecodeEnvelope(frame)
		if err != nil || !strings.HasPrefix(env.Topic, DirectPrefix) {
			t.stats.malformed.Add(1)
			continue
		}
		if env.From != star {
			t.stats.spoofed.Add(1)
			continue
		}
		t.stats.directRecv.Add(1)
		t.dispatch(env)
	}
}
