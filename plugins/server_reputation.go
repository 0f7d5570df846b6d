package plugins

import (
	"context"
	"io"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/constellation-chain/constellation/interfaces"
	"github.com/constellation-chain/constellation/plugins/internal/wire"
	"github.com/constellation-chain/constellation/plugins/pb"
)

// reputationServer exposes an interfaces.ReputationFactory and its instances.
type reputationServer struct {
	pb.UnimplementedReputationServer
	f    interfaces.ReputationFactory
	inst table[interfaces.Reputation]
}

func (s *reputationServer) New(_ context.Context, req *pb.NewReputationRequest) (*pb.InstanceRef, error) {
	r, err := s.f.NewReputation(req.GetParams())
	if err != nil {
		return nil, implError("new reputation", err)
	}
	if r == nil {
		return nil, status.Error(codes.Internal, "new reputation: factory returned no instance and no error")
	}
	id, err := s.inst.add(r)
	if err != nil {
		return nil, err
	}
	return &pb.InstanceRef{Instance: id}, nil
}

func (s *reputationServer) Observe(_ context.Context, req *pb.ObserveRequest) (*pb.Empty, error) {
	o, err := wire.ObservationFromPB(req)
	if err != nil {
		return nil, badRequest(err)
	}
	err = with(&s.inst, req.GetInstance(), func(r interfaces.Reputation) error {
		if err := r.Observe(o); err != nil {
			return implError("observe", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &pb.Empty{}, nil
}

func (s *reputationServer) Score(_ context.Context, req *pb.ScoreRequest) (*pb.ScoreResponse, error) {
	star, err := wire.Star(req.GetStar(), "star")
	if err != nil {
		return nil, badRequest(err)
	}
	var out *pb.ScoreResponse
	err = with(&s.inst, req.GetInstance(), func(r interfaces.Reputation) error {
		out = &pb.ScoreResponse{Score: int64(r.Score(star))}
		return nil
	})
	return out, err
}

func (s *reputationServer) Select(_ context.Context, req *pb.SelectRequest) (*pb.SelectResponse, error) {
	cands, err := wire.Stars(req.GetCandidates(), "candidates")
	if err != nil {
		return nil, badRequest(err)
	}
	k, err := wire.Int(req.GetK(), wire.MaxListLen, "k")
	if err != nil {
		return nil, badRequest(err)
	}
	seed, err := wire.Hash(req.GetSeed(), "seed")
	if err != nil {
		return nil, badRequest(err)
	}
	var out *pb.SelectResponse
	err = with(&s.inst, req.GetInstance(), func(r interfaces.Reputation) error {
		sel, err := r.Select(cands, k, seed)
		if err != nil {
			return implError("select", err)
		}
		out = &pb.SelectResponse{Selected: wire.StarBytes(sel)}
		return nil
	})
	return out, err
}

func (s *reputationServer) Snapshot(_ context.Context, req *pb.InstanceRef) (*pb.SnapshotResponse, error) {
	var out *pb.SnapshotResponse
	err := with(&s.inst, req.GetInstance(), func(r interfaces.Reputation) error {
		snap, err := r.Snapshot()
		if err != nil {
			return implError("snapshot", err)
		}
		out = &pb.SnapshotResponse{Snapshot: snap}
		return nil
	})
	return out, err
}

func (s *reputationServer) Restore(_ context.Context, req *pb.RestoreRequest) (*pb.Empty, error) {
	err := with(&s.inst, req.GetInstance(), func(r interfaces.Reputation) error {
		if err := r.Restore(req.GetSnapshot()); err != nil {
			return implError("restore", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &pb.Empty{}, nil
}

func (s *reputationServer) Close(_ context.Context, req *pb.InstanceRef) (*pb.Empty, error) {
	e, err := s.inst.remove(req.GetInstance())
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if c, ok := e.v.(io.Closer); ok {
		if err := c.Close(); err != nil {
			return nil, implError("close reputation", err)
		}
	}
	return &pb.Empty{}, nil
}
