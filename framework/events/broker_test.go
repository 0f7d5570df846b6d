package events

import (
	"testing"

	"pgregory.net/rapid"
)

// TestASlowSubscriberSeesEveryEventOrItsGap: whatever the publishing and
// reading interleave, a subscriber's deliveries, read in order, cover every
// published sequence number exactly once, each either as an event or
// inside a gap marker, and in order.
func TestASlowSubscriberSeesEveryEventOrItsGap(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		b := New[int]()
		ch, cancel := b.Subscribe(rapid.IntRange(2, 6).Draw(rt, "buffer"))
		total := rapid.IntRange(1, 200).Draw(rt, "events")
		var got []uint64
		read := func(n int) {
			for i := 0; i < n; i++ {
				select {
				case e := <-ch:
					if e.Gap != nil {
						for s := e.Gap.From; s <= e.Gap.To; s++ {
							got = append(got, s)
						}
					} else {
						if e.Value != int(e.Seq)*10 {
							rt.Fatalf("event %d carries %d", e.Seq, e.Value)
						}
						got = append(got, e.Seq)
					}
				default:
					return
				}
			}
		}
		for s := 1; s <= total; s++ {
			b.Publish(uint64(s), s*10)
			read(rapid.IntRange(0, 3).Draw(rt, "reads"))
		}
		// One more event flushes a pending gap marker once there is room.
		read(1 << 20)
		b.Publish(uint64(total+1), (total+1)*10)
		read(1 << 20)
		cancel()
		for i, s := range got {
			if s != uint64(i+1) {
				rt.Fatalf("delivery %d covers %d, want %d (got %v)", i, s, i+1, got)
			}
		}
		if len(got) != total+1 {
			rt.Fatalf("covered %d of %d events", len(got), total+1)
		}
	})
}

func TestCancelClosesTheChannel(t *testing.T) {
	b := New[int]()
	ch, cancel := b.Subscribe(4)
	cancel()
	if _, ok := <-ch; ok {
		t.Fatal("channel still open after cancel")
	}
	cancel() // twice is harmless
	b.Close()
}
