package manifest

import (
	"fmt"
	"math/big"
	"reflect"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/constellation-chain/constellation/interfaces"
)

// model is what a generated manifest should parse into.
type model struct {
	network   Network
	nodes     []Node
	plugins   []PluginDecl
	hasConfig []bool
}

func genModel(t *rapid.T) model {
	var m model
	m.network.Name = rapid.SampledFrom([]string{"devnet", "dev-local", "mainnet", "testnet-3"}).Draw(t, "network")
	m.network.Dev = strings.HasPrefix(m.network.Name, "dev")
	m.network.Genesis.Seed = rapid.StringMatching(`[a-z0-9 -]{1,20}`).Draw(t, "seed")
	m.network.Genesis.Timestamp = rapid.Int64Min(0).Draw(t, "timestamp")

	var total uint64
	seen := map[interfaces.StarID]bool{}
	for i, n := 0, rapid.IntRange(0, 5).Draw(t, "allocations"); i < n; i++ {
		var a Allocation
		if m.network.Dev && rapid.Bool().Draw(t, "dev") {
			a.StarText = "dev:" + rapid.StringMatching(`[a-z]{1,8}`).Draw(t, "devname")
			a.Star = interfaces.DevStar(a.StarText[4:])
		} else {
			b := rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(t, "key")
			copy(a.Star[:], b)
			a.StarText = a.Star.String()
		}
		if seen[a.Star] || a.Star.IsZero() {
			continue
		}
		a.Amount = rapid.Uint64Range(1, (^uint64(0)-total)/8+1).Draw(t, "amount")
		total += a.Amount
		seen[a.Star] = true
		m.network.Genesis.Allocations = append(m.network.Genesis.Allocations, a)
	}

	// The candidate role needs a cluster and a rotation block, which this
	// generator does not write; TestEveryMistakeIsReportedAtItsLine covers it.
	roles := []string{RoleStar, RoleCluster, RoleGalaxy}
	allRoles := rapid.SliceOfNDistinct(rapid.SampledFrom(roles), 1, len(roles), func(s string) string { return s })
	nNodes := rapid.IntRange(1, 6).Draw(t, "nodes")
	for i := 0; i < nNodes; i++ {
		n := Node{
			Name:    fmt.Sprintf("star-%d", i+1),
			KeyFile: fmt.Sprintf("keys/star-%d.key", i+1),
			Listen:  fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", 7001+i),
			Roles:   allRoles.Draw(t, "roles"),
		}
		if rapid.Bool().Draw(t, "api") {
			n.API = fmt.Sprintf("127.0.0.1:%d", 8001+i)
		}
		for j := 0; j < nNodes; j++ {
			if j != i && rapid.Bool().Draw(t, "peer") {
				n.Bootstrap = append(n.Bootstrap, fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", 7001+j))
			}
		}
		m.nodes = append(m.nodes, n)
	}

	kinds := []interfaces.Kind{interfaces.KindConsensus}
	for _, k := range []interfaces.Kind{interfaces.KindReputation, interfaces.KindPartitioner, interfaces.KindTransport} {
		if rapid.Bool().Draw(t, "has "+string(k)) {
			kinds = append(kinds, k)
		}
	}
	for i, n := 0, rapid.IntRange(0, 3).Draw(t, "contracts"); i < n; i++ {
		kinds = append(kinds, interfaces.KindContracts)
	}
	for i, k := range kinds {
		p := PluginDecl{Kind: k, Name: fmt.Sprintf("p%d", i)}
		if rapid.Bool().Draw(t, "builtin") {
			p.Builtin = true
		} else {
			p.Path = "./plugins/" + p.Name
			if rapid.Bool().Draw(t, "checksum") {
				p.SHA256 = rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(t, "sha256")
			}
		}
		m.plugins = append(m.plugins, p)
		m.hasConfig = append(m.hasConfig, rapid.Bool().Draw(t, "config"))
	}
	// Shuffle the plugin blocks: order of declaration must not matter for
	// validity.
	perm := rapid.Permutation(seqTo(len(m.plugins))).Draw(t, "order")
	var ps []PluginDecl
	var hc []bool
	for _, j := range perm {
		ps = append(ps, m.plugins[j])
		hc = append(hc, m.hasConfig[j])
	}
	m.plugins, m.hasConfig = ps, hc
	return m
}

func seqTo(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func quoteList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func (m model) render() string {
	var b strings.Builder
	n := m.network
	fmt.Fprintf(&b, "network %q {\n  genesis {\n    seed = %q\n    timestamp = %d\n", n.Name, n.Genesis.Seed, n.Genesis.Timestamp)
	for _, a := range n.Genesis.Allocations {
		fmt.Fprintf(&b, "    allocation {\n      star = %q\n      amount = %d\n    }\n", a.StarText, a.Amount)
	}
	b.WriteString("  }\n}\n")
	for _, nd := range m.nodes {
		fmt.Fprintf(&b, "node %q {\n  key_file = %q\n  listen = %q\n  roles = %s\n", nd.Name, nd.KeyFile, nd.Listen, quoteList(nd.Roles))
		if nd.API != "" {
			fmt.Fprintf(&b, "  api = %q\n", nd.API)
		}
		if nd.Bootstrap != nil {
			fmt.Fprintf(&b, "  bootstrap = %s\n", quoteList(nd.Bootstrap))
		}
		b.WriteString("}\n")
	}
	for i, p := range m.plugins {
		fmt.Fprintf(&b, "plugin %q %q {\n", p.Kind, p.Name)
		if p.Builtin {
			b.WriteString("  source = \"builtin\"\n")
		} else {
			fmt.Fprintf(&b, "  path = %q\n", p.Path)
			if p.SHA256 != nil {
				fmt.Fprintf(&b, "  sha256 = \"%x\"\n", p.SHA256)
			}
		}
		if m.hasConfig[i] {
			b.WriteString("  config {\n    x = 1\n  }\n")
		}
		b.WriteString("}\n")
	}
	return b.String()
}

// TestGeneratedManifestsRoundTrip checks that any well-formed manifest
// parses without diagnostics into exactly the values it was written from.
func TestGeneratedManifestsRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		want := genModel(t)
		src := want.render()
		m, diags := Parse("gen.hcl", []byte(src))
		if len(diags) != 0 {
			t.Fatalf("diagnostics %v for:\n%s", diags, src)
		}
		got := m.Network
		if got.Name != want.network.Name || got.Dev != want.network.Dev ||
			got.Genesis.Seed != want.network.Genesis.Seed || got.Genesis.Timestamp != want.network.Genesis.Timestamp ||
			len(got.Genesis.Allocations) != len(want.network.Genesis.Allocations) {
			t.Fatalf("network %+v, want %+v", got, want.network)
		}
		for i, a := range got.Genesis.Allocations {
			w := want.network.Genesis.Allocations[i]
			if a.Star != w.Star || a.StarText != w.StarText || a.Amount != w.Amount {
				t.Fatalf("allocation %d = %+v, want %+v", i, a, w)
			}
		}
		if len(m.Nodes) != len(want.nodes) {
			t.Fatalf("%d nodes, want %d", len(m.Nodes), len(want.nodes))
		}
		for i, n := range m.Nodes {
			w := want.nodes[i]
			if n.Name != w.Name || n.KeyFile != w.KeyFile || n.Listen != w.Listen || n.API != w.API ||
				!reflect.DeepEqual(n.Bootstrap, w.Bootstrap) || !reflect.DeepEqual(n.Roles, w.Roles) {
				t.Fatalf("node %d = %+v, want %+v", i, n, w)
			}
		}
		if len(m.Plugins) != len(want.plugins) {
			t.Fatalf("%d plugins, want %d", len(m.Plugins), len(want.plugins))
		}
		for i, p := range m.Plugins {
			w := want.plugins[i]
			if p.Kind != w.Kind || p.Name != w.Name || p.Builtin != w.Builtin || p.Path != w.Path ||
				!reflect.DeepEqual(p.SHA256, w.SHA256) || (p.Config != nil) != want.hasConfig[i] {
				t.Fatalf("plugin %d = %+v, want %+v", i, p, w)
			}
		}
		checkConsistent(t, m)
	})
}

// TestAllocationTotalOverflowIsDetectedExactly checks the 64-bit supply
// bound against arbitrary-precision arithmetic.
func TestAllocationTotalOverflowIsDetectedExactly(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		amounts := rapid.SliceOfN(rapid.Uint64Min(1), 1, 4).Draw(t, "amounts")
		var b strings.Builder
		b.WriteString("network \"devnet\" {\n  genesis {\n    seed = \"s\"\n")
		sum := new(big.Int)
		for i, a := range amounts {
			fmt.Fprintf(&b, "    allocation {\n      star = \"dev:s%d\"\n      amount = %d\n    }\n", i, a)
			sum.Add(sum, new(big.Int).SetUint64(a))
		}
		b.WriteString("  }\n}\n" + tNode + tSolo)
		_, diags := Parse("sum.hcl", []byte(b.String()))
		overflow := sum.Cmp(new(big.Int).SetUint64(^uint64(0))) > 0
		reported := false
		for _, d := range diags {
			if d.Summary == "Total allocation too large" {
				reported = true
			}
		}
		if overflow != reported || diags.HasErrors() != overflow {
			t.Fatalf("sum %s: overflow %v, reported %v, diags %v", sum, overflow, reported, diags)
		}
	})
}
