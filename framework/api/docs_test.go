package api

import (
	"os"
	"strings"
	"testing"
)

// TestEveryRouteIsDocumented: docs/api.md names every route of the table
// as `METHOD PATH`, and no route the table lacks.
func TestEveryRouteIsDocumented(t *testing.T) {
	raw, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	known := map[string]bool{}
	for _, rt := range Routes() {
		known[rt.Pattern()] = true
		if !strings.Contains(doc, "`"+rt.Pattern()+"`") {
			t.Errorf("docs/api.md does not document `%s`", rt.Pattern())
		}
	}
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		route := strings.TrimPrefix(line, "| `")
		route = route[:strings.IndexByte(route, '`')]
		if (strings.HasPrefix(route, "GET ") || strings.HasPrefix(route, "POST ")) && !known[route] {
			t.Errorf("docs/api.md documents %s, which the API does not serve", route)
		}
	}
}
