package conformance_test

import (
	"context"
	"strings"
	"testing"

	"github.com/constellation-chain/constellation/conformance"
	"github.com/constellation-chain/constellation/interfaces"
	"github.com/constellation-chain/constellation/plugins/contract"
)

// inProcess adapts an SDK contract to the suite.
type inProcess struct{ c *contract.Contract }

func (p inProcess) Describe(context.Context) (interfaces.ContractInterface, error) {
	return p.c.Describe(), nil
}

func (p inProcess) Invoke(ctx context.Context, req interfaces.InvokeRequest) (interfaces.InvokeResult, error) {
	return p.c.Invoke(ctx, req)
}

func counter(flaw string) *contract.Contract {
	c := contract.New()
	calls := uint64(0)
	contract.Method(c, "add", func(call *contract.Call, n uint64) (uint64, error) {
		v, err := call.GetU64("a")
		if err != nil {
			return 0, err
		}
		if flaw == "remembers" {
			calls++ // state outside the chain's: a second call answers differently
			v += calls
		}
		call.PutU64("a", v+n)
		return v + n, nil
	})
	contract.Method(c, "echo", func(_ *contract.Call, s string) (string, error) { return s, nil })
	return c
}

func TestContractSuiteCatchesAContractWithMemory(t *testing.T) {
	for flaw, wantCase := range map[string]string{"remembers": "determinism-same-call-same-answer", "": ""} {
		r := &conformance.Runner{}
		r.Run("contract", func(tb conformance.TB) { conformance.ContractSuite(tb, inProcess{counter(flaw)}) })
		failed := map[string]bool{}
		for _, res := range r.Results() {
			if res.Status == conformance.Fail {
				failed[strings.TrimPrefix(res.Name, "contract/")] = true
			}
		}
		delete(failed, "contract")
		if wantCase == "" {
			if len(failed) > 0 {
				t.Errorf("a sound contract failed %v", failed)
			}
			continue
		}
		if !failed[wantCase] {
			t.Errorf("contract with flaw %q passed %s (failed: %v)", flaw, wantCase, failed)
		}
	}
}
