package catalog

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/constellation-chain/constellation/builtin/lsh"
	"github.com/constellation-chain/constellation/builtin/solo"
	"github.com/constellation-chain/constellation/framework/manifest"
	"github.com/constellation-chain/constellation/interfaces"
)

const net = `network "devnet" {
  genesis {
    seed = "s"
    allocation {
      star   = "dev:faucet"
      amount = 10
    }
  }
}
node "n1" {
  key_file = "n1.key"
  listen   = "/ip4/127.0.0.1/tcp/7001"
  roles    = ["cluster"]
}
`

func parse(t *testing.T, src string) *manifest.Manifest {
	t.Helper()
	m, diags := manifest.Parse("m.hcl", []byte(src))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return m
}

type notConsensus struct{}

func (notConsensus) Info() interfaces.PluginInfo {
	return interfaces.PluginInfo{Kind: interfaces.KindConsensus, Name: "fake", APIVersions: []int{1}}
}

func TestRegistrationChecksKindAndDuplicates(t *testing.T) {
	if _, err := New(nil, solo.Factory{}, solo.Factory{}); err == nil {
		t.Fatal("registered solo twice")
	}
	if _, err := New(nil, notConsensus{}); err == nil || !strings.Contains(err.Error(), "factory interface") {
		t.Fatalf("err = %v", err)
	}
	c, err := New(nil, solo.Factory{})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Known(interfaces.KindConsensus); len(got) != 1 || got[0] != "solo" {
		t.Fatalf("known %v", got)
	}
}

func TestOpenBuiltinDecodesConfig(t *testing.T) {
	c, _ := New(nil, solo.Factory{})
	set, diags := c.Open(parse(t, net+`plugin "consensus" "solo" {
  source = "builtin"
  config { batch_size = 7 }
}
`))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	l := set.One(interfaces.KindConsensus)
	if l == nil || !strings.Contains(string(l.Params), `"batch_size":7`) {
		t.Fatalf("loaded %+v", l)
	}
}

func TestOpenReportsConfigErrorsAtTheirLine(t *testing.T) {
	c, _ := New(nil, solo.Factory{})
	_, diags := c.Open(parse(t, net+`plugin "consensus" "solo" {
  source = "builtin"
  config { batch_sizee = 7 }
}
`))
	if !diags.HasErrors() || diags[0].Subject == nil || diags[0].Subject.Start.Line != 17 {
		t.Fatalf("diags %v", diags)
	}
}

type closer struct{ closed *bool }

func (c closer) Close() error { *c.closed = true; return nil }

func TestExternalPluginsGoThroughTheSamePath(t *testing.T) {
	src := net + `plugin "consensus" "ext" {
  path   = "./ext"
  sha256 = "` + strings.Repeat("ab", 32) + `"
}
`
	c, _ := New(nil, solo.Factory{})
	if _, diags := c.Open(parse(t, src)); !diags.HasErrors() {
		t.Fatal("external plugin opened without a loader")
	}
	closed := false
	c, _ = New(func(d *manifest.PluginDecl) (interfaces.Plugin, io.Closer, error) {
		return solo.Factory{}, closer{&closed}, nil // a binary that reports itself as solo
	}, solo.Factory{})
	if _, diags := c.Open(parse(t, src)); diags.HasErrors() {
		t.Fatal(diags)
	}
	c, _ = New(func(d *manifest.PluginDecl) (interfaces.Plugin, io.Closer, error) {
		return nil, nil, errors.New("checksum mismatch")
	})
	_, diags := c.Open(parse(t, src))
	if !diags.HasErrors() || !strings.Contains(diags[0].Detail, "checksum mismatch") {
		t.Fatalf("diags %v", diags)
	}
	// A plugin whose kind differs from the declaration is refused and stopped.
	closed = false
	rep := strings.Replace(src, `"consensus" "ext"`, `"reputation" "ext"`, 1) + `plugin "consensus" "solo" {
  source = "builtin"
}
`
	c, _ = New(func(d *manifest.PluginDecl) (interfaces.Plugin, io.Closer, error) {
		return solo.Factory{}, closer{&closed}, nil
	}, solo.Factory{})
	if _, diags := c.Open(parse(t, rep)); !diags.HasErrors() || !closed {
		t.Fatalf("kind mismatch: diags %v closed %v", diags, closed)
	}
}

// TestLocalityPlacementWithoutAGalaxyIsRefused: only a galaxy runs the
// learner, so the setting in a flat network is refused at its plugin.
func TestLocalityPlacementWithoutAGalaxyIsRefused(t *testing.T) {
	c, _ := New(nil, solo.Factory{}, lsh.Factory{})
	decl := `plugin "consensus" "solo" { source = "builtin" }
plugin "partitioner" "lsh" {
  source = "builtin"
  config { placement = %q }
}
`
	if _, diags := c.Open(parse(t, net+fmt.Sprintf(decl, "hash"))); diags.HasErrors() {
		t.Fatalf("hash placement refused: %v", diags)
	}
	_, diags := c.Open(parse(t, net+fmt.Sprintf(decl, "locality")))
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "needs a galaxy") || diags[0].Subject.Start.Line != 16 {
		t.Fatalf("got %v", diags)
	}
}
