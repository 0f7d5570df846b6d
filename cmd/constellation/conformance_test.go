package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/constellation-chain/constellation/conformance"
)

// TestEveryBuiltinPassesItsSuiteInAndOutOfProcess runs the conformance
// command against every built-in that has a suite, once in process and once
// served by a child process over the plugin RPC.
func TestEveryBuiltinPassesItsSuiteInAndOutOfProcess(t *testing.T) {
	for _, p := range builtins() {
		info := p.Info()
		has := false
		for _, k := range conformance.Kinds {
			has = has || k == info.Kind
		}
		if !has {
			continue
		}
		ref := string(info.Kind) + "/" + info.Name
		for _, mode := range [][]string{nil, {"--out-of-process"}} {
			name := ref + "/in-process"
			if mode != nil {
				name = ref + "/out-of-process"
			}
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				junit := filepath.Join(dir, "report.xml")
				args := append([]string{"conformance", "--builtin", ref, "--short", "--junit", junit}, mode...)
				out, errOut, code := run(t, dir, args...)
				if code != 0 {
					t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
				}
				if !strings.Contains(out, " 0 failed") {
					t.Fatalf("no summary line:\n%s", out)
				}
				// The run names its mode first and its total time last.
				if !strings.Contains(errOut, "\nshort run") || !strings.Contains(errOut, "short run took ") {
					t.Fatalf("the run does not name its mode and report its time:\n%s", errOut)
				}
				if b, err := os.ReadFile(junit); err != nil || !strings.Contains(string(b), "<testsuite") {
					t.Fatalf("junit report: %v\n%s", err, b)
				}
			})
		}
	}
}

func TestConformanceRefusesAChecksumMismatch(t *testing.T) {
	dir := t.TempDir()
	_, errOut, code := run(t, dir, "conformance", "--kind", "consensus", "--plugin", binary, "--sha256", strings.Repeat("00", 32))
	if code == 0 || !strings.Contains(errOut, "checksum mismatch") || !strings.Contains(errOut, "--sha256 says") || strings.Contains(errOut, "manifest") {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
	_, errOut, code = run(t, dir, "conformance", "--kind", "consensus", "--plugin", binary)
	if code == 0 || !strings.Contains(errOut, "no sha256") {
		t.Fatalf("unchecked binary accepted without --dev: exit %d:\n%s", code, errOut)
	}
	// The hint names the command's own flags, not a manifest entry.
	if !strings.Contains(errOut, "--sha256") || !strings.Contains(errOut, "--dev") || strings.Contains(errOut, "manifest") {
		t.Fatalf("the missing-checksum hint does not name --sha256 and --dev:\n%s", errOut)
	}
}

func TestConformanceTakesShortOrFullNotBoth(t *testing.T) {
	_, errOut, code := run(t, t.TempDir(), "conformance", "--builtin", "consensus/solo", "--short", "--full")
	if code == 0 || !strings.Contains(errOut, "--short or --full") {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
}
