package plan

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/miekg/dns"
	"golang.org/x/net/publicsuffix"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/records"
)

// builder merges what the instances need into what the zone holds.
type builder struct {
	o    Options
	d    config.DNS
	zone string // apex, canonical
	r    *reader
	dns  *dnsclient.Client // reads other zones: SPF includes, the organisational DMARC

	cur      map[qkey]*dnsclient.Response // the main server's answers
	sets     []*RRset
	problems []Problem
	mailFrom map[string]mailFrom // by canonical name
}

// mailFrom is one MAIL FROM domain and the instances that use it.
type mailFrom struct {
	region string
	owner  string
}

// expect is what the domain's records look like for in.
func (b *builder) expect(in records.Instance) records.Expect {
	return records.ExpectOf(b.o.Domain, in, b.d)
}

func (b *builder) verName() string          { return b.expect(records.Instance{}).VerificationName() }
func (b *builder) dkimName(t string) string { return b.expect(records.Instance{}).DKIMName(t) }
func dmarcName(domain string) string        { return records.DMARCName(domain) }

func (b *builder) build(ctx context.Context) {
	b.verification()
	b.dkim()
	b.dmarc(ctx)
	b.mailFroms(ctx)
}

// rrset returns the record set name/qtype, created the first time with
// the values the main server holds.
func (b *builder) rrset(name string, qtype uint16, p records.Purpose) *RRset {
	name = dns.CanonicalName(name)
	typ := dns.TypeToString[qtype]
	for _, s := range b.sets {
		if s.Name == name && s.Type == typ {
			return s
		}
	}
	s := &RRset{Name: name, Type: typ, TTL: b.o.TTL, Purpose: p}
	if resp := b.cur[qkey{name, qtype}]; resp != nil && len(resp.CNAMEs) == 0 {
		for _, rr := range resp.Answer {
			if rr.Header().Rrtype == qtype && strings.EqualFold(rr.Header().Name, name) {
				s.TTL = rr.Header().Ttl
				s.Values = append(s.Values, Value{Data: rrData(rr), Change: Keep, rr: rr})
			}
		}
	}
	b.sets = append(b.sets, s)
	return s
}

func (s *RRset) add(data, owner, note string) {
	s.Values = append(s.Values, Value{Data: data, Change: Add, Owner: owner, Note: note})
}

// alias reports a name that is a CNAME: it cannot hold the records the
// plan would put there (RFC 1034 §3.6.2), and the plan does not remove it.
func (b *builder) alias(name string, qtype uint16) bool {
	resp := b.cur[key(name, qtype)]
	if resp == nil || len(resp.CNAMEs) == 0 {
		return false
	}
	b.problem(records.SeverityError, CodeCNAME, name, "%s is a CNAME to %s, so it cannot hold %s records too (RFC 1034 §3.6.2): remove the CNAME, which the plan does not own",
		bare(name), bare(resp.CNAMEs[0].Target), dns.TypeToString[qtype])
	return true
}

// inZone reports whether name is in the zone the plan reads and updates.
func (b *builder) inZone(name string) bool {
	if dns.IsSubDomain(b.zone, dns.CanonicalName(name)) {
		return true
	}
	b.problem(records.SeverityError, CodeNotInZone, name, "%s is not in zone %s, which the plan updates: plan it in its own zone", name, bare(b.zone))
	return false
}

// verification plans the verification TXT values: one per instance with
// a token, all at _amazonses.<domain>, or with SingleValueTXT one there
// and one on the domain itself, the two names SES reads.
func (b *builder) verification() {
	type token struct{ value, owner string }
	var toks []token
	for _, in := range b.o.Instances {
		if in.Token == "" {
			continue
		}
		if i := slices.IndexFunc(toks, func(t token) bool { return t.value == in.Token }); i >= 0 {
			toks[i].owner += ", " + in.Label
			continue
		}
		toks = append(toks, token{in.Token, in.Label})
	}
	if !b.inZone(b.verName()) || b.alias(b.verName(), dns.TypeTXT) {
		return
	}
	slots := []*RRset{b.rrset(b.verName(), dns.TypeTXT, records.Verification)}
	if b.o.SingleValueTXT {
		if len(toks) > 2 {
			b.problem(records.SeverityError, CodeSingleValue, b.verName(), "%d instances have a token, but with one value per TXT name SES reads two places: %s and %s. Use a DNS provider that holds several values in one TXT record, or verify the others by DKIM alone",
				len(toks), b.verName(), b.o.Domain)
		}
		if len(toks) > 1 {
			slots = append(slots, b.rrset(b.o.Domain, dns.TypeTXT, records.Verification))
		}
	}
	// whose says which token v holds, as records.MatchToken judges it:
	// exactly (Found), or with its case changed.
	whose := func(v string) (int, records.Verdict) {
		at, best := -1, records.Verdict{}
		for j, k := range toks {
			switch got := b.expect(records.Instance{Token: k.value}).MatchToken([]string{v}); {
			case got.Kind == records.Found:
				return j, got
			case got.Has(records.FaultCase) && at < 0:
				at, best = j, got
			}
		}
		return at, best
	}
	placed := map[string]bool{}
	if !b.o.SingleValueTXT {
		// SES also reads the token on the domain itself (troubleshooting
		// guide), so one published there is kept, not added again.
		if resp := b.cur[key(b.o.Domain, dns.TypeTXT)]; resp != nil {
			for _, v := range dnsclient.TXTValues(resp.Answer) {
				if j, got := whose(v); j >= 0 && got.Kind == records.Found && !placed[toks[j].value] {
					placed[toks[j].value] = true
					b.problem(records.SeverityInfo, CodeVerificationAtApex, b.o.Domain, "the token of %s is on %s itself, where SES reads it too: the plan keeps it there", toks[j].owner, b.o.Domain)
				}
			}
		}
	}
	for _, s := range slots {
		for i := range s.Values {
			v := &s.Values[i]
			switch j, got := whose(v.Data); {
			case j >= 0 && got.Kind == records.Found && !placed[toks[j].value]:
				v.Owner, placed[toks[j].value] = toks[j].owner, true
			case j >= 0 && got.Kind == records.Found:
				v.Owner, v.Change, v.Note = toks[j].owner, Remove, "the same token is also at "+bare(slots[0].Name)
			case j >= 0:
				v.Owner, v.Change, v.Note = toks[j].owner, Remove, "the token with its case changed: SES compares it exactly"
			case b.expect(records.Instance{}).TokenLike(v.Data):
				b.stale(v, "an SES token of no instance")
			}
		}
	}
	for _, t := range toks {
		if placed[t.value] {
			continue
		}
		if !b.o.SingleValueTXT {
			slots[0].add(t.value, t.owner, "")
			continue
		}
		free := slices.IndexFunc(slots, func(s *RRset) bool { return len(s.Final()) == 0 })
		if free >= 0 {
			slots[free].add(t.value, t.owner, "")
		} else if len(toks) <= 2 {
			var held []string
			for _, s := range slots {
				held = append(held, bare(s.Name)+" holds "+quoteAll(s.Final()))
			}
			b.problem(records.SeverityError, CodeSingleValue, slots[len(slots)-1].Name, "no name left for the token of %s with one value per TXT name: %s. Free one, or use a DNS provider that holds several values per name",
				t.owner, strings.Join(held, " and "))
		}
	}
}

// stale marks a value that belongs to no instance: kept, unless pruning.
func (b *builder) stale(v *Value, note string) {
	v.Stale, v.Note = true, note
	if b.o.Prune {
		v.Change = Remove
	} else {
		v.Note += ": --prune removes it"
	}
}

// dkim plans three CNAMEs per instance. Their names carry the token, so
// the plan owns whatever is there. Instances with the same tokens (a DEED
// replica reports its parent region's, which SES derives
// deterministically) share one set of three: each CNAME is planned once,
// for all of them.
func (b *builder) dkim() {
	owners := map[string][]string{} // instance labels by CNAME name
	for _, in := range b.o.Instances {
		for _, t := range in.DKIMTokens {
			rec := b.expect(records.Instance{}).DKIMRecord(t)
			if !b.inZone(rec.Name) {
				continue
			}
			s := b.rrset(rec.Name, dns.TypeCNAME, records.DKIM)
			target := dns.CanonicalName(rec.Value)
			if !slices.Contains(owners[rec.Name], in.Label) {
				owners[rec.Name] = append(owners[rec.Name], in.Label)
			}
			owner := strings.Join(owners[rec.Name], ", ")
			found := false
			for i := range s.Values {
				v := &s.Values[i]
				v.Owner = owner
				if len(owners[rec.Name]) > 1 && v.Data == target {
					v.Note = "the same token, so one CNAME serves all: DEED"
				}
				if v.Data == target && !found {
					found = true
				} else {
					v.Change, v.Note = Remove, "not this token's target "+bare(target)
				}
			}
			if !found {
				s.add(target, in.Label, "")
			}
		}
	}
}

// dmarc plans the domain's one DMARC record: the one there is kept, and
// one is added only when there is none, here or (for a subdomain) at the
// organisational domain, whose record applies (RFC 7489 §6.6.3).
func (b *builder) dmarc(ctx context.Context) {
	name := dmarcName(b.o.Domain)
	if !b.inZone(name) || b.alias(name, dns.TypeTXT) {
		return
	}
	s := b.rrset(name, dns.TypeTXT, records.DMARC)
	n := 0
	for i := range s.Values {
		if len(records.DMARCRecords([]string{s.Values[i].Data})) > 0 {
			n++
			s.Values[i].Note = "the domain's DMARC record, kept"
		}
	}
	if n > 0 {
		return
	}
	if org, err := publicsuffix.EffectiveTLDPlusOne(b.o.Domain); err == nil && org != b.o.Domain {
		resp := b.readOther(ctx, b.dns, dmarcName(org), dns.TypeTXT)
		if resp != nil && len(records.DMARCRecords(dnsclient.TXTValues(resp.Answer))) == 1 {
			b.problem(records.SeverityInfo, CodeDMARCInherited, name, "%s has no DMARC record of its own: that of %s applies, so the plan adds none", b.o.Domain, org)
			return
		}
	}
	s.add(b.o.DMARC, "all instances", "")
}

// mailFroms plans, for each MAIL FROM domain, the one MX record that
// points at its region's feedback endpoint and an SPF record that
// includes SES, merged into the SPF record there is.
//
// A MAIL FROM domain serves one region: its MX must be its only one (SES's
// rule), so instances in two regions need two MAIL FROM domains, as the
// multi-region guide's "2 records, one for each region" and the doctor's
// mail-from-region-conflict say. Instances in one region may share one.
func (b *builder) mailFroms(ctx context.Context) {
	b.mailFrom = map[string]mailFrom{}
	var order []string
	users := map[string][]records.Instance{}
	for _, in := range b.o.Instances {
		if in.MailFrom == "" {
			continue
		}
		n := dns.CanonicalName(in.MailFrom)
		if users[n] == nil {
			order = append(order, n)
		}
		users[n] = append(users[n], in)
	}
	for _, name := range order {
		var labels, regions []string
		for _, in := range users[name] {
			labels = append(labels, in.Label)
			if !slices.Contains(regions, in.Region) {
				regions = append(regions, in.Region)
			}
		}
		owner := strings.Join(labels, ", ")
		if len(regions) > 1 {
			b.problem(records.SeverityError, CodeMailFromConflict, name, "%s is the MAIL FROM domain of instances in %s, but its one MX can point at one region's feedback endpoint: give each region its own MAIL FROM domain with SetIdentityMailFromDomain, such as mail-%s.%s",
				bare(name), strings.Join(regions, " and "), regions[1], b.o.Domain)
			continue
		}
		if !names.IsSubdomain(bare(name), b.o.Domain) {
			b.problem(records.SeverityError, CodeMailFromNotSub, name, "%s, the MAIL FROM domain of %s, is not a subdomain of %s: SES rejects it", bare(name), owner, b.o.Domain)
			continue
		}
		if !b.inZone(name) || b.alias(name, dns.TypeMX) || b.alias(name, dns.TypeTXT) {
			continue
		}
		b.mailFrom[name] = mailFrom{region: regions[0], owner: owner}
		b.mailFromMX(name, regions[0], owner)
		b.mailFromSPF(ctx, name, owner)
	}
}

func (b *builder) mailFromMX(name, region, owner string) {
	e := b.expect(records.Instance{Region: region, MailFrom: name})
	s := b.rrset(name, dns.TypeMX, records.MailFromMX)
	found := false
	for i := range s.Values {
		v := &s.Values[i]
		got := e.MatchMX([]records.MX{mxOf(v.Data)})
		switch {
		case got.Kind == records.Found && !found:
			v.Owner, found = owner, true
		case got.Kind == records.Found:
			v.Owner, v.Change, v.Note = owner, Remove, "a second MX to the same host"
		case got.Has(records.FaultRegion):
			v.Owner, v.Change, v.Note = owner, Remove, fmt.Sprintf("the feedback endpoint of %s: %s sends from %s", got.Region, bare(name), region)
		default:
			b.problem(records.SeverityError, CodeMailFromForeignMX, name, "%s has the MX %s besides SES's: SES requires the MAIL FROM domain's MX to be its only one, and the domain must not receive mail. Remove it, or choose another MAIL FROM domain; the plan does not remove what it does not own",
				bare(name), bare(v.Data))
		}
	}
	if !found {
		s.add(records.MXValue(dns.CanonicalName(e.MXHost)), owner, "")
	}
}

// mxOf reads an MX value as plan holds it: "preference host".
func mxOf(data string) records.MX {
	pref, host, _ := strings.Cut(data, " ")
	p, _ := strconv.ParseUint(pref, 10, 16)
	return records.MX{Pref: uint16(p), Host: host}
}

// mailFromSPF merges SES into the SPF record of a MAIL FROM domain: a
// second SPF record would make receivers fail both (RFC 7208 §4.5).
func (b *builder) mailFromSPF(ctx context.Context, name, owner string) {
	s := b.rrset(name, dns.TypeTXT, records.MailFromSPF)
	var spf []int
	for i, v := range s.Values {
		if len(records.SPFRecords([]string{v.Data})) > 0 {
			spf = append(spf, i)
		}
	}
	switch len(spf) {
	case 0:
		s.add(records.SPF(b.d), owner, "")
	case 1:
		v := &s.Values[spf[0]]
		v.Owner = owner
		if !records.AnalyseSPF(ctx, bare(name), v.Data, b.d.SPFInclude, dnsclient.Lookup{Client: b.dns}).Authorises {
			v.Change, v.Note = Remove, "merged into the record below"
			s.add(records.SPFWithInclude(v.Data, b.d.SPFInclude), owner, "the SPF record there, with include:"+b.d.SPFInclude)
		}
	default:
		b.problem(records.SeverityError, CodeSPFMultiple, name, "%s has %d SPF records, which receivers treat as a permanent error (RFC 7208 §4.5): merge them into one by hand, then plan again",
			bare(name), len(spf))
	}
}
