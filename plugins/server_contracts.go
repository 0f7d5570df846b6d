package plugins

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/constellation-chain/constellation/interfaces"
	"github.com/constellation-chain/constellation/plugins/internal/wire"
	"github.com/constellation-chain/constellation/plugins/pb"
)

// contractsServer exposes an interfaces.ContractsFactory and its runtimes.
// Each runtime reads state through the StateReader callback service the host
// serves through the broker; the connection is dialled once per process and
// every Get names its invocation.
type contractsServer struct {
	pb.UnimplementedContractRuntimeServer
	f         interfaces.ContractsFactory
	callbacks *callbackDialer
	inst      table[*runtimeEntry]
}

type runtimeEntry struct {
	rt    interfaces.ContractRuntime
	state pb.StateReaderClient
}

func (s *contractsServer) New(_ context.Context, req *pb.NewRuntimeRequest) (*pb.InstanceRef, error) {
	conn, err := s.callbacks.dial(req.GetStateBroker())
	if err != nil {
		return nil, err
	}
	rt, err := s.f.NewRuntime(req.GetParams())
	if err != nil {
		return nil, implError("new runtime", err)
	}
	if rt == nil {
		return nil, status.Error(codes.Internal, "new runtime: factory returned no runtime and no error")
	}
	id, err := s.inst.add(&runtimeEntry{rt: rt, state: pb.NewStateReaderClient(conn)})
	if err != nil {
		rt.Close()
		return nil, err
	}
	return &pb.InstanceRef{Instance: id}, nil
}

// runtime returns a live runtime. Runtimes may serve invocations
// concurrently, so the entry lock is not held during calls.
func (s *contractsServer) runtime(id uint64) (*runtimeEntry, error) {
	e, err := s.inst.get(id)
	if err != nil {
		return nil, err
	}
	return e.v, nil
}

func (s *contractsServer) Deploy(ctx context.Context, req *pb.DeployRequest) (*pb.DeployResponse, error) {
	e, err := s.runtime(req.GetInstance())
	if err != nil {
		return nil, err
	}
	h, err := e.rt.Deploy(ctx, req.GetCode())
	if err != nil {
		return nil, implError("deploy", err)
	}
	return &pb.DeployResponse{CodeHash: h[:]}, nil
}

func (s *contractsServer) Invoke(ctx context.Context, req *pb.InvokeRequest) (*pb.InvokeResponse, error) {
	e, err := s.runtime(req.GetInstance())
	if err != nil {
		return nil, err
	}
	contract, err := wire.Hash(req.GetContract(), "contract")
	if err != nil {
		return nil, badRequest(err)
	}
	caller, err := wire.Star(req.GetCaller(), "caller")
	if err != nil {
		return nil, badRequest(err)
	}
	if req.GetTimeoutNanos() < 0 {
		return nil, badRequest(fmt.Errorf("timeout: %d is negative", req.GetTimeoutNanos()))
	}
	limits := interfaces.Limits{Timeout: time.Duration(req.GetTimeoutNanos()), MemoryBytes: req.GetMemoryBytes()}
	if limits.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, limits.Timeout)
		defer cancel()
	}
	res, err := e.rt.Invoke(ctx, interfaces.InvokeRequest{
		Contract: contract,
		Method:   req.GetMethod(),
		Caller:   caller,
		Input:    req.GetInput(),
		State:    &remoteState{ctx: ctx, c: e.state, invocation: req.GetInvocation()},
		Limits:   limits,
	})
	if err != nil {
		return nil, implError("invoke", err)
	}
	return wire.InvokeResultToPB(res), nil
}

func (s *contractsServer) Close(_ context.Context, req *pb.InstanceRef) (*pb.Empty, error) {
	e, err := s.inst.remove(req.GetInstance())
	if err != nil {
		return nil, err
	}
	if err := e.v.rt.Close(); err != nil {
		return nil, implError("close runtime", err)
	}
	return &pb.Empty{}, nil
}

// remoteState is the plugin-side interfaces.StateReader of one invocation.
type remoteState struct {
	ctx        context.Context
	c          pb.StateReaderClient
	invocation uint64
}

func (r *remoteState) Get(key []byte) ([]byte, bool, error) {
	resp, err := r.c.Get(r.ctx, &pb.StateGetRequest{Invocation: r.invocation, Key: key})
	if err != nil {
		return nil, false, fmt.Errorf("read state through the host: %w", err)
	}
	if msg := resp.GetError(); msg != "" {
		return nil, false, errors.New("host state reader: " + msg)
	}
	if !resp.GetOk() {
		return nil, false, nil
	}
	v := resp.GetValue()
	if v == nil {
		v = []byte{}
	}
	return v, true, nil
}
