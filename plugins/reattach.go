package plugins

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"strings"

	plugin "github.com/hashicorp/go-plugin"
)

// ReattachInfo is the JSON form of a go-plugin ReattachConfig printed by a
// plugin in debug mode and read by the host from EnvReattach.
type ReattachInfo struct {
	Protocol        string `json:"protocol"`
	ProtocolVersion int    `json:"protocol_version"`
	Network         string `json:"network"` // "unix" or "tcp"
	Address         string `json:"address"` // a socket path, or a loopback host:port
	Pid             int    `json:"pid"`
}

// ReattachInfoFrom converts go-plugin's reattach configuration.
func ReattachInfoFrom(rc *plugin.ReattachConfig) ReattachInfo {
	ri := ReattachInfo{Protocol: string(rc.Protocol), ProtocolVersion: rc.ProtocolVersion, Pid: rc.Pid}
	if rc.Addr != nil {
		ri.Network, ri.Address = rc.Addr.Network(), rc.Addr.String()
	}
	return ri
}

// maxReattachLen bounds the accepted reattach text.
const maxReattachLen = 4096

// ParseReattach decodes EnvReattach's value (JSON, optionally wrapped in
// single quotes as printed) into a ReattachConfig for the host. It accepts
// only the gRPC protocol at ProtocolVersion, and only a unix socket or a
// loopback TCP address.
func ParseReattach(text string) (*plugin.ReattachConfig, error) {
	text = strings.TrimSpace(text)
	if len(text) > maxReattachLen {
		return nil, fmt.Errorf("parse reattach config: %d bytes exceed the limit %d", len(text), maxReattachLen)
	}
	if len(text) >= 2 && text[0] == '\'' && text[len(text)-1] == '\'' {
		text = text[1 : len(text)-1]
	}
	var ri ReattachInfo
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ri); err != nil {
		return nil, fmt.Errorf("parse reattach config: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("parse reattach config: trailing data after the JSON object")
	}
	if ri.Protocol != string(plugin.ProtocolGRPC) {
		return nil, fmt.Errorf("parse reattach config: protocol %q, want %q", ri.Protocol, plugin.ProtocolGRPC)
	}
	if ri.ProtocolVersion != ProtocolVersion {
		return nil, fmt.Errorf("parse reattach config: protocol version %d, this host speaks %d", ri.ProtocolVersion, ProtocolVersion)
	}
	if ri.Pid <= 0 {
		return nil, fmt.Errorf("parse reattach config: pid %d is not a process id", ri.Pid)
	}
	var addr net.Addr
	switch ri.Network {
	case "unix":
		if ri.Address == "" {
			return nil, fmt.Errorf("parse reattach config: empty unix socket path")
		}
		addr = &net.UnixAddr{Net: "unix", Name: ri.Address}
	case "tcp":
		ap, err := netip.ParseAddrPort(ri.Address)
		if err != nil {
			return nil, fmt.Errorf("parse reattach config: address %q: %w", ri.Address, err)
		}
		if !ap.Addr().IsLoopback() {
			return nil, fmt.Errorf("parse reattach config: address %q is not a loopback address", ri.Address)
		}
		addr = net.TCPAddrFromAddrPort(ap)
	default:
		return nil, fmt.Errorf("parse reattach config: network %q, want unix or tcp", ri.Network)
	}
	return &plugin.ReattachConfig{
		Protocol:        plugin.ProtocolGRPC,
		ProtocolVersion: ri.ProtocolVersion,
		Addr:            addr,
		Pid:             ri.Pid,
		Test:            true,
	}, nil
}
