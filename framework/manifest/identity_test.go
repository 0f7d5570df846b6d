package manifest

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/constellation-chain/constellation/interfaces"
)

func TestNodeStarAndClusterKeyFile(t *testing.T) {
	star := interfaces.DevStar("n1")
	src := tNet + `node "n1" {
  key_file         = "keys/n1.key"
  cluster_key_file = "keys/n1.cluster.key"
  star             = "` + star.String() + `"
  listen           = "/ip4/127.0.0.1/tcp/7001"
}
` + tSolo
	m, diags := Parse("file.hcl", []byte(src))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	n := m.Nodes[0]
	if n.Star != star || n.ClusterKeyFile != "keys/n1.cluster.key" {
		t.Fatalf("node %+v", n)
	}
	m.ResolvePaths("/data")
	if m.Nodes[0].ClusterKeyFile != filepath.Join("/data", "keys/n1.cluster.key") {
		t.Fatalf("cluster key not resolved: %s", m.Nodes[0].ClusterKeyFile)
	}
}

func TestBadNodeStarIsReportedAtItsLine(t *testing.T) {
	for _, bad := range []string{`"dev:n1"`, `"ed25519:abc"`, `"zz"`, `12`} {
		src := tNet + `node "n1" {
  key_file = "keys/n1.key"
  star     = ` + bad + ` #!
  listen   = "/ip4/127.0.0.1/tcp/7001"
}
` + tSolo
		_, diags := Parse("file.hcl", []byte(src))
		errs := errorsOf(diags)
		if len(errs) == 0 {
			t.Fatalf("star = %s accepted", bad)
		}
		if got, want := errs[0].Subject.Start.Line, markedLine(t, src); got != want {
			t.Fatalf("star = %s: reported at line %d, want %d", bad, got, want)
		}
		if !strings.Contains(errs[0].Detail, "ed25519") && !strings.Contains(errs[0].Detail, "quotes") {
			t.Fatalf("unhelpful detail: %s", errs[0].Detail)
		}
	}
}
