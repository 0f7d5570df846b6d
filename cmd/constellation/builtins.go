package main

import (
	"fmt"

	"github.com/constellation-chain/constellation/builtin/contracts"
	"github.com/constellation-chain/constellation/builtin/gossip"
	"github.com/constellation-chain/constellation/builtin/honeybadger"
	"github.com/constellation-chain/constellation/builtin/lsh"
	"github.com/constellation-chain/constellation/builtin/meme"
	"github.com/constellation-chain/constellation/builtin/solo"
	"github.com/constellation-chain/constellation/framework/catalog"
	"github.com/constellation-chain/constellation/interfaces"
)

// builtins lists every plugin compiled into the binary.
func builtins() []interfaces.Plugin {
	return []interfaces.Plugin{
		solo.Factory{},
		honeybadger.Factory{},
		meme.Factory{},
		lsh.Factory{},
		gossip.Factory{},
		contracts.Factory{},
	}
}

// newCatalog returns the catalog of builtins; external plugins are started
// through external.
func newCatalog(external catalog.ExternalLoader) (*catalog.Catalog, error) {
	c, err := catalog.New(external, builtins()...)
	if err != nil {
		return nil, err
	}
	return c.CheckingFiles(), nil
}

// benchOnly lists the engines `constellation bench` measures that no
// manifest may name, because they weaken the protocol: HoneyBadger without
// encryption and with a predictable coin (mode A). `plugin serve` serves
// them so the benchmark can compare them out of process.
func benchOnly() []interfaces.Plugin {
	return []interfaces.Plugin{honeybadger.ProtocolOnly()}
}

// benchFactory returns the engine the benchmark runs for mode: the
// protocol-only HoneyBadger for mode A, the built-in as a manifest gets it
// otherwise.
func benchFactory(engine, mode string) (interfaces.ConsensusFactory, error) {
	ref := benchRef(engine, mode)
	p, ok := benchOnlyByRef(ref)
	if !ok {
		var err error
		if p, err = builtinByRef(ref); err != nil {
			return nil, err
		}
	}
	f, ok := p.(interfaces.ConsensusFactory)
	if !ok {
		return nil, fmt.Errorf("built-in %s does not build consensus engines", ref)
	}
	return f, nil
}

// benchRef names the plugin benchFactory returns, as `plugin serve` takes it.
func benchRef(engine, mode string) string {
	if engine == honeybadger.Name && mode == "A" {
		return "consensus/" + honeybadger.ProtocolOnlyName
	}
	return "consensus/" + engine
}

func benchOnlyByRef(ref string) (interfaces.Plugin, bool) {
	for _, p := range benchOnly() {
		if info := p.Info(); string(info.Kind)+"/"+info.Name == ref {
			return p, true
		}
	}
	return nil, false
}
