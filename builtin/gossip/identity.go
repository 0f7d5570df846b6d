package gossip

import (
	"crypto/ed25519"
	"fmt"

	"github.com/constellation-chain/constellation/interfaces"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// A star's libp2p peer ID is the identity multihash of its ed25519 public
// key, so the mapping is a bijection between StarIDs and ed25519 peer IDs and
// needs no lookup table. Peers with any other key type are refused at the
// connection gate: they could not be named as a StarID.

// PeerIDForKey returns the libp2p peer ID (base58 text, as in /p2p/<id>) of
// an ed25519 public key. Manifests and the testnet use it to build bootstrap
// multiaddrs such as "/ip4/127.0.0.1/tcp/7001/p2p/<id>". It returns "" if the
// key is not 32 bytes.
func PeerIDForKey(pub ed25519.PublicKey) string {
	if len(pub) != ed25519.PublicKeySize {
		return ""
	}
	var s interfaces.StarID
	copy(s[:], pub)
	id, err := PeerIDFromStar(s)
	if err != nil {
		return ""
	}
	return id.String()
}

// PeerIDFromStar returns the libp2p peer ID of a star.
func PeerIDFromStar(s interfaces.StarID) (peer.ID, error) {
	pk, err := crypto.UnmarshalEd25519PublicKey(s[:])
	if err != nil {
		return "", fmt.Errorf("star %s as libp2p key: %w", s.Short(), err)
	}
	id, err := peer.IDFromPublicKey(pk)
	if err != nil {
		return "", fmt.Errorf("peer id of star %s: %w", s.Short(), err)
	}
	return id, nil
}

// StarFromPeerID recovers the StarID from an ed25519 peer ID. It fails for
// peer IDs of other key types and for hashed (non-identity) peer IDs.
func StarFromPeerID(id peer.ID) (interfaces.StarID, error) {
	var s interfaces.StarID
	pk, err := id.ExtractPublicKey()
	if err != nil {
		return s, fmt.Errorf("extract public key from peer %s: %w", id, err)
	}
	if pk.Type() != crypto.Ed25519 {
		return s, fmt.Errorf("peer %s has a %s key, want ed25519", id, pk.Type())
	}
	raw, err := pk.Raw()
	if err != nil {
		return s, fmt.Errorf("raw key of peer %s: %w", id, err)
	}
	return interfaces.StarIDFromPublicKey(ed25519.PublicKey(raw))
}

// privKeyFromStar converts the 64-byte ed25519 private key of the manifest
// into a libp2p key and checks it is well formed.
func privKeyFromStar(key []byte) (crypto.PrivKey, interfaces.StarID, error) {
	var self interfaces.StarID
	if len(key) != ed25519.PrivateKeySize {
		return nil, self, fmt.Errorf("transport key has %d bytes, want a %d-byte ed25519 private key", len(key), ed25519.PrivateKeySize)
	}
	sk := ed25519.PrivateKey(key)
	pub, ok := sk.Public().(ed25519.PublicKey)
	if !ok {
		return nil, self, fmt.Errorf("transport key: public half is not an ed25519 key")
	}
	// The 64-byte form is seed||public; a mismatch means a corrupted key file.
	if derived := ed25519.NewKeyFromSeed(sk.Seed()); string(derived[32:]) != string(pub) {
		return nil, self, fmt.Errorf("transport key: public half does not match the seed")
	}
	priv, err := crypto.UnmarshalEd25519PrivateKey(key)
	if err != nil {
		return nil, self, fmt.Errorf("transport key as libp2p key: %w", err)
	}
	self, err = interfaces.StarIDFromPublicKey(pub)
	if err != nil {
		return nil, self, fmt.Errorf("transport key: %w", err)
	}
	return priv, self, nil
}
