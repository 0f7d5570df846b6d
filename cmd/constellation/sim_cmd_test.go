package main

import (
	"os"
	"path/filepath"
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
