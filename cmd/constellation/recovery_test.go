package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/framework/api"
	"github.com/constellation-chain/constellation/framework/loadgen"
	"github.com/constellation-chain/constellation/framework/manifest"
	"github.com/constellation-chain/constellation/interfaces"
)

// recoveryBatch is the default manifest's batch_size, and recoveryShare
// one delegate's share of it (B/N for four delegates): what a node
// proposes at once when its pool holds that many includable
// transactions.
const (
	recoveryBatch = 2000
	recoveryShare = recoveryBatch / 4
)

// recoveryManifest is the default manifest's first cluster on its own:
// star-1 to star-4 as the delegates of one Star Cluster, no galaxy (so no
// mint), hash placement, listening on 7701-7704 with their APIs on
// 8701-8704.
func recoveryManifest(t *testing.T) string {
	t.Helper()
	src := string(manifest.Default())
	src = regexp.MustCompile(`tcp/70(0\d)`).ReplaceAllString(src, "tcp/77$1")
	src = regexp.MustCompile(`127\.0\.0\.1:80(0\d)`).ReplaceAllString(src, "127.0.0.1:87$1")
	for i := 5; i <= 8; i++ {
		block := regexp.MustCompile(`(?s)node "star-` + strconv.Itoa(i) + `" \{.*?\n\}\n`)
		src = block.ReplaceAllString(src, "")
	}
	src = regexp.MustCompile(`(?s)\n\s*mint \{.*?\}`).ReplaceAllString(src, "")
	src = strings.ReplaceAll(src, `"cluster", "galaxy"]`, `"cluster"]`)
	src = regexp.MustCompile(`, "/ip4/127\.0\.0\.1/tcp/770[5-8]"`).ReplaceAllString(src, "")
	src = strings.Replace(src, `placement     = "locality"`, `placement     = "hash"`, 1)
	if regexp.MustCompile(`tcp/70\d\d|:80\d\d`).MatchString(src) || strings.Contains(src, `"star-5"`) || strings.Contains(src, "galaxy\"]") || !strings.Contains(src, "batch_size        = "+strconv.Itoa(recoveryBatch)) {
		t.Fatalf("the default manifest changed shape; recoveryManifest needs updating:\n%s", src)
	}
	return src
}

// writeRecoveryManifest writes recoveryManifest to dir/net.hcl and checks
// it.
func writeRecoveryManifest(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "net.hcl")
	if err := os.WriteFile(path, []byte(recoveryManifest(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := run(t, dir, "manifest", "validate", path); code != 0 {
		t.Fatalf("manifest validate exit %d\n%s\n%s", code, out, errOut)
	}
	return path
}

// recoveryClient is the API client of star-i of recoveryManifest.
func recoveryClient(i int) *api.Client { return api.NewClient(fmt.Sprintf("127.0.0.1:%d", 8700+i)) }

// recoveryRate is a block range's committed tx/s by the blocks' agreed
// timestamps.
func recoveryRate(t *testing.T, c *api.Client, from, to uint64) (float64, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if to <= from {
		return 0, 0
	}
	first, err := c.Block(ctx, from)
	if err != nil {
		t.Fatalf("read block %d: %v", from, err)
	}
	txs, last := 0, first
	for h := from + 1; h <= to; h++ {
		b, err := c.Block(ctx, h)
		if err != nil {
			t.Fatalf("read block %d: %v", h, err)
		}
		txs += len(b.Txs)
		last = b
	}
	dt := float64(last.Timestamp-first.Timestamp) / 1000
	if dt <= 0 {
		return 0, txs
	}
	return float64(txs) / dt, txs
}

// recoverySample is one look at the network: the newest block star-1
// committed and every node's pool at that moment.
type recoverySample struct {
	at     time.Duration // since the restarted node caught up
	height uint64
	txs    int
	pools  []int // star-1 to star-4; -1 when a node did not answer
}

// TestRecoveryAfterADelegateIsKilledUnderLoad: under the testnet's own
// load a delegate dies by SIGKILL and the supervisor restarts it; once it
// has caught up, every block is full or every pool is empty. The
// transactions lost with the killed node's pool leave gaps in their
// senders' sequences; a pool that kept what can never be included would
// hold thousands while blocks carry a handful (the stream of nearly
// empty early proposals once seen after a crash).
func TestRecoveryAfterADelegateIsKilledUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a four-process testnet for about two minutes")
	}
	dir := t.TempDir()
	path := writeRecoveryManifest(t, dir)
	data := filepath.Join(dir, "data")
	tn := exec.Command(binary, "--log-level", "warn", "testnet", "--manifest", path, "--data", data, "--rate", "200", "--duration", "140s")
	tn.Dir = dir
	var tnOut, tnErr lockedBuffer
	tn.Stdout, tn.Stderr = &tnOut, &tnErr
	if err := tn.Start(); err != nil {
		t.Fatal(err)
	}
	defer tn.Process.Kill()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf(format+"\n--- testnet:\n%s\n%s", append(args, tail2(tnOut.String(), 60), tnErr.String())...)
	}
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(tnOut.String(), "producing blocks"); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			fail("no blocks after 60 s")
		}
	}
	ctx := context.Background()
	c1 := recoveryClient(1)
	height := func(c *api.Client) uint64 {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		st, err := c.Status(rctx)
		if err != nil {
			return 0
		}
		return st.Height
	}
	// The load's level before the kill, once it runs.
	time.Sleep(10 * time.Second)
	b0 := height(c1)
	time.Sleep(10 * time.Second)
	b1 := height(c1)
	before, _ := recoveryRate(t, c1, b0, b1)
	if before == 0 {
		fail("nothing committed before the kill (blocks %d to %d)", b0, b1)
	}

	m := regexp.MustCompile(`star-4 +started \(pid (\d+)`).FindStringSubmatch(tnOut.String())
	if m == nil {
		fail("no pid for star-4 in the testnet's output")
	}
	pid, _ := strconv.Atoi(m[1])
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		fail("kill star-4 (pid %d): %v", pid, err)
	}
	killed := time.Now()
	t.Logf("%.0f tx/s over blocks %d to %d; killed star-4 (pid %d) at height %d", before, b0, b1, pid, height(c1))
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(tnOut.String(), "restarting it"); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			fail("the supervisor did not restart star-4 within 20 s")
		}
	}
	// Caught up: star-4 answers at star-1's height.
	c4 := recoveryClient(4)
	var caughtUp time.Time
	for deadline := time.Now().Add(40 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		if h4 := height(c4); h4 > 0 && h4+1 >= height(c1) {
			caughtUp = time.Now()
			break
		}
		if time.Now().After(deadline) {
			fail("the restarted star-4 did not catch up within 40 s (height %d, star-1 at %d)", height(c4), height(c1))
		}
	}
	t.Logf("star-4 caught up %.1f s after the kill", caughtUp.Sub(killed).Seconds())

	// Watch for 30 s: blocks and pools, every half second.
	clients := []*api.Client{c1, recoveryClient(2), recoveryClient(3), c4}
	var samples []recoverySample
	from := height(c1)
	next := from + 1
	for time.Since(caughtUp) < 30*time.Second {
		time.Sleep(500 * time.Millisecond)
		s := recoverySample{at: time.Since(caughtUp)}
		for _, c := range clients {
			rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			st, err := c.Status(rctx)
			cancel()
			if err != nil {
				s.pools = append(s.pools, -1)
				continue
			}
			s.pools = append(s.pools, st.Pool)
		}
		for h := height(c1); next <= h; next++ {
			rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			b, err := c1.Block(rctx, next)
			cancel()
			if err != nil {
				break
			}
			s.height, s.txs = next, len(b.Txs)
		}
		if s.height > 0 {
			samples = append(samples, s)
		}
	}
	to := next - 1
	after, _ := recoveryRate(t, c1, from, to)
	t.Logf("after the restart: %.0f tx/s over blocks %d to %d (%.0f%% of before)", after, from, to, 100*after/before)

	// The recovery: in the second half of the window, blocks are full or
	// pools empty. A pool that holds at least one delegate's share on some
	// node (what a proposal takes at once) is either emptied below that by
	// the blocks after it, or they are full (at least that share): a pool
	// of transactions that can't be included would stay in the thousands
	// while blocks carry a handful. A block two heights on from a look is
	// one proposed after it; a pool that a machine's pause filled for a
	// moment and the next block emptied is no failure.
	var bad []string
	for i, s := range samples {
		maxPool := 0
		for _, p := range s.pools {
			maxPool = max(maxPool, p)
		}
		if s.at < 15*time.Second || maxPool < recoveryShare {
			continue
		}
		for _, later := range samples[i+1:] {
			if later.height < s.height+2 {
				continue
			}
			laterPool := 0
			for _, p := range later.pools {
				laterPool = max(laterPool, p)
			}
			if later.txs < recoveryShare && laterPool >= recoveryShare {
				bad = append(bad, fmt.Sprintf("%.1fs: pools %v at block %d, then block %d with %d txs and pools %v", s.at.Seconds(), s.pools, s.height, later.height, later.txs, later.pools))
			}
			break
		}
	}
	if len(samples) < 10 {
		fail("only %d samples of blocks after the restart", len(samples))
	}
	if len(bad) > 0 {
		fail("%d of %d looks 15-30 s after star-4 caught up found pools of a share (%d) or more that the blocks after them neither emptied nor filled:\n%s",
			len(bad), len(samples), recoveryShare, strings.Join(bad, "\n"))
	}
	last := samples[len(samples)-1]
	t.Logf("%d samples; the last: block %d with %d txs, pools %v", len(samples), last.height, last.txs, last.pools)
	tn.Process.Signal(syscall.SIGINT)
	tn.Wait()
}

// tail2 is the last n lines of s.
func tail2(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// metric reads one counter or gauge of a node's /metrics: the sum over
// the series of name.
func metric(t *testing.T, addr, name string) (float64, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	sum := 0.0
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			sum += v
		}
	}
	return sum, nil
}

// TestPartitionHealsWithoutInboxDropsAndTheLaggingNodeSyncs: star-4 is cut
// off from the other three delegates while they go on under load, then
// healed. No consensus message is dropped for a full inbox on any node
// (the metric and the logs agree), and star-4 reaches the others' height
// at the heal through block sync.
func TestPartitionHealsWithoutInboxDropsAndTheLaggingNodeSyncs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs four node processes for about a minute and a half")
	}
	dir := t.TempDir()
	path := writeRecoveryManifest(t, dir)
	data := filepath.Join(dir, "data")
	// The testnet deals the keys and starts the chain; the nodes then run
	// on their own, with fault injection.
	if out, errOut, code := run(t, dir, "--log-level", "warn", "testnet", "--manifest", path, "--data", data, "--rate", "0", "--blocks", "2"); code != 0 {
		t.Fatalf("testnet exit %d\n%s\n%s", code, out, errOut)
	}
	logs := make([]*lockedBuffer, 5)
	for i := 1; i <= 4; i++ {
		n := fmt.Sprintf("star-%d", i)
		// star-4 logs at info: its catch-up through block sync shows there.
		level := "warn"
		if i == 4 {
			level = "info"
		}
		cmd := exec.Command(binary, "--log-level", level, "node", "run", "--fault-injection", "--manifest", path, "--node", n, "--data", filepath.Join(data, n))
		cmd.Dir = dir
		logs[i] = &lockedBuffer{}
		cmd.Stdout, cmd.Stderr = logs[i], logs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() {
			cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
			}
		}()
	}
	allLogs := func() string {
		var b strings.Builder
		for i := 1; i <= 4; i++ {
			fmt.Fprintf(&b, "--- star-%d:\n%s\n", i, tail2(logs[i].String(), 15))
		}
		return b.String()
	}
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf(format+"\n%s", append(args, allLogs())...)
	}
	ctx := context.Background()
	clients := []*api.Client{nil, recoveryClient(1), recoveryClient(2), recoveryClient(3), recoveryClient(4)}
	stars := make([]interfaces.StarID, 5)
	status := func(i int) (api.Status, error) {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		return clients[i].Status(rctx)
	}
	for i := 1; i <= 4; i++ {
		for deadline := time.Now().Add(40 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			st, err := status(i)
			if err == nil {
				s, err := interfaces.ParseStarID(st.Star)
				if err != nil {
					t.Fatal(err)
				}
				stars[i] = s
				break
			}
			if time.Now().After(deadline) {
				fail("star-%d's API did not answer within 40 s: %v", i, err)
			}
		}
	}

	// Load through star-1 to star-3, which stay together.
	m, diags := manifest.LoadFile(path)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	faucet, err := devFaucet(m, "dev:faucet")
	if err != nil {
		t.Fatal(err)
	}
	sink := apiSink{clients[1], clients[2], clients[3]}
	head := func(s interfaces.StarID) (uint64, interfaces.Hash, error) {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		a, err := clients[1].Account(rctx, s)
		if err != nil {
			return 0, interfaces.Hash{}, err
		}
		last, err := interfaces.ParseHash(a.Last)
		return a.Seq, last, err
	}
	balance := func(s interfaces.StarID) (uint64, error) {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		a, err := clients[1].Account(rctx, s)
		return a.Balance, err
	}
	g := loadgen.New(faucet, 64, 1_000_000_000, 1)
	if err := g.Sync(head, balance); err != nil {
		t.Fatal(err)
	}
	d := loadgen.NewDriver(g, sink, loadgen.Options{
		Rate:   200,
		Route:  func(tx *interfaces.Transaction) int { return int(tx.Sender[0]) % 3 },
		Head:   head,
		Behind: behind,
	})
	lctx, stopLoad := context.WithCancel(ctx)
	loadDone := make(chan struct{})
	go func() { defer close(loadDone); d.Run(lctx) }()
	defer func() { stopLoad(); <-loadDone }()

	heightOf := func(i int) uint64 {
		st, err := status(i)
		if err != nil {
			return 0
		}
		return st.Height
	}
	time.Sleep(8 * time.Second)
	if heightOf(4) == 0 {
		fail("star-4 made no block under load")
	}

	// Cut star-4 off; the other three go on.
	others := []interfaces.StarID{stars[1], stars[2], stars[3]}
	if err := clients[4].Partition(ctx, others, true); err != nil {
		fail("cut star-4: %v", err)
	}
	cutAt := heightOf(4)
	time.Sleep(25 * time.Second)
	h4, h1 := heightOf(4), heightOf(1)
	t.Logf("partition: star-4 at %d (cut at %d), star-1 at %d", h4, cutAt, h1)
	if h1 < h4+10 {
		fail("the partition did not leave star-4 behind: star-4 at %d, star-1 at %d", h4, h1)
	}

	// Heal: star-4 reaches the height the others had at the heal.
	if err := clients[4].Partition(ctx, others, false); err != nil {
		fail("heal star-4: %v", err)
	}
	healed := time.Now()
	logAtHeal := len(logs[4].String())
	target := heightOf(1)
	for deadline := time.Now().Add(60 * time.Second); heightOf(4) < target; time.Sleep(250 * time.Millisecond) {
		if time.Now().After(deadline) {
			fail("star-4 did not reach height %d within 60 s of the heal (at %d)", target, heightOf(4))
		}
	}
	t.Logf("star-4 reached height %d, %.1f s after the heal", target, time.Since(healed).Seconds())
	// Through block sync: star-4 says it caught up with fetched blocks,
	// most of what it missed.
	synced := 0
	for _, m := range regexp.MustCompile(`caught up.*?blocks=(\d+)`).FindAllStringSubmatch(logs[4].String()[logAtHeal:], -1) {
		b, _ := strconv.Atoi(m[1])
		synced += b
	}
	t.Logf("star-4 adopted %d fetched blocks after the heal", synced)
	if missed := int(target - cutAt); synced < missed/2 {
		fail("star-4 adopted %d fetched blocks after the heal; it missed %d", synced, missed)
	}
	// Let it run with the others a while: the inbox must hold as they
	// resume talking to it.
	time.Sleep(10 * time.Second)
	if h4, h1 := heightOf(4), heightOf(1); h4+3 < h1 {
		fail("star-4 fell behind again after catching up: %d against star-1's %d", h4, h1)
	}

	for i := 1; i <= 4; i++ {
		addr := fmt.Sprintf("127.0.0.1:%d", 8700+i)
		for _, name := range []string{"constellation_consensus_messages_dropped_total", "constellation_p2p_send_queue_dropped_total"} {
			v, err := metric(t, addr, name)
			if err != nil {
				fail("read star-%d's metrics: %v", i, err)
			}
			t.Logf("star-%d %s %v", i, name, v)
			if name == "constellation_consensus_messages_dropped_total" && v != 0 {
				fail("star-%d dropped %v consensus messages for a full inbox", i, v)
			}
		}
		if strings.Contains(logs[i].String(), "inbox full") {
			fail("star-%d logged a full inbox:\n%s", i, logs[i].String())
		}
	}
	st := d.Stats()
	t.Logf("load: offered %d, accepted %d", st.Offered, st.Accepted)
}
