package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/builtin/honeybadger"
	"github.com/constellation-chain/constellation/builtin/lsh"
	"github.com/constellation-chain/constellation/framework/keys"
	"github.com/constellation-chain/constellation/framework/manifest"
	"github.com/constellation-chain/constellation/framework/node"
	"github.com/constellation-chain/constellation/framework/store"
)

// lockedBuffer is a bytes.Buffer a child process writes while the test
// reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// splitManifest is a network of one cluster (star-1 to star-4, also the
// galaxy) and candidate nodes (star-5 to star-N) for it, rotating every 4
// black holes with four seats and a bound of eight candidates.
func splitManifest(n int) string {
	var b strings.Builder
	b.WriteString(`network "devnet" {
  genesis {
    seed      = "split-devnet"
    timestamp = 1767225600000
    allocation {
      star   = "dev:faucet"
      amount = 1000000000000
    }
    rotation {
      every          = 4
      seats          = 4
      max_candidates = 8
    }
  }
}
`)
	for i := 1; i <= n; i++ {
		var boot []string
		for j := 1; j <= 4; j++ {
			if j != i {
				boot = append(boot, fmt.Sprintf(`"/ip4/127.0.0.1/tcp/%d"`, 7200+j))
			}
		}
		roles := `["star", "cluster", "galaxy"]`
		if i > 4 {
			roles = `["star", "candidate"]`
		}
		fmt.Fprintf(&b, `node "star-%d" {
  key_file  = "keys/star-%d.key"
  listen    = "/ip4/127.0.0.1/tcp/%d"
  api       = "127.0.0.1:%d"
  bootstrap = [%s]
  roles     = %s
  cluster   = 0
}
`, i, i, 7200+i, 8200+i, strings.Join(boot, ", "), roles)
	}
	b.WriteString(`plugin "consensus" "honeybadger" {
  source = "builtin"
  config {
    batch_size        = 2000
    block_interval_ms = 200
  }
}
plugin "partitioner" "lsh" {
  source = "builtin"
  config {
    placement     = "locality"
    relabel_every = 8
  }
}
plugin "reputation" "meme" {
  source = "builtin"
}
plugin "transport" "gossip" {
  source = "builtin"
}
`)
	return b.String()
}

// TestAClusterOpensFromTheCLI runs ten processes: the testnet of
// splitManifest(9), and star-10, a candidate the network's manifest does
// not list, started by hand with `node run` from a copy of the manifest
// that adds its node block. The six candidates stand, cluster 0 then has
// ten candidates for a bound of eight, and a rotation beacon opens cluster
// 1 with half of its unseated candidates; cluster 0's chain generates
// cluster 1's first keys, the nodes move to its chain by themselves (node
// run reopens them), and the galaxy draws for both clusters. Afterwards
// the test checks supply at every black hole across both clusters, counts
// the handovers, and replays every chain offline: a moved node's new chain
// and old one, and the galaxy's (whose beacons opened the cluster).
func TestAClusterOpensFromTheCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a ten-process testnet")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "net.hcl")
	local := filepath.Join(dir, "local.hcl")
	if err := os.WriteFile(path, []byte(splitManifest(9)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(local, []byte(splitManifest(10)), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := run(t, dir, "manifest", "validate", path); code != 0 {
		t.Fatalf("manifest validate exit %d\n%s\n%s", code, out, errOut)
	}
	data := filepath.Join(dir, "data")
	genesis := filepath.Join(dir, "keys", "genesis.json")
	// Bounded by time, and stopped (Ctrl-C) once cluster 1 has run a
	// while: how many black holes that takes depends on the machine.
	tn := exec.Command(binary, "--log-level", "warn", "testnet", "--manifest", path, "--data", data, "--duration", "240s", "--rate", "100")
	tn.Dir = dir
	var tnOut, tnErr lockedBuffer
	tn.Stdout, tn.Stderr = &tnOut, &tnErr
	if err := tn.Start(); err != nil {
		t.Fatal(err)
	}
	defer tn.Process.Kill()
	// star-10 starts once the testnet dealt the genesis file.
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(genesis); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no genesis file after 60 s\n%s\n%s", tnOut.String(), tnErr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // the file is written whole (keys.Save), but let the delegates listen
	s10 := exec.Command(binary, "--log-level", "warn", "node", "run", "--manifest", local, "--node", "star-10", "--data", filepath.Join(data, "star-10"), "--genesis", genesis, "--create-keys")
	s10.Dir = dir
	var s10Out lockedBuffer
	s10.Stdout, s10.Stderr = &s10Out, &s10Out
	if err := s10.Start(); err != nil {
		t.Fatal(err)
	}
	defer s10.Process.Kill()
	heights := regexp.MustCompile(`c1: (\d+) \(\d+\)`)
	for until := time.Now().Add(200 * time.Second); ; time.Sleep(time.Second) {
		if m := heights.FindAllStringSubmatch(tnOut.String(), -1); len(m) > 0 {
			if h, _ := strconv.Atoi(m[len(m)-1][1]); h >= 15 {
				break
			}
		}
		if time.Now().After(until) {
			t.Fatalf("cluster 1 did not reach height 15 within 200 s\n%s\n%s", tnOut.String(), tnErr.String())
		}
	}
	tn.Process.Signal(os.Interrupt)
	if err := tn.Wait(); err != nil {
		t.Fatalf("testnet: %v\n%s\n%s", err, tnOut.String(), tnErr.String())
	}
	s10.Process.Signal(os.Interrupt)
	if err := s10.Wait(); err != nil {
		t.Fatalf("star-10's node run: %v\n%s", err, s10Out.String())
	}
	out := tnOut.String()
	if !regexp.MustCompile(`c0: \d+ \(\d+\) \d+ tx/s \| c1: \d+ \(\d+\) \d+ tx/s \| black holes`).MatchString(out) {
		t.Fatalf("the status lines never show the opened cluster 1:\n%s", out)
	}
	var moved []string
	for i := 5; i <= 10; i++ {
		n := fmt.Sprintf("star-%d", i)
		if _, err := os.Stat(filepath.Join(data, n, "cluster-1", "founding.json")); err == nil {
			moved = append(moved, n)
		}
	}
	t.Logf("moved to cluster 1: %v", moved)
	if len(moved) < 4 {
		t.Fatalf("%d candidate nodes moved to cluster 1 (%v), want at least 4 of 6\n%s", len(moved), moved, out)
	}
	out, errOut, code := run(t, dir, "reputation", "replay", "--galaxy", filepath.Join(data, "star-1"), "--manifest", path, "--genesis", genesis)
	if code != 0 {
		t.Fatalf("reputation replay exit %d\n%s\n%s", code, out, errOut)
	}
	if !regexp.MustCompile(`cluster 0: 4 of [56] candidates drawn`).MatchString(out) || !regexp.MustCompile(`cluster 1: 4 of [45] candidates drawn`).MatchString(out) {
		t.Fatalf("the galaxy does not draw for two clusters of ten candidates in all:\n%s", out)
	}
	key10, err := keys.Load(filepath.Join(dir, "keys", "star-10.key"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, keys.Star(key10).String()) {
		t.Fatalf("star-10, which the network's manifest does not list, is no candidate:\n%s", out)
	}
	// No noO lost or made: at every black hole, across both clusters.
	m, diags := manifest.Parse("net.hcl", []byte(splitManifest(9)))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	gf, err := keys.LoadGenesisFile(genesis)
	if err != nil {
		t.Fatal(err)
	}
	part, err := lsh.Factory{}.NewPartitioner(1, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := node.HierarchyFrom(gf, 1, honeybadger.Factory{}, node.CachedOwner(part))
	if err != nil {
		t.Fatal(err)
	}
	h.Genesis(m)
	stores := map[string]*store.Store{}
	for _, p := range []string{filepath.Join("star-1", "galaxy"), "star-1", filepath.Join(moved[0], "cluster-1")} {
		st, err := store.Open(filepath.Join(data, p, "chain"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		stores[p] = st
	}
	galaxy := stores[filepath.Join("star-1", "galaxy")]
	bhHead, _, _ := galaxy.Head()
	fin := checkSupplyAtEveryBlackHole(t, m, h, galaxy, []*store.Store{stores["star-1"], stores[filepath.Join(moved[0], "cluster-1")]}, bhHead)
	if fin.replayed[1] == 0 {
		t.Fatalf("no black hole of %d finalizes a checkpoint of cluster 1", bhHead)
	}
	t.Logf("finalized: cluster 0 to %d, cluster 1 to %d; %d cross-cluster receipts, %d credits, %d account moves", fin.replayed[0], fin.replayed[1], fin.crossTxs, fin.credits, fin.moves)
	// Delegates rotated, with keys generated by their chains.
	handovers := map[string]int{}
	for _, p := range []string{"star-1", filepath.Join(moved[0], "cluster-1")} {
		head, _, _ := stores[p].Head()
		for hgt := uint64(1); hgt <= head; hgt++ {
			if b, err := stores[p].Block(hgt); err == nil && b.Meta.Handover != nil {
				handovers[p]++
			}
		}
	}
	t.Logf("handovers: %v", handovers)
	if handovers["star-1"]+handovers[filepath.Join(moved[0], "cluster-1")] < 3 {
		t.Fatalf("the clusters handed over %v times, want at least 3 rotations in all", handovers)
	}
	for _, st := range stores {
		st.Close()
	}
	for _, d := range []string{filepath.Join(moved[0], "cluster-1"), moved[0], "star-1"} {
		out, errOut, code = run(t, dir, "chain", "verify", "--manifest", path, "--genesis", genesis, filepath.Join(data, d))
		if code != 0 {
			t.Fatalf("chain verify %s exit %d\n%s\n%s", d, code, out, errOut)
		}
	}
}
