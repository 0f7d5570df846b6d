package host

import (
	"context"
	"fmt"

	"github.com/constellation-chain/constellation/interfaces"
	"github.com/constellation-chain/constellation/plugins/internal/wire"
	"github.com/constellation-chain/constellation/plugins/pb"
)

// contractsFactory is an interfaces.ContractsFactory backed by a plugin.
type contractsFactory struct{ p *Plugin }

var _ interfaces.ContractsFactory = (*contractsFactory)(nil)

func (f *contractsFactory) Info() interfaces.PluginInfo { return f.p.info }

// NewRuntime creates a contract runtime in the plugin process. The runtime
// reads state through the host's StateReader callback service, reached
// through the GRPCBroker.
func (f *contractsFactory) NewRuntime(params []byte) (interfaces.ContractRuntime, error) {
	h, err := newHandle(f.p, "contract runtime",
		func(ctx context.Context, proc *process) (uint64, error) {
			r, err := proc.contracts.New(ctx, &pb.NewRuntimeRequest{Params: params, StateBroker: proc.callbackID})
			if err != nil {
				return 0, err
			}
			return r.GetInstance(), nil
		},
		func(ctx context.Context, proc *process, id uint64) error {
			_, err := proc.contracts.Close(ctx, &pb.InstanceRef{Instance: id})
			return err
		})
	if err != nil {
		return nil, fmt.Errorf("new contract runtime: %w", err)
	}
	c := &runtimeClient{h: h}
	closeWhenUnreachable(c, h)
	return c, nil
}

// runtimeClient is an interfaces.ContractRuntime living in a plugin
// process. Deployments are journaled, so a restarted process gets every
// contract deployed again; invocations are not (their writes are the
// kernel's to apply). Calls are serialized.
type runtimeClient struct{ h *handle }

func (c *runtimeClient) Deploy(ctx context.Context, code []byte) (interfaces.Hash, error) {
	var out interfaces.Hash
	deploy := func(ctx context.Context, proc *process, id uint64) error {
		_, err := proc.contracts.Deploy(ctx, &pb.DeployRequest{Instance: id, Code: code})
		return err
	}
	err := c.h.call(ctx, "deploy", func(ctx context.Context, proc *process, id uint64) error {
		r, err := proc.contracts.Deploy(ctx, &pb.DeployRequest{Instance: id, Code: code})
		if err != nil {
			return err
		}
		h, err := wire.Hash(r.GetCodeHash(), "code hash")
		if err != nil {
			return badAnswer("%v", err)
		}
		out = h
		return nil
	}, deploy, len(code))
	return out, err
}

func (c *runtimeClient) Invoke(ctx context.Context, req interfaces.InvokeRequest) (interfaces.InvokeResult, error) {
	var out interfaces.InvokeResult
	if req.Limits.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, req.Limits.Timeout)
		defer cancel()
	}
	inv, done := c.h.p.cb.addState(req.State)
	defer done()
	err := c.h.call(ctx, "invoke "+req.Method, func(ctx context.Context, proc *process, id uint64) error {
		r, err := proc.contracts.Invoke(ctx, &pb.InvokeRequest{
			Instance:     id,
			Contract:     req.Contract[:],
			Method:       req.Method,
			Caller:       req.Caller[:],
			Input:        req.Input,
			Invocation:   inv,
			TimeoutNanos: int64(req.Limits.Timeout),
			MemoryBytes:  req.Limits.MemoryBytes,
		})
		if err != nil {
			return err
		}
		res, err := wire.InvokeResultFromPB(r)
		if err != nil {
			return badAnswer("%v", err)
		}
		out = res
		return nil
	}, nil, 0)
	return out, err
}

// Close releases the plugin-side runtime.
func (c *runtimeClient) Close() error { return c.h.close() }
