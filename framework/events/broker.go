// Package events fans out what a group commits to its subscribers (the
// CLI's block log, the API) without ever dropping an event silently: a
// subscriber that falls behind is not waited for, but it is told exactly
// what it missed — a gap marker naming the first and last sequence numbers
// it did not get — and can read those from the store and go on.
//
// Data flow: group commit → Broker.Publish → each subscriber's bounded
// channel → the subscriber (resuming from the store after a gap).
package events

import "sync"

// Gap names the events a subscriber missed, From through To inclusive.
type Gap struct{ From, To uint64 }

// Event is one delivery: a value with its sequence number (a block's
// height), or, when Gap is set, the marker of events missed before the
// next value.
type Event[T any] struct {
	Seq   uint64
	Value T
	Gap   *Gap
}

// Broker delivers values to subscribers. Publish and Subscribe may be
// called from any goroutine; Publish never blocks.
type Broker[T any] struct {
	mu   sync.Mutex
	subs map[int]*sub[T]
	next int
}

type sub[T any] struct {
	ch      chan Event[T]
	missing *Gap // events not delivered yet, announced with the next one that fits
}

// New returns an empty broker.
func New[T any]() *Broker[T] { return &Broker[T]{subs: map[int]*sub[T]{}} }

// Subscribe returns a channel that holds up to buffer undelivered events
// (at least 2, room for a gap marker and the event after it) and a cancel
// function, which closes the channel.
func (b *Broker[T]) Subscribe(buffer int) (<-chan Event[T], func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := &sub[T]{ch: make(chan Event[T], max(buffer, 2))}
	id := b.next
	b.next++
	b.subs[id] = s
	return s.ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, ok := b.subs[id]; ok {
			delete(b.subs, id)
			close(s.ch)
		}
	}
}

// Publish delivers v with sequence number seq to every subscriber. A
// subscriber with no room gets nothing now; the next time it has room for
// two events it first gets the gap marker of everything it missed, then
// the event. Sequence numbers must increase.
func (b *Broker[T]) Publish(seq uint64, v T) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.subs {
		if s.missing != nil {
			// The marker and the event need two free places; until then
			// the gap only grows, so the marker stays exact.
			if cap(s.ch)-len(s.ch) < 2 {
				s.missing.To = seq
				continue
			}
			s.ch <- Event[T]{Gap: s.missing}
			s.missing = nil
		}
		select {
		case s.ch <- Event[T]{Seq: seq, Value: v}:
		default:
			s.missing = &Gap{From: seq, To: seq}
		}
	}
}

// Close closes every subscriber's channel.
func (b *Broker[T]) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for id, s := range b.subs {
		delete(b.subs, id)
		close(s.ch)
	}
}
