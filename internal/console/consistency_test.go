package console

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/dnstest"
	"github.com/sesame/sesame/internal/doctor"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/plan"
	"github.com/sesame/sesame/internal/records"
	"github.com/sesame/sesame/internal/registry"
	"github.com/sesame/sesame/internal/store"
	"github.com/sesame/sesame/internal/store/sqlite"
	"github.com/sesame/sesame/internal/verify"
)

// The records of a domain set up as SES says, in zone-file form; a case
// replaces some of them. {token}, {d1}..{d3} are the identity's.
var goodRecords = map[string]string{
	"txt":  `_amazonses TXT "{token}"`,
	"dkim": "{d1}._domainkey CNAME {d1}.dkim.amazonses.com.\n{d2}._domainkey CNAME {d2}.dkim.amazonses.com.\n{d3}._domainkey CNAME {d3}.dkim.amazonses.com.",
	"mx":   "mail MX 10 feedback-smtp.us-east-1.amazonses.com.",
	"spf":  `mail TXT "v=spf1 include:amazonses.com ~all"`,
}

// verdicts are the four judgements every view must agree on: the
// verification TXT, the DKIM CNAMEs, the MAIL FROM MX and its SPF record.
type verdicts struct{ TXT, DKIM, MX, SPF bool }

// TestOneVerdict runs each published record set through the verifier,
// the doctor, plan and the console's badges, and holds them to one
// verdict: the verifier's status (Success or not) is the doctor's (no
// error, or an error), plan's (keep, or change) and the console badge's
// (verified, or not).
func TestOneVerdict(t *testing.T) {
	for _, c := range []struct {
		name  string
		recs  map[string]string // replaces goodRecords' entries
		fault dnstest.Fault     // of the zone's one name server
		want  verdicts
		codes []string // the doctor's error codes that say why
	}{
		{name: "as SES says", want: verdicts{true, true, true, true}},

		// Verification TXT (without DKIM records, which would verify the
		// domain on their own).
		{name: "TXT prefixed", recs: map[string]string{"txt": `_amazonses TXT "amazonses:{token}"`, "dkim": ""}, want: verdicts{true, false, true, true}},
		{name: "TXT prefix in upper case", recs: map[string]string{"txt": `_amazonses TXT "AMAZONSES:{token}"`, "dkim": ""}, want: verdicts{true, false, true, true}},
		{name: "TXT lowercased by the provider", recs: map[string]string{"txt": `_amazonses TXT "{lowertoken}"`, "dkim": ""}, want: verdicts{false, false, true, true}, codes: []string{"verification-record-case-changed"}},
		{name: "TXT in quotes", recs: map[string]string{"txt": `_amazonses TXT "\"{token}\""`, "dkim": ""}, want: verdicts{false, false, true, true}, codes: []string{"verification-record-mangled"}},
		{name: "TXT name with the domain appended", recs: map[string]string{"txt": `_amazonses.example.test TXT "{token}"`, "dkim": ""}, want: verdicts{false, false, true, true}, codes: []string{"verification-record-domain-appended"}},
		// SES reads amazonses.<domain> only for domains verified that way
		// long ago; a verification started now does not.
		{name: "TXT without the underscore", recs: map[string]string{"txt": `amazonses TXT "{token}"`, "dkim": ""}, want: verdicts{false, false, true, true}, codes: []string{"verification-record-no-underscore"}},
		{name: "TXT on the domain itself", recs: map[string]string{"txt": `@ TXT "{token}"`, "dkim": ""}, want: verdicts{true, false, true, true}},
		{name: "TXT beside another account's", recs: map[string]string{"txt": `_amazonses TXT "Zz7MjnfhTKUZ06Enqq1PeGUaOkw8lGhcfwefcHUpmBG="` + "\n" + `_amazonses TXT "{token}"`, "dkim": ""}, want: verdicts{true, false, true, true}},
		{name: "TXT missing", recs: map[string]string{"txt": "", "dkim": ""}, want: verdicts{false, false, true, true}, codes: []string{"verification-record-missing", "dkim-record-missing"}},

		// Easy DKIM.
		{name: "DKIM one missing", recs: map[string]string{"dkim": "{d1}._domainkey CNAME {d1}.dkim.amazonses.com.\n{d2}._domainkey CNAME {d2}.dkim.amazonses.com."}, want: verdicts{true, false, true, true}, codes: []string{"dkim-record-missing"}},
		{name: "DKIM targets in upper case", recs: map[string]string{"dkim": "{d1}._domainkey CNAME {D1}.DKIM.AMAZONSES.COM.\n{d2}._domainkey CNAME {d2}.dkim.amazonses.com.\n{d3}._domainkey CNAME {d3}.dkim.amazonses.com."}, want: verdicts{true, true, true, true}},
		{name: "DKIM target with the domain appended", recs: map[string]string{"dkim": "{d1}._domainkey CNAME {d1}.dkim.amazonses.com.example.test.\n{d2}._domainkey CNAME {d2}.dkim.amazonses.com.\n{d3}._domainkey CNAME {d3}.dkim.amazonses.com."}, want: verdicts{true, false, true, true}, codes: []string{"dkim-record-wrong-target"}},
		{name: "DKIM targets swapped", recs: map[string]string{"dkim": "{d1}._domainkey CNAME {d2}.dkim.amazonses.com.\n{d2}._domainkey CNAME {d1}.dkim.amazonses.com.\n{d3}._domainkey CNAME {d3}.dkim.amazonses.com."}, want: verdicts{true, false, true, true}, codes: []string{"dkim-record-wrong-target"}},

		// MAIL FROM MX: SES's must be the only one.
		{name: "MX of two regions", recs: map[string]string{"mx": "mail MX 10 feedback-smtp.us-east-1.amazonses.com.\nmail MX 10 feedback-smtp.eu-west-1.amazonses.com."}, want: verdicts{true, true, false, true}, codes: []string{"mail-from-mx-multiple"}},
		{name: "MX of another region", recs: map[string]string{"mx": "mail MX 10 feedback-smtp.eu-west-1.amazonses.com."}, want: verdicts{true, true, false, true}, codes: []string{"mail-from-mx-wrong-region"}},
		{name: "MX with another preference", recs: map[string]string{"mx": "mail MX 20 feedback-smtp.us-east-1.amazonses.com."}, want: verdicts{true, true, true, true}},
		{name: "MX beside a mail host", recs: map[string]string{"mx": "mail MX 10 feedback-smtp.us-east-1.amazonses.com.\nmail MX 20 mx.example.net."}, want: verdicts{true, true, false, true}, codes: []string{"mail-from-mx-multiple"}},
		{name: "MX missing", recs: map[string]string{"mx": ""}, want: verdicts{true, true, false, true}, codes: []string{"mail-from-mx-missing"}},

		// MAIL FROM SPF.
		{name: "SPF by redirect", recs: map[string]string{"spf": `mail TXT "v=spf1 redirect=amazonses.com"`}, want: verdicts{true, true, true, true}},
		{name: "SPF without SES", recs: map[string]string{"spf": `mail TXT "v=spf1 a -all"`}, want: verdicts{true, true, true, false}, codes: []string{"spf-missing-include"}},
		{name: "SPF through a nested include", recs: map[string]string{"spf": `mail TXT "v=spf1 include:_spf.example.test ~all"` + "\n" + `_spf TXT "v=spf1 include:amazonses.com -all"`}, want: verdicts{true, true, true, true}},
		{name: "SPF include loop", recs: map[string]string{"spf": `mail TXT "v=spf1 include:_spf.example.test include:amazonses.com ~all"` + "\n" + `_spf TXT "v=spf1 include:mail.example.test -all"`}, want: verdicts{true, true, true, false}, codes: []string{"spf-too-many-lookups"}},
		// A warning, not an error: SES's mail still passes.
		{name: "SPF passing any host", recs: map[string]string{"spf": `mail TXT "v=spf1 include:amazonses.com +all"`}, want: verdicts{true, true, true, true}},
		{name: "SPF with void lookups", recs: map[string]string{"spf": `mail TXT "v=spf1 a:x1.example.test a:x2.example.test a:x3.example.test include:amazonses.com ~all"`}, want: verdicts{true, true, true, false}, codes: []string{"spf-too-many-lookups"}},
		{name: "SPF twice", recs: map[string]string{"spf": `mail TXT "v=spf1 include:amazonses.com ~all"` + "\n" + `mail TXT "v=spf1 -all"`}, want: verdicts{true, true, true, false}, codes: []string{"spf-multiple-records"}},
		{name: "SPF syntax error", recs: map[string]string{"spf": `mail TXT "v=spf1 include:amazonses.com foo ~all"`}, want: verdicts{true, true, true, false}, codes: []string{"spf-invalid"}},
		// Eleven lookups, the first of which matches the address a
		// receiver may evaluate with: the count is over the whole record.
		{name: "SPF past 10 lookups after a match", recs: map[string]string{"spf": `mail TXT "v=spf1 a:probe.example.test include:amazonses.com a:h1.example.test a:h2.example.test a:h3.example.test a:h4.example.test a:h5.example.test a:h6.example.test a:h7.example.test a:h8.example.test a:h9.example.test ~all"`}, want: verdicts{true, true, true, false}, codes: []string{"spf-too-many-lookups"}},

		// The name server fails: nothing is known, and none says it is right.
		{name: "server failing", fault: dnstest.ServFail, want: verdicts{false, false, false, false}},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newOneWorld(t)
			recs := map[string]string{}
			for k, v := range goodRecords {
				recs[k] = v
			}
			for k, v := range c.recs {
				recs[k] = v
			}
			w.publish(recs)
			w.ns.SetFault(c.fault)
			got, codes := w.views(t)
			for view, v := range got {
				if v != c.want {
					t.Errorf("%s: %+v, want %+v\nzone:\n%s", view, v, c.want, w.zone)
				}
			}
			for _, code := range c.codes {
				if !slices.Contains(codes, code) {
					t.Errorf("doctor: errors %q, want %s among them", codes, code)
				}
			}
		})
	}
}

// oneWorld is one domain identity with Easy DKIM and a MAIL FROM domain in
// a store, the verifier, and a DNS tree that serves example.test.
type oneWorld struct {
	ns, resolver *dnstest.Server
	client       *dnsclient.Client
	st           store.Store
	reg          *registry.Registry
	v            *verify.Verifier
	id           *identity.Identity
	zone         string
}

const oneZoneHead = `
@        SOA  ns1 hostmaster 1 7200 3600 1209600 60
@        NS   ns1
ns1      A    127.0.7.1
probe    A    192.0.2.1
h1       A    198.51.100.1
h2       A    198.51.100.2
h3       A    198.51.100.3
h4       A    198.51.100.4
h5       A    198.51.100.5
h6       A    198.51.100.6
h7       A    198.51.100.7
h8       A    198.51.100.8
h9       A    198.51.100.9
_dmarc   TXT  "v=DMARC1; p=none"
`

var oneScope = registry.Scope{Account: "111111111111", Region: "us-east-1"}

func newOneWorld(t *testing.T) *oneWorld {
	t.Helper()
	w := &oneWorld{}
	// Loopback addresses of its own, so that it meets no other test's
	// servers.
	w.ns = dnstest.NewServer(t, "127.0.7.1")
	w.resolver = dnstest.NewServer(t, "127.0.7.53:"+w.ns.Port)
	w.resolver.SetZone(".", "@ SOA a.root.test. hostmaster.root.test. 1 7200 3600 1209600 60\n")
	w.resolver.SetZone("example.test.", "@ SOA ns1 hostmaster 1 7200 3600 1209600 60\n@ NS ns1\nns1 A 127.0.7.1\n")
	w.client = &dnsclient.Client{Resolver: w.resolver.Addr, AuthPort: w.ns.Port, Timeout: 500 * time.Millisecond, Retries: -1}
	st, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w.st = st
	w.reg = &registry.Registry{Store: st, DNS: config.SES(), Policies: identity.SESPolicies(), Log: quietLog()}
	w.v = &verify.Verifier{Store: st, DNS: w.client, Log: quietLog(), Poll: time.Hour, Policies: identity.SESPolicies()}
	ctx := context.Background()
	if _, err := w.reg.CreateEmailIdentity(ctx, oneScope, "example.test", registry.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if w.id, err = w.reg.SetMailFrom(ctx, oneScope, "example.test", "mail.example.test", ""); err != nil {
		t.Fatal(err)
	}
	return w
}

// publish serves the zone head and recs, with the identity's tokens.
func (w *oneWorld) publish(recs map[string]string) {
	var b strings.Builder
	b.WriteString(oneZoneHead)
	for _, k := range []string{"txt", "dkim", "mx", "spf"} {
		b.WriteString(recs[k] + "\n")
	}
	z := b.String()
	rep := []string{"{token}", w.id.Token, "{lowertoken}", strings.ToLower(w.id.Token)}
	for i, tok := range w.id.DKIM.Tokens {
		rep = append(rep, fmt.Sprintf("{d%d}", i+1), tok, fmt.Sprintf("{D%d}", i+1), strings.ToUpper(tok))
	}
	w.zone = strings.NewReplacer(rep...).Replace(z)
	w.ns.SetZone("example.test.", w.zone)
}

// views returns what each of the four says, and the doctor's error codes.
func (w *oneWorld) views(t *testing.T) (map[string]verdicts, []string) {
	t.Helper()
	ctx := context.Background()
	out := map[string]verdicts{}

	// The verifier, and the console's badges of what it stored.
	id, err := w.v.CheckNow(ctx, w.id.Key)
	if err != nil {
		t.Fatal(err)
	}
	timeline, err := w.st.ListChecks(ctx, id.Key, evidenceLimit)
	if err != nil {
		t.Fatal(err)
	}
	spfMatch := false
	for _, cr := range lastOf(timeline, "spf") {
		spfMatch = spfMatch || cr.Outcome == "match"
	}
	out["verifier"] = verdicts{
		TXT: id.Verification.Status == identity.Success, DKIM: id.DKIM.Check.Status == identity.Success,
		MX: id.MailFrom.Check.Status == identity.Success, SPF: spfMatch,
	}
	c := &Console{Registry: w.reg}
	dk, err := w.reg.DKIMOf(ctx, oneScope, id)
	if err != nil {
		t.Fatal(err)
	}
	var console verdicts
	for _, row := range c.recordRows(id, dk.Status, timeline) {
		ok := row.Status.Class == "ok"
		switch {
		case strings.HasPrefix(row.Purpose, "Domain verification"):
			console.TXT = ok
		case strings.HasPrefix(row.Purpose, "DKIM"):
			console.DKIM = ok // the same badge on all three rows
		case row.Purpose == "MAIL FROM (bounces)":
			console.MX = ok
		case row.Purpose == "MAIL FROM (SPF)":
			console.SPF = ok
		}
	}
	out["console"] = console

	// The doctor, with this identity's expectations: no error in a
	// family of findings is a good record.
	in := records.Instance{Label: "this", Region: id.Region, Token: id.Token, DKIMTokens: id.DKIM.Tokens, MailFrom: id.MailFrom.Domain, FromSES: true}
	rep, err := (&doctor.Doctor{Client: w.client}).Diagnose(ctx, doctor.Input{Name: "example.test", Expect: doctor.Expectations{in}})
	if err != nil {
		t.Fatal(err)
	}
	// A family is right when some finding of it is (ok, info or warning)
	// and none is an error: a server that fails gives neither.
	var seen, bad verdicts
	var codes []string
	for _, f := range rep.Findings {
		code := string(f.Code)
		var fam *bool
		var famBad *bool
		switch {
		case strings.HasPrefix(code, "verification-record-"):
			fam, famBad = &seen.TXT, &bad.TXT
		case strings.HasPrefix(code, "dkim-record"):
			fam, famBad = &seen.DKIM, &bad.DKIM
		case strings.HasPrefix(code, "mail-from-"):
			fam, famBad = &seen.MX, &bad.MX
		case strings.HasPrefix(code, "spf-") && len(f.Records) > 0 && f.Records[0].Name == "mail.example.test":
			fam, famBad = &seen.SPF, &bad.SPF
		default:
			continue
		}
		*fam = true
		if f.Severity == records.SeverityError {
			*famBad = true
			codes = append(codes, code)
		}
	}
	doc := verdicts{seen.TXT && !bad.TXT, seen.DKIM && !bad.DKIM, seen.MX && !bad.MX, seen.SPF && !bad.SPF}
	out["doctor"] = doc

	// plan: keep is a good record set; an error about it is not.
	p, err := (&plan.Planner{Client: w.client}).Plan(ctx, plan.Options{Domain: "example.test", Instances: []records.Instance{in}})
	if err != nil {
		t.Fatal(err)
	}
	pl := verdicts{DKIM: true}
	for _, s := range p.RRsets {
		keep := s.Action == plan.Keep
		switch s.Purpose {
		case records.Verification:
			pl.TXT = pl.TXT || keep
		case records.DKIM:
			pl.DKIM = pl.DKIM && keep
		case records.MailFromMX:
			pl.MX = keep
		case records.MailFromSPF:
			pl.SPF = keep
		}
	}
	for _, pr := range p.Problems {
		switch {
		case pr.Code == plan.CodeVerificationAtApex:
			pl.TXT = true
		case pr.Severity < records.SeverityError:
		case strings.HasPrefix(string(pr.Code), "spf-"):
			pl.SPF = false
		case strings.HasPrefix(string(pr.Code), "mail-from-"):
			pl.MX = false
		}
	}
	out["plan"] = pl
	return out, codes
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
