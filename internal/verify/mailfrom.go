package verify

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/records"
)

// mailFromMX checks the MX record of a custom MAIL FROM domain, which alone
// decides its status in SES: Success while "10 feedback-smtp.<region>.
// amazonses.com" is there, and is the only MX (records.MatchMX), Failed as
// soon as it is gone.
func (r *run) mailFromMX(ctx context.Context, rec records.Record) identity.Result {
	return r.examine(ctx, r.mxProbe(rec)).res
}

func (r *run) mxProbe(rec records.Record) probe {
	name := dns.CanonicalName(rec.Name)
	host := dns.CanonicalName(r.e.MXHost)
	return probe{
		check: "mail-from", name: name, qtype: dns.TypeMX,
		want:     records.MXValue(host),
		expected: name + " MX " + records.MXValue(host),
		judge: func(_ context.Context, rrs []dns.RR) judgement {
			var j judgement
			var mxs []records.MX
			for _, rr := range rrs {
				if mx, ok := rr.(*dns.MX); ok {
					j.got = append(j.got, fmt.Sprintf("%d %s", mx.Preference, mx.Mx))
					mxs = append(mxs, records.MX{Pref: mx.Preference, Host: mx.Mx})
				}
			}
			v := r.e.MatchMX(mxs)
			j.match = v.Kind == records.Found
			switch v.Fault() {
			case records.FaultNotOnlyMX:
				j.note = fmt.Sprintf("%s is there, but so is %s: the MAIL FROM domain must not receive mail, and SES requires its MX record to be the only one (a MAIL FROM domain serves one region).",
					v.Value, strings.Join(v.Others, ", "))
			case records.FaultRegion:
				j.note = fmt.Sprintf("has %s, not %s: that is the feedback endpoint of %s, and the identity is in %s.", strings.Join(j.got, ", "), records.MXValue(host), v.Region, r.e.Region)
			case records.FaultHostAppended:
				j.note = fmt.Sprintf("%s has the domain appended: the DNS provider added it to the host.", v.Value)
			case records.FaultNullMX:
				j.note = "a null MX (0 .), which refuses all mail: SES needs " + records.MXValue(host) + "."
			}
			return j
		},
	}
}

// mailFromSPF checks the SPF record of a MAIL FROM domain, as
// records.MatchSPF judges it: one record, that authorises SES, within
// the lookup limits receivers apply. SES does not make the status depend
// on it; it is reported beside the MX result.
func (r *run) mailFromSPF(ctx context.Context, rec records.Record) identity.Result {
	return r.examine(ctx, r.spfProbe(rec)).res
}

func (r *run) spfProbe(rec records.Record) probe {
	name := dns.CanonicalName(rec.Name)
	return probe{
		check: "spf", name: name, qtype: dns.TypeTXT,
		want:     strconv.Quote(rec.Value),
		expected: name + " TXT " + strconv.Quote(rec.Value),
		judge: func(ctx context.Context, rrs []dns.RR) judgement {
			vals := dnsclient.TXTValues(rrs)
			j := judgement{got: quoteAll(vals)}
			v, _ := r.e.MatchSPF(ctx, vals, dnsclient.Lookup{Client: r.v.DNS})
			j.match = v.Kind == records.Found
			j.temp = v.Kind == records.TempFail
			if v.Kind != records.Found {
				j.note = spfNote(v, j.got)
			}
			return j
		},
	}
}

// spfNote says what is wrong with an SPF verdict, every problem of it.
func spfNote(v records.Verdict, got []string) string {
	var why []string
	for _, p := range v.Problems {
		switch p.Fault {
		case records.FaultNoSPF:
			why = append(why, "no SPF record (v=spf1) among "+strings.Join(got, ", "))
		case records.FaultMultipleSPF:
			why = append(why, fmt.Sprintf("%d SPF records: receivers treat that as a permanent error (RFC 7208 §4.5); merge them into one", 1+len(v.Others)))
		case records.FaultNoInclude:
			why = append(why, strconv.Quote(v.Value)+" does not authorise SES: add "+p.Detail)
		case records.FaultTooManyLookups:
			why = append(why, fmt.Sprintf("it needs %d DNS lookups, more than the 10 receivers allow (RFC 7208 §4.6.4)", v.Lookups))
		case records.FaultTooManyVoid:
			why = append(why, "more than 2 of its lookups find nothing (RFC 7208 §4.6.4): "+p.Detail)
		default:
			why = append(why, p.Detail)
		}
	}
	return strings.Join(why, "; ") + "."
}
