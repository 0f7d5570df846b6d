package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/constellation-chain/constellation/framework/keys"
	"github.com/constellation-chain/constellation/framework/node"
	"github.com/constellation-chain/constellation/framework/store"
	"github.com/constellation-chain/constellation/interfaces"
)

func proofCommand() *cli.Command {
	return &cli.Command{
		Name:      "proof",
		Usage:     "write a light-client proof that a transaction is final",
		ArgsUsage: "TXID",
		Description: `Finds the transaction TXID (64 hex digits) in the chain stores under
--data and writes the proof that it is final: the Merkle branch from the
transaction to its cluster's checkpoint, the galaxy transaction that carried
the checkpoint and its branch to a black hole, the black hole's header and
the galaxy's threshold signature on it. Anyone can check it with
` + "`constellation verify`" + `, with no node running.

--data is a node's data directory or a testnet's (every node directory in it
is searched); repeat it to search several. The nodes must be stopped (their
stores are locked while they run).

   constellation proof --data data/testnet --out tx.proof 3f2a…c9
   constellation verify --genesis data/testnet/keys/genesis.json tx.proof`,
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "data", Aliases: []string{"d"}, Usage: "data DIR to search (repeat)", Value: cli.NewStringSlice("data/testnet")},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "write the proof to FILE (hex) instead of standard output"},
		},
		Action: runProof,
	}
}

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "check a light-client proof with no node running",
		ArgsUsage: "PROOF",
		Description: `Checks a proof written by ` + "`constellation proof`" + ` (a file, or - for standard
input) against the network's genesis file, which names the galaxy's members
and public key: the black hole's certificate must be the galaxy's threshold
signature, the black hole must include the checkpoint, and the checkpoint
must include the transaction. Exits 1, saying which step failed, otherwise.

   constellation verify --genesis data/testnet/keys/genesis.json tx.proof`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "genesis", Usage: "the network's genesis FILE (written by the dealer: DATA/keys/genesis.json for a testnet)", Required: true},
		},
		Action: runVerify,
	}
}

// chainStores finds the chain stores under each directory: a node's
// directory holds chain/ (and galaxy/chain/ for a galaxy member that is
// also a delegate); a testnet's holds one directory per node.
func chainStores(dirs []string) ([]string, error) {
	var out []string
	for _, d := range dirs {
		if _, err := os.Stat(d); err != nil {
			return nil, fmt.Errorf("--data %s: %w", d, err)
		}
		err := filepath.WalkDir(d, func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(d, path)
			if e.IsDir() && strings.Count(rel, string(filepath.Separator)) > 3 {
				return filepath.SkipDir
			}
			if !e.IsDir() && e.Name() == store.FileName && filepath.Base(filepath.Dir(path)) == "chain" {
				out = append(out, filepath.Dir(path))
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no chain store under %s", strings.Join(dirs, ", "))
	}
	return out, nil
}

// openedStores are chain stores opened for reading, with the cluster of
// their chain.
type openedStore struct {
	st      *store.Store
	cluster interfaces.ClusterID
}

func openStores(dirs []string) ([]openedStore, func(), error) {
	paths, err := chainStores(dirs)
	if err != nil {
		return nil, nil, err
	}
	var out []openedStore
	closeAll := func() {
		for _, o := range out {
			o.st.Close()
		}
	}
	for _, p := range paths {
		st, err := store.Open(p, store.Options{})
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		h, _, _ := st.Head()
		if h == 0 {
			st.Close()
			continue
		}
		b, err := st.Block(1)
		if err != nil {
			st.Close()
			closeAll()
			return nil, nil, err
		}
		out = append(out, openedStore{st: st, cluster: b.Header.Cluster})
	}
	return out, closeAll, nil
}

func runProof(c *cli.Context) error {
	if c.NArg() != 1 {
		return fmt.Errorf("proof takes one TXID, got %d arguments (flags go before TXID)", c.NArg())
	}
	id, err := interfaces.ParseHash(c.Args().First())
	if err != nil {
		return fmt.Errorf("TXID: %w", err)
	}
	stores, closeAll, err := openStores(c.StringSlice("data"))
	if err != nil {
		return err
	}
	defer closeAll()
	var src []node.Chain
	for _, o := range stores {
		src = append(src, node.Chain{Store: o.st, Cluster: o.cluster})
	}
	p, err := node.BuildProof(src, id)
	if err != nil {
		return err
	}
	raw := p.Encode()
	text := hex.EncodeToString(raw) + "\n"
	if out := c.String("out"); out != "" {
		if err := os.WriteFile(out, []byte(text), 0o644); err != nil {
			return fmt.Errorf("write proof: %w", err)
		}
		fmt.Fprintf(c.App.ErrWriter, "wrote %s: %d bytes of proof that %s is final (black hole %d)\n", out, len(raw), id.Short(), p.Finality.BlackHole.Height)
		return nil
	}
	_, err = io.WriteString(c.App.Writer, text)
	return err
}

// readProof reads a proof file: hex text (as proof writes it) or raw.
func readProof(path string, stdin io.Reader) (*interfaces.TxProof, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(stdin, 1<<20))
	} else {
		var f *os.File
		if f, err = os.Open(path); err == nil {
			b, err = io.ReadAll(io.LimitReader(f, 1<<20))
			f.Close()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("read proof: %w", err)
	}
	if raw, err := hex.DecodeString(strings.TrimSpace(string(b))); err == nil {
		b = raw
	}
	p, err := interfaces.DecodeTxProof(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

func runVerify(c *cli.Context) error {
	if c.NArg() != 1 {
		return fmt.Errorf("verify takes one PROOF file, got %d arguments (flags go before PROOF)", c.NArg())
	}
	gf, err := keys.LoadGenesisFile(c.String("genesis"))
	if err != nil {
		return err
	}
	v, err := groupVerifier(gf.Engine)
	if err != nil {
		return err
	}
	rec, ok := gf.Group(interfaces.GalaxyGroup)
	if !ok {
		return fmt.Errorf("%s names no galaxy", c.String("genesis"))
	}
	inst, err := rec.Instance(gf.Seed)
	if err != nil {
		return err
	}
	key, err := rec.KeyBytes()
	if err != nil {
		return err
	}
	p, err := readProof(c.Args().First(), c.App.Reader)
	if err != nil {
		return err
	}
	h, err := p.Verify(inst, key, v)
	if err != nil {
		return cli.Exit(fmt.Sprintf("proof does not verify: %v", err), 1)
	}
	fmt.Fprintf(c.App.Writer, "final: transaction %s (sender %s, seq %d) is in block %d of cluster %d, finalized by black hole %d (%s) of network %q\n",
		p.Tx.ID(), p.Tx.Sender.Short(), p.Tx.Seq, h.Height, h.Cluster, p.Finality.BlackHole.Height, p.Finality.BlackHole.Hash().Short(), gf.Network)
	return nil
}

// groupVerifier returns the built-in consensus engine named engine as a
// verifier of group signatures.
func groupVerifier(engine string) (interfaces.GroupVerifier, error) {
	for _, p := range builtins() {
		if p.Info().Kind == interfaces.KindConsensus && p.Info().Name == engine {
			if v, ok := p.(interfaces.GroupVerifier); ok {
				return v, nil
			}
		}
	}
	return nil, errors.New("the genesis file's engine " + engine + " is no built-in engine that checks group signatures")
}
