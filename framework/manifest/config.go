package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/constellation-chain/constellation/interfaces"
)

// configCtyType maps a declared config field type to its cty type.
func configCtyType(t interfaces.ConfigType) (cty.Type, bool) {
	switch t {
	case interfaces.ConfigString:
		return cty.String, true
	case interfaces.ConfigNumber:
		return cty.Number, true
	case interfaces.ConfigBool:
		return cty.Bool, true
	case interfaces.ConfigStringList:
		return cty.List(cty.String), true
	case interfaces.ConfigNumberList:
		return cty.List(cty.Number), true
	}
	return cty.NilType, false
}

// ConfigSpec builds the hcldec spec of a plugin's config block from the
// fields the plugin declares: one AttrSpec per field, wrapped in a
// DefaultSpec when the field has a JSON default. It fails if the
// description is itself invalid (unknown type, default of the wrong type);
// that is a bug in the plugin, not in the manifest.
func ConfigSpec(info interfaces.PluginInfo) (hcldec.ObjectSpec, error) {
	spec := hcldec.ObjectSpec{}
	for _, f := range info.Config {
		ty, ok := configCtyType(f.Type)
		if !ok {
			return nil, fmt.Errorf("building config spec of plugin %s/%s: field %q has unknown type %q",
				info.Kind, info.Name, f.Name, f.Type)
		}
		var s hcldec.Spec = &hcldec.AttrSpec{Name: f.Name, Type: ty, Required: f.Required && f.Default == ""}
		if f.Default != "" {
			v, err := ctyjson.Unmarshal([]byte(f.Default), ty)
			if err != nil {
				return nil, fmt.Errorf("building config spec of plugin %s/%s: default %s of field %q is not a %s: %w",
					info.Kind, info.Name, f.Default, f.Name, f.Type, err)
			}
			if problem := valueProblem(v, f.Type); problem != "" {
				return nil, fmt.Errorf("building config spec of plugin %s/%s: default %s of field %q: %s",
					info.Kind, info.Name, f.Default, f.Name, problem)
			}
			s = &hcldec.DefaultSpec{Primary: s, Default: &hcldec.LiteralSpec{Value: v}}
		}
		spec[f.Name] = s
	}
	return spec, nil
}

// DecodeConfig decodes decl's config block against the schema info
// declares and returns it as a JSON object: one member per field that is
// set or has a default (absent optional fields are left out), numbers as
// JSON numbers (integers exactly, others as the nearest float64), members
// sorted by name. A missing or empty config block gives "{}" plus defaults.
// Diagnostics are sorted by position.
//
// Unknown attributes, nested blocks, wrong types, numbers beyond float64
// range, null elements and missing required fields are diagnostics at the
// offending attribute (or at the config block, or the plugin block when
// there is no config block). Values are taken strictly: a number is not
// accepted where a string is declared, nor the reverse.
func DecodeConfig(decl *PluginDecl, info interfaces.PluginInfo) ([]byte, hcl.Diagnostics) {
	at := decl.ConfigRange
	if decl.Config == nil || at == (hcl.Range{}) {
		at = decl.DeclRange
	}
	out, diags := decodeConfig(decl, info, at)
	return out, finish(diags, at)
}

func decodeConfig(decl *PluginDecl, info interfaces.PluginInfo, at hcl.Range) ([]byte, hcl.Diagnostics) {
	spec, err := ConfigSpec(info)
	if err == nil {
		err = info.Validate()
	}
	if err != nil {
		return nil, hcl.Diagnostics{errDiag(nameRange(decl), "Plugin describes its configuration wrongly",
			fmt.Sprintf("The %s plugin %q cannot be configured: %v. This is a bug in the plugin; report it to its authors.",
				decl.Kind, decl.Name, err))}
	}
	body := decl.Config
	if body == nil {
		body = hcl.EmptyBody()
	}
	if diags := checkConstants(body); diags.HasErrors() {
		return nil, diags
	}

	schema := &hcl.BodySchema{}
	for _, f := range info.Config {
		schema.Attributes = append(schema.Attributes, hcl.AttributeSchema{Name: f.Name})
	}
	content, diags := body.Content(schema)
	accepted := acceptedFields(decl, info)
	for _, d := range diags {
		if d.Summary == "Unsupported argument" || d.Summary == "Unsupported block type" {
			d.Detail = strings.TrimSpace(d.Detail + " " + accepted)
		}
	}
	if content == nil {
		return nil, diags
	}
	// Carry on past unknown attributes so that every mistake in the block
	// is reported in one pass.
	for _, f := range info.Config {
		attr := content.Attributes[f.Name]
		if attr == nil {
			if f.Required && f.Default == "" {
				diags = append(diags, errDiag(at, "Missing required config field",
					fmt.Sprintf("The %s plugin %q requires %s in its config block%s. %s",
						decl.Kind, decl.Name, f.Name, fieldDoc(f), accepted)))
			}
			continue
		}
		diags = append(diags, checkConfigValue(attr, f)...)
	}
	if diags.HasErrors() {
		return nil, diags
	}

	val, dd := hcldec.Decode(body, spec, nil)
	diags = append(diags, dd...)
	if diags.HasErrors() {
		return nil, diags
	}
	out, err := marshalConfig(val, info.Config)
	if err != nil {
		return nil, append(diags, errDiag(at, "Cannot encode config",
			fmt.Sprintf("Encoding the config of the %s plugin %q failed: %v.", decl.Kind, decl.Name, err)))
	}
	return out, diags
}

func nameRange(decl *PluginDecl) hcl.Range {
	if decl.NameRange != (hcl.Range{}) {
		return decl.NameRange
	}
	return decl.DeclRange
}

func fieldDoc(f interfaces.ConfigField) string {
	s := " (" + string(f.Type)
	if f.Doc != "" {
		s += ": " + f.Doc
	}
	return s + ")"
}

// acceptedFields lists the config fields a plugin accepts, for details.
func acceptedFields(decl *PluginDecl, info interfaces.PluginInfo) string {
	if len(info.Config) == 0 {
		return fmt.Sprintf("The %s plugin %q takes no configuration; remove the config block.", decl.Kind, decl.Name)
	}
	names := make([]string, len(info.Config))
	for i, f := range info.Config {
		names[i] = fmt.Sprintf("%s (%s)", f.Name, f.Type)
	}
	return fmt.Sprintf("The %s plugin %q accepts: %s.", decl.Kind, decl.Name, strings.Join(names, ", "))
}

// checkConfigValue evaluates one config attribute and checks it strictly
// against the declared type, element by element for lists so that a bad
// element is reported on its own line.
func checkConfigValue(attr *hcl.Attribute, f interfaces.ConfigField) hcl.Diagnostics {
	name := "config field " + f.Name
	switch f.Type {
	case interfaces.ConfigStringList, interfaces.ConfigNumberList:
		elem := interfaces.ConfigString
		if f.Type == interfaces.ConfigNumberList {
			elem = interfaces.ConfigNumber
		}
		exprs, diags := hcl.ExprList(attr.Expr)
		if diags.HasErrors() {
			return hcl.Diagnostics{errDiag(attr.Expr.Range(), "Incorrect value type",
				fmt.Sprintf("%s must be a %s written in brackets, e.g. %s.", name, f.Type, exampleOf(f.Type)))}
		}
		diags = nil
		for _, e := range exprs {
			diags = append(diags, checkScalar(e, "each element of "+name, elem)...)
		}
		return diags
	default:
		return checkScalar(attr.Expr, name, f.Type)
	}
}

func checkScalar(expr hcl.Expression, name string, t interfaces.ConfigType) hcl.Diagnostics {
	v, diags := constValue(expr, name)
	if diags.HasErrors() {
		return diags
	}
	if problem := valueProblem(v, t); problem != "" {
		return append(diags, errDiag(expr.Range(), "Incorrect config value",
			fmt.Sprintf("%s %s; write e.g. %s.", name, problem, exampleOf(t))))
	}
	return diags
}

// valueProblem says what is wrong with v as a value of t, or "".
func valueProblem(v cty.Value, t interfaces.ConfigType) string {
	if v.IsNull() {
		return "must not be null"
	}
	if !v.IsWhollyKnown() {
		return "must be a constant"
	}
	switch t {
	case interfaces.ConfigString:
		if v.Type() != cty.String {
			return "must be a string, not " + typeName(v)
		}
	case interfaces.ConfigBool:
		if v.Type() != cty.Bool {
			return "must be true or false, not " + typeName(v)
		}
	case interfaces.ConfigNumber:
		if v.Type() != cty.Number {
			return "must be a number, not " + typeName(v)
		}
		if f, _ := v.AsBigFloat().Float64(); math.IsInf(f, 0) {
			return "is out of range (beyond ±1.8e308)"
		}
	case interfaces.ConfigStringList, interfaces.ConfigNumberList:
		ty := v.Type()
		if !ty.IsListType() && !ty.IsTupleType() {
			return "must be a list, not " + typeName(v)
		}
		elem := interfaces.ConfigString
		if t == interfaces.ConfigNumberList {
			elem = interfaces.ConfigNumber
		}
		for it := v.ElementIterator(); it.Next(); {
			_, ev := it.Element()
			if p := valueProblem(ev, elem); p != "" {
				return "has an element that " + p
			}
		}
	default:
		return "has an unknown type"
	}
	return ""
}

func exampleOf(t interfaces.ConfigType) string {
	switch t {
	case interfaces.ConfigString:
		return `"text"`
	case interfaces.ConfigNumber:
		return "1000"
	case interfaces.ConfigBool:
		return "true"
	case interfaces.ConfigStringList:
		return `["a", "b"]`
	case interfaces.ConfigNumberList:
		return "[1, 2]"
	}
	return "a value"
}

// marshalConfig writes the decoded object as JSON, members sorted by name,
// null (absent, no default) members left out.
func marshalConfig(val cty.Value, fields []interfaces.ConfigField) ([]byte, error) {
	names := make([]string, 0, len(fields))
	for _, f := range fields {
		names = append(names, f.Name)
	}
	sort.Strings(names)
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	for _, n := range names {
		if !val.Type().IsObjectType() || !val.Type().HasAttribute(n) {
			continue
		}
		v := val.GetAttr(n)
		if v.IsNull() {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		key, _ := json.Marshal(n)
		b.Write(key)
		b.WriteByte(':')
		if err := marshalValue(&b, v); err != nil {
			return nil, fmt.Errorf("encoding config field %q: %w", n, err)
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func marshalValue(b *bytes.Buffer, v cty.Value) error {
	switch {
	case v.IsNull():
		b.WriteString("null")
	case v.Type() == cty.String:
		s, err := json.Marshal(v.AsString())
		if err != nil {
			return fmt.Errorf("encoding string: %w", err)
		}
		b.Write(s)
	case v.Type() == cty.Bool:
		b.WriteString(strconv.FormatBool(v.True()))
	case v.Type() == cty.Number:
		s, err := formatNumber(v.AsBigFloat())
		if err != nil {
			return err
		}
		b.WriteString(s)
	case v.Type().IsListType() || v.Type().IsTupleType():
		b.WriteByte('[')
		i := 0
		for it := v.ElementIterator(); it.Next(); i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			_, ev := it.Element()
			if err := marshalValue(b, ev); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	default:
		return fmt.Errorf("unsupported value of type %s", v.Type().FriendlyName())
	}
	return nil
}

// formatNumber writes an integer that fits int64 or uint64 exactly, and
// anything else as the shortest decimal of its nearest float64.
func formatNumber(f *big.Float) (string, error) {
	if f.IsInt() {
		if n, acc := f.Int64(); acc == big.Exact {
			return strconv.FormatInt(n, 10), nil
		}
		if n, acc := f.Uint64(); acc == big.Exact {
			return strconv.FormatUint(n, 10), nil
		}
	}
	x, _ := f.Float64()
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return "", fmt.Errorf("number %s is beyond float64 range", f.Text('g', 10))
	}
	return strconv.FormatFloat(x, 'g', -1, 64), nil
}

// notUsedYet says why a node would not use plugin p, or "" when it would.
// The contract runtime is the node's own (each deployed contract is its own
// process, started by it), and it runs only in a network of one cluster.
func notUsedYet(m *Manifest, p *PluginDecl) string {
	if p.Kind != interfaces.KindContracts {
		return ""
	}
	if !p.Builtin {
		return "the contract runtime is the node's own (each deployed contract runs as its own process, started by it); declare plugin \"contracts\" \"microservices\" { source = \"builtin\" } instead"
	}
	if m.HasGalaxy() {
		return "contracts run only in a network of one cluster yet (no galaxy)"
	}
	return ""
}

// Check resolves every plugin declaration of m through lookup and decodes
// each config block against the schema the plugin declares, before any
// plugin is started.
//
// lookup returns a plugin's self-description; ok=false means there is no
// such builtin. For a builtin declaration that is an error, reported at the
// plugin's name label with the names known(kind) lists (known may be nil).
// For an external declaration ok=false means its description is not
// available without starting the binary; its config is then checked when
// the host starts it. Diagnostics are sorted by position.
func Check(m *Manifest, lookup func(kind interfaces.Kind, name string) (interfaces.PluginInfo, bool),
	known func(interfaces.Kind) []string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, p := range m.Plugins {
		if why := notUsedYet(m, p); why != "" {
			// A plugin nothing in the node would call is refused rather
			// than loaded and ignored.
			diags = append(diags, errDiag(p.DeclRange, "Not supported yet",
				fmt.Sprintf("A node does not use a %s plugin yet: %s. Remove this plugin block.", p.Kind, why)))
			continue
		}
		info, ok := lookup(p.Kind, p.Name)
		if !ok {
			if p.Builtin {
				diags = append(diags, unknownBuiltin(p, known))
			}
			continue
		}
		if info.Kind != p.Kind || info.Name != p.Name {
			diags = append(diags, errDiag(nameRange(p), "Plugin identity mismatch",
				fmt.Sprintf("The manifest asks for the %s plugin %q but the plugin describes itself as the %s plugin %q. "+
					"Check the path, or report the bug to the plugin's authors.", p.Kind, p.Name, info.Kind, info.Name)))
			continue
		}
		if !info.Compatible() {
			diags = append(diags, errDiag(nameRange(p), "Plugin speaks another API version",
				fmt.Sprintf("The %s plugin %q speaks API versions %v; this node speaks versions %v. "+
					"Use a build of the plugin made for this node version.", p.Kind, p.Name, info.APIVersions, interfaces.SupportedAPIVersions)))
			continue
		}
		_, d := DecodeConfig(p, info)
		diags = append(diags, d...)
	}
	start := hcl.Pos{Line: 1, Column: 1}
	return finish(diags, hcl.Range{Filename: m.Filename, Start: start, End: start})
}

func unknownBuiltin(p *PluginDecl, known func(interfaces.Kind) []string) *hcl.Diagnostic {
	var names []string
	if known != nil {
		names = append(names, known(p.Kind)...)
	}
	sort.Strings(names)
	var list string
	if len(names) == 0 {
		list = fmt.Sprintf("This build has no builtin %s plugins.", p.Kind)
	} else {
		list = fmt.Sprintf("The builtin %s plugins are: %s.", p.Kind, strings.Join(names, ", "))
	}
	return errDiag(nameRange(p), "Unknown builtin plugin",
		fmt.Sprintf("There is no builtin %s plugin named %q.%s %s To run an external plugin instead, "+
			"remove source and set path (and sha256) to its binary.", p.Kind, p.Name, suggest(p.Name, names), list))
}
