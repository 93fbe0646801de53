package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/google/go-cmp/cmp"

	"github.com/sesame/sesame/internal/dnstest"
	"github.com/sesame/sesame/internal/doctor"
	"github.com/sesame/sesame/internal/knottest"
	"github.com/sesame/sesame/internal/plan"
	"github.com/sesame/sesame/internal/server"
	"github.com/sesame/sesame/internal/sestest"
)

// planWorld is Knot serving example.test on 127.0.3.1, a resolver that
// finds it and a server for amazonses.com on the same port, and a Sesame
// that verifies through them.
type planWorld struct {
	knot     *knottest.Server
	resolver string
	sesame   *sestest.Server
}

const planZoneHead = "$ORIGIN example.test.\n$TTL 300\n@ SOA ns1 hostmaster 1 3600 600 86400 30\n@ NS ns1\nns1 A 127.0.3.1\n"

func newPlanWorld(t *testing.T, records string) *planWorld {
	t.Helper()
	knot := knottest.Start(t, "127.0.3.1", "example.test", planZoneHead+records)
	res := dnstest.NewServer(t, "127.0.3.53:"+knot.Port)
	sesDNS := dnstest.NewServer(t, "127.0.3.4:"+knot.Port)
	sesZone := "@ SOA ns hostmaster 1 7200 3600 1209600 300\n@ NS ns\nns A 127.0.3.4\n@ TXT \"v=spf1 ip4:199.255.192.0/22 -all\"\n" + sesKeys(t)
	sesDNS.SetZone("amazonses.com.", sesZone)
	res.SetZone(".", "@ SOA a.root.test. hostmaster.root.test. 1 7200 3600 1209600 300\n")
	res.SetZone("test.", doctorTLD)
	res.SetZone("amazonses.com.", sesZone)
	res.SetZone("example.test.", planZoneHead)
	srv := sestest.New(t, sestest.Options{Verify: server.VerifyOptions{
		Run: true, Resolver: res.Addr, AuthPort: knot.Port, RateLimit: 1000, Recheck: time.Second,
		Timeout: 500 * time.Millisecond, Budget: 3 * time.Second,
	}})
	return &planWorld{knot: knot, resolver: res.Addr, sesame: srv}
}

func (w *planWorld) dnsArgs() []string {
	return []string{"--resolver", w.resolver, "--dns-port", w.knot.Port, "--timeout", "500ms"}
}

func (w *planWorld) applyArgs() []string {
	return []string{"--apply", fmt.Sprintf("rfc2136://%s:%s?zone=example.test", w.knot.IP, w.knot.Port),
		"--tsig", w.knot.KeyName + ":hmac-sha256:" + w.knot.KeySecret}
}

// planInstance is one SES instance of a scenario: an account in a region.
type planInstance struct {
	account, region, mailFrom string
	token                     string
	dkim                      []string
}

func (in planInstance) label() string { return in.account + "@" + in.region }

// TestPlanScenarios runs the three columns of SES's multi-account,
// multi-region matrix end to end: identities in a Sesame with two
// accounts and two regions, a plan read from their endpoint and merged
// with the zone's records, applied to Knot, then the doctor and SES's own
// statuses.
func TestPlanScenarios(t *testing.T) {
	tests := []struct {
		name      string
		instances []planInstance
		zone      string            // records there before the plan
		want      map[string]string // record sets the matrix calls for besides the instances' own: name type → values
	}{
		{
			name: "two accounts same region",
			instances: []planInstance{
				{account: "ops", region: "us-east-1", mailFrom: "mail.example.test"},
				{account: "marketing", region: "us-east-1", mailFrom: "mail.example.test"},
			},
			zone: "@ MX 10 mx.example.test.\n@ TXT \"v=spf1 mx -all\"\nmx A 192.0.2.25\n_dmarc TXT \"v=DMARC1; p=quarantine\"\n",
			want: map[string]string{
				"_dmarc.example.test TXT": `"v=DMARC1; p=quarantine"`,
				"mail.example.test MX":    "10 feedback-smtp.us-east-1.amazonses.com",
				"mail.example.test TXT":   `"v=spf1 include:amazonses.com ~all"`,
			},
		},
		{
			name: "two accounts different regions",
			instances: []planInstance{
				{account: "ops", region: "us-east-1", mailFrom: "mail-us-east-1.example.test"},
				{account: "marketing", region: "eu-west-1", mailFrom: "mail-eu-west-1.example.test"},
			},
			zone: "mail-eu-west-1 TXT \"v=spf1 ip4:198.51.100.0/24 ~all\"\n",
			want: map[string]string{
				"_dmarc.example.test TXT":         `"v=DMARC1; p=none"`,
				"mail-us-east-1.example.test MX":  "10 feedback-smtp.us-east-1.amazonses.com",
				"mail-us-east-1.example.test TXT": `"v=spf1 include:amazonses.com ~all"`,
				"mail-eu-west-1.example.test MX":  "10 feedback-smtp.eu-west-1.amazonses.com",
				"mail-eu-west-1.example.test TXT": `"v=spf1 ip4:198.51.100.0/24 include:amazonses.com ~all"`,
			},
		},
		{
			name: "one account two regions",
			instances: []planInstance{
				{account: "ops", region: "us-east-1", mailFrom: "mail-us-east-1.example.test"},
				{account: "ops", region: "eu-west-1", mailFrom: "mail-eu-west-1.example.test"},
			},
			want: map[string]string{
				"_dmarc.example.test TXT":         `"v=DMARC1; p=none"`,
				"mail-us-east-1.example.test MX":  "10 feedback-smtp.us-east-1.amazonses.com",
				"mail-us-east-1.example.test TXT": `"v=spf1 include:amazonses.com ~all"`,
				"mail-eu-west-1.example.test MX":  "10 feedback-smtp.eu-west-1.amazonses.com",
				"mail-eu-west-1.example.test TXT": `"v=spf1 include:amazonses.com ~all"`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newPlanWorld(t, tc.zone)
			ins := tc.instances
			clients := map[string]*tenant{}
			for i := range ins {
				c := clients[ins[i].account]
				if c == nil {
					c = &tenant{acct: w.sesame.NewAccount(ins[i].account)}
					clients[ins[i].account] = c
				}
				ins[i].token, ins[i].dkim = sesIdentity(t, c.acct.V1(ins[i].region), "example.test", ins[i].mailFrom)
			}
			writeProfiles(t, clients)
			args := []string{"plan", "example.test", "--endpoint-url", w.sesame.URL}
			for _, in := range ins {
				args = append(args, "--instance", in.label())
			}
			args = append(args, w.dnsArgs()...)

			// The plan: exactly the records of the matrix, merged.
			out, errs, code := sesame(t, "", append(args, "-o", "json")...)
			if code != 0 {
				t.Fatalf("plan: exit status %d\n%s%s", code, out, errs)
			}
			want := map[string]string{}
			var tokens []string
			for _, in := range ins {
				tokens = append(tokens, fmt.Sprintf("%q", in.token))
				for _, d := range in.dkim {
					want[d+"._domainkey.example.test CNAME"] = d + ".dkim.amazonses.com"
				}
			}
			slices.Sort(tokens)
			want["_amazonses.example.test TXT"] = strings.Join(tokens, " ")
			for k, v := range tc.want {
				want[k] = v
			}
			if diff := cmp.Diff(want, finalRecords(t, out)); diff != "" {
				t.Errorf("planned record sets (-want +got):\n%s", diff)
			}

			// Applied to Knot in one update, then read back.
			out, errs, code = sesame(t, "", append(args, w.applyArgs()...)...)
			if code != 0 || !strings.Contains(out, "applied:") || !strings.Contains(out, fmt.Sprintf("%d of %d record sets as planned", len(want), len(want))) {
				t.Fatalf("apply: exit status %d\n%s%s", code, out, errs)
			}
			out, errs, code = sesame(t, "", append(args, w.applyArgs()...)...)
			if code != 0 || !strings.Contains(out, "nothing to change") {
				t.Errorf("second apply: exit status %d, want 0 and nothing to change\n%s%s", code, out, errs)
			}

			// SES's own view: every instance verifies.
			for _, in := range ins {
				waitVerified(t, clients[in.account].acct.V2(in.region), in.label())
			}

			// The doctor finds nothing wrong.
			dargs := []string{"doctor", "example.test", "--endpoint-url", w.sesame.URL, "-o", "json"}
			for _, in := range ins {
				dargs = append(dargs, "--instance", in.label())
			}
			out, errs, code = sesame(t, "", append(dargs, w.dnsArgs()...)...)
			rep := decodeReport(t, out)
			if code != 0 || rep.Counts.Error+rep.Counts.Warning > 0 {
				var bad []string
				for _, f := range rep.Findings {
					if f.Severity >= doctor.SeverityWarning {
						bad = append(bad, string(f.Code)+": "+f.Summary)
					}
				}
				t.Errorf("doctor: exit status %d, %q %s", code, bad, errs)
			}
		})
	}
}

type tenant struct{ acct *sestest.Account }

// writeProfiles writes a shared credentials file with a profile per
// account and points the SDK at it.
func writeProfiles(t *testing.T, accounts map[string]*tenant) {
	var b strings.Builder
	for name, c := range accounts {
		fmt.Fprintf(&b, "[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n", name, c.acct.AccessKeyId, c.acct.SecretAccessKey)
	}
	file := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	isolateAWS(t, file)
}

// finalRecords reads a JSON plan into "name type" → its values once
// applied, sorted and as a zone file writes them.
func finalRecords(t *testing.T, js string) map[string]string {
	t.Helper()
	var p struct {
		RRsets []struct {
			Name, Type string
			Values     []struct{ Value, Change string }
		}
	}
	if err := json.Unmarshal([]byte(js), &p); err != nil {
		t.Fatalf("decoding %s: %v", js, err)
	}
	out := map[string]string{}
	for _, s := range p.RRsets {
		var vals []string
		for _, v := range s.Values {
			if v.Change == "remove" {
				continue
			}
			if s.Type == "TXT" {
				v.Value = fmt.Sprintf("%q", v.Value)
			}
			vals = append(vals, v.Value)
		}
		slices.Sort(vals)
		out[s.Name+" "+s.Type] = strings.Join(vals, " ")
	}
	return out
}

// waitVerified polls an identity, as a user of the aws CLI would, until
// its verification, DKIM and MAIL FROM statuses are all SUCCESS.
func waitVerified(t *testing.T, c *sesv2.Client, label string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		out, err := c.GetEmailIdentity(context.Background(), &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("example.test")})
		if err != nil {
			t.Fatal(err)
		}
		got := []string{string(out.VerificationStatus), "", ""}
		if out.DkimAttributes != nil {
			got[1] = string(out.DkimAttributes.Status)
		}
		if out.MailFromAttributes != nil {
			got[2] = string(out.MailFromAttributes.MailFromDomainStatus)
		}
		if slices.Equal(got, []string{"SUCCESS", "SUCCESS", "SUCCESS"}) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: verification, DKIM and MAIL FROM %v after 15 s, want SUCCESS", label, got)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestPlanFromFile plans from a file of instances, in every format, and
// shows the update with --dry-run without sending it.
func TestPlanFromFile(t *testing.T) {
	w := newPlanWorld(t, "")
	file := filepath.Join(t.TempDir(), "instances")
	os.WriteFile(file, []byte(`# two regions of one account
instance ops region=us-east-1 token=QOfgFXU/ZSvHTm8Agxq581O1+2rrLJ9fv6qhqTjsYT4= mail-from=mail-us-east-1.example.test
instance ops-eu region=eu-west-1 token=NJxE6HtWzaFUpVqtiMQwU7BlG0R8o1R1OttIAW56880= mail-from=mail-eu-west-1.example.test
`), 0o644)
	base := append([]string{"plan", "example.test", "--from", file}, w.dnsArgs()...)
	for _, f := range plan.Formats {
		out, errs, code := sesame(t, "", append(base, "-o", string(f), "--fqdn")...)
		if code != 0 || !strings.Contains(out, "mail-eu-west-1.example.test.") {
			t.Errorf("-o %s --fqdn: exit status %d, no FQDN in\n%s%s", f, code, out, errs)
		}
	}
	out, errs, code := sesame(t, "", append(append(base, w.applyArgs()...), "--dry-run")...)
	if code != 0 || !strings.Contains(out, "update add mail-eu-west-1.example.test. 3600 MX 10 feedback-smtp.eu-west-1.amazonses.com.") ||
		strings.Contains(out, w.knot.KeySecret) {
		t.Errorf("--dry-run: exit status %d\n%s%s", code, out, errs)
	}
	// Nothing was sent.
	out, _, _ = sesame(t, "", append(base, "-o", "json")...)
	if !strings.Contains(out, `"action":"add"`) || strings.Contains(out, `"action":"keep"`) { // one line: JSON Lines
		t.Errorf("the dry run changed the zone:\n%s", out)
	}
	// A machine format keeps standard output to itself. The key may come
	// from SESAME_TSIG instead of --tsig.
	t.Setenv("SESAME_TSIG", w.knot.KeyName+":hmac-sha256:"+w.knot.KeySecret)
	out, errs, code = sesame(t, "", append(append(base, w.applyArgs()[:2]...), "-o", "route53")...)
	var batch map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &batch) != nil || !strings.Contains(errs, "as planned") {
		t.Errorf("-o route53 --apply: exit status %d\n%s%s", code, out, errs)
	}
}

// TestPlanErrors: a plan with an error is printed but not applied.
func TestPlanErrors(t *testing.T) {
	w := newPlanWorld(t, "")
	in := "instance a region=us-east-1 mail-from=mail.example.test\ninstance b region=eu-west-1 mail-from=mail.example.test\n"
	out, errs, code := sesame(t, in, append(append([]string{"plan", "example.test", "--from", "-"}, w.dnsArgs()...), w.applyArgs()...)...)
	if code != 1 || !strings.Contains(out, "mail-from-region-conflict") || !strings.Contains(errs, "not applied") || strings.Contains(out, "applied:") {
		t.Errorf("exit status %d, want 1 and not applied\n%s%s", code, out, errs)
	}
}

func TestPlanUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // in the error
	}{
		{name: "no domain", args: []string{"plan"}, want: "give one DOMAIN"},
		{name: "bad domain", args: []string{"plan", "not a domain", "--from", "-"}, want: "not a domain"},
		{name: "no instances", args: []string{"plan", "example.test"}, want: "no instances"},
		{name: "bad output", args: []string{"plan", "example.test", "--from", "-", "-o", "yaml"}, want: "--output"},
		{name: "bad apply", args: []string{"plan", "example.test", "--from", "-", "--apply", "http://ns1"}, want: "rfc2136://"},
		{name: "bad tsig", args: []string{"plan", "example.test", "--from", "-", "--apply", "rfc2136://127.0.0.1", "--tsig", "k:hmac-md5:c2VjcmV0"}, want: "TSIG algorithm"},
		{name: "dry run without apply", args: []string{"plan", "example.test", "--from", "-", "--dry-run"}, want: "goes with --apply"},
		{name: "bad policy", args: []string{"plan", "example.test", "--from", "-", "--dmarc-policy", "block"}, want: "--dmarc-policy"},
		{name: "bad instance", args: []string{"plan", "example.test", "--instance", "no-region"}, want: "PROFILE@REGION"},
		{name: "bad file", args: []string{"plan", "example.test", "--from", "-"}, want: "line 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errs, code := sesame(t, "instance x dkim=a,b\n", tc.args...)
			if code != 2 || !strings.Contains(errs, tc.want) {
				t.Errorf("exit status %d, stderr %q; want 2 and %q", code, errs, tc.want)
			}
		})
	}
}
