package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestKeygenRefusesAClusterOfNoMembers: `keygen --cluster N` with N below
// one (or a negative --faulty) says what N (or f) is and writes nothing.
func TestKeygenRefusesAClusterOfNoMembers(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"keygen", "--cluster", "-3"}, "--cluster -3: N is the number of members"},
		{[]string{"keygen", "--cluster", "0"}, "--cluster 0: N is the number of members"},
		{[]string{"keygen", "--out", "x.key", "--cluster", "-3"}, "--cluster -3"},
		{[]string{"keygen", "--cluster", "4", "--faulty", "-1"}, "--faulty -1"},
	} {
		if _, errOut, code := run(t, dir, c.args...); code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %q; want %q", c.args, code, errOut, c.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a refused keygen wrote %v", entries)
	}
}

// TestPluginServeNamesTheBuiltins: serving a plugin that is not built in
// fails and names every built-in there is.
func TestPluginServeNamesTheBuiltins(t *testing.T) {
	_, errOut, code := run(t, t.TempDir(), "plugin", "serve", "foo/bar")
	if code == 0 || !strings.Contains(errOut, `no built-in plugin "foo/bar"; built-ins: `) {
		t.Fatalf("plugin serve foo/bar: exit %d, %q", code, errOut)
	}
	for _, p := range builtins() {
		info := p.Info()
		if ref := string(info.Kind) + "/" + info.Name; !strings.Contains(errOut, ref) {
			t.Errorf("the error does not name %s: %q", ref, errOut)
		}
	}
}

// TestPluginListShowsTheNodeSettingsOfEveryConsensusEngine: every consensus
// plugin's config block takes batch_size and block_interval_ms, so `plugin
// list` shows them under every consensus engine, declared or not.
func TestPluginListShowsTheNodeSettingsOfEveryConsensusEngine(t *testing.T) {
	out, errOut, code := run(t, t.TempDir(), "plugin", "list")
	if code != 0 {
		t.Fatalf("plugin list: exit %d: %s", code, errOut)
	}
	var plugin string
	seen := map[string]map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 && !strings.HasPrefix(l, " ") {
			plugin = f[0]
			seen[plugin] = map[string]bool{}
		} else if len(f) > 0 {
			seen[plugin][f[0]] = true
		}
	}
	for _, ref := range []string{"consensus/solo", "consensus/honeybadger"} {
		for _, field := range []string{"batch_size", "block_interval_ms"} {
			if !seen[ref][field] {
				t.Errorf("plugin list shows no %s under %s:\n%s", field, ref, out)
			}
		}
	}
	if !strings.Contains(out, "(node setting)") {
		t.Errorf("the node's settings are not marked as such:\n%s", out)
	}
}

// TestManifestDocShowsWhatValidatePrints: the sample error in
// docs/manifest.md is what `manifest validate` prints for its broken.hcl
// (the default manifest with the consensus plugin misspelt "sollo"),
// numbers aside, so that a change of the report's format shows up here.
func TestManifestDocShowsWhatValidatePrints(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "manifest.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "`\"sollo\"`:\n\n```\n")
	sample, _, ok2 := strings.Cut(rest, "```\n")
	if !ok || !ok2 {
		t.Fatal("docs/manifest.md has no sample error for a broken.hcl with \"sollo\"")
	}
	dir := t.TempDir()
	src, errOut, code := run(t, dir, "manifest", "default")
	if code != 0 {
		t.Fatalf("manifest default: %s", errOut)
	}
	broken := strings.Replace(src, `plugin "consensus" "honeybadger"`, `plugin "consensus" "sollo"`, 1)
	if broken == src {
		t.Fatal(`the default manifest has no plugin "consensus" "honeybadger" to misspell`)
	}
	if err := os.WriteFile(filepath.Join(dir, "broken.hcl"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = run(t, dir, "manifest", "validate", "broken.hcl")
	if code != 1 {
		t.Fatalf("manifest validate broken.hcl: exit %d, want 1", code)
	}
	numbers := regexp.MustCompile(`[0-9]+`)
	if got, want := numbers.ReplaceAllString(errOut, "N"), numbers.ReplaceAllString(sample, "N"); got != want {
		t.Fatalf("docs/manifest.md shows\n%s\nmanifest validate prints\n%s", sample, errOut)
	}
}
