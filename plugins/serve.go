package plugins

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/constellation-chain/constellation/interfaces"
	"github.com/constellation-chain/constellation/plugins/pb"
)

// Environment variables of the plugin SDK.
const (
	// EnvDebug set to 1 serves the plugin in go-plugin's reattach (test)
	// mode: the binary does not need to be started by the host, so it can
	// run under a debugger; it prints an EnvReattach line to stdout.
	EnvDebug = "CONSTELLATION_PLUGIN_DEBUG"
	// EnvReattach, given to the host, attaches it to a plugin started with
	// EnvDebug instead of starting the binary itself.
	EnvReattach = "CONSTELLATION_PLUGIN_REATTACH"
	// EnvLogLevel sets the plugin's log level (trace, debug, info, warn,
	// error); the default is info.
	EnvLogLevel = "CONSTELLATION_PLUGIN_LOG_LEVEL"
)

// MaxMessageBytes bounds one RPC message in either direction (64 MiB), large
// enough for a full block in its canonical encoding.
const MaxMessageBytes = 64 << 20

var (
	loggerOnce sync.Once
	logger     hclog.Logger
)

// Logger returns the plugin process's logger: hclog JSON on stderr, which
// the host parses and re-logs under a logger named after the plugin. Plugin
// authors should log through it (or any hclog JSON logger on stderr).
func Logger() hclog.Logger {
	loggerOnce.Do(func() {
		level := hclog.LevelFromString(os.Getenv(EnvLogLevel))
		if level == hclog.NoLevel {
			level = hclog.Info
		}
		logger = hclog.New(&hclog.LoggerOptions{
			Level:      level,
			Output:     os.Stderr,
			JSONFormat: true,
		})
	})
	return logger
}

// ServeConsensus serves a consensus factory (and its KeyDealer, if it
// implements one) as this process's plugin. It does not return in normal
// operation; call it from main.
func ServeConsensus(f interfaces.ConsensusFactory) {
	serve(f, NameConsensus, func(b *plugin.GRPCBroker, s *grpc.Server) error {
		pb.RegisterConsensusServer(s, &consensusServer{f: f, callbacks: &callbackDialer{broker: b}})
		return nil
	})
}

// ServeReputation serves a reputation factory as this process's plugin.
func ServeReputation(f interfaces.ReputationFactory) {
	serve(f, NameReputation, func(_ *plugin.GRPCBroker, s *grpc.Server) error {
		pb.RegisterReputationServer(s, &reputationServer{f: f})
		return nil
	})
}

// ServePartitioner serves a partitioner factory as this process's plugin.
func ServePartitioner(f interfaces.PartitionerFactory) {
	serve(f, NamePartitioner, func(_ *plugin.GRPCBroker, s *grpc.Server) error {
		pb.RegisterPartitionerServer(s, &partitionerServer{f: f})
		return nil
	})
}

// Serve serves p according to the factory interface it implements; when it
// implements several, the kind its Info names decides. A plugin that
// implements none of them (or not the one its Info names) is a programming
// error: Serve logs it and exits with status 1.
func Serve(p interfaces.Plugin) {
	if err := ServeChecked(p); err != nil {
		Logger().Error("cannot serve plugin", "error", err)
		os.Exit(1)
	}
}

// ServeChecked is Serve returning the reason it cannot serve p instead of
// exiting. It returns nil only after serving ended.
func ServeChecked(p interfaces.Plugin) error {
	if p == nil {
		return fmt.Errorf("serve plugin: nil plugin")
	}
	info := p.Info()
	if err := info.Validate(); err != nil {
		return fmt.Errorf("serve plugin: %w", err)
	}
	missing := func(iface string) error {
		return fmt.Errorf("serve plugin %s/%s: its Info names kind %s but %T does not implement interfaces.%s", info.Kind, info.Name, info.Kind, p, iface)
	}
	switch info.Kind {
	case interfaces.KindConsensus:
		f, ok := p.(interfaces.ConsensusFactory)
		if !ok {
			return missing("ConsensusFactory")
		}
		ServeConsensus(f)
	case interfaces.KindReputation:
		f, ok := p.(interfaces.ReputationFactory)
		if !ok {
			return missing("ReputationFactory")
		}
		ServeReputation(f)
	case interfaces.KindPartitioner:
		f, ok := p.(interfaces.PartitionerFactory)
		if !ok {
			return missing("PartitionerFactory")
		}
		ServePartitioner(f)
	case interfaces.KindContracts:
		return fmt.Errorf("serve plugin %s/%s: the contract runtime is the node's own; serve each contract with ServeContract (or plugins/contract.Serve)", info.Kind, info.Name)
	default:
		return fmt.Errorf("serve plugin %s/%s: kind %s cannot be served out of process by this protocol version", info.Kind, info.Name, info.Kind)
	}
	return nil
}

// serve runs the go-plugin server with the info service and one kind's
// service.
func serve(p interfaces.Plugin, name string, register func(*plugin.GRPCBroker, *grpc.Server) error) {
	info := p.Info()
	log := Logger().Named(string(info.Kind) + "/" + info.Name)
	if err := info.Validate(); err != nil {
		log.Error("cannot serve plugin", "error", err)
		os.Exit(1)
	}
	if string(info.Kind) != name {
		log.Error("cannot serve plugin", "error", fmt.Sprintf("its Info names kind %s but it is served as %s", info.Kind, name))
		os.Exit(1)
	}
	set := plugin.PluginSet{
		NameInfo: &grpcPlugin{register: func(_ *plugin.GRPCBroker, s *grpc.Server) error {
			pb.RegisterInfoServer(s, &infoServer{p: p})
			return nil
		}},
		name: &grpcPlugin{register: register},
	}
	cfg := &plugin.ServeConfig{
		HandshakeConfig:  HandshakeConfig,
		VersionedPlugins: map[int]plugin.PluginSet{ProtocolVersion: set},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			opts = append(opts,
				grpc.ChainUnaryInterceptor(recoverUnary(log)),
				grpc.MaxRecvMsgSize(MaxMessageBytes),
				grpc.MaxSendMsgSize(MaxMessageBytes),
			)
			return grpc.NewServer(opts...)
		},
		Logger: log,
	}
	if os.Getenv(EnvDebug) == "1" {
		serveDebug(cfg, info)
		return
	}
	plugin.Serve(cfg)
}

// serveDebug serves in reattach mode until interrupted, printing the line
// a host needs to attach.
func serveDebug(cfg *plugin.ServeConfig, info interfaces.PluginInfo) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	reattach := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	cfg.Test = &plugin.ServeTestConfig{Context: ctx, ReattachConfigCh: reattach, CloseCh: closed}
	go plugin.Serve(cfg)
	select {
	case rc := <-reattach:
		line, err := json.Marshal(ReattachInfoFrom(rc))
		if err != nil {
			cfg.Logger.Error("encode reattach config", "error", err)
			stop()
			<-closed
			return
		}
		fmt.Fprintf(os.Stdout, "Plugin %s/%s is serving in debug mode (pid %d).\n"+
			"Attach a host by running it with this environment variable:\n\n"+
			"%s='%s'\n\n"+
			"Stop the plugin with Ctrl-C (SIGINT) or SIGTERM.\n",
			info.Kind, info.Name, rc.Pid, EnvReattach, line)
		_ = os.Stdout.Sync()
	case <-closed:
		cfg.Logger.Error("plugin server stopped before it was ready")
		return
	}
	<-closed
}
