package plan

import (
	"context"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/records"
)

// prune finds, in a listing of the zone, the records SES instances that
// are gone left behind, and marks them for removal:
//
//   - <token>._domainkey CNAMEs to <token>.<DKIM domain> for tokens no
//     instance has (an old key, a deleted account or region);
//   - MX records below the domain to the feedback endpoint of a region no
//     instance uses, at names that are no current MAIL FROM domain, with
//     SES's own SPF record beside them.
//
// Stale verification tokens are found without a listing, at the names the
// plan reads. An MX to a region some instance uses may be another
// account's MAIL FROM domain, so it is kept.
func (b *builder) prune(ctx context.Context, list func(context.Context, string) ([]dns.RR, error)) {
	const what = "only the verification record was searched for stale values: DKIM CNAMEs of old tokens and MAIL FROM records of unused regions are found by listing the zone, with a zone transfer (AXFR) from the --apply server"
	defer b.pruned()
	if list == nil {
		b.problem(records.SeverityWarning, CodePruneNeedsAXFR, b.zone, "%s", what)
		return
	}
	rrs, err := list(ctx, b.zone)
	if err != nil {
		b.problem(records.SeverityWarning, CodePruneNeedsAXFR, b.zone, "%s; the transfer failed: %v", what, err)
		return
	}
	tokens := map[string]bool{}
	regions := map[string]bool{}
	for _, in := range b.o.Instances {
		for _, t := range in.DKIMTokens {
			tokens[strings.ToLower(t)] = true
		}
		regions[in.Region] = true
	}
	domain := dns.Fqdn(b.o.Domain)
	e := b.expect(records.Instance{})
	var staleNames []string
	for _, rr := range rrs {
		name := dns.CanonicalName(rr.Header().Name)
		if !dns.IsSubDomain(domain, name) {
			continue
		}
		switch rr := rr.(type) {
		case *dns.CNAME:
			label, ok := e.DKIMTokenOf(name)
			if ok && !tokens[label] && e.MatchDKIM(label, []string{rr.Target}).Kind == records.Found {
				b.staleRR(rrs, rr, "the DKIM CNAME of a token no instance has")
			}
		case *dns.MX:
			region := records.FeedbackRegion(b.d.MailFromMX, rr.Mx)
			if _, current := b.mailFrom[name]; region != "" && !regions[region] && !current {
				b.staleRR(rrs, rr, "the feedback endpoint of "+region+", a region no instance uses")
				staleNames = append(staleNames, name)
			}
		}
	}
	for _, rr := range rrs {
		t, ok := rr.(*dns.TXT)
		if ok && slices.Contains(staleNames, dns.CanonicalName(t.Hdr.Name)) && dnsclient.TXTText(t) == records.SPF(b.d) {
			b.staleRR(rrs, t, "SES's SPF record beside a stale MAIL FROM MX")
		}
	}
}

// pruned sums up what prune found.
func (b *builder) pruned() {
	n := 0
	for _, s := range b.sets {
		for _, v := range s.Values {
			if v.Stale {
				n++
			}
		}
	}
	b.problem(records.SeverityInfo, CodePrune, "", "%d value(s) belong to no current instance: the plan removes them", n)
}

// staleRR marks rr stale in its record set, made from the listing if the
// plan does not have it yet.
func (b *builder) staleRR(all []dns.RR, rr dns.RR, note string) {
	name, qtype := dns.CanonicalName(rr.Header().Name), rr.Header().Rrtype
	var s *RRset
	for _, x := range b.sets {
		if x.Name == name && x.Type == dns.TypeToString[qtype] {
			s = x
		}
	}
	if s == nil {
		s = &RRset{Name: name, Type: dns.TypeToString[qtype], Purpose: Prune}
		for _, o := range all {
			if o.Header().Rrtype == qtype && dns.CanonicalName(o.Header().Name) == name {
				s.TTL = o.Header().Ttl
				s.Values = append(s.Values, Value{Data: rrData(o), Change: Keep, rr: o})
			}
		}
		b.sets = append(b.sets, s)
	}
	for i := range s.Values {
		if v := &s.Values[i]; v.Data == rrData(rr) && v.Owner == "" && !v.Stale {
			b.stale(v, note)
		}
	}
}
