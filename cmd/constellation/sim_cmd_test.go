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

// TestSimReputationCommitteeSweepWritesTheFigure: --committee-sweep runs
// the adaptive sleeper over the committee sizes and, with --out, replaces
// the committee-size section and writes its plot beside the file.
func TestSimReputationCommitteeSweepWritesTheFigure(t *testing.T) {
	dir := t.TempDir()
	doc := filepath.Join(dir, "doc.md")
	if err := os.WriteFile(doc, []byte("# T\n\n## Committee size and capture\n\nold\n\n## After\n\nkept\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := run(t, dir, "sim", "reputation", "--committee-sweep", "--stars", "200", "--rounds", "300",
		"--seeds", "1", "--k", "10,20", "--scenario-byzantine", "25", "--out", doc)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	got, _ := os.ReadFile(doc)
	for _, want := range []string{"## Committee size and capture\n", "adaptive-sleeper", "| 25 % | uniform |", "k = 20", "img/reputation-committee-size.png", "## After\n\nkept\n"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("document lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(string(got), "\nold\n") {
		t.Error("the old section was kept")
	}
	if _, err := os.Stat(filepath.Join(dir, "img", "reputation-committee-size.png")); err != nil {
		t.Errorf("plot not written: %v", err)
	}
}
