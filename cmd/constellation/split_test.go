package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/builtin/honeybadger"
	"github.com/constellation-chain/constellation/builtin/lsh"
	"github.com/constellation-chain/constellation/framework/api"
	"github.com/constellation-chain/constellation/framework/keys"
	"github.com/constellation-chain/constellation/framework/manifest"
	"github.com/constellation-chain/constellation/framework/node"
	"github.com/constellation-chain/constellation/framework/store"
	"github.com/constellation-chain/constellation/interfaces"
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
// black holes with four seats and a bound of twelve candidates: the twelve
// stars of the testnet fit, and once more stand the cluster splits in two
// that fit again (a split leaves each side half, and each side splits
// again at the next rotation while it holds more than the bound).
func splitManifest(n int) string { return boundedManifest(n, 12, 0) }

// boundedManifest is splitManifest with a bound of max candidates, and a
// minimum of min (none when 0).
func boundedManifest(n, max, min int) string {
	var b strings.Builder
	rotation := fmt.Sprintf("every          = 4\n      seats          = 4\n      max_candidates = %d", max)
	if min > 0 {
		rotation += fmt.Sprintf("\n      min_candidates = %d", min)
	}
	fmt.Fprintf(&b, `network "devnet" {
  genesis {
    seed      = "split-devnet"
    timestamp = 1767225600000
    allocation {
      star   = "dev:faucet"
      amount = 1000000000000
    }
    rotation {
      %s
    }
  }
}
`, rotation)
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

// TestAGrowingNetworkOpensAClusterAndReplacesAKilledDelegate is the
// living-membership test, eighteen processes in all. The testnet of
// splitManifest(12) starts one cluster (star-1 to star-4, also the galaxy)
// with eight more candidates, at its bound of twelve. Six more stars (star-13 to star-18)
// then join: the network's manifest does not list them, so each starts by
// hand with `node run` from a copy of the manifest that adds its node
// block, syncs and stands. Cluster 0 then has more candidates than its
// bound, and a rotation beacon opens cluster 1 with half of its unseated
// candidates: cluster 0's chain generates cluster 1's first keys and the
// nodes move to its chain by themselves (node run reopens them). Once
// cluster 1 runs, the test kills (SIGKILL) a delegate of cluster 0 and
// waits for a handover that seats four delegates without it. Afterwards it
// checks supply at every black hole across both clusters, that the
// clusters handed over at least three times, that a joined star was
// seated, and replays every chain offline.
func TestAGrowingNetworkOpensAClusterAndReplacesAKilledDelegate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs an eighteen-process testnet")
	}
	const listed, all = 12, 18
	dir := t.TempDir()
	path := filepath.Join(dir, "net.hcl")
	local := filepath.Join(dir, "local.hcl")
	if err := os.WriteFile(path, []byte(splitManifest(listed)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(local, []byte(splitManifest(all)), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := run(t, dir, "manifest", "validate", path); code != 0 {
		t.Fatalf("manifest validate exit %d\n%s\n%s", code, out, errOut)
	}
	data := filepath.Join(dir, "data")
	genesis := filepath.Join(dir, "keys", "genesis.json")
	// Bounded by time, and stopped (Ctrl-C) once the killed delegate is
	// replaced: how many black holes that takes depends on the machine.
	// --no-restart, so the killed delegate stays down.
	tn := exec.Command(binary, "--log-level", "warn", "testnet", "--manifest", path, "--data", data, "--duration", "400s", "--rate", "100", "--no-restart")
	tn.Dir = dir
	var tnOut, tnErr lockedBuffer
	tn.Stdout, tn.Stderr = &tnOut, &tnErr
	if err := tn.Start(); err != nil {
		t.Fatal(err)
	}
	defer tn.Process.Kill()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf(format+"\n--- testnet:\n%s\n%s", append(args, tnOut.String(), tnErr.String())...)
	}
	// The joiners start once the network runs: a status line shows.
	for deadline := time.Now().Add(90 * time.Second); !strings.Contains(tnOut.String(), "black holes"); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			fail("no status line after 90 s")
		}
	}
	joiners := map[string]*exec.Cmd{}
	joinerOut := map[string]*lockedBuffer{}
	for i := listed + 1; i <= all; i++ {
		n := fmt.Sprintf("star-%d", i)
		cmd := exec.Command(binary, "--log-level", "warn", "node", "run", "--manifest", local, "--node", n, "--data", filepath.Join(data, n), "--genesis", genesis, "--create-keys")
		cmd.Dir = dir
		var o lockedBuffer
		cmd.Stdout, cmd.Stderr = &o, &o
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Process.Kill()
		joiners[n], joinerOut[n] = cmd, &o
	}
	heights := regexp.MustCompile(`c1: (\d+) \(\d+\)`)
	for until := time.Now().Add(240 * time.Second); ; time.Sleep(time.Second) {
		if m := heights.FindAllStringSubmatch(tnOut.String(), -1); len(m) > 0 {
			if h, _ := strconv.Atoi(m[len(m)-1][1]); h >= 10 {
				break
			}
		}
		if time.Now().After(until) {
			fail("cluster 1 did not reach height 10 within 240 s")
		}
	}

	// Kill a delegate of cluster 0, one the galaxy does not hold if it can.
	names := map[interfaces.StarID]string{}
	for i := 1; i <= all; i++ {
		n := fmt.Sprintf("star-%d", i)
		k, err := keys.Load(filepath.Join(dir, "keys", n+".key"))
		if err != nil {
			t.Fatal(err)
		}
		names[keys.Star(k)] = n
	}
	ctx := context.Background()
	watch, victim, from := pickVictim(t, ctx, names, listed)
	if victim == "" {
		fail("no node of star-1 to star-4 follows cluster 0")
	}
	if cmd, ok := joiners[victim]; ok {
		cmd.Process.Signal(syscall.SIGKILL)
	} else {
		m := regexp.MustCompile(regexp.QuoteMeta(victim) + ` +started \(pid (\d+)`).FindStringSubmatch(tnOut.String())
		if m == nil {
			fail("no pid for %s in the testnet's output", victim)
		}
		pid, _ := strconv.Atoi(m[1])
		syscall.Kill(pid, syscall.SIGKILL)
	}
	t.Logf("killed %s, a delegate of cluster 0 at its height %d; watching through %s", victim, from, watch)
	api8 := api.NewClient(fmt.Sprintf("127.0.0.1:%d", 8200+nodeIndex(watch)))
	var replacedBy []string
	stillSeated := 0 // handovers after the kill that seat the victim again
	next := from + 1
	for until := time.Now().Add(180 * time.Second); replacedBy == nil; time.Sleep(time.Second) {
		if time.Now().After(until) {
			fail("no handover of cluster 0 in 180 s after the kill seats four delegates without %s", victim)
		}
		st, err := api8.Status(ctx)
		if err != nil {
			continue
		}
		for ; next <= st.Height; next++ {
			b, err := api8.Block(ctx, next)
			if err != nil {
				break
			}
			if len(b.Handover) == 0 {
				continue
			}
			if slices.ContainsFunc(b.Handover, func(s string) bool { return names[mustStar(t, s)] == victim }) {
				stillSeated++
				continue
			}
			if len(b.Handover) == 4 {
				for _, s := range b.Handover {
					replacedBy = append(replacedBy, names[mustStar(t, s)])
				}
				t.Logf("cluster 0's handover at height %d seats %v, after %d that seated %s again", next, replacedBy, stillSeated, victim)
				break
			}
		}
	}
	// The handover under way at the kill, and the one a rotation drew
	// before the galaxy saw four blocks without the victim, may seat it;
	// the next may not.
	if stillSeated > 2 {
		fail("%d handovers after the kill seated %s again before one replaced it", stillSeated, victim)
	}
	tn.Process.Signal(os.Interrupt)
	_, victimJoined := joiners[victim]
	if err := tn.Wait(); err != nil && (victimJoined || !strings.Contains(tnOut.String()+tnErr.String(), "1 node exit(s) the supervisor did not ask for")) {
		fail("testnet: %v", err)
	}
	for n, cmd := range joiners {
		if n == victim {
			cmd.Wait()
			continue
		}
		cmd.Process.Signal(os.Interrupt)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("%s's node run: %v\n%s", n, err, joinerOut[n].String())
		}
	}
	out := tnOut.String()
	if !regexp.MustCompile(`c0: \d+ \(\d+\) \d+ tx/s \| c1: \d+ \(\d+\) \d+ tx/s \| black holes`).MatchString(out) {
		t.Fatalf("the status lines never show the opened cluster 1:\n%s", out)
	}
	var moved []string
	for i := 1; i <= all; i++ {
		n := fmt.Sprintf("star-%d", i)
		if _, err := os.Stat(filepath.Join(data, n, "cluster-1", "founding.json")); err == nil {
			moved = append(moved, n)
		}
	}
	t.Logf("moved to cluster 1: %v", moved)
	if len(moved) < 4 {
		t.Fatalf("%d candidate nodes moved to cluster 1 (%v), want at least 4\n%s", len(moved), moved, out)
	}
	out, errOut, code := run(t, dir, "reputation", "replay", "--galaxy", filepath.Join(data, "star-1"), "--manifest", path, "--genesis", genesis)
	if code != 0 {
		t.Fatalf("reputation replay exit %d\n%s\n%s", code, out, errOut)
	}
	if !regexp.MustCompile(`cluster 0: 4 of \d+ candidates drawn`).MatchString(out) || !regexp.MustCompile(`cluster 1: 4 of \d+ candidates drawn`).MatchString(out) {
		t.Fatalf("the galaxy does not draw for two clusters:\n%s", out)
	}
	for star, n := range names {
		if nodeIndex(n) > listed && !strings.Contains(out, star.String()) {
			t.Fatalf("%s, which joined and which the network's manifest does not list, is no candidate:\n%s", n, out)
		}
	}
	// No noO lost or made: at every black hole, across both clusters.
	m, h := oneClusterHierarchy(t, splitManifest(listed), genesis)
	// Cluster 0's chain from a genesis node that stayed, cluster 1's from
	// one that moved, not the killed one (its copy may be torn), each the
	// longest copy: a candidate that only follows may lag what the galaxy
	// finalized when the network stops.
	var stayed, movedOK []string
	for i := 1; i <= 4; i++ {
		if n := fmt.Sprintf("star-%d", i); !slices.Contains(moved, n) && n != victim {
			stayed = append(stayed, n)
		}
	}
	for _, n := range moved {
		if n != victim {
			movedOK = append(movedOK, filepath.Join(n, "cluster-1"))
		}
	}
	c0, c1 := longestChain(t, data, stayed), longestChain(t, data, movedOK)
	if c0 == "" || c1 == "" {
		t.Fatalf("no whole copy of both clusters' chains (moved %v, killed %s)", moved, victim)
	}
	stores := map[string]*store.Store{}
	for _, p := range []string{filepath.Join("star-1", "galaxy"), c0, c1} {
		st, err := store.Open(filepath.Join(data, p, "chain"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		stores[p] = st
	}
	galaxy := stores[filepath.Join("star-1", "galaxy")]
	bhHead, _, _ := galaxy.Head()
	fin := checkSupplyAtEveryBlackHole(t, m, h, galaxy, []*store.Store{stores[c0], stores[c1]}, bhHead)
	if fin.replayed[1] == 0 {
		t.Fatalf("no black hole of %d finalizes a checkpoint of cluster 1", bhHead)
	}
	t.Logf("finalized: cluster 0 to %d, cluster 1 to %d; %d cross-cluster receipts, %d credits, %d account moves", fin.replayed[0], fin.replayed[1], fin.crossTxs, fin.credits, fin.moves)
	// Delegates rotated, with keys generated by their chains, and a star
	// that joined was seated: by a handover, or as a first delegate of
	// cluster 1.
	handovers := map[string]int{}
	var seatedJoiners []string
	seat := func(ms []interfaces.StarID) {
		for _, s := range ms {
			if n := names[s]; nodeIndex(n) > listed && !slices.Contains(seatedJoiners, n) {
				seatedJoiners = append(seatedJoiners, n)
			}
		}
	}
	for _, p := range []string{c0, c1} {
		head, _, _ := stores[p].Head()
		for hgt := uint64(1); hgt <= head; hgt++ {
			b, err := stores[p].Block(hgt)
			if err != nil {
				continue
			}
			if b.Meta.Handover != nil {
				handovers[p]++
				seat(b.Meta.Handover.Members)
			}
			for _, f := range b.Meta.Founded {
				seat(f.Members)
			}
		}
	}
	t.Logf("handovers: %v; joined stars seated: %v", handovers, seatedJoiners)
	if handovers[c0]+handovers[c1] < 3 {
		t.Fatalf("the clusters handed over %v times, want at least 3 rotations in all", handovers)
	}
	if len(seatedJoiners) == 0 {
		t.Fatalf("no star that joined (star-%d to star-%d) was ever seated", listed+1, all)
	}
	for _, st := range stores {
		st.Close()
	}
	for _, d := range []string{c1, filepath.Dir(c1), c0} {
		out, errOut, code = run(t, dir, "chain", "verify", "--manifest", path, "--genesis", genesis, filepath.Join(data, d))
		if code != 0 {
			t.Fatalf("chain verify %s exit %d\n%s\n%s", d, code, out, errOut)
		}
	}
}

// oneClusterHierarchy parses src, a manifest of one genesis cluster, and
// builds its hierarchy from the genesis file, as the nodes did, for an
// offline replay.
func oneClusterHierarchy(t *testing.T, src, genesis string) (*manifest.Manifest, *node.Hierarchy) {
	t.Helper()
	m, diags := manifest.Parse("net.hcl", []byte(src))
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
	return m, h
}

// pickVictim finds, among star-1 to star-4, a node that follows cluster 0
// (watch) and a delegate of cluster 0's newest block other than watch to
// kill: one not among the first listed stars' galaxy members if there is
// one. from is watch's height then.
func pickVictim(t *testing.T, ctx context.Context, names map[interfaces.StarID]string, listed int) (watch, victim string, from uint64) {
	t.Helper()
	for i := 1; i <= 4; i++ {
		c := api.NewClient(fmt.Sprintf("127.0.0.1:%d", 8200+i))
		st, err := c.Status(ctx)
		if err != nil || st.Height == 0 {
			continue
		}
		b, err := c.Block(ctx, st.Height)
		if err != nil || b.Cluster != 0 {
			continue
		}
		watch = fmt.Sprintf("star-%d", i)
		for _, m := range b.Members {
			n := names[mustStar(t, m)]
			if n == watch || n == "" {
				continue
			}
			if victim == "" || nodeIndex(victim) <= 4 && nodeIndex(n) > 4 {
				victim = n
			}
		}
		return watch, victim, st.Height
	}
	return "", "", 0
}

// nodeIndex is N of a node named star-N (0 for any other name).
func nodeIndex(name string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(name, "star-"))
	return n
}

func mustStar(t *testing.T, s string) interfaces.StarID {
	t.Helper()
	id, err := interfaces.ParseStarID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestAClusterClosesFromTheCLI runs the testnet of boundedManifest(9, 8,
// 3): one cluster of four delegates (also the galaxy) and five candidate
// nodes, a bound of eight candidates and a minimum of three. Once the
// candidates stand, cluster 0 holds nine, and a rotation beacon opens
// cluster 1 with four of them. Two of those then stand down from the CLI
// (`member leave`), which leaves cluster 1 two candidates: a rotation
// beacon starts closing it into cluster 0 and, once nothing is in flight
// to it, a later one finishes the closing. Its nodes then move to cluster
// 0's chain by themselves, the status line says the cluster closed, and
// `reputation replay` says so too. Afterwards the test checks supply at
// every black hole across both clusters and replays every chain offline,
// the closed cluster's included.
func TestAClusterClosesFromTheCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a nine-process testnet")
	}
	const n = 9
	dir := t.TempDir()
	path := filepath.Join(dir, "net.hcl")
	if err := os.WriteFile(path, []byte(boundedManifest(n, 8, 3)), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := run(t, dir, "manifest", "validate", path); code != 0 {
		t.Fatalf("manifest validate exit %d\n%s\n%s", code, out, errOut)
	}
	data := filepath.Join(dir, "data")
	genesis := filepath.Join(dir, "keys", "genesis.json")
	tn := exec.Command(binary, "--log-level", "warn", "testnet", "--manifest", path, "--data", data, "--duration", "400s", "--rate", "100")
	tn.Dir = dir
	var tnOut, tnErr lockedBuffer
	tn.Stdout, tn.Stderr = &tnOut, &tnErr
	if err := tn.Start(); err != nil {
		t.Fatal(err)
	}
	defer tn.Process.Kill()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf(format+"\n--- testnet:\n%s\n%s", append(args, tnOut.String(), tnErr.String())...)
	}
	// Cluster 1 runs, and locality placement moved accounts: closing it
	// must move its own accounts back.
	heights := regexp.MustCompile(`c1: (\d+) \(\d+\) .* moved (\d+)`)
	for until := time.Now().Add(240 * time.Second); ; time.Sleep(time.Second) {
		if m := heights.FindAllStringSubmatch(tnOut.String(), -1); len(m) > 0 {
			h, _ := strconv.Atoi(m[len(m)-1][1])
			mv, _ := strconv.Atoi(m[len(m)-1][2])
			if h >= 5 && mv > 0 {
				break
			}
		}
		if time.Now().After(until) {
			fail("cluster 1 did not reach height 5, with accounts moved, within 240 s")
		}
	}
	var moved []string
	for i := 1; i <= n; i++ {
		nm := fmt.Sprintf("star-%d", i)
		if _, err := os.Stat(filepath.Join(data, nm, "cluster-1", "founding.json")); err == nil {
			moved = append(moved, nm)
		}
	}
	if len(moved) != 4 {
		fail("%d nodes moved to cluster 1 (%v), want 4", len(moved), moved)
	}
	// Two stand down, once they stand for cluster 1 (a moved node stands
	// again in its new cluster's chain).
	for _, nm := range moved[:2] {
		for until := time.Now().Add(60 * time.Second); ; time.Sleep(time.Second) {
			out, _, _ := run(t, dir, "member", "status", "--manifest", path, "--node", nm)
			if strings.Contains(out, "stands for cluster 1") {
				break
			}
			if time.Now().After(until) {
				fail("%s does not stand for cluster 1 within 60 s: %s", nm, out)
			}
		}
		if out, errOut, code := run(t, dir, "member", "leave", "--manifest", path, "--node", nm, "--wait", "60s"); code != 0 {
			fail("member leave %s exit %d\n%s\n%s", nm, code, out, errOut)
		}
	}
	// The others move back when the closing finishes.
	back := filepath.Join(data, moved[2], "cluster-1", "cluster-0", "founding.json")
	for until := time.Now().Add(150 * time.Second); ; time.Sleep(time.Second) {
		if _, err := os.Stat(back); err == nil && strings.Contains(tnOut.String(), "c1: closed") {
			break
		}
		if time.Now().After(until) {
			fail("cluster 1 did not close within 150 s after two of its four stars stood down (no %s, or no status line saying so)", back)
		}
	}
	time.Sleep(3 * time.Second) // the moved nodes sync cluster 0's chain
	tn.Process.Signal(os.Interrupt)
	if err := tn.Wait(); err != nil {
		fail("testnet: %v", err)
	}
	for _, nm := range moved[2:] {
		if _, err := os.Stat(filepath.Join(data, nm, "cluster-1", "cluster-0", "founding.json")); err != nil {
			fail("%s, which still stood for cluster 1, did not move back to cluster 0: %v", nm, err)
		}
	}
	out, errOut, code := run(t, dir, "reputation", "replay", "--galaxy", filepath.Join(data, "star-1"), "--manifest", path, "--genesis", genesis)
	if code != 0 {
		t.Fatalf("reputation replay exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "cluster 1: closed") || strings.Contains(out, "cluster 1: 4 of") {
		t.Fatalf("reputation replay does not say cluster 1 closed, or still draws for it:\n%s", out)
	}
	m, h := oneClusterHierarchy(t, boundedManifest(n, 8, 3), genesis)
	c1 := filepath.Join(moved[2], "cluster-1")
	stores := map[string]*store.Store{}
	for _, p := range []string{filepath.Join("star-1", "galaxy"), "star-1", c1} {
		st, err := store.Open(filepath.Join(data, p, "chain"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		stores[p] = st
	}
	galaxy := stores[filepath.Join("star-1", "galaxy")]
	bhHead, _, _ := galaxy.Head()
	fin := checkSupplyAtEveryBlackHole(t, m, h, galaxy, []*store.Store{stores["star-1"], stores[c1]}, bhHead)
	c1Head, _, _ := stores[c1].Head()
	t.Logf("finalized: cluster 0 to %d, cluster 1 to %d of %d; %d cross-cluster receipts, %d credits, %d account moves", fin.replayed[0], fin.replayed[1], c1Head, fin.crossTxs, fin.credits, fin.moves)
	if fin.replayed[1] == 0 || fin.moves == 0 {
		t.Fatalf("black holes to %d finalize %d blocks of cluster 1 and %d account moves; want some of each", bhHead, fin.replayed[1], fin.moves)
	}
	for _, st := range stores {
		st.Close()
	}
	for _, d := range []string{"star-1", c1, filepath.Join(c1, "cluster-0")} {
		out, errOut, code = run(t, dir, "chain", "verify", "--manifest", path, "--genesis", genesis, filepath.Join(data, d))
		if code != 0 {
			t.Fatalf("chain verify %s exit %d\n%s\n%s", d, code, out, errOut)
		}
	}
}

// longestChain returns the one of dirs (under data) whose chain store has
// the highest head, "" for none.
func longestChain(t *testing.T, data string, dirs []string) string {
	t.Helper()
	best, top := "", uint64(0)
	for _, d := range dirs {
		st, err := store.Open(filepath.Join(data, d, "chain"), store.Options{})
		if err != nil {
			continue
		}
		h, _, _ := st.Head()
		st.Close()
		if best == "" || h > top {
			best, top = d, h
		}
	}
	return best
}
