package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/constellation-chain/constellation/framework/events"
	"github.com/constellation-chain/constellation/interfaces"
)

// The event stream, GET /v1/events: Server-Sent Events of the blocks,
// black holes and faults the node's chains commit.
//
// Every event is derived from a committed block, so every event can be
// read again from the store: the stream never has to drop one. Each event
// has a position (chain, height, index): index 0 is the block (or black
// hole) itself, 1..n the faults it carries, in order. An event's SSE id is
// the cursor of every chain's last position, "cluster/0:12.0,galaxy:5.2";
// a client that reconnects with it as Last-Event-ID gets exactly the
// events after it. Recent blocks come from the hub's memory (EventMemory
// per chain); a client further behind is served from the store, and so is
// a client that falls behind while connected (the broker's gap marker
// says which blocks it missed).
//
// Data flow: group commit → group broker → hub (one subscription per
// chain; its ring of recent blocks) → hub broker → one producer per chain
// per client → the client's writer.

// EventSource is one chain the event stream follows.
type EventSource struct {
	// Name is the chain's name in cursors ("cluster/0", "galaxy"): no
	// ',', ':' or white space.
	Name string
	// Galaxy says its blocks are black holes.
	Galaxy bool
	// Head returns the committed height.
	Head func() uint64
	// Subscribe delivers each committed block, or a gap marker naming the
	// heights a slow subscriber missed (events.Broker's contract).
	Subscribe func(buffer int) (<-chan events.Event[*interfaces.Block], func())
	// Blocks calls fn with each committed block from through to.
	Blocks func(from, to uint64, fn func(*interfaces.Block) error) error
}

// Streamer is implemented by a Backend whose chains the event stream
// follows.
type Streamer interface {
	// EventSources is called once per Handler.
	EventSources() []EventSource
}

// StreamEvent is the data of one event: a block of a cluster chain
// (type "block"), a black hole (type "blackhole"; Certified is false in
// stream events, the certificate comes after the block) or a fault a
// committed block carries (type "fault").
type StreamEvent struct {
	Type      string        `json:"type"`
	Chain     string        `json:"chain"`
	Height    uint64        `json:"height"`
	Block     *BlockSummary `json:"block,omitempty"`
	BlackHole *BlackHole    `json:"blackhole,omitempty"`
	Fault     *FaultEvent   `json:"fault,omitempty"`
}

// FaultEvent is a provable fault in a committed block.
type FaultEvent struct {
	Star  string `json:"star"`
	Kind  string `json:"kind"`
	Epoch uint64 `json:"epoch"`
	// Index is the fault's place among the block's faults, from 1.
	Index int `json:"index"`
}

// Position is a place in one chain's event sequence: the block at Height,
// and Index 0 for the block's own event, i for its i-th fault.
type Position struct {
	Height uint64
	Index  int
}

// Bounds of a Last-Event-ID.
const (
	maxCursorLen    = 1024
	maxCursorChains = 16
	// untilEnd as an index means every event of the block was delivered.
	untilEnd = 1 << 30
)

// ParseEventID parses an event id: comma-separated "chain:height.index"
// entries, each chain at most once.
func ParseEventID(s string) (map[string]Position, error) {
	out := map[string]Position{}
	if len(s) > maxCursorLen {
		return nil, fmt.Errorf("event id is %d bytes; at most %d", len(s), maxCursorLen)
	}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) > maxCursorChains {
		return nil, fmt.Errorf("event id names %d chains; at most %d", len(parts), maxCursorChains)
	}
	for _, p := range parts {
		i := strings.LastIndexByte(p, ':')
		if i <= 0 {
			return nil, fmt.Errorf("event id entry %q is not chain:height.index", clip(p))
		}
		name, at := p[:i], p[i+1:]
		hs, is, ok := strings.Cut(at, ".")
		if !ok {
			return nil, fmt.Errorf("event id entry %q is not chain:height.index", clip(p))
		}
		h, err := strconv.ParseUint(hs, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("event id entry %q: height is not a number", clip(p))
		}
		idx, err := strconv.Atoi(is)
		if err != nil || idx < 0 || idx >= untilEnd {
			return nil, fmt.Errorf("event id entry %q: index is not a small number", clip(p))
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("event id names chain %q twice", clip(name))
		}
		out[name] = Position{Height: h, Index: idx}
	}
	return out, nil
}

// FormatEventID writes a cursor, chains in the order given.
func FormatEventID(names []string, at map[string]Position) string {
	var b strings.Builder
	for _, n := range names {
		p, ok := at[n]
		if !ok {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		idx := p.Index
		if idx >= untilEnd {
			idx = 0 // a fresh start: the block itself stands for it
		}
		fmt.Fprintf(&b, "%s:%d.%d", n, p.Height, idx)
	}
	return b.String()
}

// hub follows each source once and fans its blocks out to the clients.
type hub struct {
	feeds []*feed
}

type feed struct {
	src    EventSource
	memory int
	broker *events.Broker[*interfaces.Block]
	closed chan struct{} // closed once the source has closed

	mu   sync.Mutex
	ring []*interfaces.Block // the newest blocks, consecutive heights
}

func newHub(srcs []EventSource, memory int) *hub {
	h := &hub{}
	for _, s := range srcs {
		f := &feed{src: s, memory: memory, broker: events.New[*interfaces.Block](), closed: make(chan struct{})}
		ch, _ := s.Subscribe(max(memory, hubBuffer))
		go f.follow(ch)
		h.feeds = append(h.feeds, f)
	}
	return h
}

// follow keeps the ring and publishes every block, reading from the store
// what its own subscription missed. It ends when the source closes.
func (f *feed) follow(ch <-chan events.Event[*interfaces.Block]) {
	defer close(f.closed)
	defer f.broker.Close()
	for ev := range ch {
		if ev.Gap != nil {
			// Stored already; a failed read leaves a hole that each
			// client fills from the store itself.
			f.src.Blocks(ev.Gap.From, ev.Gap.To, func(b *interfaces.Block) error {
				f.add(b)
				return nil
			})
			continue
		}
		f.add(ev.Value)
	}
}

func (f *feed) add(b *interfaces.Block) {
	f.mu.Lock()
	if n := len(f.ring); n > 0 && f.ring[n-1].Header.Height+1 != b.Header.Height {
		f.ring = nil // a new array: clients may hold the old one
	}
	f.ring = append(f.ring, b)
	if len(f.ring) > f.memory {
		f.ring = append(f.ring[:0:0], f.ring[len(f.ring)-f.memory:]...)
	}
	f.mu.Unlock()
	f.broker.Publish(b.Header.Height, b)
}

// blocks calls fn for each block from through to, from memory when the
// ring holds it, else from the store.
func (f *feed) blocks(from, to uint64, fn func(*interfaces.Block) error) error {
	if from > to {
		return nil
	}
	f.mu.Lock()
	ring := f.ring
	f.mu.Unlock()
	lo := uint64(0)
	if len(ring) > 0 {
		lo = ring[0].Header.Height
	}
	if len(ring) == 0 || from < lo {
		end := to
		if len(ring) > 0 && lo-1 < end {
			end = lo - 1
		}
		if err := f.src.Blocks(from, end, fn); err != nil {
			return err
		}
		if end == to {
			return nil
		}
		from = end + 1
	}
	for _, b := range ring {
		if h := b.Header.Height; h >= from && h <= to {
			if err := fn(b); err != nil {
				return err
			}
			from = h + 1
		}
	}
	if from <= to {
		// Newer than the ring holds yet: the store has them.
		return f.src.Blocks(from, to, fn)
	}
	return nil
}

// catchUpEvery is how often a stream producer checks that it is not
// stuck behind the head.
const catchUpEvery = 250 * time.Millisecond

// hubBuffer is the hub's own subscription to each chain: the hub only
// copies pointers, so it rarely falls behind, and when it does it reads
// the gap from the store.
const hubBuffer = 1024

// item is one event ready to write.
type item struct {
	feed int
	pos  Position
	typ  string
	data []byte
}

var errStreamDone = errors.New("stream done")

// eventsOf renders block b's events after position after (an index of
// -1 means from the block itself).
func eventsOf(f *feed, i int, b *interfaces.Block, after int) []item {
	var out []item
	h := b.Header.Height
	if after < 0 {
		ev := StreamEvent{Type: "block", Chain: f.src.Name, Height: h}
		if f.src.Galaxy {
			bh := BlackHoleOf(b, nil)
			ev.Type, ev.BlackHole = "blackhole", &bh
		} else {
			s := BlockSummaryOf(b)
			ev.Block = &s
		}
		data, _ := json.Marshal(ev)
		out = append(out, item{feed: i, pos: Position{h, 0}, typ: ev.Type, data: data})
	}
	for k, flt := range b.Meta.Faults {
		if k+1 <= after {
			continue
		}
		ev := StreamEvent{Type: "fault", Chain: f.src.Name, Height: h,
			Fault: &FaultEvent{Star: flt.Star.String(), Kind: flt.Kind.String(), Epoch: flt.Epoch, Index: k + 1}}
		data, _ := json.Marshal(ev)
		out = append(out, item{feed: i, pos: Position{h, k + 1}, typ: "fault", data: data})
	}
	return out
}

// produce sends to out every event of feed i after start, then follows
// the feed live, until ctx ends or the feed closes. Whatever it cannot
// take from memory or the broker it reads from the store, so the client
// gets each event once, in order.
func (f *feed) produce(ctx context.Context, i int, start Position, out chan<- item) error {
	sub, cancel := f.broker.Subscribe(64)
	defer cancel()
	sent := start
	if sent.Height == 0 {
		sent.Index = untilEnd // nothing precedes block 1
	}
	var send func(b *interfaces.Block) error
	send = func(b *interfaces.Block) error {
		h := b.Header.Height
		if h < sent.Height || (h == sent.Height && sent.Index >= untilEnd) {
			return nil // delivered already
		}
		next := sent.Height + 1
		if sent.Index < untilEnd {
			next = sent.Height // the rest of a block delivered in part
		}
		if h > next {
			// A hole (blocks neither the ring nor the broker gave this
			// producer): fill it first.
			if err := f.blocks(next, h-1, send); err != nil {
				return err
			}
		}
		after := -1
		if h == sent.Height {
			after = sent.Index
		}
		return sendBlock(ctx, f, i, b, after, out, &sent)
	}
	// catchUp sends what is committed up to the head and not sent yet,
	// from memory or the store.
	catchUp := func() error {
		head := f.src.Head()
		from := sent.Height
		if sent.Index >= untilEnd {
			from++
		}
		return f.blocks(max(from, 1), head, send)
	}
	// What was committed before the subscription.
	if err := catchUp(); err != nil {
		return err
	}
	// A broker announces a gap with the next block it delivers; the
	// ticker makes sure a producer that overflowed right before the
	// chain paused does not wait for that block: when nothing was sent
	// for a whole tick while the head is ahead, it catches up itself.
	tick := time.NewTicker(catchUpEvery)
	defer tick.Stop()
	seen := sent
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-f.closed:
			// The chain stopped (a subscription made after that would
			// never close): send what it committed, then end.
			if err := catchUp(); err != nil {
				return err
			}
			return errStreamDone
		case <-tick.C:
			if sent == seen {
				if err := catchUp(); err != nil {
					return err
				}
			}
			seen = sent
		case ev, ok := <-sub:
			if !ok {
				return errStreamDone
			}
			if ev.Gap != nil {
				if err := f.blocks(max(ev.Gap.From, sent.Height, 1), ev.Gap.To, send); err != nil {
					return err
				}
				continue
			}
			if err := send(ev.Value); err != nil {
				return err
			}
		}
	}
}

func sendBlock(ctx context.Context, f *feed, i int, b *interfaces.Block, after int, out chan<- item, sent *Position) error {
	for _, it := range eventsOf(f, i, b, after) {
		select {
		case out <- it:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	*sent = Position{Height: b.Header.Height, Index: untilEnd}
	return nil
}

func (s *server) getEvents(w http.ResponseWriter, r *http.Request) {
	if s.hub == nil {
		writeError(w, http.StatusNotFound, "this node streams no events")
		return
	}
	raw, field := r.Header.Get("Last-Event-ID"), "Last-Event-ID"
	if raw == "" {
		raw, field = r.URL.Query().Get("last_event_id"), "last_event_id"
	}
	cursor, err := ParseEventID(raw)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, ErrorBody{Error: err.Error(), Field: field})
		return
	}
	names := make([]string, len(s.hub.feeds))
	for i, f := range s.hub.feeds {
		names[i] = f.src.Name
	}
	for n := range cursor {
		found := false
		for _, m := range names {
			found = found || m == n
		}
		if !found {
			writeJSON(w, http.StatusBadRequest, ErrorBody{Error: fmt.Sprintf("event id names chain %q, which this node does not keep (it keeps %s)", clip(n), strings.Join(names, ", ")), Field: field})
			return
		}
	}
	rc := http.NewResponseController(w)
	// A stream outlives the server's timeouts, which bound ordinary
	// requests; the request itself has been read.
	rc.SetWriteDeadline(time.Time{})
	rc.SetReadDeadline(time.Time{})
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	fmt.Fprint(w, "retry: 2000\n\n")
	rc.Flush()

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	at := map[string]Position{}
	out := make(chan item, 64)
	done := make(chan error, len(s.hub.feeds))
	for i, f := range s.hub.feeds {
		start, ok := cursor[f.src.Name]
		if !ok {
			start = Position{Height: f.src.Head(), Index: untilEnd} // from now on
		}
		at[f.src.Name] = start
		go func() { done <- f.produce(ctx, i, start, out) }()
	}
	write := func(it item) error {
		at[names[it.feed]] = it.pos
		_, err := fmt.Fprintf(w, "id: %s\nevent: %s\ndata: %s\n\n", FormatEventID(names, at), it.typ, it.data)
		return err
	}
	beat := time.NewTicker(s.opts.Heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case err := <-done:
			// A chain closed (the node stops) or its store failed: end
			// the stream after what was produced; the client resumes
			// from its last id.
			for len(out) > 0 {
				if write(<-out) != nil {
					return
				}
			}
			if err != nil && !errors.Is(err, errStreamDone) && !errors.Is(err, context.Canceled) {
				fmt.Fprintf(w, ": stream ends: %s\n\n", strings.ReplaceAll(err.Error(), "\n", " "))
			}
			rc.Flush()
			return
		case <-beat.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return
			}
			rc.Flush()
		case it := <-out:
			if write(it) != nil {
				return
			}
			// Flush when nothing else waits, so a burst of replayed
			// events costs one write.
			if len(out) == 0 {
				rc.Flush()
			}
		}
	}
}
