package plugins

import (
	"context"
	"errors"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// ProtocolVersion is the plugin RPC protocol version this package speaks.
// A protocol change adds a new version to VersionedPlugins; the cookie
// never changes.
const ProtocolVersion = 1

// HandshakeConfig is the handshake every Constellation plugin and host
// share. The magic cookie is not a security measure; it stops a user from
// running a plugin binary directly by mistake.
var HandshakeConfig = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "CONSTELLATION_PLUGIN",
	MagicCookieValue: "5f3c9a1e-constellation-plugin-7d2b4e80",
}

// Names under which the services are dispensed. Every plugin binary serves
// NameInfo and the service of its own kind, named after the kind.
const (
	NameInfo        = "info"
	NameConsensus   = "consensus"
	NameReputation  = "reputation"
	NamePartitioner = "partitioner"
	NameContracts   = "contracts"
)

// VersionedPlugins is the host's view of the plugin set per protocol
// version: dispensing any name yields a *ClientConn. Plugin binaries build
// their own set holding the servers (see Serve).
var VersionedPlugins = map[int]plugin.PluginSet{
	ProtocolVersion: {
		NameInfo:        &grpcPlugin{},
		NameConsensus:   &grpcPlugin{},
		NameReputation:  &grpcPlugin{},
		NamePartitioner: &grpcPlugin{},
		NameContracts:   &grpcPlugin{},
	},
}

// ClientConn is what the host gets when it dispenses a name: the gRPC
// connection to the plugin process and the broker for callback services.
// The connection is owned by the go-plugin client; do not close it.
type ClientConn struct {
	Conn   *grpc.ClientConn
	Broker *plugin.GRPCBroker
}

// grpcPlugin adapts one service to go-plugin. On the plugin side register
// adds the service to the process's shared gRPC server; on the host side it
// is nil and only GRPCClient is used.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	register func(*plugin.GRPCBroker, *grpc.Server) error
}

var errHostSide = errors.New("this plugin set is the host's: it has no server to register")

func (p *grpcPlugin) GRPCServer(b *plugin.GRPCBroker, s *grpc.Server) error {
	if p.register == nil {
		return errHostSide
	}
	return p.register(b, s)
}

func (p *grpcPlugin) GRPCClient(_ context.Context, b *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &ClientConn{Conn: c, Broker: b}, nil
}
