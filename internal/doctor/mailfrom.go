package doctor

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/records"
)

// mailFromProbes returns the MAIL FROM names with the domain appended,
// for those some server has no MX for.
func (r *run) mailFromProbes() []qkey {
	var qs []qkey
	for _, in := range r.expect {
		if in.MailFrom == "" || in.Missing {
			continue
		}
		for _, resp := range r.get(key(in.MailFrom, dns.TypeMX)).known() {
			if resp.Outcome != dnsclient.Answer {
				qs = append(qs, key(r.appended(in.MailFrom), dns.TypeMX))
				break
			}
		}
	}
	return qs
}

func (r *run) mailFromChecks() {
	for _, in := range r.expect {
		if in.MailFrom == "" || in.Missing {
			continue
		}
		r.check(r.zoneOf(key(in.MailFrom, dns.TypeMX)), func(v view) ([]*Finding, bool) { return r.mailFromCheck(v, in) })
	}
}

func (r *run) mailFromCheck(v view, in Instance) ([]*Finding, bool) {
	name := in.MailFrom
	resp := v.resp(name, dns.TypeMX)
	if resp == nil || resp.Outcome.Temporary() || resp.Outcome == dnsclient.Loop {
		return nil, false
	}
	e := r.expectOf(in)
	want := e.MXHost
	rec := Record{Name: name, Type: "MX", Expected: e.MXValue(), Found: mxStrings(resp)}
	f := func(c Code, recs []Record, ev []string, format string, args ...any) *Finding {
		return &Finding{Code: c, Instance: in.Label, Summary: fmt.Sprintf(format, args...), Records: recs, Evidence: ev}
	}
	var fs []*Finding
	if len(resp.CNAMEs) > 0 {
		fs = append(fs, f(MailFromCNAME, []Record{{Name: name, Type: "CNAME", Found: cnameTargets(resp)}}, resp.Evidence,
			"%s is a CNAME to %s", name, bare(resp.CNAMEs[0].Target)))
	}
	var mxs []records.MX
	for _, rr := range resp.Answer {
		if mx, ok := rr.(*dns.MX); ok {
			mxs = append(mxs, records.MX{Pref: mx.Preference, Host: mx.Mx})
		}
	}
	got := r.expectOf(in).MatchMX(mxs)
	switch got.Fault() {
	case "":
		if got.Kind == records.Found {
			fs = append(fs, f(MailFromOK, []Record{rec}, resp.Evidence, "%s MX points to %s", name, want))
			break
		}
		tw := v.resp(r.appended(name), dns.TypeMX)
		if tw != nil && tw.Outcome == dnsclient.Answer {
			fs = append(fs, f(MailFromAppended, []Record{rec, {Name: r.appended(name), Type: "MX", Found: mxStrings(tw)}},
				append(resp.Evidence, tw.Evidence...), "the MX record is at %s instead of %s", r.appended(name), name))
			break
		}
		what := "has no MX record"
		if resp.Outcome == dnsclient.NXDomain {
			what = "does not exist"
		}
		fs = append(fs, f(MailFromMissing, []Record{rec}, resp.Evidence, "%s %s", name, what))
	case records.FaultNotOnlyMX:
		fs = append(fs, f(MailFromMultiple, []Record{rec}, resp.Evidence, "%s has %d MX records", name, 1+len(got.Others)))
	case records.FaultRegion:
		fs = append(fs, f(MailFromWrongRegion, []Record{rec}, resp.Evidence, "%s MX points to %s (%s), not %s", name, got.Value, got.Region, in.Region))
	default:
		why := ""
		switch got.Fault() {
		case records.FaultHostAppended:
			why = ": the provider appended " + r.domain + " to the host"
		case records.FaultNullMX:
			why = ": a null MX, which refuses all mail"
		}
		fs = append(fs, f(MailFromWrongHost, []Record{rec}, resp.Evidence, "%s MX points to %s%s", name, got.Value, why))
	}
	return fs, true
}

func mxStrings(resp *dnsclient.Response) []string {
	var out []string
	for _, rr := range resp.Answer {
		if mx, ok := rr.(*dns.MX); ok {
			h := bare(mx.Mx)
			if h == "" {
				h = "."
			}
			out = append(out, fmt.Sprintf("%d %s", mx.Preference, strings.ToLower(h)))
		}
	}
	return out
}
