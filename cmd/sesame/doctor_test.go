package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sesame/sesame/internal/dkim"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/sesame/sesame/internal/account"
	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/dnstest"
	"github.com/sesame/sesame/internal/doctor"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/server"
)

// doctorDNS is a DNS world on loopback: a resolver that finds the zones,
// two name servers for example.test and broken.test, and amazonses.com
// for SPF includes.
type doctorDNS struct {
	resolver, ns1, ns2 *dnstest.Server
	port               string
}

const doctorTLD = `
@           SOA  a.nic.test. hostmaster.nic.test. 1 7200 3600 1209600 300
@           NS   a.nic.test.
a.nic       A    127.0.0.250
`

func doctorZone(origin, body string) string {
	return fmt.Sprintf(`$ORIGIN %s.
$TTL 300
@                SOA    ns1.%[1]s. hostmaster 2024060101 7200 3600 1209600 300
@                NS     ns1.%[1]s.
@                NS     ns2.%[1]s.
ns1              A      127.0.0.1
ns2              A      127.0.0.3
_dmarc           TXT    "v=DMARC1; p=reject"
%s`, origin, body)
}

func newDoctorDNS(t *testing.T) *doctorDNS {
	t.Helper()
	w := &doctorDNS{}
	s := dnstest.NewServers(t, "127.0.0.1", "127.0.0.3", "127.0.0.53", "127.0.0.4")
	w.ns1, w.ns2, w.resolver = s[0], s[1], s[2]
	sesDNS := s[3]
	w.port = w.ns1.Port
	sesZone := "@ SOA ns hostmaster 1 7200 3600 1209600 300\n@ NS ns\nns A 127.0.0.4\n@ TXT \"v=spf1 ip4:199.255.192.0/22 -all\"\n" + sesKeys(t)
	sesDNS.SetZone("amazonses.com.", sesZone)
	w.resolver.SetZone(".", "@ SOA a.root.test. hostmaster.root.test. 1 7200 3600 1209600 300\n")
	w.resolver.SetZone("test.", doctorTLD)
	w.resolver.SetZone("amazonses.com.", sesZone)
	return w
}

// serve publishes a zone on both name servers and the resolver.
func (w *doctorDNS) serve(origin, text string) {
	for _, s := range []*dnstest.Server{w.resolver, w.ns1, w.ns2} {
		s.SetZone(origin, text)
	}
}

func (w *doctorDNS) args() []string {
	return []string{"--resolver", w.resolver.Addr, "--dns-port", w.port, "--timeout", "300ms"}
}

// sesame runs the command line and returns its output and exit status.
func sesame(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	root := newRoot()
	var out, errb bytes.Buffer
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetIn(strings.NewReader(stdin))
	if err := root.ExecuteContext(context.Background()); err != nil {
		fmt.Fprintln(&errb, "sesame:", err)
		code = exitCode(err)
	}
	return out.String(), errb.String(), code
}

const (
	tok1 = "pmBGN/7MjnfhTKUZ06Enqq1PeGUaOkw8lGhcfwefcHU="
	dk1  = "vvjuipp74whm76gqoni7qmwwn4w4qusj"
	dk2  = "6t2h3dvxbocpdq3hbemdcnbzz2gi5e2n"
	dk3  = "7g3zhmcxezqogtxyjfldrqqfwf5hy2gf"
)

func goodRecords(token string, dkim []string, mailFrom string) string {
	s := fmt.Sprintf("_amazonses TXT %q\n", token)
	for _, t := range dkim {
		s += fmt.Sprintf("%s._domainkey CNAME %[1]s.dkim.amazonses.com.\n", t)
	}
	if mailFrom != "" {
		s += mailFrom + ". MX 10 feedback-smtp.us-east-1.amazonses.com.\n"
		s += mailFrom + ". TXT \"v=spf1 include:amazonses.com ~all\"\n"
	}
	return s
}

func decodeReport(t *testing.T, js string) *doctor.Report {
	t.Helper()
	var rep doctor.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatalf("decoding %q: %v", js, err)
	}
	return &rep
}

func codes(rep *doctor.Report) []doctor.Code {
	var cs []doctor.Code
	for _, f := range rep.Findings {
		cs = append(cs, f.Code)
	}
	return cs
}

func TestDoctorFlags(t *testing.T) {
	w := newDoctorDNS(t)
	w.serve("example.test.", doctorZone("example.test", goodRecords(tok1, []string{dk1, dk2, dk3}, "mail.example.test")))
	w.serve("broken.test.", doctorZone("broken.test", "_amazonses.broken.test TXT \""+tok1+"\"\n"))
	expect := []string{"--token", tok1, "--dkim-token", dk1, "--dkim-token", dk2, "--dkim-token", dk3, "--mail-from", "mail.example.test", "--region", "us-east-1"}

	t.Run("good", func(t *testing.T) {
		out, errs, code := sesame(t, "", append(append([]string{"doctor", "example.test"}, w.args()...), expect...)...)
		if code != 0 {
			t.Fatalf("exit status %d, want 0\n%s%s", code, out, errs)
		}
		for _, want := range []string{"example.test: OK", "verification-record-ok [flags]", "dkim-records-ok", "mail-from-mx-ok", "spf-ok"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "\x1b[") {
			t.Errorf("colours written to a non-terminal:\n%q", out)
		}
	})
	t.Run("broken json", func(t *testing.T) {
		out, _, code := sesame(t, "", append([]string{"doctor", "broken.test", "--token", tok1, "-o", "json"}, w.args()...)...)
		if code != 1 {
			t.Errorf("exit status %d, want 1", code)
		}
		rep := decodeReport(t, out)
		if rep.Schema != doctor.Schema || rep.Status != doctor.SeverityError || !slices.Contains(codes(rep), doctor.VerificationAppended) {
			t.Errorf("report %s %s %v, want %s, error, %s", rep.Schema, rep.Status, codes(rep), doctor.Schema, doctor.VerificationAppended)
		}
		if len(rep.Instances) != 1 || rep.Instances[0].Token != tok1 || rep.Instances[0].FromSES {
			t.Errorf("instances %+v, want the flags' token", rep.Instances)
		}
	})
}

func TestDoctorUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{name: "no name", args: []string{"doctor"}},
		{name: "two names", args: []string{"doctor", "a.test", "b.test"}},
		{name: "name and file", args: []string{"doctor", "a.test", "-f", "x"}},
		{name: "bad name", args: []string{"doctor", "not a name"}},
		{name: "bad output", args: []string{"doctor", "a.test", "-o", "yaml"}},
		{name: "two dkim tokens", args: []string{"doctor", "a.test", "--dkim-token", "a", "--dkim-token", "b"}},
		{name: "mail from without region", args: []string{"doctor", "a.test", "--mail-from", "mail.a.test"}},
		{name: "flags and ses", args: []string{"doctor", "a.test", "--token", tok1, "--profile", "p"}},
		{name: "flags in batch", args: []string{"doctor", "-f", "-", "--token", tok1}},
		{name: "bad instance", args: []string{"doctor", "a.test", "--instance", "no-region"}},
		{name: "bad resolver", args: []string{"doctor", "a.test", "--resolver", "localhost"}},
		{name: "bad port", args: []string{"doctor", "a.test", "--dns-port", "http"}},
		{name: "empty file", args: []string{"doctor", "-f", "-"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errs, code := sesame(t, "", tc.args...)
			if code != 2 {
				t.Errorf("exit status %d, want 2; stderr %q", code, errs)
			}
		})
	}
}

func TestDoctorUnreachableResolver(t *testing.T) {
	// Nothing listens there: the run cannot check anything.
	l := dnstest.NewServer(t, "127.0.0.1")
	addr := l.Addr
	l.Close()
	_, errs, code := sesame(t, "", "doctor", "example.test", "--resolver", addr, "--timeout", "100ms")
	if code != 2 {
		t.Errorf("exit status %d, want 2; stderr %q", code, errs)
	}
}

func TestDoctorBatch(t *testing.T) {
	w := newDoctorDNS(t)
	w.serve("example.test.", doctorZone("example.test", goodRecords(tok1, nil, "")+"@ A 192.0.2.1\n"))
	w.serve("broken.test.", doctorZone("broken.test", "@ TXT \"v=spf1 include:a.test include:a.test\" \"-all\"\n@ TXT \"v=spf1 -all\"\n"))

	t.Run("json lines in input order", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "names")
		os.WriteFile(file, []byte("# domains\nexample.test\n\nbroken.test\nuser@example.test\nnot a name\n"), 0o644)
		out, errs, code := sesame(t, "", append([]string{"doctor", "-f", file, "-o", "json", "-j", "2"}, w.args()...)...)
		if code != 2 {
			t.Errorf("exit status %d, want 2 (one name could not be checked); stderr %q", code, errs)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 4 {
			t.Fatalf("%d lines, want 4:\n%s", len(lines), out)
		}
		for i, want := range []struct {
			name   string
			status doctor.Severity
		}{{"example.test", doctor.SeverityInfo}, {"broken.test", doctor.SeverityError}, {"user@example.test", doctor.SeverityWarning}} {
			rep := decodeReport(t, lines[i])
			if rep.Name != want.name || rep.Status != want.status {
				t.Errorf("line %d: %s %s, want %s %s (%v)", i+1, rep.Name, rep.Status, want.name, want.status, codes(rep))
			}
		}
		var bad struct{ Name, Error string }
		if err := json.Unmarshal([]byte(lines[3]), &bad); err != nil || bad.Name != "not a name" || bad.Error == "" {
			t.Errorf("line 4 = %s (%v), want an error object for %q", lines[3], err, "not a name")
		}
	})
	t.Run("stdin text", func(t *testing.T) {
		out, _, code := sesame(t, "example.test\nbroken.test\n", append([]string{"doctor", "-f", "-"}, w.args()...)...)
		if code != 1 {
			t.Errorf("exit status %d, want 1", code)
		}
		if !strings.Contains(out, "2 name(s): 1 with errors, 0 not checked") {
			t.Errorf("no summary line in:\n%s", out)
		}
	})
}

// sesameServer runs a Sesame in-process and returns its URL and the
// server, to create accounts and identities with.
func sesameServer(t *testing.T) (string, *server.Server) {
	t.Helper()
	s, err := server.Open(context.Background(), server.Options{Data: t.TempDir(), DNS: config.SES(), Policies: identity.SESPolicies()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	hs := httptest.NewServer(s.Handler)
	t.Cleanup(hs.Close)
	return hs.URL, s
}

func sesV1(url string, c *account.Credentials, region string) *ses.Client {
	return ses.New(ses.Options{
		Region:       region,
		Credentials:  credentials.StaticCredentialsProvider{Value: aws.Credentials{AccessKeyID: c.AccessKeyId, SecretAccessKey: string(c.SecretAccessKey)}},
		BaseEndpoint: aws.String(url),
		Retryer:      aws.NopRetryer{},
	})
}

// sesIdentity creates a domain identity with DKIM and a MAIL FROM domain
// and returns its token and DKIM tokens.
func sesIdentity(t *testing.T, c *ses.Client, domain, mailFrom string) (string, []string) {
	t.Helper()
	ctx := context.Background()
	v, err := c.VerifyDomainIdentity(ctx, &ses.VerifyDomainIdentityInput{Domain: aws.String(domain)})
	if err != nil {
		t.Fatal(err)
	}
	k, err := c.VerifyDomainDkim(ctx, &ses.VerifyDomainDkimInput{Domain: aws.String(domain)})
	if err != nil {
		t.Fatal(err)
	}
	if mailFrom != "" {
		if _, err := c.SetIdentityMailFromDomain(ctx, &ses.SetIdentityMailFromDomainInput{Identity: aws.String(domain), MailFromDomain: aws.String(mailFrom)}); err != nil {
			t.Fatal(err)
		}
	}
	return aws.ToString(v.VerificationToken), k.DkimTokens
}

// isolateAWS points the SDK at files of the test and at no instance
// metadata service.
func isolateAWS(t *testing.T, credentialsFile string) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": credentialsFile,
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_PROFILE":                 "",
		"AWS_REGION":                  "",
		"AWS_DEFAULT_REGION":          "",
		"AWS_ACCESS_KEY_ID":           "",
		"AWS_SECRET_ACCESS_KEY":       "",
		"AWS_SESSION_TOKEN":           "",
	} {
		t.Setenv(k, v)
	}
}

// TestDoctorEndpoint points the doctor at a running Sesame: it must check
// that identity's exact tokens.
func TestDoctorEndpoint(t *testing.T) {
	url, srv := sesameServer(t)
	creds, err := srv.Accounts.Create(context.Background(), "tenant")
	if err != nil {
		t.Fatal(err)
	}
	token, dkim := sesIdentity(t, sesV1(url, creds, "us-east-1"), "example.test", "mail.example.test")
	isolateAWS(t, filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_ACCESS_KEY_ID", creds.AccessKeyId)
	t.Setenv("AWS_SECRET_ACCESS_KEY", string(creds.SecretAccessKey))

	w := newDoctorDNS(t)
	zone := doctorZone("example.test", goodRecords(token, dkim, "mail.example.test"))
	w.serve("example.test.", zone)
	run := func() (*doctor.Report, int) {
		out, errs, code := sesame(t, "", append([]string{"doctor", "example.test", "--endpoint-url", url, "--region", "us-east-1", "-o", "json"}, w.args()...)...)
		if code == 2 {
			t.Fatalf("exit status 2: %s", errs)
		}
		return decodeReport(t, out), code
	}

	rep, code := run()
	if code != 0 {
		t.Errorf("exit status %d, want 0: %v", code, codes(rep))
	}
	want := doctor.Instance{Label: url + "@us-east-1", Region: "us-east-1", Token: token, DKIMTokens: dkim, MailFrom: "mail.example.test", FromSES: true}
	if len(rep.Instances) != 1 {
		t.Fatalf("instances %+v, want one", rep.Instances)
	}
	got := rep.Instances[0]
	got.Status = nil
	if got.Label != want.Label || got.Token != want.Token || !slices.Equal(got.DKIMTokens, want.DKIMTokens) || got.MailFrom != want.MailFrom || !got.FromSES {
		t.Errorf("instance %+v, want %+v", got, want)
	}

	// --region alone reads SES with the default credential chain, here
	// pointed at the Sesame by AWS_ENDPOINT_URL, as the aws CLI would be.
	t.Setenv("AWS_ENDPOINT_URL", url)
	out, errs, code := sesame(t, "", append([]string{"doctor", "example.test", "--region", "us-east-1", "-o", "json"}, w.args()...)...)
	if rep := decodeReport(t, out); code != 0 || len(rep.Instances) != 1 || rep.Instances[0].Token != token || !rep.Instances[0].FromSES {
		t.Errorf("--region alone: exit status %d, instances %+v, want the identity's token read from SES; %s", code, rep.Instances, errs)
	}

	// The records of another identity do not pass for this one's.
	w.serve("example.test.", doctorZone("example.test", goodRecords(tok1, dkim[:2], "mail.example.test")))
	rep, code = run()
	if code != 1 || !slices.Contains(codes(rep), doctor.VerificationOther) || !slices.Contains(codes(rep), doctor.DKIMMissing) {
		t.Errorf("exit status %d, codes %v; want 1 with %s and %s", code, codes(rep), doctor.VerificationOther, doctor.DKIMMissing)
	}
}

// TestDoctorInstances checks a domain shared by two accounts in two
// regions, read with profiles of a shared credentials file.
func TestDoctorInstances(t *testing.T) {
	url, srv := sesameServer(t)
	ctx := context.Background()
	ops, err := srv.Accounts.Create(ctx, "ops")
	if err != nil {
		t.Fatal(err)
	}
	mkt, err := srv.Accounts.Create(ctx, "marketing")
	if err != nil {
		t.Fatal(err)
	}
	tokOps, dkimOps := sesIdentity(t, sesV1(url, ops, "us-east-1"), "example.test", "")
	tokMkt, dkimMkt := sesIdentity(t, sesV1(url, mkt, "eu-west-1"), "example.test", "")
	file := filepath.Join(t.TempDir(), "credentials")
	os.WriteFile(file, fmt.Appendf(nil, "[ops]\naws_access_key_id = %s\naws_secret_access_key = %s\n[marketing]\naws_access_key_id = %s\naws_secret_access_key = %s\n",
		ops.AccessKeyId, ops.SecretAccessKey, mkt.AccessKeyId, mkt.SecretAccessKey), 0o600)
	isolateAWS(t, file)

	w := newDoctorDNS(t)
	both := goodRecords(tokOps, dkimOps, "") + goodRecords(tokMkt, dkimMkt, "")
	w.serve("example.test.", doctorZone("example.test", both))
	args := append([]string{"doctor", "example.test", "--endpoint-url", url, "--instance", "ops@us-east-1", "--instance", "marketing@eu-west-1", "-o", "json"}, w.args()...)

	out, errs, code := sesame(t, "", args...)
	rep := decodeReport(t, out)
	if code != 0 {
		t.Errorf("exit status %d, want 0: %v %s", code, codes(rep), errs)
	}
	if !slices.Contains(codes(rep), doctor.VerificationMultiple) {
		t.Errorf("codes %v lack %s", codes(rep), doctor.VerificationMultiple)
	}

	// Only the first account's value published, and a region where the
	// identity does not exist.
	w.serve("example.test.", doctorZone("example.test", goodRecords(tokOps, dkimOps, "")+goodRecords(tokOps, dkimMkt, "")))
	out, _, code = sesame(t, "", append(args, "--instance", "ops@ap-south-1")...)
	rep = decodeReport(t, out)
	var got []string
	for _, f := range rep.Findings {
		if f.Severity == doctor.SeverityError {
			got = append(got, string(f.Code)+" "+f.Instance)
		}
	}
	slices.Sort(got)
	wantErr := []string{"identity-not-found ops@ap-south-1", "verification-record-other-instance marketing@eu-west-1"}
	if code != 1 || !slices.Equal(got, wantErr) {
		t.Errorf("exit status %d, errors %q; want 1, %q", code, got, wantErr)
	}
}

// sesKeys is the DKIM zone's part of a test amazonses.com: a key at every
// <token>.dkim.amazonses.com (a wildcard), for the doctor to find where
// each DKIM CNAME leads.
func sesKeys(t *testing.T) string {
	t.Helper()
	k, err := dkim.Generate(dkim.RSA1024)
	if err != nil {
		t.Fatal(err)
	}
	return "*.dkim TXT \"" + dkim.Record(&k.PublicKey) + "\"\n"
}
