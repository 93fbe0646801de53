package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/records"
)

func TestSeverityJSON(t *testing.T) {
	for s := SeverityOK; s <= SeverityError; s++ {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back Severity
		if err := json.Unmarshal(b, &back); err != nil || back != s {
			t.Errorf("%s: round trip gave %v, %v", b, back, err)
		}
	}
	var s Severity
	if err := json.Unmarshal([]byte(`"fatal"`), &s); err == nil {
		t.Error(`"fatal" parsed as a severity`)
	}
}

// TestCatalogue checks that every code explains itself, that what needs
// fixing says how, and that fixes use only the placeholders fill knows.
func TestCatalogue(t *testing.T) {
	placeholder := regexp.MustCompile(`\{[a-z]+\}`)
	known := map[string]bool{"{name}": true, "{value}": true, "{domain}": true, "{region}": true}
	for _, c := range Codes() {
		sev, explain, fix := Explain(c)
		if explain == "" {
			t.Errorf("%s has no explanation", c)
		}
		if sev >= SeverityWarning && fix == "" {
			t.Errorf("%s is a %s without a fix", c, sev)
		}
		for _, p := range placeholder.FindAllString(explain+fix, -1) {
			if !known[p] {
				t.Errorf("%s uses unknown placeholder %s", c, p)
			}
		}
	}
}

func testReport() *Report {
	f := &Finding{Code: VerificationMissing, Instance: "ses1", Summary: "_amazonses.example.test does not exist",
		Records: []Record{{Name: "_amazonses.example.test", Type: "TXT", Expected: "tok="}}, Evidence: []string{"dig @127.0.0.1 -p 53 +norecurse _amazonses.example.test. TXT"}}
	f.fill("example.test", "us-east-1")
	ok := &Finding{Code: DMARCOK, Summary: "fine", Evidence: []string{"dig dmarc"}}
	ok.fill("example.test", "")
	return &Report{Name: "example.test", Kind: "domain", Domain: "example.test", Status: SeverityError,
		Counts: Counts{Error: 1, OK: 1}, Findings: []Finding{*f, *ok}}
}

func TestWriteText(t *testing.T) {
	tests := []struct {
		name      string
		opts      TextOptions
		want, not []string
	}{
		{name: "plain", want: []string{"error   verification-record-missing [ses1]", `want "tok="`, "fix: Publish _amazonses.example.test TXT \"tok=\"", "dig @127.0.0.1"},
			not: []string{"\x1b[", "dig dmarc"}},
		{name: "color", opts: TextOptions{Color: true}, want: []string{"\x1b[1;31merror  \x1b[0m", "\x1b[32mok     \x1b[0m"}},
		{name: "verbose", opts: TextOptions{Verbose: true}, want: []string{"dig dmarc"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := testReport().WriteText(&b, tc.opts); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("no %q in:\n%s", w, b.String())
				}
			}
			for _, n := range tc.not {
				if strings.Contains(b.String(), n) {
					t.Errorf("%q in:\n%s", n, b.String())
				}
			}
		})
	}
}

// FuzzSPFChecks runs the SPF record heuristics on any TXT strings: they
// must not panic, and a record of one string is never split wrongly.
func FuzzSPFChecks(f *testing.F) {
	f.Add("v=spf1 include:amazonses.com", "~all")
	f.Add("v=spf1 include:amazonses.com ~all", "")
	f.Add("v=spf1", "ip4:1.2.3.4")
	f.Fuzz(func(t *testing.T, a, b string) {
		one := &dns.TXT{Txt: []string{a + b}}
		two := &dns.TXT{Txt: []string{a, b}}
		vals := []string{a + b}
		_ = splitWrongly([]dns.RR{two}, records.SPFRecords(vals), vals)
		if !strings.ContainsAny(a+b, `\`) {
			if got := splitWrongly([]dns.RR{one}, records.SPFRecords(vals), vals); got != "" {
				t.Errorf("one string %q: %s", a+b, got)
			}
		}
		records.SPFWithInclude(a+b, "amazonses.com")
		records.AnalyseSPF(context.Background(), "example.com", a+b, "amazonses.com", nil)
	})
}
