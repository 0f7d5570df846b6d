package gossip

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/interfaces"
)

// BenchmarkDirectThroughput measures one direct stream between two
// transports on loopback: frames per second and MB/s of payload, counted
// when the receiver's handler has seen every frame.
//
//	go test -run '^$' -bench DirectThroughput -benchtime 3s ./builtin/gossip/
func BenchmarkDirectThroughput(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"1KiB", 1 << 10}, {"64KiB", 64 << 10}} {
		b.Run(size.name, func(b *testing.B) {
			a := startTransport(b, "bench-a", nil, fastParams)
			c := startTransport(b, "bench-c", a.Addrs(), fastParams)
			var got atomic.Int64
			done := make(chan struct{}, 1)
			var want atomic.Int64
			if _, err := c.Subscribe(testConsensusTopic, func(interfaces.Envelope) {
				if got.Add(1) == want.Load() {
					done <- struct{}{}
				}
			}); err != nil {
				b.Fatal(err)
			}
			eventually(b, 5*time.Second, "connected", func() bool { return connectedTo(a, c) })
			payload := make([]byte, size.n)
			ctx := context.Background()
			// Warm the stream up.
			want.Store(1)
			if err := a.Send(ctx, c.Self(), testConsensusTopic, payload); err != nil {
				b.Fatal(err)
			}
			<-done
			got.Store(0)
			want.Store(int64(b.N))
			b.SetBytes(int64(size.n))
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				if err := a.Send(ctx, c.Self(), testConsensusTopic, payload); err != nil {
					b.Fatal(err)
				}
			}
			select {
			case <-done:
			case <-time.After(time.Minute):
				b.Fatalf("only %d of %d frames arrived", got.Load(), b.N)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
		})
	}
}
