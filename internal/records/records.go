// Package records owns what an SES identity's DNS records must be and
// whether what a zone publishes satisfies them: the verification TXT, the
// three Easy DKIM CNAMEs (or a BYODKIM key's TXT), the custom MAIL FROM MX and SPF records. Expect
// describes what one instance expects; its matchers (MatchToken,
// MatchDKIM, MatchMX, MatchSPF) return a classified Verdict. The verifier,
// the doctor, plan and the console all judge through them and differ only
// in how much they explain. The package does no I/O: lookups that SPF
// needs are passed in.
package records

import (
	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/identity"
)

// Purpose says what a record is for.
type Purpose string

const (
	Verification Purpose = "verification"
	DKIM         Purpose = "dkim"
	MailFromMX   Purpose = "mail-from-mx"
	MailFromSPF  Purpose = "mail-from-spf"
)

// Record is one record to publish. Names are fully qualified without the
// trailing dot; a TXT Value is the text, unquoted.
type Record struct {
	Purpose Purpose
	Name    string
	Type    string // TXT, CNAME or MX
	Value   string // for MX, "10 host"
	// Token is the identity token the record carries, if any.
	Token string
}

// For returns the records the identity needs, in the order a console shows
// them. An email address needs none; a domain needs its TXT record, its DKIM
// CNAMEs while Easy DKIM is set up, and its MAIL FROM records when a custom
// MAIL FROM domain is set (for an address too, on the address's domain).
func For(id *identity.Identity, d config.DNS) []Record {
	return ExpectFor(id, d).Records()
}

// Records returns the records e expects, as For does.
func (e Expect) Records() []Record {
	var rs []Record
	if e.Token != "" {
		rs = append(rs, Record{Purpose: Verification, Name: e.VerificationName(), Type: "TXT", Value: e.Token, Token: e.Token})
	}
	for _, t := range e.DKIMTokens {
		rs = append(rs, e.DKIMRecord(t))
	}
	if e.DKIMSelector != "" {
		rs = append(rs, e.SelectorRecord())
	}
	if mf := e.MailFrom; mf != "" {
		rs = append(rs,
			Record{Purpose: MailFromMX, Name: mf, Type: "MX", Value: e.MXValue()},
			Record{Purpose: MailFromSPF, Name: mf, Type: "TXT", Value: e.SPFValue()},
		)
	}
	return rs
}

// DKIMRecord is <token>._domainkey.<domain> CNAME <token>.<DKIM domain>.
func (e Expect) DKIMRecord(token string) Record {
	return Record{Purpose: DKIM, Name: e.DKIMName(token), Type: "CNAME", Value: e.DKIMTarget(token), Token: token}
}

// SelectorRecord is a BYODKIM key's record: <selector>._domainkey.<domain>
// TXT "v=DKIM1; k=rsa; p=...", which the customer publishes (Sesame does
// not: the name is in the customer's zone). dkim.MatchSelector judges it.
func (e Expect) SelectorRecord() Record {
	return Record{Purpose: DKIM, Name: e.DKIMName(e.DKIMSelector), Type: "TXT", Value: e.DKIMKey, Token: e.DKIMSelector}
}

// SPF is the SPF record of a custom MAIL FROM domain.
func SPF(d config.DNS) string { return newExpect("", "", d).SPFValue() }
