package doctor

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
	"sync"

	"blitiri.com.ar/go/spf"
	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/records"
)

// probeIP is the address SPF records are evaluated for: TEST-NET-1
// (RFC 5737), from which nobody sends. Evaluation then runs through every
// mechanism, so the lookup limits are tested, and a Pass means the record
// authorises anyone.
var probeIP = net.ParseIP("192.0.2.1")

type spfKey struct{ domain, record string }

type spfResult struct {
	result spf.Result
	err    error
}

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

// evalSPF evaluates, with the library, each distinct SPF record the
// servers returned for each target.
func (r *run) evalSPF() {
	r.spf = map[spfKey]spfResult{}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, t := range r.spfTargets() {
		a := r.get(key(t.name, dns.TypeTXT))
		seen := map[string]bool{}
		for _, resp := range a.known() {
			recs := spfRecords(txtValues(resp))
			if len(recs) != 1 || seen[recs[0]] {
				continue
			}
			rec := recs[0]
			seen[rec] = true
			wg.Go(func() {
				res := &spfResolver{d: r.d, domain: dns.CanonicalName(t.name), record: rec}
				result, err := spf.CheckHostWithSender(probeIP, t.name, "postmaster@"+t.name,
					spf.WithResolver(res), spf.WithContext(r.ctx))
				mu.Lock()
				r.spf[spfKey{t.name, rec}] = spfResult{result, err}
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
	recs := spfRecords(vals)
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
	if t.required && split == "" && !includes(recs[0], r.dns.SPFInclude) {
		rec.Expected = withInclude(recs[0], r.dns.SPFInclude)
		fs = append(fs, f(SPFMissingInclude, "the SPF record of %s does not include %s", t.name, r.dns.SPFInclude))
		ok = false
	}
	res, evaluated := r.spf[spfKey{t.name, recs[0]}]
	switch {
	case !evaluated:
	case errors.Is(res.err, spf.ErrLookupLimitReached):
		fs, ok = append(fs, f(SPFTooManyLookups, "the SPF record of %s needs more than 10 DNS lookups", t.name)), false
	case errors.Is(res.err, spf.ErrVoidLookupLimitReached):
		fs, ok = append(fs, f(SPFTooManyLookups, "the SPF record of %s makes more than 2 lookups that find nothing", t.name)), false
	case res.result == spf.PermError && split == "":
		fs, ok = append(fs, f(SPFInvalid, "the SPF record of %s is a permanent error: %v%s", t.name, res.err, badTerm(recs[0]))), false
	case res.result == spf.TempError:
		fs, ok = append(fs, f(SPFLookupFailed, "evaluating the SPF record of %s failed: %v", t.name, res.err)), false
	case res.result == spf.Pass:
		fs, ok = append(fs, f(SPFPassAll, "the SPF record of %s passes any sender", t.name)), false
	}
	if ok && len(fs) == 0 {
		fs = append(fs, f(SPFOK, "%s has a valid SPF record", t.name))
	}
	return fs, true
}

// spfRecords returns the values that are SPF records (RFC 7208 §4.5): the
// version, in any case, alone or followed by a space.
func spfRecords(vals []string) []string {
	var out []string
	for _, v := range vals {
		l := strings.ToLower(v)
		if l == "v=spf1" || strings.HasPrefix(l, "v=spf1 ") {
			out = append(out, v)
		}
	}
	return out
}

// includes reports whether rec authorises include's hosts: by a passing
// include or a redirect.
func includes(rec, include string) bool {
	for _, term := range strings.Fields(strings.ToLower(rec)) {
		term = strings.TrimPrefix(term, "+")
		if term == "include:"+include || term == "redirect="+include {
			return true
		}
	}
	return false
}

// withInclude returns rec with include:<include> added before its final
// all, where it takes effect.
func withInclude(rec, include string) string {
	terms := strings.Fields(rec)
	at := len(terms)
	for i, t := range terms {
		if strings.TrimLeft(strings.ToLower(t), "+-~?") == "all" {
			at = i
			break
		}
	}
	return strings.Join(slices.Insert(terms, at, "include:"+include), " ")
}

// spfTerm matches one well-formed SPF term (RFC 7208 §12): a mechanism
// with an optional qualifier, or a modifier. Domains must end in a label
// of letters, digits and hyphens, or in a macro.
var spfTerm = regexp.MustCompile(`(?i)^(v=spf1|[+?~-]?(all|ip4:[0-9./]+|ip6:[0-9a-f:./]+|(a|mx)(:` + spfDomain + `)?(/\d+)?(//\d+)?|ptr(:` + spfDomain + `)?|(include|exists):` + spfDomain + `)|[a-z][a-z0-9._-]*=\S*)$`)

const spfDomain = `[^\s/]*(\.[a-z0-9-]*[a-z][a-z0-9-]*\.?|%\{[^}]*\}|%[%_-])`

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
		strs := txtStrings(t)
		if len(spfRecords([]string{strings.Join(strs, "")})) == 0 {
			continue
		}
		for i := 1; i < len(strs); i++ {
			left, right := strs[i-1], strs[i]
			if left == "" || right == "" || strings.HasSuffix(left, " ") || strings.HasPrefix(right, " ") {
				continue
			}
			lt, rt := lastField(left), firstField(right)
			if spfTerm.MatchString(lt) && spfTerm.MatchString(rt) && !spfTerm.MatchString(lt+rt) {
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
		if !spfTerm.MatchString(t) {
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
