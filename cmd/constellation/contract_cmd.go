package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/constellation-chain/constellation/builtin/contracts"
	"github.com/constellation-chain/constellation/builtin/contracts/jvm"
	"github.com/constellation-chain/constellation/conformance"
	"github.com/constellation-chain/constellation/framework/api"
	"github.com/constellation-chain/constellation/framework/keys"
	"github.com/constellation-chain/constellation/interfaces"
	"github.com/constellation-chain/constellation/plugins/host"
)

func contractCommand() *cli.Command {
	signer := []cli.Flag{
		&cli.StringFlag{Name: "key", Usage: "the signer's key `FILE` (a key written by constellation keygen)"},
		&cli.StringFlag{Name: "dev", Usage: "sign with the development key of dev:`NAME` (e.g. faucet), which anyone can derive: development networks only"},
	}
	apiFlag := &cli.StringFlag{Name: "api", Usage: "`HOST:PORT` of a node of the contract's home cluster", Value: "127.0.0.1:8001"}
	wait := &cli.DurationFlag{Name: "wait", Usage: "how long to wait for the chain to commit the transaction", Value: time.Minute}
	return &cli.Command{
		Name:  "contract",
		Usage: "deploy, call, inspect and verify smart contracts",
		Description: `A contract is a program that runs as its own process on each of its hosts
(docs/contracts.md). Its deploy notarizes its code hash, typed interface,
hosts and endorsement threshold; a call is executed by the hosts, who
co-sign the result (output, writes, read versions, events); the caller
submits the co-signed result and the ledger applies it only if the
co-signatures meet the threshold and every read version is still current.

   constellation contract deploy --dev alice --bundle ./vending-machine \
       --host ed25519:… --host ed25519:… --host ed25519:… --threshold 2
   constellation contract call --dev bob --endorser 127.0.0.1:8001 \
       --endorser 127.0.0.1:8002 --amount 3 CONTRACT buy cola
   constellation contract inspect CONTRACT stock/cola
   constellation contract verify CALL-TX-ID --bundle ./vending-machine`,
		Subcommands: []*cli.Command{
			{
				Name:      "deploy",
				Usage:     "notarize a contract on chain",
				ArgsUsage: " ",
				Description: `Signs and submits a deploy transaction. The bundle travels in the
transaction when it fits (jars usually do, up to 60 KiB); a Go binary does
not, so each host must find it in its local contracts directory (the
contracts runtime's bundle_dir, by default <data>/contracts), where the
host checks its sha256 before it starts it. The interface is asked of
the bundle itself for a Go contract (it is started once, locally);
give it with --method for a jvm one. A jar is checked for determinism
(builtin/contracts/jvm) before anything is signed: a jar that reads the
clock, for one, is refused with the class, method and instruction named.
Prints the contract's star.`,
				Flags: append([]cli.Flag{
					apiFlag, wait,
					&cli.StringFlag{Name: "bundle", Usage: "the contract's bundle `FILE` (a Go binary or a jar)", Required: true},
					&cli.StringFlag{Name: "runtime", Usage: "go or jvm", Value: "go"},
					&cli.StringFlag{Name: "name", Usage: "a name for people"},
					&cli.StringSliceFlag{Name: "host", Usage: "a host's `STAR` (repeat for each host)", Required: true},
					&cli.IntFlag{Name: "threshold", Usage: "co-signatures a call needs (default: a majority of the hosts)"},
					&cli.StringSliceFlag{Name: "method", Usage: "a method `NAME:INPUT:OUTPUT` of the interface (repeat; default: ask the Go bundle)"},
				}, signer...),
				Action: contractDeploy,
			},
			{
				Name:      "call",
				Usage:     "execute a call on the hosts, collect co-signatures, submit it",
				ArgsUsage: "CONTRACT METHOD [INPUT]",
				Description: `Asks each --endorser (a host's node API) to execute the call against the
state at the current height and co-sign the result, until the contract's
threshold of matching results is reached; then signs and submits the call
with them and waits for the chain to commit it. INPUT is the method's
input as text (a u64 in decimal, a JSON value for a json type). A host
that refuses (the contract failed the call, or it ran past the host's
bound) co-signs nothing; its reason is printed.`,
				Flags: append([]cli.Flag{
					apiFlag, wait,
					&cli.StringSliceFlag{Name: "endorser", Usage: "`HOST:PORT` of a host's node API (repeat; default: --api)"},
					&cli.Uint64Flag{Name: "amount", Usage: "noOs the call pays the contract's account"},
				}, signer...),
				Action: contractCall,
			},
			{
				Name:      "compose",
				Usage:     "deploy a composite: contracts whose outputs feed the next one's input",
				ArgsUsage: " ",
				Description: `Signs and submits the deploy of a composite, a typed pipeline of
contracts deployed already: --leg CONTRACT.METHOD, in order, each leg's
output feeding the next leg's input. The chain type-checks it: an
ill-typed pair is refused with both types named. A call of the composite
(contract call COMPOSITE INPUT) is executed leg by leg by each leg's hosts
and applied atomically: every leg's writes, or none.`,
				Flags: append([]cli.Flag{
					apiFlag, wait,
					&cli.StringSliceFlag{Name: "leg", Usage: "a leg `CONTRACT.METHOD` (repeat, in order; two or more)", Required: true},
					&cli.StringFlag{Name: "name", Usage: "a name for people"},
				}, signer...),
				Action: contractCompose,
			},
			{
				Name:      "inspect",
				Usage:     "show a contract and keys of its state",
				ArgsUsage: "CONTRACT [KEY...]",
				Flags:     []cli.Flag{apiFlag},
				Action:    contractInspect,
			},
			{
				Name:      "verify",
				Usage:     "re-execute a committed call and report whether its result matches",
				ArgsUsage: "CALL-TX-ID",
				Description: `Fetches the committed call, rebuilds the state it read from the blocks
that wrote each key at the version it names, runs the contract locally
(its bundle from the deploy, or --bundle) and compares the result with the
co-signed one, byte for byte. Exit 0 when they match, 1 with the
difference when they do not (the co-signers signed a wrong result).`,
				Flags: []cli.Flag{
					apiFlag,
					&cli.StringFlag{Name: "bundle", Usage: "the contract's bundle `FILE`, when its deploy did not carry it"},
					&cli.StringSliceFlag{Name: "jvm-classpath", Usage: "the Java contract SDK's class path, for a jvm contract"},
				},
				Action: contractVerify,
			},
		},
	}
}

func signerKey(c *cli.Context) (ed25519.PrivateKey, error) {
	switch {
	case c.String("key") != "" && c.String("dev") != "":
		return nil, cli.Exit("give --key or --dev, not both", 2)
	case c.String("key") != "":
		return keys.Load(c.String("key"))
	case c.String("dev") != "":
		return interfaces.DevKey(c.String("dev")), nil
	}
	return nil, cli.Exit("give the signer with --key FILE or --dev NAME", 2)
}

func parseContract(s string) (interfaces.StarID, error) {
	if !strings.Contains(s, ":") {
		s = "ed25519:" + s
	}
	c, err := interfaces.ParseStarID(s)
	if err != nil {
		return c, cli.Exit(fmt.Sprintf("contract %q: %v", s, err), 2)
	}
	return c, nil
}

// waitCommitted polls the node until it holds transaction id.
func waitCommitted(ctx context.Context, cl *api.Client, id interfaces.Hash, d time.Duration) (api.TxRecord, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	for {
		rec, err := cl.Tx(ctx, id)
		if err == nil {
			return rec, nil
		}
		var ae *api.Error
		if !errors.As(err, &ae) || ae.Status != 404 {
			return rec, err
		}
		select {
		case <-ctx.Done():
			return rec, fmt.Errorf("transaction %s was not committed within %s (a call refused at commit, such as a stale read, is dropped: call again)", id, d)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func describeBundle(ctx context.Context, path string) (interfaces.ContractInterface, error) {
	sum, err := fileSHA256(path)
	if err != nil {
		return interfaces.ContractInterface{}, err
	}
	p, err := host.LoadContract(host.ContractOptions{Name: path, Command: func() *exec.Cmd { return exec.Command(path) }, SHA256: sum, AutoMTLS: true})
	if err != nil {
		return interfaces.ContractInterface{}, err
	}
	defer p.Close()
	return p.Describe(ctx)
}

func contractDeploy(c *cli.Context) error {
	if c.NArg() != 0 {
		return cli.Exit(fmt.Sprintf("contract deploy takes flags only, got %q", c.Args().Slice()), 2)
	}
	key, err := signerKey(c)
	if err != nil {
		return err
	}
	rk, err := interfaces.ParseContractRuntimeKind(c.String("runtime"))
	if err != nil {
		return cli.Exit("--runtime: "+err.Error(), 2)
	}
	bundle, err := os.ReadFile(c.String("bundle"))
	if err != nil {
		return err
	}
	if rk == interfaces.RuntimeJVM {
		// The hosts check it again before they start it; checking here
		// names the offending class and method before anything is signed.
		if err := jvm.Verify(bundle); err != nil {
			return fmt.Errorf("deploy %s: %w", c.String("bundle"), err)
		}
	}
	p := interfaces.DeployPayload{Runtime: rk, Name: c.String("name"), CodeHash: interfaces.Sum(bundle)}
	if len(bundle) <= interfaces.MaxBundleInTx {
		p.Bundle = bundle
	}
	for _, h := range c.StringSlice("host") {
		s, err := interfaces.ParseStarID(h)
		if err != nil {
			return cli.Exit(fmt.Sprintf("--host %q: %v", h, err), 2)
		}
		p.Hosts = append(p.Hosts, s)
	}
	sort.Slice(p.Hosts, func(i, j int) bool { return p.Hosts[i].Less(p.Hosts[j]) })
	p.Threshold = uint16(len(p.Hosts)/2 + 1)
	if t := c.Int("threshold"); t != 0 {
		if t < 0 || t > len(p.Hosts) {
			return cli.Exit(fmt.Sprintf("--threshold %d of %d hosts", t, len(p.Hosts)), 2)
		}
		p.Threshold = uint16(t)
	}
	if ms := c.StringSlice("method"); len(ms) > 0 {
		for _, m := range ms {
			f := strings.Split(m, ":")
			if len(f) != 3 {
				return cli.Exit(fmt.Sprintf("--method %q: want NAME:INPUT:OUTPUT", m), 2)
			}
			p.Interface.Methods = append(p.Interface.Methods, interfaces.MethodSig{Name: f[0], Input: f[1], Output: f[2]})
		}
		p.Interface = p.Interface.Normalize()
	} else if rk == interfaces.RuntimeGo {
		if p.Interface, err = describeBundle(c.Context, c.String("bundle")); err != nil {
			return fmt.Errorf("ask the bundle for its interface: %w", err)
		}
	} else {
		return cli.Exit("a jvm contract's interface is given with --method NAME:INPUT:OUTPUT", 2)
	}
	if err := p.Check(); err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	cl := api.NewClient(c.String("api"))
	star := keys.Star(key)
	acct, err := cl.Account(c.Context, star)
	if err != nil {
		return err
	}
	last, err := interfaces.ParseHash(acct.Last)
	if err != nil {
		last = interfaces.Hash{}
	}
	tx := &interfaces.Transaction{Sender: star, Seq: acct.Seq + 1, Prev: last, Kind: interfaces.TxDeploy, Payload: p.Encode()}
	if err := tx.Sign(key); err != nil {
		return err
	}
	if err := cl.Submit(c.Context, tx); err != nil {
		return err
	}
	contract := interfaces.ContractStar(star, tx.Seq)
	rec, err := waitCommitted(c.Context, cl, tx.ID(), c.Duration("wait"))
	if err != nil {
		return err
	}
	w := c.App.Writer
	fmt.Fprintf(w, "contract  %s\n", contract)
	fmt.Fprintf(w, "deploy    %s (height %d)\n", tx.ID(), rec.Height)
	fmt.Fprintf(w, "code hash %s (%s, %d bytes", p.CodeHash, rk, len(bundle))
	if len(p.Bundle) == 0 {
		fmt.Fprintf(w, "; not carried: copy it into each host's contracts directory")
	}
	fmt.Fprintf(w, ")\nhosts     %d, threshold %d\n", len(p.Hosts), p.Threshold)
	return nil
}

func contractCall(c *cli.Context) error {
	if c.NArg() < 2 || c.NArg() > 3 {
		return cli.Exit("contract call takes CONTRACT METHOD [INPUT]", 2)
	}
	key, err := signerKey(c)
	if err != nil {
		return err
	}
	contract, err := parseContract(c.Args().Get(0))
	if err != nil {
		return err
	}
	cl := api.NewClient(c.String("api"))
	info, err := cl.Contract(c.Context, contract)
	if err != nil {
		return err
	}
	if info.Runtime == "composite" {
		return compositeCall(c, cl, key, contract, info)
	}
	endorsers := callEndorsers(c)
	star := keys.Star(key)
	ctx, cancel := context.WithTimeout(c.Context, c.Duration("wait"))
	defer cancel()
	for attempt := 1; ; attempt++ {
		seq, last, height, err := callerHead(ctx, cl, star)
		if err != nil {
			return err
		}
		call := interfaces.Call{Contract: contract, Caller: star, Seq: seq + 1, Method: c.Args().Get(1), Input: []byte(c.Args().Get(2)), Amount: c.Uint64("amount"), Height: height}
		res, ens, err := collectEndorsements(ctx, c, endorsers, call, info.Threshold)
		if err != nil {
			if attempt < 5 && errors.Is(err, errRetry) {
				time.Sleep(300 * time.Millisecond)
				continue
			}
			return err
		}
		p := interfaces.CallPayload{Method: call.Method, Input: call.Input, Amount: call.Amount, Height: call.Height, Result: res, Endorsements: interfaces.SortEndorsements(ens)}
		tx := &interfaces.Transaction{Sender: star, Seq: call.Seq, Prev: last, Kind: interfaces.TxCall, Payload: p.Encode(), Counterparty: contract}
		if err := tx.Sign(key); err != nil {
			return err
		}
		if err := cl.Submit(ctx, tx); err != nil {
			return err
		}
		rec, err := waitCommitted(ctx, cl, tx.ID(), c.Duration("wait"))
		if err != nil {
			return err
		}
		fmt.Fprintf(c.App.Writer, "output %s\ncall   %s (height %d; executed at %d, %d co-signatures, %d writes, %d reads)\n", res.Output, tx.ID(), rec.Height, call.Height, len(ens), len(res.Writes), len(res.Reads))
		return nil
	}
}

var errRetry = errors.New("the hosts disagree or lag; retrying at the next height")

// collectEndorsements asks the endorsers in turn until threshold of them
// co-signed the same result.
func collectEndorsements(ctx context.Context, c *cli.Context, endorsers []string, call interfaces.Call, threshold int) (interfaces.CallResult, []interfaces.Endorsement, error) {
	byResult := map[string][]interfaces.Endorsement{}
	results := map[string]interfaces.CallResult{}
	var refusals []string
	retry := false
	for _, addr := range endorsers {
		out, err := api.NewClient(addr).Endorse(ctx, call)
		if err != nil {
			var ae *api.Error
			if errors.As(err, &ae) && ae.Status == 409 {
				retry = true
			}
			refusals = append(refusals, fmt.Sprintf("%s: %v", addr, err))
			continue
		}
		res, en, err := out.EndorsementOf()
		if err != nil {
			refusals = append(refusals, fmt.Sprintf("%s: %v", addr, err))
			continue
		}
		if !en.Verify(call, res) {
			refusals = append(refusals, fmt.Sprintf("%s: its co-signature does not verify", addr))
			continue
		}
		k := string(res.Encode())
		byResult[k] = append(byResult[k], en)
		results[k] = res
		if len(byResult[k]) >= threshold {
			return res, byResult[k], nil
		}
	}
	if len(byResult) > 1 || retry {
		return interfaces.CallResult{}, nil, fmt.Errorf("%w: %s", errRetry, strings.Join(refusals, "; "))
	}
	return interfaces.CallResult{}, nil, fmt.Errorf("call %s: fewer than %d hosts co-signed: %s", call.Method, threshold, strings.Join(refusals, "; "))
}

func contractInspect(c *cli.Context) error {
	if c.NArg() < 1 {
		return cli.Exit("contract inspect takes CONTRACT [KEY...]", 2)
	}
	contract, err := parseContract(c.Args().Get(0))
	if err != nil {
		return err
	}
	cl := api.NewClient(c.String("api"))
	info, err := cl.Contract(c.Context, contract)
	if err != nil {
		return err
	}
	w := c.App.Writer
	fmt.Fprintf(w, "contract  %s %q\nruntime   %s, code hash %s (bundle in deploy: %v)\ndeploy    %s\nbalance   %d noOs\nthreshold %d of %d hosts\n",
		info.Contract, info.Name, info.Runtime, info.CodeHash, info.Carried, info.Deploy, info.Balance, info.Threshold, len(info.Hosts))
	for _, h := range info.Hosts {
		fmt.Fprintf(w, "  host    %s\n", h)
	}
	for _, m := range info.Methods {
		fmt.Fprintf(w, "  method  %s(%s) %s\n", m.Name, m.Input, m.Output)
	}
	for _, k := range c.Args().Slice()[1:] {
		v, err := cl.ContractState(c.Context, contract, k)
		if err != nil {
			return err
		}
		if !v.Found {
			fmt.Fprintf(w, "  state   %s: (none) at version %d\n", k, v.Version)
			continue
		}
		fmt.Fprintf(w, "  state   %s = %q at version %d (head %d)\n", k, v.Text, v.Version, v.Height)
	}
	return nil
}

// replayChain serves the state a committed call read, rebuilt from the
// blocks that wrote it, and records any key read outside that set.
type replayChain struct {
	hash    interfaces.Hash
	ts      int64
	values  map[string]replayValue
	strayed []string
}

type replayValue struct {
	v   []byte
	ver uint64
	ok  bool
}

func (r *replayChain) Block(uint64) (interfaces.Hash, int64, error) { return r.hash, r.ts, nil }

func (r *replayChain) Value(_ uint64, key []byte) ([]byte, uint64, bool, error) {
	v, ok := r.values[string(key)]
	if !ok {
		r.strayed = append(r.strayed, fmt.Sprintf("%q", key))
		return nil, 0, false, nil
	}
	return v.v, v.ver, v.ok, nil
}

func fetchTx(ctx context.Context, cl *api.Client, id interfaces.Hash) (*interfaces.Transaction, api.TxRecord, error) {
	rec, err := cl.Tx(ctx, id)
	if err != nil {
		return nil, rec, err
	}
	raw, err := hex.DecodeString(rec.Tx)
	if err != nil {
		return nil, rec, err
	}
	tx, err := interfaces.DecodeTransaction(raw)
	return tx, rec, err
}

func contractVerify(c *cli.Context) error {
	if c.NArg() != 1 {
		return cli.Exit("contract verify takes CALL-TX-ID", 2)
	}
	id, err := interfaces.ParseHash(c.Args().Get(0))
	if err != nil {
		return cli.Exit(err.Error(), 2)
	}
	ctx := c.Context
	cl := api.NewClient(c.String("api"))
	tx, _, err := fetchTx(ctx, cl, id)
	if err != nil {
		return err
	}
	if tx.Kind != interfaces.TxCall {
		return fmt.Errorf("transaction %s is a %s, not a call", id.Short(), tx.Kind)
	}
	p, err := interfaces.DecodeCallPayload(tx.Payload)
	if err != nil {
		return err
	}
	info, err := cl.Contract(ctx, tx.Counterparty)
	if err != nil {
		return err
	}
	deployID, err := interfaces.ParseHash(info.Deploy)
	if err != nil {
		return err
	}
	dtx, _, err := fetchTx(ctx, cl, deployID)
	if err != nil {
		return err
	}
	d, err := interfaces.DecodeDeployPayload(dtx.Payload)
	if err != nil {
		return err
	}
	bundle := d.Bundle
	if f := c.String("bundle"); f != "" {
		if bundle, err = os.ReadFile(f); err != nil {
			return err
		}
	}
	if len(bundle) == 0 {
		return cli.Exit("the deploy does not carry the bundle: give it with --bundle FILE", 2)
	}
	// The state the call read: each key's value at the version it names,
	// taken from the last call of that block that wrote it.
	rc := &replayChain{values: map[string]replayValue{}}
	blocks := map[uint64][]*interfaces.Transaction{}
	for _, r := range p.Result.Reads {
		if r.Version == 0 {
			rc.values[string(r.Key)] = replayValue{}
			continue
		}
		txs, ok := blocks[r.Version]
		if !ok {
			b, err := cl.Block(ctx, r.Version)
			if err != nil {
				return err
			}
			for _, s := range b.Txs {
				h, err := interfaces.ParseHash(s)
				if err != nil {
					return err
				}
				t, _, err := fetchTx(ctx, cl, h)
				if err != nil {
					return err
				}
				txs = append(txs, t)
			}
			blocks[r.Version] = txs
		}
		found := false
		for _, t := range txs {
			if t.Kind != interfaces.TxCall || t.Counterparty != tx.Counterparty {
				continue
			}
			wp, err := interfaces.DecodeCallPayload(t.Payload)
			if err != nil {
				continue
			}
			for _, w := range wp.Result.Writes {
				if bytes.Equal(w.Key, r.Key) {
					rc.values[string(r.Key)] = replayValue{v: w.Value, ver: r.Version, ok: w.Value != nil}
					found = true
				}
			}
		}
		if !found {
			return fmt.Errorf("verify: the call read key %q at version %d, and no call of block %d wrote it: the read set itself is wrong", r.Key, r.Version, r.Version)
		}
	}
	hb, err := cl.Block(ctx, p.Height)
	if err != nil {
		return err
	}
	if rc.hash, err = interfaces.ParseHash(hb.Hash); err != nil {
		return err
	}
	rc.ts = hb.Timestamp
	dir, err := os.MkdirTemp("", "constellation-verify-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	rt, err := contracts.New(contracts.Config{Dir: dir, JVMClasspath: c.StringSlice("jvm-classpath")})
	if err != nil {
		return err
	}
	defer rt.Close()
	if err := rt.Deploy(ctx, interfaces.Deployment{Contract: tx.Counterparty, Deploy: d, Bundle: bundle}); err != nil {
		return err
	}
	call := p.Call(tx)
	got, err := rt.Execute(ctx, rc, call)
	w := c.App.Writer
	signers := make([]string, len(p.Endorsements))
	for i, en := range p.Endorsements {
		signers[i] = en.Host.String()
	}
	if err != nil {
		fmt.Fprintf(w, "MISMATCH: re-executing the call fails (%v), yet %s co-signed a result\n", err, strings.Join(signers, ", "))
		return cli.Exit("", 1)
	}
	if len(rc.strayed) > 0 {
		fmt.Fprintf(w, "MISMATCH: the contract reads %s, which the co-signed read set leaves out\n", strings.Join(rc.strayed, ", "))
		return cli.Exit("", 1)
	}
	if !bytes.Equal(got.Encode(), p.Result.Encode()) {
		fmt.Fprintf(w, "MISMATCH: re-executed output %q with %d writes; the co-signed result has output %q with %d writes; co-signed by %s\n",
			got.Output, len(got.Writes), p.Result.Output, len(p.Result.Writes), strings.Join(signers, ", "))
		return cli.Exit("", 1)
	}
	fmt.Fprintf(w, "OK: call %s re-executes to the co-signed result (output %q, %d writes, %d reads, %d events)\n", id.Short(), got.Output, len(got.Writes), len(got.Reads), len(got.Events))
	return nil
}

// runContractConformance starts a Go contract binary as a host would and
// runs the contract suite against it.
func runContractConformance(c *cli.Context) error {
	path := c.String("contract")
	var sum []byte
	if s := c.String("sha256"); s != "" {
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != 32 {
			return fmt.Errorf("--sha256 must be 64 hex digits")
		}
		sum = b
	}
	if sum == nil {
		if !c.Bool("dev") {
			return fmt.Errorf("%s: no sha256 checksum to check the binary against: pass --sha256 <digest> (from `sha256sum %s`), or --dev", path, path)
		}
		var err error
		if sum, err = fileSHA256(path); err != nil {
			return err
		}
	}
	p, err := host.LoadContract(host.ContractOptions{Name: path, Command: func() *exec.Cmd { return exec.Command(path) }, SHA256: sum, AutoMTLS: true, Logger: logger(c, "conformance")})
	if err != nil {
		return err
	}
	defer p.Close()
	r := &conformance.Runner{}
	r.Run("contract", func(t conformance.TB) { conformance.ContractSuite(t, p) })
	results := r.Results()
	if err := conformance.WriteTable(c.App.Writer, results); err != nil {
		return err
	}
	if f := c.String("junit"); f != "" {
		if err := writeReport(f, func(w *os.File) error { return conformance.WriteJUnit(w, "conformance/contract", results) }); err != nil {
			return err
		}
	}
	if r.Failed() {
		return exitError{1}
	}
	return nil
}

func parseLeg(s string) (interfaces.CompositeLeg, error) {
	i := strings.LastIndexByte(s, '.')
	if i <= 0 || i == len(s)-1 {
		return interfaces.CompositeLeg{}, cli.Exit(fmt.Sprintf("leg %q: want CONTRACT.METHOD", s), 2)
	}
	c, err := parseContract(s[:i])
	if err != nil {
		return interfaces.CompositeLeg{}, err
	}
	return interfaces.CompositeLeg{Contract: c, Method: s[i+1:]}, nil
}

func contractCompose(c *cli.Context) error {
	key, err := signerKey(c)
	if err != nil {
		return err
	}
	p := interfaces.CompositePayload{Name: c.String("name")}
	for _, l := range c.StringSlice("leg") {
		leg, err := parseLeg(l)
		if err != nil {
			return err
		}
		p.Legs = append(p.Legs, leg)
	}
	if _, err := interfaces.DecodeCompositePayload(p.Encode()); err != nil {
		return cli.Exit(err.Error(), 2)
	}
	cl := api.NewClient(c.String("api"))
	star := keys.Star(key)
	acct, err := cl.Account(c.Context, star)
	if err != nil {
		return err
	}
	last, _ := interfaces.ParseHash(acct.Last)
	tx := &interfaces.Transaction{Sender: star, Seq: acct.Seq + 1, Prev: last, Kind: interfaces.TxDeploy, Payload: p.Encode()}
	if err := tx.Sign(key); err != nil {
		return err
	}
	if err := cl.Submit(c.Context, tx); err != nil {
		return err
	}
	rec, err := waitCommitted(c.Context, cl, tx.ID(), c.Duration("wait"))
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "composite %s\ndeploy    %s (height %d)\nlegs      %d\n", interfaces.ContractStar(star, tx.Seq), tx.ID(), rec.Height, len(p.Legs))
	return nil
}

// compositeCall runs a composite's legs in order on their hosts, each
// leg's output the next one's input, and submits them as one call.
func compositeCall(c *cli.Context, cl *api.Client, key ed25519.PrivateKey, comp interfaces.StarID, info api.ContractInfo) error {
	var legs []interfaces.CompositeLeg
	for _, l := range info.Legs {
		leg, err := parseLeg(l)
		if err != nil {
			return err
		}
		legs = append(legs, leg)
	}
	endorsers := callEndorsers(c)
	star := keys.Star(key)
	ctx, cancel := context.WithTimeout(c.Context, c.Duration("wait"))
	defer cancel()
	for attempt := 1; ; attempt++ {
		seq, last, height, err := callerHead(ctx, cl, star)
		if err != nil {
			return err
		}
		tx := &interfaces.Transaction{Sender: star, Seq: seq + 1, Prev: last, Kind: interfaces.TxCall, Counterparty: comp}
		p := interfaces.CompositeCallPayload{Input: []byte(c.Args().Get(1)), Height: height, Legs: make([]interfaces.CompositeLegResult, len(legs))}
		if c.NArg() == 3 {
			p.Input = []byte(c.Args().Get(2))
		}
		retry := false
		for i, leg := range legs {
			li, err := cl.Contract(ctx, leg.Contract)
			if err != nil {
				return err
			}
			if i == 0 {
				p.Legs[0].Amount = c.Uint64("amount")
			}
			call := p.LegCall(tx, legs, i)
			res, ens, err := collectEndorsements(ctx, c, endorsers, call, li.Threshold)
			if err != nil {
				if attempt < 5 && errors.Is(err, errRetry) {
					retry = true
					break
				}
				return fmt.Errorf("leg %d (%s): %w", i, info.Legs[i], err)
			}
			p.Legs[i].Result, p.Legs[i].Endorsements = res, interfaces.SortEndorsements(ens)
		}
		if retry {
			time.Sleep(300 * time.Millisecond)
			continue
		}
		tx.Payload = p.Encode()
		if err := tx.Sign(key); err != nil {
			return err
		}
		if err := cl.Submit(ctx, tx); err != nil {
			return err
		}
		rec, err := waitCommitted(ctx, cl, tx.ID(), c.Duration("wait"))
		if err != nil {
			return err
		}
		fmt.Fprintf(c.App.Writer, "output %s\ncall   %s (height %d; executed at %d, %d legs, applied atomically)\n", p.Legs[len(legs)-1].Result.Output, tx.ID(), rec.Height, p.Height, len(legs))
		return nil
	}
}

// callEndorsers are the hosts a call asks for co-signatures: --endorser,
// or the node --api names.
func callEndorsers(c *cli.Context) []string {
	if e := c.StringSlice("endorser"); len(e) > 0 {
		return e
	}
	return []string{c.String("api")}
}

// callerHead returns the caller's committed sequence and last transaction,
// and the height the call executes at (the node's head).
func callerHead(ctx context.Context, cl *api.Client, star interfaces.StarID) (seq uint64, last interfaces.Hash, height uint64, err error) {
	acct, err := cl.Account(ctx, star)
	if err != nil {
		return 0, interfaces.Hash{}, 0, err
	}
	last, _ = interfaces.ParseHash(acct.Last)
	st, err := cl.Status(ctx)
	if err != nil {
		return 0, interfaces.Hash{}, 0, err
	}
	return acct.Seq, last, st.Height, nil
}
