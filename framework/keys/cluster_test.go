package keys

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/constellation-chain/constellation/interfaces"
)

func TestClusterShareRoundTripAndChecks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.cluster.key")
	a := interfaces.DevStar("a")
	if err := SaveClusterShare(path, ClusterShare{Engine: "honeybadger", Member: a, Keys: []byte{1, 2, 3}}, false); err != nil {
		t.Fatal(err)
	}
	got, err := LoadClusterShare(path, "honeybadger", a)
	if err != nil || string(got) != "\x01\x02\x03" {
		t.Fatalf("%v %v", got, err)
	}
	if _, err := LoadClusterShare(path, "solo", a); err == nil || !strings.Contains(err.Error(), "honeybadger") {
		t.Fatalf("engine mismatch: %v", err)
	}
	if _, err := LoadClusterShare(path, "honeybadger", interfaces.DevStar("b")); err == nil {
		t.Fatal("member mismatch accepted")
	}
	if err := SaveClusterShare(path, ClusterShare{Engine: "x", Member: a}, false); err == nil {
		t.Fatal("overwrote a share without replace")
	}
	for _, bad := range []string{"", "junk", "-----BEGIN X-----\nAA==\n-----END X-----\n"} {
		if _, err := DecodeClusterShare([]byte(bad)); err == nil {
			t.Fatalf("accepted %q", bad)
		}
	}
}
