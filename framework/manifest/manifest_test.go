package manifest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/constellation-chain/constellation/interfaces"
)

// Building blocks of the test manifests. A case marks the line its error
// must be reported on with a trailing "#!" comment.
const (
	tNet = `network "devnet" {
  genesis {
    seed = "s"
    allocation {
      star   = "dev:faucet"
      amount = 10
    }
  }
}
`
	tNode = `node "n1" {
  key_file = "keys/n1.key"
  listen   = "/ip4/127.0.0.1/tcp/7001"
}
`
	tSolo = `plugin "consensus" "solo" {
  source = "builtin"
}
`
	tBase = tNet + tNode + tSolo
)

// markedLine returns the 1-based line that carries the "#!" marker.
func markedLine(t *testing.T, src string) int {
	t.Helper()
	for i, l := range strings.Split(src, "\n") {
		if strings.Contains(l, "#!") {
			return i + 1
		}
	}
	t.Fatalf("test source has no #! marker:\n%s", src)
	return 0
}

func errorsOf(diags hcl.Diagnostics) hcl.Diagnostics {
	var out hcl.Diagnostics
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			out = append(out, d)
		}
	}
	return out
}

func TestDefaultManifestParsesCleanly(t *testing.T) {
	m, diags := ParseDefault()
	if len(diags) != 0 {
		var b bytes.Buffer
		_ = WriteDiagnostics(&b, m, nil, diags, false)
		t.Fatalf("default manifest has diagnostics:\n%s", b.String())
	}
	if m.Network.Name != "devnet" || !m.Network.Dev {
		t.Errorf("network = %+v", m.Network)
	}
	g := m.Network.Genesis
	if g.Seed != "constellation-devnet" || len(g.Allocations) != 1 ||
		g.Allocations[0].Star != interfaces.DevStar("faucet") || g.Allocations[0].Amount != 1_000_000_000_000 {
		t.Errorf("genesis = %+v", g)
	}
	// Two clusters of four and a galaxy of star-1, star-2, star-5, star-6.
	if len(m.Nodes) != 8 || m.Clusters() != 2 || !m.HasGalaxy() {
		t.Fatalf("want 8 nodes in 2 clusters with a galaxy, got %d nodes, %d clusters", len(m.Nodes), m.Clusters())
	}
	for i, n := range m.Nodes {
		k := string(rune('1' + i))
		galaxy := i == 0 || i == 1 || i == 4 || i == 5
		if n.Name != "star-"+k || n.KeyFile != "keys/star-"+k+".key" ||
			n.Listen != "/ip4/127.0.0.1/tcp/700"+k || n.API != "127.0.0.1:800"+k ||
			len(n.Bootstrap) != 7 || !n.HasRole(RoleStar) || !n.HasRole(RoleCluster) ||
			int(n.Cluster) != i/4 || n.HasRole(RoleGalaxy) != galaxy {
			t.Errorf("node %d = %+v", i, n)
		}
		for _, b := range n.Bootstrap {
			if b == n.Listen {
				t.Errorf("node %s bootstraps from itself", n.Name)
			}
		}
	}
	cons := m.PluginsOf(interfaces.KindConsensus)
	if len(cons) != 1 || cons[0].Name != "honeybadger" || !cons[0].Builtin || cons[0].Config == nil {
		t.Fatalf("consensus plugins = %+v", cons)
	}
	info := interfaces.PluginInfo{Kind: interfaces.KindConsensus, Name: "honeybadger", Version: "0.1.0", APIVersions: []int{1},
		Config: []interfaces.ConfigField{{Name: "batch_size", Type: interfaces.ConfigNumber}, {Name: "block_interval_ms", Type: interfaces.ConfigNumber}}}
	out, diags := DecodeConfig(cons[0], info)
	if diags.HasErrors() || string(out) != `{"batch_size":2000,"block_interval_ms":200}` {
		t.Fatalf("consensus config = %s, %v", out, diags)
	}
	if !bytes.Equal(Default(), defaultSource) {
		t.Fatal("Default() differs from the embedded source")
	}
}

// TestEveryMistakeIsReportedAtItsLine checks, for each kind of mistake, that
// an error is reported on the marked line, with a helpful summary and a
// detail saying what to do.
func TestEveryMistakeIsReportedAtItsLine(t *testing.T) {
	cases := []struct {
		name, src       string
		summary, detail string // substrings of the diagnostic on the marked line
	}{
		{"unknown top-level block", tBase + "nodes \"x\" { #!\n}\n", "Unsupported block type", `Did you mean "node"?`},
		{"top-level attribute", tBase + "clusters = 2 #!\n", "Unsupported argument", "not expected"},
		{"missing network", "#!\n" + tNode + tSolo, "Missing network block", "exactly one network"},
		{"duplicate network", tBase + "network \"devnet2\" { #!\n}\n", "Duplicate network block", "already declared at"},
		{"bad network name", strings.Replace(tBase, `network "devnet" {`, `network "dev net" { #!`, 1), "Invalid network name", "letters, digits"},
		{"clusters, which follows from the nodes", strings.Replace(tBase, "  genesis {", "  clusters = 7 #!\n  genesis {", 1), "Unsupported argument", "follows from the nodes"},
		{"cluster without the role", strings.Replace(tBase, "  listen   =", "  cluster = 1 #!\n  listen   =", 1), "cluster without the cluster role", `roles = ["star", "cluster"]`},
		{"cluster out of range", strings.Replace(tBase, "  listen   =", "  roles = [\"star\", \"cluster\"]\n  cluster = 5000 #!\n  listen   =", 1), "", "cluster"},
		{"mint without a galaxy", strings.Replace(tBase, "  genesis {", "  genesis {\n    mint { #!\n      reward = 1\n      halving = 1\n      until = 1\n    }", 1), "Mint without a galaxy", "galaxy role"},
		{"rotation without a galaxy", strings.Replace(tBase, "  genesis {", "  genesis {\n    rotation { #!\n      every = 4\n    }", 1), "Rotation without a galaxy", "galaxy role"},
		{"delegate and candidate", strings.Replace(tBase, "  listen   =", "  roles = [\"star\", \"cluster\", \"candidate\"] #!\n  listen   =", 1), "Delegate and candidate", "Keep one"},
		{"candidate without a cluster", strings.Replace(tBase, "  listen   =", "  roles = [\"star\", \"candidate\"] #!\n  listen   =", 1), "Candidate without a cluster", "cluster = 0"},
		{"candidate without rotation", strings.Replace(tBase, "  listen   =", "  roles = [\"star\", \"candidate\"] #!\n  cluster = 0\n  listen   =", 1), "Candidate without rotation", "rotation"},
		{"galaxy member and galaxy candidate", strings.Replace(tBase, "  listen   =", "  roles = [\"star\", \"galaxy\", \"galaxy-candidate\"] #!\n  listen   =", 1), "Galaxy member and galaxy candidate", "Keep one"},
		{"galaxy candidate without rotation", strings.Replace(tBase, "  listen   =", "  roles = [\"star\", \"galaxy-candidate\"] #!\n  listen   =", 1), "Galaxy candidate without rotation", "rotation"},
		{"rotation seats 0", strings.Replace(tBase, "  genesis {", "  genesis {\n    rotation {\n      seats = 0 #!\n    }", 1), "", "seats"},
		{"rotation seats too many", strings.Replace(tBase, "  genesis {", "  genesis {\n    rotation {\n      seats = 1000 #!\n    }", 1), "Too many seats", "at most 256"},
		{"split without seats", strings.Replace(tBase, "  genesis {", "  genesis {\n    rotation {\n      max_candidates = 8 #!\n    }", 1), "Split without seats", "seats = 4"},
		{"split bound below two clusters' seats", strings.Replace(tBase, "  genesis {", "  genesis {\n    rotation {\n      seats = 4\n      max_candidates = 7 #!\n    }", 1), "Bound below two clusters' seats", "from 8 on"},
		{"merge without splits", strings.Replace(tBase, "  genesis {", "  genesis {\n    rotation {\n      seats = 4\n      min_candidates = 2 #!\n    }", 1), "Merge without splits", "max_candidates = 8"},
		{"merge bound above half the split bound", strings.Replace(tBase, "  genesis {", "  genesis {\n    rotation {\n      seats = 4\n      max_candidates = 8\n      min_candidates = 5 #!\n    }", 1), "Merge bound out of range", "half of max_candidates (4)"},
		{"merge bound of zero", strings.Replace(tBase, "  genesis {", "  genesis {\n    rotation {\n      seats = 4\n      max_candidates = 8\n      min_candidates = 0 #!\n    }", 1), "Number out of range", "between 1"},
		{"rotation every 0", strings.Replace(tBase, "  genesis {", "  genesis {\n    rotation {\n      every = 0 #!\n    }", 1), "", "every"},
		{"mint without until", strings.Replace(tBase, "  genesis {", "  genesis {\n    mint { #!\n      reward = 1\n      halving = 1\n    }", 1), "Missing until", "until = 100000"},
		{"clusters without a galaxy", strings.Replace(strings.Replace(tBase, "  listen   =", "  roles = [\"star\", \"cluster\"]\n  cluster = 1\n  listen   =", 1), `node "n1" {`, `node "n1" { #!`, 1), "Clusters without a galaxy", `"galaxy" role`},
		{"a cluster with no delegates", strings.Replace(strings.Replace(tBase, "  listen   =", "  roles = [\"star\", \"cluster\", \"galaxy\"]\n  cluster = 1\n  listen   =", 1), `node "n1" {`, `node "n1" { #!`, 1), "Cluster without delegates", "no node is in cluster 0"},
		{"missing genesis", "network \"devnet\" { #!\n}\n" + tNode + tSolo, "Missing genesis block", "seed"},
		{"missing seed", strings.Replace(strings.Replace(tBase, `    seed = "s"`+"\n", "", 1), "  genesis {", "  genesis { #!", 1), "Missing seed", "seed ="},
		{"empty seed", strings.Replace(tBase, `seed = "s"`, `seed = "" #!`, 1), "Empty seed", "must not be empty"},
		{"long seed", strings.Replace(tBase, `seed = "s"`, `seed = "`+strings.Repeat("s", MaxSeedLen+1)+`" #!`, 1), "Seed too long", "at most 4096"},
		{"negative timestamp", strings.Replace(tBase, `seed = "s"`, "seed = \"s\"\n    timestamp = -5 #!", 1), "Number out of range", "unix milliseconds"},
		{"star not hex", strings.Replace(tBase, `"dev:faucet"`, `"ed25519:zz" #!`, 1), "Invalid star", "ed25519:<64 hex digits>"},
		{"star too short", strings.Replace(tBase, `"dev:faucet"`, `"ed25519:abcd" #!`, 1), "Invalid star", "want 32"},
		{"zero star", strings.Replace(tBase, `"dev:faucet"`, `"ed25519:`+strings.Repeat("0", 64)+`" #!`, 1), "Invalid star", "all-zero"},
		{"dev star without name", strings.Replace(tBase, `"dev:faucet"`, `"dev:" #!`, 1), "Invalid star", "needs a name"},
		{"dev star on mainnet", strings.Replace(strings.Replace(tBase, `"dev:faucet"`, `"dev:faucet" #!`, 1), `network "devnet"`, `network "mainnet"`, 1),
			"Development star on a non-development network", "anyone can spend"},
		{"dev star with dev = false", strings.Replace(strings.Replace(tBase, `"dev:faucet"`, `"dev:faucet" #!`, 1), "  genesis {", "  dev = false\n  genesis {", 1),
			"Development star on a non-development network", "dev = true"},
		{"star not a string", strings.Replace(tBase, `"dev:faucet"`, `42 #!`, 1), "Incorrect value type", "must be a string, not a number"},
		{"duplicate allocation", strings.Replace(tBase, "  }\n}\n", "    allocation {\n      star = \"dev:faucet\" #!\n      amount = 1\n    }\n  }\n}\n", 1),
			"Duplicate allocation", "Merge"},
		{"missing star", strings.Replace(tBase, "  }\n}\n", "    allocation { #!\n      amount = 1\n    }\n  }\n}\n", 1), "Missing star", "ed25519:"},
		{"missing amount", strings.Replace(tBase, "  }\n}\n", "    allocation { #!\n      star = \"dev:b\"\n    }\n  }\n}\n", 1), "Missing amount", "greater than 0"},
		{"zero amount", strings.Replace(tBase, "amount = 10", "amount = 0 #!", 1), "Number out of range", "between 1 and 18446744073709551615"},
		{"fractional amount", strings.Replace(tBase, "amount = 10", "amount = 2.5 #!", 1), "Not a whole number", "noOs"},
		{"huge amount", strings.Replace(tBase, "amount = 10", "amount = 1e30 #!", 1), "Number out of range", "18446744073709551615"},
		{"total overflows", strings.Replace(strings.Replace(tBase, "amount = 10", "amount = 9223372036854775808", 1), "  }\n}\n",
			"    allocation {\n      star = \"dev:b\"\n      amount = 9223372036854775808 #!\n    }\n  }\n}\n", 1), "Total allocation too large", "Lower the amounts"},
		{"no nodes", strings.Replace(tNet, `network "devnet" {`, `network "devnet" { #!`, 1) + tSolo, "No nodes", `node "star-1"`},
		{"duplicate node", tBase + "node \"n1\" { #!\n  key_file = \"k2\"\n  listen = \"/ip4/127.0.0.1/tcp/7002\"\n}\n", "Duplicate node name", "own name"},
		{"bad node name", tBase + "node \"../n2\" { #!\n  key_file = \"k2\"\n  listen = \"/ip4/127.0.0.1/tcp/7002\"\n}\n", "Invalid node name", "letters"},
		{"node without label", tBase + "node { #!\n}\n", "Missing name for node", "labels"},
		{"missing key_file", tBase + "node \"n2\" { #!\n  listen = \"/ip4/127.0.0.1/tcp/7002\"\n}\n", "Missing key_file", "constellation keygen"},
		{"shared key_file", tBase + "node \"n2\" {\n  key_file = \"keys/n1.key\" #!\n  listen = \"/ip4/127.0.0.1/tcp/7002\"\n}\n", "Key file shared by two nodes", "own key"},
		{"missing listen", tBase + "node \"n2\" { #!\n  key_file = \"k2\"\n}\n", "Missing listen", "/ip4/127.0.0.1/tcp/7001"},
		{"udp listen", strings.Replace(tBase, `"/ip4/127.0.0.1/tcp/7001"`, `"/ip4/127.0.0.1/udp/7001" #!`, 1), "Invalid listen address", "use tcp"},
		{"listen without slash", strings.Replace(tBase, `"/ip4/127.0.0.1/tcp/7001"`, `"127.0.0.1:7001" #!`, 1), "Invalid listen address", "/ip4/127.0.0.1/tcp/7001"},
		{"listen bad ip", strings.Replace(tBase, `"/ip4/127.0.0.1/tcp/7001"`, `"/ip4/300.0.0.1/tcp/7001" #!`, 1), "Invalid listen address", "not an IP address"},
		{"listen ipv6 in ip4", strings.Replace(tBase, `"/ip4/127.0.0.1/tcp/7001"`, `"/ip4/::1/tcp/7001" #!`, 1), "Invalid listen address", "use /ip6/"},
		{"listen bad port", strings.Replace(tBase, `"/ip4/127.0.0.1/tcp/7001"`, `"/ip4/127.0.0.1/tcp/70000" #!`, 1), "Invalid listen address", "out of range"},
		{"shared listen", tBase + "node \"n2\" {\n  key_file = \"k2\"\n  listen = \"/ip4/127.0.0.1/tcp/7001\" #!\n}\n", "Listen address shared by two nodes", "own port"},
		{"bad api", strings.Replace(tBase, "  listen   =", "  api = \"localhost\" #!\n  listen   =", 1), "Invalid api address", "host:port"},
		{"api without host", strings.Replace(tBase, "  listen   =", "  api = \":8001\" #!\n  listen   =", 1), "Invalid api address", "0.0.0.0"},
		{"bootstrap element", strings.Replace(tBase, "  listen   =", "  bootstrap = [\n    \"/ip4/127.0.0.1/tcp/7002\",\n    \"/ip4/127.0.0.1/tcp/0\", #!\n  ]\n  listen   =", 1),
			"Invalid bootstrap address", "port 0"},
		{"bootstrap not a list", strings.Replace(tBase, "  listen   =", "  bootstrap = \"/ip4/127.0.0.1/tcp/7002\" #!\n  listen   =", 1), "Incorrect value type", "list of strings"},
		{"bootstrap duplicate", strings.Replace(tBase, "  listen   =", "  bootstrap = [\"/ip4/127.0.0.1/tcp/7002\",\n \"/ip4/127.0.0.1/tcp/7002\"] #!\n  listen   =", 1),
			"Duplicate bootstrap address", "Remove one"},
		{"bootstrap bad peer id", strings.Replace(tBase, "  listen   =", "  bootstrap = [\"/ip4/127.0.0.1/tcp/7002/p2p/a-b\"] #!\n  listen   =", 1), "Invalid bootstrap address", "not a peer id"},
		{"unknown role", strings.Replace(tBase, "  listen   =", "  roles = [\"star\", \"clustr\"] #!\n  listen   =", 1), "Unknown role", `Did you mean "cluster"?`},
		{"no roles", strings.Replace(tBase, "  listen   =", "  roles = [] #!\n  listen   =", 1), "No roles", "at least one role"},
		{"duplicate role", strings.Replace(tBase, "  listen   =", "  roles = [\"star\", \"star\"] #!\n  listen   =", 1), "Duplicate role", "twice"},
		{"misspelt node attribute", strings.Replace(tBase, "  listen   =", "  lisen = \"x\" #!\n  listen   =", 1), "Unsupported argument", `Did you mean "listen"?`},
		{"unknown plugin kind", tBase + "plugin \"consensos\" \"x\" { #!\n  source = \"builtin\"\n}\n", "Unknown plugin kind", `Did you mean "consensus"? The kinds are: consensus, reputation, partitioner, contracts, transport`},
		{"bad plugin name", tBase + "plugin \"contracts\" \"a/b\" { #!\n  source = \"builtin\"\n}\n", "Invalid plugin name", "letters"},
		{"plugin without source", tBase + "plugin \"reputation\" \"x\" { #!\n}\n", "Plugin has no source", `source = "builtin"`},
		{"unknown source", tBase + "plugin \"reputation\" \"x\" {\n  source = \"github\" #!\n}\n", "Unknown plugin source", "path ="},
		{"path and builtin", tBase + "plugin \"reputation\" \"x\" {\n  source = \"builtin\"\n  path = \"./x\" #!\n}\n", "path given for a builtin plugin", "not both"},
		{"empty path", tBase + "plugin \"reputation\" \"x\" {\n  path = \"\" #!\n}\n", "Empty path", "plugin binary"},
		{"bad sha256", tBase + "plugin \"reputation\" \"x\" {\n  path = \"./x\"\n  sha256 = \"9f2c\" #!\n}\n", "Invalid sha256", "64 hex digits"},
		{"sha256 on builtin", tBase + "plugin \"reputation\" \"x\" {\n  source = \"builtin\"\n  sha256 = \"" + strings.Repeat("a", 64) + "\" #!\n}\n", "sha256 given for a builtin plugin", "Remove the line"},
		{"duplicate plugin", tBase + "plugin \"consensus\" \"solo\" { #!\n  source = \"builtin\"\n}\n", "Duplicate plugin", "already declared"},
		{"two consensus plugins", tBase + "plugin \"consensus\" \"other\" { #!\n  source = \"builtin\"\n}\n", "More than one consensus plugin", "exactly one consensus"},
		{"two transport plugins", tBase + "plugin \"transport\" \"a\" {\n  source = \"builtin\"\n}\nplugin \"transport\" \"b\" { #!\n  source = \"builtin\"\n}\n",
			"More than one transport plugin", "exactly one transport"},
		{"no consensus plugin", strings.Replace(tNet, `network "devnet" {`, `network "devnet" { #!`, 1) + tNode, "No consensus plugin", `plugin "consensus" "solo"`},
		{"duplicate config block", tBase + "plugin \"contracts\" \"x\" {\n  source = \"builtin\"\n  config {}\n  config {} #!\n}\n", "Duplicate config block", "Only one"},
		{"config as attribute", tBase + "plugin \"contracts\" \"x\" {\n  source = \"builtin\"\n  config = {} #!\n}\n", "Unsupported argument", "block"},
		{"syntax error", tBase + "node \"n2\" {\n  listen = = 3 #!\n}\n", "Invalid expression", ""},
		{"unclosed block", tBase + "node \"n2\" { #!\n", "Unclosed configuration block", "closing brace"},
		{"reference", strings.Replace(tBase, `seed = "s"`, `seed = var.seed #!`, 1), "Manifest values must be constants", "References"},
		{"function call", strings.Replace(tBase, `seed = "s"`, `seed = upper("s") #!`, 1), "Manifest values must be constants", "Function calls"},
		{"interpolation", strings.Replace(tBase, `seed = "s"`, `seed = "s${1}" #!`, 1), "Manifest values must be constants", "interpolation"},
		{"conditional", strings.Replace(tBase, `seed = "s"`, `seed = true ? "a" : "b" #!`, 1), "Manifest values must be constants", "not allowed"},
		{"modulo", strings.Replace(tBase, "amount = 10", "amount = 7 % 3 #!", 1), "Manifest values must be constants", "+ - * /"},
		{"huge number interpolated", strings.Replace(tBase, `seed = "s"`, `seed = "${1e999999999}" #!`, 1), "Manifest values must be constants", "interpolation"},
		{"infinite amount", strings.Replace(tBase, "amount = 10", "amount = 1/0 #!", 1), "Number out of range", "finite"},
		{"infinity arithmetic", strings.Replace(tBase, "amount = 10", "amount = 1/0 - 1/0 #!", 1), "Operation failed", "infinity"},
		{"unary chain", strings.Replace(tBase, "amount = 10", "amount = "+strings.Repeat("-", 300)+"1 #!", 1), "Expression too complex", "literally"},
		{"null", strings.Replace(tBase, `seed = "s"`, `seed = null #!`, 1), "Null value", "cannot be null"},
		{"deep nesting", strings.Replace(tBase, `seed = "s"`, `seed = `+strings.Repeat("[", 40)+` #!`, 1), "Manifest nested too deeply", "unclosed"},
		{"long operator chain", strings.Replace(tBase, `amount = 10`, `amount = 1`+strings.Repeat("+1", 300)+` #!`, 1), "Expression too complex", "literally"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			line := markedLine(t, tc.src)
			m, diags := Parse("file.hcl", []byte(tc.src))
			if m == nil {
				t.Fatal("Parse returned a nil manifest")
			}
			if !diags.HasErrors() {
				t.Fatalf("no error for:\n%s", tc.src)
			}
			for _, d := range diags {
				if d.Subject == nil || d.Subject.Filename != "file.hcl" || d.Subject.Start.Line < 1 {
					t.Errorf("diagnostic %q has subject %v", d.Summary, d.Subject)
				}
				if d.Detail == "" {
					t.Errorf("diagnostic %q has no detail", d.Summary)
				}
			}
			var found bool
			for _, d := range errorsOf(diags) {
				if d.Subject.Start.Line == line && strings.Contains(d.Summary, tc.summary) && strings.Contains(d.Detail, tc.detail) {
					found = true
				}
			}
			if !found {
				var b bytes.Buffer
				_ = WriteDiagnostics(&b, m, nil, diags, false)
				t.Fatalf("want an error on line %d with summary ~%q and detail ~%q; got:\n%s", line, tc.summary, tc.detail, b.String())
			}
		})
	}
}

func TestValidVariantsParseCleanly(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	key := "ed25519:" + strings.Repeat("11", 32)
	cases := map[string]string{
		"arithmetic amount":      strings.Replace(tBase, "amount = 10", "amount = 1000 * 1000000000", 1),
		"ed25519 star":           strings.Replace(tBase, `"dev:faucet"`, `"`+key+`"`, 1),
		"mainnet real key":       strings.Replace(strings.Replace(tBase, `"dev:faucet"`, `"`+key+`"`, 1), `"devnet"`, `"mainnet"`, 1),
		"dev = true":             strings.Replace(strings.Replace(tBase, `"devnet"`, `"local"`, 1), "  genesis {", "  dev = true\n  genesis {", 1),
		"ip6 and dns":            strings.Replace(tBase, "  listen   = \"/ip4/127.0.0.1/tcp/7001\"", "  listen = \"/ip6/::1/tcp/7001\"\n  bootstrap = [\"/dns4/node-2.example.org/tcp/7002/p2p/12D3KooWabc\"]", 1),
		"listen port 0":          strings.Replace(tBase, "tcp/7001", "tcp/0", 1),
		"external plugin":        tBase + "plugin \"reputation\" \"acme-trust\" {\n  path = \"./plugins/acme-trust\"\n  sha256 = \"" + sum + "\"\n  config { decay = 0.98 }\n}\n",
		"unchecked external":     tBase + "plugin \"partitioner\" \"p\" {\n  path = \"/opt/p\"\n}\n",
		"many contracts":         tBase + "plugin \"contracts\" \"a\" {\n  source = \"builtin\"\n}\nplugin \"contracts\" \"b\" {\n  source = \"builtin\"\n}\n",
		"no allocations":         strings.Replace(tBase, "    allocation {\n      star   = \"dev:faucet\"\n      amount = 10\n    }\n", "", 1),
		"max total":              strings.Replace(tBase, "amount = 10", "amount = 18446744073709551615", 1),
		"object in config":       tBase + "plugin \"contracts\" \"x\" {\n  source = \"builtin\"\n  config {\n    m = { a = 1, \"b\" = [2] }\n  }\n}\n",
		"same listen on 0.0.0.0": tBase + "node \"n2\" {\n  key_file = \"k2\"\n  listen = \"/ip4/0.0.0.0/tcp/7001\"\n}\nnode \"n3\" {\n  key_file = \"k3\"\n  listen = \"/ip4/0.0.0.0/tcp/7001\"\n}\n",
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			m, diags := Parse("ok.hcl", []byte(src))
			if diags.HasErrors() {
				var b bytes.Buffer
				_ = WriteDiagnostics(&b, m, nil, diags, false)
				t.Fatalf("unexpected errors:\n%s\nsource:\n%s", b.String(), src)
			}
			checkConsistent(t, m)
		})
	}
}

func TestBootstrapToItselfIsAWarning(t *testing.T) {
	src := strings.Replace(tBase, "  listen   =", "  bootstrap = [\"/ip4/127.0.0.1/tcp/7001\"] #!\n  listen   =", 1)
	m, diags := Parse("file.hcl", []byte(src))
	if diags.HasErrors() || len(diags) != 1 || diags[0].Severity != hcl.DiagWarning ||
		diags[0].Subject.Start.Line != markedLine(t, src) {
		t.Fatalf("want one warning on the bootstrap line, got %v", diags)
	}
	if len(m.Nodes[0].Bootstrap) != 1 {
		t.Fatalf("bootstrap = %v", m.Nodes[0].Bootstrap)
	}
}

func TestDiagnosticsAreSortedAndDeterministic(t *testing.T) {
	src := tBase + "node \"n2\" {\n  lisen = 1\n  keyfile = 2\n  api = 3\n  roles = 4\n}\nplugin \"x\" \"y\" {}\n"
	_, first := Parse("file.hcl", []byte(src))
	for i := 0; i < 20; i++ {
		_, again := Parse("file.hcl", []byte(src))
		if len(again) != len(first) {
			t.Fatalf("run %d: %d diagnostics, first run %d", i, len(again), len(first))
		}
		for j := range again {
			if again[j].Summary != first[j].Summary || *again[j].Subject != *first[j].Subject {
				t.Fatalf("run %d: diagnostic %d differs: %v vs %v", i, j, again[j], first[j])
			}
		}
	}
	for j := 1; j < len(first); j++ {
		if first[j].Subject.Start.Byte < first[j-1].Subject.Start.Byte {
			t.Fatalf("diagnostics not sorted by position: %v", first)
		}
	}
}

func TestLoadFileResolvesRelativePaths(t *testing.T) {
	dir := t.TempDir()
	src := tBase + "node \"n2\" {\n  key_file = \"/abs/n2.key\"\n  listen = \"/ip4/127.0.0.1/tcp/7002\"\n}\n" +
		"plugin \"reputation\" \"r\" {\n  path = \"plugins/r\"\n}\n"
	path := filepath.Join(dir, "net.hcl")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	m, diags := LoadFile(path)
	if diags.HasErrors() {
		t.Fatalf("LoadFile: %v", diags)
	}
	if m.Dir != dir || m.Filename != path {
		t.Errorf("Dir = %q, Filename = %q", m.Dir, m.Filename)
	}
	n1, ok := m.Node("n1")
	if !ok || n1.KeyFile != filepath.Join(dir, "keys/n1.key") {
		t.Errorf("n1 = %+v", n1)
	}
	if n2, _ := m.Node("n2"); n2.KeyFile != "/abs/n2.key" {
		t.Errorf("absolute key_file changed: %q", n2.KeyFile)
	}
	if _, ok := m.Node("nope"); ok {
		t.Error("Node found a node that does not exist")
	}
	rep := m.PluginsOf(interfaces.KindReputation)
	if len(rep) != 1 || rep[0].Path != filepath.Join(dir, "plugins/r") {
		t.Errorf("reputation = %+v", rep)
	}
	if solo := m.PluginsOf(interfaces.KindConsensus)[0]; solo.Path != "" {
		t.Errorf("builtin got a path: %q", solo.Path)
	}
}

func TestLoadFileReportsUnreadableAndOversizedFiles(t *testing.T) {
	dir := t.TempDir()
	_, diags := LoadFile(filepath.Join(dir, "missing.hcl"))
	if !diags.HasErrors() || diags[0].Summary != "Cannot read manifest" || diags[0].Subject == nil {
		t.Fatalf("missing file: %v", diags)
	}
	big := filepath.Join(dir, "big.hcl")
	if err := os.WriteFile(big, bytes.Repeat([]byte("# padding\n"), MaxManifestSize/10+1), 0o600); err != nil {
		t.Fatal(err)
	}
	_, diags = LoadFile(big)
	if !diags.HasErrors() || !strings.Contains(diags[0].Detail, "larger than") {
		t.Fatalf("oversized file: %v", diags)
	}
	_, diags = Parse("big.hcl", bytes.Repeat([]byte("#"), MaxManifestSize+1))
	if !diags.HasErrors() || diags[0].Summary != "Manifest too large" {
		t.Fatalf("oversized source: %v", diags)
	}
}

func TestRequireChecksumsRefusesUncheckedExternalPlugins(t *testing.T) {
	src := tBase + "plugin \"reputation\" \"r\" {\n  path = \"plugins/r\" #!\n}\n" +
		"plugin \"partitioner\" \"p\" {\n  path = \"plugins/p\"\n  sha256 = \"" + strings.Repeat("0f", 32) + "\"\n}\n"
	m, diags := Parse("file.hcl", []byte(src))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	p := m.PluginsOf(interfaces.KindPartitioner)[0]
	if len(p.SHA256) != 32 || p.SHA256[0] != 0x0f {
		t.Errorf("sha256 = %x", p.SHA256)
	}
	rd := m.RequireChecksums()
	if len(rd) != 1 || rd[0].Subject.Start.Line != markedLine(t, src) || !strings.Contains(rd[0].Detail, "--dev") {
		t.Fatalf("RequireChecksums = %v", rd)
	}
}

func TestWriteDiagnosticsShowsFileLineAndSnippet(t *testing.T) {
	src := strings.Replace(tBase, `"/ip4/127.0.0.1/tcp/7001"`, `"/ip4/127.0.0.1/udp/7001"`, 1)
	m, diags := Parse("file.hcl", []byte(src))
	if !diags.HasErrors() {
		t.Fatal("want an error")
	}
	var b bytes.Buffer
	if err := WriteDiagnostics(&b, m, nil, diags, false); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"file.hcl:12:14: error: Invalid listen address", "on file.hcl line 12", `listen   = "/ip4/127.0.0.1/udp/7001"`, "use tcp"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	if err := WriteDiagnostics(&b, m, nil, diags, true); err != nil || !strings.Contains(b.String(), "\x1b[") {
		t.Errorf("color output has no escape codes (err %v)", err)
	}
	// Without a manifest the files map supplies the source.
	b.Reset()
	if err := WriteDiagnostics(&b, nil, m.Files, diags, false); err != nil || !strings.Contains(b.String(), "file.hcl:12") {
		t.Errorf("output without manifest: %v\n%s", err, b.String())
	}
}

// fataler is what checkConsistent needs of *testing.T and *rapid.T.
type fataler interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// checkConsistent asserts what every manifest Parse accepts must satisfy.
func checkConsistent(t fataler, m *Manifest) {
	t.Helper()
	if !validName(m.Network.Name) {
		t.Fatalf("network = %+v", m.Network)
	}
	g := m.Network.Genesis
	if g.Seed == "" || len(g.Seed) > MaxSeedLen || g.Timestamp < 0 {
		t.Fatalf("genesis = %+v", g)
	}
	var total uint64
	stars := map[interfaces.StarID]bool{}
	for _, a := range g.Allocations {
		if a.Amount == 0 || total+a.Amount < total || stars[a.Star] || a.Star.IsZero() {
			t.Fatalf("bad allocation %+v", a)
		}
		if strings.HasPrefix(a.StarText, "dev:") && !m.Network.Dev {
			t.Fatalf("dev star %s on a non-dev network", a.StarText)
		}
		total += a.Amount
		stars[a.Star] = true
	}
	if len(m.Nodes) == 0 {
		t.Fatal("no nodes")
	}
	names := map[string]bool{}
	for _, n := range m.Nodes {
		if !validName(n.Name) || names[n.Name] || n.KeyFile == "" {
			t.Fatalf("bad node %+v", n)
		}
		names[n.Name] = true
		if _, err := parseMultiaddr(n.Listen, useListen); err != nil {
			t.Fatalf("node %s listen %q: %v", n.Name, n.Listen, err)
		}
		if len(n.Roles) == 0 {
			t.Fatalf("node %s has no roles", n.Name)
		}
		roles := map[string]bool{}
		for _, r := range n.Roles {
			if !knownRole(r) || roles[r] {
				t.Fatalf("node %s roles %v", n.Name, n.Roles)
			}
			roles[r] = true
		}
		for _, b := range n.Bootstrap {
			if _, err := parseMultiaddr(b, useDial); err != nil {
				t.Fatalf("node %s bootstrap %q: %v", n.Name, b, err)
			}
		}
		if n.API != "" {
			if _, _, err := parseHostPort(n.API); err != nil {
				t.Fatalf("node %s api %q: %v", n.Name, n.API, err)
			}
		}
	}
	seen := map[string]bool{}
	count := map[interfaces.Kind]int{}
	for _, p := range m.Plugins {
		if !p.Kind.Valid() || !validName(p.Name) || seen[p.String()] {
			t.Fatalf("bad plugin %+v", p)
		}
		seen[p.String()] = true
		count[p.Kind]++
		if p.Builtin == (p.Path != "") {
			t.Fatalf("plugin %s: builtin=%v path=%q", p, p.Builtin, p.Path)
		}
		if p.SHA256 != nil && (len(p.SHA256) != 32 || p.Builtin) {
			t.Fatalf("plugin %s sha256 %x", p, p.SHA256)
		}
	}
	if count[interfaces.KindConsensus] != 1 {
		t.Fatalf("%d consensus plugins", count[interfaces.KindConsensus])
	}
	for _, k := range interfaces.Kinds {
		if singleton(k) && count[k] > 1 {
			t.Fatalf("%d %s plugins", count[k], k)
		}
	}
}

// TestOneSyntaxErrorIsReportedOnce: an unterminated string makes the lexer
// report every later line; only the first error is shown, saying how many
// it hides.
func TestOneSyntaxErrorIsReportedOnce(t *testing.T) {
	src := strings.Replace(string(Default()), `seed = "constellation-devnet"`, `seed = "constellation-devnet`, 1)
	if src == string(Default()) {
		t.Fatal("the default manifest has no seed line to break")
	}
	_, diags := Parse("broken.hcl", []byte(src))
	if len(diags) != 1 || !diags.HasErrors() || !strings.Contains(diags[0].Detail, "more syntax errors") {
		t.Fatalf("got %d diagnostics: %v", len(diags), diags)
	}
}
