package group

import (
	"testing"

	"github.com/constellation-chain/constellation/interfaces"
)

func TestObservationCarriesTransfersAsInteractions(t *testing.T) {
	a, b := interfaces.DevKey("a"), interfaces.DevStar("b")
	tx, _ := interfaces.NewTransfer(a, 1, interfaces.Hash{}, b, 7)
	data := &interfaces.Transaction{Sender: interfaces.DevStar("a"), Seq: 2, Kind: interfaces.TxData, Payload: []byte("x")}
	blk := &interfaces.Block{Header: interfaces.BlockHeader{Height: 3, Epoch: 2, Timestamp: 9}, Txs: []*interfaces.Transaction{tx, data}}
	o := ObservationOf(blk)
	if o.Height != 3 || o.Epoch != 2 || o.Timestamp != 9 {
		t.Fatalf("header fields: %+v", o)
	}
	if len(o.Interactions) != 1 || o.Interactions[0] != (interfaces.Interaction{From: tx.Sender, To: b, Amount: 7}) {
		t.Fatalf("interactions %+v", o.Interactions)
	}
}

// TestAGalaxysViewOfABlockCarriesItsEdgeSample: a cluster block known by
// header and metadata (a checkpoint) shows its sampled transfers as
// interactions; a block with transactions shows those, not the sample.
func TestAGalaxysViewOfABlockCarriesItsEdgeSample(t *testing.T) {
	e := interfaces.Edge{From: interfaces.DevStar("a"), To: interfaces.DevStar("b")}
	summary := &interfaces.Block{Meta: interfaces.BlockMeta{Edges: []interfaces.Edge{e}}}
	if o := ObservationOf(summary); len(o.Interactions) != 1 || o.Interactions[0] != (interfaces.Interaction{From: e.From, To: e.To, Amount: 1}) {
		t.Fatalf("interactions %+v", o.Interactions)
	}
	tx, _ := interfaces.NewTransfer(interfaces.DevKey("a"), 1, interfaces.Hash{}, e.To, 7)
	full := &interfaces.Block{Txs: []*interfaces.Transaction{tx}, Meta: summary.Meta}
	if o := ObservationOf(full); len(o.Interactions) != 1 || o.Interactions[0].Amount != 7 {
		t.Fatalf("a full block's interactions %+v", o.Interactions)
	}
}

func TestRecentMessagesRingKeepsTheNewestInOrder(t *testing.T) {
	n := &Group{}
	for i := 0; i < maxRecent+5; i++ {
		n.remember(&interfaces.SignedMessage{Payload: []byte{byte(i), byte(i >> 8)}})
	}
	got := n.recentInOrder()
	if len(got) != maxRecent {
		t.Fatalf("kept %d, want %d", len(got), maxRecent)
	}
	for i, e := range got {
		want := i + 5
		if int(e.Payload[0])|int(e.Payload[1])<<8 != want {
			t.Fatalf("position %d holds message %d, want %d", i, int(e.Payload[0])|int(e.Payload[1])<<8, want)
		}
	}
}
