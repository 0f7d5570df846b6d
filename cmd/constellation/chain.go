package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/constellation-chain/constellation/framework/store"
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
see that nothing is half-written. The node must not be running.`,
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return fmt.Errorf("chain verify takes one DIR, got %d arguments", c.NArg())
					}
					st, err := openExisting(c.Args().First())
					if err != nil {
						return err
					}
					defer st.Close()
					if err := st.Verify(); err != nil {
						return err
					}
					h, hash, root := st.Head()
					fmt.Fprintf(c.App.Writer, "%s: %d blocks verified; head %s, state root %s\n", c.Args().First(), h, hash.Short(), root.Short())
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
		},
	}
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
