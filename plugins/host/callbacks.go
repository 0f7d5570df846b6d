package host

import (
	"context"
	"errors"
	"io"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/constellation-chain/constellation/plugins/pb"
)

// callbacks serves what the kernel offers back to a plugin through the
// GRPCBroker: the entropy source of each DealKeys call. (Contracts read
// state over their Invoke stream; see contracts.go.) Sessions are registered for the
// duration of one call and named by ids the plugin cannot guess wrong into
// another plugin's data (each Plugin has its own table).
type callbacks struct {
	pb.UnimplementedEntropyServer

	mu      sync.Mutex
	next    uint64
	entropy map[uint64]*entropySession
}

type entropySession struct {
	mu sync.Mutex
	r  io.Reader
}

func newCallbacks() *callbacks {
	return &callbacks{entropy: map[uint64]*entropySession{}}
}

// addEntropy registers a dealer's randomness source.
func (c *callbacks) addEntropy(r io.Reader) (uint64, func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.next++
	id := c.next
	c.entropy[id] = &entropySession{r: r}
	return id, func() {
		c.mu.Lock()
		delete(c.entropy, id)
		c.mu.Unlock()
	}
}

// maxEntropyRead matches the plugin side's bound.
const maxEntropyRead = 1 << 16

func (c *callbacks) Read(_ context.Context, req *pb.EntropyRequest) (*pb.EntropyResponse, error) {
	c.mu.Lock()
	s, ok := c.entropy[req.GetSession()]
	c.mu.Unlock()
	if !ok {
		return nil, status.Errorf(codes.NotFound, "no entropy session %d", req.GetSession())
	}
	n := int(req.GetN())
	if n <= 0 || n > maxEntropyRead {
		return nil, status.Errorf(codes.InvalidArgument, "entropy read of %d bytes is out of range [1, %d]", n, maxEntropyRead)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	buf := make([]byte, n)
	got, err := s.r.Read(buf)
	if got < 0 || got > n {
		return nil, status.Errorf(codes.Internal, "entropy source returned %d bytes for a read of %d", got, n)
	}
	resp := &pb.EntropyResponse{Data: buf[:got]}
	if errors.Is(err, io.EOF) {
		resp.Eof = true
	} else if err != nil {
		return nil, status.Errorf(codes.Aborted, "entropy source: %v", err)
	}
	return resp, nil
}
