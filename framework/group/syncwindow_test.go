package group

import (
	"sync/atomic"
	"testing"

	"github.com/constellation-chain/constellation/interfaces"
)

// TestABehindNodeLeavesLaterEpochsToSyncInsteadOfFillingItsInbox: a
// node that is behind hears the group's current epochs when it comes
// back (after a partition or a restart). Those epochs reach it as blocks
// through sync; their messages are not queued, so the inbox keeps room
// for the epochs it can use and nothing counts as an inbox-full drop.
func TestABehindNodeLeavesLaterEpochsToSyncInsteadOfFillingItsInbox(t *testing.T) {
	n, err := Open(testConfig(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer n.closeStorage()
	from := interfaces.DevStar("peer")
	undecided := n.horizon.Load()
	if undecided != n.undecided() {
		t.Fatalf("horizon %d, undecided %d", undecided, n.undecided())
	}
	// Far more messages of later epochs than the inbox holds.
	for i := 0; i < 2*cap(n.inbox); i++ {
		n.queueStep(interfaces.Envelope{From: from}, &interfaces.SignedMessage{From: from, Epoch: undecided + syncWindow + 1 + uint64(i%100)})
	}
	if len(n.inbox) != 0 || atomic.LoadUint64(&n.dropped) != 0 {
		t.Fatalf("inbox %d, dropped %d: messages of epochs sync brings were queued", len(n.inbox), n.dropped)
	}
	if got := atomic.LoadUint64(&n.leftToSync); got != uint64(2*cap(n.inbox)) {
		t.Fatalf("left to sync %d, want %d", got, 2*cap(n.inbox))
	}
	// The epochs within the window are queued as before.
	for e := undecided; e <= undecided+syncWindow; e++ {
		n.queueStep(interfaces.Envelope{From: from}, &interfaces.SignedMessage{From: from, Epoch: e})
	}
	if want := int(syncWindow + 1); len(n.inbox) != want {
		t.Fatalf("inbox %d, want the %d messages within the window", len(n.inbox), want)
	}
}
