package main

import (
	"github.com/constellation-chain/constellation/builtin/honeybadger"
	"github.com/constellation-chain/constellation/conformance/scalesim"
	"github.com/constellation-chain/constellation/conformance/sim"
)

// honeybadgerMeter counts the work of one HoneyBadger call from its wire
// format (builtin/honeybadger/wire.go), for the scaling experiment:
//
//   - every message consumed is one signature check (the host verifies
//     each signed message) and one message handled;
//   - every message sent is one signature (a broadcast is signed once;
//     VAL goes to each member on its own);
//   - a proposal is one threshold encryption of the contribution;
//   - a DEC message sent means the member has just checked every agreed
//     ciphertext but its own and made one decryption share for each
//     (epoch.go, startDecryption);
//   - a decision means f+1 decryption shares were combined for each
//     included contribution (tryDecrypt runs when the f-th DEC from
//     another member arrives, and the decision leaves in the same call);
//   - a COIN sent is one signature share; each COIN received is priced as
//     its part of one optimistic combine of f+1 shares.
//
// It keeps no state, so runs in parallel may share it.
type honeybadgerMeter struct {
	// encrypted is false for the protocol-only factory (no threshold
	// encryption, no decryption phase).
	encrypted bool
}

var kindNames = func() [256]string {
	var out [256]string
	for i := range out {
		out[i] = honeybadger.MsgType(i).String()
	}
	return out
}()

// Count implements scalesim.Meter.
func (m honeybadgerMeter) Count(c sim.Call, n, f int) scalesim.Ops {
	var ops scalesim.Ops
	if c.Propose {
		if m.encrypted {
			ops.Encrypted = []int{len(c.Payload)}
		}
	} else {
		ops.Checked, ops.CheckedBytes = 1, len(c.Payload)
		if len(c.Payload) >= 2 {
			ops.Kind = kindNames[c.Payload[1]]
			if honeybadger.MsgType(c.Payload[1]) == honeybadger.MsgCoin {
				ops.CoinSharesIn = 1
			}
		}
	}
	for _, out := range c.Output.Messages {
		ops.Signed++
		if len(out.Payload) < 2 {
			continue
		}
		switch honeybadger.MsgType(out.Payload[1]) {
		case honeybadger.MsgCoin:
			ops.CoinShares++
		case honeybadger.MsgDec:
			msg, err := honeybadger.DecodeMessage(out.Payload)
			if err != nil {
				continue
			}
			for _, e := range msg.Dec {
				ops.DecShares++
				if int(e.Proposer) != c.Node {
					ops.CiphertextChecks++
				}
			}
		}
	}
	if m.encrypted {
		for _, d := range c.Output.Decisions {
			ops.Decrypts += len(d.Contributions)
		}
	}
	return ops
}
