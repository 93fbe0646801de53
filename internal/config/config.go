// Package config holds Sesame's settings. The defaults mirror Amazon SES
// exactly (record names, value prefix, DKIM target domain, MAIL FROM MX host),
// so SES's own documentation applies as written; an operator may change them
// to run Sesame under their own domain.
package config

import (
	"fmt"
	"strings"
)

// DNS is what the published records look like.
type DNS struct {
	// VerificationPrefix is the label before the domain in the name of the
	// verification TXT record: _amazonses.<domain>.
	VerificationPrefix string
	// ValuePrefix may precede the token in the TXT value: "amazonses:<token>".
	ValuePrefix string
	// DKIMDomain is the target domain of the Easy DKIM CNAMEs:
	// <token>._domainkey.<domain> CNAME <token>.<DKIMDomain>.
	DKIMDomain string
	// MailFromMX is the MX host of a custom MAIL FROM domain; "{region}" is
	// replaced by the identity's region.
	MailFromMX string
	// SPFInclude is the domain in the MAIL FROM SPF record:
	// "v=spf1 include:<SPFInclude> ~all".
	SPFInclude string
}

// SES returns the record settings of Amazon SES.
func SES() DNS {
	return DNS{
		VerificationPrefix: "_amazonses",
		ValuePrefix:        "amazonses:",
		DKIMDomain:         "dkim.amazonses.com",
		MailFromMX:         "feedback-smtp.{region}.amazonses.com",
		SPFInclude:         "amazonses.com",
	}
}

// MX returns the MAIL FROM MX host for a region.
func (d DNS) MX(region string) string {
	return strings.ReplaceAll(d.MailFromMX, "{region}", region)
}

// sesDefaultMailFrom is the SPF include of SES, whose default MAIL FROM
// domain depends on the region.
const sesDefaultMailFrom = "amazonses.com"

// DefaultMailFrom is the domain of the envelope sender of mail whose
// identity has no verified custom MAIL FROM domain: SES's is amazonses.com
// in us-east-1 and REGION.amazonses.com elsewhere (the mail-from guide
// calls it "a subdomain of amazonses.com"; the regional form is
// observed). An operator whose SPFInclude is a domain of its own gets that
// domain in every region, since its SPF record is the one that authorises
// the servers.
func (d DNS) DefaultMailFrom(region string) string {
	if d.SPFInclude == sesDefaultMailFrom && region != "us-east-1" {
		return region + "." + sesDefaultMailFrom
	}
	return d.SPFInclude
}

// Validate reports the first setting that cannot work.
func (d DNS) Validate() error {
	for _, s := range []struct{ name, v string }{
		{"verification prefix", d.VerificationPrefix},
		{"DKIM domain", d.DKIMDomain},
		{"MAIL FROM MX host", d.MailFromMX},
		{"SPF include", d.SPFInclude},
	} {
		if s.v == "" || strings.ContainsAny(s.v, " \t\"") || strings.HasSuffix(s.v, ".") || strings.HasPrefix(s.v, ".") {
			return fmt.Errorf("%s %q: want a domain name without spaces, quotes or leading and trailing dots", s.name, s.v)
		}
	}
	return nil
}

// SESDKIMZone reports whether the DKIM domain is SES's own zone, which
// only Amazon serves: Sesame can then make no keys that anyone would find
// behind the tokens, and signs nothing.
func (d DNS) SESDKIMZone() bool {
	return strings.EqualFold(strings.TrimSuffix(d.DKIMDomain, "."), SES().DKIMDomain)
}
