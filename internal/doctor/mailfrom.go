package doctor

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/dnsclient"
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
				qs = append(qs, key(in.MailFrom+"."+r.domain, dns.TypeMX))
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
	want := strings.ToLower(r.dns.MX(in.Region))
	hosts := mxHosts(resp)
	rec := Record{Name: name, Type: "MX", Expected: "10 " + want, Found: mxStrings(resp)}
	f := func(c Code, recs []Record, ev []string, format string, args ...any) *Finding {
		return &Finding{Code: c, Instance: in.Label, Summary: fmt.Sprintf(format, args...), Records: recs, Evidence: ev}
	}
	var fs []*Finding
	if len(resp.CNAMEs) > 0 {
		fs = append(fs, f(MailFromCNAME, []Record{{Name: name, Type: "CNAME", Found: cnameTargets(resp)}}, resp.Evidence,
			"%s is a CNAME to %s", name, bare(resp.CNAMEs[0].Target)))
	}
	switch {
	case len(hosts) > 1:
		fs = append(fs, f(MailFromMultiple, []Record{rec}, resp.Evidence, "%s has %d MX records", name, len(hosts)))
	case len(hosts) == 1 && hosts[0] == want:
		fs = append(fs, f(MailFromOK, []Record{rec}, resp.Evidence, "%s MX points to %s", name, want))
	case len(hosts) == 1:
		if reg := r.mxRegion(hosts[0]); reg != "" {
			fs = append(fs, f(MailFromWrongRegion, []Record{rec}, resp.Evidence, "%s MX points to %s (%s), not %s", name, hosts[0], reg, in.Region))
		} else {
			why := ""
			switch hosts[0] {
			case want + "." + r.domain:
				why = ": the provider appended " + r.domain + " to the host"
			case "", ".":
				why = ": a null MX, which refuses all mail"
			}
			fs = append(fs, f(MailFromWrongHost, []Record{rec}, resp.Evidence, "%s MX points to %s%s", name, cmpHost(hosts[0]), why))
		}
	default:
		tw := v.resp(name+"."+r.domain, dns.TypeMX)
		if tw != nil && tw.Outcome == dnsclient.Answer {
			fs = append(fs, f(MailFromAppended, []Record{rec, {Name: name + "." + r.domain, Type: "MX", Found: mxStrings(tw)}},
				append(resp.Evidence, tw.Evidence...), "the MX record is at %s instead of %s", name+"."+r.domain, name))
			break
		}
		what := "has no MX record"
		if resp.Outcome == dnsclient.NXDomain {
			what = "does not exist"
		}
		fs = append(fs, f(MailFromMissing, []Record{rec}, resp.Evidence, "%s %s", name, what))
	}
	return fs, true
}

// mxRegion returns the region of an SES feedback host of another region,
// found by matching the host against the MX template.
func (r *run) mxRegion(host string) string {
	pre, post, ok := strings.Cut(strings.ToLower(r.dns.MailFromMX), "{region}")
	if !ok || !strings.HasPrefix(host, pre) || !strings.HasSuffix(host, post) || len(host) <= len(pre)+len(post) {
		return ""
	}
	reg := host[len(pre) : len(host)-len(post)]
	if strings.Contains(reg, ".") {
		return ""
	}
	return reg
}

func cmpHost(h string) string {
	if h == "" {
		return "."
	}
	return h
}

// mxHosts returns the MX hosts of resp, bare and lower case; a null MX
// (RFC 7505) is "".
func mxHosts(resp *dnsclient.Response) []string {
	var out []string
	for _, rr := range resp.Answer {
		if mx, ok := rr.(*dns.MX); ok {
			out = append(out, strings.ToLower(bare(mx.Mx)))
		}
	}
	return out
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
