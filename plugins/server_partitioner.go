package plugins

import (
	"context"
	"io"
	"math"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/constellation-chain/constellation/interfaces"
	"github.com/constellation-chain/constellation/plugins/internal/wire"
	"github.com/constellation-chain/constellation/plugins/pb"
)

// partitionerServer exposes an interfaces.PartitionerFactory and its
// instances.
type partitionerServer struct {
	pb.UnimplementedPartitionerServer
	f    interfaces.PartitionerFactory
	inst table[interfaces.Partitioner]
}

func (s *partitionerServer) New(_ context.Context, req *pb.NewPartitionerRequest) (*pb.InstanceRef, error) {
	n, err := wire.Int(req.GetClusters(), math.MaxUint32, "clusters")
	if err != nil {
		return nil, badRequest(err)
	}
	p, err := s.f.NewPartitioner(n, req.GetParams())
	if err != nil {
		return nil, implError("new partitioner", err)
	}
	if p == nil {
		return nil, status.Error(codes.Internal, "new partitioner: factory returned no instance and no error")
	}
	id, err := s.inst.add(p)
	if err != nil {
		return nil, err
	}
	return &pb.InstanceRef{Instance: id}, nil
}

func (s *partitionerServer) Assign(_ context.Context, req *pb.AssignRequest) (*pb.AssignResponse, error) {
	tx, err := interfaces.DecodeTransaction(req.GetTx())
	if err != nil {
		return nil, badRequest(err)
	}
	var out *pb.AssignResponse
	err = with(&s.inst, req.GetInstance(), func(p interfaces.Partitioner) error {
		out = &pb.AssignResponse{Cluster: uint32(p.Assign(tx))}
		return nil
	})
	return out, err
}

func (s *partitionerServer) Learn(_ context.Context, req *pb.LearnRequest) (*pb.Empty, error) {
	b, err := interfaces.DecodeBlock(req.GetBlock())
	if err != nil {
		return nil, badRequest(err)
	}
	err = with(&s.inst, req.GetInstance(), func(p interfaces.Partitioner) error {
		if err := p.Learn(b); err != nil {
			return implError("learn", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &pb.Empty{}, nil
}

func (s *partitionerServer) Clusters(_ context.Context, req *pb.InstanceRef) (*pb.ClustersResponse, error) {
	var out *pb.ClustersResponse
	err := with(&s.inst, req.GetInstance(), func(p interfaces.Partitioner) error {
		out = &pb.ClustersResponse{Clusters: int64(p.Clusters())}
		return nil
	})
	return out, err
}

func (s *partitionerServer) Close(_ context.Context, req *pb.InstanceRef) (*pb.Empty, error) {
	e, err := s.inst.remove(req.GetInstance())
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if c, ok := e.v.(io.Closer); ok {
		if err := c.Close(); err != nil {
			return nil, implError("close partitioner", err)
		}
	}
	return &pb.Empty{}, nil
}
