package plugins

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/constellation-chain/constellation/interfaces"
	"github.com/constellation-chain/constellation/plugins/internal/wire"
	"github.com/constellation-chain/constellation/plugins/pb"
)

// consensusServer exposes an interfaces.ConsensusFactory and its instances.
type consensusServer struct {
	pb.UnimplementedConsensusServer
	f         interfaces.ConsensusFactory
	callbacks *callbackDialer
	inst      table[interfaces.Consensus]
}

func (s *consensusServer) New(_ context.Context, req *pb.ConsensusConfig) (*pb.NewConsensusResponse, error) {
	cfg, err := wire.ConsensusConfigFromPB(req)
	if err != nil {
		return nil, badRequest(err)
	}
	c, err := s.f.NewConsensus(cfg)
	if err != nil {
		return nil, implError("new consensus", err)
	}
	if c == nil {
		return nil, status.Error(codes.Internal, "new consensus: factory returned no instance and no error")
	}
	id, err := s.inst.add(c)
	if err != nil {
		return nil, err
	}
	return &pb.NewConsensusResponse{Instance: id, Epoch: c.Epoch()}, nil
}

func (s *consensusServer) Propose(_ context.Context, req *pb.ProposeRequest) (*pb.ConsensusOutput, error) {
	var out *pb.ConsensusOutput
	err := with(&s.inst, req.GetInstance(), func(c interfaces.Consensus) error {
		o, err := c.Propose(req.GetContribution())
		if err != nil {
			return implError("propose", err)
		}
		out = wire.OutputToPB(o, c.Epoch())
		return nil
	})
	return out, err
}

func (s *consensusServer) Step(_ context.Context, req *pb.StepRequest) (*pb.ConsensusOutput, error) {
	from, err := wire.Star(req.GetFrom(), "from")
	if err != nil {
		return nil, badRequest(err)
	}
	var out *pb.ConsensusOutput
	err = with(&s.inst, req.GetInstance(), func(c interfaces.Consensus) error {
		o, err := c.Step(from, req.GetPayload())
		if err != nil {
			return implError("step", err)
		}
		out = wire.OutputToPB(o, c.Epoch())
		return nil
	})
	return out, err
}

// StepMany applies the items in order, as consecutive Step calls would.
func (s *consensusServer) StepMany(_ context.Context, req *pb.StepManyRequest) (*pb.ConsensusOutput, error) {
	msgs := make([]interfaces.Inbound, 0, len(req.GetItems()))
	for i, it := range req.GetItems() {
		from, err := wire.Star(it.GetFrom(), fmt.Sprintf("items[%d].from", i))
		if err != nil {
			return nil, badRequest(err)
		}
		msgs = append(msgs, interfaces.Inbound{From: from, Payload: it.GetPayload()})
	}
	var out *pb.ConsensusOutput
	err := with(&s.inst, req.GetInstance(), func(c interfaces.Consensus) error {
		o, err := interfaces.StepAll(c, msgs)
		if err != nil {
			return implError("step", err)
		}
		out = wire.OutputToPB(o, c.Epoch())
		return nil
	})
	return out, err
}

func (s *consensusServer) Epoch(_ context.Context, req *pb.InstanceRef) (*pb.EpochResponse, error) {
	var out *pb.EpochResponse
	err := with(&s.inst, req.GetInstance(), func(c interfaces.Consensus) error {
		out = &pb.EpochResponse{Epoch: c.Epoch()}
		return nil
	})
	return out, err
}

func (s *consensusServer) Close(_ context.Context, req *pb.InstanceRef) (*pb.Empty, error) {
	e, err := s.inst.remove(req.GetInstance())
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if c, ok := e.v.(io.Closer); ok {
		if err := c.Close(); err != nil {
			return nil, implError("close consensus", err)
		}
	}
	return &pb.Empty{}, nil
}

// CheckFault asks the instance whether the payloads prove the fault.
func (s *consensusServer) CheckFault(_ context.Context, req *pb.CheckFaultRequest) (*pb.CheckFaultResponse, error) {
	fs, err := wire.FaultsFromPB([]*pb.Fault{req.GetFault()})
	if err != nil || req.GetFault() == nil {
		return nil, badRequest(fmt.Errorf("check fault: %v", err))
	}
	to, err := wire.Stars(req.GetTo(), "to")
	if err != nil {
		return nil, badRequest(err)
	}
	if len(to) != len(req.GetPayloads()) || len(to) > interfaces.MaxEvidenceMessages {
		return nil, badRequest(fmt.Errorf("check fault: %d recipients for %d payloads", len(to), len(req.GetPayloads())))
	}
	var out *pb.CheckFaultResponse
	err = with(&s.inst, req.GetInstance(), func(c interfaces.Consensus) error {
		fc, ok := c.(interfaces.FaultChecker)
		if !ok {
			out = &pb.CheckFaultResponse{}
			return nil
		}
		out = &pb.CheckFaultResponse{Supported: true, Proven: true}
		if err := fc.CheckFault(fs[0], to, req.GetPayloads()); err != nil {
			out.Proven, out.Reason = false, err.Error()
		}
		return nil
	})
	return out, err
}

// withSigner runs f on the instance's interfaces.ThresholdSigner; ok is
// false when the engine has none.
func (s *consensusServer) withSigner(id uint64, f func(ts interfaces.ThresholdSigner) error) (ok bool, err error) {
	err = with(&s.inst, id, func(c interfaces.Consensus) error {
		ts, has := c.(interfaces.ThresholdSigner)
		if !has {
			return nil
		}
		ok = true
		return f(ts)
	})
	return ok, err
}

func (s *consensusServer) SignShare(_ context.Context, req *pb.SignShareRequest) (*pb.SignShareResponse, error) {
	var out []byte
	ok, err := s.withSigner(req.GetInstance(), func(ts interfaces.ThresholdSigner) (err error) {
		out, err = ts.SignShare(req.GetMsg())
		return implError("sign share", err)
	})
	if err == nil && !ok {
		return nil, status.Error(codes.Unimplemented, "sign share: the engine holds no group key")
	}
	return &pb.SignShareResponse{Share: out}, err
}

func (s *consensusServer) VerifyShare(_ context.Context, req *pb.VerifyShareRequest) (*pb.SignerAnswer, error) {
	member, err := wire.Star(req.GetMember(), "member")
	if err != nil {
		return nil, badRequest(err)
	}
	ans := &pb.SignerAnswer{}
	ans.Supported, err = s.withSigner(req.GetInstance(), func(ts interfaces.ThresholdSigner) error {
		if verr := ts.VerifyShare(member, req.GetMsg(), req.GetShare()); verr != nil {
			ans.Reason = verr.Error()
		} else {
			ans.Ok = true
		}
		return nil
	})
	return ans, err
}

func (s *consensusServer) CombineShares(_ context.Context, req *pb.CombineSharesRequest) (*pb.CombineSharesResponse, error) {
	if len(req.GetMembers()) != len(req.GetShares()) || len(req.GetShares()) > wire.MaxListLen {
		return nil, badRequest(fmt.Errorf("combine shares: %d members for %d shares", len(req.GetMembers()), len(req.GetShares())))
	}
	members, err := wire.Stars(req.GetMembers(), "members")
	if err != nil {
		return nil, badRequest(err)
	}
	shares := make([]interfaces.SignatureShare, len(members))
	for i, m := range members {
		shares[i] = interfaces.SignatureShare{Member: m, Share: req.GetShares()[i]}
	}
	var out []byte
	ok, err := s.withSigner(req.GetInstance(), func(ts interfaces.ThresholdSigner) (err error) {
		out, err = ts.CombineShares(req.GetMsg(), shares)
		return implError("combine shares", err)
	})
	if err == nil && !ok {
		return nil, status.Error(codes.Unimplemented, "combine shares: the engine holds no group key")
	}
	return &pb.CombineSharesResponse{Signature: out}, err
}

func (s *consensusServer) VerifyGroupSignature(_ context.Context, req *pb.VerifyGroupSignatureRequest) (*pb.SignerAnswer, error) {
	ans := &pb.SignerAnswer{}
	var err error
	ans.Supported, err = s.withSigner(req.GetInstance(), func(ts interfaces.ThresholdSigner) error {
		if verr := ts.VerifyGroupSignature(req.GetMsg(), req.GetSignature()); verr != nil {
			ans.Reason = verr.Error()
		} else {
			ans.Ok = true
		}
		return nil
	})
	return ans, err
}

func (s *consensusServer) Dealer(context.Context, *pb.Empty) (*pb.DealerInfo, error) {
	_, ok := s.f.(interfaces.KeyDealer)
	return &pb.DealerInfo{DealsKeys: ok}, nil
}

func (s *consensusServer) DealKeys(ctx context.Context, req *pb.DealKeysRequest) (*pb.DealKeysResponse, error) {
	d, ok := s.f.(interfaces.KeyDealer)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "this consensus plugin does not deal keys")
	}
	members, err := wire.Stars(req.GetMembers(), "members")
	if err != nil {
		return nil, badRequest(err)
	}
	faulty, err := wire.Int(req.GetFaulty(), wire.MaxListLen, "faulty")
	if err != nil {
		return nil, badRequest(err)
	}
	conn, err := s.callbacks.dial(req.GetEntropyBroker())
	if err != nil {
		return nil, err
	}
	r := &remoteEntropy{ctx: ctx, c: pb.NewEntropyClient(conn), session: req.GetEntropySession()}
	keys, err := d.DealKeys(members, faulty, r)
	if err != nil {
		return nil, implError("deal keys", err)
	}
	return &pb.DealKeysResponse{Keys: keys}, nil
}

// maxEntropyRead bounds one Entropy.Read call.
const maxEntropyRead = 1 << 16

// remoteEntropy reads the host's io.Reader through the broker, asking for
// exactly what the dealer asks for so a seeded host source yields the same
// byte stream in and out of process.
type remoteEntropy struct {
	ctx     context.Context
	c       pb.EntropyClient
	session uint64
	eof     bool
}

func (r *remoteEntropy) Read(p []byte) (int, error) {
	if r.eof {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	n := min(len(p), maxEntropyRead)
	resp, err := r.c.Read(r.ctx, &pb.EntropyRequest{Session: r.session, N: uint32(n)})
	if err != nil {
		return 0, fmt.Errorf("read the host's entropy: %w", err)
	}
	if len(resp.GetData()) > n {
		return 0, errors.New("read the host's entropy: host sent more bytes than asked")
	}
	copy(p, resp.GetData())
	if resp.GetEof() {
		r.eof = true
		if len(resp.GetData()) == 0 {
			return 0, io.EOF
		}
	}
	return len(resp.GetData()), nil
}
