package verify

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/records"
)

// mailFromMX checks the MX record of a custom MAIL FROM domain, which alone
// decides its status in SES: Success while "10 feedback-smtp.<region>.
// amazonses.com" is there, Failed as soon as it is gone.
//
// SES requires it to be the only MX record, because the MAIL FROM domain
// must not receive mail. One account in two regions (or two accounts in
// two regions) sharing one MAIL FROM domain publish one MX per region
// (AWS blog, "How to use domain with Amazon SES in multiple accounts or
// regions"), so other SES feedback endpoints are accepted beside ours; any
// other host is not.
func (r *run) mailFromMX(ctx context.Context, rec records.Record, region string) identity.Result {
	return r.examine(ctx, mxProbe(rec, r.v.Records, region)).res
}

func mxProbe(rec records.Record, d config.DNS, region string) probe {
	name := dns.CanonicalName(rec.Name)
	host := dns.CanonicalName(d.MX(region))
	return probe{
		check: "mail-from", name: name, qtype: dns.TypeMX,
		want:     "10 " + host,
		expected: name + " MX 10 " + host,
		judge: func(rrs []dns.RR) judgement {
			var j judgement
			var foreign []string
			for _, rr := range rrs {
				mx, ok := rr.(*dns.MX)
				if !ok {
					continue
				}
				v := fmt.Sprintf("%d %s", mx.Preference, mx.Mx)
				j.got = append(j.got, v)
				switch {
				case strings.EqualFold(mx.Mx, host):
					j.match = true
				case !isFeedbackHost(mx.Mx, d):
					foreign = append(foreign, v)
				}
			}
			if j.match && len(foreign) > 0 {
				j.match = false
				j.note = fmt.Sprintf("%s is there, but so is %s: the MAIL FROM domain must not receive mail, and SES requires its MX records to point only to SES.",
					"10 "+host, strings.Join(foreign, ", "))
			}
			return j
		},
	}
}

// isFeedbackHost reports whether host is the MAIL FROM MX host of some
// region.
func isFeedbackHost(host string, d config.DNS) bool {
	host = strings.ToLower(trim(host))
	before, after, ok := strings.Cut(strings.ToLower(d.MailFromMX), "{region}")
	if !ok {
		return host == strings.ToLower(d.MailFromMX)
	}
	region, ok := strings.CutPrefix(host, before)
	if !ok {
		return false
	}
	region, ok = strings.CutSuffix(region, after)
	return ok && region != "" && !strings.Contains(region, ".")
}

// mailFromSPF checks the SPF record of a MAIL FROM domain. SES does not
// make the status depend on it, but without it mail fails SPF and so DMARC
// alignment through SPF; it is reported beside the MX result. One SPF
// record must include SES: several make receivers return permerror
// (RFC 7208 §4.5), and a combined record ("include:amazonses.com
// include:_spf.example.net ~all") is as good as SES's.
func (r *run) mailFromSPF(ctx context.Context, rec records.Record) identity.Result {
	return r.examine(ctx, spfProbe(rec, r.v.Records)).res
}

func spfProbe(rec records.Record, d config.DNS) probe {
	name := dns.CanonicalName(rec.Name)
	include := "include:" + strings.ToLower(d.SPFInclude)
	return probe{
		check: "spf", name: name, qtype: dns.TypeTXT,
		want:     strconv.Quote(rec.Value),
		expected: name + " TXT " + strconv.Quote(rec.Value),
		judge: func(rrs []dns.RR) judgement {
			var j judgement
			var spf []string
			for _, v := range txtValues(rrs) {
				j.got = append(j.got, strconv.Quote(v))
				if f := strings.Fields(strings.ToLower(v)); len(f) > 0 && f[0] == "v=spf1" {
					spf = append(spf, v)
				}
			}
			switch {
			case len(spf) == 0:
				j.note = "no SPF record (v=spf1) among " + strings.Join(j.got, ", ") + "."
			case len(spf) > 1:
				j.note = fmt.Sprintf("%d SPF records: receivers treat that as a permanent error (RFC 7208 §4.5); merge them into one.", len(spf))
			default:
				for _, term := range strings.Fields(strings.ToLower(spf[0])) {
					j.match = j.match || strings.TrimPrefix(term, "+") == include
				}
				if !j.match {
					j.note = strconv.Quote(spf[0]) + " does not " + include + "."
				}
			}
			return j
		},
	}
}
