package outbox

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/constellation-chain/constellation/interfaces"
)

// stuck is a transport whose peer never accepts anything.
type stuck struct {
	interfaces.Transport
	sent atomic.Int64
}

func (s *stuck) Send(ctx context.Context, _ interfaces.StarID, _ string, _ []byte) error {
	s.sent.Add(1)
	<-ctx.Done()
	return ctx.Err()
}

// TestADeadPeerNeverBlocksTheSender: sending to a peer that takes nothing
// returns at once, and what does not fit its queue is counted as dropped.
func TestADeadPeerNeverBlocksTheSender(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tr := &stuck{}
	o := New(tr, nil)
	peer := interfaces.DevStar("dead")
	// Were Send to wait for the peer, this loop would never end.
	const total = PeerQueue + 500
	for i := 0; i < total; i++ {
		o.Send(ctx, peer, "direct/test", []byte{byte(i)})
	}
	// The writer holds one message in Send; the queue holds PeerQueue.
	if got := o.Dropped(); got < total-PeerQueue-1 || got > total-PeerQueue {
		t.Fatalf("dropped %d, want about %d", got, total-PeerQueue)
	}
}
