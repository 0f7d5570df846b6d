package plugins

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"

	"github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/constellation-chain/constellation/interfaces"
	"github.com/constellation-chain/constellation/plugins/internal/wire"
	"github.com/constellation-chain/constellation/plugins/pb"
)

// MaxInstances bounds how many live instances one plugin process holds per
// kind, so a host that forgets to close them fails loudly instead of
// exhausting the plugin's memory.
const MaxInstances = 4096

// table holds a plugin process's live instances by id. Each entry has its
// own lock: the interfaces ask callers to use one instance from one
// goroutine, and the lock keeps a misbehaving host from breaking that.
type table[T any] struct {
	mu   sync.Mutex
	next uint64
	m    map[uint64]*entry[T]
}

type entry[T any] struct {
	mu sync.Mutex
	v  T
}

func (t *table[T]) add(v T) (uint64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = make(map[uint64]*entry[T])
	}
	if len(t.m) >= MaxInstances {
		return 0, status.Errorf(codes.ResourceExhausted, "%d live instances: close some before creating more", len(t.m))
	}
	t.next++
	t.m[t.next] = &entry[T]{v: v}
	return t.next, nil
}

func (t *table[T]) get(id uint64) (*entry[T], error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.m[id]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "no instance %d in this plugin process", id)
	}
	return e, nil
}

func (t *table[T]) remove(id uint64) (*entry[T], error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.m[id]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "no instance %d in this plugin process", id)
	}
	delete(t.m, id)
	return e, nil
}

// with runs f on instance id under its lock.
func with[T any](t *table[T], id uint64, f func(v T) error) error {
	e, err := t.get(id)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return f(e.v)
}

// badRequest reports input from the host that does not decode.
func badRequest(err error) error {
	return status.Error(codes.InvalidArgument, err.Error())
}

// implError reports an error returned by the plugin's own implementation.
func implError(op string, err error) error {
	if _, ok := status.FromError(err); ok && status.Code(err) != codes.Unknown {
		return err
	}
	return status.Errorf(codes.Unknown, "%s: %v", op, err)
}

// recoverUnary turns a panic in the implementation into an Internal error,
// so one bad call does not take the whole plugin process down. The host
// treats such an error as a fault of the plugin.
func recoverUnary(logger hclog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if v := recover(); v != nil {
				logger.Error("plugin panicked", "method", info.FullMethod, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				resp, err = nil, status.Errorf(codes.Internal, "plugin panicked in %s: %v", info.FullMethod, v)
			}
		}()
		return handler(ctx, req)
	}
}

// infoServer serves PluginInfo.
type infoServer struct {
	pb.UnimplementedInfoServer
	p interfaces.Plugin
}

func (s *infoServer) PluginInfo(context.Context, *pb.Empty) (*pb.PluginInfo, error) {
	return wire.InfoToPB(s.p.Info()), nil
}

// callbackDialer keeps one connection per host callback service. A broker
// id can be dialled only once (each dial consumes the host's one
// announcement of it), so the connection is shared by every call and
// instance of the process and never closed before the process exits.
type callbackDialer struct {
	broker *plugin.GRPCBroker
	mu     sync.Mutex
	conns  map[uint32]*grpc.ClientConn
}

func (d *callbackDialer) dial(id uint32) (*grpc.ClientConn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c, ok := d.conns[id]; ok {
		return c, nil
	}
	if d.broker == nil {
		return nil, status.Error(codes.FailedPrecondition, "no broker to reach the host's callbacks")
	}
	c, err := d.broker.Dial(id)
	if err != nil {
		return nil, status.Errorf(codes.FailedPrecondition, "dial the host's callback service %d: %v", id, err)
	}
	if d.conns == nil {
		d.conns = map[uint32]*grpc.ClientConn{}
	}
	d.conns[id] = c
	return c, nil
}
