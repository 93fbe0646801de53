package verify

import (
	"context"
	"time"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/store"
)

// Report is everything Sesame knows about an identity's checks: the state
// of each check, the estimate of when a record published now becomes
// visible, and the timeline of the last checks, newest first. It is the
// body of the Sesame API extension
// GET /v2/email/identities/{identity}/sesame/checks and of
// `sesame identities show --output json`.
type Report struct {
	Identity string
	Account  string
	Region   string
	Type     string // DOMAIN or EMAIL_ADDRESS
	Status   string // the v2 VerificationStatus
	Checks   map[string]CheckState
	Next     *time.Time `json:",omitempty"` // the next scheduled check
	Estimate []Visibility
	Timeline []store.CheckRecord
}

// CheckState is one check of the identity.
type CheckState struct {
	Status       string
	Started      *time.Time    `json:",omitempty"`
	LastChecked  *time.Time    `json:",omitempty"`
	LastSuccess  *time.Time    `json:",omitempty"`
	MissingSince *time.Time    `json:",omitempty"` // a verified record is gone: the revocation warning
	Deadline     *time.Time    `json:",omitempty"` // Failed at this time if nothing changes
	ErrorType    string        `json:",omitempty"`
	SOA          *identity.SOA `json:",omitempty"`
	Detail       string        `json:",omitempty"`
}

func ptr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// BuildReport assembles the report of id from the last limit check records.
func BuildReport(ctx context.Context, checks store.Checks, id *identity.Identity, p identity.Policies, now time.Time, limit int) (*Report, error) {
	recs, err := checks.ListChecks(ctx, id.Key, limit)
	if err != nil {
		return nil, err
	}
	typ := "EMAIL_ADDRESS"
	if id.IsDomain() {
		typ = "DOMAIN"
	}
	r := &Report{Identity: id.Name, Account: id.Account, Region: id.Region, Type: typ, Status: id.Status().V2(),
		Checks: map[string]CheckState{}, Next: ptr(id.Next), Estimate: Estimate(id, recs, now), Timeline: recs}
	if r.Estimate == nil {
		r.Estimate = []Visibility{}
	}
	if r.Timeline == nil {
		r.Timeline = []store.CheckRecord{}
	}
	for name, c := range id.Checks() {
		pol := p.Records
		switch {
		case name == "mail-from":
			pol = p.MailFrom
		case name == "verification":
			pol = p.VerificationPolicy(id)
		}
		r.Checks[name] = CheckState{
			Status: string(cmpStatus(c.Status)), Started: ptr(c.Started), LastChecked: ptr(c.LastChecked),
			LastSuccess: ptr(c.LastSuccess), MissingSince: ptr(c.MissingSince), Deadline: ptr(c.Deadline(pol)),
			ErrorType: string(c.ErrorType), SOA: c.SOA, Detail: c.Detail,
		}
	}
	return r, nil
}

func cmpStatus(s identity.Status) identity.Status {
	if s == "" {
		return identity.NotStarted
	}
	return s
}
