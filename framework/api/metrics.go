package api

import "net/http"

// Metered is implemented by a Backend that keeps Prometheus metrics; the
// API then serves them at GET /metrics in the Prometheus text format
// (docs/operators.md lists the series).
type Metered interface {
	MetricsHandler() http.Handler
}
