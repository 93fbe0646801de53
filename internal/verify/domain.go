package verify

import (
	"context"
	"strconv"

	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/records"
)

// verification checks a domain's verification TXT record. SES looks for it
// at _amazonses.<domain> and, for DNS providers that forbid underscores in
// names, at <domain> itself (SES troubleshooting guide). The record set may
// hold the values of several accounts and regions; this identity looks
// only for its own token, exactly, case included, optionally prefixed
// "amazonses:".
func (r *run) verification(ctx context.Context, domain string, rec records.Record) identity.Result {
	primary := r.examine(ctx, r.tokenProbe(dns.CanonicalName(rec.Name), rec.Token))
	if primary.res.Outcome == identity.Found {
		return primary.res
	}
	apex := r.examine(ctx, r.tokenProbe(dns.CanonicalName(domain), rec.Token))
	return either(primary, apex)
}

// either combines the two places of the TXT record: found at either is
// found; if a place could not be read, nothing is known; else the
// documented place explains the absence, unless the other one holds a
// lowercased token, which is the likelier mistake.
func either(primary, apex examined) identity.Result {
	switch {
	case apex.res.Outcome == identity.Found:
		return apex.res
	case primary.res.Outcome == identity.TempFail:
		return primary.res
	case apex.res.Outcome == identity.TempFail:
		return apex.res
	case apex.near() && !primary.near():
		return apex.res
	}
	res := primary.res
	res.Detail += " " + trim(apex.name) + " TXT does not hold the token either."
	return res
}

// tokenProbe looks for the verification token in the TXT records at name,
// as records.MatchToken judges them.
func (r *run) tokenProbe(name, token string) probe {
	return probe{
		check: "verification", name: name, qtype: dns.TypeTXT,
		want:     strconv.Quote(token),
		expected: name + " TXT " + strconv.Quote(token),
		judge: func(_ context.Context, rrs []dns.RR) judgement {
			vals := dnsclient.TXTValues(rrs)
			j := judgement{got: quoteAll(vals)}
			switch v := r.e.MatchToken(vals); {
			case v.Kind == records.Found:
				j.match = true
			case v.Has(records.FaultCase):
				j.near = strconv.Quote(v.Value)
			}
			return j
		},
	}
}

func quoteAll(vals []string) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = strconv.Quote(v)
	}
	return out
}
