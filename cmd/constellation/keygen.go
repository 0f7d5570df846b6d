package main

import (
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/constellation-chain/constellation/framework/keys"
	"github.com/constellation-chain/constellation/interfaces"
)

func keygenCommand() *cli.Command {
	return &cli.Command{
		Name:      "keygen",
		Usage:     "create star keys, or deal a cluster's threshold keys",
		ArgsUsage: " ",
		Description: `With --out, writes one new ed25519 star key (mode 0600) and prints the star id
to put in a manifest:

   constellation keygen --out keys/star-1.key

With --cluster N, acts as the cluster's trusted dealer: it makes N star keys
and deals the consensus engine's threshold keys (for HoneyBadger: the BLS
signature share for the common coin, the decryption share and the public
keys), one share file per member. Give each machine its two files only;
secret shares never go in a manifest. The dealer sees every share, so run it
on a machine you trust and delete the files you hand out; or make the keys
with no dealer at all, by a ceremony among the members:
constellation keygen ceremony --help.

   constellation keygen --cluster 4 --out-dir keys
   # keys/star-1.key keys/star-1.cluster.key ... keys/star-4.cluster.key

Existing files are never overwritten.

With --manifest FILE, deals every group of a development network with a
galaxy for the star keys its nodes name (creating the missing ones): each
cluster's delegates get NODE.cluster.key, the galaxy's members
NODE.galaxy.key, and genesis.json (every group's members and public key, no
secret) is written beside the star keys. Groups whose shares all exist are
left alone. Any other network's members make its keys with no dealer:
constellation keygen ceremony --help.

   constellation keygen --manifest network.hcl`,
		Subcommands: []*cli.Command{ceremonyCommand()},
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "write one star key to FILE"},
			&cli.IntFlag{Name: "cluster", Usage: "deal keys for a cluster of N members"},
			&cli.StringFlag{Name: "out-dir", Usage: "with --cluster: directory for the key files", Value: "keys"},
			&cli.StringFlag{Name: "engine", Usage: "with --cluster: consensus engine to deal for", Value: "honeybadger"},
			&cli.IntFlag{Name: "faulty", Usage: "with --cluster: f, the members that may be Byzantine (default (N-1)/3)"},
			&cli.StringFlag{Name: "manifest", Aliases: []string{"m"}, Usage: "deal every group of this manifest's network (clusters and galaxy) and write its genesis.json"},
		},
		Action: func(c *cli.Context) error {
			switch {
			case c.IsSet("cluster") && c.Int("cluster") < 1:
				return fmt.Errorf("--cluster %d: N is the number of members to deal keys for, at least 1 (for example --cluster 4)", c.Int("cluster"))
			case c.Int("faulty") < 0:
				return fmt.Errorf("--faulty %d: f is the number of members that may be Byzantine, 0 or more (0 takes the default (N-1)/3)", c.Int("faulty"))
			case c.String("out") != "" && c.Int("cluster") > 0:
				return fmt.Errorf("give --out for one star key or --cluster N for a cluster, not both")
			case c.String("out") != "":
				key, err := keys.Generate(nil)
				if err != nil {
					return err
				}
				if dir := filepath.Dir(c.String("out")); dir != "." {
					if st, err := os.Stat(dir); err != nil || !st.IsDir() {
						return fmt.Errorf("--out %s: directory %s does not exist; create it first (mkdir -p %s)", c.String("out"), dir, dir)
					}
				}
				if err := keys.Save(c.String("out"), key); err != nil {
					return err
				}
				fmt.Fprintf(c.App.Writer, "%s\n", keys.Star(key))
				fmt.Fprintf(c.App.ErrWriter, "wrote %s\n", c.String("out"))
				return nil
			case c.Int("cluster") > 0:
				return keygenCluster(c)
			case c.String("manifest") != "":
				return keygenManifest(c)
			}
			return fmt.Errorf("give --out FILE, --cluster N or --manifest FILE (see constellation keygen --help)")
		},
	}
}

// dealer returns the built-in consensus engine name as a KeyDealer.
func dealer(engine string) (interfaces.KeyDealer, error) {
	p, err := builtinByRef("consensus/" + engine)
	if err != nil {
		return nil, err
	}
	d, ok := p.(interfaces.KeyDealer)
	if !ok {
		return nil, fmt.Errorf("consensus engine %s needs no dealt keys", engine)
	}
	return d, nil
}

// dealShares deals engine keys for members and returns each member's blob.
func dealShares(d interfaces.KeyDealer, members []interfaces.StarID, faulty int, rnd io.Reader) (map[interfaces.StarID][]byte, error) {
	sorted := slices.Clone(members)
	slices.SortFunc(sorted, interfaces.CompareStars)
	blobs, err := d.DealKeys(sorted, faulty, rnd)
	if err != nil {
		return nil, err
	}
	if len(blobs) != len(sorted) {
		return nil, fmt.Errorf("dealer returned %d shares for %d members", len(blobs), len(sorted))
	}
	out := map[interfaces.StarID][]byte{}
	for i, m := range sorted {
		out[m] = blobs[i]
	}
	return out, nil
}

func keygenCluster(c *cli.Context) error {
	n, engine, dir := c.Int("cluster"), c.String("engine"), c.String("out-dir")
	d, err := dealer(engine)
	if err != nil {
		return err
	}
	stars := make([]interfaces.StarID, n)
	starKeys := make([][]byte, n)
	for i := range n {
		key, err := keys.Generate(nil)
		if err != nil {
			return err
		}
		stars[i], starKeys[i] = keys.Star(key), key
	}
	shares, err := dealShares(d, stars, c.Int("faulty"), rand.Reader)
	if err != nil {
		return err
	}
	for i := range n {
		name := fmt.Sprintf("star-%d", i+1)
		if err := keys.Save(filepath.Join(dir, name+".key"), starKeys[i]); err != nil {
			return err
		}
		share := keys.ClusterShare{Engine: engine, Member: stars[i], Keys: shares[stars[i]]}
		if err := keys.SaveClusterShare(filepath.Join(dir, name+".cluster.key"), share, false); err != nil {
			return err
		}
		fmt.Fprintf(c.App.Writer, "node %q {\n  key_file         = %q\n  cluster_key_file = %q\n  star             = %q\n}\n",
			name, filepath.Join(dir, name+".key"), filepath.Join(dir, name+".cluster.key"), stars[i])
	}
	fmt.Fprintf(c.App.ErrWriter, "dealt %s keys for %d members into %s (add listen, roles and the rest to each node block)\n", engine, n, dir)
	return nil
}

// keygenManifest deals every group of a hierarchical manifest.
func keygenManifest(c *cli.Context) error {
	m, base, err := loadManifest(c, c.String("manifest"), "")
	if err != nil {
		return err
	}
	if base == "" {
		base = m.Dir
	}
	if !m.HasGalaxy() {
		return fmt.Errorf("%s has no galaxy; deal a single cluster with --cluster N", m.Filename)
	}
	if !m.Network.Dev {
		return fmt.Errorf("network %q is no development network: a dealer would see every group's secret, so its members make the keys together with no dealer: constellation keygen ceremony --help (or mark a network for development with dev = true)", m.Network.Name)
	}
	cat, err := newCatalog(externalLoader(logger(c, "keygen"), true))
	if err != nil {
		return err
	}
	set, diags := cat.Open(m)
	if diags.HasErrors() {
		return reportDiagnostics(c, m, m.Filename, diags)
	}
	defer set.Close()
	tk, err := dealTiers(c, m, set, base, true)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "genesis file: %s\n", tk.genesis)
	return nil
}
