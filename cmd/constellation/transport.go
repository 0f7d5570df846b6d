package main

import (
	"crypto/ed25519"
	"fmt"
	"strings"

	"github.com/constellation-chain/constellation/builtin/gossip"
	"github.com/constellation-chain/constellation/framework/catalog"
	"github.com/constellation-chain/constellation/framework/keys"
	"github.com/constellation-chain/constellation/framework/manifest"
	"github.com/constellation-chain/constellation/framework/node"
	"github.com/constellation-chain/constellation/interfaces"
)

// starOf returns a manifest node's identity: its stated star, or the one
// in its key file when that file is on this machine.
func starOf(n *manifest.Node, base string) (interfaces.StarID, bool) {
	if !n.Star.IsZero() {
		return n.Star, true
	}
	key, err := keys.Load(node.KeyPath(n, base))
	if err != nil {
		return interfaces.StarID{}, false
	}
	return keys.Star(key), true
}

// bootstrapAddrs completes the node's bootstrap list: an address that is
// another manifest node's listen address gets that node's peer id appended
// (/p2p/<id>), which the Noise handshake needs.
func bootstrapAddrs(m *manifest.Manifest, mn *manifest.Node, base string) ([]string, error) {
	var out []string
	for _, addr := range mn.Bootstrap {
		if strings.Contains(addr, "/p2p/") {
			out = append(out, addr)
			continue
		}
		var found bool
		for i := range m.Nodes {
			peer := &m.Nodes[i]
			if peer.Listen != addr {
				continue
			}
			star, ok := starOf(peer, base)
			if !ok {
				return nil, fmt.Errorf("node %q: bootstrap %s is node %q, whose identity is unknown here: add its star = \"ed25519:…\" to the manifest or write the address with /p2p/<peer id>", mn.Name, addr, peer.Name)
			}
			out = append(out, addr+"/p2p/"+gossip.PeerIDForKey(ed25519.PublicKey(star[:])))
			found = true
		}
		if !found {
			return nil, fmt.Errorf("node %q: bootstrap %s names no node of the manifest; write it with /p2p/<peer id>", mn.Name, addr)
		}
	}
	return out, nil
}

// openTransport starts the manifest's transport plugin for node mn, or
// returns nil when the manifest declares none.
func openTransport(set *catalog.Set, m *manifest.Manifest, mn *manifest.Node, key ed25519.PrivateKey, base string) (interfaces.Transport, error) {
	l := set.One(interfaces.KindTransport)
	if l == nil {
		return nil, nil
	}
	boot, err := bootstrapAddrs(m, mn, base)
	if err != nil {
		return nil, err
	}
	tr, err := l.Plugin.(interfaces.TransportFactory).NewTransport(interfaces.TransportConfig{
		Key:       key,
		Listen:    []string{mn.Listen},
		Bootstrap: boot,
		Params:    l.Params,
	})
	if err != nil {
		return nil, fmt.Errorf("node %q: start transport %s: %w", mn.Name, l.Info.Name, err)
	}
	return tr, nil
}
