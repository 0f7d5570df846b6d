// Package gossip is Constellation's network transport: the built-in
// implementation of interfaces.Transport on go-libp2p and gossipsub.
//
// It sits between the node runtime and the wire. The runtime publishes
// transactions (interfaces.TxTopic per cluster), checkpoint blocks
// (interfaces.TopicCheckpoints) and black holes (interfaces.TopicBlackHoles)
// through gossipsub, and sends consensus messages between delegates on
// direct streams ("direct/..." topics); both arrive as canonical
// interfaces.Envelope values whose From the transport has authenticated.
//
// Identity and security. The star's ed25519 key is the libp2p identity, so a
// StarID and a peer ID name the same key (PeerIDFromStar, StarFromPeerID,
// PeerIDForKey). Connections use TCP, Noise and Yamux only; relays, NAT port
// mapping, hole punching, AutoNAT probing, mDNS and DHTs are off. Peers with
// non-ed25519 keys are refused at the connection gate.
//
// Sender authentication. Gossip messages are signed (StrictSign) and a
// topic validator requires the envelope's From to equal the signing author;
// direct-stream envelopes must name the stream's Noise-authenticated remote
// peer. Anything else is dropped and counted in Stats.DroppedSpoofed.
//
// Direct streams. Each frame is a uvarint length and one encoded envelope
// (ReadFrame, WriteFrame), at most max_frame_bytes. Every peer has one
// bounded send queue (Send blocks while it is full: backpressure) and one
// long-lived stream, reopened with exponential backoff when it breaks.
//
// Discovery. Bootstrap multiaddrs must end in /p2p/<peer id> because the
// Noise handshake authenticates the remote against it; PeerIDForKey builds
// it from the star's public key. Lost peers are redialled with bounded
// exponential backoff. A small peer-exchange protocol (/constellation/px)
// shares the addresses of connected peers.
//
// Hooks. SetPeerScorer feeds an application score (e.g. reputation) into
// gossipsub peer scoring; SetPartitioned cuts and heals links for partition
// tests; Stats reads the counters, which are Prometheus counters: the
// Transport is a prometheus.Collector a node registers in its registry.
package gossip
