package identity

import (
	"strings"
	"time"
)

// Status is an SES verification status, in the v1 spelling.
type Status string

const (
	NotStarted       Status = "NotStarted"
	Pending          Status = "Pending"
	Success          Status = "Success"
	Failed           Status = "Failed"
	TemporaryFailure Status = "TemporaryFailure"
)

// V2 returns the sesv2 spelling: PENDING, SUCCESS, FAILED,
// TEMPORARY_FAILURE, NOT_STARTED.
func (s Status) V2() string {
	switch s {
	case TemporaryFailure:
		return "TEMPORARY_FAILURE"
	case NotStarted, "":
		return "NOT_STARTED"
	}
	return strings.ToUpper(string(s))
}

// ErrorType is the sesv2 VerificationInfo.ErrorType of the last check.
type ErrorType string

const (
	InvalidValue   ErrorType = "INVALID_VALUE"    // the record exists with another value
	TypeNotFound   ErrorType = "TYPE_NOT_FOUND"   // the name exists without a record of that type
	HostNotFound   ErrorType = "HOST_NOT_FOUND"   // the name does not exist or cannot be reached
	ServiceError   ErrorType = "SERVICE_ERROR"    // a problem on our side
	DNSServerError ErrorType = "DNS_SERVER_ERROR" // the name servers failed
)

// SOA is the start of authority of the zone a check read.
type SOA struct {
	PrimaryNameServer string
	AdminEmail        string
	SerialNumber      int64
}

// Outcome is what one check of the published records found.
type Outcome int

const (
	// Found: the expected record is published.
	Found Outcome = iota + 1
	// Absent: the record is not there (yet): NXDOMAIN, NODATA or a wrong
	// value. Time decides between Pending and Failed.
	Absent
	// TempFail: the name servers failed (SERVFAIL, REFUSED, timeouts), so
	// nothing can be said about the record.
	TempFail
)

// Result is the result of one check, as applied to a Check.
type Result struct {
	Outcome   Outcome
	At        time.Time
	ErrorType ErrorType // for Absent and TempFail
	SOA       *SOA
	Detail    string // a sentence for people: what was expected, what was found
}

// Policy says how long each phase may last.
type Policy struct {
	// Window is how long a check stays Pending or TemporaryFailure before it
	// becomes Failed: 72 hours for DNS records, 24 hours for an email link.
	Window time.Duration
	// Grace is how long a verified record may be missing before the check
	// becomes Failed: SES warns, waits 72 hours, then revokes. Zero means at
	// once (MAIL FROM: "becomes Failed if the MX record disappears").
	Grace time.Duration
}

// Check is the state of one verification (TXT, DKIM, MAIL FROM or email
// link). The zero value is NotStarted.
//
// The tags keep zero fields out of the JSON the store writes (a third of a
// check's JSON was zero times and empty strings, decoded and encoded again
// by every check); they decode to the same values.
type Check struct {
	Status      Status
	Started     time.Time `json:",omitzero"` // start of the current window
	LastChecked time.Time `json:",omitzero"`
	LastSuccess time.Time `json:",omitzero"`
	// MissingSince is set while a verified record is missing: the
	// revocation warning period. The status stays Success meanwhile.
	MissingSince time.Time `json:",omitzero"`
	ErrorType    ErrorType `json:",omitempty"`
	SOA          *SOA      `json:",omitempty"`
	Detail       string    `json:",omitempty"`
}

func (c Check) clone() Check {
	if c.SOA != nil {
		soa := *c.SOA
		c.SOA = &soa
	}
	return c
}

// Start begins (or begins again) a verification: the status becomes Pending
// and a new window opens. A verified check stays verified: asking again for
// an identity that already succeeded changes nothing.
func (c *Check) Start(now time.Time) {
	if c.Status == Success {
		return
	}
	*c = Check{Status: Pending, Started: now, LastChecked: c.LastChecked, LastSuccess: c.LastSuccess, SOA: c.SOA}
}

// Stop turns the check off (NotStarted), e.g. when a MAIL FROM domain is
// removed.
func (c *Check) Stop() { *c = Check{Status: NotStarted} }

// Active reports whether the verifier should keep checking: while Pending or
// TemporaryFailure, and while Success (to notice a removed record). Failed
// and NotStarted checks are left alone until restarted.
func (c *Check) Active() bool {
	switch c.Status {
	case Pending, TemporaryFailure, Success:
		return true
	}
	return false
}

// Apply moves the check through SES's states given one result and reports
// whether the status changed.
//
//	Pending/TemporaryFailure + Found    → Success
//	Pending/TemporaryFailure + Absent   → Pending, or Failed once the window is over
//	Pending/TemporaryFailure + TempFail → TemporaryFailure, or Failed once the window is over
//	Success + Found                     → Success (a revocation warning is cancelled)
//	Success + Absent                    → Success during the grace period, then Failed
//	Success + TempFail                  → Success: a failing server never demotes
//	NotStarted/Failed                   → unchanged: nothing is being checked
func (c *Check) Apply(r Result, p Policy) bool {
	before := c.Status
	if !c.Active() {
		return false
	}
	c.LastChecked = r.At
	c.SOA = r.SOA
	c.Detail = r.Detail
	switch r.Outcome {
	case Found:
		c.Status = Success
		c.LastSuccess = r.At
		c.MissingSince = time.Time{}
		c.ErrorType = ""
	case Absent, TempFail:
		c.ErrorType = r.ErrorType
		if c.Status == Success {
			if r.Outcome == TempFail {
				break
			}
			if c.MissingSince.IsZero() {
				c.MissingSince = r.At
			}
			if !r.At.Before(c.MissingSince.Add(p.Grace)) {
				c.Status = Failed
			}
			break
		}
		switch {
		case !r.At.Before(c.Started.Add(p.Window)):
			c.Status = Failed
		case r.Outcome == TempFail:
			c.Status = TemporaryFailure
		default:
			c.Status = Pending
		}
	}
	return c.Status != before
}

// Expire fails a check whose window or grace period has run out without a
// result, and reports whether it did. It is how a 24-hour email link that
// was never opened becomes Failed.
func (c *Check) Expire(now time.Time, p Policy) bool {
	switch {
	case (c.Status == Pending || c.Status == TemporaryFailure) && !now.Before(c.Started.Add(p.Window)):
	case c.Status == Success && !c.MissingSince.IsZero() && !now.Before(c.MissingSince.Add(p.Grace)):
	default:
		return false
	}
	c.Status = Failed
	return true
}

// Deadline is when the check fails if nothing changes: the end of the
// window while pending, the end of the grace period while a verified record
// is missing; zero otherwise.
func (c *Check) Deadline(p Policy) time.Time {
	switch {
	case c.Status == Pending || c.Status == TemporaryFailure:
		return c.Started.Add(p.Window)
	case c.Status == Success && !c.MissingSince.IsZero():
		return c.MissingSince.Add(p.Grace)
	}
	return time.Time{}
}
