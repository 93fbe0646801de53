// Package records computes the DNS records an identity needs: the
// verification TXT, the three Easy DKIM CNAMEs and the custom MAIL FROM MX
// and SPF records.
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
	var rs []Record
	if id.IsDomain() {
		if id.Token != "" {
			rs = append(rs, Record{Purpose: Verification, Name: d.VerificationPrefix + "." + id.Name, Type: "TXT", Value: id.Token, Token: id.Token})
		}
		for _, t := range id.DKIM.Tokens {
			rs = append(rs, DKIMRecord(id.Name, t, d))
		}
	}
	if mf := id.MailFrom.Domain; mf != "" {
		rs = append(rs,
			Record{Purpose: MailFromMX, Name: mf, Type: "MX", Value: "10 " + d.MX(id.Region)},
			Record{Purpose: MailFromSPF, Name: mf, Type: "TXT", Value: SPF(d)},
		)
	}
	return rs
}

// DKIMRecord is <token>._domainkey.<domain> CNAME <token>.<DKIM domain>.
func DKIMRecord(domain, token string, d config.DNS) Record {
	return Record{Purpose: DKIM, Name: token + "._domainkey." + domain, Type: "CNAME", Value: token + "." + d.DKIMDomain, Token: token}
}

// SPF is the SPF record of a custom MAIL FROM domain.
func SPF(d config.DNS) string { return "v=spf1 include:" + d.SPFInclude + " ~all" }
