package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
	"github.com/urfave/cli/v2"

	"github.com/constellation-chain/constellation/framework/api"
	"github.com/constellation-chain/constellation/framework/events"
	"github.com/constellation-chain/constellation/framework/group"
	"github.com/constellation-chain/constellation/framework/keys"
	"github.com/constellation-chain/constellation/framework/manifest"
	"github.com/constellation-chain/constellation/framework/metrics"
	"github.com/constellation-chain/constellation/framework/node"
	"github.com/constellation-chain/constellation/interfaces"
)

// loadManifest reads FILE, or the embedded default when path is "". For
// the default, relative paths (key files) resolve against dataDir.
func loadManifest(c *cli.Context, path, dataDir string) (*manifest.Manifest, string, error) {
	var (
		m     *manifest.Manifest
		diags hcl.Diagnostics
		name  = path
		base  string
	)
	switch {
	case path == "" && c.Bool("solo"):
		name = manifest.SoloFilename + " (embedded)"
		m, diags = manifest.ParseSolo()
		base = dataDir
	case path == "":
		name = manifest.DefaultFilename + " (embedded)"
		m, diags = manifest.ParseDefault()
		base = dataDir
	default:
		m, diags = manifest.LoadFile(path)
	}
	if m != nil && !diags.HasErrors() {
		cat, err := newCatalog(nil)
		if err != nil {
			return nil, "", err
		}
		diags = append(diags, manifest.Check(m, cat.Lookup, cat.Known)...)
		if !c.Bool("dev") {
			diags = append(diags, m.RequireChecksums()...)
		}
	}
	if diags.HasErrors() {
		return nil, "", reportDiagnostics(c, m, name, diags)
	}
	return m, base, nil
}

// signalContext is cancelled on SIGINT or SIGTERM.
func signalContext(parent context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
}

// blockPrinter writes one line per committed block with a moving tx/s.
type blockPrinter struct {
	w      io.Writer
	window []summaryEvent
}

type summaryEvent struct {
	at  time.Time
	txs int
}

// rateGap is a pause between blocks (a restart, a stall) after which the
// moving rate starts again instead of averaging over it.
const rateGap = 5 * time.Second

// rate records a block made at at (its agreed timestamp, so blocks read
// back in a burst count at the pace the chain made them) and returns the
// tx/s over the last ten blocks since the last pause.
func (p *blockPrinter) rate(at time.Time, txs int) float64 {
	if n := len(p.window); n > 0 && (at.Before(p.window[n-1].at) || at.Sub(p.window[n-1].at) > rateGap) {
		p.window = p.window[:0]
	}
	p.window = append(p.window, summaryEvent{at: at, txs: txs})
	if len(p.window) > 10 {
		p.window = p.window[1:]
	}
	n := len(p.window)
	if n < 2 {
		return 0
	}
	sum := 0
	for _, e := range p.window[1:] {
		sum += e.txs
	}
	if d := p.window[n-1].at.Sub(p.window[0].at); d > 0 {
		return float64(sum) / d.Seconds()
	}
	return 0
}

// show prints one delivery; for a gap marker (the printer fell behind)
// it reads the missed blocks from the store and prints them first.
func (p *blockPrinter) show(g *group.Group, ev events.Event[node.BlockEvent], pool int) {
	if ev.Gap == nil {
		p.print(ev.Value, pool)
		return
	}
	err := g.Resume(*ev.Gap, func(b *interfaces.Block) error {
		p.print(node.BlockEvent{Block: b, Hash: b.Hash(), At: time.Now()}, pool)
		return nil
	})
	if err != nil {
		fmt.Fprintf(p.w, "blocks %d to %d: read from the store: %v\n", ev.Gap.From, ev.Gap.To, err)
	}
}

// print writes a block's line. A block that carries key-generation
// messages of a delegate rotation ends in "keygen N"; the block that hands
// the cluster over to its next delegates ends in "handover".
func (p *blockPrinter) print(ev node.BlockEvent, pool int) {
	h := ev.Block.Header
	var extra strings.Builder
	keygen := 0
	for _, tx := range ev.Block.Txs {
		if tx.Kind == interfaces.TxKeyGen {
			keygen++
		}
	}
	if keygen > 0 {
		fmt.Fprintf(&extra, "  keygen %d", keygen)
	}
	if ev.Block.Meta.Handover != nil {
		extra.WriteString("  handover")
	}
	fmt.Fprintf(p.w, "block %6d  epoch %6d  txs %5d  dup %5d  rejected %3d  hash %s  %8.1f tx/s  pool %d%s\n",
		h.Height, h.Epoch, len(ev.Block.Txs), ev.Duplicates, ev.Rejected, ev.Hash.Short(), p.rate(time.UnixMilli(h.Timestamp), len(ev.Block.Txs)), pool, extra.String())
}

func nodeCommand() *cli.Command {
	return &cli.Command{
		Name:  "node",
		Usage: "run one node",
		Subcommands: []*cli.Command{{
			Name:  "run",
			Usage: "run the node NAME of a manifest until interrupted",
			Description: `Opens the node's data directory (creating it and the genesis state on first
start), starts the plugins the manifest names and produces blocks. Ctrl-C
stops it cleanly; a node killed at any point reopens at its last committed
block.

   constellation node run --manifest network.hcl --node star-1 --data data/star-1

The node talks to the other cluster members through the manifest's transport
plugin (gossip: libp2p on the node's listen address), serves its HTTP API on
its api address, with its Prometheus metrics at /metrics (docs/operators.md
lists them and shows a Prometheus and Grafana setup), logs consensus inputs
to DATA/wal before acting on them, and fetches blocks it missed from its
peers. docs/network.md shows a four-machine setup.

A node finds its threshold key shares and, in a network with a galaxy, the
genesis file by convention beside its star key (NODE.cluster.key,
NODE.galaxy.key, genesis.json), where ` + "`constellation testnet`" + ` and
` + "`constellation keygen --manifest`" + ` put them. To restart one node of a running
` + "`make run`" + `:

   constellation node run --manifest data/testnet/manifest.hcl --node star-5 --data data/testnet/star-5`,
			Flags: append([]cli.Flag{
				&cli.BoolFlag{Name: "dev", Usage: "allow external plugin binaries without a sha256 in the manifest (development only)"},
				&cli.StringFlag{Name: "manifest", Aliases: []string{"m"}, Usage: "manifest FILE (default: the embedded default manifest)"},
				&cli.StringFlag{Name: "node", Aliases: []string{"n"}, Usage: "which node block of the manifest this process runs", Required: true},
				&cli.StringFlag{Name: "data", Aliases: []string{"d"}, Usage: "data directory", Value: "data/node"},
				&cli.BoolFlag{Name: "create-keys", Usage: "generate missing key files (development networks only)"},
				&cli.StringFlag{Name: "cluster-key", Usage: "cluster key share FILE (overrides the manifest's cluster_key_file; default: NODE.cluster.key beside the star key)"},
				&cli.StringFlag{Name: "galaxy-key", Usage: "galaxy key share FILE (overrides the manifest's galaxy_key_file; default: NODE.galaxy.key beside the star key)"},
				&cli.StringFlag{Name: "genesis", Usage: "the network's genesis FILE with every group's public key, for a network with a galaxy (default: genesis.json beside the star key)"},
				&cli.BoolFlag{Name: "fault-injection", Usage: "let the API cut and heal this node's links (POST /v1/debug/partition), for partition tests"},
				&cli.StringFlag{Name: "pprof", Usage: "serve Go's profiler (/debug/pprof/) on this loopback HOST:PORT, for example 127.0.0.1:6060 (off by default)"},
			}, misbehaviourFlags...),
			Action: runNode,
		}},
	}
}

func runNode(c *cli.Context) error {
	log := logger(c, "node")
	dataDir := c.String("data")
	m, base, err := loadManifest(c, c.String("manifest"), dataDir)
	if err != nil {
		return err
	}
	// One registry for the node's life, across reopenings after a move;
	// the API serves it at /metrics.
	mx := metrics.New()
	cat, err := newCatalog(meteredLoader(log, c.Bool("dev"), mx))
	if err != nil {
		return err
	}
	set, diags := cat.Open(m)
	if diags.HasErrors() {
		return reportDiagnostics(c, m, m.Filename, diags)
	}
	defer set.Close()
	mn, ok := m.Node(c.String("node"))
	if !ok {
		return fmt.Errorf("manifest %s has no node %q", m.Filename, c.String("node"))
	}
	create := c.Bool("create-keys") || m.Network.Dev
	key, err := node.LoadKey(mn, base, create)
	if err != nil {
		return err
	}
	tr, err := openTransport(set, m, mn, key, base)
	if err != nil {
		return err
	}
	if tr != nil {
		defer tr.Close()
	}
	var shareKeys, galaxyKeys []byte
	cons := set.One(interfaces.KindConsensus)
	if f := c.String("cluster-key"); f != "" {
		if shareKeys, err = keys.LoadClusterShare(f, cons.Info.Name, keys.Star(key)); err != nil {
			return err
		}
	}
	if f := c.String("galaxy-key"); f != "" {
		if galaxyKeys, err = keys.LoadClusterShare(f, cons.Info.Name, keys.Star(key)); err != nil {
			return err
		}
	}
	if addr := c.String("pprof"); addr != "" {
		_, stopPprof, err := startPprof(addr, log)
		if err != nil {
			return err
		}
		defer stopPprof()
	}
	ctx, stop := signalContext(c.Context)
	defer stop()
	var faults api.FaultSwitch
	if c.Bool("fault-injection") {
		fs, ok := tr.(api.FaultSwitch)
		if !ok {
			return fmt.Errorf("--fault-injection: the transport has no fault switch")
		}
		faults = fs
		log.Warn("fault injection enabled: the API can cut this node's links")
	}
	for {
		n, err := node.Assemble(m, set, node.AssembleOptions{
			ConsensusKeys: shareKeys,
			GalaxyKeys:    galaxyKeys,
			GenesisFile:   c.String("genesis"),
			NodeName:      mn.Name,
			DataDir:       dataDir,
			KeyBase:       base,
			CreateKeys:    create,
			Transport:     tr,
			Logger:        log,
			Misbehave:     misbehaviour(c, log),
			Metrics:       mx,
		})
		if err != nil {
			return err
		}
		n.SetExplainer(explainMeme)
		err = serveAndRun(ctx, c, n, mn.API, api.Options{Faults: faults, Network: networkOf(m, mn.Name)}, log)
		if mv := (*node.MovedError)(nil); errors.As(err, &mv) {
			// A beacon split this star's cluster and the old chain founded
			// the new one: open the node again, on the new cluster's chain.
			fmt.Fprintf(c.App.Writer, "this star moved to the new cluster %d; reopening the node on its chain\n", mv.Cluster)
			shareKeys = nil // the old cluster's share; the new one's is in the data directory
			continue
		}
		if err != nil {
			return err
		}
		h, hash := n.Head()
		fmt.Fprintf(c.App.Writer, "stopped cleanly at height %d (%s); data in %s\n", h, hash.Short(), dataDir)
		return nil
	}
}

// serveAndRun serves the node's API (when addr is set) and prints its
// blocks while it runs, until ctx ends or the node stops.
func serveAndRun(ctx context.Context, c *cli.Context, n *node.Node, addr string, opts api.Options, log hclog.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if addr != "" {
		srv, err := serveAPI(ctx, addr, n, opts, log)
		if err != nil {
			return err
		}
		defer srv.Close()
	}
	events, unsubscribe := n.Subscribe(256)
	defer unsubscribe()
	p := &blockPrinter{w: c.App.Writer}
	go func() {
		for ev := range events {
			p.show(n.Group, ev, n.PoolLen())
		}
	}()
	return n.Run(ctx)
}

// serveAPI serves the node API (and its dashboard) on addr until ctx
// ends.
func serveAPI(ctx context.Context, addr string, n *node.Node, opts api.Options, log hclog.Logger) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("node API: listen on %s: %w", addr, err)
	}
	srv := api.NewServer(api.NewHandler(n, opts), api.DefaultTimeouts)
	go func() {
		if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
			log.Error("node API stopped", "error", err)
		}
	}()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	log.Info("node API listening", "addr", ln.Addr().String(), "dashboard", dashboardURL(ln.Addr().String()))
	return srv, nil
}

var _ = interfaces.APIVersion
