package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/constellation-chain/constellation/conformance"
)

// The suite must reject this plugin, and each failure must name the
// property the plugin breaks. This test runs the suite through the same
// Runner the CLI uses and prints the report the CLI would print.
func TestConformanceNamesEveryViolatedProperty(t *testing.T) {
	r := &conformance.Runner{ShortMode: testing.Short()}
	r.Run("reputation", func(t conformance.TB) { conformance.ReputationSuite(t, Factory{}) })
	results := r.Results()

	var table bytes.Buffer
	if err := conformance.WriteTable(&table, results); err != nil {
		t.Fatal(err)
	}
	t.Logf("conformance report:\n%s", table.String())

	status := map[string]conformance.Status{}
	messages := map[string]string{}
	for _, res := range results {
		name := strings.TrimPrefix(res.Name, "reputation/")
		status[name] = res.Status
		messages[name] = strings.Join(res.Messages, "\n")
	}
	for _, c := range []string{
		"selection-returns-k-distinct-sorted-candidates",
		"different-seeds-give-different-selections",
		"restore-of-garbage-is-an-error",
	} {
		if status[c] != conformance.Fail {
			t.Errorf("case %s: status %q, want fail", c, status[c])
			continue
		}
		if strings.TrimSpace(messages[c]) == "" {
			t.Errorf("case %s failed without a message", c)
		}
	}
	for _, c := range []string{"info-describes-a-reputation-plugin", "unknown-stars-share-the-newcomer-score"} {
		if status[c] != conformance.Pass {
			t.Errorf("case %s: status %q, want pass (the plugin gets these right):\n%s", c, status[c], messages[c])
		}
	}
	if !r.Failed() {
		t.Error("the runner reports no failure for a broken plugin")
	}
}
