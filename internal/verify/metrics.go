package verify

import (
	"sync"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sesame/sesame/internal/dnsclient"
)

var (
	checks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "sesame", Subsystem: "verify", Name: "checks_total",
		Help: "Checks of published records by kind (verification, dkim, mail-from, spf) and result (found, absent, tempfail).",
	}, []string{"check", "result"})
	queries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "sesame", Subsystem: "verify", Name: "dns_queries_total",
		Help: "Questions asked of authoritative servers, one per server, by type and outcome; retries and TCP fallbacks not counted.",
	}, []string{"type", "outcome"})
	zoneLookups = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "sesame", Subsystem: "verify", Name: "zone_lookups_total",
		Help: "Zone lookups through the recursive resolver, by result.",
	}, []string{"result"})
	checkDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "sesame", Subsystem: "verify", Name: "check_duration_seconds",
		Help:    "Time to check all the records of one identity.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	})
	backlog = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "sesame", Subsystem: "verify", Name: "backlog",
		Help: "Identities due and claimed, waiting for a free check slot.",
	})
	inFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "sesame", Subsystem: "verify", Name: "in_flight",
		Help: "Identities being checked now.",
	})
)

// queryCounters are the children of queries, by type and outcome: asking
// the vector for one costs more than counting.
var queryCounters sync.Map // queryKey → prometheus.Counter

type queryKey struct {
	qtype   uint16
	outcome dnsclient.Outcome
}

func queryCounter(qtype uint16, o dnsclient.Outcome) prometheus.Counter {
	k := queryKey{qtype, o}
	if c, ok := queryCounters.Load(k); ok {
		return c.(prometheus.Counter)
	}
	c := queries.WithLabelValues(dns.TypeToString[qtype], o.String())
	queryCounters.Store(k, c)
	return c
}

// Collectors are the metrics of this package, for a prometheus.Registry.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{checks, queries, zoneLookups, checkDuration, backlog, inFlight}
}
