package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
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

With load, the galaxy's lines end in the load generator's offered,
accepted and committed tx/s over the second, and the run ends with its
account of the whole run: what it offered (--rate is what it tries to),
what the nodes accepted, what the chain committed, and which of the three
held the rate down. It submits in batches (--batch) through keep-alive
connections, with as many batches in flight as the rate needs (up to
--in-flight).

Ctrl-C stops every node cleanly; run it again and the network resumes from
the data directory.

   constellation testnet                      # embedded default manifest
   constellation testnet --rate 2000          # more load
   constellation testnet --rate 5000 --duration 60s    # find what limits the network
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
			&cli.Float64Flag{Name: "rate", Usage: "transactions per second the load generator offers (0 disables it)", Value: 500},
			&cli.IntFlag{Name: "batch", Usage: "most transactions the load generator sends in one submission (POST /v1/txs; at most 1024); at low rates batches are smaller, one every 20 ms", Value: 256},
			&cli.IntFlag{Name: "in-flight", Usage: "most submissions the load generator has in flight at once; it starts as many as the rate needs, up to this", Value: 64},
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
	if rate := c.Float64("rate"); rate > 0 {
		if _, err := loadOptions(c, rate); err != nil {
			return cli.Exit(err.Error(), 2)
		}
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

	var meter *loadMeter
	if rate := c.Float64("rate"); rate > 0 {
		faucet, err := devFaucet(m, c.String("faucet"))
		if err != nil {
			cancelRun()
			wg.Wait()
			return err
		}
		meter = &loadMeter{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			runLoad(runCtx, c, log, out, nodes, nodeFor(nodes, owner), faucet, rate, meter)
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
		return finish(showTiers(runCtx, out, inProcessTiers(nodes), m.Clusters(), uint64(c.Int("blocks")), cancelRun, meter))
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

// runLoad offers generated transfers to in-process nodes at rate, in
// batches, each to a node that keeps its sender's account, and prints
// what was offered, accepted and committed when ctx ends.
func runLoad(ctx context.Context, c *cli.Context, log interface {
	Warn(string, ...any)
	Debug(string, ...any)
}, out io.Writer, nodes []*node.Node, keeper func(interfaces.StarID) *node.Node, faucet []byte, rate float64, meter *loadMeter) {
	opt, err := loadOptions(c, rate)
	if err != nil {
		log.Warn("load generator not started", "error", err)
		return
	}
	g := loadgen.New(faucet, c.Int("wallets"), 1_000_000_000, uint64(time.Now().UnixNano())).WithCommunities(c.Int("communities"), 0.9)
	head := func(s interfaces.StarID) (uint64, interfaces.Hash, error) { return keeper(s).ChainHead(s) }
	balance := func(s interfaces.StarID) (uint64, error) { return keeper(s).Balance(s) }
	if err := g.Sync(head, balance); err != nil {
		log.Warn("load generator cannot read the chain", "error", err)
		return
	}
	// A sender's transactions go to one node (chosen by the sender) of
	// the cluster that keeps its account, or of all nodes in a network of
	// one cluster.
	var ds []int
	opt.Route = func(tx *interfaces.Transaction) int {
		k := keeper(tx.Sender)
		ds = ds[:0]
		for i, n := range nodes {
			if kg, ng := k.ClusterGroup(), n.ClusterGroup(); kg == nil || (ng != nil && ng.Cluster() == kg.Cluster()) {
				ds = append(ds, i)
			}
		}
		if len(ds) == 0 {
			return 0
		}
		return ds[int(tx.Sender[0])%len(ds)]
	}
	opt.Head = head
	opt.Behind = behind
	opt.Log = func(msg string, args ...any) { log.Debug(msg, args...) }
	d := loadgen.NewDriver(g, nodeSink(nodes), opt)
	meter.set(d)
	if err := d.Run(ctx); err != nil {
		log.Warn("load generator", "error", err)
	}
	d.CountCommitted()
	printLoad(out, d.Stats())
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
