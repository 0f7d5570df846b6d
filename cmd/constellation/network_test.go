package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/builtin/meme"
	"github.com/constellation-chain/constellation/framework/api"
	"github.com/constellation-chain/constellation/framework/loadgen"
	"github.com/constellation-chain/constellation/framework/node"
	"github.com/constellation-chain/constellation/framework/store"
	"github.com/constellation-chain/constellation/interfaces"
)

// freePorts reserves n loopback ports and releases them for the nodes.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var out []int
	var ls []net.Listener
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return out
}

type procNode struct {
	name, dir string
	api       *api.Client
	cmd       *exec.Cmd
	done      chan struct{}
	// byzantine runs the node from the byzantine test build with
	// --byzantine.
	byzantine bool
}

// network is a 4-member HoneyBadger cluster of real processes on loopback.
type network struct {
	t        *testing.T
	dir      string
	manifest string
	nodes    []*procNode
}

func newNetwork(t *testing.T, n int) *network {
	t.Helper()
	dir := t.TempDir()
	out, errOut, code := run(t, dir, "keygen", "--cluster", fmt.Sprint(n), "--out-dir", "keys")
	if code != 0 {
		t.Fatalf("keygen: %s %s", out, errOut)
	}
	ports := freePorts(t, 2*n)
	var b strings.Builder
	b.WriteString(`network "devnet" {
  genesis {
    seed = "e2e-network"
    allocation {
      star   = "dev:faucet"
      amount = 1000000000000
    }
  }
}
plugin "consensus" "honeybadger" {
  source = "builtin"
  config {
    batch_size        = 400
    block_interval_ms = 100
  }
}
plugin "transport" "gossip" {
  source = "builtin"
}
`)
	net := &network{t: t, dir: dir}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("star-%d", i+1)
		var boot []string
		for j := 0; j < n; j++ {
			if j != i {
				boot = append(boot, fmt.Sprintf(`"/ip4/127.0.0.1/tcp/%d"`, ports[j]))
			}
		}
		fmt.Fprintf(&b, `node %q {
  key_file         = "keys/%s.key"
  cluster_key_file = "keys/%s.cluster.key"
  listen           = "/ip4/127.0.0.1/tcp/%d"
  api              = "127.0.0.1:%d"
  bootstrap        = [%s]
  roles            = ["star", "cluster"]
}
`, name, name, name, ports[i], ports[n+i], strings.Join(boot, ", "))
		net.nodes = append(net.nodes, &procNode{name: name, dir: filepath.Join(dir, "data", name), api: api.NewClient(fmt.Sprintf("127.0.0.1:%d", ports[n+i]))})
	}
	net.manifest = filepath.Join(dir, "net.hcl")
	if err := os.WriteFile(net.manifest, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, nd := range net.nodes {
			net.kill(nd)
		}
	})
	return net
}

func (n *network) start(nd *procNode) {
	n.t.Helper()
	os.MkdirAll(nd.dir, 0o700)
	logf, err := os.OpenFile(filepath.Join(nd.dir, "node.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		n.t.Fatal(err)
	}
	bin, args := binary, []string{"--log-level", "info", "node", "run", "--manifest", n.manifest, "--node", nd.name, "--data", nd.dir, "--fault-injection"}
	if nd.byzantine {
		bin, args = byzantineBinary, append(args, "--byzantine")
	}
	nd.cmd = exec.Command(bin, args...)
	nd.cmd.Stdout, nd.cmd.Stderr = logf, logf
	if err := nd.cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	nd.done = make(chan struct{})
	go func() { nd.cmd.Wait(); logf.Close(); close(nd.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := nd.api.Status(context.Background()); err == nil {
			return
		}
		select {
		case <-nd.done:
			n.t.Fatalf("%s exited while starting:\n%s", nd.name, tail(filepath.Join(nd.dir, "node.log"), 30))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("%s API did not come up:\n%s", nd.name, tail(filepath.Join(nd.dir, "node.log"), 30))
		}
	}
}

func (n *network) kill(nd *procNode) {
	if nd.cmd != nil && nd.cmd.Process != nil {
		nd.cmd.Process.Signal(syscall.SIGKILL)
		<-nd.done
		nd.cmd = nil
	}
}

func (n *network) stop(nd *procNode) {
	if nd.cmd != nil && nd.cmd.Process != nil {
		nd.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-nd.done:
		case <-time.After(20 * time.Second):
			n.t.Errorf("%s did not stop on SIGTERM", nd.name)
			n.kill(nd)
		}
		nd.cmd = nil
	}
}

func (n *network) height(nd *procNode) uint64 {
	st, err := nd.api.Status(context.Background())
	if err != nil {
		return 0
	}
	return st.Height
}

// waitHeight waits until nd reaches h.
func (n *network) waitHeight(nd *procNode, h uint64, within time.Duration) {
	n.t.Helper()
	deadline := time.Now().Add(within)
	for n.height(nd) < h {
		if time.Now().After(deadline) {
			n.t.Fatalf("%s stuck at height %d, want %d; log:\n%s", nd.name, n.height(nd), h, tail(filepath.Join(nd.dir, "node.log"), 30))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestFourProcessesSurviveAKilledMemberAndItCatchesUp is the network
// end-to-end test: four node processes run HoneyBadger over the libp2p
// transport on loopback; one is killed with SIGKILL while transactions flow
// and the other three keep committing (f = 1); restarted, it catches up;
// every node has the same block hash at every height, and every accepted
// transaction is committed exactly once.
func TestFourProcessesSurviveAKilledMemberAndItCatchesUp(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process network test")
	}
	net := newNetwork(t, 4)
	for _, nd := range net.nodes {
		net.start(nd)
	}
	ctx := context.Background()
	g := loadgen.New(interfaces.DevKey("faucet"), 16, 1_000_000, 7)
	accepted := map[interfaces.Hash]bool{}
	lastSeq := map[interfaces.StarID]uint64{}
	submit := func(count int, to []*procNode) {
		for i := 0; i < count; i++ {
			tx, err := g.Next()
			if err != nil {
				t.Fatal(err)
			}
			if err := to[i%len(to)].api.Submit(ctx, tx); err != nil {
				g.Undo(tx)
				var apiErr *api.Error
				if errors.As(err, &apiErr) && apiErr.Status == 503 {
					time.Sleep(50 * time.Millisecond)
					continue
				}
				t.Fatalf("submit: %v", err)
			}
			accepted[tx.ID()] = true
			lastSeq[tx.Sender] = tx.Seq
			time.Sleep(2 * time.Millisecond)
		}
	}
	// waitCommitted waits until every accepted transaction is committed:
	// each sender's chain reached its last accepted sequence.
	waitCommitted := func(phase string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			var behind []string
			for star, seq := range lastSeq {
				a, err := net.nodes[0].api.Account(ctx, star)
				if err != nil || a.Seq < seq {
					behind = append(behind, fmt.Sprintf("%s at %d of %d", star.Short(), a.Seq, seq))
				}
			}
			if len(behind) == 0 {
				return
			}
			if time.Now().After(deadline) {
				var heights []uint64
				for _, nd := range net.nodes {
					heights = append(heights, net.height(nd))
				}
				t.Fatalf("%s: accepted transactions not all committed: %v; heights %v\nstar-1 log:\n%s", phase, behind, heights, tail(filepath.Join(net.nodes[0].dir, "node.log"), 15))
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	all, survivors := net.nodes, net.nodes[:3]
	submit(200, all)
	// A transaction accepted by a node's API but not yet gossiped dies
	// with that node; let the first batch settle before the kill, so the
	// test checks what it means to: nothing committed is lost.
	waitCommitted("before the kill")

	victim := all[3]
	net.kill(victim)
	before := net.height(all[0])
	submit(300, survivors)
	net.waitHeight(all[0], before+5, 90*time.Second)

	net.start(victim)
	target := net.height(all[0])
	net.waitHeight(victim, target, 90*time.Second)
	submit(200, all)

	waitCommitted("after the restart")
	final := net.height(all[0])
	for _, nd := range all {
		net.waitHeight(nd, final, 60*time.Second)
	}
	for _, nd := range all {
		net.stop(nd)
	}

	// Same hash at every height on every node; each store verifies; every
	// accepted transaction is in exactly one block.
	var ref []interfaces.Hash
	for i, nd := range all {
		st, err := store.Open(filepath.Join(nd.dir, "chain"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Verify(); err != nil {
			t.Fatalf("%s: %v", nd.name, err)
		}
		seen := map[interfaces.Hash]int{}
		var hashes []interfaces.Hash
		err = st.Blocks(1, final, func(b *interfaces.Block) error {
			hashes = append(hashes, b.Hash())
			for _, tx := range b.Txs {
				seen[tx.ID()]++
			}
			return nil
		})
		st.Close()
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			ref = hashes
			for id := range accepted {
				if seen[id] != 1 {
					t.Fatalf("transaction %s committed %d times", id.Short(), seen[id])
				}
			}
			continue
		}
		for h := range ref {
			if hashes[h] != ref[h] {
				t.Fatalf("%s differs from %s at height %d", nd.name, all[0].name, h+1)
			}
		}
	}
	// The victim may catch up through block sync, or through consensus when
	// its peers' transports still held the messages sent while it was down.
	logText, _ := os.ReadFile(filepath.Join(victim.dir, "node.log"))
	t.Logf("block sync used: %v", strings.Contains(string(logText), "caught up"))
	t.Logf("%d blocks, %d transactions; %s rejoined at height %d after missing %d blocks", final, len(accepted), victim.name, target, target-before)
}

func (n *network) star(nd *procNode) interfaces.StarID {
	n.t.Helper()
	st, err := nd.api.Status(context.Background())
	if err != nil {
		n.t.Fatal(err)
	}
	id, err := interfaces.ParseStarID(st.Star)
	if err != nil {
		n.t.Fatal(err)
	}
	return id
}

// TestPartitionStallsWithoutForkAndHeals splits four processes 2|2 at the
// transport (neither side has the N−f = 3 members a decision needs), checks
// that no node commits a block the others do not have, heals the split and
// checks that blocks flow again with one chain everywhere.
func TestPartitionStallsWithoutForkAndHeals(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process network test")
	}
	net := newNetwork(t, 4)
	for _, nd := range net.nodes {
		net.start(nd)
	}
	ctx := context.Background()
	for _, nd := range net.nodes {
		net.waitHeight(nd, 3, 60*time.Second)
	}
	stars := make([]interfaces.StarID, 4)
	for i, nd := range net.nodes {
		stars[i] = net.star(nd)
	}
	cut := func(on bool) {
		for i, nd := range net.nodes {
			other := stars[2:]
			if i >= 2 {
				other = stars[:2]
			}
			if err := nd.api.Partition(ctx, other, on); err != nil {
				t.Fatalf("partition %s: %v", nd.name, err)
			}
		}
	}
	cut(true)
	// Let in-flight epochs finish, then watch for progress.
	time.Sleep(2 * time.Second)
	var during []uint64
	for _, nd := range net.nodes {
		during = append(during, net.height(nd))
	}
	time.Sleep(3 * time.Second)
	for i, nd := range net.nodes {
		if h := net.height(nd); h > during[i]+1 {
			t.Fatalf("%s committed %d blocks while the cluster was split 2|2", nd.name, h-during[i])
		}
	}
	cut(false)
	top := slices.Max(during)
	for _, nd := range net.nodes {
		net.waitHeight(nd, top+3, 90*time.Second)
	}
	final := net.height(net.nodes[0])
	for _, nd := range net.nodes {
		net.waitHeight(nd, final, 60*time.Second)
	}
	// One chain: the same hash at every height on every node.
	var ref []string
	for i, nd := range net.nodes {
		var hashes []string
		for h := uint64(1); h <= final; h++ {
			b, err := nd.api.Block(ctx, h)
			if err != nil {
				t.Fatalf("%s block %d: %v", nd.name, h, err)
			}
			hashes = append(hashes, b.Hash)
		}
		if i == 0 {
			ref = hashes
			continue
		}
		for h := range ref {
			if hashes[h] != ref[h] {
				t.Fatalf("fork: %s differs from %s at height %d", nd.name, net.nodes[0].name, h+1)
			}
		}
	}
	t.Logf("stalled at heights %v while split; %d blocks after healing", during, final-top)
}

// TestByzantineMemberForksNobodyAndIsDocked runs four processes over libp2p
// on loopback; star-4 is the byzantine test build with --byzantine: it
// follows every READY and AUX with a conflicting one, replays old messages,
// sends invalid coin and decryption shares and, now and then, garbage, all
// signed. The honest members must hold one chain, every store must verify,
// star-4's provable faults must be in blocks (and only star-4's), and the
// reputation every node derives from the chain must score star-4 below each
// honest member.
func TestByzantineMemberForksNobodyAndIsDocked(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process network test")
	}
	net := newNetwork(t, 4)
	byz := net.nodes[3]
	byz.byzantine = true
	for _, nd := range net.nodes {
		net.start(nd)
	}
	ctx := context.Background()
	stars := make([]interfaces.StarID, 4)
	for i, nd := range net.nodes {
		stars[i] = net.star(nd)
	}
	g := loadgen.New(interfaces.DevKey("faucet"), 8, 1_000_000, 11)
	for i := 0; i < 150; i++ {
		tx, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		if err := net.nodes[i%3].api.Submit(ctx, tx); err != nil {
			g.Undo(tx)
		}
		time.Sleep(5 * time.Millisecond)
	}
	honest := net.nodes[:3]
	net.waitHeight(honest[0], 20, 120*time.Second)
	final := net.height(honest[0])
	for _, nd := range honest {
		net.waitHeight(nd, final, 60*time.Second)
	}
	for _, nd := range net.nodes {
		net.stop(nd)
	}
	kinds := map[interfaces.FaultKind]int{}
	requireOneChain(t, honest, final, func(i int, b *interfaces.Block) error {
		for _, f := range b.Meta.Faults {
			if f.Star != stars[3] {
				return fmt.Errorf("block %d holds a %s fault of honest %s", b.Header.Height, f.Kind, f.Star.Short())
			}
			if i == 0 {
				kinds[f.Kind]++
			}
		}
		return nil
	}, func(st *store.Store) error {
		rep, err := meme.Factory{}.NewReputation(nil)
		if err != nil {
			return err
		}
		if err := node.Rebuild(node.NewReputation(rep), final, st.Blocks); err != nil {
			return err
		}
		bad := rep.Score(stars[3])
		t.Logf("scores: honest %d %d %d, Byzantine %d", rep.Score(stars[0]), rep.Score(stars[1]), rep.Score(stars[2]), bad)
		for j := range 3 {
			if s := rep.Score(stars[j]); s <= bad {
				return fmt.Errorf("the Byzantine member's score %d is not below %s's %d", bad, honest[j].name, s)
			}
		}
		return nil
	})
	if kinds[interfaces.FaultEquivocation] == 0 || kinds[interfaces.FaultMalformed] == 0 {
		t.Fatalf("blocks hold faults %v of the Byzantine member; want equivocation and malformed among them", kinds)
	}
	t.Logf("%d blocks; the Byzantine member's faults on chain: %v", final, kinds)
}

// TestThirtyRandomKillsForkNothingAndLoseNothing kills a random member with
// SIGKILL at a random moment, thirty times, restarting it each time while
// transactions flow. No committed block may be lost (a restarted member is
// never below the height it had), every member must catch up, every store
// must pass chain verify, every member must hold the same hash at every
// height, and no block may hold a fault: a restarted member that sent
// something contradicting what it sent before the kill would be caught
// equivocating.
func TestThirtyRandomKillsForkNothingAndLoseNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process network test")
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CONSTELLATION_KILL_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	t.Logf("seed %d (CONSTELLATION_KILL_SEED=%d repeats the kill schedule)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 30))
	net := newNetwork(t, 4)
	for _, nd := range net.nodes {
		net.start(nd)
	}
	ctx, stopLoad := context.WithCancel(context.Background())
	loadDone := make(chan struct{})
	go func() {
		// A bounded load: at most 3000 transactions, one every 5 ms, to
		// whichever members answer.
		defer close(loadDone)
		g := loadgen.New(interfaces.DevKey("faucet"), 8, 1_000_000, seed)
		for i := 0; i < 3000 && ctx.Err() == nil; i++ {
			tx, err := g.Next()
			if err != nil {
				return
			}
			if err := net.nodes[i%4].api.Submit(ctx, tx); err != nil {
				g.Undo(tx)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	for _, nd := range net.nodes {
		net.waitHeight(nd, 2, 60*time.Second)
	}
	for round := 0; round < 30; round++ {
		victim := net.nodes[rng.IntN(4)]
		time.Sleep(time.Duration(rng.IntN(1500)) * time.Millisecond)
		had := net.height(victim)
		net.kill(victim)
		time.Sleep(time.Duration(rng.IntN(500)) * time.Millisecond)
		net.start(victim)
		if h := net.height(victim); h < had {
			t.Fatalf("round %d: %s restarted at height %d, had %d before the kill", round, victim.name, h, had)
		}
		if round%10 == 9 {
			t.Logf("round %d: heights %d %d %d %d", round+1, net.height(net.nodes[0]), net.height(net.nodes[1]), net.height(net.nodes[2]), net.height(net.nodes[3]))
		}
	}
	stopLoad()
	<-loadDone
	top := uint64(0)
	for _, nd := range net.nodes {
		top = max(top, net.height(nd))
	}
	for _, nd := range net.nodes {
		net.waitHeight(nd, top, 120*time.Second)
	}
	for _, nd := range net.nodes {
		net.stop(nd)
	}
	for _, nd := range net.nodes {
		if _, errOut, code := run(t, nd.dir, "chain", "verify", nd.dir); code != 0 {
			t.Fatalf("%s: chain verify: %s", nd.name, errOut)
		}
	}
	requireOneChain(t, net.nodes, top, func(_ int, b *interfaces.Block) error {
		// Every member is honest: a fault on chain would mean a restarted
		// member sent something contradicting what it sent before the kill.
		if len(b.Meta.Faults) > 0 {
			f := b.Meta.Faults[0]
			return fmt.Errorf("block %d holds a %s fault of %s, and every member is honest", b.Header.Height, f.Kind, f.Star.Short())
		}
		return nil
	}, nil)
	t.Logf("%d blocks after 30 kills", top)
}

// requireOneChain opens each stopped node's store, checks it with
// store.Verify, calls visit on each of its blocks 1..top (with the node's
// position) and first on the first node's store, and fails unless every
// node holds the same hash at every height.
func requireOneChain(t *testing.T, nodes []*procNode, top uint64, visit func(i int, b *interfaces.Block) error, first func(st *store.Store) error) {
	t.Helper()
	var ref []interfaces.Hash
	for i, nd := range nodes {
		st, err := store.Open(filepath.Join(nd.dir, "chain"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err = st.Verify(); err != nil {
			err = fmt.Errorf("chain verify: %w", err)
		}
		var hashes []interfaces.Hash
		if err == nil {
			err = st.Blocks(1, top, func(b *interfaces.Block) error {
				hashes = append(hashes, b.Hash())
				if visit != nil {
					return visit(i, b)
				}
				return nil
			})
		}
		if err == nil && i == 0 && first != nil {
			err = first(st)
		}
		st.Close()
		if err != nil {
			t.Fatalf("%s: %v", nd.name, err)
		}
		if i == 0 {
			ref = hashes
			continue
		}
		for h := range ref {
			if hashes[h] != ref[h] {
				t.Fatalf("fork: %s differs from %s at height %d", nd.name, nodes[0].name, h+1)
			}
		}
	}
}
