package plan

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/doctor"
)

func TestParseInstances(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []doctor.Instance
		wantErr string
	}{
		{
			name: "fields in any order, comments, doctor's colon",
			in:   "# two\ninstance ops region=us-east-1 token=T dkim=a,b,c mail-from=Mail.Example.COM\n\ninstance: mkt mail-from=bounce.example.com region=eu-west-1\n",
			want: []doctor.Instance{
				{Label: "ops", Region: "us-east-1", Token: "T", DKIMTokens: []string{"a", "b", "c"}, MailFrom: "mail.example.com"},
				{Label: "mkt", Region: "eu-west-1", MailFrom: "bounce.example.com"},
			},
		},
		{name: "empty", in: "# nothing\n", wantErr: "no instances"},
		{name: "not an instance", in: "ops region=x\n", wantErr: "line 1"},
		{name: "no label", in: "instance region=x\n", wantErr: "no label"},
		{name: "two dkim tokens", in: "instance a dkim=x,y\n", wantErr: "three tokens"},
		{name: "unknown field", in: "instance a zone=x\n", wantErr: "unknown field"},
		{name: "field twice", in: "instance a region=x region=y\n", wantErr: "twice"},
		{name: "mail from without region", in: "instance a mail-from=m.example.com\n", wantErr: "needs region"},
		{name: "bad mail from", in: "instance a region=r mail-from=not_a.domain\n", wantErr: "mail-from"},
		{name: "label twice", in: "instance a\ninstance a\n", wantErr: "line 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseInstances(strings.NewReader(tc.in))
			if tc.wantErr != "" {
				if !errors.Is(err, ErrInstances) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %v, want ErrInstances with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in   string
		want *Target // nil: an error
	}{
		{in: "rfc2136://192.0.2.1", want: &Target{Host: "192.0.2.1", Port: "53"}},
		{in: "rfc2136://ns1.example.com:5353?zone=Example.COM", want: &Target{Host: "ns1.example.com", Port: "5353", Zone: "example.com."}},
		{in: "rfc2136://[2001:db8::1]:53/?zone=example.com.", want: &Target{Host: "2001:db8::1", Port: "53", Zone: "example.com."}},
		{in: "http://192.0.2.1"},
		{in: "rfc2136://"},
		{in: "rfc2136://192.0.2.1:0"},
		{in: "rfc2136://192.0.2.1:99999"},
		{in: "rfc2136://192.0.2.1?zone=a&zone=b"},
		{in: "rfc2136://192.0.2.1?view=x"},
		{in: "rfc2136://192.0.2.1/path"},
		{in: "rfc2136://user@192.0.2.1"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseTarget(tc.in)
			switch {
			case tc.want == nil && !errors.Is(err, ErrTarget):
				t.Errorf("got %+v, %v; want ErrTarget", got, err)
			case tc.want != nil && err != nil:
				t.Errorf("error %v", err)
			case tc.want != nil && *got != *tc.want:
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestParseTargetRedacts: a password in an --apply URL never reaches an
// error message (issue 14).
func TestParseTargetRedacts(t *testing.T) {
	for _, in := range []string{"rfc2136://user:s3cret@192.0.2.1", "rfc2136://user:s3cret@192.0.2.1:99999", "rfc2136://user:s3cret@[::1", "rfc2136://u:s3cret@%zz"} {
		_, err := ParseTarget(in)
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("ParseTarget(%q): %v", in, err)
		}
	}
}

func TestParseTSIG(t *testing.T) {
	const secret = "c2VjcmV0IG9mIHRoZSB0ZXN0"
	k, err := ParseTSIG("Sesame-Key:HMAC-SHA512:" + secret)
	if err != nil {
		t.Fatal(err)
	}
	if k.Name != "sesame-key." || k.Algorithm != dns.HmacSHA512 || string(k.Secret) != secret {
		t.Errorf("got %+v", *k)
	}
	// The secret never shows: not printed, not logged, not in errors.
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("key", "tsig", k.Secret)
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%+v %#v %s %q", *k, *k, k.Secret, k.Secret), logged.String()} {
		if strings.Contains(s, secret) {
			t.Errorf("the secret shows in %q", s)
		}
	}
	for _, bad := range []string{"", "name", "name:hmac-sha256", ":hmac-sha256:" + secret, "name:hmac-md5:" + secret, "name:hmac-sha256:not base64!" + secret} {
		if _, err := ParseTSIG(bad); !errors.Is(err, ErrTarget) || strings.Contains(err.Error(), secret) {
			t.Errorf("ParseTSIG(%q) = %v, want ErrTarget without the secret", bad, err)
		}
	}
}

// TestSplitTXT: long values are split after a space where one is near
// the limit, else at 255 bytes; every string fits and the join is the
// value.
func TestSplitTXT(t *testing.T) {
	spf := "v=spf1 " + strings.Repeat("ip4:198.51.100.100 ", 20) + "~all"
	key := "v=DKIM1; k=rsa; p=" + strings.Repeat("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A", 13)
	for _, v := range []string{"", "short", strings.Repeat("x", 255), strings.Repeat("x", 256), spf, key, "quote \" and \\ and \x01 " + strings.Repeat("y", 300)} {
		parts := splitTXT(v)
		if strings.Join(parts, "") != v {
			t.Errorf("%q: parts %q do not join back", v, parts)
		}
		for i, p := range parts {
			if len(p) > maxString || (i < len(parts)-1 && strings.Contains(v, " ") && len(parts[i]) < maxString && !strings.HasSuffix(p, " ")) {
				t.Errorf("%q: part %d %q", v[:10], i, p)
			}
		}
		s := &RRset{Name: "mail.example.test.", Type: "TXT", TTL: 300}
		if err := roundTrip(s.newRR(v), v); err != nil {
			t.Errorf("%.20q: %v", v, err)
		}
	}
}

func TestTerraformValues(t *testing.T) {
	s := &RRset{Type: "TXT"}
	long := strings.Repeat("a", 255) + "b"
	if got, want := hcl(tfValue(s, long, WriteOptions{})), `"`+strings.Repeat("a", 255)+`\"\"b"`; got != want {
		t.Errorf("long value: %s, want %s", got, want)
	}
	if got, want := hcl(tfValue(s, `say "${hi}" %{x}`, WriteOptions{})), `"say \\\"$${hi}\\\" %%{x}"`; got != want {
		t.Errorf("escapes: %s, want %s", got, want)
	}
	if got := resourceName(&RRset{Name: "9x._domainkey.example.test.", Type: "CNAME"}); got != "r_9x_domainkey_example_test_cname" {
		t.Errorf("resource name %q", got)
	}
}
