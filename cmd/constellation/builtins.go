package main

import (
	"github.com/constellation-chain/constellation/builtin/gossip"
	"github.com/constellation-chain/constellation/builtin/honeybadger"
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
		gossip.Factory{},
	}
}

// newCatalog returns the catalog of builtins; external plugins are started
// through external.
func newCatalog(external catalog.ExternalLoader) (*catalog.Catalog, error) {
	return catalog.New(external, builtins()...)
}
