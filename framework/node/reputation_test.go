package node

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
