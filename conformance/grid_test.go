package conformance_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/constellation-chain/constellation/conformance"
	"github.com/constellation-chain/constellation/conformance/sim/simtest"
	"github.com/constellation-chain/constellation/interfaces"
)

// Every grid runs every case at N=4 and N=7; the full grid adds N=10 and
// N=16 and more seeds and epochs; no grid is smaller than the quick one.
func TestEveryGridCoversEveryPropertyAtFourAndSeven(t *testing.T) {
	for _, g := range []conformance.Grid{conformance.GridShort, conformance.GridDefault, conformance.GridFull} {
		spec := g.Spec(false)
		if !slices.Contains(spec.Sizes, 4) || !slices.Contains(spec.Sizes, 7) {
			t.Errorf("%s grid %s lacks N=4 or N=7", g, spec)
		}
		short := conformance.GridShort.Spec(false)
		if spec.Seeds < short.Seeds || spec.Epochs < short.Epochs {
			t.Errorf("%s grid %s runs less than the short grid %s", g, spec, short)
		}
	}
	full := conformance.GridFull.Spec(false)
	if !slices.Equal(full.Sizes, []int{4, 7, 10, 16}) || full.Seeds != 10 || full.Epochs != 6 {
		t.Errorf("the full grid is %s, want N=4,7,10,16 with 10 seeds and 6 epochs", full)
	}
	if got := conformance.GridAuto.Spec(true); !slices.Equal(got.Sizes, conformance.GridShort.Spec(false).Sizes) {
		t.Errorf("GridAuto under -short is %s, want the short grid", got)
	}
	if got := conformance.GridAuto.Spec(false); !slices.Equal(got.Sizes, full.Sizes) || got.Seeds != full.Seeds {
		t.Errorf("GridAuto without -short is %s, want the full grid", got)
	}
}

// The default grid, run through SuiteWith as the CLI runs it, reports
// every property of the suite at N=4 and at N=7, and nothing larger.
func TestDefaultGridRunsEveryCaseAtFourAndSeven(t *testing.T) {
	r := &conformance.Runner{}
	r.Run("consensus", func(tb conformance.TB) {
		if err := conformance.SuiteWith(tb, simtest.ACSFactory{}, conformance.SuiteOptions{Grid: conformance.GridDefault}); err != nil {
			t.Fatal(err)
		}
	})
	seen := map[string]bool{}
	for _, res := range r.Results() {
		if res.Status == conformance.Fail {
			t.Errorf("%s failed: %v", res.Name, res.Messages)
		}
		if strings.HasSuffix(res.Name, "/N=10") || strings.HasSuffix(res.Name, "/N=16") {
			t.Errorf("the default grid ran %s", res.Name)
		}
		seen[res.Name] = true
	}
	for _, prop := range []string{"agreement", "validity", "termination-under-asynchrony",
		"byzantine/silent", "byzantine/crash-mid-epoch", "byzantine/garbage", "byzantine/bitflip", "byzantine/replay-old-messages", "byzantine/equivocation",
		"censorship-resilience", "censorship-plaintext-scheduler", "crash-restart-replay", "restart-at-any-point",
		"robustness", "determinism", "threshold-signature"} {
		for _, n := range []int{4, 7} {
			name := fmt.Sprintf("consensus/%s/N=%d", prop, n)
			// Cases needing a capability the reference engine lacks are
			// skipped at the group level, before the sizes.
			group := "consensus/" + prop
			if !seen[name] && !seen[group] {
				t.Errorf("the default grid did not report %s", name)
			}
		}
	}
}

// The default grid, like the quick one, fails an engine lacking a property,
// at N=4 and at N=7, in the case named after the property.
func TestDefaultGridCatchesEnginesLackingAProperty(t *testing.T) {
	for _, tc := range []struct {
		engine string
		f      interfaces.ConsensusFactory
		prop   string // the case that must fail, at N=4 and N=7
		want   string // in its failure message
	}{
		{"members deciding different orders", brokenFactory{}, "agreement", "agreement violated"},
		{"a panic on empty input", panickyFactory{}, "robustness", "robustness violated"},
		{"a censoring proposer", censorFactory{censor: true}, "censorship-resilience", "censorship resilience violated"},
		{"contributions in the clear", censorFactory{}, "censorship-plaintext-scheduler", "censorship resilience violated"},
		{"fault tolerance claimed but absent", overclaimFactory{}, "byzantine/silent", "termination violated"},
	} {
		t.Run(tc.engine, func(t *testing.T) {
			r := &conformance.Runner{}
			r.Run("consensus", func(tb conformance.TB) {
				conformance.ConsensusSuiteWith(tb, tc.f, conformance.ConsensusOptions{Grid: conformance.GridDefault})
			})
			failed := map[string]string{}
			for _, res := range r.Results() {
				if res.Status == conformance.Fail {
					failed[res.Name] = strings.Join(res.Messages, "\n")
				}
			}
			for _, n := range []int{4, 7} {
				name := fmt.Sprintf("consensus/%s/N=%d", tc.prop, n)
				msg, ok := failed[name]
				if !ok {
					t.Errorf("%s passed on an engine with %s", name, tc.engine)
					continue
				}
				if !strings.Contains(msg, tc.want) {
					t.Errorf("%s failed without saying %q:\n%s", name, tc.want, msg)
				}
			}
		})
	}
}
