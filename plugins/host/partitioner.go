package host

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/constellation-chain/constellation/interfaces"
	"github.com/constellation-chain/constellation/plugins/internal/wire"
	"github.com/constellation-chain/constellation/plugins/pb"
)

// maxClusters bounds the cluster count a plugin may report.
const maxClusters = 1 << 20

// partitionerFactory is an interfaces.PartitionerFactory backed by a plugin.
type partitionerFactory struct{ p *Plugin }

var _ interfaces.PartitionerFactory = (*partitionerFactory)(nil)

func (f *partitionerFactory) Info() interfaces.PluginInfo { return f.p.info }

// NewPartitioner creates an instance in the plugin process.
func (f *partitionerFactory) NewPartitioner(clusters int, params []byte) (interfaces.Partitioner, error) {
	if clusters <= 0 || clusters > maxClusters {
		return nil, fmt.Errorf("new partitioner: %d clusters is out of range [1, %d]", clusters, maxClusters)
	}
	c := &partitionerClient{clusters: clusters}
	h, err := newHandle(f.p, "partitioner instance",
		func(ctx context.Context, proc *process) (uint64, error) {
			r, err := proc.partitioner.New(ctx, &pb.NewPartitionerRequest{Clusters: int64(clusters), Params: params})
			if err != nil {
				return 0, err
			}
			return r.GetInstance(), nil
		},
		func(ctx context.Context, proc *process, id uint64) error {
			_, err := proc.partitioner.Close(ctx, &pb.InstanceRef{Instance: id})
			return err
		})
	if err != nil {
		return nil, fmt.Errorf("new partitioner: %w", err)
	}
	c.h = h
	closeWhenUnreachable(c, h)
	return c, nil
}

// partitionerClient is an interfaces.Partitioner living in a plugin
// process. Learn is journaled for replay after a crash. Clusters is cached
// from the last Learn, so it costs no round trip.
//
// Assign has no error result in the interface: if the plugin cannot
// answer, or answers with a cluster that does not exist, Assign logs it,
// returns cluster 0 (which always exists) and remembers the error for Err.
type partitionerClient struct {
	h        *handle
	clusters int

	mu  sync.Mutex
	err error
}

var _ io.Closer = (*partitionerClient)(nil)

func (c *partitionerClient) Assign(tx *interfaces.Transaction) interfaces.ClusterID {
	raw := tx.Encode()
	var out interfaces.ClusterID
	err := c.h.call(context.Background(), "assign", func(ctx context.Context, proc *process, id uint64) error {
		r, err := proc.partitioner.Assign(ctx, &pb.AssignRequest{Instance: id, Tx: raw})
		if err != nil {
			return err
		}
		if int64(r.GetCluster()) >= int64(c.clusters) {
			return badAnswer("assigned cluster %d, but only %d clusters exist", r.GetCluster(), c.clusters)
		}
		out = interfaces.ClusterID(r.GetCluster())
		return nil
	}, nil, 0)
	if err != nil {
		c.h.p.log.Error("assign failed; routing to cluster 0", "tx", tx.ID().Short(), "error", err)
		c.mu.Lock()
		if c.err == nil {
			c.err = err
		}
		c.mu.Unlock()
		return 0
	}
	return out
}

// Err returns the first error an Assign call swallowed, or nil.
func (c *partitionerClient) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *partitionerClient) Learn(b *interfaces.Block) error {
	raw := b.Encode()
	replay := func(ctx context.Context, proc *process, id uint64) error {
		_, err := proc.partitioner.Learn(ctx, &pb.LearnRequest{Instance: id, Block: raw})
		return err
	}
	return c.h.call(context.Background(), "learn", func(ctx context.Context, proc *process, id uint64) error {
		if err := replay(ctx, proc, id); err != nil {
			return err
		}
		r, err := proc.partitioner.Clusters(ctx, &pb.InstanceRef{Instance: id})
		if err != nil {
			return err
		}
		n, err := wire.Int(r.GetClusters(), maxClusters, "clusters")
		if err != nil || n == 0 {
			return badAnswer("cluster count %d is out of range [1, %d]", r.GetClusters(), maxClusters)
		}
		c.clusters = n
		return nil
	}, replay, len(raw))
}

// Clusters returns how many clusters exist, as of the last Learn.
func (c *partitionerClient) Clusters() int { return c.clusters }

// Close releases the plugin-side instance.
func (c *partitionerClient) Close() error { return c.h.close() }
