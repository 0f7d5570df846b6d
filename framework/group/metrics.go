package group

import (
	"net/http"

	"github.com/constellation-chain/constellation/framework/metrics"
)

// Metrics returns the registry the group reports to, nil when none.
func (n *Group) Metrics() *metrics.Registry { return n.cfg.Metrics }

// MetricsHandler serves the group's registry (the node's, shared by all
// its groups) in the Prometheus text format; nil when the group keeps no
// metrics. The node API serves it at GET /metrics.
func (n *Group) MetricsHandler() http.Handler {
	if n.cfg.Metrics == nil {
		return nil
	}
	return n.cfg.Metrics.Handler()
}
