package store

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/constellation-chain/constellation/framework/ledger"
	"github.com/constellation-chain/constellation/interfaces"
)

// The crash test runs this test binary again as a child process that
// commits blocks to a data directory in a tight loop, and kills it with
// SIGKILL while it is writing.
const (
	envCrashChild = "STORE_CRASH_CHILD" // data directory; set only in the child
	envCrashSeed  = "STORE_CRASH_SEED"
	crashChildTxs = 100 // transfers per block in the child
	// crashChildMaxBlocks and crashChildMaxTime bound the child if the
	// parent never kills it.
	crashChildMaxBlocks = 100_000
	crashChildMaxTime   = 2 * time.Minute
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(envCrashChild); dir != "" {
		os.Exit(crashChild(dir))
	}
	os.Exit(m.Run())
}

// crashChild commits blocks to dir until killed. Before each commit it
// prints "begin <height>" and after it "committed <height>", unbuffered, so
// the parent knows when a commit is in flight and which ones returned.
func crashChild(dir string) int {
	seed, _ := strconv.ParseUint(os.Getenv(envCrashSeed), 10, 64)
	s, err := Open(dir, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if err := s.Init(testWorld.Genesis); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	rng := rand.New(rand.NewPCG(seed, 99))
	deadline := time.Now().Add(crashChildMaxTime)
	for i := 0; i < crashChildMaxBlocks && time.Now().Before(deadline); i++ {
		h, _, _ := s.Head()
		bl := ledger.NewBuilder(s, 0, s.Parent())
		if _, err := testWorld.FillBlock(bl, rng, crashChildTxs); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		b, ch := bl.Finish(h+1, int64(h+1), interfaces.BlockMeta{})
		fmt.Fprintf(os.Stdout, "begin %d\n", h+1)
		if err := s.CommitBlock(b, ch); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		fmt.Fprintf(os.Stdout, "committed %d\n", h+1)
	}
	s.Close()
	return 0
}

// TestKilledWriterReopensAtLastCommittedBlock kills a committing process
// with SIGKILL at a random moment, mostly while a commit is in flight, and
// checks on reopen that there is no partial block (every stored height
// decodes and commits to its body), that every block the child saw
// committed is there, that the indexes agree, and that the stored balances
// and chain heads equal a replay of the stored blocks from genesis. Each
// round continues the chain left by the previous one.
func TestKilledWriterReopensAtLastCommittedBlock(t *testing.T) {
	rounds := 8
	if testing.Short() {
		rounds = 3
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv(envCrashSeed); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	t.Logf("seed %d (set %s to repeat the kill timing choices)", seed, envCrashSeed)
	rng := rand.New(rand.NewPCG(seed, 1))
	dir := t.TempDir()
	inFlight := 0
	for round := 1; round <= rounds; round++ {
		midCommit := killChildRound(t, dir, rng, round)
		if midCommit {
			inFlight++
		}
	}
	t.Logf("%d of %d kills landed while a commit was in flight", inFlight, rounds)
}

// killChildRound runs one child, kills it, and checks the store. It
// reports whether the kill landed between a "begin" and its "committed".
func killChildRound(t *testing.T, dir string, rng *rand.Rand, round int) bool {
	start := openInitHead(t, dir)

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envCrashChild+"="+dir, envCrashSeed+"="+strconv.FormatUint(rng.Uint64(), 10))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	type line struct {
		begin  bool
		height uint64
	}
	lines := make(chan line, 1024)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 2 {
				continue
			}
			h, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				continue
			}
			lines <- line{begin: f[0] == "begin", height: h}
		}
	}()

	// Let a few blocks commit, timing how long the child's commits take
	// (from its "begin" line to its "committed" line), then kill it after
	// the next "begin" with a random delay within the typical commit time,
	// so the kill lands while the commit is being written. One round in
	// four instead kills at a random moment up to 20ms after the threshold,
	// whatever the child is doing.
	wantCommitted := start + 3 + rng.Uint64N(5)
	var (
		committed, begun uint64
		beganAt          time.Time
		commitTime       time.Duration
		commits          int
	)
	timeout := time.After(60 * time.Second)
	killed := false
	anyMoment := rng.IntN(4) == 0
	for !killed {
		select {
		case l, ok := <-lines:
			if !ok {
				_ = cmd.Wait()
				t.Fatalf("round %d: child exited before it was killed: %s", round, stderr.String())
			}
			if l.begin {
				begun, beganAt = l.height, time.Now()
			} else {
				committed = l.height
				if !beganAt.IsZero() {
					commitTime += time.Since(beganAt)
					commits++
				}
			}
			if committed < wantCommitted {
				continue
			}
			switch {
			case anyMoment:
				time.Sleep(time.Duration(rng.Int64N(int64(20 * time.Millisecond))))
			case l.begin:
				mean := commitTime / time.Duration(max(commits, 1))
				time.Sleep(time.Duration(rng.Int64N(int64(mean)*9/10 + 1)))
			default:
				continue
			}
			if err := cmd.Process.Kill(); err != nil {
				t.Fatalf("round %d: kill: %v", round, err)
			}
			killed = true
		case <-timeout:
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("round %d: child committed only up to %d (from %d) in 60s: %s", round, committed, start, stderr.String())
		}
	}
	for l := range lines { // whatever the child printed before it died
		if l.begin {
			begun = l.height
		} else {
			committed = l.height
		}
	}
	if err := cmd.Wait(); err == nil {
		t.Fatalf("round %d: child exited cleanly, want killed", round)
	}
	midCommit := begun > committed

	s := openInit(t, dir)
	defer s.Close()
	head, _, _ := s.Head()
	if head < committed {
		t.Fatalf("round %d: head %d after reopen, but the child saw block %d committed", round, head, committed)
	}
	if head > committed+1 {
		t.Fatalf("round %d: head %d, but the child had begun only up to %d", round, head, begun)
	}
	t.Logf("round %d: killed after block %d committed (block %d in flight: %v, mean commit %s); reopened at %d",
		round, committed, begun, midCommit, commitTime/time.Duration(max(commits, 1)), head)

	// No partial block: every height decodes and commits to its body.
	var blocks []*interfaces.Block
	for h := uint64(1); h <= head; h++ {
		b, err := s.Block(h)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if err := b.CheckBody(); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		byHash, err := s.BlockByHash(b.Hash())
		if err != nil || byHash.Header.Height != h {
			t.Fatalf("round %d: hash index for block %d: %v", round, h, err)
		}
		blocks = append(blocks, b)
	}
	if _, err := s.Block(head + 1); err == nil {
		t.Fatalf("round %d: a block above the head %d is stored", round, head)
	}
	// State equals the replay of the stored blocks from genesis.
	replayed, err := ledger.Replay(testWorld.Genesis, blocks)
	if err != nil {
		t.Fatalf("round %d: replay of stored blocks: %v", round, err)
	}
	snap, err := s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if d := snap.Diff(replayed.Snapshot()); d != "" {
		t.Fatalf("round %d: stored state differs from replay: %s", round, d)
	}
	if err := s.Verify(); err != nil {
		t.Fatalf("round %d: %v", round, err)
	}
	return midCommit
}

func openInitHead(t *testing.T, dir string) uint64 {
	t.Helper()
	s := openInit(t, dir)
	defer s.Close()
	h, _, _ := s.Head()
	return h
}
