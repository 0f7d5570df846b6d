package manifest

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// validName reports whether s is usable as a network, node or plugin name:
// 1 to 64 characters, letters, digits, '.', '_' and '-', starting with a
// letter or digit. Names end up in file names and log fields, so nothing
// that could escape a directory is allowed.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case (c == '.' || c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

const nameRule = "Names are 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit."

// addrUse says what an address is for: a listen address may use port 0 (an
// ephemeral port) and an unspecified IP; a dial (bootstrap) address may
// carry a /p2p/<peer id> suffix but needs a real port.
type addrUse int

const (
	useListen addrUse = iota
	useDial
)

// parsedAddr is the part of a multiaddr the manifest understands.
type parsedAddr struct {
	proto       string // ip4, ip6, dns4, dns6, dns
	host        string
	port        uint16
	unspecified bool // 0.0.0.0 or ::
}

// parseMultiaddr checks that s has the form
// /ip4|ip6|dns4|dns6|dns/<host>/tcp/<port>[/p2p/<peer id>], the libp2p
// multiaddr text form restricted to what a node listens on and dials.
func parseMultiaddr(s string, use addrUse) (parsedAddr, error) {
	var a parsedAddr
	if !strings.HasPrefix(s, "/") {
		return a, errors.New("it must start with '/'")
	}
	parts := strings.Split(s[1:], "/")
	if len(parts) != 4 && len(parts) != 6 {
		return a, errors.New("it must have the form /ip4/<address>/tcp/<port>")
	}
	a.proto, a.host = parts[0], parts[1]
	switch a.proto {
	case "ip4", "ip6":
		ip, err := netip.ParseAddr(a.host)
		if err != nil || ip.Zone() != "" {
			return a, fmt.Errorf("%q is not an IP address", a.host)
		}
		if a.proto == "ip4" && !ip.Is4() {
			return a, fmt.Errorf("%q is not an IPv4 address; use /ip6/ for IPv6", a.host)
		}
		if a.proto == "ip6" && !ip.Is6() {
			return a, fmt.Errorf("%q is not an IPv6 address; use /ip4/ for IPv4", a.host)
		}
		a.unspecified = ip.IsUnspecified()
		if a.unspecified && use == useDial {
			return a, fmt.Errorf("%s is the unspecified address; a peer cannot be dialled there", a.host)
		}
	case "dns", "dns4", "dns6":
		if !validHostname(a.host) {
			return a, fmt.Errorf("%q is not a valid host name", a.host)
		}
	default:
		return a, fmt.Errorf("the protocol %q is not supported; use ip4, ip6, dns4, dns6 or dns", a.proto)
	}
	if parts[2] != "tcp" {
		return a, fmt.Errorf("the transport %q is not supported; use tcp", parts[2])
	}
	port, err := parsePort(parts[3])
	if err != nil {
		return a, err
	}
	if port == 0 && use == useDial {
		return a, errors.New("port 0 cannot be dialled")
	}
	a.port = port
	if len(parts) == 6 {
		if use != useDial {
			return a, errors.New("a listen address takes no /p2p/ suffix")
		}
		if parts[4] != "p2p" {
			return a, fmt.Errorf("unexpected %q after the port; only /p2p/<peer id> may follow", parts[4])
		}
		if !validPeerID(parts[5]) {
			return a, fmt.Errorf("%q is not a peer id", parts[5])
		}
	}
	return a, nil
}

// parsePort parses a decimal TCP port without sign or leading zeros.
func parsePort(s string) (uint16, error) {
	if s == "" || len(s) > 5 || (len(s) > 1 && s[0] == '0') || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a port number", s)
	}
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("port %s is out of range (0 to 65535)", s)
	}
	return uint16(n), nil
}

// validHostname checks RFC 1123 host name syntax.
func validHostname(h string) bool {
	if len(h) == 0 || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// validPeerID accepts the text forms of libp2p peer ids (base58btc
// multihash or a base32 CID): alphanumeric, 1 to 128 characters.
func validPeerID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// parseHostPort checks a node API address "host:port": the host is an IP
// address or a host name (write 0.0.0.0 to serve on every interface), the
// port 0 to 65535.
func parseHostPort(s string) (host string, unspecified bool, err error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", false, errors.New("it must have the form host:port, e.g. 127.0.0.1:8001")
	}
	if host == "" {
		return "", false, errors.New("the host is missing; write 127.0.0.1:PORT, or 0.0.0.0:PORT to serve on every interface")
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" {
			return "", false, fmt.Errorf("%q: zones are not supported", host)
		}
		unspecified = ip.IsUnspecified()
	} else if !validHostname(host) {
		return "", false, fmt.Errorf("%q is neither an IP address nor a host name", host)
	}
	if _, err := parsePort(port); err != nil {
		return "", false, err
	}
	return host, unspecified, nil
}
