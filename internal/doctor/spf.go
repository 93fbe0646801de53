package doctor

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/records"
)

type spfKey struct{ domain, record string }

// spfTarget is a name whose SPF record is checked: each MAIL FROM domain,
// which needs one that includes SES, and the domain itself, whose record
// (if any) must at least be valid.
type spfTarget struct {
	name     string
	required bool
}

func (r *run) spfTargets() []spfTarget {
	var ts []spfTarget
	for _, in := range r.expect {
		if in.MailFrom != "" && !in.Missing && !slices.ContainsFunc(ts, func(t spfTarget) bool { return t.name == in.MailFrom }) {
			ts = append(ts, spfTarget{name: in.MailFrom, required: true})
		}
	}
	if !slices.ContainsFunc(ts, func(t spfTarget) bool { return t.name == r.domain }) {
		ts = append(ts, spfTarget{name: r.domain})
	}
	return ts
}

// evalSPF judges (records.AnalyseSPF) each distinct SPF record the
// servers returned for each target.
func (r *run) evalSPF() {
	r.spf = map[spfKey]records.SPFReport{}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, t := range r.spfTargets() {
		a := r.get(key(t.name, dns.TypeTXT))
		seen := map[string]bool{}
		for _, resp := range a.known() {
			recs := records.SPFRecords(txtValues(resp))
			if len(recs) != 1 || seen[recs[0]] {
				continue
			}
			rec := recs[0]
			seen[rec] = true
			wg.Go(func() {
				rep := records.AnalyseSPF(r.ctx, t.name, rec, r.dns.SPFInclude, &spfResolver{d: r.d})
				mu.Lock()
				r.spf[spfKey{t.name, rec}] = rep
				mu.Unlock()
			})
		}
	}
	wg.Wait()
}

func (r *run) spfChecks() {
	for _, t := range r.spfTargets() {
		r.check(r.zoneOf(key(t.name, dns.TypeTXT)), func(v view) ([]*Finding, bool) {
			return r.spfCheck(v, t)
		})
	}
}

func (r *run) spfCheck(v view, t spfTarget) ([]*Finding, bool) {
	resp := v.resp(t.name, dns.TypeTXT)
	if resp == nil || resp.Outcome.Temporary() {
		return nil, false
	}
	vals := txtValues(resp)
	recs := records.SPFRecords(vals)
	want := ""
	if t.required {
		want = records.SPF(r.dns)
	}
	rec := Record{Name: t.name, Type: "TXT", Expected: want, Found: recs}
	f := func(c Code, format string, args ...any) *Finding {
		return &Finding{Code: c, Summary: fmt.Sprintf(format, args...), Records: []Record{rec}, Evidence: resp.Evidence}
	}
	var fs []*Finding
	split := splitWrongly(resp.Answer, recs, vals)
	if split != "" {
		rec.Found = vals
		fs = append(fs, f(TXTSplitWrongly, "the SPF record of %s %s", t.name, split))
	}
	switch {
	case len(recs) == 0:
		rec.Found = vals
		if inner := slices.IndexFunc(vals, func(s string) bool { return strings.Contains(strings.ToLower(s), "v=spf1") }); inner >= 0 {
			fs = append(fs, f(SPFInvalid, "a TXT record of %s contains v=spf1 but does not start with it: %q", t.name, vals[inner]))
		} else if t.required {
			fs = append(fs, f(SPFMissing, "%s has no SPF record", t.name))
		}
		return fs, true
	case len(recs) > 1:
		return append(fs, f(SPFMultiple, "%s has %d SPF records", t.name, len(recs))), true
	}
	ok := true
	rep, evaluated := r.spf[spfKey{t.name, recs[0]}]
	if t.required && split == "" && evaluated && !rep.Authorises {
		rec.Expected = records.SPFWithInclude(recs[0], r.dns.SPFInclude)
		fs = append(fs, f(SPFMissingInclude, "the SPF record of %s does not include %s", t.name, r.dns.SPFInclude))
		ok = false
	}
	// Every fault of the record, one finding per code.
	byCode := map[Code]*Finding{}
	add := func(c Code, format string, args ...any) {
		s := fmt.Sprintf(format, args...)
		if g := byCode[c]; g != nil {
			g.Summary += "; " + s
			return
		}
		g := f(c, "the SPF record of %s %s", t.name, s)
		byCode[c] = g
		fs = append(fs, g)
	}
	for _, p := range rep.Problems {
		switch p.Fault {
		case records.FaultTooManyLookups:
			add(SPFTooManyLookups, "needs %d DNS lookups, more than 10", rep.Lookups)
		case records.FaultTooManyVoid:
			add(SPFTooManyLookups, "makes %d lookups that find nothing, more than 2", rep.Void)
		case records.FaultSyntax, records.FaultBrokenInclude:
			if split == "" {
				add(SPFInvalid, "is a permanent error: %s", p.Detail)
			}
		case records.FaultLookupFailed:
			add(SPFLookupFailed, "could not be judged fully: %s", p.Detail)
		case records.FaultPassAll:
			add(SPFPassAll, "passes any sender (%s)", p.Detail)
		}
	}
	for _, g := range fs {
		if g.Code != TXTSplitWrongly {
			ok = false
		}
	}
	if ok && len(fs) == 0 {
		fs = append(fs, f(SPFOK, "%s has a valid SPF record", t.name))
	}
	return fs, true
}

// continuation matches a value that is the rest of an SPF record split off
// into a TXT record of its own.
var continuation = regexp.MustCompile(`(?i)^\s*[+?~-]?(all|ip4:|ip6:|a:|mx:|include:|exists:|redirect=)`)

// splitWrongly says how an SPF record was split wrongly, or "": into
// separate TXT records, or into strings whose join glues two terms.
func splitWrongly(answer []dns.RR, recs, vals []string) string {
	if len(recs) == 1 {
		n := 0
		for _, v := range vals {
			if continuation.MatchString(v) {
				n++
			}
		}
		if n > 0 {
			return fmt.Sprintf("is split into %d TXT records; readers see only the first", n+1)
		}
	}
	for _, rr := range answer {
		t, ok := rr.(*dns.TXT)
		if !ok || len(t.Txt) < 2 {
			continue
		}
		strs := dnsclient.TXTStrings(t)
		if len(records.SPFRecords([]string{strings.Join(strs, "")})) == 0 {
			continue
		}
		for i := 1; i < len(strs); i++ {
			left, right := strs[i-1], strs[i]
			if left == "" || right == "" || strings.HasSuffix(left, " ") || strings.HasPrefix(right, " ") {
				continue
			}
			lt, rt := lastField(left), firstField(right)
			if records.SPFTerm(lt) && records.SPFTerm(rt) && !records.SPFTerm(lt+rt) {
				return fmt.Sprintf("is split into strings that join as %q, without a space", lt+rt)
			}
		}
	}
	return ""
}

// badTerm names the first term of rec that is not SPF, to say where the
// library's error is.
func badTerm(rec string) string {
	for _, t := range strings.Fields(rec) {
		if !records.SPFTerm(t) {
			return fmt.Sprintf(" (%q)", t)
		}
	}
	return ""
}

func lastField(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}

func firstField(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}
