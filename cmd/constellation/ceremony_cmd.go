package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/constellation-chain/constellation/framework/keygen"
	"github.com/constellation-chain/constellation/framework/keys"
	"github.com/constellation-chain/constellation/framework/manifest"
	"github.com/constellation-chain/constellation/framework/node"
	"github.com/constellation-chain/constellation/interfaces"
)

// ceremonyCommand is `constellation keygen ceremony`: every group's
// genesis keys made by its members together, with no dealer
// (framework/keygen/ceremony.go).
func ceremonyCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "manifest", Aliases: []string{"m"}, Usage: "the network's manifest FILE (its groups: each cluster's delegates and the galaxy's members)", Required: true},
		&cli.StringFlag{Name: "node", Aliases: []string{"n"}, Usage: "the manifest's node whose star key signs (this machine's)", Required: true},
		&cli.StringFlag{Name: "dir", Usage: "the ceremony's shared directory: every member's files go there, one subdirectory per group", Value: "ceremony"},
	}
	return &cli.Command{
		Name:  "ceremony",
		Usage: "make the network's genesis group keys with the members, with no trusted dealer",
		Description: `A genesis ceremony makes every group's threshold keys (each cluster's
delegates, the galaxy's members) by a distributed key generation among its
members, so that no one, ever, knows a group's secret. Each member runs three
steps on its own machine, with its own star key; the files they write go into
one shared directory (copy them by any means: they are signed, and hold no
secret that is not encrypted to its member):

   constellation keygen ceremony deal   --manifest net.hcl --node star-1 --dir ceremony
   # ... once every member dealt:
   constellation keygen ceremony answer --manifest net.hcl --node star-1 --dir ceremony
   # ... once every member answered (a silent member is tolerated, up to f):
   constellation keygen ceremony finish --manifest net.hcl --node star-1 --dir ceremony

finish folds every group's files in one canonical order, writes this node's
share of each group it belongs to (where the manifest says, as keygen
--manifest would), and the genesis file (every group's members and public key)
beside the node's key file, and prints each group's key and transcript digest.
The members compare the digests: equal digests mean equal keys. A member
shown other files gets another key, and its node then refuses a genesis file
the others made. With fewer than f+1 good dealings a group's ceremony fails:
deal again into a new directory.

The manifest names every member's star ('star = "ed25519:..."' in its node
block) or its key file must be on this machine.`,
		Subcommands: []*cli.Command{
			{Name: "deal", Usage: "write this member's dealing for each group it belongs to", Flags: flags, Action: func(c *cli.Context) error { return ceremonyStep(c, "deal") }},
			{Name: "answer", Usage: "answer every dealing in the directory (acknowledge, or complain of a bad share)", Flags: flags, Action: func(c *cli.Context) error { return ceremonyStep(c, "answer") }},
			{Name: "finish", Usage: "fold every group's files into its key; write this member's shares and the genesis file", Flags: flags, Action: func(c *cli.Context) error { return ceremonyStep(c, "finish") }},
		},
	}
}

// ceremonyFile is a file of a ceremony: signed key-generation transactions.
type ceremonyFile struct {
	Txs []string `json:"txs"` // canonical transaction encodings, hex
}

// ceremonyGroup is one group of the manifest in a ceremony.
type ceremonyGroup struct {
	name, tier, dir string
	session         keygen.Session
	self            int // this node's index, -1 when not a member
	node            *manifest.Node
}

func ceremonyStep(c *cli.Context, step string) error {
	m, base, err := loadManifest(c, c.String("manifest"), "")
	if err != nil {
		return err
	}
	if base == "" {
		base = m.Dir
	}
	if !m.HasGalaxy() {
		return fmt.Errorf("%s has no galaxy: a ceremony makes a hierarchical network's group keys", m.Filename)
	}
	mn, ok := m.Node(c.String("node"))
	if !ok {
		return fmt.Errorf("manifest %s has no node %q", m.Filename, c.String("node"))
	}
	key, err := node.LoadKey(mn, base, false)
	if err != nil {
		return err
	}
	cat, err := newCatalog(externalLoader(logger(c, "ceremony"), true))
	if err != nil {
		return err
	}
	set, diags := cat.Open(m)
	if diags.HasErrors() {
		return reportDiagnostics(c, m, m.Filename, diags)
	}
	defer set.Close()
	cons := set.One(interfaces.KindConsensus)
	gen, ok := cons.Plugin.(interfaces.KeyGenerator)
	if !ok {
		return fmt.Errorf("consensus %s cannot generate keys without a dealer", cons.Info.Name)
	}
	var groups []ceremonyGroup
	for _, g := range tierGroups(m) {
		cg := ceremonyGroup{name: g.name, tier: g.tier, dir: filepath.Join(c.String("dir"), strings.ReplaceAll(g.name, "/", "-")), self: -1}
		var members []interfaces.StarID
		for _, gn := range g.nodes {
			star := gn.Star
			if star.IsZero() {
				k, err := node.LoadKey(gn, base, false)
				if err != nil {
					return fmt.Errorf("%s: member %s: name its star in the manifest (star = \"ed25519:...\") or put its key file here: %w", g.name, gn.Name, err)
				}
				star = keys.Star(k)
			}
			members = append(members, star)
		}
		slices.SortFunc(members, interfaces.CompareStars)
		cg.session = keygen.Session{Network: m.Network.Genesis.Seed, Group: g.name, Round: keygen.CeremonyRound, Members: members}
		cg.self = cg.session.Index(keys.Star(key))
		cg.node = mn
		groups = append(groups, cg)
	}
	w := c.App.Writer
	switch step {
	case "deal", "answer":
		n := 0
		for _, g := range groups {
			if g.self < 0 {
				continue
			}
			n++
			if err := os.MkdirAll(g.dir, 0o700); err != nil {
				return err
			}
			path := filepath.Join(g.dir, step+"-"+mn.Name+".json")
			if _, err := os.Stat(path); err == nil {
				return fmt.Errorf("%s exists: this member already did this step for %s (a second, different dealing would disqualify it)", path, g.name)
			}
			var txs []*interfaces.Transaction
			if step == "deal" {
				st, err := keygen.New(g.session, gen, 0, 1)
				if err != nil {
					return err
				}
				msg, err := st.DealMessage(g.self, key, rand.Reader)
				if err != nil {
					return fmt.Errorf("%s: deal: %w", g.name, err)
				}
				tx, err := keygen.Tx(key, 1, interfaces.ZeroHash, msg)
				if err != nil {
					return err
				}
				txs = append(txs, tx)
			} else {
				deals, err := readCeremony(g.dir, "deal-")
				if err != nil {
					return err
				}
				st, _, err := keygen.FoldOpen(g.session, gen, deals)
				if err != nil {
					return fmt.Errorf("%s: %w", g.name, err)
				}
				seq, prev := uint64(1), interfaces.ZeroHash
				for _, d := range deals {
					if d.Sender == keys.Star(key) {
						prev = d.ID()
					}
				}
				for dealer := range g.session.Members {
					if _, _, ok := st.Dealing(dealer); !ok {
						continue
					}
					msg, err := st.AnswerMessage(g.self, dealer, key)
					if err != nil {
						return fmt.Errorf("%s: answer dealer %d: %w", g.name, dealer, err)
					}
					seq++
					tx, err := keygen.Tx(key, seq, prev, msg)
					if err != nil {
						return err
					}
					prev = tx.ID()
					txs = append(txs, tx)
				}
				if len(txs) == 0 {
					return fmt.Errorf("%s: no dealing in %s to answer yet", g.name, g.dir)
				}
			}
			if err := writeCeremony(path, txs); err != nil {
				return err
			}
			fmt.Fprintf(w, "%s: wrote %s (%d message(s))\n", g.name, path, len(txs))
		}
		if n == 0 {
			return fmt.Errorf("node %s is a member of no group of %s", mn.Name, m.Filename)
		}
		return nil
	}
	// finish: every group's transcript, this member's shares, the genesis file.
	gf := &keys.GenesisFile{Network: m.Network.Name, Seed: m.Network.Genesis.Seed, Engine: cons.Info.Name}
	type share struct {
		path string
		s    keys.ClusterShare
	}
	var shares []share
	for _, g := range groups {
		txs, err := readCeremony(g.dir, "")
		if err != nil {
			return err
		}
		if len(txs) == 0 {
			return fmt.Errorf("%s holds no file of %s: every group's members deal and answer before anyone finishes", g.dir, g.name)
		}
		st, digest, err := keygen.FoldCeremony(g.session, gen, txs)
		if err != nil {
			return fmt.Errorf("%s: %w", g.name, err)
		}
		if !st.Done() {
			return fmt.Errorf("%s: %w (%d members, f = %d); deal again into a new --dir", g.name, keygen.ErrCeremonyFailed, len(g.session.Members), g.session.F())
		}
		gf.SetGroup(g.name, g.session.Members, st.GroupKey())
		fmt.Fprintf(w, "%s: key %s…, %d qualified dealings, transcript %s (compare with the other members)\n", g.name, hex.EncodeToString(st.GroupKey())[:16], len(st.Qualified()), digest)
		if g.self >= 0 {
			k, err := st.Keys(g.self, key)
			if err != nil {
				return fmt.Errorf("%s: assemble this member's keys: %w", g.name, err)
			}
			shares = append(shares, share{path: node.ShareFile(mn, base, g.tier), s: keys.ClusterShare{Engine: cons.Info.Name, Member: keys.Star(key), Keys: k}})
		}
	}
	for _, sh := range shares {
		if err := keys.SaveClusterShare(sh.path, sh.s, false); err != nil {
			return fmt.Errorf("%w (a share from an earlier ceremony? move it away first)", err)
		}
		fmt.Fprintf(w, "wrote %s\n", sh.path)
	}
	path := node.GenesisFilePath(mn, base)
	if old, err := keys.LoadGenesisFile(path); err == nil && !sameGenesis(old, gf) {
		return fmt.Errorf("%s exists and names other group keys; move it away to write this ceremony's", path)
	}
	if err := gf.Save(path); err != nil {
		return err
	}
	fmt.Fprintf(w, "genesis file: %s\n", path)
	return nil
}

// readCeremony reads the transactions of the ceremony files in dir whose
// names start with prefix.
func readCeremony(dir, prefix string) ([]*interfaces.Transaction, error) {
	names, err := filepath.Glob(filepath.Join(dir, prefix+"*.json"))
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	var out []*interfaces.Transaction
	for _, name := range names {
		raw, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		txs, err := decodeCeremonyFile(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, txs...)
	}
	return out, nil
}

// maxCeremonyFile bounds a ceremony file (a dealing for the largest group
// is far smaller).
const maxCeremonyFile = 64 << 20

// decodeCeremonyFile decodes a ceremony file's transactions.
func decodeCeremonyFile(raw []byte) ([]*interfaces.Transaction, error) {
	if len(raw) > maxCeremonyFile {
		return nil, fmt.Errorf("not a ceremony file: %d bytes, at most %d", len(raw), maxCeremonyFile)
	}
	var f ceremonyFile
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("not a ceremony file: %w", err)
	}
	if dec.More() {
		return nil, errors.New("not a ceremony file: more after the JSON object")
	}
	var out []*interfaces.Transaction
	for i, h := range f.Txs {
		b, err := hex.DecodeString(h)
		if err != nil {
			return nil, fmt.Errorf("txs[%d] is not hex", i)
		}
		tx, err := interfaces.DecodeTransaction(b)
		if err != nil {
			return nil, fmt.Errorf("txs[%d]: %w", i, err)
		}
		out = append(out, tx)
	}
	return out, nil
}

func writeCeremony(path string, txs []*interfaces.Transaction) error {
	var f ceremonyFile
	for _, tx := range txs {
		f.Txs = append(f.Txs, hex.EncodeToString(tx.Encode()))
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	fh, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := fh.Write(append(b, '\n')); err != nil {
		fh.Close()
		return err
	}
	if err := fh.Sync(); err != nil {
		fh.Close()
		return errors.Join(err, os.Remove(path))
	}
	return fh.Close()
}
