package tcrypto

import (
	"errors"
	"fmt"

	"github.com/constellation-chain/constellation/interfaces"
)

// BeaconDomain separates beacon hashes from every other hash in the
// system.
const BeaconDomain = "constellation/beacon/v1"

// ErrBadBeacon means a beacon signature does not verify under the group key.
var ErrBadBeacon = errors.New("tcrypto: beacon signature does not verify")

// Beacon checks that sig is the group's threshold signature on msg (the
// hash of the previous black hole) and returns the selection seed,
// DomainSum(BeaconDomain, signature encoding).
//
// Why this seed cannot be ground: a BLS signature is unique for its key
// and message, so once the black hole is final there is exactly one valid
// signature and one beacon. A proposer that varies block contents changes
// the message, but learns the resulting beacon only after a threshold of
// the group signs — more members than the faulty bound — so it cannot try
// candidates and keep the best, as it could with the raw block hash.
func (pk *PublicKeySet) Beacon(msg []byte, sig Signature) (interfaces.Hash, error) {
	if !pk.VerifySignature(msg, sig) {
		return interfaces.Hash{}, ErrBadBeacon
	}
	enc, err := sig.MarshalBinary()
	if err != nil {
		return interfaces.Hash{}, fmt.Errorf("encode beacon signature: %w", err)
	}
	return interfaces.DomainSum(BeaconDomain, enc), nil
}
