// Package identity is the SES identity model: what an email address or
// domain identity holds, its tokens, and the status state machine of each of
// its checks (domain verification, Easy DKIM, custom MAIL FROM).
//
// It does no I/O: time is passed in, so the 72-hour windows are tested with a
// fake clock.
package identity

import (
	"maps"
	"strings"
	"time"

	"github.com/sesame/sesame/internal/names"
)

// Key names one identity. The same domain in two accounts, or in two regions
// of one account, is two independent identities, as in SES.
type Key struct {
	Account string
	Region  string
	Name    string // canonical, from names.Identity
}

// Identity is one verified-or-not sender identity.
type Identity struct {
	Key
	Kind    names.Kind
	Created time.Time

	// Token is the domain verification token published as the TXT record
	// _amazonses.<domain>; empty for email addresses.
	Token string
	// Verification is the TXT check of a domain, or the link check of an
	// email address.
	Verification Check

	DKIM     DKIM
	MailFrom MailFrom

	Tags                     []Tag
	ConfigurationSet         string
	FeedbackForwardingStatus bool
	// Notifications are the SNS topics and header options of v1
	// SetIdentityNotificationTopic and SetIdentityHeadersInNotificationsEnabled.
	Notifications Notifications `json:",omitzero"`
	// Policies are the sending-authorization policies by name, each the
	// JSON document as given.
	Policies map[string]string `json:",omitempty"`

	// Next is when the verifier should look at this identity again; zero
	// means never (nothing is being checked).
	Next time.Time
}

// Notifications are where SES publishes an identity's bounces, complaints
// and deliveries (SNS topic ARNs; empty: none), and whether the original
// headers go with them.
type Notifications struct {
	BounceTopic, ComplaintTopic, DeliveryTopic             string `json:",omitempty"`
	HeadersInBounce, HeadersInComplaint, HeadersInDelivery bool   `json:",omitempty"`
}

// Tag is a v2 resource tag.
type Tag struct {
	Key   string
	Value string
}

// DKIM is the Easy DKIM state of a domain.
type DKIM struct {
	// Enabled is whether mail is signed; SES defaults it to true.
	Enabled bool
	// Tokens are the three Easy DKIM tokens; the records to publish are
	// <token>._domainkey.<domain> CNAME <token>.dkim.amazonses.com. A DEED
	// replica has its parent's; under BYODKIM it is the one selector.
	Tokens []string
	Check  Check
	// Origin is AWS_SES (Easy DKIM), EXTERNAL (BYODKIM: Tokens holds the
	// one selector, as the model says, and KeyRecord the TXT record,
	// "v=DKIM1; k=rsa; p=...", the customer publishes at
	// <selector>._domainkey.<domain>; the private key is sealed with the
	// identity's DKIM keys) or AWS_SES_<REGION> (a DEED replica of the
	// identity in that region, whose keys sign for it).
	Origin            string
	KeyRecord         string    `json:",omitempty"`
	KeyLength         string    // RSA_1024_BIT or RSA_2048_BIT
	LastKeyGeneration time.Time `json:",omitzero"`
	// KeyLengthChanged is when NextSigningKeyLength last changed: SES
	// allows one change a day.
	KeyLengthChanged time.Time `json:",omitzero"`
}

// The DKIM origins (SigningAttributesOrigin).
const (
	EasyDKIM     = "AWS_SES"
	ExternalDKIM = "EXTERNAL"
)

// External reports whether the domain signs with its own key (BYODKIM).
func (d *DKIM) External() bool { return d.Origin == ExternalDKIM }

// EasyTokens are the Easy DKIM tokens: none under BYODKIM.
func (d *DKIM) EasyTokens() []string {
	if d.External() {
		return nil
	}
	return d.Tokens
}

// ReplicaPrefix starts the origin of a DEED replica: AWS_SES_US_EAST_1
// replicates the identity of the same name and account in us-east-1.
const ReplicaPrefix = "AWS_SES_"

// ReplicaOrigin is the origin that replicates the identity in region.
func ReplicaOrigin(region string) string {
	return ReplicaPrefix + strings.ToUpper(strings.ReplaceAll(region, "-", "_"))
}

// ParentRegion is the region a DEED replica takes its tokens and keys
// from (Deterministic Easy DKIM), "" for an identity that is none.
func (d *DKIM) ParentRegion() string {
	r, ok := strings.CutPrefix(d.Origin, ReplicaPrefix)
	if !ok || r == "" {
		return ""
	}
	return strings.ToLower(strings.ReplaceAll(r, "_", "-"))
}

// Selector is the BYODKIM selector, "" under Easy DKIM.
func (d *DKIM) Selector() string {
	if !d.External() || len(d.Tokens) == 0 {
		return ""
	}
	return d.Tokens[0]
}

// Behavior is what SES does when the MAIL FROM MX record is missing.
type Behavior string

const (
	UseDefaultValue Behavior = "UseDefaultValue"
	RejectMessage   Behavior = "RejectMessage"
)

// V2 returns the sesv2 spelling (USE_DEFAULT_VALUE, REJECT_MESSAGE).
func (b Behavior) V2() string {
	if b == RejectMessage {
		return "REJECT_MESSAGE"
	}
	return "USE_DEFAULT_VALUE"
}

// MailFrom is the custom MAIL FROM domain of an identity.
type MailFrom struct {
	Domain   string // empty: the default amazonses.com subdomain is used
	Behavior Behavior
	Check    Check
}

// IsDomain reports whether the identity is a domain.
func (id *Identity) IsDomain() bool { return id.Kind == names.KindDomain }

// Checks returns the checks of the identity that the verifier runs, by name.
func (id *Identity) Checks() map[string]*Check {
	m := map[string]*Check{"verification": &id.Verification}
	if id.IsDomain() {
		m["dkim"] = &id.DKIM.Check
	}
	if id.MailFrom.Domain != "" {
		m["mail-from"] = &id.MailFrom.Check
	}
	return m
}

// Clone returns a deep copy, so a caller can change it without touching a
// shared value.
func (id *Identity) Clone() *Identity {
	c := *id
	c.DKIM.Tokens = append([]string(nil), id.DKIM.Tokens...)
	c.Tags = append([]Tag(nil), id.Tags...)
	c.Policies = maps.Clone(id.Policies)
	c.Verification = id.Verification.clone()
	c.DKIM.Check = id.DKIM.Check.clone()
	c.MailFrom.Check = id.MailFrom.Check.clone()
	return &c
}
