package host

import (
	"context"
	"fmt"
	"io"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/constellation-chain/constellation/interfaces"
	"github.com/constellation-chain/constellation/plugins/internal/wire"
	"github.com/constellation-chain/constellation/plugins/pb"
)

// reputationFactory is an interfaces.ReputationFactory backed by a plugin.
type reputationFactory struct{ p *Plugin }

var _ interfaces.ReputationFactory = (*reputationFactory)(nil)

func (f *reputationFactory) Info() interfaces.PluginInfo { return f.p.info }

// NewReputation creates an instance in the plugin process. The result also
// implements io.Closer and Err (see reputationClient).
func (f *reputationFactory) NewReputation(params []byte) (interfaces.Reputation, error) {
	h, err := newHandle(f.p, "reputation instance",
		func(ctx context.Context, proc *process) (uint64, error) {
			r, err := proc.reputation.New(ctx, &pb.NewReputationRequest{Params: params})
			if err != nil {
				return 0, err
			}
			return r.GetInstance(), nil
		},
		func(ctx context.Context, proc *process, id uint64) error {
			_, err := proc.reputation.Close(ctx, &pb.InstanceRef{Instance: id})
			return err
		})
	if err != nil {
		return nil, fmt.Errorf("new reputation: %w", err)
	}
	c := &reputationClient{h: h}
	closeWhenUnreachable(c, h)
	return c, nil
}

// reputationClient is an interfaces.Reputation living in a plugin process.
// Observe and Restore are journaled for replay after a crash (Restore
// resets the journal, since it replaces the whole state). Answers are
// checked: a selection must be k distinct candidates sorted by StarID.
//
// Score has no error result in the interface: if the plugin cannot answer,
// Score logs the failure, returns 0 and remembers the error, which Err
// reports. The kernel should check Err after scoring a batch.
type reputationClient struct {
	h *handle

	mu  sync.Mutex
	err error
}

var _ io.Closer = (*reputationClient)(nil)

func (c *reputationClient) Observe(o interfaces.Observation) error {
	req := wire.ObservationToPB(0, o)
	replay := func(ctx context.Context, proc *process, id uint64) error {
		r := proto.Clone(req).(*pb.ObserveRequest)
		r.Instance = id
		_, err := proc.reputation.Observe(ctx, r)
		return err
	}
	return c.h.call(context.Background(), "observe", replay, replay, proto.Size(req))
}

func (c *reputationClient) Score(s interfaces.StarID) interfaces.Score {
	var score interfaces.Score
	err := c.h.call(context.Background(), "score", func(ctx context.Context, proc *process, id uint64) error {
		r, err := proc.reputation.Score(ctx, &pb.ScoreRequest{Instance: id, Star: s[:]})
		if err != nil {
			return err
		}
		score = interfaces.Score(r.GetScore())
		return nil
	}, nil, 0)
	if err != nil {
		c.h.p.log.Error("score failed; returning 0", "star", s.Short(), "error", err)
		c.mu.Lock()
		if c.err == nil {
			c.err = err
		}
		c.mu.Unlock()
		return 0
	}
	return score
}

// Err returns the first error a Score call swallowed, or nil.
func (c *reputationClient) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *reputationClient) Select(candidates []interfaces.StarID, k int, seed interfaces.Hash) ([]interfaces.StarID, error) {
	if k < 0 {
		return nil, fmt.Errorf("select: k = %d is negative", k)
	}
	var out []interfaces.StarID
	req := &pb.SelectRequest{Candidates: wire.StarBytes(candidates), K: int64(k), Seed: seed[:]}
	err := c.h.call(context.Background(), "select", func(ctx context.Context, proc *process, id uint64) error {
		req.Instance = id
		r, err := proc.reputation.Select(ctx, req)
		if err != nil {
			return err
		}
		sel, err := wire.Stars(r.GetSelected(), "selected")
		if err != nil {
			return badAnswer("%v", err)
		}
		if err := checkSelection(candidates, k, sel); err != nil {
			return err
		}
		out = sel
		return nil
	}, nil, 0)
	return out, err
}

// checkSelection verifies that sel is k distinct members of candidates in
// ascending StarID order.
func checkSelection(candidates []interfaces.StarID, k int, sel []interfaces.StarID) error {
	if len(sel) != k {
		return badAnswer("selected %d stars, asked for %d", len(sel), k)
	}
	in := make(map[interfaces.StarID]bool, len(candidates))
	for _, s := range candidates {
		in[s] = true
	}
	for i, s := range sel {
		if !in[s] {
			return badAnswer("selected %s, which is not a candidate", s.Short())
		}
		if i > 0 && !sel[i-1].Less(s) {
			return badAnswer("selection is not sorted by StarID without repeats at position %d", i)
		}
	}
	return nil
}

func (c *reputationClient) Snapshot() ([]byte, error) {
	var out []byte
	err := c.h.call(context.Background(), "snapshot", func(ctx context.Context, proc *process, id uint64) error {
		r, err := proc.reputation.Snapshot(ctx, &pb.InstanceRef{Instance: id})
		if err != nil {
			return err
		}
		out = r.GetSnapshot()
		if out == nil {
			out = []byte{}
		}
		return nil
	}, nil, 0)
	return out, err
}

func (c *reputationClient) Restore(snapshot []byte) error {
	snap := append([]byte(nil), snapshot...)
	replay := func(ctx context.Context, proc *process, id uint64) error {
		_, err := proc.reputation.Restore(ctx, &pb.RestoreRequest{Instance: id, Snapshot: snap})
		return err
	}
	err := c.h.call(context.Background(), "restore", replay, nil, 0)
	if err == nil {
		c.h.mu.Lock()
		c.h.resetJournal(replay, len(snap))
		c.h.mu.Unlock()
	}
	return err
}

// Close releases the plugin-side instance.
func (c *reputationClient) Close() error { return c.h.close() }
