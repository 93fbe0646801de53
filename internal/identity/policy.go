package identity

import "time"

// Policies are the windows of each kind of check.
type Policies struct {
	// Records applies to the domain TXT record and the DKIM CNAMEs: 72
	// hours to appear, and 72 hours of grace once a verified record is
	// removed (SES's revocation warning), then Failed.
	Records Policy
	// MailFrom applies to the MAIL FROM MX record: 72 hours to appear, and
	// Failed as soon as it is gone.
	MailFrom Policy
	// Link applies to the email verification link: 24 hours.
	Link Policy
}

// SESPolicies returns SES's windows.
func SESPolicies() Policies {
	return Policies{
		Records:  Policy{Window: 72 * time.Hour, Grace: 72 * time.Hour},
		MailFrom: Policy{Window: 72 * time.Hour},
		Link:     Policy{Window: 24 * time.Hour},
	}
}

// VerificationPolicy is the policy of id.Verification: the link window for
// an email address, the records window for a domain.
func (p Policies) VerificationPolicy(id *Identity) Policy {
	if id.IsDomain() {
		return p.Records
	}
	return p.Link
}

// Expire fails every check of id whose window ran out, and reports whether
// any did. Reads apply it too, so a status is right even before the
// verifier has come by.
func (id *Identity) Expire(now time.Time, p Policies) bool {
	a := id.Verification.Expire(now, p.VerificationPolicy(id))
	b := id.IsDomain() && id.DKIM.Check.Expire(now, p.Records)
	c := id.MailFrom.Domain != "" && id.MailFrom.Check.Expire(now, p.MailFrom)
	return a || b || c
}
