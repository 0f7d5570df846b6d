package memnet

import (
	"context"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/interfaces"
)

func TestPublishReachesOthersWithAuthenticSender(t *testing.T) {
	hub := NewHub()
	a, _ := hub.Join(interfaces.DevStar("a"), 8)
	b, _ := hub.Join(interfaces.DevStar("b"), 8)
	c, _ := hub.Join(interfaces.DevStar("c"), 8)
	got := make(chan interfaces.Envelope, 4)
	for _, tr := range []*Transport{a, b, c} {
		if _, err := tr.Subscribe("tx/0", func(e interfaces.Envelope) { got <- e }); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Publish(context.Background(), "tx/0", []byte("hi")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		select {
		case e := <-got:
			if e.From != a.Self() || string(e.Payload) != "hi" {
				t.Fatalf("got %+v", e)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("publish not delivered")
		}
	}
	select {
	case e := <-got:
		t.Fatalf("publisher received its own message: %+v", e)
	case <-time.After(20 * time.Millisecond):
	}
}

func TestCutLinkDropsUntilHealed(t *testing.T) {
	hub := NewHub()
	a, _ := hub.Join(interfaces.DevStar("a"), 8)
	b, _ := hub.Join(interfaces.DevStar("b"), 8)
	got := make(chan interfaces.Envelope, 4)
	b.Subscribe("direct/x", func(e interfaces.Envelope) { got <- e })
	hub.SetCut(a.Self(), b.Self(), true)
	a.Send(context.Background(), b.Self(), "direct/x", []byte("lost"))
	if len(a.Peers()) != 0 {
		t.Fatalf("peers across a cut: %v", a.Peers())
	}
	hub.SetCut(a.Self(), b.Self(), false)
	a.Send(context.Background(), b.Self(), "direct/x", []byte("kept"))
	select {
	case e := <-got:
		if string(e.Payload) != "kept" {
			t.Fatalf("delivered %q across a cut", e.Payload)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("not delivered after heal")
	}
}

func TestBackpressureHonoursContext(t *testing.T) {
	hub := NewHub()
	a, _ := hub.Join(interfaces.DevStar("a"), 1)
	b, _ := hub.Join(interfaces.DevStar("b"), 1)
	block := make(chan struct{})
	b.Subscribe("t", func(interfaces.Envelope) { <-block })
	defer close(block)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var err error
	for i := 0; i < 5 && err == nil; i++ {
		err = a.Send(ctx, b.Self(), "t", []byte{byte(i)})
	}
	if err == nil {
		t.Fatal("a full queue never pushed back")
	}
}
