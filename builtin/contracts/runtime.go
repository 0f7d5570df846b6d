// Package contracts is the node's contract runtime: the host side of
// execute, co-sign, order, validate. Given a deploy it writes the bundle
// under the node's data directory, checks it against the notarized code
// hash, starts it as its own child process (plugins/host.LoadContract;
// go-plugin's SecureConfig checks a Go binary again right before it
// starts, a jar is checked by builtin/contracts/jvm), and refuses to run a
// contract whose self-description differs from the notarized interface.
// Calls run against a read view of the chain at a stated height, under a
// bound that is this host's configuration; Endorse co-signs a result with
// the node's key. Nothing here decides state: the ledger validates the
// co-signed result (framework/ledger/contracts.go).
package contracts

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/constellation-chain/constellation/builtin/contracts/jvm"
	"github.com/constellation-chain/constellation/interfaces"
	"github.com/constellation-chain/constellation/plugins/host"
)

// Defaults of Config fields left zero.
const (
	DefaultCallBound    = 5 * time.Second
	DefaultStartTimeout = 30 * time.Second
)

// ErrBundleMismatch is returned when a bundle's hash is not the notarized
// one; nothing is started.
var ErrBundleMismatch = errors.New("bundle does not match the notarized code hash")

// Config is host configuration: none of it decides state.
type Config struct {
	// Dir is where the runtime writes bundles (the node's data directory's
	// contracts folder).
	Dir string
	// BundleDir is the local contracts directory: where bundles too large
	// to travel in their deploy are looked up by hash. Empty means Dir.
	BundleDir string
	// CallBound is how long one call may run on this host before it is
	// stopped and refused (it is never co-signed); 0 means
	// DefaultCallBound.
	CallBound    time.Duration
	StartTimeout time.Duration
	// JVMClasspath is the class path of the Java contract SDK (its jar and
	// the Debian jars it needs). Empty refuses jvm contracts.
	JVMClasspath []string
	// Java is the java executable; empty means the one on PATH.
	Java   string
	Logger hclog.Logger
}

// Runtime runs deployed contracts. It implements interfaces.ContractRuntime
// and is safe for concurrent use.
type Runtime struct {
	cfg Config
	log hclog.Logger

	deploying sync.Mutex // one Deploy at a time, so a contract starts once
	mu        sync.Mutex
	running   map[interfaces.StarID]*running
	closed    bool
}

type running struct {
	deploy interfaces.DeployPayload
	proc   *host.Contract
}

var _ interfaces.ContractRuntime = (*Runtime)(nil)

// New returns a runtime with nothing deployed.
func New(cfg Config) (*Runtime, error) {
	if cfg.Dir == "" {
		return nil, errors.New("contract runtime: no directory for bundles")
	}
	if cfg.BundleDir == "" {
		cfg.BundleDir = cfg.Dir
	}
	if cfg.CallBound <= 0 {
		cfg.CallBound = DefaultCallBound
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = DefaultStartTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("contract runtime: %w", err)
	}
	return &Runtime{cfg: cfg, log: cfg.Logger.Named("contracts"), running: map[interfaces.StarID]*running{}}, nil
}

// Running reports whether contract c is started here.
func (r *Runtime) Running(c interfaces.StarID) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.running[c]
	return ok
}

// RunningContracts lists the contracts started here, sorted.
func (r *Runtime) RunningContracts() []interfaces.StarID {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]interfaces.StarID, 0, len(r.running))
	for c := range r.running {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	return out
}

// FindBundle looks for the bundle with hash h in dir: the file named by
// h's hex digits (optionally with .jar), else any regular file whose
// content hashes to h.
func FindBundle(dir string, h interfaces.Hash) ([]byte, error) {
	for _, name := range []string{h.String(), h.String() + ".jar"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err == nil && interfaces.Sum(b) == h {
			return b, nil
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("find bundle %s: %w", h.Short(), err)
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() || info.Size() > interfaces.MaxContractBundle {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err == nil && interfaces.Sum(b) == h {
			return b, nil
		}
	}
	return nil, fmt.Errorf("find bundle %s: no file in %s has that sha256; copy the contract's binary there", h, dir)
}

// Deploy checks d's bundle and starts the contract. Deploying a contract
// that runs already is a no-op.
func (r *Runtime) Deploy(ctx context.Context, d interfaces.Deployment) error {
	label := d.Deploy.Name + " (" + d.Contract.Short() + ")"
	r.deploying.Lock()
	defer r.deploying.Unlock()
	if r.Running(d.Contract) {
		return nil
	}
	if err := d.Deploy.Check(); err != nil {
		return fmt.Errorf("deploy contract %s: %w", label, err)
	}
	bundle := d.Bundle
	if len(bundle) == 0 {
		bundle = d.Deploy.Bundle
	}
	if len(bundle) == 0 {
		b, err := FindBundle(r.cfg.BundleDir, d.Deploy.CodeHash)
		if err != nil {
			return fmt.Errorf("deploy contract %s: the deploy does not carry its bundle: %w", label, err)
		}
		bundle = b
	}
	if got := interfaces.Sum(bundle); got != d.Deploy.CodeHash {
		return fmt.Errorf("deploy contract %s: %w: it hashes to %s, the deploy notarized %s; refusing to start it", label, ErrBundleMismatch, got, d.Deploy.CodeHash)
	}
	opts := host.ContractOptions{Name: label, Logger: r.cfg.Logger, StartTimeout: r.cfg.StartTimeout}
	switch d.Deploy.Runtime {
	case interfaces.RuntimeGo:
		path, err := r.writeBundle(d.Deploy.CodeHash, bundle, "", 0o755)
		if err != nil {
			return fmt.Errorf("deploy contract %s: %w", label, err)
		}
		opts.Command = func() *exec.Cmd { return exec.Command(path) }
		opts.SHA256 = append([]byte(nil), d.Deploy.CodeHash[:]...)
		opts.AutoMTLS = true
	case interfaces.RuntimeJVM:
		if len(r.cfg.JVMClasspath) == 0 {
			return fmt.Errorf("deploy contract %s: this host runs no jvm contracts (no Java SDK class path configured)", label)
		}
		if err := jvm.Verify(bundle); err != nil {
			return fmt.Errorf("deploy contract %s: %w", label, err)
		}
		path, err := r.writeBundle(d.Deploy.CodeHash, bundle, ".jar", 0o644)
		if err != nil {
			return fmt.Errorf("deploy contract %s: %w", label, err)
		}
		java := r.cfg.Java
		if java == "" {
			if java, err = exec.LookPath("java"); err != nil {
				return fmt.Errorf("deploy contract %s: no java on PATH (apt-get install -y openjdk-17-jre-headless)", label)
			}
		}
		cp := r.cfg.JVMClasspath
		opts.Command = func() *exec.Cmd { return jvm.Command(java, path, cp) }
		// java is an interpreter: the jar was hashed and verified above,
		// and is checked again before each start (checkedJar).
		opts.Unchecked = true
		inner := opts.Command
		opts.Command = func() *exec.Cmd {
			if err := checkFile(path, d.Deploy.CodeHash); err != nil {
				// A command that fails to start, with the reason in its name.
				return exec.Command("/nonexistent/" + err.Error())
			}
			return inner()
		}
	default:
		return fmt.Errorf("deploy contract %s: unknown runtime %s", label, d.Deploy.Runtime)
	}
	proc, err := host.LoadContract(opts)
	if err != nil {
		return fmt.Errorf("deploy contract %s: %w", label, err)
	}
	desc, err := proc.Describe(ctx)
	if err != nil {
		proc.Close()
		return fmt.Errorf("deploy contract %s: %w", label, err)
	}
	if diff := desc.Diff(d.Deploy.Interface); diff != "" {
		proc.Close()
		return fmt.Errorf("deploy contract %s: its interface differs from the notarized one: %s; refusing to run it", label, diff)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		proc.Close()
		return errors.New("contract runtime is closed")
	}
	if _, dup := r.running[d.Contract]; dup {
		proc.Close()
		return nil
	}
	r.running[d.Contract] = &running{deploy: d.Deploy, proc: proc}
	r.log.Info("contract started", "contract", d.Contract.String(), "name", d.Deploy.Name, "runtime", d.Deploy.Runtime.String(), "code_hash", d.Deploy.CodeHash.String())
	return nil
}

// writeBundle writes bundle to Dir/<hash><ext> (through a temporary file,
// so a half-written bundle never has the final name) unless a file with
// that content is there already.
func (r *Runtime) writeBundle(h interfaces.Hash, bundle []byte, ext string, mode os.FileMode) (string, error) {
	path := filepath.Join(r.cfg.Dir, h.String()+ext)
	if checkFile(path, h) == nil {
		return path, os.Chmod(path, mode)
	}
	tmp, err := os.CreateTemp(r.cfg.Dir, ".bundle-*")
	if err != nil {
		return "", fmt.Errorf("write bundle: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(bundle); err != nil {
		tmp.Close()
		return "", fmt.Errorf("write bundle: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("write bundle: %w", err)
	}
	if err := os.Chmod(tmp.Name(), mode); err != nil {
		return "", fmt.Errorf("write bundle: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("write bundle: %w", err)
	}
	return path, nil
}

func checkFile(path string, h interfaces.Hash) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, interfaces.MaxContractBundle+1))
	if err != nil {
		return err
	}
	if got := interfaces.Sum(b); got != h {
		return fmt.Errorf("%s hashes to %s, want %s", filepath.Base(path), hex.EncodeToString(got[:4]), hex.EncodeToString(h[:4]))
	}
	return nil
}

// Invoke runs one call on a started contract under the host's bound. The
// result's keys are the contract's own (no namespace).
func (r *Runtime) Invoke(ctx context.Context, req interfaces.InvokeRequest) (interfaces.InvokeResult, error) {
	r.mu.Lock()
	run, ok := r.running[req.Contract]
	r.mu.Unlock()
	if !ok {
		return interfaces.InvokeResult{}, fmt.Errorf("invoke %s: contract %s is not running on this host", req.Method, req.Contract.Short())
	}
	if _, ok := run.deploy.Interface.Method(req.Method); !ok {
		return interfaces.InvokeResult{}, fmt.Errorf("invoke %s: contract %s has no such method", req.Method, req.Contract.Short())
	}
	req.CodeHash = run.deploy.CodeHash
	req.Namespace = interfaces.ContractNamespace(req.Contract)
	ctx, cancel := context.WithTimeout(ctx, r.cfg.CallBound)
	defer cancel()
	return run.proc.Invoke(ctx, req)
}

// Deployed returns the deploy of a running contract.
func (r *Runtime) Deployed(c interfaces.StarID) (interfaces.DeployPayload, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	run, ok := r.running[c]
	if !ok {
		return interfaces.DeployPayload{}, false
	}
	return run.deploy, true
}

// Close stops every contract process.
func (r *Runtime) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	ids := make([]interfaces.StarID, 0, len(r.running))
	for c := range r.running {
		ids = append(ids, c)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i].Less(ids[j]) })
	for _, c := range ids {
		r.running[c].proc.Close()
		delete(r.running, c)
	}
	return nil
}

// Chain is the committed chain a host executes calls against.
type Chain = interfaces.ContractChain

var _ interfaces.ContractHost = (*Runtime)(nil)

// Execute runs call on this host against chain at call.Height and returns
// the result in the chain's form (full keys, CallResult), ready to be
// co-signed. An error (the contract refused, the bound passed, the
// contract is not running here) means there is nothing to co-sign.
func (r *Runtime) Execute(ctx context.Context, chain Chain, call interfaces.Call) (interfaces.CallResult, error) {
	hash, ts, err := chain.Block(call.Height)
	if err != nil {
		return interfaces.CallResult{}, fmt.Errorf("execute %s: state at height %d: %w", call.Method, call.Height, err)
	}
	req := interfaces.InvokeRequest{
		Contract: call.Contract, Method: call.Method, Caller: call.Caller, Input: call.Input,
		Amount: call.Amount, Height: call.Height, Timestamp: ts, Beacon: hash,
	}
	view := &contractView{chain: chain, height: call.Height, contract: call.Contract}
	req.State = view
	res, err := r.Invoke(ctx, req)
	if view.err != nil {
		// The host could not serve the state (the contract saw only a
		// message): that, not the contract's reaction, is the reason.
		return interfaces.CallResult{}, fmt.Errorf("execute %s: read state: %w", call.Method, view.err)
	}
	if err != nil {
		return interfaces.CallResult{}, fmt.Errorf("execute %s: %w", call.Method, err)
	}
	out := interfaces.CallResult{Output: res.Output, Events: res.Events}
	for _, w := range res.Writes {
		out.Writes = append(out.Writes, interfaces.KV{Key: interfaces.ContractKey(call.Contract, w.Key), Value: w.Value})
	}
	for _, rv := range res.Reads {
		out.Reads = append(out.Reads, interfaces.ReadVersion{Key: interfaces.ContractKey(call.Contract, rv.Key), Version: rv.Version})
	}
	if err := out.Check(); err != nil {
		return interfaces.CallResult{}, fmt.Errorf("execute %s: the result cannot go on chain: %w", call.Method, err)
	}
	return out, nil
}

// Endorse executes call and co-signs its result with key.
func (r *Runtime) Endorse(ctx context.Context, chain Chain, call interfaces.Call, key ed25519.PrivateKey) (interfaces.CallResult, interfaces.Endorsement, error) {
	res, err := r.Execute(ctx, chain, call)
	if err != nil {
		return res, interfaces.Endorsement{}, err
	}
	en, err := interfaces.Endorse(key, call, res)
	return res, en, err
}

// contractView is one contract's state at one height, in its own keys.
// It keeps the first error the chain gave. It is used from one goroutine.
type contractView struct {
	chain    Chain
	height   uint64
	contract interfaces.StarID
	err      error
}

func (v *contractView) Get(key []byte) ([]byte, uint64, bool, error) {
	val, ver, ok, err := v.chain.Value(v.height, interfaces.ContractKey(v.contract, key))
	if err != nil && v.err == nil {
		v.err = err
	}
	return val, ver, ok, err
}
