package dkim

import (
	"testing"

	"github.com/sesame/sesame/internal/records"
)

// TestMatchRecord: what a receiver finds where a DKIM CNAME leads, judged
// as the doctor reports it.
func TestMatchRecord(t *testing.T) {
	k, _ := Generate(RSA1024)
	other, _ := Generate(RSA1024)
	good, otherRec := Record(&k.PublicKey), Record(&other.PublicKey)
	for _, c := range []struct {
		name   string
		values []string
		want   bool // the signer's key is known
		kind   records.Kind
		fault  records.Fault
	}{
		{"nothing", nil, false, records.Absent, ""},
		{"no key record among other TXT", []string{"v=spf1 -all", "google-site-verification=x"}, false, records.Absent, ""},
		{"a key", []string{good}, false, records.Found, ""},
		{"a key without v=", []string{"k=rsa; p=" + good[len("v=DKIM1; k=rsa; p="):]}, false, records.Found, ""},
		{"the signer's key", []string{good}, true, records.Found, ""},
		{"another key than the signer's", []string{otherRec}, true, records.Wrong, records.FaultKeyMismatch},
		{"the signer's key beside another", []string{otherRec, good}, true, records.Found, ""},
		{"revoked", []string{"v=DKIM1; p="}, false, records.Wrong, records.FaultKeyRevoked},
		{"not base64", []string{"v=DKIM1; k=rsa; p=!!"}, false, records.Wrong, records.FaultKeyMalformed},
		{"cut short (a string of the TXT lost)", []string{good[:len(good)/2]}, false, records.Wrong, records.FaultKeyMalformed},
		{"not rsa", []string{"v=DKIM1; k=ed25519; p=AAAA"}, false, records.Wrong, records.FaultKeyMalformed},
		{"a mismatch outranks a malformed one", []string{otherRec, "v=DKIM1; p=!!"}, true, records.Wrong, records.FaultKeyMismatch},
	} {
		var want = (&k.PublicKey)
		if !c.want {
			want = nil
		}
		v := MatchRecord(c.values, want)
		if v.Kind != c.kind || v.Fault() != c.fault {
			t.Errorf("%s: %s %q, want %s %q", c.name, v.Kind, v.Fault(), c.kind, c.fault)
		}
		if v.Kind == records.Wrong && v.Fault() == records.FaultKeyMalformed && v.Problems[0].Detail == "" {
			t.Errorf("%s: a malformed key without the reason", c.name)
		}
	}
}

// TestMatchSelector: a BYODKIM selector's TXT judged against the record
// of the customer's own key: only that key's half will do.
func TestMatchSelector(t *testing.T) {
	k, _ := Generate(RSA1024)
	other, _ := Generate(RSA1024)
	own := Record(&k.PublicKey)
	pOnly := own[len("v=DKIM1; k=rsa; "):]
	for _, c := range []struct {
		name   string
		values []string
		kind   records.Kind
		fault  records.Fault
	}{
		{"nothing", nil, records.Absent, ""},
		{"the key, p= only as SES documents it", []string{pOnly}, records.Found, ""},
		{"the key with v= and k=", []string{own}, records.Found, ""},
		{"another key", []string{Record(&other.PublicKey)}, records.Wrong, records.FaultKeyMismatch},
		{"a broken key", []string{"p=AAAA"}, records.Wrong, records.FaultKeyMalformed},
	} {
		if v := MatchSelector(c.values, own); v.Kind != c.kind || v.Fault() != c.fault {
			t.Errorf("%s: %s %q, want %s %q", c.name, v.Kind, v.Fault(), c.kind, c.fault)
		}
	}
	if v := MatchSelector([]string{own}, "not a record"); v.Kind == records.Found {
		t.Error("an unusable stored record matched")
	}
}
