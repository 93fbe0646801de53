package plan

import (
	"strings"
	"testing"
)

// FuzzParseInstances: any input is parsed or refused, and what is parsed
// has the shape Plan expects. Seeds in testdata/fuzz/FuzzParseInstances.
func FuzzParseInstances(f *testing.F) {
	f.Add("instance ops region=us-east-1 token=T dkim=a,b,c mail-from=mail.example.com\n")
	f.Fuzz(func(t *testing.T, in string) {
		got, err := ParseInstances(strings.NewReader(in))
		if err != nil {
			return
		}
		labels := map[string]bool{}
		for _, i := range got {
			if i.Label == "" || labels[i.Label] || (len(i.DKIMTokens) != 0 && len(i.DKIMTokens) != 3) || (i.MailFrom != "" && i.Region == "") {
				t.Errorf("parsed %q into %+v", in, got)
			}
			labels[i.Label] = true
		}
	})
}

// FuzzParseTarget: what parses prints as a URL that parses the same.
func FuzzParseTarget(f *testing.F) {
	f.Add("rfc2136://ns1.example.com:5353?zone=example.com")
	f.Fuzz(func(t *testing.T, in string) {
		got, err := ParseTarget(in)
		if err != nil {
			return
		}
		again, err := ParseTarget(got.String())
		if err != nil || *again != *got {
			t.Errorf("%q parsed as %+v, printed as %q, parsed again as %+v, %v", in, got, got.String(), again, err)
		}
	})
}

// FuzzParseTSIG: the error depends on the secret only through its
// validity, so it cannot show it.
func FuzzParseTSIG(f *testing.F) {
	f.Add("key.:hmac-sha256:c2VjcmV0")
	f.Fuzz(func(t *testing.T, in string) {
		_, err := ParseTSIG(in)
		i := strings.LastIndex(in, ":")
		if err == nil || i < 0 {
			return
		}
		msg := func(secret string) string {
			_, err := ParseTSIG(in[:i+1] + secret)
			if err == nil {
				return ""
			}
			return err.Error()
		}
		if m := err.Error(); m != msg("c2VjcmV0") && m != msg("!") {
			t.Errorf("the error %q depends on the secret", m)
		}
	})
}
