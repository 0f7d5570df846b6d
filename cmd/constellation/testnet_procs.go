package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/constellation-chain/constellation/framework/api"
	"github.com/constellation-chain/constellation/framework/loadgen"
	"github.com/constellation-chain/constellation/framework/manifest"
	"github.com/constellation-chain/constellation/interfaces"
)

// child is one node process of a process-mode testnet.
type child struct {
	name   string
	node   *manifest.Node
	client *api.Client
	log    *os.File
	start  func() (*exec.Cmd, error) // starts the node's process afresh

	mu  sync.Mutex
	cmd *exec.Cmd
	// exited is closed once the current process has exited, with err its
	// Wait error; any number of waiters may watch it. A restart replaces
	// both.
	exited   chan struct{}
	err      error
	crashes  int  // exits the supervisor did not ask for
	stopping bool // the supervisor is stopping it: an exit is no crash
}

// maxRestarts bounds how often the supervisor restarts one node.
const maxRestarts = 5

// launch starts the child's process and watches it.
func (ch *child) launch() error {
	cmd, err := ch.start()
	if err != nil {
		return err
	}
	done := make(chan struct{})
	ch.mu.Lock()
	ch.cmd, ch.exited, ch.err = cmd, done, nil
	ch.mu.Unlock()
	go func() {
		err := cmd.Wait()
		ch.mu.Lock()
		ch.err = err
		ch.mu.Unlock()
		close(done)
	}()
	return nil
}

// current returns the current process, its exit channel and Wait error.
func (ch *child) current() (*exec.Cmd, <-chan struct{}, error) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.cmd, ch.exited, ch.err
}

// supervise restarts the child whenever it exits without being asked to
// (unless restart is false), up to maxRestarts times, reporting each exit to out at once with the end
// of its log. It returns when ctx ends or the child is given up on.
func (ch *child) supervise(ctx context.Context, out io.Writer, outMu *sync.Mutex, restart bool) {
	for {
		_, exited, _ := ch.current()
		select {
		case <-ctx.Done():
			return
		case <-exited:
		}
		// Ctrl-C reaches the whole process group: the nodes stop cleanly
		// as the supervisor's own context ends. Give that a moment to show.
		select {
		case <-ctx.Done():
			return
		case <-time.After(300 * time.Millisecond):
		}
		ch.mu.Lock()
		if ch.stopping {
			ch.mu.Unlock()
			return
		}
		if ch.cmd.ProcessState != nil && ch.cmd.ProcessState.Success() {
			// A node exits 0 only when told to stop: someone signalled it.
			ch.mu.Unlock()
			outMu.Lock()
			fmt.Fprintf(out, "  %-10s was stopped (by a signal from outside the testnet); not restarting it\n", ch.name)
			outMu.Unlock()
			return
		}
		ch.crashes++
		n, cmd := ch.crashes, ch.cmd
		ch.mu.Unlock()
		outMu.Lock()
		if !restart {
			fmt.Fprintf(out, "  %-10s exited (%s); not restarting it (--no-restart); its log ends:\n%s", ch.name, exitText(cmd), tail(ch.log.Name(), 10))
			outMu.Unlock()
			return
		}
		if n > maxRestarts {
			fmt.Fprintf(out, "  %-10s exited (%s), %d times: not restarting it again; its log ends:\n%s", ch.name, exitText(cmd), n, tail(ch.log.Name(), 10))
			outMu.Unlock()
			return
		}
		fmt.Fprintf(out, "  %-10s exited (%s); restarting it (%d of %d); its log ends:\n%s", ch.name, exitText(cmd), n, maxRestarts, tail(ch.log.Name(), 10))
		outMu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(n) * time.Second):
		}
		if err := ch.launch(); err != nil {
			outMu.Lock()
			fmt.Fprintf(out, "  %-10s could not be restarted: %v\n", ch.name, err)
			outMu.Unlock()
			return
		}
	}
}

// runProcesses runs each cluster and galaxy node as `constellation node
// run` (with keyArgs(node) added to its arguments) and drives them
// through their APIs. owner places accounts in clusters (nil: one
// cluster).
func runProcesses(c *cli.Context, ctx context.Context, m *manifest.Manifest, keyArgs func(*manifest.Node) []string, owner func(interfaces.StarID) interfaces.ClusterID) error {
	out := c.App.Writer
	dataDir := c.String("data")
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this binary to start nodes: %w", err)
	}
	manifestPath := c.String("manifest")
	if manifestPath == "" {
		// The children read the embedded default from the data directory,
		// where its relative key paths resolve to the same files.
		manifestPath = filepath.Join(dataDir, "manifest.hcl")
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return fmt.Errorf("create data directory: %w", err)
		}
		src := manifest.Default()
		if c.Bool("solo") {
			src = manifest.Solo()
		}
		if err := os.WriteFile(manifestPath, src, 0o600); err != nil {
			return fmt.Errorf("write %s: %w", manifestPath, err)
		}
	}
	var children []*child
	stopAll := func() {
		for _, ch := range children {
			ch.mu.Lock()
			ch.stopping = true
			cmd := ch.cmd
			ch.mu.Unlock()
			if cmd != nil && cmd.Process != nil {
				cmd.Process.Signal(syscall.SIGTERM)
			}
		}
		for _, ch := range children {
			cmd, exited, _ := ch.current()
			select {
			case <-exited:
			case <-time.After(15 * time.Second):
				fmt.Fprintf(out, "  %-10s did not stop in 15s; killing it\n", ch.name)
				cmd.Process.Kill()
				<-exited
			}
			ch.log.Close()
		}
	}
	defer stopAll()

	for i := range m.Nodes {
		mn := &m.Nodes[i]
		if !runsGroup(mn) {
			fmt.Fprintf(out, "  %-10s skipped (no cluster or galaxy role)\n", mn.Name)
			continue
		}
		if mn.API == "" {
			return fmt.Errorf("node %q has no api address; testnet drives its nodes through their APIs", mn.Name)
		}
		nodeDir := filepath.Join(dataDir, mn.Name)
		if err := os.MkdirAll(nodeDir, 0o700); err != nil {
			return fmt.Errorf("create %s: %w", nodeDir, err)
		}
		logFile, err := os.OpenFile(filepath.Join(nodeDir, "node.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("open node log: %w", err)
		}
		args := []string{"--log-level", c.String("log-level")}
		if c.Bool("log-json") {
			args = append(args, "--log-json")
		}
		args = append(args, "node", "run", "--manifest", manifestPath, "--node", mn.Name, "--data", nodeDir)
		args = append(args, keyArgs(mn)...)
		if c.Bool("dev") {
			args = append(args, "--dev")
		}
		ch := &child{name: mn.Name, node: mn, client: api.NewClient(mn.API), log: logFile}
		ch.start = func() (*exec.Cmd, error) {
			cmd := exec.Command(self, args...)
			cmd.Stdout, cmd.Stderr = logFile, logFile
			dieWithParent(cmd) // no orphans when the supervisor is killed
			if err := cmd.Start(); err != nil {
				return nil, fmt.Errorf("start node %s: %w", mn.Name, err)
			}
			return cmd, nil
		}
		if err := ch.launch(); err != nil {
			logFile.Close()
			return err
		}
		children = append(children, ch)
		cmd, _, _ := ch.current()
		fmt.Fprintf(out, "  %-10s started (pid %d, api %s, log %s)\n", mn.Name, cmd.Process.Pid, mn.API, logFile.Name())
	}
	if len(children) == 0 {
		return errors.New("no cluster node to run")
	}

	// Wait until every API answers, showing progress.
	for _, ch := range children {
		fmt.Fprintf(out, "  waiting for %s ...", ch.name)
		deadline := time.Now().Add(60 * time.Second)
		for {
			// Each attempt is short, so a node that exits is noticed at
			// once even when something else holds its API address.
			actx, acancel := context.WithTimeout(ctx, time.Second)
			st, err := ch.client.Status(actx)
			acancel()
			if err == nil {
				fmt.Fprintf(out, " height %d\n", st.Height)
				break
			}
			_, exited, _ := ch.current()
			select {
			case <-exited:
				_, _, werr := ch.current()
				fmt.Fprintln(out)
				return fmt.Errorf("node %s exited while starting (%v); its log:\n%s", ch.name, werr, tail(ch.log.Name(), 20))
			case <-ctx.Done():
				fmt.Fprintln(out)
				return nil
			case <-time.After(200 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				fmt.Fprintln(out)
				return fmt.Errorf("node %s did not answer on its API within 60s; its log:\n%s", ch.name, tail(ch.log.Name(), 20))
			}
		}
	}

	// Every node serves the dashboard; the first one's is printed.
	fmt.Fprintf(out, "dashboard: %s\n", dashboardURL(children[0].node.API))

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	// From here on a node that exits is reported at once and restarted.
	var outMu sync.Mutex
	out = lockedWriter{w: out, mu: &outMu}
	for _, ch := range children {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch.supervise(runCtx, c.App.Writer, &outMu, !c.Bool("no-restart"))
		}()
	}
	var meter *loadMeter
	if rate := c.Float64("rate"); rate > 0 {
		faucet, err := devFaucet(m, c.String("faucet"))
		if err != nil {
			return err
		}
		meter = &loadMeter{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			runLoadAPI(runCtx, c, out, children, owner, faucet, c.Int("wallets"), rate, meter)
		}()
	}
	// finish stops every node and reports how each stopped.
	finish := func(err error) error {
		cancel()
		wg.Wait()
		stopAll()
		crashes := 0
		for _, ch := range children {
			cmd, _, _ := ch.current()
			note := ""
			if ch.crashes > 0 {
				note = fmt.Sprintf(", after %d unexpected exit(s)", ch.crashes)
			}
			fmt.Fprintf(out, "  %-10s stopped (%s%s); log %s\n", ch.name, exitText(cmd), note, ch.log.Name())
			crashes += ch.crashes
		}
		children = nil
		if err == nil && crashes > 0 {
			err = fmt.Errorf("%d node exit(s) the supervisor did not ask for during the run (see above)", crashes)
		}
		return err
	}
	if m.HasGalaxy() {
		return finish(showTiers(runCtx, out, newProcessTiers(children), m.Clusters(), uint64(c.Int("blocks")), cancel, meter))
	}

	p := &blockPrinter{w: out}
	st, err := children[0].client.Status(ctx)
	if err != nil {
		return err
	}
	start, next := st.Height, st.Height+1
	limit := uint64(c.Int("blocks"))
	fmt.Fprintf(out, "producing blocks (Ctrl-C to stop)\n")
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
loop:
	for {
		select {
		case <-runCtx.Done():
			break loop
		case <-tick.C:
		}
		st, err := children[0].client.Status(runCtx)
		if err != nil {
			continue
		}
		for ; next <= st.Height; next++ {
			b, err := children[0].client.Block(runCtx, next)
			if err != nil {
				break
			}
			p.printSummary(b, st.Pool)
			if limit > 0 && next >= start+limit {
				cancel()
			}
		}
	}
	return finish(nil)
}

func exitText(cmd *exec.Cmd) string {
	if cmd.ProcessState == nil {
		return "still running"
	}
	if cmd.ProcessState.Success() {
		return "cleanly"
	}
	return cmd.ProcessState.String()
}

// lockedWriter serializes writes to w with the supervisor's reports.
type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// printSummary prints a block fetched from a node API.
func (p *blockPrinter) printSummary(b api.BlockSummary, pool int) {
	fmt.Fprintf(p.w, "block %6d  epoch %6d  txs %5d  proposers %d  hash %s  %8.1f tx/s  pool %d\n",
		b.Height, b.Epoch, len(b.Txs), len(b.Proposers), b.Hash[:8], p.rate(time.UnixMilli(b.Timestamp), len(b.Txs)), pool)
}

// runLoadAPI offers generated transfers through the nodes' APIs at rate,
// in batches (POST /v1/txs) with as many in flight as the rate needs,
// each to a node that keeps its sender's account, and prints what was
// offered, accepted and committed when ctx ends. meter lets the display
// read the counts meanwhile.
func runLoadAPI(ctx context.Context, c *cli.Context, out io.Writer, nodes []*child, owner func(interfaces.StarID) interfaces.ClusterID, faucet []byte, wallets int, rate float64, meter *loadMeter) {
	log := logger(c, "loadgen")
	opt, err := loadOptions(c, rate)
	if err != nil {
		log.Warn("load generator not started", "error", err)
		return
	}
	var (
		movedMu sync.Mutex
		moved   = map[interfaces.StarID]int{} // accounts found in another cluster than owner says: node index
	)
	// keeper is the index of a node that keeps s's account.
	keeper := func(s interfaces.StarID) int {
		movedMu.Lock()
		i, ok := moved[s]
		movedMu.Unlock()
		if ok {
			return i
		}
		if owner != nil {
			cl := owner(s)
			for i, ch := range nodes {
				if ch.node.HasRole(manifest.RoleCluster) && ch.node.Cluster == cl {
					return i
				}
			}
		}
		return 0
	}
	// Reads outlive ctx by a little: the final count of committed
	// transactions is read after the load stops, before the nodes do.
	read := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	}
	// account reads an account from the node that keeps it. An account
	// the locality placement moved is answered 421 by its old cluster:
	// then each cluster is asked in turn, and the one that keeps it is
	// remembered.
	account := func(s interfaces.StarID) (api.Account, error) {
		rctx, cancel := read()
		defer cancel()
		a, err := nodes[keeper(s)].client.Account(rctx, s)
		var apiErr *api.Error
		if err == nil || !errors.As(err, &apiErr) || apiErr.Status != http.StatusMisdirectedRequest {
			return a, err
		}
		for i, ch := range nodes {
			if !ch.node.HasRole(manifest.RoleCluster) {
				continue
			}
			if b, err2 := ch.client.Account(rctx, s); err2 == nil {
				movedMu.Lock()
				moved[s] = i
				movedMu.Unlock()
				return b, nil
			}
		}
		return a, err
	}
	head := func(s interfaces.StarID) (uint64, interfaces.Hash, error) {
		a, err := account(s)
		if err != nil {
			return 0, interfaces.Hash{}, err
		}
		last, err := interfaces.ParseHash(a.Last)
		return a.Seq, last, err
	}
	balance := func(s interfaces.StarID) (uint64, error) {
		a, err := account(s)
		return a.Balance, err
	}
	g := loadgen.New(faucet, wallets, 1_000_000_000, uint64(time.Now().UnixNano())).WithCommunities(c.Int("communities"), 0.9)
	if err := g.Sync(head, balance); err != nil {
		log.Warn("load generator cannot read the chain", "error", err)
		return
	}
	// A sender's transactions go to one node of the cluster that keeps
	// its account (chosen by the sender, so they arrive in order and the
	// clusters' delegates share the API work); a node forwards what
	// another cluster keeps, so a stale guess costs a hop, not a refusal.
	delegates := map[interfaces.ClusterID][]int{}
	for i, ch := range nodes {
		if ch.node.HasRole(manifest.RoleCluster) {
			delegates[ch.node.Cluster] = append(delegates[ch.node.Cluster], i)
		}
	}
	opt.Route = func(tx *interfaces.Transaction) int {
		k := keeper(tx.Sender)
		if ds := delegates[nodes[k].node.Cluster]; nodes[k].node.HasRole(manifest.RoleCluster) && len(ds) > 0 {
			return ds[int(tx.Sender[0])%len(ds)]
		}
		return k
	}
	opt.Head = head
	opt.Behind = behind
	opt.Log = func(msg string, args ...any) { log.Debug(msg, args...) }
	d := loadgen.NewDriver(g, loadClients(nodes, opt.MaxInFlight), opt)
	meter.set(d)
	if err := d.Run(ctx); err != nil {
		log.Warn("load generator", "error", err)
	}
	d.CountCommitted()
	printLoad(out, d.Stats())
}

// tail returns the last n lines of a file, for error messages.
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, 1<<20))
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + strings.Join(lines, "\n    ") + "\n"
}
