package api

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "sesame", Name: "api_requests_total",
		Help: "API requests by protocol (v1, v2), action and result (OK or the SES error code).",
	}, []string{"protocol", "action", "code"})
	latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "sesame", Name: "api_request_duration_seconds",
		Help:    "API request latency by protocol and action.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
	}, []string{"protocol", "action"})
	bodyBytes = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "sesame", Name: "api_body_bytes_in_flight",
		Help: "Request body bytes held by the API at this moment (at most the --body-memory-mib limit).",
	})
)

// Collectors are the metrics of this package, for a prometheus.Registry.
func Collectors() []prometheus.Collector { return []prometheus.Collector{requests, latency, bodyBytes} }

// Observe records one request. code is "OK" or the SES error code.
func Observe(protocol, action, code string, d time.Duration) {
	requests.WithLabelValues(protocol, action, code).Inc()
	latency.WithLabelValues(protocol, action).Observe(d.Seconds())
}
