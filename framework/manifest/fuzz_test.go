package manifest

import (
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/constellation-chain/constellation/interfaces"
)

// FuzzParse checks that Parse never panics, that every diagnostic has a
// subject in the parsed file, that the diagnostics print, and that a
// manifest accepted without errors satisfies every documented invariant.
func FuzzParse(f *testing.F) {
	// Seeds stay small: the fuzzer minimizes every new input, which takes
	// time proportional to its size.
	f.Add([]byte(tBase))
	f.Add([]byte(tBase + "plugin \"reputation\" \"r\" {\n  path = \"./r\"\n  sha256 = \"" + strings.Repeat("ab", 32) + "\"\n  config { decay = 0.98 }\n}\n"))
	f.Add([]byte(strings.Replace(tBase, "amount = 10", "amount = 1e30", 1)))
	f.Add([]byte(`network "x" { genesis { seed = "${1e999999999}" } }`))
	f.Add([]byte("node \"a\" {\n  roles = [\"star\", \"galaxy\"]\n  bootstrap = [\"/dns4/a.b/tcp/1/p2p/Qm1\"]\n}\n"))
	f.Add([]byte(strings.Repeat("[", 64)))
	f.Fuzz(func(t *testing.T, src []byte) {
		m, diags := Parse("fuzz.hcl", src)
		if m == nil {
			t.Fatal("nil manifest")
		}
		for _, d := range diags {
			if d.Subject == nil || d.Subject.Filename != "fuzz.hcl" {
				t.Fatalf("diagnostic %q has subject %v", d.Summary, d.Subject)
			}
			if d.Summary == "" {
				t.Fatal("diagnostic without summary")
			}
		}
		if err := WriteDiagnostics(io.Discard, m, nil, diags, false); err != nil {
			t.Fatal(err)
		}
		if diags.HasErrors() {
			return
		}
		checkConsistent(t, m)
		lookup := func(k interfaces.Kind, n string) (interfaces.PluginInfo, bool) {
			info := fakeInfo
			info.Kind, info.Name = k, n
			return info, true
		}
		_ = Check(m, lookup, nil)
	})
}

// FuzzDecodeConfig feeds arbitrary config bodies to DecodeConfig: it never
// panics, and when it accepts a body the result is a JSON object holding
// only declared fields, every required one, each of its declared type.
func FuzzDecodeConfig(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("decay = 0.5\nlabel = \"x\"\npeers = [\"a\"]\nweights = [1, 2.5]\nstrict = true\nwindow = 3\n"))
	f.Add([]byte("decay = \"x\"\n"))
	f.Add([]byte("weights = [1e400]\n"))
	f.Add([]byte("label = -0\n"))
	f.Add([]byte("nested { a = 1 }\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		file, _, diags := parseSource("cfg.hcl", src)
		if diags.HasErrors() {
			return
		}
		start := hcl.Pos{Line: 1, Column: 1}
		r := hcl.Range{Filename: "cfg.hcl", Start: start, End: start}
		decl := &PluginDecl{Kind: fakeInfo.Kind, Name: fakeInfo.Name, Builtin: true, Config: file.Body,
			DeclRange: r, NameRange: r, ConfigRange: r, KindRange: r, PathRange: r}
		for _, info := range []interfaces.PluginInfo{fakeInfo, requiredInfo} {
			out, diags := DecodeConfig(decl, info)
			for _, d := range diags {
				if d.Subject == nil {
					t.Fatalf("diagnostic %q has no subject", d.Summary)
				}
			}
			if diags.HasErrors() {
				continue
			}
			var obj map[string]any
			if err := json.Unmarshal(out, &obj); err != nil {
				t.Fatalf("output %s is not a JSON object: %v", out, err)
			}
			fields := map[string]interfaces.ConfigField{}
			for _, fd := range info.Config {
				fields[fd.Name] = fd
				if _, ok := obj[fd.Name]; fd.Required && !ok {
					t.Fatalf("required %s missing from %s", fd.Name, out)
				}
			}
			for k, v := range obj {
				fd, ok := fields[k]
				if !ok {
					t.Fatalf("undeclared field %s in %s", k, out)
				}
				if !jsonHasType(v, fd.Type) {
					t.Fatalf("field %s = %v is not a %s", k, v, fd.Type)
				}
			}
		}
	})
}

func jsonHasType(v any, t interfaces.ConfigType) bool {
	switch t {
	case interfaces.ConfigString:
		_, ok := v.(string)
		return ok
	case interfaces.ConfigNumber:
		_, ok := v.(float64)
		return ok
	case interfaces.ConfigBool:
		_, ok := v.(bool)
		return ok
	case interfaces.ConfigStringList, interfaces.ConfigNumberList:
		l, ok := v.([]any)
		if !ok {
			return false
		}
		elem := interfaces.ConfigString
		if t == interfaces.ConfigNumberList {
			elem = interfaces.ConfigNumber
		}
		for _, e := range l {
			if !jsonHasType(e, elem) {
				return false
			}
		}
		return true
	}
	return false
}
