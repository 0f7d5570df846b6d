package gossip_test

import (
	"fmt"

	"github.com/constellation-chain/constellation/builtin/gossip"
	"github.com/constellation-chain/constellation/interfaces"
)

// A bootstrap address names the peer it reaches, so the Noise handshake can
// authenticate it: the manifest or testnet appends /p2p/<PeerIDForKey>.
func ExamplePeerIDForKey() {
	pub := interfaces.DevStar("star-1").PublicKey()
	fmt.Println("/ip4/127.0.0.1/tcp/7001/p2p/" + gossip.PeerIDForKey(pub))
	// Output: /ip4/127.0.0.1/tcp/7001/p2p/12D3KooWMJzNdc8PUBbAy2qUfzXPw365FQ49b4eXgJw4emeFAKiZ
}
