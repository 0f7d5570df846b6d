package ledger_test

import (
	"crypto/ed25519"

	"github.com/constellation-chain/constellation/framework/ledger/ledgertest"
)

func ed25519Sign(w *ledgertest.World, i int, msg []byte) []byte { return ed25519.Sign(w.Keys[i], msg) }
