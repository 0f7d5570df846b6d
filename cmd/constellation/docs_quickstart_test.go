package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// quickstartMarker marks a block of docs/plugin-authors.md as part of the
// quickstart: "<!-- quickstart: sh -->" before a shell block to run, or
// "<!-- quickstart: file NAME -->" before the contents of the file NAME.
var quickstartMarker = regexp.MustCompile(`^<!-- quickstart: (sh|file ([A-Za-z0-9_.-]+)) -->$`)

// quickstartBlock is one marked block: a shell block (file == "") or a
// file's contents.
type quickstartBlock struct {
	line int // of the marker, 1-based
	file string
	body string
}

// quickstartBlocks extracts the marked blocks of a Markdown page, in page
// order. A marker must be followed, on the next line, by a fenced block.
func quickstartBlocks(page string) ([]quickstartBlock, error) {
	lines := strings.Split(page, "\n")
	var out []quickstartBlock
	for i := 0; i < len(lines); i++ {
		m := quickstartMarker.FindStringSubmatch(strings.TrimSpace(lines[i]))
		if m == nil {
			continue
		}
		b := quickstartBlock{line: i + 1, file: m[2]}
		if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "```") {
			return nil, fmt.Errorf("line %d: a quickstart marker must be followed by a fenced block", i+1)
		}
		end := -1
		for j := i + 2; j < len(lines); j++ {
			if strings.HasPrefix(lines[j], "```") {
				end = j
				break
			}
		}
		if end < 0 {
			return nil, fmt.Errorf("line %d: the quickstart block is not closed", i+2)
		}
		b.body = strings.Join(lines[i+2:end], "\n") + "\n"
		out = append(out, b)
		i = end
	}
	return out, nil
}

// TestPluginAuthorQuickstart follows docs/plugin-authors.md as a plugin
// author would, from the page alone: beside a checkout of this repository
// it runs the page's marked shell blocks in order (module setup, go test,
// build, `constellation conformance --kind reputation --plugin ./my-plugin`)
// with the marked Go blocks written where the page says, and checks that
// the plugin it describes passes every case of the reputation suite out of
// process. The builds are offline (GOPROXY=off, modules from the cache a
// build of this module filled), so the page's instructions must work
// without the module proxy.
func TestPluginAuthorQuickstart(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the plugin-author quickstart builds and tests a plugin module (about a minute); run without -short (make test does)")
	}
	root := repoRoot(t)
	page, err := os.ReadFile(filepath.Join(root, "docs", "plugin-authors.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := quickstartBlocks(string(page))
	if err != nil {
		t.Fatalf("docs/plugin-authors.md: %v", err)
	}
	var script strings.Builder
	script.WriteString("set -ex\n")
	files := 0
	for _, b := range blocks {
		if b.file == "" {
			fmt.Fprintf(&script, "# docs/plugin-authors.md:%d\n%s", b.line, b.body)
			continue
		}
		files++
		if !strings.HasPrefix(b.body, "package ") {
			t.Errorf("docs/plugin-authors.md:%d: the block for %s is not a whole Go file (it must start with its package clause and imports)", b.line, b.file)
		}
		if strings.Contains(b.body, "QUICKSTART_EOF") {
			t.Fatalf("docs/plugin-authors.md:%d: the block for %s contains the here-document terminator", b.line, b.file)
		}
		fmt.Fprintf(&script, "# docs/plugin-authors.md:%d\ncat > %s <<'QUICKSTART_EOF'\n%sQUICKSTART_EOF\n", b.line, b.file, b.body)
	}
	if files < 3 || !strings.Contains(script.String(), "constellation conformance") {
		t.Fatalf("docs/plugin-authors.md marks %d files and %d blocks in all; want the plugin's files and a conformance run", files, len(blocks))
	}

	// The layout the page assumes: the checkout beside the plugin's
	// directory, and the constellation command on PATH.
	dir := t.TempDir()
	if err := os.Symlink(root, filepath.Join(dir, "constellation")); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(binary, filepath.Join(bin, "constellation")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	cmd := exec.Command("sh", "-c", script.String())
	cmd.Dir = dir
	// No GOFLAGS=-mod=mod here: the page's commands must say it themselves.
	cmd.Env = offlineGoEnv("GOFLAGS=", "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the quickstart fails: %v\nscript:\n%s\noutput:\n%s", err, script.String(), out)
	}
	t.Logf("the quickstart ran in %s", time.Since(start).Round(time.Millisecond))

	var report struct {
		Summary struct{ Passed, Failed, Skipped int }
	}
	raw, err := os.ReadFile(filepath.Join(dir, "my-plugin", "conformance.json"))
	if err != nil {
		t.Fatalf("the quickstart's conformance run wrote no JSON report: %v\n%s", err, out)
	}
	if err := json.Unmarshal(raw, &report); err != nil {
		t.Fatalf("conformance.json: %v\n%s", err, raw)
	}
	if report.Summary.Failed != 0 || report.Summary.Skipped != 0 || report.Summary.Passed < 10 {
		t.Fatalf("the quickstart's plugin does not pass the whole reputation suite: %+v\n%s", report.Summary, out)
	}
	// The page's example output starts with the lines the command prints.
	for _, want := range []string{"checking ./my-plugin: reputation/my-trust 0.1.0, capabilities [snapshot]", "\ndefault run\n", "10 passed, 0 failed, 0 skipped", "default run took "} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the page's example output lacks %q", want)
		}
		if !strings.Contains(string(out), want) {
			t.Errorf("the conformance run did not print %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "my-plugin", "conformance.xml")); err != nil {
		t.Errorf("no JUnit report: %v", err)
	}
}

// The extraction itself: markers, fences, and a marker without a block.
func TestQuickstartBlocksAreExtractedInPageOrder(t *testing.T) {
	page := "intro\n<!-- quickstart: sh -->\n```sh\necho hi\n```\ntext\n<!-- quickstart: file a.go -->\n```go\npackage a\n```\n```go\nnot marked\n```\n"
	got, err := quickstartBlocks(page)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].file != "" || got[0].body != "echo hi\n" || got[1].file != "a.go" || got[1].body != "package a\n" {
		t.Fatalf("got %+v", got)
	}
	if _, err := quickstartBlocks("<!-- quickstart: sh -->\ntext\n"); err == nil {
		t.Fatal("a marker without a fenced block was accepted")
	}
}
