package dnsserver

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var queries = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "sesame_dkim_dns_responses_total",
	Help: "Responses of the DKIM zone's DNS server, by rcode (or dropped, truncated by the rate limit).",
}, []string{"rcode"})
