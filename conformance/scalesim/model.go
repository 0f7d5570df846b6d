package scalesim

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/constellation-chain/constellation/conformance/sim"
	"github.com/constellation-chain/constellation/interfaces"
)

// CPU prices one node's work: each field is the time one core of the
// benchmark machine spends on one operation (see DefaultCPU for where each
// value comes from).
type CPU struct {
	// Ed25519Verify checks one signed consensus message or one
	// transaction's signature (BenchmarkEd25519Verify).
	Ed25519Verify time.Duration
	// Ed25519Sign signs one consensus message (a broadcast is signed
	// once).
	Ed25519Sign time.Duration
	// MsgFixed and MsgPerKiB are the engine's and host's own handling of
	// one message besides its signature: decoding, Merkle branches,
	// erasure coding, bookkeeping.
	MsgFixed  time.Duration
	MsgPerKiB time.Duration
	// Encrypt1KiB and Encrypt25KB are one threshold encryption of a 1 KiB
	// and a 25,000-byte contribution (BenchmarkEncrypt); other sizes are
	// interpolated linearly.
	Encrypt1KiB, Encrypt25KB time.Duration
	// VerifyCiphertext is one ciphertext validity check
	// (BenchmarkVerifyCiphertext).
	VerifyCiphertext time.Duration
	// DecryptShare makes one decryption share (BenchmarkDecryptShare).
	DecryptShare time.Duration
	// Decrypt2 and Decrypt6 combine 2 and 6 decryption shares of a 25 kB
	// contribution, optimistically (BenchmarkDecrypt N=4,f=1 and
	// N=16,f=5); other share counts are extrapolated linearly.
	Decrypt2, Decrypt6 time.Duration
	// SignShare makes one threshold signature share: a coin share, a
	// checkpoint's or a black hole's certificate share
	// (BenchmarkSignShare).
	SignShare time.Duration
	// Combine2 and Combine6 combine 2 and 6 signature shares and verify
	// the result (BenchmarkCombineSigShares optimistic, N=4,f=1 and
	// N=16,f=5); other share counts are extrapolated linearly.
	Combine2, Combine6 time.Duration
	// VerifySignature checks one group signature: a checkpoint's
	// certificate (BenchmarkVerifySignature).
	VerifySignature time.Duration
	// TxApply is the ledger's work on one transaction besides its
	// signature (state update and hashing).
	TxApply time.Duration
}

// DefaultCPU returns the prices measured for docs/scaling.md on its
// machine (2-core AMD EPYC, go1.26.8): the fastest of repeated runs of
//
//	go test -run XXX -bench 'VerifySigShare|VerifySignature|VerifyDecShare|Ed25519Verify|SignShare|CombineSigShares|Encrypt|VerifyCiphertext$|DecryptShare|Decrypt' -benchtime 200x -count 5 ./builtin/honeybadger/tcrypto
//	go test -run XXX -bench . -benchtime 2000x -count 5 ./conformance/scalesim
//	go test -run XXX -bench HoneyBadgerStep -benchtime 20x -count 3 ./cmd/constellation
//
// whose output is testdata/bench.txt (ParseBench of it gives exactly
// these). The second gives Ed25519Sign and TxApply, the third MsgFixed and
// MsgPerKiB (the protocol-only engine, which does no threshold
// cryptography).
func DefaultCPU() CPU {
	return CPU{
		Ed25519Verify:    92847 * time.Nanosecond,
		Ed25519Sign:      32805 * time.Nanosecond,
		MsgFixed:         1383 * time.Nanosecond,
		MsgPerKiB:        3784 * time.Nanosecond,
		Encrypt1KiB:      1136768 * time.Nanosecond,
		Encrypt25KB:      1169391 * time.Nanosecond,
		VerifyCiphertext: 1795467 * time.Nanosecond,
		DecryptShare:     110324 * time.Nanosecond,
		Decrypt2:         177100 * time.Nanosecond,
		Decrypt6:         375886 * time.Nanosecond,
		SignShare:        330228 * time.Nanosecond,
		Combine2:         1425245 * time.Nanosecond,
		Combine6:         1614493 * time.Nanosecond,
		VerifySignature:  1276238 * time.Nanosecond,
		TxApply:          635 * time.Nanosecond,
	}
}

// Encrypt prices one threshold encryption of size bytes.
func (c CPU) Encrypt(size int) time.Duration {
	return lerp(1024, c.Encrypt1KiB, 25000, c.Encrypt25KB, size)
}

// Decrypt prices combining shares decryption shares into one plaintext.
func (c CPU) Decrypt(shares int) time.Duration { return lerp(2, c.Decrypt2, 6, c.Decrypt6, shares) }

// Combine prices combining shares signature shares and verifying the
// result.
func (c CPU) Combine(shares int) time.Duration { return lerp(2, c.Combine2, 6, c.Combine6, shares) }

// lerp is the line through (x0, y0) and (x1, y1) at x, never below zero.
func lerp(x0 int, y0 time.Duration, x1 int, y1 time.Duration, x int) time.Duration {
	v := float64(y0) + (float64(y1)-float64(y0))*float64(x-x0)/float64(x1-x0)
	return time.Duration(max(v, 0))
}

// benchLine matches one result line of `go test -bench`.
var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([0-9.]+) ns/op`)

// benchFields maps benchmark names to the price they measure.
var benchFields = map[string]func(*CPU) *time.Duration{
	"BenchmarkEd25519Verify":                        func(c *CPU) *time.Duration { return &c.Ed25519Verify },
	"BenchmarkEd25519Sign":                          func(c *CPU) *time.Duration { return &c.Ed25519Sign },
	"BenchmarkTxApply":                              func(c *CPU) *time.Duration { return &c.TxApply },
	"BenchmarkHoneyBadgerStep/fixed":                func(c *CPU) *time.Duration { return &c.MsgFixed },
	"BenchmarkHoneyBadgerStep/per-KiB":              func(c *CPU) *time.Duration { return &c.MsgPerKiB },
	"BenchmarkEncrypt/payload=1024B":                func(c *CPU) *time.Duration { return &c.Encrypt1KiB },
	"BenchmarkEncrypt/payload=25000B":               func(c *CPU) *time.Duration { return &c.Encrypt25KB },
	"BenchmarkVerifyCiphertext":                     func(c *CPU) *time.Duration { return &c.VerifyCiphertext },
	"BenchmarkDecryptShare":                         func(c *CPU) *time.Duration { return &c.DecryptShare },
	"BenchmarkDecrypt/N=4,f=1/optimistic":           func(c *CPU) *time.Duration { return &c.Decrypt2 },
	"BenchmarkDecrypt/N=16,f=5/optimistic":          func(c *CPU) *time.Duration { return &c.Decrypt6 },
	"BenchmarkSignShare":                            func(c *CPU) *time.Duration { return &c.SignShare },
	"BenchmarkCombineSigShares/N=4,f=1/optimistic":  func(c *CPU) *time.Duration { return &c.Combine2 },
	"BenchmarkCombineSigShares/N=16,f=5/optimistic": func(c *CPU) *time.Duration { return &c.Combine6 },
	"BenchmarkVerifySignature":                      func(c *CPU) *time.Duration { return &c.VerifySignature },
}

// ParseBench reads `go test -bench` output and returns base with every
// price it names replaced by the measured ns/op; names returns which were
// found, in the order first read. A benchmark listed several times (-count)
// gives its fastest run, the one least disturbed by other load on the
// machine. Lines that are not benchmark results are skipped.
func ParseBench(r io.Reader, base CPU) (cpu CPU, names []string, err error) {
	cpu = base
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		field, ok := benchFields[m[1]]
		if !ok {
			continue
		}
		ns, err := strconv.ParseFloat(m[2], 64)
		if err != nil || ns < 0 {
			return base, nil, fmt.Errorf("benchmark output line %d: %q is not a time in ns/op", line, m[2])
		}
		d := time.Duration(ns)
		if !slices.Contains(names, m[1]) {
			names = append(names, m[1])
		} else if d >= *field(&cpu) {
			continue
		}
		*field(&cpu) = d
	}
	if err := sc.Err(); err != nil {
		return base, nil, fmt.Errorf("read benchmark output: %w", err)
	}
	return cpu, names, nil
}

// Ops is the work of one engine call as a Meter counts it, in the units
// CPU prices. The host's work around decisions (transactions, checkpoints,
// certificates) is the experiment's, not the Meter's.
type Ops struct {
	// Checked messages arrived and had their signature verified;
	// CheckedBytes is their payload size.
	Checked, CheckedBytes int
	// Signed messages were sent, one signature each (a broadcast is one
	// message).
	Signed int
	// Encrypted is the size of each contribution encrypted.
	Encrypted []int
	// CiphertextChecks, DecShares: ciphertext validity checks and
	// decryption shares made.
	CiphertextChecks, DecShares int
	// Decrypts combined f+1 decryption shares each.
	Decrypts int
	// CoinShares made; CoinSharesIn received (each is priced as its part
	// of one combine of f+1 shares).
	CoinShares, CoinSharesIn int
	// Kind names the message a Step consumed in the engine's words ("" for
	// Propose), for the report's message counts.
	Kind string
}

// A Meter counts the work of one engine call from its input and output.
// It is the only part of the experiment that knows the engine's wire
// format. n and f are the group's size and fault bound. Count is called
// from the simulator's loop only.
type Meter interface {
	Count(c sim.Call, n, f int) Ops
}

// Link models the network between any two nodes: a fixed one-way latency
// per ordered pair, drawn once, uniformly from [LatencyMin, LatencyMax], and
// one uplink per node that sends its messages one after another at
// UplinkMbps. A broadcast is N−1 messages on the sender's uplink. Links
// are FIFO, like TCP. Downlinks are not modelled.
type Link struct {
	LatencyMin, LatencyMax time.Duration
	UplinkMbps             float64
	// OverheadBytes is added to every payload on the wire: the signed
	// message's header and signature and the transport's framing.
	OverheadBytes int
}

// DefaultLink is a continent-wide network of well-connected servers.
func DefaultLink() Link {
	return Link{LatencyMin: 20 * time.Millisecond, LatencyMax: 80 * time.Millisecond, UplinkMbps: 100, OverheadBytes: 232}
}

// latencyTable is the one-way latency of every ordered pair of a group,
// drawn once from seed.
type latencyTable struct {
	n  int
	us []sim.Time
}

func newLatencyTable(l Link, n int, seed interfaces.Hash, purpose string) *latencyTable {
	r := rng(seed, "latency/"+purpose)
	t := &latencyTable{n: n, us: make([]sim.Time, n*n)}
	for i := range t.us {
		t.us[i] = l.sample(r)
	}
	return t
}

func (t *latencyTable) at(from, to int) sim.Time { return t.us[from*t.n+to] }

func (l Link) sample(r *rand.Rand) sim.Time {
	lo, hi := toTime(l.LatencyMin), toTime(l.LatencyMax)
	if hi <= lo {
		return lo
	}
	return lo + sim.Time(r.Int64N(int64(hi-lo)+1))
}

// transmit is how long size payload bytes occupy an uplink.
func (l Link) transmit(size int) sim.Time {
	if l.UplinkMbps <= 0 {
		return 0
	}
	bits := float64(size+l.OverheadBytes) * 8
	return sim.Time(bits / l.UplinkMbps) // Mbit/s = bit/µs
}

func toTime(d time.Duration) sim.Time { return sim.Time(d / time.Microsecond) }

func rng(seed interfaces.Hash, purpose string) *rand.Rand {
	return rand.New(rand.NewChaCha8(interfaces.DomainSum("constellation/scalesim/v1", []byte(purpose), seed[:])))
}
