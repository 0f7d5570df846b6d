package api

import (
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// The OpenAPI 3 document at /openapi.json is written from the route table
// (routes.go) and the Go types of the bodies, so it cannot drift from what
// the mux serves. Schemas follow the types' JSON encoding: a struct is an
// object of its json-tagged fields (embedded structs flattened), a slice
// an array, a map an object of values, a pointer or omitempty field
// optional.

// OpenAPIVersion is the version of the document format.
const OpenAPIVersion = "3.0.3"

// OpenAPI returns the document of the routes a server serves (served holds
// their patterns; nil means every route).
func OpenAPI(served []string) map[string]any {
	in := map[string]bool{}
	for _, p := range served {
		in[p] = true
	}
	sc := &schemas{defs: map[string]any{}}
	paths := map[string]any{}
	for _, rt := range routes {
		if served != nil && !in[rt.Pattern()] {
			continue
		}
		item, _ := paths[rt.Path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.Path] = item
		}
		op := map[string]any{
			"summary":     rt.Summary,
			"operationId": operationID(rt),
			"tags":        []string{rt.Tag},
		}
		if rt.Description != "" {
			op["description"] = rt.Description
		}
		var params []any
		for _, p := range rt.Params {
			params = append(params, map[string]any{
				"name": p.Name, "in": p.In, "required": p.Required, "description": p.Description,
				"schema": map[string]any{"type": p.Type},
			})
		}
		if params != nil {
			op["parameters"] = params
		}
		if rt.Body != nil {
			op["requestBody"] = map[string]any{
				"required": true,
				"content":  map[string]any{"application/json": map[string]any{"schema": sc.of(rt.Body)}},
			}
		}
		ok := map[string]any{"description": http.StatusText(rt.OK)}
		ct := rt.ContentType
		if ct == "" {
			ct = "application/json"
		}
		var schema any = map[string]any{"type": "string"}
		if rt.Answer != nil {
			schema = sc.of(rt.Answer)
		}
		ok["content"] = map[string]any{ct: map[string]any{"schema": schema}}
		resps := map[string]any{strconv.Itoa(rt.OK): ok}
		for _, code := range rt.Errors {
			t := reflect.TypeFor[ErrorBody]()
			if et, ok := rt.ErrorAnswers[code]; ok {
				t = et
			}
			resps[strconv.Itoa(code)] = map[string]any{
				"description": http.StatusText(code),
				"content":     map[string]any{"application/json": map[string]any{"schema": sc.of(t)}},
			}
		}
		op["responses"] = resps
		item[strings.ToLower(rt.Method)] = op
	}
	return map[string]any{
		"openapi": OpenAPIVersion,
		"info": map[string]any{
			"title":       "Constellation node API",
			"version":     "1",
			"description": "The HTTP/JSON API every Constellation node serves on its api address (docs/api.md). Errors are ErrorBody objects naming the field at fault; an unknown route is 404, a known path with another method 405.",
		},
		"paths":      paths,
		"components": map[string]any{"schemas": sc.defs},
	}
}

func operationID(rt Route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.Method))
	for _, part := range strings.Split(rt.Path, "/") {
		part = strings.Trim(part, "{}")
		part = strings.NewReplacer(".", "", "-", "").Replace(part)
		if part == "" || part == "v1" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// schemas collects the named object schemas a document refers to.
type schemas struct{ defs map[string]any }

func (s *schemas) of(t reflect.Type) any {
	switch t.Kind() {
	case reflect.Pointer:
		return s.of(t.Elem())
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": s.of(t.Elem())}
	case reflect.Map:
		m := map[string]any{"type": "object"}
		if t.Elem().Kind() == reflect.Interface {
			m["additionalProperties"] = true
		} else {
			m["additionalProperties"] = s.of(t.Elem())
		}
		return m
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		name := t.Name()
		if _, ok := s.defs[name]; !ok {
			s.defs[name] = nil // reserve: a type may refer to itself
			props := map[string]any{}
			var required []string
			s.fields(t, props, &required)
			obj := map[string]any{"type": "object", "properties": props}
			if len(required) > 0 {
				sort.Strings(required)
				obj["required"] = required
			}
			s.defs[name] = obj
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

func (s *schemas) fields(t reflect.Type, props map[string]any, required *[]string) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			s.fields(f.Type, props, required)
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = s.of(f.Type)
		if !strings.Contains(opts, "omitempty") && f.Type.Kind() != reflect.Pointer {
			*required = append(*required, name)
		}
	}
}

func (s *server) getOpenAPI(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, OpenAPI(s.served))
}
