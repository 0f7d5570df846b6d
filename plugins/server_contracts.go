package plugins

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/constellation-chain/constellation/interfaces"
	"github.com/constellation-chain/constellation/plugins/internal/wire"
	"github.com/constellation-chain/constellation/plugins/pb"
)

// ContractHandler is what one contract process serves (see
// plugins/proto/contracts.proto). The SDK in plugins/contract builds one
// from typed methods; implement it directly only for something the SDK
// cannot express.
type ContractHandler interface {
	// Describe returns the contract's typed interface.
	Describe() interfaces.ContractInterface
	// Invoke runs one call. req.State reads the contract's own keys through
	// the host, which records what was read and at which version; on this
	// side every version reads as 0 and req.Namespace is empty. A returned
	// error is a contract-level failure: the host co-signs nothing. Invoke
	// may be called concurrently, one call per stream.
	Invoke(ctx context.Context, req interfaces.InvokeRequest) (interfaces.InvokeResult, error)
}

// ServeContract serves h as this process's contract. It does not return in
// normal operation; call it from main.
func ServeContract(h ContractHandler) {
	if h == nil {
		Logger().Error("cannot serve contract: nil handler")
		os.Exit(1)
	}
	if err := h.Describe().Normalize().Check(); err != nil {
		Logger().Error("cannot serve contract", "error", fmt.Sprintf("its interface: %v", err))
		os.Exit(1)
	}
	log := Logger().Named("contract")
	set := plugin.PluginSet{NameContracts: &grpcPlugin{register: func(_ *plugin.GRPCBroker, s *grpc.Server) error {
		pb.RegisterContractServer(s, &contractServer{h: h})
		return nil
	}}}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  HandshakeConfig,
		VersionedPlugins: map[int]plugin.PluginSet{ProtocolVersion: set},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			opts = append(opts,
				grpc.ChainUnaryInterceptor(recoverUnary(log)),
				grpc.MaxRecvMsgSize(MaxMessageBytes),
				grpc.MaxSendMsgSize(MaxMessageBytes),
			)
			return grpc.NewServer(opts...)
		},
		Logger: log,
	})
}

// contractServer adapts a ContractHandler to the Contract service.
type contractServer struct {
	pb.UnimplementedContractServer
	h ContractHandler
}

// NewContractServer returns the Contract service of h, for tests that
// serve a contract in process.
func NewContractServer(h ContractHandler) pb.ContractServer { return &contractServer{h: h} }

func (s *contractServer) Describe(context.Context, *pb.Empty) (*pb.ContractInterface, error) {
	return wire.InterfaceToPB(s.h.Describe().Normalize()), nil
}

func (s *contractServer) Invoke(stream pb.Contract_InvokeServer) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	inv := first.GetInvoke()
	if inv == nil {
		return status.Error(codes.InvalidArgument, "invoke stream: the first message must be an invoke request")
	}
	req, id, err := wire.InvokeRequestFromPB(inv)
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "invoke request: %v", err)
	}
	st := &streamState{stream: stream, invocation: id}
	req.State = st
	res, failure := s.run(stream.Context(), req)
	if st.err != nil {
		// The stream broke under a read: the host is gone or misbehaved.
		return st.err
	}
	return stream.Send(&pb.ContractMessage{Msg: &pb.ContractMessage_Result{Result: wire.InvokeResultToPB(res, failure)}})
}

// run calls the handler; a panic is a contract-level failure, not a crash.
func (s *contractServer) run(ctx context.Context, req interfaces.InvokeRequest) (res interfaces.InvokeResult, failure string) {
	defer func() {
		if r := recover(); r != nil {
			Logger().Error("contract panicked", "method", req.Method, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			res, failure = interfaces.InvokeResult{}, fmt.Sprintf("%s panicked: %v", req.Method, r)
		}
	}()
	res, err := s.h.Invoke(ctx, req)
	if err != nil {
		msg := err.Error()
		if msg == "" {
			msg = "contract failed"
		}
		return interfaces.InvokeResult{}, msg
	}
	return res, ""
}

// streamState reads the contract's state over its Invoke stream.
type streamState struct {
	stream     pb.Contract_InvokeServer
	invocation uint64
	err        error // the first transport failure; later reads fail at once
}

func (r *streamState) Get(key []byte) ([]byte, uint64, bool, error) {
	if r.err != nil {
		return nil, 0, false, r.err
	}
	fail := func(err error) ([]byte, uint64, bool, error) {
		r.err = err
		return nil, 0, false, err
	}
	if err := r.stream.Send(&pb.ContractMessage{Msg: &pb.ContractMessage_Get{Get: &pb.StateGetRequest{Invocation: r.invocation, Key: key}}}); err != nil {
		return fail(fmt.Errorf("read state through the host: %w", err))
	}
	m, err := r.stream.Recv()
	if err != nil {
		return fail(fmt.Errorf("read state through the host: %w", err))
	}
	ans := m.GetState()
	if ans == nil {
		return fail(status.Error(codes.InvalidArgument, "invoke stream: expected a state answer"))
	}
	if msg := ans.GetError(); msg != "" {
		return nil, 0, false, errors.New("host state reader: " + msg)
	}
	if !ans.GetOk() {
		return nil, 0, false, nil
	}
	v := ans.GetValue()
	if v == nil {
		v = []byte{}
	}
	return v, 0, true, nil
}
