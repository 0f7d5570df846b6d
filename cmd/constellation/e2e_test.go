package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/framework/manifest"
	"github.com/constellation-chain/constellation/framework/store"
	"github.com/constellation-chain/constellation/interfaces"
)

// binary is the constellation command built once for these tests;
// byzantineBinary is the same built with -tags byzantine.
var binary, byzantineBinary string

func TestMain(m *testing.M) {
	// A fuzzing run of this package (make fuzz-short: -run='^$' -fuzz=X)
	// runs no test and its fuzz targets never start the binary, so the
	// two builds below would only cost time.
	if fuzzingOnly(os.Args[1:]) {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "constellation-cli")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "constellation")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build constellation: %v\n%s", err, out)
		os.Exit(1)
	}
	// The test build that can run a Byzantine member (node run --byzantine).
	byzantineBinary = filepath.Join(dir, "constellation-byzantine")
	if out, err := exec.Command("go", "build", "-tags", "byzantine", "-o", byzantineBinary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build constellation -tags byzantine: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func run(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return o.String(), e.String(), code
}

// singleNodeManifest is a one-node development network on the solo
// engine, without the network transport.
func singleNodeManifest(t *testing.T, dir string) string {
	t.Helper()
	src := `network "devnet" {
  genesis {
    seed      = "constellation-devnet"
    timestamp = 1767225600000
    allocation {
      star   = "dev:faucet"
      amount = 1000000000000
    }
  }
}

node "star-1" {
  key_file = "keys/star-1.key"
  listen   = "/ip4/127.0.0.1/tcp/7001"
  api      = "127.0.0.1:8001"
  roles    = ["star", "cluster"]
}

plugin "consensus" "solo" {
  source = "builtin"
  config { batch_size = 2000 }
}

plugin "reputation" "meme" {
  source = "builtin"
}
`
	path := filepath.Join(dir, "net.hcl")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestManifestValidateAcceptsTheDefault(t *testing.T) {
	out, errOut, code := run(t, t.TempDir(), "manifest", "validate")
	if code != 0 || !strings.Contains(out, "valid") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
}

func TestManifestValidateNamesFileAndLine(t *testing.T) {
	dir := t.TempDir()
	src := string(manifest.Default())
	// Break the consensus plugin's name: the error must point at its line.
	line := 1 + strings.Count(src[:strings.Index(src, `plugin "consensus" "honeybadger"`)], "\n")
	src = strings.Replace(src, `plugin "consensus" "honeybadger"`, `plugin "consensus" "honeybadgr"`, 1)
	path := filepath.Join(dir, "broken.hcl")
	os.WriteFile(path, []byte(src), 0o644)
	_, errOut, code := run(t, dir, "manifest", "validate", "broken.hcl")
	if code == 0 {
		t.Fatalf("broken manifest accepted:\n%s", errOut)
	}
	if want := fmt.Sprintf("broken.hcl:%d", line); !strings.Contains(errOut, want) {
		t.Fatalf("diagnostics do not name %s:\n%s", want, errOut)
	}
	if !strings.Contains(errOut, "honeybadger") || !strings.Contains(errOut, "solo") {
		t.Fatalf("diagnostics do not list the known engines:\n%s", errOut)
	}
}

func TestManifestValidateTypeError(t *testing.T) {
	dir := t.TempDir()
	src := strings.Replace(string(manifest.Default()), "batch_size", "batch_size = \"many\"\n    unused_knob", 1)
	os.WriteFile(filepath.Join(dir, "bad.hcl"), []byte(src), 0o644)
	_, errOut, code := run(t, dir, "manifest", "validate", "bad.hcl")
	if code == 0 || !regexp.MustCompile(`bad\.hcl:\d+`).MatchString(errOut) {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
}

// TestManifestValidateRefusesAMissingPluginBinary: an external plugin
// whose path does not exist is an error at its path line, in validate and
// before the node starts, not a fork/exec error later.
func TestManifestValidateRefusesAMissingPluginBinary(t *testing.T) {
	dir := t.TempDir()
	path := singleNodeManifest(t, dir)
	src, _ := os.ReadFile(path)
	src = append(src, []byte(`
plugin "partitioner" "acme" {
  path   = "./plugins/acme-partitioner"
  sha256 = "0000000000000000000000000000000000000000000000000000000000000000"
}
`)...)
	os.WriteFile(path, src, 0o644)
	line := 1 + strings.Count(string(src[:strings.Index(string(src), "./plugins/acme")]), "\n")
	for _, args := range [][]string{{"manifest", "validate", path}, {"--log-level", "warn", "testnet", "--manifest", path, "--data", filepath.Join(dir, "data"), "--rate", "0"}} {
		_, errOut, code := run(t, dir, args...)
		if code == 0 || !strings.Contains(errOut, fmt.Sprintf("net.hcl:%d", line)) || !strings.Contains(errOut, "does not exist") {
			t.Fatalf("%v: exit %d\n%s", args[:2], code, errOut)
		}
		if strings.Contains(errOut, "fork/exec") {
			t.Fatalf("%v: a fork/exec error:\n%s", args[:2], errOut)
		}
	}
}

var blockLine = regexp.MustCompile(`^block\s+(\d+)\s+epoch\s+\d+\s+txs\s+(\d+)`)

// TestTestnetProducesBlocksAndResumes runs the testnet command, stops it
// after a few blocks, verifies the store, and runs it again: the chain
// continues from where it stopped.
func TestTestnetProducesBlocksAndResumes(t *testing.T) {
	dir := t.TempDir()
	path := singleNodeManifest(t, dir)
	data := filepath.Join(dir, "data")
	args := []string{"--log-level", "warn", "testnet", "--manifest", path, "--data", data, "--blocks", "5", "--rate", "800"}
	out, errOut, code := run(t, dir, args...)
	if code != 0 {
		t.Fatalf("testnet exit %d\n%s\n%s", code, out, errOut)
	}
	heights, txs := parseBlocks(out)
	if len(heights) < 5 || heights[0] != 1 {
		t.Fatalf("want blocks 1..5, got %v\n%s", heights, out)
	}
	if txs == 0 {
		t.Fatalf("no transactions committed:\n%s", out)
	}
	if !strings.Contains(out, "stopped (cleanly)") {
		t.Fatalf("no clean stop reported:\n%s", out)
	}
	vout, verr, code := run(t, dir, "chain", "verify", filepath.Join(data, "star-1"))
	if code != 0 {
		t.Fatalf("verify: %s %s", vout, verr)
	}
	hout, _, _ := run(t, dir, "chain", "head", filepath.Join(data, "star-1"))
	var head uint64
	fmt.Sscanf(hout, "height %d", &head)
	if head < heights[len(heights)-1] {
		t.Fatalf("stored head %d is below the last printed block %d", head, heights[len(heights)-1])
	}
	replayDrawsFromABeacon(t, dir, path, filepath.Join(data, "star-1"))
	out, errOut, code = run(t, dir, args...)
	if code != 0 {
		t.Fatalf("second testnet exit %d\n%s\n%s", code, out, errOut)
	}
	again, _ := parseBlocks(out)
	if len(again) == 0 || again[0] != head+1 {
		t.Fatalf("restart did not continue after the stored head %d: %v", head, again)
	}
}

// replayDrawsFromABeacon deals a group key, signs a black hole hash with
// f+1 shares through `beacon sign`, and checks that `reputation replay`
// verifies the signature and draws exactly what the derived seed draws,
// and refuses a signature on another message or under another group.
func replayDrawsFromABeacon(t *testing.T, dir, manifest, data string) {
	t.Helper()
	for _, g := range []string{"group", "other"} {
		if out, errOut, code := run(t, dir, "keygen", "--cluster", "4", "--out-dir", g); code != 0 {
			t.Fatalf("keygen: %s %s", out, errOut)
		}
	}
	hole := interfaces.Sum([]byte("black hole 1")).String()
	share := func(g string, i int) string { return filepath.Join(g, fmt.Sprintf("star-%d.cluster.key", i)) }
	out, errOut, code := run(t, dir, "beacon", "sign", "--share", share("group", 1), "--share", share("group", 4), "--message", hole)
	if code != 0 {
		t.Fatalf("beacon sign: %s %s", out, errOut)
	}
	var sig, beacon string
	fmt.Sscanf(out, "signature %s\nbeacon %s", &sig, &beacon)
	if len(beacon) != 64 {
		t.Fatalf("beacon sign printed %q", out)
	}
	if _, errOut, code := run(t, dir, "beacon", "sign", "--share", share("group", 2), "--message", hole); code == 0 || !strings.Contains(errOut, "need 2") {
		t.Fatalf("one share signed (exit %d): %s", code, errOut)
	}
	common := []string{"--log-level", "warn", "reputation", "replay", "--manifest", manifest, "--data", data, "--k", "1"}
	fromSig, errOut, code := run(t, dir, append(common, "--black-hole", hole, "--beacon-signature", sig, "--group-key", share("group", 3))...)
	if code != 0 {
		t.Fatalf("replay from the signature: %s %s", fromSig, errOut)
	}
	fromSeed, errOut, code := run(t, dir, append(common, "--seed", beacon)...)
	if code != 0 || fromSeed != fromSig || !strings.Contains(fromSig, "1 of 1 candidates") {
		t.Fatalf("replay from the signature and from its beacon differ:\n%s\n%s\n%s", fromSig, fromSeed, errOut)
	}
	other := interfaces.Sum([]byte("black hole 2")).String()
	for _, bad := range [][]string{
		{"--black-hole", other, "--beacon-signature", sig, "--group-key", share("group", 3)},
		{"--black-hole", hole, "--beacon-signature", sig, "--group-key", share("other", 1)},
	} {
		if _, errOut, code := run(t, dir, append(common, bad...)...); code == 0 || !strings.Contains(errOut, "not the group's signature") {
			t.Fatalf("replay accepted a bad beacon %v (exit %d): %s", bad, code, errOut)
		}
	}
}

func parseBlocks(out string) (heights []uint64, txs int) {
	for _, l := range strings.Split(out, "\n") {
		if m := blockLine.FindStringSubmatch(l); m != nil {
			h, _ := strconv.ParseUint(m[1], 10, 64)
			n, _ := strconv.Atoi(m[2])
			heights = append(heights, h)
			txs += n
		}
	}
	return heights, txs
}

// TestSIGKILLMidWriteLeavesNoPartialBlock kills a running node process with
// SIGKILL at several moments while it commits blocks under load, and checks
// after each kill that the store reopens at its last committed block with
// state equal to a replay of the stored blocks.
func TestSIGKILLMidWriteLeavesNoPartialBlock(t *testing.T) {
	dir := t.TempDir()
	path := singleNodeManifest(t, dir)
	data := filepath.Join(dir, "data")
	kills := 4
	if testing.Short() {
		kills = 2
	}
	var last uint64
	for i := 0; i < kills; i++ {
		// In process, so the killed process is the one writing the store.
		cmd := exec.Command(binary, "--log-level", "warn", "testnet", "--in-process", "--manifest", path, "--data", data, "--rate", "3000")
		cmd.Dir = dir
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait for a few new blocks, then kill at a varying moment.
		sc := bufio.NewScanner(stdout)
		seen := 0
		deadline := time.Now().Add(60 * time.Second)
		for sc.Scan() && time.Now().Before(deadline) {
			if blockLine.MatchString(sc.Text()) {
				seen++
				if seen == 2+i {
					break
				}
			}
		}
		time.Sleep(time.Duration(i*37) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		go io.Copy(io.Discard, stdout)
		cmd.Wait()
		if seen == 0 {
			t.Fatal("node produced no block before the kill")
		}

		st, err := store.Open(filepath.Join(data, "star-1", "chain"), store.Options{})
		if err != nil {
			t.Fatalf("kill %d: reopen: %v", i, err)
		}
		if err := st.Verify(); err != nil {
			st.Close()
			t.Fatalf("kill %d: %v", i, err)
		}
		h, _, _ := st.Head()
		st.Close()
		if h < last {
			t.Fatalf("kill %d: head went back from %d to %d", i, last, h)
		}
		last = h
	}
	if last == 0 {
		t.Fatal("no block survived")
	}
}

// TestTestnetExitsWhenANodeFailsAtStart: a node that cannot start (its API
// address is taken) ends the testnet within seconds, non-zero, with the
// node's own error; it once waited forever on a process exit it had
// already consumed.
func TestTestnetExitsWhenANodeFailsAtStart(t *testing.T) {
	dir := t.TempDir()
	path := singleNodeManifest(t, dir)
	busy, err := net.Listen("tcp", "127.0.0.1:8001")
	if err != nil {
		t.Skipf("cannot hold the node's API port: %v", err)
	}
	defer busy.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "--log-level", "warn", "testnet", "--manifest", path, "--data", filepath.Join(dir, "data"), "--rate", "0")
	cmd.Dir = dir
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("testnet still running after 60s:\n%s", out)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 {
		t.Fatalf("testnet exit %v, want a failure:\n%s", err, out)
	}
	if !strings.Contains(string(out), "exited while starting") || !strings.Contains(string(out), "8001") {
		t.Fatalf("the node's error is not shown:\n%s", out)
	}
	t.Logf("failed after %v", time.Since(start).Round(100*time.Millisecond))
}

// TestTestnetSoloIsADevChainInOneCommand: `testnet --solo` runs the
// embedded one-node chain and commits the load generator's transfers.
func TestTestnetSoloIsADevChainInOneCommand(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := run(t, dir, "--log-level", "warn", "testnet", "--solo", "--blocks", "4", "--rate", "300", "--duration", "60s")
	if code != 0 {
		t.Fatalf("testnet --solo exit %d\n%s\n%s", code, out, errOut)
	}
	heights, txs := parseBlocks(out)
	if len(heights) < 4 || txs == 0 {
		t.Fatalf("blocks %v with %d transactions:\n%s", heights, txs, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "dev", "star-1", "chain")); err != nil {
		t.Fatalf("no chain in data/dev: %v", err)
	}
	if _, errOut, code := run(t, dir, "testnet", "--solo", "--manifest", "x.hcl"); code == 0 || !strings.Contains(errOut, "--solo") {
		t.Fatalf("--solo with --manifest: exit %d\n%s", code, errOut)
	}
}

// TestBadGlobalFlagsAndCommandsAreRefused: an unknown log level and an
// unknown command each fail with a message saying what was wrong.
func TestBadGlobalFlagsAndCommandsAreRefused(t *testing.T) {
	dir := t.TempDir()
	if _, errOut, code := run(t, dir, "--log-level", "loud", "version"); code != 2 || !strings.Contains(errOut, `--log-level "loud"`) {
		t.Fatalf("--log-level loud: exit %d\n%s", code, errOut)
	}
	if _, errOut, code := run(t, dir, "foo"); code == 0 || !strings.Contains(errOut, `unknown command "foo"`) || !strings.Contains(errOut, "constellation --help") {
		t.Fatalf("constellation foo: exit %d\n%s", code, errOut)
	}
	if _, errOut, code := run(t, dir, "plugin", "foo"); code == 0 || !strings.Contains(errOut, `unknown command "foo"`) || !strings.Contains(errOut, "constellation plugin --help") {
		t.Fatalf("constellation plugin foo: exit %d\n%s", code, errOut)
	}
	if _, _, code := run(t, dir, "--log-level", "warn", "version"); code != 0 {
		t.Fatalf("--log-level warn refused (exit %d)", code)
	}
}

// TestTestnetSupervisesItsNodes: a node killed with SIGKILL is reported at
// once and restarted, the network keeps running, and the testnet exits
// non-zero saying so; when the supervisor itself is killed with SIGKILL,
// its nodes stop too instead of running on as orphans.
func TestTestnetSupervisesItsNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a testnet twice")
	}
	dir := t.TempDir()
	path := singleNodeManifest(t, dir)
	pidLine := regexp.MustCompile(`started \(pid (\d+),`)
	start := func(data, duration string) (*exec.Cmd, *bufio.Scanner, *bytes.Buffer) {
		cmd := exec.Command(binary, "--log-level", "warn", "testnet", "--manifest", path, "--data", filepath.Join(dir, data), "--rate", "0", "--duration", duration)
		cmd.Dir = dir
		var errOut bytes.Buffer
		cmd.Stderr = &errOut
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, bufio.NewScanner(stdout), &errOut
	}
	// untilLine reads lines until one matches, returning its submatches.
	untilLine := func(sc *bufio.Scanner, re *regexp.Regexp, seen *strings.Builder) []string {
		for sc.Scan() {
			seen.WriteString(sc.Text() + "\n")
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				return m
			}
		}
		return nil
	}

	cmd, sc, errOut := start("a", "40s")
	var seen strings.Builder
	m := untilLine(sc, pidLine, &seen)
	if m == nil {
		t.Fatalf("no node started:\n%s%s", seen.String(), errOut)
	}
	pid, _ := strconv.Atoi(m[1])
	blockLine := regexp.MustCompile(`^block\s+(\d+)`)
	m = untilLine(sc, blockLine, &seen)
	if m == nil {
		t.Fatalf("no blocks:\n%s%s", seen.String(), errOut)
	}
	before, _ := strconv.Atoi(m[1])
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if untilLine(sc, regexp.MustCompile(`exited \(signal: killed\); restarting it`), &seen) == nil {
		t.Fatalf("the killed node was not reported:\n%s%s", seen.String(), errOut)
	}
	// Blocks go on after the restart: the node reopens its chain and
	// commits beyond where it was killed.
	for {
		m := untilLine(sc, blockLine, &seen)
		if m == nil {
			t.Fatalf("no block after the restart beyond height %d:\n%s%s", before, seen.String(), errOut)
		}
		if h, _ := strconv.Atoi(m[1]); h > before+1 {
			break
		}
	}
	cmd.Process.Signal(os.Interrupt) // Ctrl-C: stop now
	for sc.Scan() {
		seen.WriteString(sc.Text() + "\n")
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 || !strings.Contains(errOut.String(), "did not ask for") {
		t.Fatalf("testnet exit %v, want a failure naming the crash:\n%s%s", err, seen.String(), errOut)
	}

	cmd, sc, errOut = start("b", "60s")
	seen.Reset()
	if m = untilLine(sc, pidLine, &seen); m == nil {
		t.Fatalf("no node started:\n%s%s", seen.String(), errOut)
	}
	pid, _ = strconv.Atoi(m[1])
	if untilLine(sc, regexp.MustCompile(`^producing blocks`), &seen) == nil {
		t.Fatalf("no blocks:\n%s%s", seen.String(), errOut)
	}
	cmd.Process.Kill()
	cmd.Wait()
	deadline := time.Now().Add(20 * time.Second)
	for running(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("node %d still running 20 s after its supervisor was killed", pid)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// running reports whether a process exists and is not a zombie (an exited
// orphan that nobody has reaped yet counts as stopped).
func running(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the command name in parentheses.
	if i := strings.LastIndexByte(string(raw), ')'); i >= 0 && i+2 < len(raw) {
		return raw[i+2] != 'Z'
	}
	return true
}

// TestKeygenOutRefusesAMissingDirectory: `keygen --out` into a directory
// that does not exist says so and creates nothing.
func TestKeygenOutRefusesAMissingDirectory(t *testing.T) {
	dir := t.TempDir()
	_, errOut, code := run(t, dir, "keygen", "--out", filepath.Join(dir, "nope", "x.key"))
	if code == 0 || !strings.Contains(errOut, "does not exist") {
		t.Fatalf("keygen into a missing directory: exit %d, %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "nope")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the directory was created: %v", err)
	}
}

// TestStarsAreTakenByIdDevNameOrNodeName: where a command wants a star it
// takes a full id, dev:NAME or a node of the manifest; anything else is
// refused naming the three forms and the manifest's nodes.
func TestStarsAreTakenByIdDevNameOrNodeName(t *testing.T) {
	dir := t.TempDir()
	path := singleNodeManifest(t, dir)
	if _, errOut, code := run(t, dir, "reputation", "explain", "--manifest", path, "--data", filepath.Join(dir, "none"), "760d1c09"); code == 0 ||
		!strings.Contains(errOut, "is not a star") || !strings.Contains(errOut, "star-1") || !strings.Contains(errOut, "first 8 hex digits") {
		t.Fatalf("a short id: exit %d\n%s", code, errOut)
	}
	// The node name and dev: name resolve; what fails then is the missing
	// data directory, not the star.
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := run(t, dir, "keygen", "--out", filepath.Join(dir, "keys", "star-1.key")); code != 0 {
		t.Fatalf("keygen: %s", errOut)
	}
	for _, s := range []string{"star-1", "dev:faucet", interfaces.DevStar("x").String()} {
		_, errOut, code := run(t, dir, "reputation", "explain", "--manifest", path, "--data", filepath.Join(dir, "none"), s)
		if code == 0 || !strings.Contains(errOut, "no chain store") {
			t.Fatalf("%s: exit %d, want the missing data directory named\n%s", s, code, errOut)
		}
	}
}

// fuzzingOnly reports whether the test binary was asked to fuzz and to run
// no test (-test.run=^$ with -test.fuzz=X), as make fuzz-short asks.
func fuzzingOnly(args []string) bool {
	var fuzz, none bool
	for _, a := range args {
		switch {
		case strings.HasPrefix(a, "-test.fuzz=") && a != "-test.fuzz=":
			fuzz = true
		case a == "-test.run=^$":
			none = true
		}
	}
	return fuzz && none
}
