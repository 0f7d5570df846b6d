package manifest

import (
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// DiagnosticWidth is the line width WriteDiagnostics wraps details at.
const DiagnosticWidth = 100

// WriteDiagnostics prints diags for a person: for each, a locator line
// "file:line:col: error: summary" (the form editors and CI logs link), then
// hcl's diagnostic text: the source snippet with the subject highlighted and
// the detail wrapped at DiagnosticWidth columns. Source comes from m.Files
// (m may be nil) and files (either may be nil; files wins on conflict).
// color adds ANSI colors to the snippet. It returns the first write error.
func WriteDiagnostics(w io.Writer, m *Manifest, files map[string]*hcl.File, diags hcl.Diagnostics, color bool) error {
	all := map[string]*hcl.File{}
	if m != nil {
		for k, v := range m.Files {
			all[k] = v
		}
	}
	for k, v := range files {
		all[k] = v
	}
	tw := hcl.NewDiagnosticTextWriter(w, all, DiagnosticWidth, color)
	for _, d := range diags {
		if d == nil {
			continue
		}
		sev := "error"
		if d.Severity == hcl.DiagWarning {
			sev = "warning"
		}
		if d.Subject != nil {
			if _, err := fmt.Fprintf(w, "%s:%d:%d: %s: %s\n", d.Subject.Filename, d.Subject.Start.Line,
				d.Subject.Start.Column, sev, d.Summary); err != nil {
				return fmt.Errorf("writing diagnostics: %w", err)
			}
		}
		if err := tw.WriteDiagnostic(d); err != nil {
			return fmt.Errorf("writing diagnostics: %w", err)
		}
	}
	return nil
}

// suggest returns ` Did you mean "x"?` for the candidate closest to given
// by edit distance, if it is close enough to be a likely typo, else "".
func suggest(given string, candidates []string) string {
	best, bestDist := "", 3 // at most two edits
	for _, c := range candidates {
		if d := editDistance(given, c, bestDist); d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
}

// editDistance is the Levenshtein distance between a and b, or limit if it
// is at least limit. Inputs longer than 64 bytes are never close.
func editDistance(a, b string, limit int) int {
	if len(a) > 64 || len(b) > 64 {
		return limit
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= limit {
			return limit
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit)
}

// blockAttrs lists the attributes each manifest block type accepts, taken
// from the structs gohcl decodes into so the two cannot drift apart.
var blockAttrs = func() map[string][]string {
	out := map[string][]string{}
	for typ, v := range map[string]any{
		"network": &rawNetwork{}, "genesis": &rawGenesis{}, "allocation": &rawAllocation{},
		"node": &rawNode{}, "plugin": &rawPlugin{},
	} {
		schema, _ := gohcl.ImpliedBodySchema(v)
		for _, a := range schema.Attributes {
			out[typ] = append(out[typ], a.Name)
		}
	}
	return out
}()

var unsupportedArgument = regexp.MustCompile(`^An argument named "([^"]*)" is not expected here`)

// explainUnsupported adds to hcl's "Unsupported argument" diagnostics a
// spelling suggestion and the list of attributes the enclosing block
// accepts, which hcl itself does not give.
func explainUnsupported(diags hcl.Diagnostics, body hcl.Body) {
	sb, ok := body.(*hclsyntax.Body)
	if !ok {
		return
	}
	for _, d := range diags {
		if d.Summary != "Unsupported argument" || d.Subject == nil {
			continue
		}
		match := unsupportedArgument.FindStringSubmatch(d.Detail)
		if match == nil {
			continue
		}
		typ := enclosingBlock(sb, d.Subject.Start.Byte)
		if typ == "" {
			d.Detail += " The top level of a manifest holds only network, node and plugin blocks."
			continue
		}
		attrs, known := blockAttrs[typ]
		if !known {
			continue
		}
		if !strings.Contains(d.Detail, "Did you mean") {
			d.Detail = strings.TrimSpace(d.Detail + suggest(match[1], attrs))
		}
		d.Detail +=
			fmt.Sprintf(" A %s block accepts: %s.", typ, strings.Join(attrs, ", "))
	}
}

// enclosingBlock returns the type of the innermost block whose range holds
// the byte offset, or "" at the top level.
func enclosingBlock(b *hclsyntax.Body, offset int) string {
	typ := ""
	for depth := 0; depth < MaxNesting; depth++ {
		var inner *hclsyntax.Block
		for _, blk := range b.Blocks {
			if r := blk.Range(); r.Start.Byte <= offset && offset < r.End.Byte {
				inner = blk
				break
			}
		}
		if inner == nil {
			return typ
		}
		typ, b = inner.Type, inner.Body
	}
	return typ
}
