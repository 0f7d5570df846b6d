package interfaces

import "context"

// Handler receives envelopes. It is called from the transport's goroutines
// and must not block for long; a slow handler applies backpressure.
type Handler func(Envelope)

// Transport moves envelopes between stars. Sender identity is authenticated
// by the transport; an envelope whose claimed sender differs from the
// authenticated peer is dropped and counted, never delivered. All methods
// may be called concurrently.
type Transport interface {
	// Self returns this star's identity.
	Self() StarID
	// Send delivers payload to one peer on a direct stream.
	Send(ctx context.Context, to StarID, topic string, payload []byte) error
	// Publish gossips payload on a topic.
	Publish(ctx context.Context, topic string, payload []byte) error
	// Subscribe registers h for a topic (gossip or direct) and returns a
	// function that removes it.
	Subscribe(topic string, h Handler) (cancel func(), err error)
	// Peers lists the peers currently connected, sorted.
	Peers() []StarID
	Close() error
}

// TransportConfig is what a transport needs from the kernel.
type TransportConfig struct {
	Key       []byte   // ed25519 private key (64 bytes)
	Listen    []string // multiaddrs to listen on
	Bootstrap []string // multiaddrs of peers to dial
	Params    []byte   // the plugin's config block as JSON
}

// TransportFactory builds transports.
type TransportFactory interface {
	Plugin
	NewTransport(cfg TransportConfig) (Transport, error)
}
