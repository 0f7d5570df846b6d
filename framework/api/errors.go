package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/constellation-chain/constellation/interfaces"
)

// ErrorBody is every error answer of the API: what went wrong and, when
// one part of the request is to blame, which (a JSON field such as
// "txs[3]", a path parameter such as "height", a query parameter, a
// header such as "Last-Event-ID", or "body" for a body that is not the
// JSON object asked for).
type ErrorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

// errorBody is the name the client code reads errors with.
type errorBody = ErrorBody

// ErrNotFound is returned (wrapped) by a Backend asked for something it
// does not hold; the API answers 404.
var ErrNotFound = errors.New("not found")

// FieldError is a request error that names the part of the request at
// fault.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// fieldErr returns a FieldError for field with a formatted message.
func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Err: fmt.Errorf(format, args...)}
}

// fieldOf returns the field a decoding error blames: the JSON field of a
// type mismatch or an unknown field, else the body as a whole.
func fieldOf(err error) string {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return te.Field
	}
	const unknown = `json: unknown field "`
	if m := err.Error(); strings.Contains(m, unknown) {
		rest := m[strings.Index(m, unknown)+len(unknown):]
		if i := strings.IndexByte(rest, '"'); i > 0 {
			return rest[:i]
		}
	}
	return "body"
}

// decodeStrict decodes one JSON object into v: unknown fields and bytes
// after the object are refused. shape describes the object in errors.
func decodeStrict(body []byte, shape string, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &FieldError{Field: fieldOf(err), Err: fmt.Errorf("body is not %s: %w", shape, err)}
	}
	if err := trailing(dec); err != nil {
		return &FieldError{Field: "body", Err: err}
	}
	return nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, format string, args ...any) {
	writeJSON(w, code, ErrorBody{Error: fmt.Sprintf(format, args...)})
}

// writeFieldError answers code with err, naming the field fieldOf
// blames.
func writeFieldError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, ErrorBody{Error: err.Error(), Field: fieldOf(err)})
}

// backendError answers an error a Backend returned: 404 for ErrNotFound,
// 421 for ErrNotHere, 500 otherwise, with what was being done.
func backendError(w http.ResponseWriter, doing string, err error) {
	switch {
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, "%v", err)
	case errors.Is(err, ErrNotHere):
		writeError(w, http.StatusMisdirectedRequest, "%v", err)
	default:
		writeError(w, http.StatusInternalServerError, "%s: %v", doing, err)
	}
}

// Path and query parameters.

func pathStar(r *http.Request, name string) (interfaces.StarID, error) {
	s, err := interfaces.ParseStarID(r.PathValue(name))
	if err != nil {
		return s, &FieldError{Field: name, Err: fmt.Errorf("%s: %w", name, err)}
	}
	return s, nil
}

func pathHash(r *http.Request, name string) (interfaces.Hash, error) {
	return parseHashParam(name, r.PathValue(name))
}

func parseHashParam(name, v string) (interfaces.Hash, error) {
	h, err := interfaces.ParseHash(v)
	if err != nil {
		return h, fieldErr(name, "%s %q is not a hash (64 hex digits): %v", name, clip(v), err)
	}
	return h, nil
}

func pathUint(r *http.Request, name string) (uint64, error) {
	v := r.PathValue(name)
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fieldErr(name, "%s %q is not a number", name, clip(v))
	}
	return n, nil
}

// queryLimit reads the limit query parameter: def when absent, at most
// most.
func queryLimit(r *http.Request, def, most int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > most {
		return 0, fieldErr("limit", "limit %q is not a number from 1 to %d", clip(v), most)
	}
	return n, nil
}

// queryBool reads a boolean query parameter ("", "0", "false": false;
// "1", "true": true).
func queryBool(r *http.Request, name string) (bool, error) {
	switch v := r.URL.Query().Get(name); v {
	case "", "0", "false":
		return false, nil
	case "1", "true":
		return true, nil
	default:
		return false, fieldErr(name, "%s %q is not true or false", name, clip(v))
	}
}

// clip shortens what a client sent for quoting in an error.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
