package main

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/constellation-chain/constellation/framework/api"
	"github.com/constellation-chain/constellation/framework/keys"
	"github.com/constellation-chain/constellation/interfaces"
)

func walletCommand() *cli.Command {
	keystoreFlag := &cli.StringFlag{Name: "keystore", Aliases: []string{"k"}, Usage: "the wallet's keystore `FILE`", EnvVars: []string{"CONSTELLATION_KEYSTORE"}}
	passFlag := &cli.IntFlag{Name: "passphrase-fd", Usage: "read the passphrase's first line from file descriptor `N` instead of asking at the terminal (never give a passphrase as a flag value)", DefaultText: "ask at the terminal"}
	apiFlag := &cli.StringFlag{Name: "api", Usage: "`HOST:PORT` of a node's API (default: the first node of the manifest with an api address)"}
	manifestFlag := &cli.StringFlag{Name: "manifest", Aliases: []string{"m"}, Usage: "the network's manifest `FILE`, whose nodes the wallet asks (default: the embedded default manifest, the nodes constellation testnet runs)"}
	starFlag := &cli.StringFlag{Name: "star", Usage: "the account `STAR` to read instead of the keystore's: ed25519:<64 hex digits>, dev:NAME, or another keystore file"}
	netFlags := []cli.Flag{apiFlag, manifestFlag}
	usage := func(c *cli.Context, err error, _ bool) error {
		return cli.Exit(fmt.Sprintf("%v (see %s --help)", err, helpName(c)), 2)
	}
	return &cli.Command{
		Name:         "wallet",
		OnUsageError: usage,
		Usage:        "keep a star key in an encrypted keystore; read its balance and history; send noOs",
		Description: `A wallet is one star key in a keystore file, encrypted under a passphrase
(Argon2id and XChaCha20-Poly1305; docs/wallet.md describes the format). The
passphrase is asked at the terminal with echo off, or read from a file
descriptor with --passphrase-fd N; it is never a flag value. The keystore
keeps the star id in clear, so balance and history ask for no passphrase.

   constellation wallet new     --keystore alice.json
   constellation wallet import  --keystore node.json --key-file data/testnet/keys/star-1.key
   constellation wallet balance --keystore alice.json
   constellation wallet send    --keystore alice.json --to ed25519:… --amount 1000
   constellation wallet history --keystore alice.json

balance, send and history talk to a node's API: --api HOST:PORT, else the
nodes of --manifest FILE (by default the embedded default manifest, which
is what constellation testnet runs). In a network of several clusters each
account lives in one; a node of another answers 421 and the wallet asks the
manifest's other nodes until the one that keeps the account answers, and
says which cluster that was. CONSTELLATION_KEYSTORE sets --keystore.`,
		Subcommands: []*cli.Command{
			{
				Name:      "new",
				Usage:     "create a new star key in a new keystore and print its star id",
				ArgsUsage: " ",
				Description: `Makes a new ed25519 star key and seals it in a new keystore file (mode
0600) under a passphrase asked twice at the terminal (or read once from
--passphrase-fd). An existing file is never overwritten. Prints the star
id on stdout.

   constellation wallet new --keystore alice.json
   constellation wallet new --keystore alice.json --passphrase-fd 3 3<pass.txt`,
				Flags:        []cli.Flag{keystoreFlag, passFlag},
				OnUsageError: usage,
				Action:       walletNew,
			},
			{
				Name:      "import",
				Usage:     "seal an existing star key (a node's key file, or a hex seed) in a new keystore",
				ArgsUsage: " ",
				Description: `Writes a new keystore (mode 0600, never overwriting) for an existing key:
a node key file (the JSON of constellation keygen, framework/keys) with
--key-file, or a 32-byte ed25519 seed as 64 hex digits on the first line of
file descriptor N with --seed-fd N (0 is stdin; at a terminal it is asked
with echo off). --dev NAME imports the development key of dev:NAME (the
genesis faucet of a development network is dev:faucet); anyone can derive
it from its name. Prints the star id.

   constellation wallet import --keystore star-1.json --key-file data/testnet/keys/star-1.key
   echo "$SEED_HEX" | constellation wallet import --keystore w.json --seed-fd 0
   constellation wallet import --keystore faucet.json --dev faucet`,
				Flags: []cli.Flag{keystoreFlag, passFlag,
					&cli.StringFlag{Name: "key-file", Usage: "a node key `FILE` to import"},
					&cli.IntFlag{Name: "seed-fd", Usage: "read a hex ed25519 seed from file descriptor `N` (0: stdin)", DefaultText: "none"},
					&cli.StringFlag{Name: "dev", Usage: "the development key of dev:`NAME` (e.g. faucet), which anyone can derive: for development networks only"},
				},
				OnUsageError: usage,
				Action:       walletImport,
			},
			{
				Name:      "balance",
				Usage:     "show the account's balance and chain head, and which cluster keeps it",
				ArgsUsage: " ",
				Description: `Reads GET /v1/accounts/{star} from the node that keeps the account,
following 421 answers to the right cluster. Needs no passphrase.

   constellation wallet balance --keystore alice.json
   constellation wallet balance --star dev:faucet --api 127.0.0.1:8001
   constellation wallet balance --keystore alice.json --manifest my-net.hcl`,
				Flags:        append([]cli.Flag{keystoreFlag, starFlag}, netFlags...),
				OnUsageError: usage,
				Action:       walletBalance,
			},
			{
				Name:      "send",
				Usage:     "sign a transfer, submit it, and wait until it is final",
				ArgsUsage: " ",
				Description: `Signs a transfer of --amount noOs to --to with the keystore's key (its
next sequence number and previous transaction from the account's node),
submits it to the node that keeps the account, and follows it:

   pooled     the node's pool took it
   committed  a block of the account's cluster holds it
   finalized  a black hole of the galaxy includes that block (a network of
              one cluster has no galaxy: there a committed block is final)

It waits at most --wait (0: submit and return). A transfer to an account
of another cluster is credited there once its block is final.

   constellation wallet send --keystore alice.json --to ed25519:… --amount 1000
   constellation wallet send --keystore alice.json --to bob.json --amount 5 --wait 2m`,
				Flags: append([]cli.Flag{keystoreFlag, passFlag,
					&cli.StringFlag{Name: "to", Usage: "the recipient `STAR`: ed25519:<64 hex digits>, dev:NAME, or a keystore file"},
					&cli.Uint64Flag{Name: "amount", Usage: "`N` whole noOs to send (at least 1)", DefaultText: "none"},
					&cli.DurationFlag{Name: "wait", Usage: "how long (a `DURATION` such as 90s) to wait for finality; 0 does not wait", Value: 60 * time.Second},
				}, netFlags...),
				OnUsageError: usage,
				Action:       walletSend,
			},
			{
				Name:      "history",
				Usage:     "list the transactions of the account's own chain, newest first",
				ArgsUsage: " ",
				Description: `Lists the transactions the account signed (its chain, GET
/v1/accounts/{star}/chain), newest first, a page of --limit at a time;
--all follows the pages to the first. Transfers it received are in the
senders' chains, and show in its balance. Needs no passphrase.

   constellation wallet history --keystore alice.json
   constellation wallet history --keystore alice.json --limit 50 --all`,
				Flags: append([]cli.Flag{keystoreFlag, starFlag,
					&cli.IntFlag{Name: "limit", Usage: "`N` transactions a page, 1 to 200", Value: api.DefaultChainLimit},
					&cli.StringFlag{Name: "from", Usage: "start at this transaction `ID` instead of the head (what the previous page's last line says)"},
					&cli.BoolFlag{Name: "all", Usage: "follow every page down to the chain's first transaction"},
				}, netFlags...),
				OnUsageError: usage,
				Action:       walletHistory,
			},
		},
	}
}

// walletUsage is a usage error: exit code 2.
func walletUsage(c *cli.Context, format string, args ...any) error {
	return cli.Exit(fmt.Sprintf(format, args...)+fmt.Sprintf(" (see %s --help)", helpName(c)), 2)
}

// helpName is the command's full name, "constellation wallet send".
func helpName(c *cli.Context) string {
	if c.Command != nil && c.Command.HelpName != "" {
		return c.Command.HelpName
	}
	return "constellation wallet"
}

func noArgs(c *cli.Context) error {
	if c.NArg() != 0 {
		return walletUsage(c, "wallet %s takes no arguments, got %q", c.Command.Name, c.Args().Slice())
	}
	return nil
}

func keystorePath(c *cli.Context) (string, error) {
	p := c.String("keystore")
	if p == "" {
		return "", walletUsage(c, "give the keystore with --keystore FILE (or CONSTELLATION_KEYSTORE)")
	}
	return p, nil
}

func walletNew(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	path, err := keystorePath(c)
	if err != nil {
		return err
	}
	key, err := keys.Generate(nil)
	if err != nil {
		return err
	}
	return sealAndSave(c, path, key)
}

func walletImport(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	path, err := keystorePath(c)
	if err != nil {
		return err
	}
	var key ed25519.PrivateKey
	sources := 0
	for _, f := range []string{"key-file", "seed-fd", "dev"} {
		if c.IsSet(f) {
			sources++
		}
	}
	switch {
	case sources > 1:
		return walletUsage(c, "give one of --key-file FILE, --seed-fd N and --dev NAME")
	case c.IsSet("dev"):
		if c.String("dev") == "" || strings.HasPrefix(c.String("dev"), "dev:") {
			return walletUsage(c, "--dev %q: give the name after dev:, e.g. --dev faucet", c.String("dev"))
		}
		key = interfaces.DevKey(c.String("dev"))
		fmt.Fprintf(c.App.ErrWriter, "dev:%s is a development key: anyone can derive it from its name; use it on development networks only\n", c.String("dev"))
	case c.IsSet("seed-fd") && c.IsSet("passphrase-fd") && c.Int("seed-fd") == c.Int("passphrase-fd"):
		return walletUsage(c, "--seed-fd and --passphrase-fd are both %d; give the seed and the passphrase on different descriptors", c.Int("seed-fd"))
	case c.IsSet("key-file"):
		if err := checkNewKeystore(path); err != nil {
			return err
		}
		if key, err = keys.Load(c.String("key-file")); err != nil {
			return err
		}
	case c.IsSet("seed-fd"):
		if err := checkNewKeystore(path); err != nil {
			return err
		}
		line, err := secretFromFD(c, "seed-fd", "ed25519 seed (64 hex digits): ")
		if err != nil {
			return err
		}
		text := strings.TrimSpace(string(line))
		clear(line)
		seed, err := hex.DecodeString(text)
		if err != nil || len(seed) != ed25519.SeedSize {
			return fmt.Errorf("--seed-fd %d: want a 32-byte ed25519 seed as 64 hex digits on the first line, got %d characters", c.Int("seed-fd"), len(text))
		}
		key = ed25519.NewKeyFromSeed(seed)
		clear(seed)
	default:
		return walletUsage(c, "give the key to import: --key-file FILE (a node key file), --seed-fd N (a hex seed on descriptor N; 0 is stdin) or --dev NAME")
	}
	return sealAndSave(c, path, key)
}

// sealAndSave asks for a new passphrase and writes key's keystore.
func sealAndSave(c *cli.Context, path string, key ed25519.PrivateKey) error {
	if err := checkNewKeystore(path); err != nil {
		return err
	}
	pass, err := passphrase(c, "New passphrase for "+path+": ", true)
	if err != nil {
		return err
	}
	defer clear(pass)
	ks, err := SealKeystore(key, pass, defaultKDF, nil)
	if err != nil {
		return err
	}
	if err := SaveKeystore(path, ks); err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer, ks.Star)
	fmt.Fprintf(c.App.ErrWriter, "wrote %s\n", path)
	return nil
}

// starText parses a star as --to and --star take it: a full id, a
// development name, or a keystore file.
func starText(c *cli.Context, flag, text string) (interfaces.StarID, error) {
	if name, ok := strings.CutPrefix(text, "dev:"); ok && name != "" {
		return interfaces.DevStar(name), nil
	}
	if strings.HasPrefix(text, "ed25519:") {
		s, err := interfaces.ParseStarID(text)
		if err != nil {
			return s, walletUsage(c, "--%s: %v", flag, err)
		}
		return s, nil
	}
	if _, err := os.Stat(text); err == nil {
		ks, err := LoadKeystore(text, nil)
		if err != nil {
			return interfaces.StarID{}, fmt.Errorf("--%s: %w", flag, err)
		}
		return ks.Star, nil
	}
	return interfaces.StarID{}, walletUsage(c, "--%s %q: want ed25519:<64 hex digits>, dev:NAME or a keystore file (no such file)", flag, text)
}

// accountStar is the star balance and history read: --star, else the
// keystore's.
func accountStar(c *cli.Context) (interfaces.StarID, error) {
	if c.IsSet("star") && c.IsSet("keystore") {
		return interfaces.StarID{}, walletUsage(c, "give --keystore FILE or --star STAR, not both")
	}
	if c.IsSet("star") {
		return starText(c, "star", c.String("star"))
	}
	path, err := keystorePath(c)
	if err != nil {
		return interfaces.StarID{}, walletUsage(c, "give the account with --keystore FILE (or CONSTELLATION_KEYSTORE) or --star STAR")
	}
	ks, err := LoadKeystore(path, c.App.ErrWriter)
	if err != nil {
		return interfaces.StarID{}, err
	}
	return ks.Star, nil
}

func walletBalance(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	star, err := accountStar(c)
	if err != nil {
		return err
	}
	w, err := newWalletNet(c.String("api"), c.String("manifest"))
	if err != nil {
		return cli.Exit(err.Error(), 2)
	}
	ctx, cancel := context.WithTimeout(c.Context, time.Minute)
	defer cancel()
	loc, err := w.locate(ctx, star)
	if err != nil {
		return err
	}
	a := loc.account
	fmt.Fprintf(c.App.Writer, "%s\nbalance %d noOs, seq %d\n%s\n", star, a.Balance, a.Seq, loc.where())
	return nil
}

func walletSend(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	path, err := keystorePath(c)
	if err != nil {
		return err
	}
	if !c.IsSet("to") {
		return walletUsage(c, "give the recipient with --to STAR")
	}
	if c.Uint64("amount") == 0 {
		return walletUsage(c, "give --amount N, at least 1 noO")
	}
	if c.Duration("wait") < 0 {
		return walletUsage(c, "--wait %s: want 0 (do not wait) or more", c.Duration("wait"))
	}
	to, err := starText(c, "to", c.String("to"))
	if err != nil {
		return err
	}
	amount := c.Uint64("amount")
	w, err := newWalletNet(c.String("api"), c.String("manifest"))
	if err != nil {
		return cli.Exit(err.Error(), 2)
	}
	ks, err := LoadKeystore(path, c.App.ErrWriter)
	if err != nil {
		return err
	}
	pass, err := passphrase(c, "Passphrase for "+path+": ", false)
	if err != nil {
		return err
	}
	key, err := ks.Open(pass)
	clear(pass)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if to == ks.Star {
		return walletUsage(c, "--to is the keystore's own star %s", to)
	}
	ctx, cancel := context.WithTimeout(c.Context, c.Duration("wait")+30*time.Second)
	defer cancel()
	loc, err := w.locate(ctx, ks.Star)
	if err != nil {
		return err
	}
	a := loc.account
	if a.Balance < amount {
		return fmt.Errorf("balance of %s is %d noOs, less than --amount %d (%s)", ks.Star, a.Balance, amount, loc.where())
	}
	var prev interfaces.Hash
	if a.Seq > 0 {
		if prev, err = interfaces.ParseHash(a.Last); err != nil {
			return fmt.Errorf("%s answered a chain head %q: %w", loc.node, a.Last, err)
		}
	}
	tx, err := interfaces.NewTransfer(key, a.Seq+1, prev, to, amount)
	if err != nil {
		return err
	}
	out := c.App.Writer
	fmt.Fprintf(out, "send %d noOs from %s to %s\ntx %s (seq %d), account %s\n", amount, ks.Star, to, tx.ID(), tx.Seq, loc.where())
	p := &progress{w: out, start: time.Now()}
	if err := loc.node.cl.Submit(ctx, tx); err != nil {
		return fmt.Errorf("submit tx %s to %s: %w", tx.ID(), loc.node, err)
	}
	p.say("pooled: %s took it", loc.node)
	if c.Duration("wait") == 0 {
		return nil
	}
	return w.waitFinal(ctx, p, loc, tx, c.Duration("wait"))
}

func walletHistory(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	limit := c.Int("limit")
	if limit < 1 || limit > api.MaxChainLimit {
		return walletUsage(c, "--limit %d: want 1 to %d", limit, api.MaxChainLimit)
	}
	var from interfaces.Hash
	if c.IsSet("from") {
		h, err := interfaces.ParseHash(c.String("from"))
		if err != nil {
			return walletUsage(c, "--from: %v", err)
		}
		from = h
	}
	star, err := accountStar(c)
	if err != nil {
		return err
	}
	w, err := newWalletNet(c.String("api"), c.String("manifest"))
	if err != nil {
		return cli.Exit(err.Error(), 2)
	}
	ctx, cancel := context.WithTimeout(c.Context, 2*time.Minute)
	defer cancel()
	loc, err := w.locate(ctx, star)
	if err != nil {
		return err
	}
	out := c.App.Writer
	fmt.Fprintf(out, "%s: %d transactions, balance %d noOs (%s)\n", star, loc.account.Seq, loc.account.Balance, loc.where())
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tTX\tKIND\tTO\tAMOUNT\tBLOCK\tTIME")
	rows := 0
	for {
		page, err := loc.node.cl.Chain(ctx, star, from, limit)
		if err != nil {
			tw.Flush()
			var ae *api.Error
			if errors.As(err, &ae) && ae.Field == "from" {
				return walletUsage(c, "--from %s: %s", from, ae.Message)
			}
			return fmt.Errorf("read the chain of %s from %s: %w", star, loc.node, err)
		}
		for _, r := range page.Txs {
			to := r.To
			if to == "" {
				to = r.Counterparty
			}
			if to == "" {
				to = "-"
			}
			amount := "-"
			if r.Kind == interfaces.TxTransfer.String() || r.Amount > 0 {
				amount = fmt.Sprint(r.Amount)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s #%d\t%s\n", r.Seq, shortHex(r.ID), r.Kind, to, amount, r.Chain, r.Height,
				time.UnixMilli(r.Timestamp).UTC().Format(time.RFC3339))
			rows++
		}
		if page.Next == "" {
			break
		}
		next, err := interfaces.ParseHash(page.Next)
		if err != nil {
			tw.Flush()
			return fmt.Errorf("%s answered a next page %q: %w", loc.node, page.Next, err)
		}
		if !c.Bool("all") {
			tw.Flush()
			fmt.Fprintf(out, "more below: --from %s\n", next)
			return nil
		}
		from = next
	}
	tw.Flush()
	if rows == 0 {
		fmt.Fprintln(out, "(no transactions)")
	}
	return nil
}
