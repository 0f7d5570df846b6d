package main

import (
	"net"

	"github.com/constellation-chain/constellation/framework/api"
	"github.com/constellation-chain/constellation/framework/manifest"
	"github.com/constellation-chain/constellation/interfaces"
)

// networkOf is what a node's GET /v1/network answers: the manifest's
// nodes with their API addresses, self marking the node serving it. The
// dashboard reads it to know which nodes to poll.
func networkOf(m *manifest.Manifest, self string) *api.NetworkInfo {
	out := &api.NetworkInfo{Network: m.Network.Name, Source: "manifest"}
	for i := range m.Nodes {
		mn := &m.Nodes[i]
		n := api.NetworkNode{Name: mn.Name, API: mn.API, Roles: append([]string{}, mn.Roles...), Cluster: -1, Self: mn.Name == self}
		if mn.KeepsCluster() {
			n.Cluster = int(mn.Cluster)
		}
		if mn.Star != (interfaces.StarID{}) {
			n.Star = mn.Star.String()
		}
		out.Nodes = append(out.Nodes, n)
	}
	return out
}

// dashboardURL is the dashboard of the node whose API listens on addr, as
// a browser on this machine opens it.
func dashboardURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr + "/dashboard/"
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/dashboard/"
}
