package sesv2

import (
	"time"

	"github.com/sesame/sesame/internal/identity"
)

// The JSON shapes of sesv2's model. Timestamps are epoch seconds, the
// rest-json default.

type tag struct {
	Key   string
	Value string
}

type dkimSigningAttributes struct {
	DomainSigningSelector         string `json:",omitempty"`
	DomainSigningPrivateKey       string `json:",omitempty"`
	NextSigningKeyLength          string `json:",omitempty"`
	DomainSigningAttributesOrigin string `json:",omitempty"`
}

type createInput struct {
	EmailIdentity         string
	Tags                  []tag
	DkimSigningAttributes *dkimSigningAttributes
	ConfigurationSetName  string
}

type dkimAttributes struct {
	SigningEnabled             bool
	Status                     string
	Tokens                     []string `json:",omitempty"`
	SigningAttributesOrigin    string   `json:",omitempty"`
	NextSigningKeyLength       string   `json:",omitempty"`
	CurrentSigningKeyLength    string   `json:",omitempty"`
	LastKeyGenerationTimestamp *epoch   `json:",omitempty"`
}

type createOutput struct {
	IdentityType             string
	VerifiedForSendingStatus bool
	DkimAttributes           *dkimAttributes `json:",omitempty"`
}

type dkimSigningOutput struct {
	DkimStatus string
	DkimTokens []string
}

type mailFromAttributes struct {
	MailFromDomain       string `json:",omitempty"`
	MailFromDomainStatus string `json:",omitempty"`
	BehaviorOnMxFailure  string
}

type soaRecord struct {
	PrimaryNameServer string
	AdminEmail        string
	SerialNumber      int64
}

type verificationInfo struct {
	LastCheckedTimestamp *epoch     `json:",omitempty"`
	LastSuccessTimestamp *epoch     `json:",omitempty"`
	ErrorType            string     `json:",omitempty"`
	SOARecord            *soaRecord `json:",omitempty"`
}

type getOutput struct {
	IdentityType             string
	FeedbackForwardingStatus bool
	VerifiedForSendingStatus bool
	DkimAttributes           *dkimAttributes
	MailFromAttributes       mailFromAttributes
	Policies                 map[string]string
	Tags                     []tag
	ConfigurationSetName     string `json:",omitempty"`
	VerificationStatus       string
	VerificationInfo         verificationInfo
}

type identityInfo struct {
	IdentityType       string
	IdentityName       string
	SendingEnabled     bool
	VerificationStatus string
}

type listOutput struct {
	EmailIdentities []identityInfo
	NextToken       string `json:",omitempty"`
}

// epoch is a timestamp written as seconds since 1970.
type epoch time.Time

func (e epoch) MarshalJSON() ([]byte, error) {
	t := time.Time(e)
	return []byte(formatEpoch(t)), nil
}

func formatEpoch(t time.Time) string {
	ms := t.UnixMilli()
	s := ms / 1000
	frac := ms % 1000
	if frac == 0 {
		return itoa(s)
	}
	f := itoa(1000 + frac)[1:]
	for f[len(f)-1] == '0' {
		f = f[:len(f)-1]
	}
	return itoa(s) + "." + f
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

func ts(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}

func identityType(id *identity.Identity) string {
	if id.IsDomain() {
		return "DOMAIN"
	}
	return "EMAIL_ADDRESS"
}

func tagsOut(ts []identity.Tag) []tag {
	out := make([]tag, 0, len(ts))
	for _, t := range ts {
		out = append(out, tag{Key: t.Key, Value: t.Value})
	}
	return out
}
