package doctor

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/emersion/go-msgauth/dmarc"
	"github.com/miekg/dns"
	"golang.org/x/net/publicsuffix"

	"github.com/sesame/sesame/internal/records"
)

// dmarcPart matches a value that is the rest of a DMARC record split off
// into a TXT record of its own.
var dmarcPart = regexp.MustCompile(`(?i)^\s*(p|sp|rua|ruf|adkim|aspf|pct|fo|rf|ri)\s*=`)

// orgDomain is the organisational domain (RFC 7489 §3.2), whose DMARC
// record applies to subdomains that have none.
func (r *run) orgDomain() string {
	org, err := publicsuffix.EffectiveTLDPlusOne(r.domain)
	if err != nil {
		return r.domain
	}
	return org
}

func dmarcName(domain string) string { return records.DMARCName(domain) }

// dmarcProbes returns the organisational domain's record when the
// domain's own servers have none.
func (r *run) dmarcProbes() []qkey {
	org := r.orgDomain()
	if org == r.domain {
		return nil
	}
	for _, resp := range r.get(key(dmarcName(r.domain), dns.TypeTXT)).known() {
		if len(records.DMARCRecords(txtValues(resp))) == 0 {
			return []qkey{key(dmarcName(org), dns.TypeTXT)}
		}
	}
	return nil
}

func (r *run) dmarcChecks() {
	r.check(r.zoneOf(key(dmarcName(r.domain), dns.TypeTXT)), r.dmarcCheck)
}

func (r *run) dmarcCheck(v view) ([]*Finding, bool) {
	name := dmarcName(r.domain)
	resp := v.resp(name, dns.TypeTXT)
	if resp == nil || resp.Outcome.Temporary() {
		return nil, false
	}
	vals := txtValues(resp)
	recs := records.DMARCRecords(vals)
	ev := resp.Evidence
	rec := Record{Name: name, Type: "TXT", Found: vals}
	f := func(c Code, format string, args ...any) *Finding {
		return &Finding{Code: c, Summary: fmt.Sprintf(format, args...), Records: []Record{rec}, Evidence: ev}
	}
	var fs []*Finding
	for _, val := range vals {
		if len(recs) == 1 && dmarcPart.MatchString(val) {
			fs = append(fs, f(TXTSplitWrongly, "the DMARC record of %s is split into several TXT records; readers see only the first", r.domain))
			break
		}
	}
	inherited := ""
	switch {
	case len(recs) > 1:
		return append(fs, f(DMARCMultiple, "%s has %d DMARC records", name, len(recs))), true
	case len(recs) == 0:
		for _, val := range vals {
			if strings.Contains(strings.ToUpper(val), "DMARC1") {
				return append(fs, f(DMARCInvalid, "a TXT record of %s mentions DMARC1 but does not start with v=DMARC1: %q", name, val)), true
			}
		}
		org := r.orgDomain()
		if org == r.domain {
			return append(fs, f(DMARCMissing, "%s has no DMARC record", name)), true
		}
		oresp := v.resp(dmarcName(org), dns.TypeTXT)
		if oresp == nil || oresp.Outcome.Temporary() {
			return fs, true // the organisational domain's servers are reported
		}
		recs = records.DMARCRecords(txtValues(oresp))
		rec = Record{Name: dmarcName(org), Type: "TXT", Found: txtValues(oresp)}
		ev = append(ev, oresp.Evidence...)
		if len(recs) != 1 {
			return append(fs, f(DMARCMissing, "neither %s nor %s has one DMARC record", name, dmarcName(org))), true
		}
		inherited = org
	}
	d, err := dmarc.Parse(strings.TrimSpace(recs[0]))
	if err != nil {
		return append(fs, f(DMARCInvalid, "the DMARC record of %s does not parse: %v", bare(strings.TrimPrefix(rec.Name, "_dmarc.")), err)), true
	}
	policy := d.Policy
	if inherited != "" {
		if d.SubdomainPolicy != "" {
			policy = d.SubdomainPolicy
		}
		fs = append(fs, f(DMARCOK, "%s inherits the DMARC policy %s of %s", r.domain, policy, inherited))
	} else {
		fs = append(fs, f(DMARCOK, "%s has the DMARC policy %s", r.domain, policy))
	}
	if policy == dmarc.PolicyNone {
		fs = append(fs, f(DMARCPolicyNone, "the DMARC policy of %s is none", r.domain))
	}
	if d.SPFAlignment == dmarc.AlignmentStrict && r.anyMailFrom() {
		fs = append(fs, f(DMARCStrictSPF, "the DMARC record asks for strict SPF alignment (aspf=s)"))
	}
	if policy == dmarc.PolicyQuarantine || policy == dmarc.PolicyReject {
		for _, in := range r.expect {
			if in.FromSES && !in.Missing && (len(in.DKIMTokens) == 0 || in.Status != nil && !in.Status.DKIMEnabled) && in.MailFrom == "" {
				fd := f(DMARCNotAligned, "the DMARC policy of %s is %s, and %s signs with no DKIM and has no MAIL FROM domain", r.domain, policy, in.Label)
				fd.Instance = in.Label
				fs = append(fs, fd)
			}
		}
	}
	return fs, true
}

func (r *run) anyMailFrom() bool {
	for _, in := range r.expect {
		if in.MailFrom != "" {
			return true
		}
	}
	return false
}
