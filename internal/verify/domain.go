package verify

import (
	"context"
	"strconv"
	"strings"

	"github.com/miekg/dns"

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

// tokenProbe looks for the verification token in the TXT records at name.
func (r *run) tokenProbe(name, token string) probe {
	prefix := r.v.Records.ValuePrefix
	return probe{
		check: "verification", name: name, qtype: dns.TypeTXT,
		want:     strconv.Quote(token),
		expected: name + " TXT " + strconv.Quote(token),
		judge: func(rrs []dns.RR) judgement {
			var j judgement
			for _, v := range txtValues(rrs) {
				j.got = append(j.got, strconv.Quote(v))
				t := v
				if prefix != "" && len(t) >= len(prefix) && strings.EqualFold(t[:len(prefix)], prefix) {
					t = t[len(prefix):]
				}
				switch {
				case t == token:
					j.match = true
				case strings.EqualFold(t, token) && j.near == "":
					j.near = strconv.Quote(v)
				}
			}
			return j
		},
	}
}

// txtValues returns the value of each TXT record: its character-strings
// joined, as a record longer than 255 octets must be split (RFC 7208 §3.3
// does the same for SPF).
func txtValues(rrs []dns.RR) []string {
	var vs []string
	for _, rr := range rrs {
		if txt, ok := rr.(*dns.TXT); ok {
			vs = append(vs, strings.Join(txt.Txt, ""))
		}
	}
	return vs
}
