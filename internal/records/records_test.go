package records

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame/sesame/internal/config"
)

const token = "pmBGN/7MjnfhTKUZ06Enqq1PeGUaOkw8lGhcfwefcHU="

func expect() Expect {
	return ExpectOf("Example.COM.", Instance{Region: "us-east-1", Token: token,
		DKIMTokens: []string{"aaaa", "bbbb", "cccc"}, MailFrom: "mail.example.com"}, config.SES())
}

func TestExpectNames(t *testing.T) {
	e := expect()
	got := []string{e.VerificationName(), e.DKIMName("AAAA"), e.DKIMTarget("aaaa"), e.MXValue(), e.SPFValue()}
	want := []string{"_amazonses.example.com", "aaaa._domainkey.example.com", "aaaa.dkim.amazonses.com",
		"10 feedback-smtp.us-east-1.amazonses.com", "v=spf1 include:amazonses.com ~all"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
}

func TestDKIMTokenOf(t *testing.T) {
	e := expect()
	for name, want := range map[string]string{"aaaa._domainkey.example.com.": "aaaa", "AAAA._domainkey.Example.com": "aaaa", "x.aaaa._domainkey.example.com": "", "_domainkey.example.com": "", "aaaa._domainkey.example.net": ""} {
		if got, ok := e.DKIMTokenOf(name); got != want && ok || ok != (want != "") {
			t.Errorf("DKIMTokenOf(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
}

func TestMatchToken(t *testing.T) {
	e := expect()
	for _, c := range []struct {
		name  string
		vals  []string
		kind  Kind
		fault Fault
	}{
		{name: "exact", vals: []string{token}, kind: Found},
		{name: "prefix", vals: []string{"amazonses:" + token}, kind: Found},
		// SES is silent on the prefix's case; Sesame accepts any case
		// (the verifier, the doctor, plan and the console alike).
		{name: "prefix upper case", vals: []string{"AMAZONSES:" + token}, kind: Found},
		{name: "among others", vals: []string{"other=", token}, kind: Found},
		{name: "lowercased", vals: []string{strings.ToLower(token)}, kind: Wrong, fault: FaultCase},
		{name: "prefix and lowercased", vals: []string{"amazonses:" + strings.ToLower(token)}, kind: Wrong, fault: FaultCase},
		{name: "quoted", vals: []string{`"` + token + `"`}, kind: Wrong, fault: FaultMangled},
		{name: "case beats mangled", vals: []string{`"` + token + `"`, strings.ToLower(token)}, kind: Wrong, fault: FaultCase},
		{name: "other token", vals: []string{"Zz" + token[2:]}, kind: Wrong, fault: FaultNotToken},
		{name: "none", vals: nil, kind: Absent},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := e.MatchToken(c.vals)
			if v.Kind != c.kind || v.Fault() != c.fault {
				t.Errorf("MatchToken(%q) = %s %q, want %s %q", c.vals, v.Kind, v.Fault(), c.kind, c.fault)
			}
		})
	}
}

func TestMatchDKIM(t *testing.T) {
	e := expect()
	for _, c := range []struct {
		name    string
		targets []string
		kind    Kind
		fault   Fault
	}{
		{name: "right", targets: []string{"aaaa.dkim.amazonses.com."}, kind: Found},
		{name: "case", targets: []string{"AAAA.DKIM.amazonses.com"}, kind: Found},
		{name: "appended", targets: []string{"aaaa.dkim.amazonses.com.example.com."}, kind: Wrong, fault: FaultTargetAppended},
		{name: "swapped", targets: []string{"bbbb.dkim.amazonses.com."}, kind: Wrong, fault: FaultTargetSwapped},
		{name: "elsewhere", targets: []string{"aaaa.dkim.example.net."}, kind: Wrong, fault: FaultTarget},
		{name: "none", kind: Absent},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := e.MatchDKIM("aaaa", c.targets)
			if v.Kind != c.kind || v.Fault() != c.fault {
				t.Errorf("MatchDKIM(%q) = %s %q, want %s %q", c.targets, v.Kind, v.Fault(), c.kind, c.fault)
			}
		})
	}
}

func TestMatchMX(t *testing.T) {
	e := expect()
	ours := MX{10, "feedback-smtp.us-east-1.amazonses.com."}
	eu := MX{10, "feedback-smtp.eu-west-1.amazonses.com."}
	for _, c := range []struct {
		name   string
		mxs    []MX
		kind   Kind
		fault  Fault
		region string
	}{
		{name: "ours", mxs: []MX{ours}, kind: Found},
		{name: "ours twice is one record", mxs: []MX{ours, ours}, kind: Found},
		{name: "other preference", mxs: []MX{{20, "FEEDBACK-SMTP.us-east-1.amazonses.com"}}, kind: Found},
		// SES: the MX must be the only one, another region's included.
		{name: "two regions", mxs: []MX{ours, eu}, kind: Wrong, fault: FaultNotOnlyMX},
		{name: "beside a mail host", mxs: []MX{ours, {20, "mx.example.net."}}, kind: Wrong, fault: FaultNotOnlyMX},
		{name: "other region", mxs: []MX{eu}, kind: Wrong, fault: FaultRegion, region: "eu-west-1"},
		{name: "appended", mxs: []MX{{10, "feedback-smtp.us-east-1.amazonses.com.example.com."}}, kind: Wrong, fault: FaultHostAppended},
		{name: "null", mxs: []MX{{0, "."}}, kind: Wrong, fault: FaultNullMX},
		{name: "other host", mxs: []MX{{10, "mx.example.net."}}, kind: Wrong, fault: FaultHost},
		{name: "none", kind: Absent},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := e.MatchMX(c.mxs)
			if v.Kind != c.kind || v.Fault() != c.fault || v.Region != c.region {
				t.Errorf("MatchMX(%v) = %s %q %q, want %s %q %q", c.mxs, v.Kind, v.Fault(), v.Region, c.kind, c.fault, c.region)
			}
		})
	}
}

// zone is an SPF lookup over a map of names to TXT values, with names
// that fail; a name absent from both does not exist.
type zone struct {
	txt    map[string][]string
	hosts  map[string]bool // names with addresses or MX
	failed map[string]bool
	asked  []string
}

func (z *zone) SPFTXT(_ context.Context, name string) ([]string, bool, error) {
	z.asked = append(z.asked, name)
	if z.failed[name] {
		return nil, false, errors.New("timed out")
	}
	v, ok := z.txt[name]
	return v, ok, nil
}

func (z *zone) SPFHas(_ context.Context, name, _ string) (bool, error) {
	z.asked = append(z.asked, name)
	if z.failed[name] {
		return false, errors.New("timed out")
	}
	return z.hosts[name], nil
}

func TestAnalyseSPF(t *testing.T) {
	z := &zone{
		txt: map[string][]string{
			"redirect.example.com": {"v=spf1 redirect=amazonses.com"},
			"nested.example.com":   {"v=spf1 include:amazonses.com -all"},
			"four.example.com":     {"v=spf1 a:a.example.com mx:a.example.com exists:a.example.com ptr -all"},
			"five.example.com":     {"v=spf1 include:four.example.com a:a.example.com -all"},
			"nospf.example.com":    {"some text"},
			"loop.example.com":     {"v=spf1 include:loop.example.com -all"},
			"back.example.com":     {"v=spf1 include:mail.example.com -all"},
			"mail.example.com":     {"v=spf1 include:back.example.com include:amazonses.com ~all"},
		},
		hosts:  map[string]bool{"a.example.com": true, "mail.example.com": true},
		failed: map[string]bool{"down.example.com": true},
	}
	for _, c := range []struct {
		name       string
		record     string
		authorises bool
		lookups    int
		faults     []Fault
	}{
		{name: "ses", record: "v=spf1 include:amazonses.com ~all", authorises: true, lookups: 1},
		{name: "redirect", record: "v=spf1 redirect=amazonses.com", authorises: true, lookups: 1},
		{name: "redirect ignored after all", record: "v=spf1 -all redirect=amazonses.com", lookups: 0},
		{name: "nested redirect", record: "v=spf1 include:redirect.example.com ~all", authorises: true, lookups: 2},
		{name: "nested include", record: "v=spf1 include:nested.example.com ~all", authorises: true, lookups: 2},
		{name: "failing include", record: "v=spf1 -include:amazonses.com ~all", lookups: 1},
		{name: "after all", record: "v=spf1 ~all include:amazonses.com", lookups: 0},
		{name: "none", record: "v=spf1 ip4:192.0.2.0/24 -all", faults: []Fault{FaultPassAll}},
		{name: "pass all", record: "v=spf1 include:amazonses.com +all", authorises: true, lookups: 1, faults: []Fault{FaultPassAll}},
		{name: "syntax, every fault", record: "v=spf1 foo include:amazonses.com bar ~all", authorises: true, lookups: 1, faults: []Fault{FaultSyntax, FaultSyntax}},
		{name: "broken include", record: "v=spf1 include:nospf.example.com include:missing.example.com ~all", lookups: 2, faults: []Fault{FaultBrokenInclude, FaultBrokenInclude}},
		{name: "lookup failed", record: "v=spf1 include:down.example.com include:amazonses.com ~all", authorises: true, lookups: 2, faults: []Fault{FaultLookupFailed}},
		// A loop is a permanent error for a receiver, who follows it to the
		// limit.
		{name: "loop", record: "v=spf1 include:loop.example.com ~all", lookups: 2, faults: []Fault{FaultTooManyLookups}},
		{name: "loop through the record itself", record: "v=spf1 include:back.example.com include:amazonses.com ~all", authorises: true, lookups: 3, faults: []Fault{FaultTooManyLookups}},
		{name: "bad ip4", record: "v=spf1 ip4:999.1.1.1 ip4:1.2.3.4/33 ip6:1.2.3.4 include:amazonses.com ~all", authorises: true, lookups: 1, faults: []Fault{FaultSyntax, FaultSyntax, FaultSyntax}},
		{name: "pass-all over IPv6", record: "v=spf1 include:amazonses.com ip6:::/0 ~all", authorises: true, lookups: 1, faults: []Fault{FaultPassAll}},
		{name: "two redirects", record: "v=spf1 redirect=amazonses.com redirect=amazonses.com", authorises: true, lookups: 1, faults: []Fault{FaultSyntax}},
		{name: "same include twice counts twice", record: "v=spf1 include:four.example.com include:four.example.com ~all", lookups: 10},
		// The count covers the whole record: the 11th lookup comes after
		// an ip4 that a probe address could have matched first.
		{name: "eleven lookups", record: "v=spf1 ip4:198.51.100.1 include:five.example.com include:four.example.com include:amazonses.com ~all",
			authorises: true, lookups: 13, faults: []Fault{FaultTooManyLookups}},
		{name: "void lookups", record: "v=spf1 a:x.example.com mx:y.example.com exists:z.example.com include:amazonses.com ~all",
			authorises: true, lookups: 4, faults: []Fault{FaultTooManyVoid}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep := AnalyseSPF(context.Background(), "mail.example.com", c.record, "amazonses.com", z)
			var faults []Fault
			for _, p := range rep.Problems {
				faults = append(faults, p.Fault)
			}
			if rep.Authorises != c.authorises || rep.Lookups != c.lookups || !cmp.Equal(faults, c.faults) {
				t.Errorf("AnalyseSPF(%q) = authorises %v, %d lookups, %v; want %v, %d, %v (%+v)",
					c.record, rep.Authorises, rep.Lookups, faults, c.authorises, c.lookups, c.faults, rep.Problems)
			}
		})
	}
}

func TestMatchSPF(t *testing.T) {
	e := expect()
	z := &zone{failed: map[string]bool{"down.example.com": true}}
	for _, c := range []struct {
		name string
		vals []string
		kind Kind
	}{
		{name: "ses", vals: []string{"v=spf1 include:amazonses.com ~all"}, kind: Found},
		{name: "redirect", vals: []string{"v=spf1 redirect=amazonses.com"}, kind: Found},
		{name: "pass all still authorises", vals: []string{"v=spf1 include:amazonses.com +all"}, kind: Found},
		{name: "not ses", vals: []string{"v=spf1 -all"}, kind: Wrong},
		{name: "two", vals: []string{"v=spf1 include:amazonses.com ~all", "v=spf1 -all"}, kind: Wrong},
		{name: "none", vals: []string{"hello"}, kind: Absent},
		{name: "temporary", vals: []string{"v=spf1 include:down.example.com include:amazonses.com ~all"}, kind: TempFail},
	} {
		t.Run(c.name, func(t *testing.T) {
			if v, _ := e.MatchSPF(context.Background(), c.vals, z); v.Kind != c.kind {
				t.Errorf("MatchSPF(%q) = %s %+v, want %s", c.vals, v.Kind, v.Problems, c.kind)
			}
		})
	}
}

// FuzzAnalyseSPF judges any record against a zone where every name holds
// the same record: no input may panic or loop, and the count is bounded.
func FuzzAnalyseSPF(f *testing.F) {
	for _, s := range []string{"v=spf1 include:amazonses.com ~all", "v=spf1 redirect=x.example.com", "v=spf1 a/24 mx:%{d} ip4:1.2.3.4/0 ip6:::/0 -all", "v=spf1 include:. exists:%{i}.x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rec string) {
		z := &zone{txt: map[string][]string{}}
		for _, name := range []string{"x.example.com", "mail.example.com", "."} {
			z.txt[name] = []string{rec}
		}
		rep := AnalyseSPF(context.Background(), "mail.example.com", rec, "amazonses.com", z)
		if len(z.asked) > 2*maxSPFFetches+len(strings.Fields(rec))*maxSPFFetches {
			t.Errorf("%d lookups asked for %q", len(z.asked), rec)
		}
		_ = rep
	})
}

// BenchmarkMatchSPF is the verifier's SPF judgement of SES's own record,
// once per server per check.
func BenchmarkMatchSPF(b *testing.B) {
	e := expect()
	vals := []string{"v=spf1 include:amazonses.com ~all"}
	b.ReportAllocs()
	for b.Loop() {
		e.MatchSPF(context.Background(), vals, nil)
	}
}

func BenchmarkMatchToken(b *testing.B) {
	e := expect()
	vals := []string{"other=", token}
	b.ReportAllocs()
	for b.Loop() {
		e.MatchToken(vals)
	}
}
