package main

import (
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/constellation-chain/constellation/builtin/meme"
	"github.com/constellation-chain/constellation/framework/keys"
	"github.com/constellation-chain/constellation/framework/ledger"
	"github.com/constellation-chain/constellation/framework/manifest"
	"github.com/constellation-chain/constellation/framework/node"
	"github.com/constellation-chain/constellation/interfaces"
)

func reputationCommand() *cli.Command {
	common := []cli.Flag{
		&cli.StringFlag{Name: "manifest", Aliases: []string{"m"}, Usage: "manifest FILE naming the reputation plugin (default: the embedded default manifest)"},
		&cli.StringFlag{Name: "data", Aliases: []string{"d"}, Usage: "a node's data directory (the node must not be running)", Value: "data/testnet/star-1"},
	}
	return &cli.Command{
		Name:  "reputation",
		Usage: "recompute Proof-of-Meme scores and delegate draws from chain data",
		Description: `Reputation is derived state: these commands rebuild it from a node's stored
blocks with the manifest's reputation plugin, so anyone holding the chain can
check a star's score or a delegate draw.`,
		Subcommands: []*cli.Command{
			{
				Name:      "explain",
				Usage:     "print a star's features, score and selection bucket",
				ArgsUsage: "STAR",
				Description: `STAR is a full id (ed25519:<64 hex digits>), a development name (dev:faucet)
or a node of the manifest (star-1). Flags go before STAR:

   constellation reputation explain --data data/testnet/star-1 star-3`,
				Flags: common,
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return fmt.Errorf("reputation explain takes one STAR (ed25519:<64 hex>, dev:NAME or a node name), got %d arguments", c.NArg())
					}
					star, err := starArg(c, c.Args().First())
					if err != nil {
						return fmt.Errorf("reputation explain: %w", err)
					}
					rep, height, done, err := rebuildReputation(c)
					if err != nil {
						return err
					}
					defer done()
					if m, ok := rep.(*meme.Reputation); ok {
						fmt.Fprintf(c.App.Writer, "after block %d\n", height)
						fmt.Fprintln(c.App.Writer, m.Explain(star).String())
						return nil
					}
					// A plugin: only the score crosses the plugin RPC. A
					// plugin that cannot answer fails the command; a score
					// of 0 would be a silently wrong answer.
					score, err := scoreOf(rep, star)
					if err != nil {
						return fmt.Errorf("reputation explain %s: %w", star, err)
					}
					fmt.Fprintf(c.App.Writer, "after block %d\n", height)
					fmt.Fprintf(c.App.Writer, "%s score %s\n", star, scoreText(score))
					return nil
				},
			},
			{
				Name:  "replay",
				Usage: "recompute a delegate draw: k of the candidates, seeded by a beacon",
				Description: `Candidates default to the manifest's cluster nodes; --candidate names them instead.
The seed is the beacon: the hash of the group's threshold BLS signature on
the previous black hole. Give the signed black hole, the signature and the
group key (--black-hole, --beacon-signature, --group-key) and replay checks
the signature before deriving the seed (see ` + "`constellation beacon --help`" + `);
or give an already derived beacon with --seed (64 hex digits).

With --galaxy DIR (a galaxy member's data directory), it recomputes what
the black holes published instead: it replays the galaxy's chain up to black
hole --at (default: the newest one whose beacon is published), folding the
cluster blocks each black hole finalized into a fresh reputation, checks
the beacon published in the next black hole against the galaxy's key, draws
every cluster's delegate set from it and compares them with the published
sets. The manifest and genesis file default to a testnet's.

   constellation reputation replay --galaxy data/testnet/star-1
   constellation reputation replay --galaxy data/testnet/star-1 --at 12`,
				Flags: append(append(common,
					&cli.IntFlag{Name: "k", Usage: "delegates to draw", Value: 4},
					&cli.StringFlag{Name: "seed", Usage: "the beacon itself (64 hex digits), instead of the signature flags"},
					&cli.StringSliceFlag{Name: "candidate", Usage: "a candidate STAR: an id, dev:NAME or a node name (repeat; replaces the manifest's cluster nodes)"},
					&cli.StringFlag{Name: "galaxy", Usage: "recompute the delegate sets the black holes in this galaxy member's data DIR published"},
					&cli.Uint64Flag{Name: "at", Usage: "with --galaxy: the black hole whose beacon to replay (default: the newest published)"},
					&cli.StringFlag{Name: "genesis", Usage: "with --galaxy: the network's genesis FILE (default: DIR/../keys/genesis.json)"},
				), beaconFlags(false)...),
				Action: func(c *cli.Context) error {
					if c.String("galaxy") != "" {
						return replayPublished(c)
					}
					var seed interfaces.Hash
					var err error
					if s := c.String("seed"); s != "" {
						if c.String("beacon-signature") != "" {
							return fmt.Errorf("give --seed or the beacon signature flags, not both")
						}
						if seed, err = interfaces.ParseHash(s); err != nil {
							return fmt.Errorf("--seed: %w", err)
						}
					} else if seed, err = beaconFromFlags(c); err != nil {
						return err
					}
					rep, height, done, err := rebuildReputation(c)
					if err != nil {
						return err
					}
					defer done()
					cands, err := replayCandidates(c)
					if err != nil {
						return err
					}
					sel, err := rep.Select(cands, c.Int("k"), seed)
					if err != nil {
						return fmt.Errorf("reputation replay: draw %d of %d candidates: %w", c.Int("k"), len(cands), err)
					}
					scores := make([]interfaces.Score, len(sel))
					for i, s := range sel {
						if scores[i], err = scoreOf(rep, s); err != nil {
							return fmt.Errorf("reputation replay: %w", err)
						}
					}
					fmt.Fprintf(c.App.Writer, "after block %d, seed %s…: %d of %d candidates\n", height, hex.EncodeToString(seed[:4]), len(sel), len(cands))
					for i, s := range sel {
						fmt.Fprintf(c.App.Writer, "%s score %s\n", s, scoreText(scores[i]))
					}
					return nil
				},
			},
		},
	}
}

// rebuildReputation opens the node's store and feeds every block to a fresh
// instance of the manifest's reputation plugin. The instance lives as long
// as the plugins the manifest opened: the caller must call done once it has
// finished with it (for an external plugin, done stops the child process,
// after which every call fails).
func rebuildReputation(c *cli.Context) (rep interfaces.Reputation, height uint64, done func(), err error) {
	m, _, err := loadManifest(c, c.String("manifest"), "")
	if err != nil {
		return nil, 0, nil, err
	}
	cat, err := newCatalog(externalLoader(logger(c, "reputation"), false))
	if err != nil {
		return nil, 0, nil, err
	}
	set, diags := cat.Open(m)
	if diags.HasErrors() {
		return nil, 0, nil, reportDiagnostics(c, m, m.Filename, diags)
	}
	// closeAll is what done does; on an error return it runs here (done
	// itself is nil then).
	closeAll := func() { set.Close() }
	defer func() {
		if err != nil {
			closeAll()
		}
	}()
	l := set.One(interfaces.KindReputation)
	if l == nil {
		return nil, 0, nil, fmt.Errorf("manifest %s names no reputation plugin", m.Filename)
	}
	rep, err = l.Plugin.(interfaces.ReputationFactory).NewReputation(l.Params)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("reputation plugin %s/%s: new instance: %w", l.Decl.Kind, l.Decl.Name, err)
	}
	if cl, ok := rep.(io.Closer); ok {
		closeSet := closeAll
		closeAll = func() { cl.Close(); closeSet() }
	}
	st, err := openExisting(c.String("data"))
	if err != nil {
		return nil, 0, nil, err
	}
	defer st.Close()
	h, _, _ := st.Head()
	wrapped := node.NewReputation(rep)
	if err := node.Rebuild(wrapped, h, st.Blocks); err != nil {
		return nil, 0, nil, fmt.Errorf("rebuild reputation from %s: %w", c.String("data"), err)
	}
	return rep, h, closeAll, nil
}

// scoreOf returns s's score from rep. Score has no error result; an
// instance backed by a plugin process returns 0 when the plugin cannot
// answer and reports the failure through Err, which scoreOf turns into an
// error so that a failed plugin never prints as a score of 0.
func scoreOf(rep interfaces.Reputation, s interfaces.StarID) (interfaces.Score, error) {
	score := rep.Score(s)
	if e, ok := rep.(interface{ Err() error }); ok {
		if err := e.Err(); err != nil {
			return 0, fmt.Errorf("score %s: the reputation plugin did not answer: %w", s.Short(), err)
		}
	}
	return score, nil
}

// manifestKeys loads the command's manifest and the directory its key
// files are relative to (for the embedded manifest, beside the data
// directory, as testnet lays them out).
func manifestKeys(c *cli.Context) (*manifest.Manifest, string, error) {
	m, base, err := loadManifest(c, c.String("manifest"), "")
	if err != nil {
		return nil, "", err
	}
	if base == "" {
		base = m.Dir
	}
	if c.String("manifest") == "" {
		base = parentDir(c.String("data"))
	}
	return m, base, nil
}

// starArg reads a star given on the command line: a full id
// (ed25519:<64 hex>), a development name (dev:faucet), or the name of a
// node of the command's manifest (star-1), whose key file says its star.
func starArg(c *cli.Context, text string) (interfaces.StarID, error) {
	if name, ok := strings.CutPrefix(text, "dev:"); ok && name != "" {
		return interfaces.DevStar(name), nil
	}
	if strings.HasPrefix(text, "ed25519:") {
		return interfaces.ParseStarID(text)
	}
	m, base, err := manifestKeys(c)
	if err != nil {
		return interfaces.StarID{}, err
	}
	mn, ok := m.Node(text)
	if !ok {
		hint := ""
		if len(text) == 8 {
			hint = " Logs print the first 8 hex digits of an id; give the whole id (a node's GET /v1/status shows its own)."
		}
		return interfaces.StarID{}, fmt.Errorf("%q is not a star: give ed25519:<64 hex digits>, dev:NAME, or a node of %s (%s).%s", text, m.Filename, strings.Join(nodeNames(m), ", "), hint)
	}
	key, err := node.LoadKey(mn, base, false)
	if err != nil {
		return interfaces.StarID{}, err
	}
	return keys.Star(key), nil
}

func nodeNames(m *manifest.Manifest) []string {
	var out []string
	for i := range m.Nodes {
		out = append(out, m.Nodes[i].Name)
	}
	return out
}

func replayCandidates(c *cli.Context) ([]interfaces.StarID, error) {
	var out []interfaces.StarID
	for _, s := range c.StringSlice("candidate") {
		id, err := starArg(c, s)
		if err != nil {
			return nil, fmt.Errorf("--candidate: %w", err)
		}
		out = append(out, id)
	}
	if len(out) == 0 {
		m, base, err := manifestKeys(c)
		if err != nil {
			return nil, err
		}
		if out, err = node.ClusterMembers(m, base, false); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, interfaces.CompareStars)
	return slices.Compact(out), nil
}

// replayPublished recomputes the delegate sets a galaxy chain published.
func replayPublished(c *cli.Context) error {
	dir := c.String("galaxy")
	tiers, done, err := chainRules(c, dir)
	if err != nil {
		return err
	}
	defer done()
	if tiers == nil || tiers.rep == nil {
		return fmt.Errorf("%s: no manifest with a galaxy and a reputation plugin found (give --manifest and --genesis)", dir)
	}
	sub := filepath.Join(dir, "galaxy")
	if _, err := os.Stat(filepath.Join(sub, "chain")); err != nil {
		sub = dir
	}
	st, err := openExisting(sub)
	if err != nil {
		return err
	}
	defer st.Close()
	head, _, _ := st.Head()
	// Find the beacon to replay: the one certifying --at, in block at+1.
	at := c.Uint64("at")
	var beacon *interfaces.BeaconPayload
	for h := head; h >= 2 && beacon == nil; h-- {
		if at != 0 && h != at+1 {
			continue
		}
		b, err := st.Block(h)
		if err != nil {
			return err
		}
		if b.Header.Cluster != interfaces.GalaxyCluster {
			return fmt.Errorf("%s holds the chain of cluster %d, not the galaxy's", sub, b.Header.Cluster)
		}
		for _, tx := range b.Txs {
			if tx.Kind == interfaces.TxBeacon {
				p, err := interfaces.DecodeBeaconPayload(tx.Payload)
				if err != nil {
					return err
				}
				beacon = &p
			}
		}
		if at != 0 {
			break
		}
	}
	if beacon == nil {
		if at != 0 {
			return fmt.Errorf("black hole %d publishes no beacon of black hole %d", at+1, at)
		}
		return fmt.Errorf("no black hole in %s publishes a beacon yet", sub)
	}
	rep, err := tiers.rep()
	if err != nil {
		return err
	}
	b := node.NewBeaconer(tiers.h, rep)
	if err := node.Rebuild(b.Reputation(), beacon.Height, st.Blocks); err != nil {
		return err
	}
	certified, err := st.Block(beacon.Height)
	if err != nil {
		return err
	}
	parent := ledger.Parent{Height: certified.Header.Height, Hash: certified.Hash()}
	if err := b.Verify(parent, beacon); err != nil {
		return cli.Exit(fmt.Sprintf("the beacon black hole %d published does not replay: %v", beacon.Height+1, err), 1)
	}
	fmt.Fprintf(c.App.Writer, "black hole %d: beacon %s (the galaxy's signature on black hole %d verifies); the state as of black hole %d draws what black hole %d published:\n",
		beacon.Height+1, node.Beacon(beacon.Signature).Short(), beacon.Height, beacon.Height, beacon.Height+1)
	for _, s := range beacon.Sets {
		cands := b.Candidates(s.Cluster)
		if s.Cluster == interfaces.GalaxyCluster {
			continue // below
		}
		fmt.Fprintf(c.App.Writer, "cluster %d: %d of %d candidates drawn\n", s.Cluster, len(s.Members), len(cands))
		for _, m := range s.Members {
			fmt.Fprintf(c.App.Writer, "  %s score %s\n", m, scoreText(b.Reputation().Engine().Score(m)))
		}
		absent := b.Absent()
		for _, m := range cands {
			if !slices.Contains(s.Members, m) {
				why := "candidate, not drawn"
				if slices.Contains(absent, m) {
					why = "candidate, left out: it stopped contributing"
				}
				fmt.Fprintf(c.App.Writer, "  %s score %s (%s)\n", m, scoreText(b.Reputation().Engine().Score(m)), why)
			}
		}
	}
	if tiers.h.GalaxyRotates() {
		var drawn []interfaces.StarID
		for _, s := range beacon.Sets {
			if s.Cluster == interfaces.GalaxyCluster {
				drawn = s.Members
			}
		}
		cands, streaks := b.GalaxyCandidates()
		if drawn != nil {
			fmt.Fprintf(c.App.Writer, "galaxy: %d of %d candidates drawn", len(drawn), len(cands))
		} else {
			fmt.Fprintf(c.App.Writer, "galaxy: %d candidates (it rotates every %d black holes; this beacon draws none)", len(cands), tiers.h.GalaxyPeriod())
		}
		fmt.Fprintf(c.App.Writer, "; one may be drawn once its score reached the bar at %d rotation beacons in a row\n", node.GalaxyStreak)
		for _, m := range cands {
			what := ""
			if slices.Contains(drawn, m) {
				what = ", drawn"
			}
			fmt.Fprintf(c.App.Writer, "  %s score %s, streak %d%s\n", m, scoreText(b.Reputation().Engine().Score(m)), streaks[m], what)
		}
	}
	for _, cl := range beacon.Closes {
		what := "starts closing"
		if cl.Done {
			what = "finishes closing"
		}
		fmt.Fprintf(c.App.Writer, "cluster %d: this beacon %s it into cluster %d; %d stars stand for cluster %d from then on\n", cl.Cluster, what, cl.Into, len(cl.Stars), cl.Into)
	}
	for id := range b.Clusters() {
		if b.Closed(interfaces.ClusterID(id)) {
			fmt.Fprintf(c.App.Writer, "cluster %d: closed\n", id)
		}
	}
	return nil
}

// scoreText writes a score as the decimal it stands for, the way the
// built-in meme's explain prints one: at most nine places, trailing zeros
// trimmed (0.688203164 or 0.5, not 688203164; 1, not 1.000000000).
func scoreText(s interfaces.Score) string {
	if s < 0 {
		return "-" + scoreText(-s)
	}
	whole, frac := s/interfaces.ScoreOne, s%interfaces.ScoreOne
	if frac == 0 {
		return fmt.Sprintf("%d", whole)
	}
	return strings.TrimRight(fmt.Sprintf("%d.%09d", whole, frac), "0")
}
