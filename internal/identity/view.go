package identity

// The statuses each protocol reports. They are rules of SES, not of a
// protocol, so they live here and the v1 and v2 handlers only spell them.

// VerifiedForSending reports whether the identity may send now. A domain may
// send once either its TXT record or its DKIM records are verified (SES:
// "A DKIM success also verifies the domain").
func (id *Identity) VerifiedForSending() bool {
	if id.Verification.Status == Success {
		return true
	}
	return id.IsDomain() && id.DKIM.Check.Status == Success
}

// StatusV1 is the VerificationStatus of v1 GetIdentityVerificationAttributes:
// the TXT check's (an address's link check's), except that a domain whose
// DKIM records are verified is Success, since a DKIM success verifies the
// domain too. While the TXT check is TemporaryFailure or Failed and DKIM is
// still Pending, v1 reports the TXT check's status (README, "Behaviour
// where SES is silent").
func (id *Identity) StatusV1() Status {
	if id.VerifiedForSending() {
		return Success
	}
	if id.Verification.Status == "" {
		return NotStarted
	}
	return id.Verification.Status
}

// Status is the identity's overall verification status as v2
// GetEmailIdentity and ListEmailIdentities report it (and as the store
// indexes it): Success when it may send; otherwise the most hopeful status
// among the checks that were started, so a domain whose TXT check failed is
// still PENDING while DKIM may verify it.
func (id *Identity) Status() Status {
	if id.VerifiedForSending() {
		return Success
	}
	best := id.Verification.Status
	if id.IsDomain() && rank(id.DKIM.Check.Status) > rank(best) {
		best = id.DKIM.Check.Status
	}
	if best == "" {
		return NotStarted
	}
	return best
}

// StatusCheck is the check behind Status, whose times, error type and SOA
// v2 reports as VerificationInfo: for a domain with Easy DKIM, the DKIM
// check (the way SES v2 verifies domains) unless only the TXT record
// verified it or DKIM was never checked; the TXT (or link) check otherwise.
func (id *Identity) StatusCheck() *Check {
	if !id.IsDomain() || len(id.DKIM.Tokens) == 0 || id.DKIM.Check.LastChecked.IsZero() {
		return &id.Verification
	}
	if id.DKIM.Check.Status == Success || id.Verification.Status != Success {
		return &id.DKIM.Check
	}
	return &id.Verification
}

func rank(s Status) int {
	switch s {
	case Success:
		return 5
	case Pending:
		return 4
	case TemporaryFailure:
		return 3
	case Failed:
		return 2
	case NotStarted:
		return 1
	}
	return 0
}
