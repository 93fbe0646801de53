package dnsserver

import "github.com/prometheus/client_golang/prometheus"

var queries = prometheus.NewCounterVec(prometheus.CounterOpts{
	Namespace: "sesame", Subsystem: "dkim_dns", Name: "responses_total",
	Help: "Responses of the DKIM zone's DNS server, by rcode (or dropped, truncated by the response rate limit).",
}, []string{"rcode"})

// Collectors are the metrics of this package, for a prometheus.Registry.
func Collectors() []prometheus.Collector { return []prometheus.Collector{queries} }
