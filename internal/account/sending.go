package account

import "github.com/sesame/sesame/internal/store"

// The quotas of an account
// (https://docs.aws.amazon.com/ses/latest/dg/request-production-access.html):
// in the sandbox, where every new account starts in each region, 200
// recipients per rolling 24 hours and 1 per second. SES publishes no
// default for production ("they vary by use case"); Sesame gives what SES
// commonly grants first, 50,000 a day and 14 a second. `sesame accounts
// sending` sets others; -1 is unlimited, as in GetSendQuota.
const (
	SandboxMax24HourSend    = 200
	SandboxMaxSendRate      = 1
	ProductionMax24HourSend = 50000
	ProductionMaxSendRate   = 14
)

// Quota is what an account may send: recipients per rolling 24 hours and
// per second; negative is unlimited.
type Quota struct {
	Max24HourSend float64
	MaxSendRate   float64
}

// QuotaOf is the quota of a sending state: its own numbers where set,
// else the sandbox's or production's.
func QuotaOf(s *store.SendingState) Quota {
	q := Quota{SandboxMax24HourSend, SandboxMaxSendRate}
	if s.Production {
		q = Quota{ProductionMax24HourSend, ProductionMaxSendRate}
	}
	if s.Max24HourSend != 0 {
		q.Max24HourSend = s.Max24HourSend
	}
	if s.MaxSendRate != 0 {
		q.MaxSendRate = s.MaxSendRate
	}
	if q.Max24HourSend < 0 {
		q.Max24HourSend = -1
	}
	if q.MaxSendRate < 0 {
		q.MaxSendRate = -1
	}
	return q
}
