package records

import (
	"strings"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/identity"
)

// Expect is what one SES instance (an account in a region) expects a
// domain's DNS to publish. The verifier builds it from a stored identity,
// the doctor and plan from what an SES endpoint (Sesame's or Amazon's)
// reports; all of them judge the zone against it with the same matchers.
type Expect struct {
	Domain string // the identity's domain; for an address, its domain
	Region string
	// Token is the verification token; "" when there is none to look for.
	Token string
	// DKIMTokens are the Easy DKIM tokens, if any.
	DKIMTokens []string
	// DKIMSelector and DKIMKey are a BYODKIM key: the customer publishes
	// <selector>._domainkey.<domain> TXT DKIMKey ("v=DKIM1; k=rsa; p=...").
	DKIMSelector, DKIMKey string
	// MailFrom is the custom MAIL FROM domain, if any.
	MailFrom string

	// How this instance's records look: SES's defaults or an operator's.
	VerificationPrefix string // _amazonses
	ValuePrefix        string // amazonses:, optional before the token
	DKIMDomain         string // dkim.amazonses.com, the CNAMEs' target zone
	MXHost             string // feedback-smtp.<region>.amazonses.com
	SPFInclude         string // amazonses.com
	mxTemplate         string // to recognise other regions' feedback hosts
}

// ExpectFor returns what id expects under the settings d.
func ExpectFor(id *identity.Identity, d config.DNS) Expect {
	domain := id.Name
	if !id.IsDomain() {
		_, domain, _ = strings.Cut(id.Name, "@")
	}
	e := newExpect(domain, id.Region, d)
	if id.IsDomain() {
		e.Token = id.Token
		e.DKIMTokens = id.DKIM.EasyTokens()
		if sel := id.DKIM.Selector(); sel != "" {
			e.DKIMSelector, e.DKIMKey = strings.ToLower(sel), id.DKIM.KeyRecord
		}
	}
	e.MailFrom = id.MailFrom.Domain
	return e
}

// ExpectOf returns what the instance in expects of domain under d.
func ExpectOf(domain string, in Instance, d config.DNS) Expect {
	e := newExpect(domain, in.Region, d)
	e.Token, e.DKIMTokens, e.MailFrom = in.Token, in.DKIMTokens, in.MailFrom
	e.DKIMSelector, e.DKIMKey = strings.ToLower(in.DKIMSelector), in.DKIMKey
	return e
}

func newExpect(domain, region string, d config.DNS) Expect {
	return Expect{
		Domain: strings.ToLower(strings.TrimSuffix(domain, ".")), Region: region,
		VerificationPrefix: d.VerificationPrefix, ValuePrefix: d.ValuePrefix, DKIMDomain: d.DKIMDomain,
		MXHost: strings.ToLower(d.MX(region)), SPFInclude: strings.ToLower(d.SPFInclude), mxTemplate: strings.ToLower(d.MailFromMX),
	}
}

// VerificationName is where SES looks for the token: _amazonses.<domain>.
func (e Expect) VerificationName() string { return e.VerificationPrefix + "." + e.Domain }

// DKIMName is the name of one Easy DKIM CNAME: <token>._domainkey.<domain>.
// DNS names are case-insensitive; the name is in lower case.
func (e Expect) DKIMName(token string) string {
	return strings.ToLower(token) + "._domainkey." + e.Domain
}

// DKIMTokenOf returns the token whose Easy DKIM CNAME name is name, if it
// is one: a single label before ._domainkey.<domain>.
func (e Expect) DKIMTokenOf(name string) (string, bool) {
	label, ok := strings.CutSuffix(strings.ToLower(strings.TrimSuffix(name, ".")), "._domainkey."+e.Domain)
	return label, ok && label != "" && !strings.Contains(label, ".")
}

// DKIMTarget is where one Easy DKIM CNAME points: <token>.<DKIM domain>.
func (e Expect) DKIMTarget(token string) string {
	return strings.ToLower(token) + "." + strings.ToLower(e.DKIMDomain)
}

// Appended is name with the domain appended once more: where a DNS
// provider that appends the zone to every name entered puts a record
// entered fully qualified (the multi-account guide's note 3).
func (e Expect) Appended(name string) string { return strings.TrimSuffix(name, ".") + "." + e.Domain }

// MXValue is the MAIL FROM MX record's value, as SES gives it.
func (e Expect) MXValue() string { return MXValue(e.MXHost) }

// MXValue is "10 <host>": SES's MAIL FROM MX record always has
// preference 10.
func MXValue(host string) string { return "10 " + host }

// SPFValue is the SPF record SES gives for a MAIL FROM domain.
func (e Expect) SPFValue() string { return "v=spf1 include:" + e.SPFInclude + " ~all" }

// Instance is one SES instance's view of an identity, as the doctor and
// plan read it from an endpoint, flags or a file.
type Instance struct {
	// Label names the instance in findings: PROFILE@REGION,
	// ENDPOINT@REGION or "flags".
	Label  string `json:"label"`
	Region string `json:"region,omitempty"`
	// Token is the domain verification token; "" when not known.
	Token string `json:"token,omitempty"`
	// DKIMTokens are the three Easy DKIM tokens, if any.
	DKIMTokens []string `json:"dkim_tokens,omitempty"`
	// DKIMSelector and DKIMKey are a BYODKIM key's selector and the TXT
	// record its public half makes, if the identity signs with its own.
	DKIMSelector string `json:"dkim_selector,omitempty"`
	DKIMKey      string `json:"dkim_key,omitempty"`
	// DKIMKeys are the key records published for Easy DKIM tokens, by
	// token, when the instance knows its keys (Sesame's console does; SES
	// tells nobody): a different key where a token's CNAME leads is then a
	// mismatch, not just any usable key.
	DKIMKeys map[string]string `json:"dkim_keys,omitempty"`
	// MailFrom is the custom MAIL FROM domain, if any.
	MailFrom string `json:"mail_from,omitempty"`
	// FromSES says the values were read from an endpoint: an empty field
	// then means "not set up" rather than "not given".
	FromSES bool `json:"from_ses"`
	// Missing says the endpoint does not have the identity.
	Missing bool `json:"missing,omitempty"`
	// Status is what the endpoint reports, when FromSES.
	Status *Status `json:"status,omitempty"`
}

// Status is an identity's state at one SES instance, in v1 values
// (Pending, Success, Failed, TemporaryFailure, NotStarted).
type Status struct {
	Verification string `json:"verification,omitempty"`
	DKIM         string `json:"dkim,omitempty"`
	DKIMEnabled  bool   `json:"dkim_enabled"`
	MailFrom     string `json:"mail_from,omitempty"`
}
