package mail

import "github.com/prometheus/client_golang/prometheus"

var (
	queued = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "sesame", Name: "mail_messages_total",
		Help: "Verification messages stored, by first status (local: kept in the local outbox; queued: for the relay).",
	}, []string{"status"})
	attempts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "sesame", Name: "mail_delivery_attempts_total",
		Help: "Attempts to hand a message to the SMTP relay, by result (sent, temporary, permanent, expired).",
	}, []string{"result"})
)

// Collectors are the metrics of this package, for a prometheus.Registry.
func Collectors() []prometheus.Collector { return []prometheus.Collector{queued, attempts} }
