package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
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

// Errors of a contract call, told apart by errors.Is.
var (
	// ErrContractFailed: the contract itself refused the call (bad input,
	// sold out, a panic). The message is the contract's.
	ErrContractFailed = errors.New("contract failed the call")
	// ErrContractBound: the call ran past the host's bound; the process
	// was stopped (and is started again for the next call).
	ErrContractBound = errors.New("contract call ran past the host's bound")
)

// ContractOptions says how to start one contract process.
type ContractOptions struct {
	Name string // for logs and errors
	// Command builds the command that starts the contract; it is called
	// again for each restart. For a Go contract: exec.Command(binary).
	Command func() *exec.Cmd
	// SHA256, when set, is the digest the command's executable must have
	// (go-plugin's SecureConfig checks it right before it starts). A
	// runtime whose executable is an interpreter (java) checks its bundle
	// itself and sets Unchecked instead.
	SHA256    []byte
	Unchecked bool
	// AutoMTLS makes the host and the contract authenticate each other
	// with fresh certificates (go-plugin's AutoMTLS). A Go contract
	// supports it; a contract in another language may not.
	AutoMTLS     bool
	Logger       hclog.Logger
	StartTimeout time.Duration // 0 means DefaultStartTimeout
	MaxRestarts  int           // 0 means DefaultMaxRestarts; negative means none
}

// Contract is one running contract process. It is safe for concurrent
// use: calls run concurrently, each on its own stream. A process stopped
// at a bound is started again for the next call; one that crashes is,
// MaxRestarts times.
type Contract struct {
	opts  ContractOptions
	label string
	log   hclog.Logger

	mu       sync.Mutex
	proc     *contractProc
	restarts int
	closed   bool
}

type contractProc struct {
	client *plugin.Client
	c      pb.ContractClient
	stderr *tailBuffer
}

// LoadContract starts a contract process and checks that it answers
// Describe. The caller owns the result and must Close it.
func LoadContract(opts ContractOptions) (*Contract, error) {
	if opts.Command == nil {
		return nil, fmt.Errorf("load contract %s: no command", opts.Name)
	}
	if len(opts.SHA256) == 0 && !opts.Unchecked {
		return nil, fmt.Errorf("load contract %s: no sha256 to check the executable against", opts.Name)
	}
	if len(opts.SHA256) != 0 && len(opts.SHA256) != sha256.Size {
		return nil, fmt.Errorf("load contract %s: sha256 has %d bytes, want %d", opts.Name, len(opts.SHA256), sha256.Size)
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = DefaultStartTimeout
	}
	if opts.MaxRestarts == 0 {
		opts.MaxRestarts = DefaultMaxRestarts
	}
	base := opts.Logger
	if base == nil {
		base = hclog.NewNullLogger()
	}
	c := &Contract{opts: opts, label: "contract/" + opts.Name, log: base.Named("contract/" + opts.Name)}
	proc, err := c.start()
	if err != nil {
		return nil, err
	}
	c.proc = proc
	return c, nil
}

func (c *Contract) start() (*contractProc, error) {
	proc := &contractProc{stderr: &tailBuffer{max: 20}}
	cmd := c.opts.Command()
	cfg := &plugin.ClientConfig{
		HandshakeConfig:  plugins.HandshakeConfig,
		VersionedPlugins: plugins.VersionedPlugins,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Cmd:              cmd,
		AutoMTLS:         c.opts.AutoMTLS,
		Logger:           c.log,
		Stderr:           proc.stderr,
		SyncStderr:       proc.stderr,
		StartTimeout:     c.opts.StartTimeout,
		GRPCDialOptions: []grpc.DialOption{grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(plugins.MaxMessageBytes),
			grpc.MaxCallSendMsgSize(plugins.MaxMessageBytes),
		)},
	}
	if len(c.opts.SHA256) != 0 {
		cfg.SecureConfig = &plugin.SecureConfig{Checksum: c.opts.SHA256, Hash: sha256.New()}
	}
	proc.client = plugin.NewClient(cfg)
	fail := func(err error) (*contractProc, error) {
		proc.client.Kill()
		if errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
			actual, herr := fileDigest(cmd.Path)
			if herr != nil {
				actual = "unreadable (" + herr.Error() + ")"
			}
			return nil, fmt.Errorf("load %s: %s has sha256 %s, the deploy notarized %x; refusing to start it", c.label, cmd.Path, actual, c.opts.SHA256)
		}
		msg := fmt.Errorf("load %s: start %s: %w", c.label, cmd.Path, err)
		if tail := proc.stderr.Tail(); len(tail) > 0 {
			return nil, fmt.Errorf("%w; last stderr lines:\n    %s", msg, joinLines(tail))
		}
		return nil, msg
	}
	rpc, err := proc.client.Client()
	if err != nil {
		return fail(err)
	}
	raw, err := rpc.Dispense(plugins.NameContracts)
	if err != nil {
		return fail(err)
	}
	conn, ok := raw.(*plugins.ClientConn)
	if !ok {
		return fail(fmt.Errorf("dispensed %T, want *plugins.ClientConn", raw))
	}
	proc.c = pb.NewContractClient(conn.Conn)
	return proc, nil
}

// live returns the running process, starting it again after a crash or a
// bound breach while restarts are left.
func (c *Contract) live() (*contractProc, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, fmt.Errorf("%s: %w", c.label, ErrClosed)
	}
	if c.proc != nil && !c.proc.client.Exited() {
		return c.proc, nil
	}
	if c.proc != nil {
		// It crashed: that counts against its restarts. (A process this
		// host stopped, at a bound or a cancelled call, does not.)
		if c.opts.MaxRestarts < 0 || c.restarts >= c.opts.MaxRestarts {
			return nil, fmt.Errorf("%s: the process crashed and its %d restarts are used up", c.label, c.restarts)
		}
		c.restarts++
		c.log.Warn("the contract process crashed; starting it again", "restart", c.restarts)
	}
	proc, err := c.start()
	if err != nil {
		return nil, err
	}
	c.proc = proc
	return proc, nil
}

// stop kills proc (if it is still the current process), so the next call
// starts a fresh one.
func (c *Contract) stop(proc *contractProc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	proc.client.Kill()
	if c.proc == proc {
		c.proc = nil
	}
}

// Describe asks the contract for its typed interface (sorted by method).
func (c *Contract) Describe(ctx context.Context) (interfaces.ContractInterface, error) {
	proc, err := c.live()
	if err != nil {
		return interfaces.ContractInterface{}, err
	}
	r, err := proc.c.Describe(ctx, &pb.Empty{})
	if err != nil {
		return interfaces.ContractInterface{}, fmt.Errorf("%s: describe: %w", c.label, err)
	}
	out, err := wire.InterfaceFromPB(r)
	if err != nil {
		return out, fmt.Errorf("%s: describe: %w", c.label, err)
	}
	return out, nil
}

// maxStateKey bounds a key a contract may ask for: its full key (with the
// namespace) must fit interfaces.MaxContractKey.
var maxStateKey = interfaces.MaxContractKey - len(interfaces.ContractNamespace(interfaces.StarID{}))

// Invoke runs one call. The contract reads state through req.State, and
// the host records every key it answered and the version it answered
// with: those are the result's Reads (contract keys, sorted), whatever the
// contract says. ctx's deadline is the host's bound: past it the call
// fails with ErrContractBound and the process is stopped. A contract-level
// failure is ErrContractFailed. req.State must be safe to call from the
// calling goroutine only; Invoke does not share it.
func (c *Contract) Invoke(ctx context.Context, req interfaces.InvokeRequest) (interfaces.InvokeResult, error) {
	var none interfaces.InvokeResult
	if req.State == nil {
		return none, fmt.Errorf("%s: invoke %s: no state", c.label, req.Method)
	}
	proc, err := c.live()
	if err != nil {
		return none, err
	}
	res, err := c.invoke(ctx, proc, req)
	// The contract's side enforces the same deadline (gRPC sends it
	// along) and may end the stream a moment before ctx itself expires.
	_, bounded := ctx.Deadline()
	pastBound := bounded && status.Code(err) == codes.DeadlineExceeded
	if err != nil && (ctx.Err() != nil || pastBound) {
		c.stop(proc)
		if pastBound || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return none, fmt.Errorf("%s: invoke %s: %w; the process was stopped", c.label, req.Method, ErrContractBound)
		}
		return none, fmt.Errorf("%s: invoke %s: %w", c.label, req.Method, ctx.Err())
	}
	return res, err
}

func (c *Contract) invoke(ctx context.Context, proc *contractProc, req interfaces.InvokeRequest) (interfaces.InvokeResult, error) {
	var none interfaces.InvokeResult
	where := c.label + ": invoke " + req.Method
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := proc.c.Invoke(ctx)
	if err != nil {
		return none, fmt.Errorf("%s: %w", where, err)
	}
	const invocation = 1 // one call per stream
	if err := stream.Send(&pb.HostMessage{Msg: &pb.HostMessage_Invoke{Invoke: wire.InvokeRequestToPB(req, invocation)}}); err != nil {
		return none, fmt.Errorf("%s: send the request: %w", where, err)
	}
	reads := map[string]uint64{}
	for {
		m, err := stream.Recv()
		if err != nil {
			return none, fmt.Errorf("%s: %w", where, err)
		}
		switch msg := m.GetMsg().(type) {
		case *pb.ContractMessage_Get:
			key := msg.Get.GetKey()
			if msg.Get.GetInvocation() != invocation {
				return none, fmt.Errorf("%s: state read names invocation %d, want %d", where, msg.Get.GetInvocation(), invocation)
			}
			if len(key) == 0 || len(key) > maxStateKey {
				return none, fmt.Errorf("%s: state read of a key of %d bytes, want 1 to %d", where, len(key), maxStateKey)
			}
			if len(reads) >= interfaces.MaxContractReads {
				if _, seen := reads[string(key)]; !seen {
					return none, fmt.Errorf("%s: more than %d distinct keys read", where, interfaces.MaxContractReads)
				}
			}
			ans := &pb.StateGetResponse{}
			v, version, ok, err := req.State.Get(key)
			if err != nil {
				ans.Error = err.Error()
			} else {
				reads[string(key)] = version
				ans.Value, ans.Ok = v, ok
			}
			if err := stream.Send(&pb.HostMessage{Msg: &pb.HostMessage_State{State: ans}}); err != nil {
				return none, fmt.Errorf("%s: answer a state read: %w", where, err)
			}
		case *pb.ContractMessage_Result:
			_ = stream.CloseSend()
			res, failure, err := wire.InvokeResultFromPB(msg.Result)
			if err != nil {
				return none, fmt.Errorf("%s: %w", where, err)
			}
			if failure != "" {
				return none, fmt.Errorf("%s: %w: %s", where, ErrContractFailed, failure)
			}
			for k, v := range reads {
				res.Reads = append(res.Reads, interfaces.ReadVersion{Key: []byte(k), Version: v})
			}
			slices.SortFunc(res.Reads, func(a, b interfaces.ReadVersion) int { return bytes.Compare(a.Key, b.Key) })
			return res, nil
		default:
			return none, fmt.Errorf("%s: unexpected message %T", where, m.GetMsg())
		}
	}
}

// Close stops the contract process.
func (c *Contract) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	if c.proc != nil {
		c.proc.client.Kill()
		c.proc = nil
	}
	return nil
}
