package verify

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/dnstest"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/registry"
)

// TestVerification runs the domain TXT check against real servers, one
// case per way a record can be published or broken.
func TestVerification(t *testing.T) {
	tests := []struct {
		name string
		// ns1 and ns2 are the records of example.test on each server, after
		// the SOA; $TOKEN is the identity's token, $LOWER it in lower case,
		// $HEAD and $TAIL its two halves, $OTHER another account's. ns2
		// defaults to ns1.
		ns1, ns2     string
		serial2      string // ns2's SOA serial; default "1"
		fault1       dnstest.Fault
		fault2       dnstest.Fault
		domain       string // default example.test
		status       identity.Status
		errorType    identity.ErrorType
		detail       string   // a substring of Check.Detail
		outcomes     []string // the evidence Outcome of each server, in order
		evidenceNote string   // a substring of some evidence Detail
	}{
		{name: "plain", ns1: `_amazonses TXT "$TOKEN"`, status: identity.Success,
			outcomes: []string{"match", "match"}},
		{name: "value prefix amazonses:", ns1: `_amazonses TXT "amazonses:$TOKEN"`, status: identity.Success},
		{name: "character-strings joined", ns1: `_amazonses TXT "$HEAD" "$TAIL"`, status: identity.Success},
		{name: "at the apex, without underscore", ns1: "@ TXT \"v=spf1 -all\"\n@ TXT \"$TOKEN\"", status: identity.Success},
		{name: "two accounts share the name", ns1: "_amazonses TXT \"$OTHER\"\n_amazonses TXT \"$TOKEN\"", status: identity.Success},
		{name: "only the other account's value", ns1: `_amazonses TXT "$OTHER"`, status: identity.Pending,
			errorType: identity.InvalidValue, detail: "not \"", outcomes: []string{"mismatch", "mismatch", "NoData", "NoData"}},
		{name: "lowercased by the provider", ns1: `_amazonses TXT "$LOWER"`, status: identity.Pending,
			errorType: identity.InvalidValue, detail: "lowercased", evidenceNote: "only in case"},
		{name: "lowercased at the apex", ns1: `@ TXT "$LOWER"`, status: identity.Pending,
			errorType: identity.InvalidValue, detail: "lowercased"},
		{name: "nothing published", status: identity.Pending, errorType: identity.HostNotFound,
			detail: "_amazonses.example.test does not exist", outcomes: []string{"NXDomain", "NXDomain", "NoData", "NoData"}},
		{name: "name without TXT", ns1: `_amazonses A 192.0.2.1`, status: identity.Pending, errorType: identity.TypeNotFound},
		{name: "no such domain", domain: "nope.test", status: identity.Pending, errorType: identity.HostNotFound,
			detail: "no DNS zone", outcomes: []string{"NoZone", "NoZone"}},
		{name: "both servers SERVFAIL", ns1: `_amazonses TXT "$TOKEN"`, fault1: dnstest.ServFail, fault2: dnstest.ServFail,
			status: identity.TemporaryFailure, errorType: identity.DNSServerError, detail: "SERVFAIL",
			outcomes: []string{"ServFail", "ServFail", "ServFail", "ServFail"}},
		{name: "one server SERVFAIL, the other has it", ns1: `_amazonses TXT "$TOKEN"`, fault2: dnstest.ServFail,
			status: identity.Success, detail: "did not answer"},
		{name: "one server refuses, the other has nothing", fault1: dnstest.Refused,
			status: identity.Pending, errorType: identity.HostNotFound},
		{name: "one of two servers stale", ns1: `_amazonses TXT "$TOKEN"`, ns2: "", serial2: "0",
			status: identity.Success, detail: "stale", outcomes: []string{"match", "NXDomain"},
			evidenceNote: "stale: SOA serial 0, behind 1"},
		{name: "one server lowercases", ns1: `_amazonses TXT "$TOKEN"`, fault1: dnstest.LowercaseTXT,
			status: identity.Success, outcomes: []string{"mismatch", "match"}},
		{name: "both servers lowercase", ns1: `_amazonses TXT "$TOKEN"`, fault1: dnstest.LowercaseTXT, fault2: dnstest.LowercaseTXT,
			status: identity.Pending, errorType: identity.InvalidValue, detail: "lowercased"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			domain := tc.domain
			if domain == "" {
				domain = "example.test"
			}
			id := w.domain(us, domain)
			other := w.domain(scope("222222222222", "us-east-1"), "example.test")
			half := len(id.Token) / 2
			fill := strings.NewReplacer("$TOKEN", id.Token, "$LOWER", strings.ToLower(id.Token),
				"$HEAD", id.Token[:half], "$TAIL", id.Token[half:], "$OTHER", other.Token).Replace
			ns2 := tc.ns2
			if ns2 == "" && tc.serial2 == "" {
				ns2 = tc.ns1
			}
			w.serve(soa("1")+fill(tc.ns1), soa(cmpOr(tc.serial2, "1"))+fill(ns2))
			w.ns1.SetFault(tc.fault1)
			w.ns2.SetFault(tc.fault2)

			got := w.check(id.Key)
			c := got.Verification
			if c.Status != tc.status || c.ErrorType != tc.errorType || !has(c.Detail, tc.detail) {
				t.Errorf("status %s, error type %q, detail %q\nwant %s, %q, detail with %q", c.Status, c.ErrorType, c.Detail, tc.status, tc.errorType, tc.detail)
			}
			if !c.LastChecked.Equal(t0) {
				t.Errorf("LastChecked %v, want %v", c.LastChecked, t0)
			}
			if tc.status == identity.Success && !c.LastSuccess.Equal(t0) {
				t.Errorf("LastSuccess %v, want %v", c.LastSuccess, t0)
			}
			recs := w.checks(id.Key)
			if len(recs) == 0 {
				t.Fatal("no evidence kept")
			}
			if tc.outcomes != nil {
				var outcomes []string
				for i := len(recs) - 1; i >= 0; i-- { // oldest first
					outcomes = append(outcomes, recs[i].Outcome)
				}
				if d := cmp.Diff(tc.outcomes, outcomes); d != "" {
					t.Errorf("evidence outcomes (-want +got):\n%s", d)
				}
			}
			if tc.evidenceNote != "" {
				var notes []string
				for _, r := range recs {
					notes = append(notes, r.Detail)
				}
				if !has(strings.Join(notes, "\n"), tc.evidenceNote) {
					t.Errorf("no evidence says %q: %q", tc.evidenceNote, notes)
				}
			}
			for _, r := range recs {
				if r.Check != "verification" || r.Expected == "" || !r.At.Equal(t0) {
					t.Errorf("evidence %+v", r)
				}
				if r.Server != "resolver" && !strings.HasPrefix(r.Query, "dig @127.0.1.") {
					t.Errorf("evidence query %q is not a dig command for the server", r.Query)
				}
			}
		})
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// TestPlain is the whole happy path of a v2 domain: TXT and DKIM found,
// the SOA recorded, the evidence kept, the next check an hour away.
func TestPlain(t *testing.T) {
	w := newWorld(t)
	id := w.dkimDomain(us, "example.test")
	w.serve(soa("7"), soa("7"))
	w.add(txt(id))
	for _, rr := range dkimRRs(id) {
		w.add(rr)
	}
	got := w.check(id.Key)
	want := identity.Check{Status: identity.Success, Started: t0, LastChecked: t0, LastSuccess: t0,
		SOA: &identity.SOA{PrimaryNameServer: "ns1.example.test", AdminEmail: "hostmaster@example.test", SerialNumber: 7}}
	if d := cmp.Diff(want, got.Verification, ignoreDetail); d != "" {
		t.Errorf("verification (-want +got):\n%s", d)
	}
	if d := cmp.Diff(want, got.DKIM.Check, ignoreDetail); d != "" {
		t.Errorf("DKIM (-want +got):\n%s", d)
	}
	if got.Status() != identity.Success || !got.VerifiedForSending() {
		t.Errorf("identity status %s", got.Status())
	}
	if !got.Next.Equal(t0.Add(DefaultRecheck)) {
		t.Errorf("next check %v, want the recheck an hour later", got.Next)
	}
	recs := w.checks(id.Key)
	count := map[string]int{}
	for _, r := range recs {
		count[r.Check+" "+r.Outcome]++
	}
	if d := cmp.Diff(map[string]int{"verification match": 2, "dkim match": 6}, count); d != "" {
		t.Errorf("evidence (-want +got):\n%s", d)
	}
	if len(w.ns1.Queries()) == 0 || len(w.ns2.Queries()) == 0 {
		t.Error("not every name server was asked")
	}
}

// TestStatusChangedLog: a check that changes statuses logs a line for each
// check that changed, with the old and new status and the detail; a check
// that changes nothing logs nothing at Info.
func TestStatusChangedLog(t *testing.T) {
	w := newWorld(t)
	var buf bytes.Buffer
	w.v.Log = slog.New(slog.NewTextHandler(&buf, nil))
	id := w.dkimDomain(us, "example.test")
	w.add(txt(id))
	for _, rr := range dkimRRs(id) {
		w.add(rr)
	}
	w.check(id.Key)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	// dkim, then verification, whatever their times (the line starts with one)
	slices.SortFunc(lines, func(a, b string) int {
		return strings.Compare(a[strings.Index(a, "msg="):], b[strings.Index(b, "msg="):])
	})
	prefix := `msg="status changed" account=` + id.Account + ` region=` + id.Region + ` identity=example.test`
	want := []string{
		prefix + ` check=dkim from=Pending to=Success detail="All 3 DKIM CNAME records found."`,
		prefix + ` check=verification from=Pending to=Success detail="_amazonses.example.test. TXT`,
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines logged, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i, l := range lines {
		if !strings.Contains(l, want[i]) {
			t.Errorf("log line lacks %s:\n%s", want[i], l)
		}
	}

	buf.Reset()
	w.clock.Advance(DefaultRecheck)
	w.check(id.Key)
	if buf.Len() > 0 {
		t.Errorf("a recheck that changed nothing logged:\n%s", buf.String())
	}
}

var ignoreDetail = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Detail" }, cmp.Ignore())

func TestDKIM(t *testing.T) {
	w := newWorld(t)
	id := w.dkimDomain(us, "example.test")
	rrs := dkimRRs(id)
	w.add(rrs[0])
	w.add(rrs[1])
	got := w.check(id.Key).DKIM.Check
	if got.Status != identity.Pending || got.ErrorType != identity.HostNotFound || !has(got.Detail, "2 of 3") {
		t.Errorf("two of three CNAMEs: %s %s %q, want Pending, HOST_NOT_FOUND, 2 of 3", got.Status, got.ErrorType, got.Detail)
	}
	// A CNAME to the wrong target is a wrong value.
	w.add(strings.Replace(rrs[2], "dkim.amazonses.com", "dkim.example.net", 1))
	w.clock.Advance(5 * time.Second)
	if got := w.check(id.Key).DKIM.Check; got.Status != identity.Pending || got.ErrorType != identity.InvalidValue {
		t.Errorf("third CNAME elsewhere: %s %s %q", got.Status, got.ErrorType, got.Detail)
	}
	w.remove(strings.Replace(rrs[2], "dkim.amazonses.com", "dkim.example.net", 1))
	w.add(rrs[2])
	w.clock.Advance(5 * time.Second)
	id2 := w.check(id.Key)
	if got := id2.DKIM.Check; got.Status != identity.Success || !has(got.Detail, "All 3") {
		t.Errorf("three CNAMEs: %s %q", got.Status, got.Detail)
	}
	// DKIM alone verifies the domain for sending, as in SES.
	if id2.Verification.Status != identity.Pending || !id2.VerifiedForSending() {
		t.Errorf("TXT %s, verified for sending %v; want Pending and true", id2.Verification.Status, id2.VerifiedForSending())
	}
}

func TestDKIMDelegatedSubzone(t *testing.T) {
	w := newWorld(t)
	id := w.dkimDomain(us, "example.test")
	// _domainkey.example.test is a zone of its own, on ns2 only.
	sub := "@ SOA ns2.example.test. hostmaster.example.test. 3 7200 3600 1209600 60\n@ NS ns2.example.test.\n"
	for _, rr := range dkimRRs(id) {
		sub += rr + "\n"
	}
	w.serve(soa("1")+"_domainkey NS ns2\n", soa("1")+"_domainkey NS ns2\n")
	w.ns2.SetZone("_domainkey.example.test.", sub)
	w.resolver.SetZone("_domainkey.example.test.", "@ SOA ns2.example.test. hostmaster.example.test. 3 7200 3600 1209600 60\n@ NS ns2.example.test.\n")
	got := w.check(id.Key).DKIM.Check
	if got.Status != identity.Success {
		t.Errorf("DKIM in a delegated zone: %s %q", got.Status, got.Detail)
	}
	if got.SOA == nil || got.SOA.SerialNumber != 3 {
		t.Errorf("SOA %+v, want the delegated zone's", got.SOA)
	}
}

func TestMailFrom(t *testing.T) {
	const mx = "mail.example.test. MX 10 feedback-smtp.us-east-1.amazonses.com."
	const spf = `mail.example.test. TXT "v=spf1 include:amazonses.com ~all"`
	ctx := context.Background()
	w := newWorld(t)
	id := w.domain(us, "example.test")
	if _, err := w.reg.SetMailFrom(ctx, us, id.Name, "mail.example.test", "RejectMessage"); err != nil {
		t.Fatal(err)
	}
	w.add(txt(id))
	w.add(strings.Replace(mx, "us-east-1", "eu-west-1", 1))

	got := w.check(id.Key).MailFrom
	if got.Check.Status != identity.Pending || got.Check.ErrorType != identity.InvalidValue || !has(got.Check.Detail, "feedback-smtp.us-east-1") {
		t.Errorf("MX of another region: %s %s %q", got.Check.Status, got.Check.ErrorType, got.Check.Detail)
	}
	if !has(got.Check.Detail, "SPF: ") {
		t.Errorf("MAIL FROM detail %q does not report SPF", got.Check.Detail)
	}

	w.remove(strings.Replace(mx, "us-east-1", "eu-west-1", 1))
	w.add(mx)
	w.add(spf)
	w.clock.Advance(5 * time.Second)
	got = w.check(id.Key).MailFrom
	if got.Check.Status != identity.Success || got.Behavior != identity.RejectMessage {
		t.Errorf("MX published: %s, behaviour %s; want Success, RejectMessage kept", got.Check.Status, got.Behavior)
	}
	spfSeen := map[string]int{}
	for _, r := range w.checks(id.Key) {
		if r.Check == "spf" && r.At.Equal(w.clock.Now()) {
			spfSeen[r.Outcome]++
		}
	}
	if spfSeen["match"] != 2 {
		t.Errorf("SPF evidence %v, want a match on both servers", spfSeen)
	}

	// A verified MAIL FROM fails at once when its MX changes region or
	// goes, unlike the TXT and DKIM records' 72-hour grace.
	for _, tc := range []struct{ name, change string }{
		{name: "wrong region", change: strings.Replace(mx, "us-east-1", "eu-west-1", 1)},
		{name: "removed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := w.reg.SetMailFrom(ctx, us, id.Name, "mail.example.test", "RejectMessage"); err != nil {
				t.Fatal(err)
			}
			w.add(mx)
			w.clock.Advance(time.Minute)
			if got := w.check(id.Key).MailFrom.Check; got.Status != identity.Success {
				t.Fatalf("restored: %s %q", got.Status, got.Detail)
			}
			w.remove(mx)
			if tc.change != "" {
				w.add(tc.change)
				defer w.remove(tc.change)
			}
			w.clock.Advance(time.Hour)
			got := w.check(id.Key)
			if got.MailFrom.Check.Status != identity.Failed || got.MailFrom.Behavior != identity.RejectMessage {
				t.Errorf("MX %s: %s, behaviour %s; want Failed at once", tc.name, got.MailFrom.Check.Status, got.MailFrom.Behavior)
			}
			if got.Verification.Status != identity.Success {
				t.Errorf("the TXT record is still there, yet verification is %s", got.Verification.Status)
			}
		})
	}
}

// TestMailFromTwoRegions is one account in two regions sharing one MAIL
// FROM domain, with one MX record per region. SES requires the MAIL FROM
// MX to be the only one, so neither region's MAIL FROM domain verifies:
// each region needs a MAIL FROM domain of its own (records.MatchMX), as
// the doctor and plan say too.
func TestMailFromTwoRegions(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	eu := scope("111111111111", "eu-west-1")
	a, b := w.domain(us, "example.test"), w.domain(eu, "example.test")
	for _, sc := range []registry.Scope{us, eu} {
		if _, err := w.reg.SetMailFrom(ctx, sc, "example.test", "bounce.example.test", ""); err != nil {
			t.Fatal(err)
		}
	}
	w.add(`_amazonses.example.test. TXT "` + a.Token + `"`)
	w.add(`_amazonses.example.test. TXT "` + b.Token + `"`)
	w.add("bounce.example.test. MX 10 feedback-smtp.us-east-1.amazonses.com.")
	w.add("bounce.example.test. MX 10 feedback-smtp.eu-west-1.amazonses.com.")
	w.add(`bounce.example.test. TXT "v=spf1 include:amazonses.com ~all"`)
	for _, id := range []*identity.Identity{a, b} {
		got := w.check(id.Key)
		mf := got.MailFrom.Check
		if got.Verification.Status != identity.Success || mf.Status != identity.Pending || mf.ErrorType != identity.InvalidValue || !has(mf.Detail, "the only one") {
			t.Errorf("%s: verification %s, MAIL FROM %s %s %q", id.Region, got.Verification.Status, mf.Status, mf.ErrorType, mf.Detail)
		}
	}
}

// TestWithin holds within to dns.IsSubDomain.
func TestWithin(t *testing.T) {
	for _, c := range []struct{ name, zone string }{
		{"example.test.", "example.test."},
		{"_amazonses.example.test.", "example.test."},
		{"_AmazonSES.Example.Test.", "example.TEST."},
		{"xexample.test.", "example.test."},
		{"example.test.", "_amazonses.example.test."},
		{"a.b.example.test.", "b.example.test."},
		{"example.test.", "."},
		{"x\\.example.test.", "example.test."},
		{"a.x\\.example.test.", "x\\.example.test."},
		{"test.", "example.test."},
	} {
		if got, want := within(c.name, c.zone), dns.IsSubDomain(c.zone, c.name); got != want {
			t.Errorf("within(%q, %q) = %v, dns.IsSubDomain says %v", c.name, c.zone, got, want)
		}
	}
}

func FuzzWithin(f *testing.F) {
	f.Add("_amazonses.example.test.", "example.test.")
	f.Add("xexample.test.", "example.test.")
	f.Fuzz(func(t *testing.T, name, zone string) {
		if _, ok := dns.IsDomainName(name); !ok {
			return
		}
		if _, ok := dns.IsDomainName(zone); !ok {
			return
		}
		name, zone = dns.Fqdn(name), dns.Fqdn(zone)
		if got, want := within(name, zone), dns.IsSubDomain(zone, name); got != want {
			t.Errorf("within(%q, %q) = %v, dns.IsSubDomain says %v", name, zone, got, want)
		}
	})
}
