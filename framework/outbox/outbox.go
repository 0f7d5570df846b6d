// Package outbox holds a group's per-peer send queues. The consensus loop
// hands every outgoing message to Send and goes on at once: one goroutine
// per peer writes to the transport, so a slow or dead peer never stalls
// the loop. Past a bound, new messages to a peer that does not keep up are
// dropped and counted; the protocol's retransmission and block sync bring
// that peer back.
//
// Data flow: group (engine output, signed) → Outbox.Send → per-peer queue →
// Transport.Send.
package outbox

import (
	"context"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"

	"github.com/constellation-chain/constellation/interfaces"
)

// PeerQueue bounds the messages that wait for one peer.
const PeerQueue = 8192

type message struct {
	topic   string
	payload []byte
}

// Outbox is the send side of one group. Send must be called from one
// goroutine (the group's loop); Dropped may be read from any.
type Outbox struct {
	tr      interfaces.Transport
	log     hclog.Logger
	queues  map[interfaces.StarID]chan message
	dropped atomic.Uint64
	onDrop  func() // set before the first Send; nil: none
}

// OnDrop makes the outbox call fn for every message it drops (the node's
// metrics). Call it before the first Send; fn runs on Send's goroutine and
// must be quick.
func (o *Outbox) OnDrop(fn func()) { o.onDrop = fn }

// New returns an outbox over tr.
func New(tr interfaces.Transport, log hclog.Logger) *Outbox {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Outbox{tr: tr, log: log, queues: map[interfaces.StarID]chan message{}}
}

// Send queues payload for peer to on topic, starting the peer's writer on
// first use; writers stop when ctx ends.
func (o *Outbox) Send(ctx context.Context, to interfaces.StarID, topic string, payload []byte) {
	q, ok := o.queues[to]
	if !ok {
		q = make(chan message, PeerQueue)
		o.queues[to] = q
		go o.write(ctx, to, q)
	}
	select {
	case q <- message{topic: topic, payload: payload}:
	default:
		if o.onDrop != nil {
			o.onDrop()
		}
		if d := o.dropped.Add(1); d&(d-1) == 0 { // log at 1, 2, 4, 8, … drops
			o.log.Warn("peer is not keeping up; dropping messages to it", "peer", to.Short(), "dropped", d)
		}
	}
}

func (o *Outbox) write(ctx context.Context, to interfaces.StarID, q chan message) {
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-q:
			if err := o.tr.Send(ctx, to, m.topic, m.payload); err != nil && ctx.Err() == nil {
				o.log.Debug("send", "to", to.Short(), "topic", m.topic, "error", err)
			}
		}
	}
}

// Dropped returns how many messages were dropped for slow peers.
func (o *Outbox) Dropped() uint64 { return o.dropped.Load() }
