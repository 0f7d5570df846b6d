package main

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/interfaces"
)

// Helpers for tests that build a plugin the way a third party does: its own
// Go module, outside this one, with a replace directive pointing at this
// checkout. The builds are offline: GOPROXY=off, the checkout's go.sum
// copied in, and every module from the cache a build of this module filled
// (GOMODCACHE is inherited), so a test needs no network beyond what
// `go build ./cmd/constellation` already downloaded.

// repoRoot is the checkout holding this package (two levels up).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod at the repository root %s: %v", root, err)
	}
	return root
}

// offlineGoEnv is the environment for go commands run on a plugin module:
// this process's, with the module proxy and any workspace turned off (the
// checksums come from the go.sum copied from this checkout), -mod=mod so
// the first build records the requirements the replaced module brings, and
// extra (later entries win).
func offlineGoEnv(extra ...string) []string {
	env := append(os.Environ(), "GOPROXY=off", "GOWORK=off", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
	return append(env, extra...)
}

// goCmd runs a go command in dir with offlineGoEnv, failing the test with
// its output if it fails.
func goCmd(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = offlineGoEnv()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s (in %s): %v\n%s", strings.Join(args, " "), dir, err, out)
	}
}

// buildPluginModule writes files (name -> Go source) into a fresh module
// example.com/NAME under dir, points it at this checkout and builds the
// binary dir/NAME/NAME, which it returns.
func buildPluginModule(t *testing.T, dir, name string, files map[string]string) string {
	t.Helper()
	mod := filepath.Join(dir, name)
	if err := os.MkdirAll(mod, 0o755); err != nil {
		t.Fatal(err)
	}
	for f, src := range files {
		if err := os.WriteFile(filepath.Join(mod, f), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	root := repoRoot(t)
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mod, "go.sum"), sum, 0o644); err != nil {
		t.Fatal(err)
	}
	goCmd(t, mod, "mod", "init", "example.com/"+name)
	goCmd(t, mod, "mod", "edit", "-replace", "github.com/constellation-chain/constellation="+root)
	goCmd(t, mod, "get", "github.com/constellation-chain/constellation")
	bin := filepath.Join(mod, name)
	goCmd(t, mod, "build", "-o", bin, ".")
	return bin
}

// withExternalReputation writes a copy of the manifest at src as dst, its
// reputation plugin block replaced by one naming the binary at path
// (relative to the manifest) by its sha256.
func withExternalReputation(t *testing.T, src, dst, name, path string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := fileSHA256(filepath.Join(filepath.Dir(dst), path))
	if err != nil {
		t.Fatal(err)
	}
	builtin := "plugin \"reputation\" \"meme\" {\n  source = \"builtin\"\n}\n"
	if !bytes.Contains(b, []byte(builtin)) {
		t.Fatalf("manifest %s has no built-in meme block to replace:\n%s", src, b)
	}
	external := fmt.Sprintf("plugin \"reputation\" %q {\n  path   = %q\n  sha256 = %q\n}\n", name, path, hex.EncodeToString(sum))
	if err := os.WriteFile(dst, bytes.Replace(b, []byte(builtin), []byte(external), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

// parseScore reads a score as explain and replay print it ("0.1",
// "0.100000000", "1").
func parseScore(t *testing.T, s string) interfaces.Score {
	t.Helper()
	whole, frac, _ := strings.Cut(s, ".")
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || len(frac) > 9 {
		t.Fatalf("score %q is not a decimal with at most nine places", s)
	}
	f := int64(0)
	if frac != "" {
		if f, err = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64); err != nil {
			t.Fatalf("score %q: %v", s, err)
		}
	}
	return interfaces.Score(w)*interfaces.ScoreOne + interfaces.Score(f)
}

// explainScore finds the score in explain's output: the built-in meme's
// "score     X" line or a plugin's "STAR score X" line.
func explainScore(t *testing.T, out string) interfaces.Score {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) == 2 && f[0] == "score":
			return parseScore(t, f[1])
		case len(f) == 3 && f[1] == "score":
			return parseScore(t, f[2])
		}
	}
	t.Fatalf("no score in explain's output:\n%s", out)
	return 0
}

// TestReputationCommandsGiveTheSameAnswersThroughAnExternalPlugin rebuilds
// reputation from a testnet's chain twice: with the built-in meme, and with
// the same meme code as an external plugin (this binary's `plugin serve
// reputation/meme` behind a launcher the manifest names by path and
// sha256, the way it names a third-party binary). `reputation replay`
// prints the same draw and scores, byte for byte, and `reputation explain`
// the same score for every star (the built-in also prints its features,
// which do not cross the plugin RPC). A plugin that fails while answering
// makes both commands fail naming the failure, rather than print a score
// of 0 and exit 0.
func TestReputationCommandsGiveTheSameAnswersThroughAnExternalPlugin(t *testing.T) {
	dir := t.TempDir()
	builtinManifest := singleNodeManifest(t, dir)
	// Free ports instead of the fixed 7001/8001, so that a local network
	// someone runs beside the tests is not mistaken for this one.
	ports := freePorts(t, 2)
	src, err := os.ReadFile(builtinManifest)
	if err != nil {
		t.Fatal(err)
	}
	src = bytes.Replace(src, []byte("tcp/7001"), []byte(fmt.Sprintf("tcp/%d", ports[0])), 1)
	src = bytes.Replace(src, []byte("127.0.0.1:8001"), []byte(fmt.Sprintf("127.0.0.1:%d", ports[1])), 1)
	if err := os.WriteFile(builtinManifest, src, 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	if out, errOut, code := run(t, dir, "--log-level", "warn", "testnet", "--manifest", builtinManifest, "--data", data, "--blocks", "6", "--rate", "800"); code != 0 {
		t.Fatalf("testnet exit %d\n%s\n%s", code, out, errOut)
	}
	node := filepath.Join(data, "star-1")

	if err := os.MkdirAll(filepath.Join(dir, "plugins"), 0o755); err != nil {
		t.Fatal(err)
	}
	launcher := filepath.Join(dir, "plugins", "meme")
	if err := os.WriteFile(launcher, []byte("#!/bin/sh\nexec '"+binary+"' plugin serve reputation/meme\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	externalManifest := filepath.Join(dir, "external.hcl")
	withExternalReputation(t, builtinManifest, externalManifest, "meme", "./plugins/meme")

	seed := interfaces.Sum([]byte("a beacon")).String()
	replay := func(m string) []string {
		return []string{"--log-level", "warn", "reputation", "replay", "--manifest", m, "--data", node, "--seed", seed, "--k", "2",
			"--candidate", "star-1", "--candidate", "dev:faucet", "--candidate", "dev:alice"}
	}
	explain := func(m, star string) []string {
		return []string{"--log-level", "warn", "reputation", "explain", "--manifest", m, "--data", node, star}
	}

	want, errOut, code := run(t, dir, replay(builtinManifest)...)
	if code != 0 || !strings.Contains(want, "2 of 3 candidates") {
		t.Fatalf("replay with the built-in: exit %d\n%s\n%s", code, want, errOut)
	}
	got, errOut, code := run(t, dir, replay(externalManifest)...)
	if code != 0 {
		t.Fatalf("replay with the external plugin: exit %d\n%s\n%s", code, got, errOut)
	}
	if got != want {
		t.Fatalf("replay differs between the built-in and the external plugin:\nbuilt-in:\n%s\nexternal:\n%s", want, got)
	}
	if strings.Contains(errOut, "closed") || strings.Contains(errOut, "failed") {
		t.Fatalf("replay with the external plugin logged a failure:\n%s", errOut)
	}
	t.Logf("replay, built-in and external:\n%s", got)

	for _, star := range []string{"star-1", "dev:faucet", "dev:nobody"} {
		bOut, bErr, code := run(t, dir, explain(builtinManifest, star)...)
		if code != 0 {
			t.Fatalf("explain %s with the built-in: exit %d\n%s\n%s", star, code, bOut, bErr)
		}
		eOut, eErr, code := run(t, dir, explain(externalManifest, star)...)
		if code != 0 {
			t.Fatalf("explain %s with the external plugin: exit %d\n%s\n%s", star, code, eOut, eErr)
		}
		if strings.Contains(eErr, "closed") || strings.Contains(eErr, "score failed") {
			t.Fatalf("explain %s with the external plugin logged a failure:\n%s", star, eErr)
		}
		bFirst, _, _ := strings.Cut(bOut, "\n")
		eFirst, _, _ := strings.Cut(eOut, "\n")
		if bFirst != eFirst || !strings.HasPrefix(bFirst, "after block ") {
			t.Fatalf("explain %s: the built-in says %q, the external plugin %q", star, bFirst, eFirst)
		}
		b, e := explainScore(t, bOut), explainScore(t, eOut)
		if b != e {
			t.Fatalf("explain %s: the built-in scores %d, the external plugin %d\nbuilt-in:\n%s\nexternal:\n%s", star, b, e, bOut, eOut)
		}
		// star-1 proposed every block: a score above the newcomer's 0, so
		// the comparison is not only between newcomer scores.
		if star == "star-1" && b == 0 {
			t.Fatalf("explain star-1: score 0 after a chain it built\n%s", bOut)
		}
		t.Logf("explain %s through the external plugin:\n%s", star, eOut)
	}

	// A plugin that cannot answer Score: both commands fail and say why.
	if testing.Short() {
		t.Skip("-short: skipping the failing-plugin half, which builds a plugin module")
	}
	start := time.Now()
	buildPluginModule(t, filepath.Join(dir, "plugins"), "failing-reputation", map[string]string{"main.go": failingReputationSource})
	t.Logf("built the failing plugin in %s", time.Since(start).Round(time.Millisecond))
	failingManifest := filepath.Join(dir, "failing.hcl")
	withExternalReputation(t, builtinManifest, failingManifest, "meme", "./plugins/failing-reputation/failing-reputation")
	for _, args := range [][]string{explain(failingManifest, "star-1"), replay(failingManifest)} {
		out, errOut, code := run(t, dir, args...)
		if code == 0 {
			t.Fatalf("%s with a plugin that fails to score exited 0:\n%s\n%s", args[3], out, errOut)
		}
		if strings.Contains(out, " score ") {
			t.Fatalf("%s with a plugin that fails to score printed a score:\n%s", args[3], out)
		}
		if !strings.Contains(errOut, "the reputation plugin did not answer") || !strings.Contains(errOut, "fails on purpose") {
			t.Fatalf("%s: the error does not name the plugin's failure:\n%s", args[3], errOut)
		}
		t.Logf("%s with a failing plugin: exit %d\n%s", args[3], code, errOut)
	}
}

// failingReputationSource is the built-in meme with a Score that panics: the
// plugin server turns the panic into an error for the host.
const failingReputationSource = `package main

import (
	"github.com/constellation-chain/constellation/builtin/meme"
	"github.com/constellation-chain/constellation/interfaces"
	"github.com/constellation-chain/constellation/plugins"
)

type factory struct{ meme.Factory }

func (f factory) NewReputation(params []byte) (interfaces.Reputation, error) {
	r, err := f.Factory.NewReputation(params)
	return failing{r}, err
}

type failing struct{ interfaces.Reputation }

func (failing) Score(interfaces.StarID) interfaces.Score { panic("this plugin fails on purpose") }

func main() { plugins.ServeReputation(factory{}) }
`
