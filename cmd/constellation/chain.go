package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/constellation-chain/constellation/framework/ledger"
	"github.com/constellation-chain/constellation/framework/store"
	"github.com/constellation-chain/constellation/interfaces"
)

func chainCommand() *cli.Command {
	return &cli.Command{
		Name:  "chain",
		Usage: "inspect a node's data directory",
		Subcommands: []*cli.Command{
			{
				Name:      "verify",
				Usage:     "replay every stored block from genesis and compare with the stored state",
				ArgsUsage: "DIR",
				Description: `Opens the chain store in DIR (a node's data directory, e.g. data/testnet/star-1)
read-write, re-validates every block from genesis, and checks that the stored
balances, chain heads and indexes equal the replay. Run it after a crash to
see that nothing is half-written. The node must not be running.

A chain of a network with a galaxy re-validates under the hierarchy's rules
(who owns each account, the certificates behind every checkpoint and
credit): --manifest and --genesis name them, and default to a testnet's
DATA/manifest.hcl and DATA/keys/genesis.json beside the node's directory.

   constellation chain verify data/testnet/star-5
   constellation chain verify --manifest net.hcl --genesis keys/genesis.json data/star-5`,
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "manifest", Usage: "the network's manifest FILE (default: DIR/../manifest.hcl when it exists)"},
					&cli.StringFlag{Name: "genesis", Usage: "the network's genesis FILE (default: DIR/../keys/genesis.json)"},
					&cli.BoolFlag{Name: "contracts", Usage: "the network runs contracts (its manifest declares the contract runtime): deploys and calls have effects"},
				},
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return fmt.Errorf("chain verify takes one DIR, got %d arguments (flags go before DIR)", c.NArg())
					}
					dir := c.Args().First()
					rules, done, err := chainRules(c, dir)
					if err != nil {
						return err
					}
					defer done()
					verify := func(sub string) error {
						st, err := openExisting(filepath.Join(dir, sub))
						if err != nil {
							return err
						}
						defer st.Close()
						var r *ledger.Rules
						if rules != nil {
							if b, err := st.Block(1); err == nil {
								if r, err = rules.rules(b.Header.Cluster); err != nil {
									return err
								}
							}
						}
						if c.Bool("contracts") {
							if r == nil {
								r = &ledger.Rules{}
							}
							r.Contracts = &ledger.ContractRules{LoadTx: ledger.LoadTxFrom(st.TxHeight, st.Block)}
						}
						if err := st.VerifyWith(r); err != nil {
							return err
						}
						h, hash, root := st.Head()
						fmt.Fprintf(c.App.Writer, "%s: %d blocks verified; head %s, state root %s\n", filepath.Join(dir, sub), h, hash.Short(), root.Short())
						return nil
					}
					if err := verify(""); err != nil {
						return err
					}
					if _, err := os.Stat(filepath.Join(dir, "galaxy", "chain")); err == nil {
						return verify("galaxy")
					}
					return nil
				},
			},

			{
				Name:      "head",
				Usage:     "print the last committed block",
				ArgsUsage: "DIR",
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return fmt.Errorf("chain head takes one DIR, got %d arguments", c.NArg())
					}
					st, err := openExisting(c.Args().First())
					if err != nil {
						return err
					}
					defer st.Close()
					h, hash, root := st.Head()
					fmt.Fprintf(c.App.Writer, "height %d\nhash %s\nstate_root %s\n", h, hash, root)
					return nil
				},
			},
			{
				Name:      "block",
				Usage:     "print a committed block: header, transactions, receipts",
				ArgsUsage: "DIR HEIGHT",
				Action: func(c *cli.Context) error {
					if c.NArg() != 2 {
						return fmt.Errorf("chain block takes DIR and HEIGHT, got %d arguments", c.NArg())
					}
					h, err := strconv.ParseUint(c.Args().Get(1), 10, 64)
					if err != nil {
						return fmt.Errorf("HEIGHT %q is not a number", c.Args().Get(1))
					}
					st, err := openExisting(c.Args().First())
					if err != nil {
						return err
					}
					defer st.Close()
					if head, _, _ := st.Head(); h == 0 || h > head {
						return fmt.Errorf("no block %d in %s (head is %d)", h, c.Args().First(), head)
					}
					b, err := st.Block(h)
					if err != nil {
						return err
					}
					w := c.App.Writer
					cl := fmt.Sprint(b.Header.Cluster)
					if b.Header.Cluster == interfaces.GalaxyCluster {
						cl = "galaxy"
					}
					fmt.Fprintf(w, "block %d of %s  epoch %d  hash %s\nprev %s\ntimestamp %d\ntransactions %d\n", h, cl, b.Header.Epoch, b.Hash(), b.Header.Prev, b.Header.Timestamp, len(b.Txs))
					for _, t := range b.Txs {
						fmt.Fprintf(w, "  %s  %-10s sender %s seq %d\n", t.ID(), t.Kind, t.Sender.Short(), t.Seq)
					}
					for _, r := range b.Receipts {
						fmt.Fprintf(w, "receipts to cluster %d: batch %d, %d transfers\n", r.Dst, r.Seq, len(r.Receipts))
					}
					if cert, err := st.Certificate(h); err == nil && cert != nil {
						fmt.Fprintf(w, "certificate %x\n", cert)
					}
					return nil
				},
			},
		},
	}
}

// chainRules finds the hierarchy a chain directory belongs to: nil for a
// flat network.
func chainRules(c *cli.Context, dir string) (*offlineTiers, func(), error) {
	mpath, gpath := c.String("manifest"), c.String("genesis")
	parent := parentDir(dir)
	if mpath == "" {
		if p := filepath.Join(parent, "manifest.hcl"); fileExists(p) {
			mpath = p
		}
	}
	if gpath == "" {
		gpath = filepath.Join(parent, "keys", "genesis.json")
	}
	if mpath == "" && !fileExists(gpath) {
		return nil, func() {}, nil // a flat network's chain
	}
	return hierarchyOf(c, mpath, gpath, parent)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// openExisting opens a store that must already exist.
func openExisting(dir string) (*store.Store, error) {
	if _, err := os.Stat(filepath.Join(dir, "chain", store.FileName)); err == nil {
		dir = filepath.Join(dir, "chain") // a node's data directory
	}
	if _, err := os.Stat(filepath.Join(dir, store.FileName)); err != nil {
		return nil, fmt.Errorf("no chain store in %s: %w", dir, err)
	}
	return store.Open(dir, store.Options{})
}

// parentDir is the directory holding dir (a testnet's data directory holds
// each node's directory and the keys).
func parentDir(dir string) string { return filepath.Dir(filepath.Clean(dir)) }
