package gossip

import (
	"context"
	"fmt"
	"strings"

	"github.com/constellation-chain/constellation/interfaces"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
)

// subscriptionBuffer is how many validated gossip messages may wait for a
// topic's handlers before pubsub starts dropping them for this node.
const subscriptionBuffer = 1024

// Publish gossips payload on a gossip topic (any topic not starting with
// "direct/"), e.g. interfaces.TxTopic(c), interfaces.TopicCheckpoints or
// interfaces.TopicBlackHoles. The message is signed with the star's key
// (gossipsub StrictSign) and carries the canonical envelope; local handlers
// of the topic receive it too, as every subscriber does. Publishing does
// not require a local subscription.
//
// Gossip is best effort: a message published in the first moments after a
// peer connects (before gossipsub has its stream to that peer) does not
// reach that peer, and a subscriber whose handler falls far behind loses
// messages (Stats.DroppedSlowSubscriber). Protocols that need every message
// re-gossip or fetch what they miss (the runtime's catch-up).
func (t *Transport) Publish(ctx context.Context, topic string, payload []byte) error {
	if err := checkTopic(topic); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	if strings.HasPrefix(topic, DirectPrefix) {
		return fmt.Errorf("publish on %q: direct topics are sent point to point with Send", topic)
	}
	env := interfaces.Envelope{From: t.self, Topic: topic, Payload: payload}
	data := env.Encode()
	if len(data) > t.cfg.MaxMessageBytes {
		return fmt.Errorf("publish on %q: message of %d bytes over max_message_bytes %d: %w", topic, len(data), t.cfg.MaxMessageBytes, ErrFrameTooLarge)
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return fmt.Errorf("publish on %q: %w", topic, ErrClosed)
	}
	gt, err := t.joinLocked(topic)
	t.mu.Unlock()
	if err != nil {
		return fmt.Errorf("publish on %q: %w", topic, err)
	}
	if err := gt.topic.Publish(ctx, data); err != nil {
		return fmt.Errorf("publish on %q: %w", topic, err)
	}
	t.stats.published.Add(1)
	return nil
}

// joinLocked joins a gossip topic once, with the envelope validator
// registered first so no message is delivered unchecked. Caller holds t.mu.
func (t *Transport) joinLocked(topic string) (*gossipTopic, error) {
	if gt := t.topics[topic]; gt != nil {
		return gt, nil
	}
	if err := t.ps.RegisterTopicValidator(topic, pubsub.ValidatorEx(t.validate), pubsub.WithValidatorInline(true)); err != nil {
		return nil, fmt.Errorf("register validator: %w", err)
	}
	tp, err := t.ps.Join(topic)
	if err != nil {
		_ = t.ps.UnregisterTopicValidator(topic)
		return nil, fmt.Errorf("join gossipsub topic: %w", err)
	}
	gt := &gossipTopic{topic: tp}
	t.topics[topic] = gt
	return gt, nil
}

// ensureSubscriptionLocked joins the topic and, if no subscription exists,
// subscribes and starts the goroutine that feeds the topic's handlers.
// Caller holds t.mu.
func (t *Transport) ensureSubscriptionLocked(topic string) error {
	gt, err := t.joinLocked(topic)
	if err != nil {
		return err
	}
	if gt.sub != nil {
		return nil
	}
	sub, err := gt.topic.Subscribe(pubsub.WithBufferSize(subscriptionBuffer))
	if err != nil {
		return fmt.Errorf("subscribe to gossipsub topic: %w", err)
	}
	gt.sub = sub
	t.wg.Add(1)
	go t.readTopic(sub)
	return nil
}

// readTopic delivers one subscription's messages until it is cancelled.
func (t *Transport) readTopic(sub *pubsub.Subscription) {
	defer t.wg.Done()
	for {
		msg, err := sub.Next(t.ctx)
		if err != nil {
			return // cancelled or closing
		}
		env, ok := msg.ValidatorData.(*interfaces.Envelope)
		if !ok {
			continue // every delivered message passed validate, which sets it
		}
		t.stats.gossipRecv.Add(1)
		t.dispatch(env)
	}
}

// validate is the topic validator: the envelope must decode, name the
// pubsub topic it arrived on, and claim as From the star that signed the
// message (pubsub has verified the signature under StrictSign before
// validators run). A spoofed From is rejected, which also stops the message
// from propagating and lowers the forwarder's gossipsub score.
func (t *Transport) validate(_ context.Context, _ peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
	env, err := interfaces.DecodeEnvelope(msg.GetData())
	if err != nil || env.Topic != msg.GetTopic() {
		t.stats.malformed.Add(1)
		return pubsub.ValidationReject
	}
	author, err := StarFromPeerID(msg.GetFrom())
	if err != nil {
		t.stats.spoofed.Add(1)
		return pubsub.ValidationReject
	}
	if env.From != author {
		t.stats.spoofed.Add(1)
		return pubsub.ValidationReject
	}
	msg.ValidatorData = env
	return pubsub.ValidationAccept
}
