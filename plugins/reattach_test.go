package plugins

import (
	"net"
	"strings"
	"testing"

	plugin "github.com/hashicorp/go-plugin"
)

func TestReattachLineRoundTrips(t *testing.T) {
	rc := &plugin.ReattachConfig{Protocol: plugin.ProtocolGRPC, ProtocolVersion: ProtocolVersion, Pid: 42,
		Addr: &net.UnixAddr{Net: "unix", Name: "/tmp/plugin123"}, Test: true}
	line := `'{"protocol":"grpc","protocol_version":1,"network":"unix","address":"/tmp/plugin123","pid":42}'`
	got, err := ParseReattach(line)
	if err != nil {
		t.Fatal(err)
	}
	if got.Pid != rc.Pid || got.Addr.String() != rc.Addr.String() || got.Addr.Network() != "unix" || got.Protocol != rc.Protocol || !got.Test {
		t.Fatalf("parsed %+v, want %+v", got, rc)
	}
	ri := ReattachInfoFrom(rc)
	if ri.Network != "unix" || ri.Address != "/tmp/plugin123" || ri.Pid != 42 {
		t.Fatalf("ReattachInfoFrom = %+v", ri)
	}
}

func TestReattachRefusesWhatItCannotTrust(t *testing.T) {
	for name, text := range map[string]string{
		"not json":          "hello",
		"net/rpc":           `{"protocol":"netrpc","protocol_version":1,"network":"unix","address":"/x","pid":1}`,
		"future version":    `{"protocol":"grpc","protocol_version":9,"network":"unix","address":"/x","pid":1}`,
		"remote tcp":        `{"protocol":"grpc","protocol_version":1,"network":"tcp","address":"10.0.0.1:5000","pid":1}`,
		"hostname":          `{"protocol":"grpc","protocol_version":1,"network":"tcp","address":"example.com:5000","pid":1}`,
		"no pid":            `{"protocol":"grpc","protocol_version":1,"network":"unix","address":"/x"}`,
		"unknown field":     `{"protocol":"grpc","protocol_version":1,"network":"unix","address":"/x","pid":1,"x":2}`,
		"trailing":          `{"protocol":"grpc","protocol_version":1,"network":"unix","address":"/x","pid":1} {}`,
		"udp":               `{"protocol":"grpc","protocol_version":1,"network":"udp","address":"127.0.0.1:1","pid":1}`,
		"empty unix socket": `{"protocol":"grpc","protocol_version":1,"network":"unix","address":"","pid":1}`,
	} {
		if _, err := ParseReattach(text); err == nil {
			t.Errorf("%s: %s was accepted", name, text)
		}
	}
	if _, err := ParseReattach(`{"protocol":"grpc","protocol_version":1,"network":"tcp","address":"127.0.0.1:5000","pid":1}`); err != nil {
		t.Errorf("loopback tcp refused: %v", err)
	}
}

func FuzzParseReattach(f *testing.F) {
	f.Add(`{"protocol":"grpc","protocol_version":1,"network":"unix","address":"/tmp/p","pid":42}`)
	f.Add(`'{"protocol":"grpc","protocol_version":1,"network":"tcp","address":"[::1]:1","pid":1}'`)
	f.Add(`'`)
	f.Fuzz(func(t *testing.T, text string) {
		rc, err := ParseReattach(text)
		if err == nil && (rc.Addr == nil || rc.Pid <= 0 || rc.Protocol != plugin.ProtocolGRPC) {
			t.Fatalf("accepted an unusable config %+v from %q", rc, text)
		}
	})
}

type notAFactory struct{ kind string }

func (n notAFactory) Info() interfacesPluginInfo { return infoOf(n.kind) }

func TestServeRefusesAPluginThatDoesNotImplementItsKind(t *testing.T) {
	err := ServeChecked(notAFactory{"reputation"})
	if err == nil || !strings.Contains(err.Error(), "does not implement interfaces.ReputationFactory") {
		t.Fatalf("err = %v", err)
	}
	err = ServeChecked(notAFactory{"transport"})
	if err == nil || !strings.Contains(err.Error(), "cannot be served out of process") {
		t.Fatalf("err = %v", err)
	}
}
