package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReplaceSectionKeepsTheRestOfTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "doc.md")
	if err := os.WriteFile(path, []byte("# T\n\n## A\n\na\n\n## Simulation results\n\nold\n\n## B\n\nb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := replaceSection(path, "## Simulation results", "## Simulation results\n\nnew\n"); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if want := "# T\n\n## A\n\na\n\n## Simulation results\n\nnew\n\n## B\n\nb\n"; string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
	// Absent: appended.
	if err := os.WriteFile(path, []byte("# T\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := replaceSection(path, "## Simulation results", "## Simulation results\n\nnew\n"); err != nil {
		t.Fatal(err)
	}
	got, _ = os.ReadFile(path)
	if want := "# T\n\n## Simulation results\n\nnew\n"; string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestSimReputationQuickWritesNothing: without --out the simulation only
// prints; it once rewrote docs/reputation.md and its plots (and made
// ./docs/ wherever it ran).
func TestSimReputationQuickWritesNothing(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := run(t, dir, "sim", "reputation", "--quick", "--scenarios", "static,sleeper")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "sleeper") {
		t.Fatalf("no results printed:\n%s", out)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Fatalf("sim reputation --quick wrote %d entries into its working directory (%s)", len(entries), entries[0].Name())
	}
}
