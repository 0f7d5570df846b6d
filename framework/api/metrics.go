package api

import "net/http"

// Metered is implemented by a Backend that keeps Prometheus metrics; the
// API then serves them at GET /metrics in the Prometheus text format
// (docs/operators.md lists the series).
type Metered interface {
	MetricsHandler() http.Handler
}

// routeMetrics adds GET /metrics when b keeps metrics.
func routeMetrics(mux *http.ServeMux, b Backend) {
	m, ok := b.(Metered)
	if !ok {
		return
	}
	if h := m.MetricsHandler(); h != nil {
		mux.Handle("GET /metrics", h)
	}
}
