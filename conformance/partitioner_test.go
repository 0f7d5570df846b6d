package conformance_test

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/constellation-chain/constellation/conformance"
	"github.com/constellation-chain/constellation/interfaces"
)

// brokenPartitioner breaks one property of interfaces.Partitioner.
type brokenPartitioner struct{ flaw string }

var calls atomic.Int64 // shared by every instance: state outside the instance

func (b brokenPartitioner) Info() interfaces.PluginInfo {
	return interfaces.PluginInfo{Kind: interfaces.KindPartitioner, Name: "broken-" + b.flaw, Version: "0.0.1", APIVersions: []int{interfaces.APIVersion}}
}

func (b brokenPartitioner) NewPartitioner(k int, _ []byte) (interfaces.Partitioner, error) {
	return &brokenInstance{flaw: b.flaw, k: k}, nil
}

type brokenInstance struct {
	flaw string
	k    int
}

func (p *brokenInstance) Assign(tx *interfaces.Transaction) interfaces.ClusterID {
	switch p.flaw {
	case "out-of-range":
		return interfaces.ClusterID(p.k)
	case "by-transaction":
		id := tx.ID()
		return interfaces.ClusterID(int(id[0]) % p.k)
	case "global-state":
		return interfaces.ClusterID(int(tx.Sender[0]+byte(calls.Add(1)/7)) % p.k)
	case "all-in-one":
		return 0
	}
	return interfaces.ClusterID(int(tx.Sender[0]) % p.k)
}

func (p *brokenInstance) Learn(*interfaces.Block) error { return nil }
func (p *brokenInstance) Clusters() int                 { return p.k }

// TestPartitionerSuiteCatchesEachFlaw: every case of the suite fails on a
// partitioner that lacks its property, and a sound one passes all.
func TestPartitionerSuiteCatchesEachFlaw(t *testing.T) {
	for flaw, wantCase := range map[string]string{
		"out-of-range":   "assignments-are-clusters-that-exist",
		"by-transaction": "one-owner-per-sender",
		"global-state":   "determinism-same-blocks-same-assignments",
		"all-in-one":     "uses-every-cluster",
		"":               "",
	} {
		r := &conformance.Runner{}
		r.Run("partitioner", func(tb conformance.TB) { conformance.PartitionerSuite(tb, brokenPartitioner{flaw}) })
		failed := map[string]bool{}
		for _, res := range r.Results() {
			if res.Status == conformance.Fail {
				failed[strings.TrimPrefix(res.Name, "partitioner/")] = true
			}
		}
		if wantCase == "" {
			delete(failed, "partitioner")
			if len(failed) > 0 {
				t.Errorf("a sound partitioner failed %v", failed)
			}
			continue
		}
		if !failed[wantCase] {
			t.Errorf("partitioner with flaw %q passed %s (failed: %v)", flaw, wantCase, failed)
		}
	}
}
