package host

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/constellation-chain/constellation/interfaces"
	"github.com/constellation-chain/constellation/plugins/internal/wire"
	"github.com/constellation-chain/constellation/plugins/pb"
)

// consensusFactory is an interfaces.ConsensusFactory backed by a plugin.
type consensusFactory struct{ p *Plugin }

// dealingConsensusFactory adds interfaces.KeyDealer for plugins that deal
// keys.
type dealingConsensusFactory struct{ *consensusFactory }

var (
	_ interfaces.ConsensusFactory = (*consensusFactory)(nil)
	_ interfaces.KeyDealer        = dealingConsensusFactory{}
)

func (p *Plugin) consensusFactory() (interfaces.Plugin, error) {
	f := &consensusFactory{p: p}
	deals := false
	err := p.simpleCall(context.Background(), "query key dealing", func(ctx context.Context, proc *process) error {
		r, err := proc.consensus.Dealer(ctx, &pb.Empty{})
		if err != nil {
			return err
		}
		deals = r.GetDealsKeys()
		return nil
	})
	if err != nil {
		return nil, err
	}
	if deals {
		return dealingConsensusFactory{f}, nil
	}
	return f, nil
}

func (f *consensusFactory) Info() interfaces.PluginInfo { return f.p.info }

// NewConsensus creates an instance in the plugin process. The returned
// value also implements io.Closer; closing it releases the plugin-side
// instance (an unreachable instance is released by a cleanup as well).
func (f *consensusFactory) NewConsensus(cfg interfaces.ConsensusConfig) (interfaces.Consensus, error) {
	req := wire.ConsensusConfigToPB(cfg)
	c := &consensusClient{cfg: cfg, nextDecision: cfg.Epoch, members: map[interfaces.StarID]bool{}}
	for _, m := range cfg.Members {
		c.members[m] = true
	}
	// The create function outlives this call (it recreates the instance
	// after a restart) and must not reference c, or c would never become
	// unreachable; it reports the fresh instance's epoch through first.
	first := new(uint64)
	h, err := newHandle(f.p, "consensus instance",
		func(ctx context.Context, proc *process) (uint64, error) {
			r, err := proc.consensus.New(ctx, req)
			if err != nil {
				return 0, err
			}
			*first = r.GetEpoch()
			return r.GetInstance(), nil
		},
		func(ctx context.Context, proc *process, id uint64) error {
			_, err := proc.consensus.Close(ctx, &pb.InstanceRef{Instance: id})
			return err
		})
	if err != nil {
		return nil, fmt.Errorf("new consensus: %w", err)
	}
	c.h = h
	c.epoch = *first
	closeWhenUnreachable(c, h)
	return c, nil
}

// DealKeys deals threshold keys in the plugin process, which reads its
// randomness from rnd through the broker exactly as an in-process dealer
// would.
func (f dealingConsensusFactory) DealKeys(members []interfaces.StarID, faulty int, rnd io.Reader) ([][]byte, error) {
	if rnd == nil {
		return nil, fmt.Errorf("plugin %s: deal keys: no randomness source", f.p.label)
	}
	session, done := f.p.cb.addEntropy(rnd)
	defer done()
	var keys [][]byte
	// Dealing consumes rnd, so it is not retried after a crash: a retry
	// would deal different keys from the rest of the stream.
	proc, err := f.p.current()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), f.p.opts.CallTimeout)
	defer cancel()
	r, err := proc.consensus.DealKeys(ctx, &pb.DealKeysRequest{
		Members:        wire.StarBytes(members),
		Faulty:         int64(faulty),
		EntropyBroker:  proc.callbackID,
		EntropySession: session,
	})
	if err != nil {
		if f.p.crashed(proc, err) {
			if rerr := f.p.restart(proc, err); rerr != nil {
				return nil, fmt.Errorf("deal keys: %w", rerr)
			}
			return nil, fmt.Errorf("plugin %s: deal keys: the plugin crashed while dealing and was restarted; deal again with fresh randomness: %w", f.p.label, err)
		}
		return nil, fmt.Errorf("plugin %s: deal keys: %w", f.p.label, err)
	}
	keys = r.GetKeys()
	if len(keys) != len(members) {
		return nil, fmt.Errorf("plugin %s: deal keys: %w", f.p.label, badAnswer("%d key sets for %d members", len(keys), len(members)))
	}
	return keys, nil
}

// consensusClient is an interfaces.Consensus living in a plugin process.
// Like the interface it implements, it must be used from one goroutine at a
// time. It records every accepted Propose and Step so a crashed plugin can
// be restarted and the instance rebuilt by replay, and it checks every
// answer: recipients are members or Broadcast, decisions come in epoch
// order with each epoch exactly once, decided proposers are members.
type consensusClient struct {
	h       *handle
	cfg     interfaces.ConsensusConfig
	members map[interfaces.StarID]bool

	epoch        uint64 // Epoch() after the last call
	nextDecision uint64 // the epoch the next decision must be for
}

var (
	_ io.Closer                  = (*consensusClient)(nil)
	_ interfaces.BatchStepper    = (*consensusClient)(nil)
	_ interfaces.FaultChecker    = (*consensusClient)(nil)
	_ interfaces.ThresholdSigner = (*consensusClient)(nil)
)

// SignShare implements interfaces.ThresholdSigner through the plugin.
func (c *consensusClient) SignShare(msg []byte) ([]byte, error) {
	var out []byte
	err := c.query("sign-share", func(ctx context.Context, proc *process, id uint64) error {
		r, err := proc.consensus.SignShare(ctx, &pb.SignShareRequest{Instance: id, Msg: msg})
		out = r.GetShare()
		return err
	})
	return out, err
}

// VerifyShare implements interfaces.ThresholdSigner through the plugin.
func (c *consensusClient) VerifyShare(member interfaces.StarID, msg, share []byte) error {
	var ans *pb.SignerAnswer
	err := c.query("verify-share", func(ctx context.Context, proc *process, id uint64) error {
		var err error
		ans, err = proc.consensus.VerifyShare(ctx, &pb.VerifyShareRequest{Instance: id, Member: member[:], Msg: msg, Share: share})
		return err
	})
	return signerAnswer(ans, err)
}

// CombineShares implements interfaces.ThresholdSigner through the plugin.
func (c *consensusClient) CombineShares(msg []byte, shares []interfaces.SignatureShare) ([]byte, error) {
	req := &pb.CombineSharesRequest{Msg: msg}
	for _, s := range shares {
		req.Members = append(req.Members, append([]byte(nil), s.Member[:]...))
		req.Shares = append(req.Shares, s.Share)
	}
	var out []byte
	err := c.query("combine-shares", func(ctx context.Context, proc *process, id uint64) error {
		req.Instance = id
		r, err := proc.consensus.CombineShares(ctx, req)
		out = r.GetSignature()
		return err
	})
	return out, err
}

// VerifyGroupSignature implements interfaces.ThresholdSigner through the
// plugin.
func (c *consensusClient) VerifyGroupSignature(msg, sig []byte) error {
	var ans *pb.SignerAnswer
	err := c.query("verify-group-signature", func(ctx context.Context, proc *process, id uint64) error {
		var err error
		ans, err = proc.consensus.VerifyGroupSignature(ctx, &pb.VerifyGroupSignatureRequest{Instance: id, Msg: msg, Signature: sig})
		return err
	})
	return signerAnswer(ans, err)
}

func signerAnswer(ans *pb.SignerAnswer, err error) error {
	switch {
	case err != nil:
		return err
	case !ans.GetSupported():
		return errors.New("the consensus plugin holds no group key")
	case !ans.GetOk():
		return errors.New(ans.GetReason())
	}
	return nil
}

// errAPIv1 is returned for what a plugin speaking only API version 1
// cannot do.
var errAPIv1 = errors.New("the consensus plugin speaks API version 1 only: it cannot check evidence or threshold-sign")

// speaksV2 reports whether the plugin speaks API version 2 (evidence
// checks and threshold signing).
func (c *consensusClient) speaksV2() bool { return c.h.p.info.Speaks(2) }

// query makes a call that changes no state in the plugin, so it is not
// recorded for replay after a crash.
func (c *consensusClient) query(op string, fn func(ctx context.Context, proc *process, id uint64) error) error {
	if !c.speaksV2() {
		return errAPIv1
	}
	return c.h.call(context.Background(), op, fn, nil, 0)
}

// CheckFault asks the plugin's instance whether the payloads prove f
// (interfaces.FaultChecker). A plugin whose engine cannot check evidence,
// or that speaks API version 1 only, proves nothing.
func (c *consensusClient) CheckFault(f interfaces.Fault, to []interfaces.StarID, payloads [][]byte) error {
	req := &pb.CheckFaultRequest{Fault: wire.FaultsToPB([]interfaces.Fault{f})[0], To: wire.StarBytes(to), Payloads: payloads}
	var resp *pb.CheckFaultResponse
	err := c.query("check-fault", func(ctx context.Context, proc *process, id uint64) error {
		req.Instance = id
		r, err := proc.consensus.CheckFault(ctx, req)
		resp = r
		return err
	})
	switch {
	case err != nil:
		return err
	case !resp.GetSupported():
		return errors.New("the consensus plugin cannot check evidence")
	case !resp.GetProven():
		return errors.New(resp.GetReason())
	}
	return nil
}

func (c *consensusClient) Propose(contribution []byte) (interfaces.Output, error) {
	req := &pb.ProposeRequest{Contribution: contribution}
	var out interfaces.Output
	err := c.h.call(context.Background(), "propose", func(ctx context.Context, proc *process, id uint64) error {
		req.Instance = id
		r, err := proc.consensus.Propose(ctx, req)
		if err != nil {
			return err
		}
		out, err = c.accept(r)
		return err
	}, func(ctx context.Context, proc *process, id uint64) error {
		_, err := proc.consensus.Propose(ctx, &pb.ProposeRequest{Instance: id, Contribution: contribution})
		return err
	}, len(contribution))
	return out, err
}

func (c *consensusClient) Step(from interfaces.StarID, payload []byte) (interfaces.Output, error) {
	fromB := append([]byte(nil), from[:]...)
	var out interfaces.Output
	err := c.h.call(context.Background(), "step", func(ctx context.Context, proc *process, id uint64) error {
		r, err := proc.consensus.Step(ctx, &pb.StepRequest{Instance: id, From: fromB, Payload: payload})
		if err != nil {
			return err
		}
		out, err = c.accept(r)
		return err
	}, func(ctx context.Context, proc *process, id uint64) error {
		_, err := proc.consensus.Step(ctx, &pb.StepRequest{Instance: id, From: fromB, Payload: payload})
		return err
	}, len(payload)+32)
	return out, err
}

// StepMany delivers several messages in one round trip; the plugin applies
// them in order, as consecutive Step calls would. The batch is recorded as
// one input for replay after a crash.
func (c *consensusClient) StepMany(msgs []interfaces.Inbound) (interfaces.Output, error) {
	req := &pb.StepManyRequest{Items: make([]*pb.StepItem, 0, len(msgs))}
	size := 0
	for _, m := range msgs {
		req.Items = append(req.Items, &pb.StepItem{From: append([]byte(nil), m.From[:]...), Payload: m.Payload})
		size += len(m.Payload) + 32
	}
	var out interfaces.Output
	err := c.h.call(context.Background(), "step-many", func(ctx context.Context, proc *process, id uint64) error {
		req.Instance = id
		r, err := proc.consensus.StepMany(ctx, req)
		if err != nil {
			return err
		}
		out, err = c.accept(r)
		return err
	}, func(ctx context.Context, proc *process, id uint64) error {
		again := &pb.StepManyRequest{Instance: id, Items: req.Items}
		_, err := proc.consensus.StepMany(ctx, again)
		return err
	}, size)
	return out, err
}

// Epoch returns the epoch the next Propose contributes to, as the plugin
// reported it with its last answer (no round trip).
func (c *consensusClient) Epoch() uint64 { return c.epoch }

// Close releases the plugin-side instance.
func (c *consensusClient) Close() error { return c.h.close() }

// accept converts and checks one answer. A wrong answer breaks the
// instance for good: its state in the plugin can no longer be trusted.
func (c *consensusClient) accept(r *pb.ConsensusOutput) (interfaces.Output, error) {
	out, epoch, err := wire.OutputFromPB(r)
	if err != nil {
		return out, c.h.fail(badAnswer("%v", err))
	}
	for i, m := range out.Messages {
		if m.To != interfaces.Broadcast && !c.members[m.To] {
			return out, c.h.fail(badAnswer("message %d is addressed to %s, who is not a member", i, m.To.Short()))
		}
	}
	next := c.nextDecision
	for i, d := range out.Decisions {
		if d.Epoch != next {
			return out, c.h.fail(badAnswer("decision %d is for epoch %d, want epoch %d (decisions must come in epoch order, each epoch once)", i, d.Epoch, next))
		}
		for j, cf := range d.Contributions {
			if !c.members[cf.Proposer] {
				return out, c.h.fail(badAnswer("decision for epoch %d: contribution %d is from %s, who is not a member", d.Epoch, j, cf.Proposer.Short()))
			}
		}
		next++
	}
	if epoch < c.epoch {
		return out, c.h.fail(badAnswer("epoch went back from %d to %d", c.epoch, epoch))
	}
	c.nextDecision = next
	c.epoch = epoch
	return out, nil
}
