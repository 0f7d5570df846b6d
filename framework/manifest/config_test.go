package manifest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/constellation-chain/constellation/interfaces"
)

// fakeInfo is a made-up plugin description covering every config type.
var fakeInfo = interfaces.PluginInfo{
	Kind: interfaces.KindReputation, Name: "fake", Version: "1.0.0", APIVersions: []int{interfaces.APIVersion},
	Config: []interfaces.ConfigField{
		{Name: "decay", Type: interfaces.ConfigNumber, Default: "0.98", Doc: "weight kept per epoch"},
		{Name: "label", Type: interfaces.ConfigString},
		{Name: "peers", Type: interfaces.ConfigStringList},
		{Name: "weights", Type: interfaces.ConfigNumberList, Default: "[1, 2]"},
		{Name: "strict", Type: interfaces.ConfigBool, Default: "false"},
		{Name: "window", Type: interfaces.ConfigNumber},
	},
}

var requiredInfo = interfaces.PluginInfo{
	Kind: interfaces.KindReputation, Name: "fake", Version: "1.0.0", APIVersions: []int{interfaces.APIVersion},
	Config: []interfaces.ConfigField{
		{Name: "endpoint", Type: interfaces.ConfigString, Required: true, Doc: "where to send scores"},
		{Name: "retries", Type: interfaces.ConfigNumber, Required: true, Default: "3"},
	},
}

// pluginWithConfig parses tBase plus a reputation plugin "fake" whose block
// holds body (no config block at all if body is "-").
func pluginWithConfig(t *testing.T, body string) (string, *PluginDecl) {
	t.Helper()
	block := "plugin \"reputation\" \"fake\" {\n  source = \"builtin\"\n"
	if body != "-" {
		block += "  config {\n" + body + "  }\n"
	}
	src := tBase + block + "}\n"
	m, diags := Parse("file.hcl", []byte(src))
	if diags.HasErrors() {
		t.Fatalf("Parse: %v\n%s", diags, src)
	}
	return src, m.PluginsOf(interfaces.KindReputation)[0]
}

func TestDecodeConfigAppliesDefaults(t *testing.T) {
	for _, body := range []string{"-", "", "  # nothing\n"} {
		_, decl := pluginWithConfig(t, body)
		out, diags := DecodeConfig(decl, fakeInfo)
		if diags.HasErrors() {
			t.Fatalf("config %q: %v", body, diags)
		}
		if want := `{"decay":0.98,"strict":false,"weights":[1,2]}`; string(out) != want {
			t.Errorf("config %q: got %s, want %s", body, out, want)
		}
	}
	empty := fakeInfo
	empty.Config = nil
	_, decl := pluginWithConfig(t, "-")
	if out, diags := DecodeConfig(decl, empty); diags.HasErrors() || string(out) != "{}" {
		t.Errorf("no fields: %s %v", out, diags)
	}
}

func TestDecodeConfigEncodesEveryTypeAsJSON(t *testing.T) {
	_, decl := pluginWithConfig(t, `    decay   = 0.5
    label   = "a \"quoted\" label"
    peers   = ["x", "y"]
    weights = [3, -4.25, 18446744073709551615]
    strict  = true
    window  = -9223372036854775808
`)
	out, diags := DecodeConfig(decl, fakeInfo)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := `{"decay":0.5,"label":"a \"quoted\" label","peers":["x","y"],"strict":true,"weights":[3,-4.25,18446744073709551615],"window":-9223372036854775808}`
	if string(out) != want {
		t.Fatalf("got  %s\nwant %s", out, want)
	}
	var v map[string]any
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
}

func TestDecodeConfigReportsMistakesAtTheirLine(t *testing.T) {
	cases := []struct {
		name, body      string
		summary, detail string
	}{
		{"string for number", "    decay = \"0.5\" #!\n", "Incorrect config value", "must be a number, not a string"},
		{"number for string", "    label = 5 #!\n", "Incorrect config value", "must be a string, not a number"},
		{"number for bool", "    strict = 1 #!\n", "Incorrect config value", "true or false"},
		{"scalar for list", "    peers = \"x\" #!\n", "Incorrect value type", "list(string) written in brackets"},
		{"bad list element", "    peers = [\n      \"x\",\n      7, #!\n    ]\n", "Incorrect config value", "each element of config field peers must be a string"},
		{"null element", "    weights = [1, null] #!\n", "Null value", "cannot be null"},
		{"number out of range", "    decay = 1e400 #!\n", "Incorrect config value", "out of range"},
		{"unknown attribute", "    decai = 0.5 #!\n", "Unsupported argument", `accepts: decay (number), label (string)`},
		{"nested block", "    sub { #!\n    }\n", "Unsupported block type", "accepts:"},
		{"null value", "    label = null #!\n", "Null value", "cannot be null"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src, decl := pluginWithConfig(t, tc.body)
			line := markedLine(t, src)
			out, diags := DecodeConfig(decl, fakeInfo)
			if out != nil || !diags.HasErrors() {
				t.Fatalf("want errors, got %s %v", out, diags)
			}
			for _, d := range errorsOf(diags) {
				if d.Subject != nil && d.Subject.Start.Line == line && strings.Contains(d.Summary, tc.summary) && strings.Contains(d.Detail, tc.detail) {
					return
				}
			}
			t.Fatalf("want an error on line %d ~%q ~%q, got %v", line, tc.summary, tc.detail, diags)
		})
	}
}

func TestDecodeConfigRequiresRequiredFields(t *testing.T) {
	// With a config block, the error points at the config block.
	src, decl := pluginWithConfig(t, "")
	_, diags := DecodeConfig(decl, requiredInfo)
	cfgLine := strings.Count(src[:strings.Index(src, "  config {")], "\n") + 1
	if len(diags) != 1 || diags[0].Subject.Start.Line != cfgLine || !strings.Contains(diags[0].Detail, "requires endpoint") ||
		!strings.Contains(diags[0].Detail, "where to send scores") {
		t.Fatalf("missing required (config block): %v", diags)
	}
	// Without one, at the plugin block.
	src, decl = pluginWithConfig(t, "-")
	_, diags = DecodeConfig(decl, requiredInfo)
	plLine := strings.Count(src[:strings.Index(src, `plugin "reputation"`)], "\n") + 1
	if len(diags) != 1 || diags[0].Subject.Start.Line != plLine {
		t.Fatalf("missing required (no config block): %v", diags)
	}
	// A required field with a default is satisfied by the default.
	_, decl = pluginWithConfig(t, "    endpoint = \"http://127.0.0.1:9\"\n")
	out, diags := DecodeConfig(decl, requiredInfo)
	if diags.HasErrors() || string(out) != `{"endpoint":"http://127.0.0.1:9","retries":3}` {
		t.Fatalf("required present: %s %v", out, diags)
	}
}

func TestDecodeConfigReportsBrokenPluginDescriptions(t *testing.T) {
	src, decl := pluginWithConfig(t, "-")
	nameLine := strings.Count(src[:strings.Index(src, `plugin "reputation"`)], "\n") + 1
	for name, fields := range map[string][]interfaces.ConfigField{
		"default of wrong type": {{Name: "n", Type: interfaces.ConfigNumber, Default: `"x"`}},
		"default not JSON":      {{Name: "n", Type: interfaces.ConfigNumber, Default: `{`}},
		"unknown type":          {{Name: "n", Type: "map(string)"}},
		"duplicate field":       {{Name: "n", Type: interfaces.ConfigBool}, {Name: "n", Type: interfaces.ConfigBool}},
	} {
		info := fakeInfo
		info.Config = fields
		_, diags := DecodeConfig(decl, info)
		if len(diags) != 1 || diags[0].Subject.Start.Line != nameLine || !strings.Contains(diags[0].Detail, "bug in the plugin") {
			t.Errorf("%s: %v", name, diags)
		}
	}
}

func TestConfigSpecMatchesDeclaredFields(t *testing.T) {
	spec, err := ConfigSpec(fakeInfo)
	if err != nil {
		t.Fatal(err)
	}
	if len(spec) != len(fakeInfo.Config) {
		t.Fatalf("spec has %d entries, want %d", len(spec), len(fakeInfo.Config))
	}
	for _, f := range fakeInfo.Config {
		if spec[f.Name] == nil {
			t.Errorf("no spec for %s", f.Name)
		}
	}
}

func fakeCatalog(infos ...interfaces.PluginInfo) (func(interfaces.Kind, string) (interfaces.PluginInfo, bool), func(interfaces.Kind) []string) {
	lookup := func(k interfaces.Kind, n string) (interfaces.PluginInfo, bool) {
		for _, i := range infos {
			if i.Kind == k && i.Name == n {
				return i, true
			}
		}
		return interfaces.PluginInfo{}, false
	}
	known := func(k interfaces.Kind) []string {
		var out []string
		for _, i := range infos {
			if i.Kind == k {
				out = append(out, i.Name)
			}
		}
		return out
	}
	return lookup, known
}

var fakeSolo = interfaces.PluginInfo{Kind: interfaces.KindConsensus, Name: "solo", Version: "0.1.0", APIVersions: []int{interfaces.APIVersion},
	Config: []interfaces.ConfigField{{Name: "batch_size", Type: interfaces.ConfigNumber, Default: "1000"}}}

func TestCheckResolvesPluginsAndDecodesConfigs(t *testing.T) {
	lookup, known := fakeCatalog(fakeSolo, fakeInfo)
	m, diags := ParseDefault()
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	// The default manifest runs honeybadger with the host's batch settings
	// and the gossip transport.
	fakeHB := fakeSolo
	fakeHB.Name = "honeybadger"
	fakeHB.Config = append(fakeHB.Config, interfaces.ConfigField{Name: "block_interval_ms", Type: interfaces.ConfigNumber})
	fakeGossip := interfaces.PluginInfo{Kind: interfaces.KindTransport, Name: "gossip", Version: "0.1.0", APIVersions: []int{interfaces.APIVersion}}
	fakeMeme := interfaces.PluginInfo{Kind: interfaces.KindReputation, Name: "meme", Version: "0.1.0", APIVersions: []int{interfaces.APIVersion}}
	fakeLSH := interfaces.PluginInfo{Kind: interfaces.KindPartitioner, Name: "lsh", Version: "0.1.0", APIVersions: []int{interfaces.APIVersion},
		Config: []interfaces.ConfigField{{Name: "placement", Type: interfaces.ConfigString}, {Name: "relabel_every", Type: interfaces.ConfigNumber}}}
	lookup2, known2 := fakeCatalog(fakeHB, fakeGossip, fakeMeme, fakeLSH)
	if d := Check(m, lookup2, known2); len(d) != 0 {
		t.Fatalf("default manifest: %v", d)
	}
	// Without block_interval_ms in the schema, the default's setting is refused.
	fakeHB.Config = fakeHB.Config[:1]
	lookup3, known3 := fakeCatalog(fakeHB, fakeGossip, fakeMeme, fakeLSH)
	if d := Check(m, lookup3, known3); len(d) != 1 || d[0].Summary != "Unsupported argument" || !strings.Contains(d[0].Detail, "block_interval_ms") {
		t.Fatalf("unknown field: %v", d)
	}

	src := tBase + "plugin \"reputation\" \"fak\" { #!\n  source = \"builtin\"\n}\n" +
		"plugin \"contracts\" \"ext\" {\n  path = \"./ext\"\n}\n"
	m, diags = Parse("file.hcl", []byte(src))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	// The contracts block is refused: nothing in a node calls one yet.
	d := Check(m, lookup, known)
	if len(d) != 2 || d[0].Subject.Start.Line != markedLine(t, src) || d[0].Summary != "Unknown builtin plugin" ||
		!strings.Contains(d[0].Detail, `Did you mean "fake"?`) || !strings.Contains(d[0].Detail, "The builtin reputation plugins are: fake.") {
		t.Fatalf("unknown builtin: %v", d)
	}
	if d[1].Summary != "Not supported yet" || !strings.Contains(d[1].Detail, "contracts") {
		t.Fatalf("a partitioner plugin, which nothing uses yet: %v", d[1])
	}
	if d := Check(m, lookup, nil); len(d) != 2 || !strings.Contains(d[0].Detail, "no builtin reputation plugins") {
		t.Fatalf("unknown builtin, nil known: %v", d)
	}
}

func TestCheckRefusesMismatchedPlugins(t *testing.T) {
	m, diags := Parse("file.hcl", []byte(tBase))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	wrongName := fakeSolo
	wrongName.Name = "other"
	oldAPI := fakeSolo
	oldAPI.APIVersions = []int{interfaces.APIVersion + 7}
	for want, info := range map[string]interfaces.PluginInfo{"Plugin identity mismatch": wrongName, "Plugin speaks another API version": oldAPI} {
		lookup := func(interfaces.Kind, string) (interfaces.PluginInfo, bool) { return info, true }
		d := Check(m, lookup, nil)
		if len(d) != 1 || d[0].Summary != want || d[0].Subject.Start.Line != 14 {
			t.Errorf("%s: %v", want, d)
		}
	}
}

func TestDecodeConfigReportsEveryMistakeInOnePass(t *testing.T) {
	_, decl := pluginWithConfig(t, "    decai = 0.5\n    label = 5\n    peers = [\"a\", 2]\n")
	_, diags := DecodeConfig(decl, fakeInfo)
	if len(diags) != 3 {
		t.Fatalf("want 3 diagnostics, got %v", diags)
	}
	for i := 1; i < len(diags); i++ {
		if diags[i].Subject.Start.Line <= diags[i-1].Subject.Start.Line {
			t.Fatalf("diagnostics not in line order: %v", diags)
		}
	}
}

func TestUnsupportedArgumentSuggestsOnce(t *testing.T) {
	for _, src := range []string{
		tBase + "node \"n2\" {\n  lisen = 1\n}\n",
		strings.Replace(tBase, "  listen   =", "  lisen = 1\n  listen   =", 1),
	} {
		_, diags := Parse("file.hcl", []byte(src))
		found := false
		for _, d := range diags {
			if d.Summary == "Unsupported argument" {
				found = true
				if strings.Count(d.Detail, `Did you mean "listen"?`) != 1 || !strings.Contains(d.Detail, "A node block accepts: api, bootstrap, cluster, cluster_key_file, galaxy_key_file, key_file, listen, roles, star.") {
					t.Errorf("detail: %s", d.Detail)
				}
			}
		}
		if !found {
			t.Errorf("no Unsupported argument in %v", diags)
		}
	}
}
