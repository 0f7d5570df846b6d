package bench

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/constellation-chain/constellation/conformance/sim/simtest"
	"github.com/constellation-chain/constellation/interfaces"
)

// echoFactory builds echo engines: every member broadcasts its
// contribution and decides an epoch once it holds all N contributions, in
// member order. It is deterministic and its traffic is exactly known:
// N(N−1) messages of 8+len(contribution) bytes per epoch.
type echoFactory struct {
	dup        bool // decide every contribution twice (duplicates)
	breakAt    int  // member index that decides a corrupted epoch 2; -1 for none
	badSigAll  bool // every member flips a signature byte of every contribution
	dontDecide bool // never decide (stall)
}

func (echoFactory) Info() interfaces.PluginInfo {
	return interfaces.PluginInfo{Kind: interfaces.KindConsensus, Name: "echo-test", Version: "0.0.1", APIVersions: []int{interfaces.APIVersion}}
}

func (f echoFactory) NewConsensus(cfg interfaces.ConsensusConfig) (interfaces.Consensus, error) {
	return &echo{f: f, cfg: cfg, self: cfg.Index(cfg.Self), got: map[uint64]map[int][]byte{}}, nil
}

type echo struct {
	f            echoFactory
	cfg          interfaces.ConsensusConfig
	self         int
	next, lowest uint64
	got          map[uint64]map[int][]byte
}

func (e *echo) Epoch() uint64 { return max(e.next, e.lowest) }

func (e *echo) Propose(c []byte) (interfaces.Output, error) {
	ep := e.Epoch()
	e.next = ep + 1
	msg := binary.BigEndian.AppendUint64(nil, ep)
	msg = append(msg, c...)
	e.put(ep, e.self, c)
	out := interfaces.Output{Messages: []interfaces.OutMessage{{To: interfaces.Broadcast, Payload: msg}}}
	out.Decisions = e.tryDecide()
	return out, nil
}

func (e *echo) Step(from interfaces.StarID, p []byte) (interfaces.Output, error) {
	i := e.cfg.Index(from)
	if len(p) < 8 || i < 0 {
		return interfaces.Output{}, nil
	}
	ep := binary.BigEndian.Uint64(p)
	if ep < e.lowest {
		return interfaces.Output{}, nil
	}
	e.put(ep, i, p[8:])
	return interfaces.Output{Decisions: e.tryDecide()}, nil
}

func (e *echo) put(ep uint64, i int, c []byte) {
	if e.got[ep] == nil {
		e.got[ep] = map[int][]byte{}
	}
	e.got[ep][i] = c
}

func (e *echo) tryDecide() []interfaces.Decision {
	var ds []interfaces.Decision
	for !e.f.dontDecide && len(e.got[e.lowest]) == len(e.cfg.Members) {
		d := interfaces.Decision{Epoch: e.lowest}
		for i, m := range e.cfg.Members {
			c := append([]byte(nil), e.got[e.lowest][i]...)
			if e.f.badSigAll && len(c) > 4 {
				c[len(c)-4] ^= 1 // last signature byte of the last transaction (before the empty fault and latency lists)
			}
			if e.f.breakAt == e.self && e.lowest == 2 && i == 0 {
				// Member 1's data under member 0's name: every signature
				// still verifies, only agreement is broken.
				c = append([]byte(nil), e.got[e.lowest][1]...)
			}
			d.Contributions = append(d.Contributions, interfaces.ContributionFrom{Proposer: m, Data: c})
			if e.f.dup {
				d.Contributions = append(d.Contributions, interfaces.ContributionFrom{Proposer: m, Data: c})
			}
		}
		delete(e.got, e.lowest)
		e.lowest++
		ds = append(ds, d)
	}
	return ds
}

func echoConfig(f echoFactory, n int, signed bool) Config {
	return Config{Factory: f, N: n, TxPerNode: 7, Signed: signed, Warmup: 2, Measured: 5, Seed: 9}
}

func TestRunCountsEveryUniqueTransactionAndExactTraffic(t *testing.T) {
	for _, signed := range []bool{false, true} {
		t.Run(fmt.Sprintf("signed=%v", signed), func(t *testing.T) {
			const n = 4
			cfg := echoConfig(echoFactory{breakAt: -1}, n, signed)
			res, err := Run(cfg)
			if err != nil {
				t.Fatal(err)
			}
			wantTx := int64(cfg.Measured * n * cfg.TxPerNode)
			if res.UniqueTxs != wantTx || res.DuplicateTxs != 0 {
				t.Fatalf("unique %d duplicates %d, want %d and 0", res.UniqueTxs, res.DuplicateTxs, wantTx)
			}
			contrib := cfg.TxPerNode * DefaultTxSize
			if signed {
				contrib += 1 + 8 + 1 + 1 + 1 // TxBatch header, no faults, no latency
			}
			wantMsgs := int64(cfg.Measured * n * (n - 1))
			if res.Messages != wantMsgs || res.Bytes != wantMsgs*int64(8+contrib) {
				t.Fatalf("%d messages of %d bytes, want %d of %d", res.Messages, res.Bytes, wantMsgs, wantMsgs*int64(8+contrib))
			}
			if signed {
				// Every member verifies every decided transaction of every epoch.
				want := int64((cfg.Warmup + cfg.Measured) * n * n * cfg.TxPerNode)
				if res.Verified != want {
					t.Fatalf("verified %d signatures, want %d", res.Verified, want)
				}
			}
			if len(res.Latencies) != cfg.Measured || res.Wall <= 0 {
				t.Fatalf("%d latencies, wall %v", len(res.Latencies), res.Wall)
			}
		})
	}
}

func TestRunDeduplicatesRepeatedContributions(t *testing.T) {
	cfg := echoConfig(echoFactory{dup: true, breakAt: -1}, 4, false)
	res, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := int64(cfg.Measured * cfg.N * cfg.TxPerNode)
	if res.UniqueTxs != want || res.DuplicateTxs != want {
		t.Fatalf("unique %d duplicates %d, want %d each", res.UniqueTxs, res.DuplicateTxs, want)
	}
}

func TestRunFailsWhenAnHonestMemberDisagrees(t *testing.T) {
	for _, signed := range []bool{false, true} {
		_, err := Run(echoConfig(echoFactory{breakAt: 3}, 4, signed))
		if !errors.Is(err, ErrDisagreement) {
			t.Fatalf("signed=%v: got %v, want a disagreement error", signed, err)
		}
	}
}

func TestRunFailsOnADecidedBadSignature(t *testing.T) {
	_, err := Run(echoConfig(echoFactory{badSigAll: true, breakAt: -1}, 4, true))
	if !errors.Is(err, interfaces.ErrBadSignature) {
		t.Fatalf("got %v, want a bad-signature error", err)
	}
}

func TestRunFailsWhenConsensusStalls(t *testing.T) {
	_, err := Run(echoConfig(echoFactory{dontDecide: true, breakAt: -1}, 4, false))
	if !errors.Is(err, ErrStalled) {
		t.Fatalf("got %v, want a stall error", err)
	}
}

func TestRunRejectsMoreSilentMembersThanF(t *testing.T) {
	cfg := echoConfig(echoFactory{breakAt: -1}, 4, false)
	cfg.Silent = 2
	if _, err := Run(cfg); err == nil {
		t.Fatal("2 silent members at N=4 accepted")
	}
}

func TestRunIsDeterministicInItsCounts(t *testing.T) {
	cfg := echoConfig(echoFactory{breakAt: -1}, 4, false)
	a, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if a.UniqueTxs != b.UniqueTxs || a.Messages != b.Messages || a.Bytes != b.Bytes {
		t.Fatalf("two runs of one seed differ: %+v vs %+v", a, b)
	}
}

// TestSmokeACSEngineModeA runs the definition's mode A shape on the
// simulator's ACS test engine (a HoneyBadger-shaped common subset).
func TestSmokeACSEngineModeA(t *testing.T) {
	for _, c := range []struct {
		silent  int
		batched bool
	}{{0, false}, {1, false}, {0, true}, {1, true}} {
		silent := c.silent
		cfg := Config{Factory: simtest.ACSFactory{}, N: 4, TxPerNode: 100, Warmup: 1, Measured: 2, Seed: 1, Silent: silent, BatchDelivery: c.batched}
		res, _, err := RunMedian(cfg, 1)
		if err != nil {
			t.Fatalf("silent=%d: %v", silent, err)
		}
		if res.UniqueTxs == 0 || res.Messages == 0 || res.Bytes == 0 || res.TxPerSec() <= 0 {
			t.Fatalf("silent=%d: empty measurement %+v", silent, res)
		}
		// At least N−f contributions of B/N each are committed per epoch.
		if min := int64(cfg.Measured * (cfg.N - 1) * cfg.TxPerNode); res.UniqueTxs < min {
			t.Fatalf("silent=%d: %d unique transactions, want at least %d", silent, res.UniqueTxs, min)
		}
		if !strings.Contains(Table([]Row{{Mode: "A", Res: res, Reps: 1, Ref: 1000, RefTag: "ref"}}), "| A | 4 | 1 |") {
			t.Fatal("table row missing")
		}
	}
}

func TestSignedTransactionsEncodeToTheConfiguredSize(t *testing.T) {
	for _, size := range []int{173, 200, 250, 300, 1000} {
		g, err := newTxGen([32]byte{1}, size, true)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		tx, err := g.make()
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if len(tx.raw) != size && len(tx.raw) != size+1 {
			t.Fatalf("size %d: encoded %d", size, len(tx.raw))
		}
		dec, err := interfaces.DecodeTransaction(tx.raw)
		if err != nil || dec.VerifySignatures() != nil {
			t.Fatalf("size %d: decode %v", size, err)
		}
	}
	if _, err := newTxGen([32]byte{1}, 100, true); err == nil {
		t.Fatal("100-byte signed transactions accepted")
	}
}

func TestPoolProposesDistinctSamplesAndDropsOnlyCommitted(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 60).Draw(t, "pool")
		k := rapid.IntRange(1, 80).Draw(t, "k")
		var p pool
		for i := range n {
			p.txs = append(p.txs, poolTx{key: txKey{byte(i)}})
		}
		rng := rand.New(rand.NewPCG(rapid.Uint64().Draw(t, "seed"), 1))
		s := p.sample(rng, k, 3)
		if len(s) != min(k, n) {
			t.Fatalf("sampled %d of %d, want %d", len(s), n, min(k, n))
		}
		picked := map[txKey]bool{}
		for _, x := range s {
			if picked[x.key] {
				t.Fatalf("sample repeats %v", x.key)
			}
			picked[x.key] = true
		}
		if rapid.Bool().Draw(t, "committed") {
			p.committed(3)
			if len(p.txs) != n-len(s) {
				t.Fatalf("%d left after committing %d of %d", len(p.txs), len(s), n)
			}
			for _, x := range p.txs {
				if picked[x.key] {
					t.Fatalf("committed transaction %v still pooled", x.key)
				}
			}
		} else {
			p.settle(3)
			p.committed(3) // no longer outstanding: a no-op
			if len(p.txs) != n {
				t.Fatalf("pool shrank to %d without a commit", len(p.txs))
			}
		}
	})
}

func TestReplaceSectionKeepsTextAroundTheMarkers(t *testing.T) {
	doc, err := ReplaceSection("# Title\nintro", "one")
	if err != nil {
		t.Fatal(err)
	}
	doc = strings.Replace(doc, SectionEnd, SectionEnd+"\ntail\n", 1)
	doc2, err := ReplaceSection(doc, "two")
	if err != nil {
		t.Fatal(err)
	}
	want := "# Title\nintro\n\n" + SectionBegin + "\ntwo\n" + SectionEnd + "\ntail\n\n"
	if doc2 != want {
		t.Fatalf("got %q, want %q", doc2, want)
	}
	if _, err := ReplaceSection(SectionEnd+SectionBegin, "x"); err == nil {
		t.Fatal("markers out of order accepted")
	}
}

func TestMedianPicksTheMiddleRepetition(t *testing.T) {
	cfg := echoConfig(echoFactory{breakAt: -1}, 4, false)
	med, all, err := RunMedian(cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	below, above := 0, 0
	for _, r := range all {
		if r.TxPerSec() < med.TxPerSec() {
			below++
		}
		if r.TxPerSec() > med.TxPerSec() {
			above++
		}
	}
	if below > 1 || above > 1 || len(all) != 3 {
		t.Fatalf("median not in the middle: %d below, %d above", below, above)
	}
}

func FuzzSplitContribution(f *testing.F) {
	g, _ := newTxGen([32]byte{2}, DefaultTxSize, true)
	tx, _ := g.make()
	f.Add(encodeContribution([]poolTx{tx}, DefaultTxSize, true, 1), true)
	f.Add(make([]byte, 2*DefaultTxSize), false)
	f.Add([]byte{1, 0, 0}, true)
	f.Fuzz(func(t *testing.T, data []byte, signed bool) {
		txs, err := splitContribution(data, DefaultTxSize, signed)
		if err != nil {
			return
		}
		total := 0
		for _, x := range txs {
			total += len(x)
			if signed {
				if _, err := interfaces.DecodeTransaction(x); err != nil {
					t.Fatalf("split returned an undecodable transaction: %v", err)
				}
			}
		}
		if total > len(data) {
			t.Fatalf("split returned %d bytes from %d", total, len(data))
		}
	})
}

// TestSignedMessagesCountTheirBytesAndStillAgree: with every message
// signed and verified as a node does, the run agrees and commits the same
// transactions; only the bytes grow, by one signed envelope per message.
func TestSignedMessagesCountTheirBytesAndStillAgree(t *testing.T) {
	plain, err := Run(echoConfig(echoFactory{breakAt: -1}, 4, true))
	if err != nil {
		t.Fatal(err)
	}
	cfg := echoConfig(echoFactory{breakAt: -1}, 4, true)
	cfg.SignMessages = true
	signed, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if signed.UniqueTxs != plain.UniqueTxs || signed.Messages != plain.Messages {
		t.Fatalf("signed run: %d transactions in %d messages; plain: %d in %d", signed.UniqueTxs, signed.Messages, plain.UniqueTxs, plain.Messages)
	}
	if signed.Bytes <= plain.Bytes {
		t.Fatalf("signed messages took %d bytes, plain %d", signed.Bytes, plain.Bytes)
	}
}
