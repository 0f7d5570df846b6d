package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// dashboardManifest is a four-process network with a galaxy: star-1 to
// star-4 are the delegates of cluster 0 and the galaxy's members, on
// ports 7401-7404 (transport) and 8401-8404 (API), which no other test
// uses.
func dashboardManifest() string {
	var b strings.Builder
	b.WriteString(`network "devnet" {
  genesis {
    seed      = "dashboard-devnet"
    timestamp = 1767225600000
    allocation {
      star   = "dev:faucet"
      amount = 1000000000000
    }
  }
}
`)
	for i := 1; i <= 4; i++ {
		var boot []string
		for j := 1; j <= 4; j++ {
			if j != i {
				boot = append(boot, fmt.Sprintf(`"/ip4/127.0.0.1/tcp/%d"`, 7400+j))
			}
		}
		fmt.Fprintf(&b, `node "star-%d" {
  key_file  = "keys/star-%d.key"
  listen    = "/ip4/127.0.0.1/tcp/%d"
  api       = "127.0.0.1:%d"
  bootstrap = [%s]
  roles     = ["star", "cluster", "galaxy"]
  cluster   = 0
}
`, i, i, 7400+i, 8400+i, strings.Join(boot, ", "))
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

// dashboardLog collects the testnet's output from two goroutines.
type dashboardLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *dashboardLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *dashboardLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// chromiumPath finds Debian's chromium ($CONSTELLATION_CHROMIUM first).
func chromiumPath() (string, error) {
	if p := os.Getenv("CONSTELLATION_CHROMIUM"); p != "" {
		return exec.LookPath(p)
	}
	for _, name := range []string{"chromium", "chromium-browser", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no chromium on PATH")
}

// artifactDir is where the test leaves its screenshot:
// $CONSTELLATION_ARTIFACTS when set, else a temporary directory.
func artifactDir(t *testing.T) string {
	if d := os.Getenv("CONSTELLATION_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatalf("CONSTELLATION_ARTIFACTS: %v", err)
		}
		return d
	}
	return t.TempDir()
}

// pageState is what the test reads off the dashboard.
type pageState struct {
	Blocks     int               `json:"blocks"`
	BlackHoles int               `json:"blackholes"`
	Points     int               `json:"points"`
	Max        float64           `json:"max"`
	Last       float64           `json:"last"`
	Health     map[string]string `json:"health"`
	Stream     string            `json:"stream"`
	Best       string            `json:"best"`
	Delegates  int               `json:"delegates"`
	Downs      int               `json:"downs"`
	Memes      int               `json:"memes"`
	Contracts  string            `json:"contracts"`
}

const readPage = `JSON.stringify({
  blocks: +document.getElementById("blocks").dataset.count,
  blackholes: +document.getElementById("blocks").dataset.blackholes,
  points: +document.getElementById("tps-chart").dataset.points,
  max: +document.getElementById("tps-chart").dataset.max,
  last: +document.getElementById("tps-chart").dataset.last,
  health: Object.fromEntries(Array.from(document.querySelectorAll("#nodes tbody tr")).map((r) => [r.dataset.node, r.dataset.health])),
  stream: document.getElementById("stream-state").dataset.state,
  best: document.getElementById("best-block").textContent,
  delegates: document.querySelectorAll("#topology circle.star.delegate").length,
  downs: document.querySelectorAll("#topology circle.star.down").length,
  memes: document.querySelectorAll("#memes tbody tr").length,
  contracts: document.getElementById("contracts").dataset.state,
})`

// TestTheDashboardShowsTheNetworkInABrowser runs a four-process network
// with load, opens the first node's dashboard in headless chromium and
// checks what an operator would look at: blocks stream in, the tx/s
// chart grows and shows committed transactions, every node answers, and
// a node killed with SIGKILL turns "down" on the page. It leaves a
// screenshot of the page in $CONSTELLATION_ARTIFACTS (or a temporary
// directory) and logs its path.
func TestTheDashboardShowsTheNetworkInABrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a four-process testnet and a browser")
	}
	chromium, err := chromiumPath()
	if err != nil {
		t.Fatalf("the dashboard's browser test needs Debian's chromium (/usr/bin/chromium): %v; `make deps` installs it (apt-get install -y chromium)", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 110*time.Second)
	defer cancel()
	artifacts := artifactDir(t)

	dir := t.TempDir()
	path := filepath.Join(dir, "net.hcl")
	if err := os.WriteFile(path, []byte(dashboardManifest()), 0o600); err != nil {
		t.Fatal(err)
	}
	tn := exec.Command(binary, "--log-level", "warn", "testnet", "--manifest", path, "--data", filepath.Join(dir, "data"),
		"--rate", "150", "--no-restart", "--duration", "105s")
	tn.Dir = dir
	var tnOut dashboardLog
	tn.Stderr = &tnOut
	stdout, err := tn.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := tn.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	defer func() {
		tn.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			tn.Process.Kill()
			<-exited
		}
	}()
	// The testnet's lines: each node's pid, then the dashboard's URL.
	pids := map[string]int{}
	urls := make(chan string, 1)
	var pidMu sync.Mutex
	pidLine := regexp.MustCompile(`^\s*(\S+)\s+started \(pid (\d+),`)
	urlLine := regexp.MustCompile(`^dashboard: (http://\S+)`)
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			tnOut.Write([]byte(line + "\n"))
			if m := pidLine.FindStringSubmatch(line); m != nil {
				pid, _ := strconv.Atoi(m[2])
				pidMu.Lock()
				pids[m[1]] = pid
				pidMu.Unlock()
			}
			if m := urlLine.FindStringSubmatch(line); m != nil {
				urls <- m[1]
			}
		}
		tn.Wait()
	}()
	var url string
	select {
	case url = <-urls:
	case <-exited:
		t.Fatalf("the testnet ended before printing the dashboard's URL:\n%s", tnOut.String())
	case <-ctx.Done():
		t.Fatalf("no dashboard URL within the test's time:\n%s", tnOut.String())
	}
	if url != "http://127.0.0.1:8401/dashboard/" {
		t.Fatalf("the testnet printed the dashboard at %s, want the first node's API", url)
	}

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1300),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()

	// Uncaught exceptions in the page's script fail the test; the console
	// is kept for the failure message. (Refused requests to the killed
	// node are log entries, not exceptions.)
	var consoleMu sync.Mutex
	var console []string
	var exceptions []string
	messages := chromedp.Console(bctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			consoleMu.Lock()
			line := fmt.Sprintf("%s %s:%d %s", m.Type, m.URL, m.Line+1, m)
			console = append(console, line)
			if m.IsException() {
				exceptions = append(exceptions, line)
			}
			consoleMu.Unlock()
		}
	}()
	if err := chromedp.Do(bctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("open %s in chromium: %v", url, err)
	}

	screenshot := func(name string) {
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Logf("screenshot %s: %v", name, err)
			return
		}
		p := filepath.Join(artifacts, name)
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Errorf("save the screenshot: %v", err)
			return
		}
		t.Logf("screenshot of the dashboard: %s", p)
	}
	var last pageState
	read := func() pageState {
		raw, err := chromedp.Run(bctx, chromedp.Evaluate[string](readPage))
		if err != nil {
			t.Logf("read the page: %v", err)
			return last
		}
		var st pageState
		if err := json.Unmarshal([]byte(raw), &st); err != nil {
			t.Fatalf("read the page: %v (%s)", err, raw)
		}
		last = st
		return st
	}
	fail := func(format string, args ...any) {
		t.Helper()
		screenshot("dashboard-failure.png")
		consoleMu.Lock()
		tailOf := console
		if len(tailOf) > 30 {
			tailOf = tailOf[len(tailOf)-30:]
		}
		consoleMu.Unlock()
		t.Fatalf(format+"\n--- page: %+v\n--- console:\n%s\n--- testnet:\n%s", append(args, last, strings.Join(tailOf, "\n"), tnOut.String())...)
	}
	// waitFor polls the page until ok holds, for at most d.
	waitFor := func(what string, d time.Duration, ok func(pageState) bool) pageState {
		t.Helper()
		deadline := time.Now().Add(d)
		for {
			st := read()
			if ok(st) {
				return st
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				fail("the dashboard never showed %s within %s", what, d)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}

	// Blocks arrive on the stream, the topology shows the cluster's and
	// the galaxy's delegates, every node answers.
	// (Three of four healthy is enough: on a busy machine a node's height
	// may stall for a moment, and the health check says so.)
	waitFor("blocks on the stream and four nodes answering, at least three healthy", 45*time.Second, func(s pageState) bool {
		healthy, answering := 0, 0
		for _, h := range s.Health {
			if h == "healthy" {
				healthy++
			}
			if h == "healthy" || h == "unhealthy" {
				answering++
			}
		}
		return s.Stream == "open" && s.Blocks >= 3 && answering == 4 && healthy >= 3 && s.Delegates >= 8
	})
	// The tx/s chart grows by a point a second and shows the load.
	before := waitFor("committed transactions on the tx/s chart", 30*time.Second, func(s pageState) bool { return s.Max > 0 && s.Points >= 3 })
	after := waitFor("the tx/s chart move on", 10*time.Second, func(s pageState) bool { return s.Points >= before.Points+3 })
	if after.Blocks <= before.Blocks {
		fail("no new block on the page in %d chart points", after.Points-before.Points)
	}
	if !strings.HasPrefix(after.Best, "#") || after.Contracts != "not-served" || after.Memes == 0 {
		fail("a tile or a panel is empty: best block %q, contracts %q, %d memes", after.Best, after.Contracts, after.Memes)
	}

	// A killed node turns down on the page; the others stay healthy.
	pidMu.Lock()
	victim := pids["star-4"]
	pidMu.Unlock()
	if victim == 0 {
		fail("no pid for star-4 in the testnet's output")
	}
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		fail("kill star-4 (pid %d): %v", victim, err)
	}
	killed := waitFor("star-4 down after its process was killed", 20*time.Second, func(s pageState) bool {
		return s.Health["star-4"] == "down" && s.Downs >= 1
	})
	for _, n := range []string{"star-1", "star-2", "star-3"} {
		if h := killed.Health[n]; h == "down" {
			fail("%s shows %s after star-4 was killed", n, h)
		}
	}
	// The three that are left go on: blocks keep coming.
	waitFor("blocks after the kill", 20*time.Second, func(s pageState) bool { return s.Blocks > killed.Blocks+2 })
	screenshot("dashboard.png")
	consoleMu.Lock()
	defer consoleMu.Unlock()
	if len(exceptions) > 0 {
		t.Fatalf("the page's script threw:\n%s", strings.Join(exceptions, "\n"))
	}
}
