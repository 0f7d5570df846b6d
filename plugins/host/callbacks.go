package host

import (
	"context"
	"errors"
	"io"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/constellation-chain/constellation/interfaces"
	"github.com/constellation-chain/constellation/plugins/pb"
)

// callbacks serves what the kernel offers back to a plugin through the
// GRPCBroker: the state reader of each running contract invocation and the
// entropy source of each DealKeys call. Sessions are registered for the
// duration of one call and named by ids the plugin cannot guess wrong into
// another plugin's data (each Plugin has its own table).
type callbacks struct {
	pb.UnimplementedStateReaderServer
	pb.UnimplementedEntropyServer

	mu      sync.Mutex
	next    uint64
	states  map[uint64]interfaces.StateReader
	entropy map[uint64]*entropySession
}

type entropySession struct {
	mu sync.Mutex
	r  io.Reader
}

func newCallbacks() *callbacks {
	return &callbacks{states: map[uint64]interfaces.StateReader{}, entropy: map[uint64]*entropySession{}}
}

// addState registers a state reader and returns its invocation id and a
// function that removes it.
func (c *callbacks) addState(r interfaces.StateReader) (uint64, func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.next++
	id := c.next
	c.states[id] = r
	return id, func() {
		c.mu.Lock()
		delete(c.states, id)
		c.mu.Unlock()
	}
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

// maxStateKey bounds a key the plugin may ask for.
const maxStateKey = 64 << 10

func (c *callbacks) Get(_ context.Context, req *pb.StateGetRequest) (*pb.StateGetResponse, error) {
	c.mu.Lock()
	r, ok := c.states[req.GetInvocation()]
	c.mu.Unlock()
	if !ok {
		return nil, status.Errorf(codes.NotFound, "no running invocation %d", req.GetInvocation())
	}
	if len(req.GetKey()) > maxStateKey {
		return nil, status.Errorf(codes.InvalidArgument, "state key has %d bytes, limit %d", len(req.GetKey()), maxStateKey)
	}
	if r == nil {
		return &pb.StateGetResponse{}, nil
	}
	v, found, err := r.Get(req.GetKey())
	if err != nil {
		return &pb.StateGetResponse{Error: err.Error()}, nil
	}
	return &pb.StateGetResponse{Value: v, Ok: found}, nil
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
