package host

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	sha256 "github.com/minio/sha256-simd"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/constellation-chain/constellation/interfaces"
	"github.com/constellation-chain/constellation/plugins"
	"github.com/constellation-chain/constellation/plugins/internal/wire"
	"github.com/constellation-chain/constellation/plugins/pb"
)

// Defaults for LoadOptions fields left zero.
const (
	DefaultMaxRestarts  = 3
	DefaultStartTimeout = 30 * time.Second
	DefaultCallTimeout  = 60 * time.Second
	// DefaultMaxJournalBytes bounds what one instance records for replay
	// (64 MiB). Past it the instance keeps working but a crash becomes
	// permanent for it.
	DefaultMaxJournalBytes = 64 << 20
)

// LoadOptions says which plugin binary to start and how.
type LoadOptions struct {
	Kind interfaces.Kind // the kind the manifest declares; the plugin must agree
	Name string          // the manifest's name, used for logs and errors
	Path string          // the binary
	// Args are passed to the binary (for example "plugin serve
	// consensus/solo" to serve a builtin of the constellation binary).
	Args []string
	// SHA256 is the binary's expected digest (32 bytes), from the manifest.
	SHA256 []byte
	// Dev allows a binary without a checksum, and reattaching.
	Dev bool
	// Logger receives the plugin's logs under a logger named after it; nil
	// discards them.
	Logger hclog.Logger
	// Reattach attaches to a plugin serving in debug mode (the JSON a
	// plugin prints when started with CONSTELLATION_PLUGIN_DEBUG=1) instead
	// of starting Path. It requires Dev. When empty and Dev is set, the
	// CONSTELLATION_PLUGIN_REATTACH environment variable is used.
	Reattach string

	MaxRestarts     int           // restarts after crashes over the plugin's life; 0 means DefaultMaxRestarts, negative means none
	StartTimeout    time.Duration // 0 means DefaultStartTimeout
	CallTimeout     time.Duration // per RPC of calls without a context; 0 means DefaultCallTimeout
	MaxJournalBytes int           // 0 means DefaultMaxJournalBytes
	// ObserveRPC, when set, is told of every unary RPC to the plugin: the
	// gRPC method, how long it took and its error (the node's plugin
	// latency metrics). It runs on the caller's goroutine and must be
	// quick and safe for concurrent use.
	ObserveRPC func(method string, d time.Duration, err error)
}

// Plugin is a loaded external plugin: one child process (restarted after a
// crash where safe) and its self-description. All methods are safe for
// concurrent use.
type Plugin struct {
	opts  LoadOptions
	label string // kind/name for messages
	log   hclog.Logger
	info  interfaces.PluginInfo
	cb    *callbacks

	mu       sync.Mutex
	proc     *process
	restarts int
	closed   bool
	dead     error // set when the plugin can no longer be used
}

// process is one running plugin process.
type process struct {
	client *plugin.Client
	rpc    plugin.ClientProtocol
	cmd    *exec.Cmd // nil when reattached
	stderr *tailBuffer
	conn   *plugins.ClientConn
	// callbackID is the broker id of the host's callback server (state
	// reader, entropy) for this process.
	callbackID uint32

	consensus   pb.ConsensusClient
	reputation  pb.ReputationClient
	partitioner pb.PartitionerClient
}

// Load starts (or attaches to) a plugin binary, checks it and returns it.
// The caller owns the result and must Close it.
func Load(opts LoadOptions) (*Plugin, error) {
	if !opts.Kind.Valid() {
		return nil, fmt.Errorf("load plugin %q: unknown kind %q", opts.Name, opts.Kind)
	}
	if opts.Kind == interfaces.KindTransport {
		return nil, fmt.Errorf("load plugin %s/%s: transports cannot run out of process in protocol version %d", opts.Kind, opts.Name, plugins.ProtocolVersion)
	}
	if opts.Kind == interfaces.KindContracts {
		return nil, fmt.Errorf("load plugin %s/%s: the contract runtime is the node's own (builtin); each deployed contract is its own process, started with LoadContract", opts.Kind, opts.Name)
	}
	p := &Plugin{opts: opts, label: string(opts.Kind) + "/" + opts.Name, cb: newCallbacks()}
	if p.opts.MaxRestarts == 0 {
		p.opts.MaxRestarts = DefaultMaxRestarts
	}
	if p.opts.StartTimeout <= 0 {
		p.opts.StartTimeout = DefaultStartTimeout
	}
	if p.opts.CallTimeout <= 0 {
		p.opts.CallTimeout = DefaultCallTimeout
	}
	if p.opts.MaxJournalBytes <= 0 {
		p.opts.MaxJournalBytes = DefaultMaxJournalBytes
	}
	if p.opts.Reattach == "" && p.opts.Dev {
		p.opts.Reattach = os.Getenv(plugins.EnvReattach)
	}
	base := opts.Logger
	if base == nil {
		base = hclog.NewNullLogger()
	}
	p.log = base.Named(p.label)

	if p.opts.Reattach != "" {
		if !p.opts.Dev {
			return nil, fmt.Errorf("load plugin %s: reattaching skips the checksum check and needs dev mode (--dev)", p.label)
		}
	} else {
		if opts.Path == "" {
			return nil, fmt.Errorf("load plugin %s: no path to the plugin binary", p.label)
		}
		if len(opts.SHA256) == 0 && !opts.Dev {
			return nil, fmt.Errorf("load plugin %s: %s has no sha256 checksum; add `sha256 = \"<digest>\"` (from `sha256sum %s`) to its manifest entry, or pass --dev to run unchecked binaries", p.label, opts.Path, opts.Path)
		}
		if len(opts.SHA256) != 0 && len(opts.SHA256) != sha256.Size {
			return nil, fmt.Errorf("load plugin %s: sha256 checksum has %d bytes, want %d", p.label, len(opts.SHA256), sha256.Size)
		}
		if len(opts.SHA256) == 0 {
			p.log.Warn("running a plugin binary without a checksum (dev mode)", "path", opts.Path)
		}
	}

	proc, err := p.start()
	if err != nil {
		return nil, err
	}
	info, err := p.queryInfo(proc)
	if err != nil {
		proc.client.Kill()
		return nil, err
	}
	p.info = info
	p.proc = proc
	p.log.Info("plugin loaded", "version", info.Version, "api_versions", fmt.Sprint(info.APIVersions), "capabilities", fmt.Sprint(info.Capabilities))
	return p, nil
}

// Info returns the plugin's self-description, as checked by Load.
func (p *Plugin) Info() interfaces.PluginInfo { return p.info }

// Close stops the plugin process. Instances created from its factory fail
// with ErrClosed afterwards.
func (p *Plugin) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	if p.proc != nil {
		p.proc.client.Kill()
		p.proc = nil
	}
	return nil
}

// Factory returns the value the kernel uses in place of a builtin: an
// interfaces.ConsensusFactory (also an interfaces.KeyDealer when the
// plugin deals keys), ReputationFactory or PartitionerFactory, according
// to the plugin's kind.
func (p *Plugin) Factory() (interfaces.Plugin, error) {
	switch p.info.Kind {
	case interfaces.KindConsensus:
		return p.consensusFactory()
	case interfaces.KindReputation:
		return &reputationFactory{p: p}, nil
	case interfaces.KindPartitioner:
		return &partitionerFactory{p: p}, nil
	}
	return nil, fmt.Errorf("plugin %s: no factory for kind %s", p.label, p.info.Kind)
}

// start launches (or attaches to) the plugin process and dispenses its
// services.
func (p *Plugin) start() (*process, error) {
	proc := &process{stderr: &tailBuffer{max: 20}}
	cfg := &plugin.ClientConfig{
		HandshakeConfig:  plugins.HandshakeConfig,
		VersionedPlugins: plugins.VersionedPlugins,
		// Plugins is what a reattached client uses (it negotiates nothing).
		Plugins:          plugins.VersionedPlugins[plugins.ProtocolVersion],
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           p.log,
		Stderr:           proc.stderr,
		SyncStderr:       proc.stderr,
		StartTimeout:     p.opts.StartTimeout,
		GRPCDialOptions: []grpc.DialOption{grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(plugins.MaxMessageBytes),
			grpc.MaxCallSendMsgSize(plugins.MaxMessageBytes),
		)},
	}
	if observe := p.opts.ObserveRPC; observe != nil {
		cfg.GRPCDialOptions = append(cfg.GRPCDialOptions, grpc.WithChainUnaryInterceptor(
			func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
				start := time.Now()
				err := invoker(ctx, method, req, reply, cc, opts...)
				observe(method, time.Since(start), err)
				return err
			}))
	}
	if p.opts.Reattach != "" {
		rc, err := plugins.ParseReattach(p.opts.Reattach)
		if err != nil {
			return nil, fmt.Errorf("load plugin %s: %w", p.label, err)
		}
		cfg.Reattach = rc
	} else {
		proc.cmd = exec.Command(p.opts.Path, p.opts.Args...)
		cfg.Cmd = proc.cmd
		cfg.AutoMTLS = true
		if len(p.opts.SHA256) != 0 {
			// A fresh hash per start: SecureConfig.Check consumes it.
			cfg.SecureConfig = &plugin.SecureConfig{Checksum: p.opts.SHA256, Hash: sha256.New()}
		}
	}
	proc.client = plugin.NewClient(cfg)
	rpc, err := proc.client.Client()
	if err != nil {
		proc.client.Kill()
		return nil, p.startError(proc, err)
	}
	proc.rpc = rpc
	raw, err := rpc.Dispense(string(p.opts.Kind))
	if err != nil {
		proc.client.Kill()
		return nil, fmt.Errorf("load plugin %s: dispense the %s service: %w", p.label, p.opts.Kind, err)
	}
	conn, ok := raw.(*plugins.ClientConn)
	if !ok {
		proc.client.Kill()
		return nil, fmt.Errorf("load plugin %s: dispensed %T, want *plugins.ClientConn", p.label, raw)
	}
	proc.conn = conn
	proc.consensus = pb.NewConsensusClient(conn.Conn)
	proc.reputation = pb.NewReputationClient(conn.Conn)
	proc.partitioner = pb.NewPartitionerClient(conn.Conn)
	if p.opts.Kind == interfaces.KindConsensus {
		proc.callbackID = conn.Broker.NextId()
		go conn.Broker.AcceptAndServe(proc.callbackID, func(o []grpc.ServerOption) *grpc.Server {
			o = append(o, grpc.MaxRecvMsgSize(plugins.MaxMessageBytes), grpc.MaxSendMsgSize(plugins.MaxMessageBytes))
			s := grpc.NewServer(o...)
			pb.RegisterEntropyServer(s, p.cb)
			return s
		})
	}
	return proc, nil
}

// startError explains why a plugin did not start.
func (p *Plugin) startError(proc *process, err error) error {
	if errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
		actual, herr := fileDigest(p.opts.Path)
		if herr != nil {
			return fmt.Errorf("load plugin %s: checksum mismatch for %s: manifest expects sha256 %s; reading the file failed: %w", p.label, p.opts.Path, hex.EncodeToString(p.opts.SHA256), herr)
		}
		return fmt.Errorf("load plugin %s: checksum mismatch for %s: manifest expects sha256 %s, the file has %s; refusing to start it", p.label, p.opts.Path, hex.EncodeToString(p.opts.SHA256), actual)
	}
	msg := fmt.Errorf("load plugin %s: start %s: %w", p.label, p.opts.Path, err)
	if tail := proc.stderr.Tail(); len(tail) > 0 {
		return fmt.Errorf("%w; last stderr lines:\n    %s", msg, joinLines(tail))
	}
	return msg
}

func joinLines(ls []string) string {
	out := ""
	for i, l := range ls {
		if i > 0 {
			out += "\n    "
		}
		out += l
	}
	return out
}

// fileDigest returns the hex sha256 of a file.
func fileDigest(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// queryInfo asks the plugin to describe itself and checks the answer
// against what the manifest declared.
func (p *Plugin) queryInfo(proc *process) (interfaces.PluginInfo, error) {
	ctx, cancel := context.WithTimeout(context.Background(), p.opts.CallTimeout)
	defer cancel()
	raw, err := pb.NewInfoClient(proc.conn.Conn).PluginInfo(ctx, &pb.Empty{})
	if err != nil {
		return interfaces.PluginInfo{}, fmt.Errorf("load plugin %s: query PluginInfo: %w", p.label, err)
	}
	info, err := wire.InfoFromPB(raw)
	if err != nil {
		return info, fmt.Errorf("load plugin %s: %w", p.label, errors.Join(ErrBadAnswer, err))
	}
	if info.Kind != p.opts.Kind {
		return info, fmt.Errorf("load plugin %s: the binary is a %s plugin (%s), not %s", p.label, info.Kind, info.Name, p.opts.Kind)
	}
	if !info.Compatible() {
		return info, fmt.Errorf("load plugin %s: it speaks API versions %v, this host speaks %v", p.label, info.APIVersions, interfaces.SupportedAPIVersions)
	}
	if p.opts.Name != "" && info.Name != p.opts.Name {
		p.log.Warn("the plugin names itself differently from the manifest", "plugin_name", info.Name)
	}
	return info, nil
}

// current returns the running process, or why there is none.
func (p *Plugin) current() (*process, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, fmt.Errorf("plugin %s: %w", p.label, ErrClosed)
	}
	if p.dead != nil {
		return nil, p.dead
	}
	return p.proc, nil
}

// crashed reports whether err from a call on proc means the process is
// gone or unusable, as opposed to an error the plugin returned. Our own
// call deadline passing means the plugin hung; Unavailable means a crash
// only if the plugin no longer answers its health check (a plugin may
// return Unavailable itself).
func (p *Plugin) crashed(proc *process, err error) bool {
	if proc.client.Exited() {
		return true
	}
	switch status.Code(err) {
	case codes.DeadlineExceeded:
		return true
	case codes.Unavailable:
		return proc.rpc.Ping() != nil
	}
	return false
}

// crashReport waits briefly for the process to exit and describes it.
func (p *Plugin) crashReport(proc *process, cause error) *CrashError {
	e := &CrashError{Plugin: p.label, Path: p.opts.Path}
	// A hung plugin will not exit by itself; a crashed one takes a moment
	// to be reaped after its connection drops.
	if proc.cmd != nil && status.Code(cause) != codes.DeadlineExceeded {
		for i := 0; i < 100 && !proc.client.Exited(); i++ {
			time.Sleep(20 * time.Millisecond)
		}
	}
	switch {
	case proc.cmd == nil:
		e.ExitStatus = "attached process stopped answering"
	case proc.client.Exited() && proc.cmd.ProcessState != nil:
		e.ExitStatus = proc.cmd.ProcessState.String()
	default:
		e.ExitStatus = "still running but not answering"
	}
	e.Reason = cause.Error()
	e.StderrTail = proc.stderr.Tail()
	return e
}

// restart replaces failed with a new process unless another caller already
// did. It returns an error when the plugin cannot be restarted; that error
// is permanent.
func (p *Plugin) restart(failed *process, cause error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return fmt.Errorf("plugin %s: %w", p.label, ErrClosed)
	}
	if p.dead != nil {
		return p.dead
	}
	if p.proc != failed {
		return nil // someone else restarted it already
	}
	report := p.crashReport(failed, cause)
	failed.client.Kill()
	p.proc = nil
	switch {
	case p.opts.Reattach != "":
		report.Permanent = true
		report.Reason += "; an attached plugin cannot be restarted"
	case p.opts.MaxRestarts < 0 || p.restarts >= p.opts.MaxRestarts:
		report.Permanent = true
		report.Reason += fmt.Sprintf("; restarted %d times already", p.restarts)
	}
	if report.Permanent {
		p.dead = report
		p.log.Error("plugin crashed", "error", report.Error())
		return report
	}
	p.restarts++
	p.log.Warn("plugin crashed; restarting", "restart", p.restarts, "error", report.Error())
	proc, err := p.start()
	if err == nil {
		var info interfaces.PluginInfo
		info, err = p.queryInfo(proc)
		if err == nil && (info.Name != p.info.Name || info.Version != p.info.Version) {
			err = fmt.Errorf("plugin %s: the restarted binary describes itself as %s %s, not %s %s", p.label, info.Name, info.Version, p.info.Name, p.info.Version)
		}
		if err != nil {
			proc.client.Kill()
		}
	}
	if err != nil {
		p.dead = fmt.Errorf("plugin %s: restart after a crash failed: %w (crash: %v)", p.label, err, report)
		return p.dead
	}
	p.proc = proc
	return nil
}

// Restarts reports how many times the process was restarted after a crash.
func (p *Plugin) Restarts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.restarts
}

// simpleCall runs a stateless call on the current process, restarting it
// after a crash and retrying, within the restart budget.
func (p *Plugin) simpleCall(parent context.Context, op string, fn func(ctx context.Context, proc *process) error) error {
	for attempt := 0; attempt <= p.opts.MaxRestarts+1; attempt++ {
		proc, err := p.current()
		if err != nil {
			return err
		}
		ctx := parent
		cancel := func() {}
		if _, ok := parent.Deadline(); !ok {
			ctx, cancel = context.WithTimeout(parent, p.opts.CallTimeout)
		}
		err = fn(ctx, proc)
		cancel()
		if err == nil {
			return nil
		}
		if parent.Err() != nil {
			return fmt.Errorf("plugin %s: %s: %w", p.label, op, parent.Err())
		}
		if errors.Is(err, ErrBadAnswer) || !p.crashed(proc, err) {
			return fmt.Errorf("plugin %s: %s: %w", p.label, op, err)
		}
		if rerr := p.restart(proc, err); rerr != nil {
			return rerr
		}
	}
	return fmt.Errorf("plugin %s: %s: gave up after %d restarts", p.label, op, p.opts.MaxRestarts)
}
