package honeybadger

import (
	"fmt"
	"sync"

	"github.com/constellation-chain/constellation/builtin/honeybadger/tcrypto"
	"github.com/constellation-chain/constellation/interfaces"
)

var _ interfaces.GroupVerifier = Factory{}

// GroupKey implements interfaces.GroupVerifier: the group key is the
// encoding of the members' public key set (master keys and verification
// keys), the public part of every member's key material.
func (Factory) GroupKey(keys []byte) ([]byte, error) {
	k, err := DecodeKeys(keys)
	if err != nil {
		return nil, err
	}
	return k.Public.MarshalBinary()
}

// keySets caches decoded group keys: decoding checks the whole set, which
// costs milliseconds, and certificates are checked against a handful of
// keys over and over.
var keySets sync.Map // string(encoding) -> *tcrypto.PublicKeySet

// maxCachedKeySets bounds the cache; past it keys are decoded each time.
const maxCachedKeySets = 256

var cachedKeySets struct {
	sync.Mutex
	n int
}

func groupKeySet(groupKey []byte) (*tcrypto.PublicKeySet, error) {
	if v, ok := keySets.Load(string(groupKey)); ok {
		return v.(*tcrypto.PublicKeySet), nil
	}
	pk := &tcrypto.PublicKeySet{}
	if err := pk.UnmarshalBinary(groupKey); err != nil {
		return nil, fmt.Errorf("honeybadger: group key: %w", err)
	}
	cachedKeySets.Lock()
	if cachedKeySets.n < maxCachedKeySets {
		if _, loaded := keySets.LoadOrStore(string(groupKey), pk); !loaded {
			cachedKeySets.n++
		}
	}
	cachedKeySets.Unlock()
	return pk, nil
}

// VerifyGroupKey implements interfaces.GroupVerifier: sig must be the
// group's signature on msg as the engine's SignShare and CombineShares
// make it.
func (Factory) VerifyGroupKey(groupKey, msg, sig []byte) error {
	pk, err := groupKeySet(groupKey)
	if err != nil {
		return err
	}
	var s tcrypto.Signature
	if err := s.UnmarshalBinary(sig); err != nil {
		return fmt.Errorf("honeybadger: group signature: %w", err)
	}
	if !pk.VerifySignature(certificateName(msg), s) {
		return fmt.Errorf("honeybadger: group signature does not verify")
	}
	return nil
}
