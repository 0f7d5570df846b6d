package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

var errEnough = errors.New("enough")

// collect reads the stream from after lastID until stop says so, and
// returns what it read.
func collect(t *testing.T, c *Client, lastID string, stop func([]Event) bool) []Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var got []Event
	err := c.Events(ctx, lastID, func(e Event) error {
		got = append(got, e)
		if stop(got) {
			return errEnough
		}
		return nil
	})
	if !errors.Is(err, errEnough) {
		t.Fatalf("stream ended with %v after %d events", err, len(got))
	}
	return got
}

// keys renders events as "chain:height.type" for comparison.
func keys(evs []Event) []string {
	var out []string
	for _, e := range evs {
		k := fmt.Sprintf("%s:%d.%s", e.Data.Chain, e.Data.Height, e.Type)
		if e.Data.Fault != nil {
			k += fmt.Sprint(e.Data.Fault.Index)
		}
		out = append(out, k)
	}
	return out
}

func want(chain string, from, to uint64, faultsAt map[uint64]int, kind string) []string {
	var out []string
	for h := from; h <= to; h++ {
		out = append(out, fmt.Sprintf("%s:%d.%s", chain, h, kind))
		for i := 1; i <= faultsAt[h]; i++ {
			out = append(out, fmt.Sprintf("%s:%d.fault%d", chain, h, i))
		}
	}
	return out
}

// waitFor polls cond for up to ten seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestEventStreamResumesAfterADisconnectWithoutLossOrRepeat: a client
// that reads part of the stream, drops the connection (even between a
// block and its faults) and reconnects with the last id it saw gets every
// later event exactly once, in order: those committed while it was away
// and then the live ones.
func TestEventStreamResumesAfterADisconnectWithoutLossOrRepeat(t *testing.T) {
	ch := newFakeChain("cluster/0", false)
	ch.commit(0) // before the client connects: not streamed to a fresh client
	c, _ := serveFull(t, newFullBackend(ch), Options{})
	faults := map[uint64]int{3: 2, 7: 1}
	go func() {
		// Committed while the client is connected (or connecting).
		time.Sleep(100 * time.Millisecond)
		for h := uint64(2); h <= 4; h++ {
			ch.commit(faults[h])
		}
	}()
	// Disconnect right after block 3's first fault. (The client starts
	// after block 1, as a fresh client that connected then would.)
	first := collect(t, c, "cluster/0:1.0", func(evs []Event) bool { return evs[len(evs)-1].Data.Fault != nil })
	if got, w := keys(first), []string{"cluster/0:2.block", "cluster/0:3.block", "cluster/0:3.fault1"}; strings.Join(got, " ") != strings.Join(w, " ") {
		t.Fatalf("first connection got %v, want %v", got, w)
	}
	last := first[len(first)-1].ID
	if last != "cluster/0:3.1" {
		t.Fatalf("last id %q, want cluster/0:3.1", last)
	}
	// Away: blocks 5 to 7 commit.
	for h := uint64(5); h <= 7; h++ {
		ch.commit(faults[h])
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
		ch.commit(0) // 8, live
	}()
	second := collect(t, c, last, func(evs []Event) bool { return evs[len(evs)-1].Data.Height == 8 })
	w := append([]string{"cluster/0:3.fault2"}, want("cluster/0", 4, 8, faults, "block")...)
	if got := keys(second); strings.Join(got, " ") != strings.Join(w, " ") {
		t.Fatalf("after reconnecting got\n%v\nwant\n%v", got, w)
	}
	for _, e := range second {
		if e.Data.Type == "block" && (e.Data.Block == nil || e.Data.Block.Height != e.Data.Height) {
			t.Fatalf("block event %s without its summary", e.ID)
		}
	}
}

// TestEventStreamReplaysFromTheStoreWhenMemoryIsShort: a client whose
// last id is older than the blocks the hub keeps in memory is served the
// older ones from the store and the rest from memory, in order, without a
// gap; one within memory reads nothing from the store.
func TestEventStreamReplaysFromTheStoreWhenMemoryIsShort(t *testing.T) {
	ch := newFakeChain("cluster/0", false)
	c, s := serveFull(t, newFullBackend(ch), Options{EventMemory: 4})
	for range 20 {
		ch.commit(0)
	}
	f := s.hub.feeds[0]
	waitFor(t, "the hub to hold block 20", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return len(f.ring) == 4 && f.ring[3].Header.Height == 20
	})
	before := ch.storeReads()
	got := collect(t, c, "cluster/0:2.0", func(evs []Event) bool { return evs[len(evs)-1].Data.Height == 20 })
	if w := want("cluster/0", 3, 20, nil, "block"); strings.Join(keys(got), " ") != strings.Join(w, " ") {
		t.Fatalf("got %v, want %v", keys(got), w)
	}
	if n := ch.storeReads() - before; n != 15 {
		// Block 2 is read to see whether faults follow its event 0.
		t.Fatalf("read %d blocks from the store, want 15 (2 to 16; 17 to 20 are in memory)", n)
	}
	before = ch.storeReads()
	got = collect(t, c, "cluster/0:17.0", func(evs []Event) bool { return evs[len(evs)-1].Data.Height == 20 })
	if w := want("cluster/0", 18, 20, nil, "block"); strings.Join(keys(got), " ") != strings.Join(w, " ") {
		t.Fatalf("got %v, want %v", keys(got), w)
	}
	if n := ch.storeReads() - before; n != 0 {
		t.Fatalf("read %d blocks from the store for a gap memory holds", n)
	}
	// From the very start (height 0): everything.
	got = collect(t, c, "cluster/0:0.0", func(evs []Event) bool { return evs[len(evs)-1].Data.Height == 20 })
	if len(got) != 20 || got[0].Data.Height != 1 {
		t.Fatalf("from 0: %v", keys(got))
	}
}

// TestEventStreamFollowsEveryChainWithOneCursor: a node with a cluster
// chain and the galaxy streams both, blocks and black holes, and one id
// resumes both where they were.
func TestEventStreamFollowsEveryChainWithOneCursor(t *testing.T) {
	cl, gx := newFakeChain("cluster/0", false), newFakeChain("galaxy", true)
	c, _ := serveFull(t, newFullBackend(cl, gx), Options{})
	cl.commit(0)
	cl.commit(1)
	gx.commit(0)
	got := collect(t, c, "cluster/0:0.0,galaxy:0.0", func(evs []Event) bool { return len(evs) == 4 })
	byChain := map[string][]string{}
	for _, k := range keys(got) {
		byChain[k[:strings.IndexByte(k, ':')]] = append(byChain[k[:strings.IndexByte(k, ':')]], k)
	}
	if strings.Join(byChain["cluster/0"], " ") != "cluster/0:1.block cluster/0:2.block cluster/0:2.fault1" ||
		strings.Join(byChain["galaxy"], " ") != "galaxy:1.blackhole" {
		t.Fatalf("got %v", keys(got))
	}
	for _, e := range got {
		if e.Type == "blackhole" && (e.Data.BlackHole == nil || e.Data.BlackHole.Height != 1) {
			t.Fatalf("black hole event without its black hole: %+v", e)
		}
	}
	last := got[len(got)-1].ID
	if !strings.Contains(last, "cluster/0:2.1") || !strings.Contains(last, "galaxy:1.0") {
		t.Fatalf("last id %q does not hold both chains' positions", last)
	}
	gx.commit(0)
	cl.commit(0)
	more := collect(t, c, last, func(evs []Event) bool { return len(evs) == 2 })
	k := keys(more)
	if !(len(k) == 2 && ((k[0] == "galaxy:2.blackhole" && k[1] == "cluster/0:3.block") || (k[1] == "galaxy:2.blackhole" && k[0] == "cluster/0:3.block"))) {
		t.Fatalf("resumed with %v", k)
	}
}

// TestASlowStreamReaderCatchesUpFromTheStore: a client that stops reading
// while many blocks commit overflows its subscription; the broker's gap
// marker sends it to the store, and it still gets every block once, in
// order.
func TestASlowStreamReaderCatchesUpFromTheStore(t *testing.T) {
	ch := newFakeChain("cluster/0", false)
	f := newHub([]EventSource{ch.source()}, 8).feeds[0]
	out := make(chan item) // unbuffered and not read yet: the producer blocks
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go f.produce(ctx, 0, Position{}, out)
	time.Sleep(50 * time.Millisecond) // subscribed
	for range 300 {
		ch.commit(0)
	}
	for h := uint64(1); h <= 300; h++ {
		select {
		case it := <-out:
			if it.pos.Height != h || it.pos.Index != 0 {
				t.Fatalf("event %d is at %+v", h, it.pos)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no event for block %d", h)
		}
	}
	if ch.storeReads() == 0 {
		t.Fatal("300 blocks through a subscription of 64 without reading the store: the gap path did not run")
	}
}

// TestEventStreamEndsWhenTheNodeStops: when a chain's broker closes (the
// node stops), the stream ends instead of hanging.
func TestEventStreamEndsWhenTheNodeStops(t *testing.T) {
	ch := newFakeChain("cluster/0", false)
	c, _ := serveFull(t, newFullBackend(ch), Options{Heartbeat: 20 * time.Millisecond})
	go func() {
		time.Sleep(200 * time.Millisecond)
		ch.broker.Close()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Events(ctx, "", func(Event) error { return nil }); err != nil {
		t.Fatalf("stream: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatal("the stream did not end when its chain closed")
	}
}

// TestEventStreamOutlivesTheServersTimeouts: a stream stays open past
// the server's read and write timeouts, which bound ordinary requests.
func TestEventStreamOutlivesTheServersTimeouts(t *testing.T) {
	ch := newFakeChain("cluster/0", false)
	s := buildServer(newFullBackend(ch), Options{Heartbeat: 50 * time.Millisecond})
	srv := NewServer(s, Timeouts{Header: time.Second, Read: 300 * time.Millisecond, Write: 300 * time.Millisecond, Idle: time.Second})
	ln := listen(t)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	c := &Client{Base: "http://" + ln.Addr().String(), HTTP: &http.Client{}}
	go func() {
		time.Sleep(800 * time.Millisecond) // well past the write timeout
		ch.commit(0)
	}()
	got := collect(t, c, "", func(evs []Event) bool { return true })
	if got[0].Data.Height != 1 {
		t.Fatalf("got %v", keys(got))
	}
}

// FuzzParseEventID: the cursor parser never panics, and what it accepts
// formats back to an id that parses to the same positions.
func FuzzParseEventID(f *testing.F) {
	f.Add("cluster/0:12.0,galaxy:5.2")
	f.Add("")
	f.Add("a:1.1,a:2.2")
	f.Add("x:18446744073709551615.0")
	f.Fuzz(func(t *testing.T, s string) {
		at, err := ParseEventID(s)
		if err != nil {
			return
		}
		var names []string
		for n := range at {
			names = append(names, n)
		}
		again, err := ParseEventID(FormatEventID(names, at))
		if err != nil {
			t.Fatalf("%q parsed, but its formatting does not: %v", s, err)
		}
		if len(again) != len(at) {
			t.Fatalf("%q: %v then %v", s, at, again)
		}
		for n, p := range at {
			if again[n] != p {
				t.Fatalf("%q: %s at %+v, then %+v", s, n, p, again[n])
			}
		}
	})
}

// FuzzReadEvents: the client's event-stream reader never panics on what a
// server (or something posing as one) sends, and stops at the first
// event whose data is not a StreamEvent.
func FuzzReadEvents(f *testing.F) {
	f.Add([]byte("retry: 2000\n\nid: cluster/0:1.0\nevent: block\ndata: {\"type\":\"block\",\"chain\":\"cluster/0\",\"height\":1}\n\n: ping\n\n"))
	f.Add([]byte("data: {\ndata: }\n\n"))
	f.Add([]byte("data: nope\n\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		n := 0
		ReadEvents(bytes.NewReader(body), func(e Event) error {
			n++
			if n > len(body) {
				t.Fatalf("%d events from %d bytes", n, len(body))
			}
			return nil
		})
	})
}
