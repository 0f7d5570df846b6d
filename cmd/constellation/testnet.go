package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/constellation-chain/constellation/builtin/memnet"
	"github.com/constellation-chain/constellation/framework/catalog"
	"github.com/constellation-chain/constellation/framework/keys"
	"github.com/constellation-chain/constellation/framework/loadgen"
	"github.com/constellation-chain/constellation/framework/manifest"
	"github.com/constellation-chain/constellation/framework/node"
	"github.com/constellation-chain/constellation/framework/pool"
	"github.com/constellation-chain/constellation/interfaces"
)

func testnetCommand() *cli.Command {
	return &cli.Command{
		Name:  "testnet",
		Usage: "run a local network with a load generator (what `make run` does)",
		Description: `Starts every node of the manifest that keeps a chain (by default the
embedded default manifest) on this machine, feeds them signed transfers from development
wallets funded by the genesis faucet, and shows progress:

 * a network with a galaxy (the default) prints one line a second: each
   cluster's height, its highest finalized checkpoint and tx/s, then the
   black holes, the share of cross-cluster transfers and the receipts in
   flight (docs/hierarchy.md);
 * a single cluster prints one line per committed block: height, epoch,
   transactions, then duplicates and rejected ones (in process) or
   proposers (processes), hash prefix, tx/s (by the blocks' timestamps)
   and pool size.

Ctrl-C stops every node cleanly; run it again and the network resumes from
the data directory.

   constellation testnet                      # embedded default manifest
   constellation testnet --rate 2000          # more load
   constellation testnet --blocks 20          # stop after 20 new black holes (blocks, for a single cluster)
   constellation testnet --manifest my.hcl --data data/my-net
   constellation testnet --solo               # a one-node dev chain (solo engine), data in data/dev

Each node is its own process (constellation node run) talking over the
manifest's transport on loopback, with its log in DATA/NODE/node.log; the
load generator submits through each node's HTTP API. --in-process runs all
nodes inside this process over an in-memory transport instead.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "dev", Usage: "allow external plugin binaries without a sha256 in the manifest (development only)"},
			&cli.StringFlag{Name: "manifest", Aliases: []string{"m"}, Usage: "manifest FILE (default: the embedded default manifest)"},
			&cli.StringFlag{Name: "data", Aliases: []string{"d"}, Usage: "data directory (keys and one chain per node)", Value: "data/testnet"},
			&cli.Float64Flag{Name: "rate", Usage: "transactions per second the load generator submits (0 disables it)", Value: 500},
			&cli.IntFlag{Name: "wallets", Usage: "development wallets the load generator pays between", Value: 64},
			&cli.IntFlag{Name: "communities", Usage: "groups of wallets that mostly pay each other (wallet i is in group i mod N; 9 in 10 transfers stay in the group), what locality placement learns from; 1 for uniform traffic", Value: 8},
			&cli.StringFlag{Name: "faucet", Usage: "genesis allocation the load generator spends, as dev:NAME", Value: "dev:faucet"},
			&cli.IntFlag{Name: "blocks", Usage: "stop after this many new black holes, or blocks for a network of one cluster (0: run until Ctrl-C)"},
			&cli.DurationFlag{Name: "duration", Usage: "stop after this long (0: run until Ctrl-C)"},
			&cli.BoolFlag{Name: "in-process", Usage: "run every node in this process over an in-memory transport"},
			&cli.BoolFlag{Name: "no-restart", Usage: "report a node that dies but do not restart it (for tests that want it to stay down)"},
			&cli.BoolFlag{Name: "solo", Usage: "run the embedded one-node development chain (solo engine, like geth --dev) instead of the default manifest; data in data/dev unless --data is given"},
		},
		Action: runTestnet,
	}
}

func runTestnet(c *cli.Context) error {
	log := logger(c, "testnet")
	out := c.App.Writer
	if c.Bool("solo") && c.String("manifest") != "" {
		return cli.Exit("--solo runs the embedded one-node manifest; it cannot be combined with --manifest", 2)
	}
	if c.Bool("solo") && !c.IsSet("data") {
		if err := c.Set("data", "data/dev"); err != nil {
			return err
		}
	}
	if k := c.Int("communities"); k < 1 || k > c.Int("wallets") {
		return cli.Exit(fmt.Sprintf("--communities %d: want 1 to --wallets (%d)", k, c.Int("wallets")), 2)
	}
	dataDir := c.String("data")
	m, base, err := loadManifest(c, c.String("manifest"), dataDir)
	if err != nil {
		return err
	}
	if base == "" {
		base = m.Dir
	}
	cat, err := newCatalog(externalLoader(log, c.Bool("dev")))
	if err != nil {
		return err
	}
	set, diags := cat.Open(m)
	if diags.HasErrors() {
		return reportDiagnostics(c, m, m.Filename, diags)
	}
	defer set.Close()

	ctx, stop := signalContext(c.Context)
	defer stop()
	if d := c.Duration("duration"); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}

	fmt.Fprintf(out, "network %q from %s, data in %s\n", m.Network.Name, m.Filename, dataDir)
	var shares map[interfaces.StarID][]byte
	tk := &tierKeys{}
	if m.HasGalaxy() {
		if tk, err = dealTiers(c, m, set, base, false); err != nil {
			return err
		}
	} else if shares, err = clusterShares(c, m, set, base); err != nil {
		return err
	}
	owner, err := ownerOf(m, set)
	if err != nil {
		return err
	}
	if !c.Bool("in-process") {
		keyArgs := func(mn *manifest.Node) []string {
			if m.HasGalaxy() {
				return []string{"--genesis", tk.genesis}
			}
			if shares != nil {
				return []string{"--cluster-key", sharePath(mn, base)}
			}
			return nil
		}
		return runProcesses(c, ctx, m, keyArgs, owner)
	}
	hub := memnet.NewHub()
	var nodes []*node.Node
	var names []string
	for i := range m.Nodes {
		mn := &m.Nodes[i]
		if !runsGroup(mn) {
			fmt.Fprintf(out, "  %-10s skipped (no cluster or galaxy role; followers need the network runtime)\n", mn.Name)
			continue
		}
		key, err := node.LoadKey(mn, base, m.Network.Dev)
		if err != nil {
			return err
		}
		self := keys.Star(key)
		tr, err := hub.Join(self, 4096)
		if err != nil {
			return err
		}
		n, err := node.Assemble(m, set, node.AssembleOptions{
			NodeName:      mn.Name,
			DataDir:       filepath.Join(dataDir, mn.Name),
			KeyBase:       base,
			CreateKeys:    m.Network.Dev,
			ConsensusKeys: firstKeys(shares[self], tk.cluster[self]),
			GalaxyKeys:    tk.galaxy[self],
			GenesisFile:   tk.genesis,
			Transport:     tr,
			Logger:        log.Named(mn.Name),
		})
		if err != nil {
			return err
		}
		h, hash := n.Head()
		fmt.Fprintf(out, "  %-10s %s  height %d (%s)\n", mn.Name, n.Self(), h, hash.Short())
		nodes = append(nodes, n)
		names = append(names, mn.Name)
	}
	if len(nodes) == 0 {
		return errors.New("no cluster node to run")
	}

	var wg sync.WaitGroup
	errs := make(chan error, len(nodes)+1)
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	for _, n := range nodes {
		wg.Add(1)
		go func(n *node.Node) {
			defer wg.Done()
			if err := n.Run(runCtx); err != nil {
				errs <- err
				cancelRun()
			}
		}(n)
	}

	if rate := c.Float64("rate"); rate > 0 {
		faucet, err := devFaucet(m, c.String("faucet"))
		if err != nil {
			cancelRun()
			wg.Wait()
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			runLoad(runCtx, log, nodes, nodeFor(nodes, owner), faucet, c.Int("wallets"), c.Int("communities"), rate)
		}()
	}
	// finish stops every node and reports how each stopped.
	finish := func(err error) error {
		cancelRun()
		wg.Wait()
		select {
		case err := <-errs:
			return err
		default:
		}
		for i, n := range nodes {
			h, hash := n.Head()
			fmt.Fprintf(out, "  %-10s stopped cleanly at height %d (%s)\n", names[i], h, hash.Short())
		}
		return err
	}
	if m.HasGalaxy() {
		return finish(showTiers(runCtx, out, inProcessTiers(nodes), m.Clusters(), uint64(c.Int("blocks")), cancelRun))
	}

	events, cancelSub := nodes[0].Subscribe(1024)
	p := &blockPrinter{w: out}
	start, _ := nodes[0].Head()
	fmt.Fprintf(out, "producing blocks (Ctrl-C to stop)\n")
	limit := c.Int("blocks")
loop:
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				break loop
			}
			p.show(nodes[0].Group, ev, nodes[0].PoolLen())
			top := ev.Seq
			if ev.Gap != nil {
				top = ev.Gap.To
			}
			if limit > 0 && top >= start+uint64(limit) {
				cancelRun()
			}
		case <-runCtx.Done():
			break loop
		}
	}
	cancelSub()
	return finish(nil)
}

func firstKeys(a, b []byte) []byte {
	if a != nil {
		return a
	}
	return b
}

// nodeFor returns, for each account, a node that keeps its cluster's
// chain (the first node, in a flat network), following moves.
func nodeFor(nodes []*node.Node, owner func(interfaces.StarID) interfaces.ClusterID) func(interfaces.StarID) *node.Node {
	return func(s interfaces.StarID) *node.Node {
		if owner == nil {
			return nodes[0]
		}
		c := owner(s)
		for _, n := range nodes {
			if n.ClusterGroup() != nil {
				c = n.Owner(s) // where the account lives now, if it moved
				break
			}
		}
		for _, n := range nodes {
			if g := n.ClusterGroup(); g != nil && g.Cluster() == c {
				return n
			}
		}
		return nodes[0]
	}
}

// devFaucet returns the development key of the genesis allocation named
// by text ("dev:NAME"), refusing anything but a dev network's dev key.
func devFaucet(m *manifest.Manifest, text string) ([]byte, error) {
	const prefix = "dev:"
	if len(text) <= len(prefix) || text[:len(prefix)] != prefix {
		return nil, fmt.Errorf("--faucet %q: the load generator spends a development allocation, written dev:NAME", text)
	}
	if !m.Network.Dev {
		return nil, fmt.Errorf("network %q is not a development network; the load generator only runs on dev networks", m.Network.Name)
	}
	star := interfaces.DevStar(text[len(prefix):])
	for _, a := range m.Network.Genesis.Allocations {
		if a.Star == star {
			return interfaces.DevKey(text[len(prefix):]), nil
		}
	}
	return nil, fmt.Errorf("--faucet %q has no genesis allocation in %s", text, m.Filename)
}

// runLoad submits generated transfers round-robin to the nodes at rate.
func runLoad(ctx context.Context, log interface{ Warn(string, ...any) }, nodes []*node.Node, keeper func(interfaces.StarID) *node.Node, faucet []byte, wallets, communities int, rate float64) {
	g := loadgen.New(faucet, wallets, 1_000_000_000, uint64(time.Now().UnixNano())).WithCommunities(communities, 0.9)
	head := func(s interfaces.StarID) (uint64, interfaces.Hash, error) { return keeper(s).ChainHead(s) }
	balance := func(s interfaces.StarID) (uint64, error) { return keeper(s).Balance(s) }
	if err := g.Sync(head, balance); err != nil {
		log.Warn("load generator cannot read the chain", "error", err)
		return
	}
	pace := &keepRate{start: time.Now(), rate: rate}
	check := time.Now()
	for i := 0; ctx.Err() == nil; i++ {
		if time.Since(check) > 3*time.Second {
			// Accounts whose pending transactions were lost (a node
			// restarted with them in its pool) continue from their
			// committed head.
			check = time.Now()
			stalled, err := g.Stalled(head)
			if err != nil {
				log.Warn("load generator", "error", err)
				return
			}
			for _, s := range stalled {
				if seq, last, err := head(s); err == nil {
					g.Resync(s, seq, last)
				}
			}
		}
		tx, err := g.Next()
		if err != nil {
			log.Warn("load generator", "error", err)
			return
		}
		if err := nodes[i%len(nodes)].Submit(tx); err != nil {
			g.Undo(tx)
			if errors.Is(err, pool.ErrFull) {
				// Back off until blocks drain the pool.
				select {
				case <-ctx.Done():
				case <-time.After(100 * time.Millisecond):
				}
				continue
			}
			if errors.Is(err, pool.ErrStale) || errors.Is(err, pool.ErrConflict) {
				// This account's view is behind the chain: continue from
				// its committed head.
				if seq, last, err := keeper(tx.Sender).ChainHead(tx.Sender); err == nil {
					g.Resync(tx.Sender, seq, last)
				}
				continue
			}
			log.Warn("transaction refused", "error", err)
		}
		if !pace.wait(ctx) {
			return
		}
	}
}

var _ = os.Stdout

// clusterShares returns every cluster member's engine key share when the
// consensus engine needs dealt keys: read from each node's share file, or,
// on a development network where any is missing, dealt afresh by this
// process as a trusted dealer and saved next to the star keys.
func clusterShares(c *cli.Context, m *manifest.Manifest, set *catalog.Set, base string) (map[interfaces.StarID][]byte, error) {
	cons := set.One(interfaces.KindConsensus)
	d, ok := cons.Plugin.(interfaces.KeyDealer)
	if !ok {
		return nil, nil
	}
	engine := cons.Info.Name
	paths := map[interfaces.StarID]string{}
	var members []interfaces.StarID
	for i := range m.Nodes {
		mn := &m.Nodes[i]
		if !mn.HasRole(manifest.RoleCluster) {
			continue
		}
		key, err := node.LoadKey(mn, base, m.Network.Dev)
		if err != nil {
			return nil, err
		}
		star := keys.Star(key)
		paths[star] = sharePath(mn, base)
		members = append(members, star)
	}
	shares := map[interfaces.StarID][]byte{}
	var missing error
	for star, path := range paths {
		b, err := keys.LoadClusterShare(path, engine, star)
		if err != nil {
			missing = err
			break
		}
		shares[star] = b
	}
	if missing == nil {
		return shares, nil
	}
	if !m.Network.Dev {
		return nil, fmt.Errorf("%w; deal the cluster's keys with `constellation keygen --cluster N` and set each node's cluster_key_file", missing)
	}
	fmt.Fprintf(c.App.Writer, "dealing %s keys for %d members (development network: this process is the trusted dealer)\n", engine, len(members))
	shares, err := dealShares(d, members, 0, rand.Reader)
	if err != nil {
		return nil, err
	}
	for star, path := range paths {
		if err := keys.SaveClusterShare(path, keys.ClusterShare{Engine: engine, Member: star, Keys: shares[star]}, true); err != nil {
			return nil, err
		}
	}
	return shares, nil
}

// sharePath is where a node's cluster key share lives: its manifest's
// cluster_key_file, or <name>.cluster.key beside its star key.
func sharePath(mn *manifest.Node, base string) string {
	path := mn.ClusterKeyFile
	if path == "" {
		return filepath.Join(filepath.Dir(node.KeyPath(mn, base)), mn.Name+".cluster.key")
	}
	if base != "" && !filepath.IsAbs(path) {
		path = filepath.Join(base, path)
	}
	return path
}
