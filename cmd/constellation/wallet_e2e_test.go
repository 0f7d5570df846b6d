package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/framework/api"
	"github.com/constellation-chain/constellation/interfaces"
)

// walletManifest is the smallest hierarchy: two Star Clusters of one
// delegate each (star-1 keeps cluster 0, star-2 cluster 1), both in the
// galaxy. Its ports (7301-7302, 8301-8302) are the wallet tests' own.
const walletManifest = `network "devnet" {
  genesis {
    seed      = "wallet-e2e"
    timestamp = 1767225600000
    allocation {
      star   = "dev:faucet"
      amount = 1000000000000
    }
  }
}
node "star-1" {
  key_file  = "keys/star-1.key"
  listen    = "/ip4/127.0.0.1/tcp/7301"
  api       = "127.0.0.1:8301"
  bootstrap = ["/ip4/127.0.0.1/tcp/7302"]
  roles     = ["star", "cluster", "galaxy"]
  cluster   = 0
}
node "star-2" {
  key_file  = "keys/star-2.key"
  listen    = "/ip4/127.0.0.1/tcp/7302"
  api       = "127.0.0.1:8302"
  bootstrap = ["/ip4/127.0.0.1/tcp/7301"]
  roles     = ["star", "cluster", "galaxy"]
  cluster   = 1
}
plugin "consensus" "honeybadger" {
  source = "builtin"
  config {
    batch_size        = 200
    block_interval_ms = 200
  }
}
plugin "partitioner" "lsh" {
  source = "builtin"
  config {
    placement = "hash"
  }
}
plugin "transport" "gossip" {
  source = "builtin"
}
`

// walletLog collects a process's output while the test reads it.
type walletLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *walletLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *walletLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// runWallet runs the binary with pass (when not "") on descriptor 3 and
// stdin as its standard input, detached from any terminal.
func runWallet(t *testing.T, dir, pass, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // no /dev/tty to prompt on
	cmd.Stdin = strings.NewReader(stdin)
	if pass != "" {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		go func() { w.Write([]byte(pass + "\n")); w.Close() }()
		cmd.ExtraFiles = []*os.File{r}
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return o.String(), e.String(), code
}

// TestWalletUsageErrorsExitTwo: misuse exits 2 with a message naming the
// flag; a bad keystore or a wrong passphrase exits 1 saying so; none of
// it needs a network.
func TestWalletUsageErrorsExitTwo(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := run(t, dir, "wallet", "--help")
	for _, sub := range []string{"new", "import", "balance", "send", "history", "--passphrase-fd"} {
		if code != 0 || !strings.Contains(out, sub) {
			t.Fatalf("wallet --help (exit %d) does not mention %s:\n%s%s", code, sub, out, errOut)
		}
	}
	if out, _, code := run(t, dir, "wallet", "send", "--help"); code != 0 || !strings.Contains(out, "finalized") || !strings.Contains(out, "--wait") {
		t.Fatalf("wallet send --help (exit %d):\n%s", code, out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"wallet", "new"}, "--keystore FILE"},
		{[]string{"wallet", "new", "--keystore", "a.json", "extra"}, "takes no arguments"},
		{[]string{"wallet", "import", "--keystore", "a.json"}, "--key-file FILE"},
		{[]string{"wallet", "import", "--keystore", "a.json", "--seed-fd", "3", "--passphrase-fd", "3"}, "different descriptors"},
		{[]string{"wallet", "import", "--keystore", "a.json", "--seed-fd", "0", "--dev", "faucet"}, "give one of"},
		{[]string{"wallet", "import", "--keystore", "a.json", "--dev", "dev:faucet"}, "the name after dev:"},
		{[]string{"wallet", "send", "--keystore", "a.json", "--to", "dev:bob"}, "--amount"},
		{[]string{"wallet", "send", "--keystore", "a.json", "--to", "dev:bob", "--amount", "ten"}, "amount"},
		{[]string{"wallet", "send", "--keystore", "a.json", "--amount", "5"}, "--to STAR"},
		{[]string{"wallet", "send", "--keystore", "a.json", "--amount", "5", "--to", "nobody.json"}, `--to "nobody.json"`},
		{[]string{"wallet", "send", "--keystore", "a.json", "--amount", "5", "--to", "ed25519:abc"}, "--to"},
		{[]string{"wallet", "balance"}, "--star STAR"},
		{[]string{"wallet", "balance", "--star", "dev:x", "--api", "localhost"}, "HOST:PORT"},
		{[]string{"wallet", "history", "--star", "dev:x", "--limit", "0"}, "--limit 0"},
		{[]string{"wallet", "history", "--star", "dev:x", "--from", "xyz"}, "--from"},
		{[]string{"wallet", "frob"}, `unknown command "frob"`},
	} {
		if _, errOut, code := run(t, dir, c.args...); code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %q; want exit 2 and %q", c.args, code, errOut, c.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("refused commands wrote %v", entries)
	}

	// Without a terminal or --passphrase-fd there is no passphrase.
	if _, errOut, code := runWallet(t, dir, "", "", "wallet", "new", "--keystore", "a.json"); code != 1 || !strings.Contains(errOut, "--passphrase-fd") {
		t.Fatalf("new without a terminal: exit %d, %s", code, errOut)
	}
	if _, errOut, code := runWallet(t, dir, "", "", "wallet", "new", "--keystore", "a.json", "--passphrase-fd", "3"); code != 1 || !strings.Contains(errOut, "--passphrase-fd 3") {
		t.Fatalf("new with a closed descriptor: exit %d, %s", code, errOut)
	}
	star, errOut, code := runWallet(t, dir, "open sesame", "", "wallet", "new", "--keystore", "a.json", "--passphrase-fd", "3")
	if code != 0 || !strings.HasPrefix(star, "ed25519:") {
		t.Fatalf("wallet new: exit %d\n%s%s", code, star, errOut)
	}
	// The keystore holds the star in clear; balance reads it without a
	// passphrase (and fails here only for want of a node).
	if _, errOut, code := run(t, dir, "wallet", "balance", "--keystore", "a.json", "--api", "127.0.0.1:1"); code != 1 || !strings.Contains(errOut, strings.TrimSpace(star)) || !strings.Contains(errOut, "127.0.0.1:1") {
		t.Fatalf("balance with no node: exit %d, %s", code, errOut)
	}
	if _, errOut, code := runWallet(t, dir, "open sesame!", "", "wallet", "send", "--keystore", "a.json", "--to", "dev:bob", "--amount", "1", "--api", "127.0.0.1:1", "--passphrase-fd", "3"); code != 1 || !strings.Contains(errOut, "a.json: wrong passphrase") {
		t.Fatalf("send with a wrong passphrase: exit %d, %s", code, errOut)
	}
	os.WriteFile(filepath.Join(dir, "bad.json"), []byte(`{"format": "constellation-keystore", "version": 7}`), 0o600)
	if _, errOut, code := run(t, dir, "wallet", "balance", "--keystore", "bad.json"); code != 1 || !strings.Contains(errOut, "bad.json: keystore version 7 is newer") {
		t.Fatalf("balance of a version 7 keystore: exit %d, %s", code, errOut)
	}
	os.WriteFile(filepath.Join(dir, "cut.json"), []byte(`{"format": "constellation-keystore", "vers`), 0o600)
	if _, errOut, code := run(t, dir, "wallet", "balance", "--keystore", "cut.json"); code != 1 || !strings.Contains(errOut, "cut.json: not a keystore") {
		t.Fatalf("balance of a truncated keystore: exit %d, %s", code, errOut)
	}
}

// TestWalletSendsAcrossClustersAndWaitsForFinality is the wallet's
// end-to-end test over real processes: a testnet of two clusters (one
// delegate each) and a galaxy; the dev faucet's seed imported into a
// keystore funds alice (an account of cluster 0), alice pays bob (an
// account of cluster 1: a cross-cluster transfer) and carol (a new
// wallet); each send waits for its black hole. balance follows star-1's
// 421 to cluster 1 for bob; history pages through alice's chain.
// Passphrases travel on descriptor 3.
func TestWalletSendsAcrossClustersAndWaitsForFinality(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a two-process testnet")
	}
	start := time.Now()
	dir := t.TempDir()
	path := filepath.Join(dir, "net.hcl")
	if err := os.WriteFile(path, []byte(walletManifest), 0o644); err != nil {
		t.Fatal(err)
	}
	tn := exec.Command(binary, "--log-level", "warn", "testnet", "--manifest", path, "--data", filepath.Join(dir, "data"), "--rate", "0", "--duration", "85s")
	tn.Dir = dir
	var tnOut walletLog
	tn.Stdout, tn.Stderr = &tnOut, &tnOut
	if err := tn.Start(); err != nil {
		t.Fatal(err)
	}
	tnDone := make(chan struct{})
	go func() { tn.Wait(); close(tnDone) }()
	defer func() {
		tn.Process.Signal(os.Interrupt)
		select {
		case <-tnDone:
		case <-time.After(20 * time.Second):
			tn.Process.Kill()
			<-tnDone
		}
	}()
	c0, c1 := api.NewClient("127.0.0.1:8301"), api.NewClient("127.0.0.1:8302")
	ctx := context.Background()
	for until := time.Now().Add(45 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		s0, err0 := c0.Status(ctx)
		s1, err1 := c1.Status(ctx)
		if err0 == nil && err1 == nil && s0.Tiers != nil && s1.Tiers != nil && s0.Tiers.BlackHoles >= 2 && s1.Tiers.BlackHoles >= 2 {
			break
		}
		select {
		case <-tnDone:
			t.Fatalf("the testnet exited:\n%s", tnOut.String())
		default:
		}
		if time.Now().After(until) {
			t.Fatalf("no black holes within 45 s (%v %v):\n%s", err0, err1, tnOut.String())
		}
	}
	t.Logf("network up after %v", time.Since(start).Round(100*time.Millisecond))

	// alice's account is kept by cluster 0 (star-1, the manifest's first
	// node), bob's by cluster 1: star-1 answers 421 for it.
	owner := func(name string) int {
		_, err := c0.Account(ctx, interfaces.DevStar(name))
		var ae *api.Error
		switch {
		case err == nil:
			return 0
		case errors.As(err, &ae) && ae.Status == http.StatusMisdirectedRequest:
			return 1
		}
		t.Fatalf("account of %s on star-1: %v", name, err)
		return -1
	}
	pick := func(prefix string, cluster int) string {
		for i := 0; i < 64; i++ {
			if name := fmt.Sprintf("%s-%d", prefix, i); owner(name) == cluster {
				return name
			}
		}
		t.Fatalf("no %s-N account in cluster %d", prefix, cluster)
		return ""
	}
	aliceName, bobName := pick("alice", 0), pick("bob", 1)
	const pass = "correct horse battery staple"
	wallet := func(stdin string, args ...string) (string, string) {
		t.Helper()
		args = append([]string{"wallet"}, args...)
		out, errOut, code := runWallet(t, dir, pass, stdin, append(args, "--passphrase-fd", "3")...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
		return out, errOut
	}
	read := func(args ...string) string {
		t.Helper()
		out, errOut, code := run(t, dir, append(append([]string{"wallet"}, args...), "--manifest", path)...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
		return out
	}
	imp := func(file, name string) {
		t.Helper()
		out, _ := wallet(hex.EncodeToString(interfaces.DevKey(name).Seed())+"\n", "import", "--keystore", file, "--seed-fd", "0")
		if strings.TrimSpace(out) != interfaces.DevStar(name).String() {
			t.Fatalf("import %s printed %q, want %s", name, out, interfaces.DevStar(name))
		}
	}
	imp("faucet.json", "faucet")
	imp("alice.json", aliceName)
	imp("bob.json", bobName)
	carol, _ := wallet("", "new", "--keystore", "carol.json")
	carol = strings.TrimSpace(carol)
	if _, errOut, code := runWallet(t, dir, pass, "", "wallet", "new", "--keystore", "carol.json", "--passphrase-fd", "3"); code != 1 || !strings.Contains(errOut, "refusing to overwrite") {
		t.Fatalf("a second new over carol.json: exit %d, %s", code, errOut)
	}
	// A node's key file imports too.
	if out, _ := wallet("", "import", "--keystore", "star-1.json", "--key-file", filepath.Join(dir, "keys", "star-1.key")); true {
		s0, _ := c0.Status(ctx)
		if strings.TrimSpace(out) != s0.Star {
			t.Fatalf("import --key-file printed %q, want star-1's %s", out, s0.Star)
		}
	}

	send := func(from, to string, amount int) string {
		t.Helper()
		out, _ := wallet("", "send", "--keystore", from, "--to", to, "--amount", fmt.Sprint(amount), "--manifest", path, "--wait", "30s")
		for _, stage := range []string{"pooled", "committed in cluster/", "finalized in black hole"} {
			if !strings.Contains(out, stage) {
				t.Fatalf("send %s → %s shows no %q:\n%s", from, to, stage, out)
			}
		}
		return out
	}
	balance := func(file string) (uint64, string) {
		out := read("balance", "--keystore", file)
		var b uint64
		if m := regexp.MustCompile(`balance (\d+) noOs`).FindStringSubmatch(out); m != nil {
			fmt.Sscan(m[1], &b)
		} else {
			t.Fatalf("balance %s: no balance in\n%s", file, out)
		}
		return b, out
	}
	t.Logf("faucet → alice:\n%s", send("faucet.json", "alice.json", 5000))
	// The faucet's account may be in the other cluster: then alice is
	// paid by a credit once the faucet's block is final, a moment after
	// send returned.
	for until := time.Now().Add(20 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		if b, _ := balance("alice.json"); b == 5000 {
			break
		}
		if time.Now().After(until) {
			_, out := balance("alice.json")
			t.Fatalf("alice was not credited 5000 within 20 s:\n%s", out)
		}
	}
	t.Logf("alice → bob:\n%s", send("alice.json", "bob.json", 1200))
	send("alice.json", carol, 300)
	if b, out := balance("alice.json"); b != 5000-1200-300 || !strings.Contains(out, "cluster 0 answered by star-1") {
		t.Fatalf("alice's balance %d, want %d:\n%s", b, 5000-1200-300, out)
	}
	// A credit to another cluster arrives once the sender's block is
	// final, so the balance is read until it shows.
	waitBalance := func(file string, want uint64) string {
		t.Helper()
		for until := time.Now().Add(20 * time.Second); ; time.Sleep(300 * time.Millisecond) {
			b, out := balance(file)
			if b == want {
				return out
			}
			if time.Now().After(until) {
				t.Fatalf("%s: balance %d, want %d:\n%s", file, b, want, out)
			}
		}
	}
	// bob's credit arrives in cluster 1 by way of star-1's 421.
	if out := waitBalance("bob.json", 1200); !strings.Contains(out, "cluster 1 answered by star-2") || !strings.Contains(out, "followed 421 from star-1") {
		t.Fatalf("bob's balance did not come from cluster 1 by way of star-1's 421:\n%s", out)
	}
	// With --api alone the wallet asks that node for the others (GET
	// /v1/network) once it answers 421; a node without that route leaves
	// the wallet asking for --manifest.
	if out, errOut, code := run(t, dir, "wallet", "balance", "--keystore", "bob.json", "--api", "127.0.0.1:8301"); code == 0 {
		if !strings.Contains(out, "cluster 1 answered by star-2") {
			t.Fatalf("balance of bob through star-1's node list:\n%s", out)
		}
	} else if !strings.Contains(errOut, "belongs to cluster 1") || !strings.Contains(errOut, "--manifest FILE") {
		t.Fatalf("balance of bob at star-1 alone: exit %d\n%s", code, errOut)
	} else {
		t.Logf("star-1 serves no node list: %s", errOut)
	}
	// carol's key is new, so her account may sit in either cluster.
	waitBalance("carol.json", 300)

	// alice's chain, newest first: a page of one, then all of it.
	out := read("history", "--keystore", "alice.json", "--limit", "1")
	if !regexp.MustCompile(`(?m)^2\s+\w{8}\s+transfer\s+`+carol+`\s+300\s+cluster/0 #\d+`).MatchString(out) || !strings.Contains(out, "more below: --from ") || strings.Contains(out, interfaces.DevStar(bobName).String()) {
		t.Fatalf("history --limit 1 of alice:\n%s", out)
	}
	out = read("history", "--keystore", "alice.json", "--limit", "1", "--all")
	if !strings.Contains(out, carol) || !regexp.MustCompile(`(?m)^1\s+\w{8}\s+transfer\s+`+interfaces.DevStar(bobName).String()+`\s+1200\s`).MatchString(out) || strings.Contains(out, "more below") {
		t.Fatalf("history --all of alice:\n%s", out)
	}
	if out := read("history", "--star", carol); !strings.Contains(out, "(no transactions)") {
		t.Fatalf("history of carol:\n%s", out)
	}
	// More than alice holds is refused before anything is signed.
	if _, errOut, code := runWallet(t, dir, pass, "", "wallet", "send", "--keystore", "alice.json", "--to", "bob.json", "--amount", "999999", "--manifest", path, "--passphrase-fd", "3"); code != 1 || !strings.Contains(errOut, "less than --amount 999999") {
		t.Fatalf("an overdraft: exit %d, %s", code, errOut)
	}
	t.Logf("done after %v", time.Since(start).Round(100*time.Millisecond))
}

// TestWalletSendOnASingleChain: on a network of one cluster (one solo
// node, no galaxy) send stops at committed, which is final there, and the
// wallet needs only --api.
func TestWalletSendOnASingleChain(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a one-node testnet")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "solo.hcl")
	src := `network "devnet" {
  genesis {
    seed      = "wallet-solo"
    timestamp = 1767225600000
    allocation {
      star   = "dev:faucet"
      amount = 1000000
    }
  }
}
node "star-1" {
  key_file = "keys/star-1.key"
  listen   = "/ip4/127.0.0.1/tcp/7309"
  api      = "127.0.0.1:8309"
  roles    = ["star", "cluster"]
}
plugin "consensus" "solo" {
  source = "builtin"
  config { block_interval_ms = 100 }
}
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	tn := exec.Command(binary, "--log-level", "warn", "testnet", "--manifest", path, "--data", filepath.Join(dir, "data"), "--rate", "0", "--duration", "60s")
	tn.Dir = dir
	var tnOut walletLog
	tn.Stdout, tn.Stderr = &tnOut, &tnOut
	if err := tn.Start(); err != nil {
		t.Fatal(err)
	}
	tnDone := make(chan struct{})
	go func() { tn.Wait(); close(tnDone) }()
	defer func() {
		tn.Process.Signal(os.Interrupt)
		select {
		case <-tnDone:
		case <-time.After(20 * time.Second):
			tn.Process.Kill()
			<-tnDone
		}
	}()
	cl := api.NewClient("127.0.0.1:8309")
	for until := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if st, err := cl.Status(context.Background()); err == nil && st.Height >= 1 {
			break
		}
		if time.Now().After(until) {
			t.Fatalf("the node did not come up:\n%s", tnOut.String())
		}
	}
	const pass = "hunter2hunter2"
	wallet := func(stdin string, args ...string) string {
		t.Helper()
		out, errOut, code := runWallet(t, dir, pass, stdin, append(append([]string{"wallet"}, args...), "--passphrase-fd", "3")...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
		return out
	}
	if out := wallet("", "import", "--keystore", "faucet.json", "--dev", "faucet"); strings.TrimSpace(out) != interfaces.DevStar("faucet").String() {
		t.Fatalf("import --dev faucet printed %q", out)
	}
	wallet("", "new", "--keystore", "alice.json")
	out := wallet("", "send", "--keystore", "faucet.json", "--to", "alice.json", "--amount", "777", "--api", "127.0.0.1:8309", "--wait", "20s")
	if !strings.Contains(out, "committed in cluster/0 block") || !strings.Contains(out, "final: a network of one cluster") || strings.Contains(out, "black hole") {
		t.Fatalf("send on a single chain:\n%s", out)
	}
	out, errOut, code := run(t, dir, "wallet", "balance", "--keystore", "alice.json", "--api", "127.0.0.1:8309")
	if code != 0 || !strings.Contains(out, "balance 777 noOs, seq 0") || strings.Contains(out, "cluster") {
		t.Fatalf("balance: exit %d\n%s%s", code, out, errOut)
	}
}
