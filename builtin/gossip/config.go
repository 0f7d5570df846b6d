package gossip

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/constellation-chain/constellation/interfaces"
)

// Version is the semver of this transport implementation.
const Version = "0.1.0"

// Name is the plugin name under which the kernel's catalog registers it.
const Name = "gossip"

// Defaults of the config block; see Factory.Info for the documentation of
// each field.
const (
	DefaultMaxFrameBytes   = 4 << 20
	DefaultMaxMessageBytes = 4 << 20
	DefaultSendQueue       = 256
	DefaultSendQueueBytes  = 64 << 20
	DefaultReconnectMinMS  = 200
	DefaultReconnectMaxMS  = 30_000
	DefaultPXIntervalMS    = 30_000
	DefaultMaxPeers        = 64
	DefaultDialTimeoutMS   = 5_000
)

// maxFrameLimit caps max_frame_bytes and max_message_bytes: the largest
// canonical envelope (an 8 MiB payload, a 256-byte topic, the sender and
// the version byte) fits with room to spare, and no more.
const maxFrameLimit = interfaces.MaxEnvelopePayload + 4096

// Config is the transport's `config { }` block, decoded from
// interfaces.TransportConfig.Params (JSON). Zero fields take the defaults.
type Config struct {
	MaxFrameBytes   int   `json:"max_frame_bytes"`
	MaxMessageBytes int   `json:"max_message_bytes"`
	SendQueue       int   `json:"send_queue"`
	SendQueueBytes  int   `json:"send_queue_bytes"`
	ReconnectMinMS  int   `json:"reconnect_min_ms"`
	ReconnectMaxMS  int   `json:"reconnect_max_ms"`
	PeerExchange    *bool `json:"peer_exchange"`
	PXIntervalMS    int   `json:"px_interval_ms"`
	MaxPeers        int   `json:"max_peers"`
	DialTimeoutMS   int   `json:"dial_timeout_ms"`
}

// ParseConfig decodes and validates a config block given as JSON. Empty
// input means all defaults. Unknown fields are errors, so a typo in the
// manifest does not silently fall back to a default.
func ParseConfig(params []byte) (Config, error) {
	var c Config
	if len(bytes.TrimSpace(params)) > 0 && !bytes.Equal(bytes.TrimSpace(params), []byte("null")) {
		dec := json.NewDecoder(bytes.NewReader(params))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return c, fmt.Errorf("gossip transport config: %w", err)
		}
	}
	c.fill()
	if err := c.validate(); err != nil {
		return c, fmt.Errorf("gossip transport config: %w", err)
	}
	return c, nil
}

func (c *Config) fill() {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.MaxFrameBytes, DefaultMaxFrameBytes)
	def(&c.MaxMessageBytes, DefaultMaxMessageBytes)
	def(&c.SendQueue, DefaultSendQueue)
	def(&c.SendQueueBytes, DefaultSendQueueBytes)
	def(&c.ReconnectMinMS, DefaultReconnectMinMS)
	def(&c.ReconnectMaxMS, DefaultReconnectMaxMS)
	def(&c.PXIntervalMS, DefaultPXIntervalMS)
	def(&c.MaxPeers, DefaultMaxPeers)
	def(&c.DialTimeoutMS, DefaultDialTimeoutMS)
	if c.PeerExchange == nil {
		t := true
		c.PeerExchange = &t
	}
}

func (c *Config) validate() error {
	check := func(name string, v, lo, hi int) error {
		if v < lo || v > hi {
			return fmt.Errorf("%s = %d, want %d..%d", name, v, lo, hi)
		}
		return nil
	}
	for _, e := range []error{
		check("max_frame_bytes", c.MaxFrameBytes, 1024, maxFrameLimit),
		check("max_message_bytes", c.MaxMessageBytes, 1024, maxFrameLimit),
		check("send_queue", c.SendQueue, 1, 1<<20),
		check("send_queue_bytes", c.SendQueueBytes, c.MaxFrameBytes, 1<<34),
		check("reconnect_min_ms", c.ReconnectMinMS, 1, 3_600_000),
		check("reconnect_max_ms", c.ReconnectMaxMS, c.ReconnectMinMS, 3_600_000),
		check("px_interval_ms", c.PXIntervalMS, 10, 86_400_000),
		check("max_peers", c.MaxPeers, 1, 10_000),
		check("dial_timeout_ms", c.DialTimeoutMS, 10, 600_000),
	} {
		if e != nil {
			return e
		}
	}
	return nil
}

func ms(v int) time.Duration { return time.Duration(v) * time.Millisecond }

// Factory builds gossip transports; it is the plugin the kernel's catalog
// registers as transport "gossip".
type Factory struct{}

var _ interfaces.TransportFactory = Factory{}

// Info describes the plugin and its config schema.
func (Factory) Info() interfaces.PluginInfo {
	num := func(name string, def int, doc string) interfaces.ConfigField {
		return interfaces.ConfigField{Name: name, Type: interfaces.ConfigNumber, Default: fmt.Sprint(def), Doc: doc}
	}
	return interfaces.PluginInfo{
		Kind:         interfaces.KindTransport,
		Name:         Name,
		Version:      Version,
		APIVersions:  []int{interfaces.APIVersion},
		Capabilities: []string{"gossipsub", "direct-streams", "peer-exchange", "peer-scoring", "partition-switch"},
		Config: []interfaces.ConfigField{
			num("max_frame_bytes", DefaultMaxFrameBytes, "largest direct-stream frame (one encoded envelope) accepted or sent, in bytes"),
			num("max_message_bytes", DefaultMaxMessageBytes, "largest gossip message (one encoded envelope) accepted or published, in bytes"),
			num("send_queue", DefaultSendQueue, "frames queued per peer before Send blocks (backpressure)"),
			num("send_queue_bytes", DefaultSendQueueBytes, "bytes queued per peer before Send blocks; at least max_frame_bytes"),
			num("reconnect_min_ms", DefaultReconnectMinMS, "first delay before redialling a lost peer; doubles per failure"),
			num("reconnect_max_ms", DefaultReconnectMaxMS, "upper bound of the redial delay"),
			{Name: "peer_exchange", Type: interfaces.ConfigBool, Default: "true", Doc: "ask connected peers for the addresses of their peers and dial them"},
			num("px_interval_ms", DefaultPXIntervalMS, "how often to repeat peer exchange with every connected peer"),
			num("max_peers", DefaultMaxPeers, "peers kept as dial targets (bootstrap peers always are) and the connection manager's low watermark"),
			num("dial_timeout_ms", DefaultDialTimeoutMS, "timeout of one dial or stream open"),
		},
	}
}

// NewTransport starts a transport: it listens, dials the bootstrap peers and
// joins gossipsub. See New.
func (Factory) NewTransport(cfg interfaces.TransportConfig) (interfaces.Transport, error) {
	t, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return t, nil
}
