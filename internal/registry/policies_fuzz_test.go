package registry

import (
	"strings"
	"testing"

	"github.com/sesame/sesame/internal/identity"
)

// FuzzPolicy: any document is accepted or refused with InvalidPolicy,
// never a panic, and an accepted one is evaluated without one.
func FuzzPolicy(f *testing.F) {
	for _, s := range []string{
		policyDoc("Allow", "222222222222", `["ses:SendEmail","ses:SendRawEmail"]`),
		policyDoc("Deny", "*", `"ses:*"`),
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"ses:Send?mail","Resource":"arn:aws:ses:us-east-1:111111111111:identity/*"}}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["ses.amazonaws.com"]},"Action":"ses:SendEmail","Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":"1"}}}]}`,
		`{"Version":"2012-10-17"}`, `[]`, `null`, `{"Version":"2012-10-17","Statement":[null]}`,
	} {
		f.Add(s)
	}
	k := identity.Key{Account: "111111111111", Region: "us-east-1", Name: "example.com"}
	f.Fuzz(func(t *testing.T, doc string) {
		sts, err := parsePolicy(k, doc)
		if err != nil {
			if !IsKind(err, InvalidPolicy) {
				t.Fatalf("%q: error %v is not InvalidPolicy", doc, err)
			}
			return
		}
		for _, st := range sts {
			for _, a := range SendActions {
				st.covers("222222222222", a, IdentityARN(k))
			}
		}
		if len(doc) > MaxPolicySize || !strings.Contains(doc, "Statement") {
			t.Fatalf("%q accepted", doc)
		}
	})
}
