package honeybadger

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"
)

// BenchmarkEpochs runs whole HoneyBadger epochs for N members in one
// goroutine with random delivery order, every message encoded and decoded.
// Each member contributes txPerNode random 250-byte transactions per
// epoch (B/N = 100). Mode A is protocol only (no encryption, predictable
// coin); mode B adds threshold encryption and the threshold coin (here
// without transaction signatures, which are the host's); mode C is B with
// f silent members. Metrics: unique
// committed tx/s, ms/epoch, messages/epoch and bytes/epoch across all
// members.
//
//	go test -run XXX -bench Epochs -benchtime 50x ./builtin/honeybadger/
func BenchmarkEpochs(b *testing.B) {
	const txSize, txPerNode = 250, 100
	for _, mode := range []struct {
		name   string
		p      Params
		silent bool
	}{{"A", modeA(), false}, {"B", DefaultParams(), false}, {"C", DefaultParams(), true}} {
		for _, n := range []int{4, 7, 10, 16} {
			b.Run(fmt.Sprintf("mode=%s/N=%d", mode.name, n), func(b *testing.B) {
				rng := rand.New(rand.NewPCG(uint64(n), 1))
				blobs := make([][]byte, n)
				for i := range blobs {
					blobs[i] = make([]byte, txSize*txPerNode)
					for k := range blobs[i] {
						blobs[i][k] = byte(rng.Uint32())
					}
				}
				net := newTestNet(b, n, 42, mode.p)
				net.contrib = func(i int, e uint64) []byte {
					c := make([]byte, len(blobs[i]))
					copy(c, blobs[i])
					binary.BigEndian.PutUint64(c, e) // distinct per epoch
					return c
				}
				net.epochs = b.N
				if mode.silent {
					for i := range (n - 1) / 3 {
						net.kind[n-1-i] = silent
					}
				}
				cpu0 := cpuTime()
				start := time.Now()
				b.ResetTimer()
				net.run(1 << 40)
				elapsed := time.Since(start)
				cpu := cpuTime() - cpu0
				b.StopTimer()
				txs := 0
				for _, d := range net.decisions[0] {
					txs += len(d.Contributions) * txPerNode
				}
				if len(net.decisions[0]) < b.N {
					b.Fatalf("decided %d of %d epochs", len(net.decisions[0]), b.N)
				}
				net.checkAgreement()
				b.ReportMetric(float64(txs)/elapsed.Seconds(), "tx/s")
				b.ReportMetric(float64(elapsed.Milliseconds())/float64(b.N), "ms/epoch")
				b.ReportMetric(float64(net.delivered)/float64(b.N), "msgs/epoch")
				b.ReportMetric(float64(net.deliveredBytes)/float64(b.N), "bytes/epoch")
				b.ReportMetric(cpu.Seconds()*1000/float64(b.N), "cpu-ms/epoch")
				b.ReportMetric(float64(txs)/cpu.Seconds(), "tx/cpu-s")
			})
		}
	}
}

// cpuTime returns the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
