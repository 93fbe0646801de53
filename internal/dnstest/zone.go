package dnstest

import (
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// maxChase bounds how many in-zone CNAMEs one answer follows.
const maxChase = 8

// zone is the data of one zone, guarded by Server.mu. Replies get fresh
// slices of its records, which are never modified, so they can be packed
// after the lock is released.
type zone struct {
	origin string              // lower-case, fully qualified
	rrs    map[string][]dns.RR // by lower-case owner name
}

// SetZone serves the zone at origin from text in zone-file format
// (RFC 1035 §5.1), replacing any zone already there. Relative names are
// relative to origin and records without a TTL get 300 s. Wildcards are not
// supported. Like testing.TB.Fatal, it must be called from the test's
// goroutine.
func (s *Server) SetZone(origin, text string) {
	s.t.Helper()
	origin = dns.CanonicalName(origin)
	zp := dns.NewZoneParser(strings.NewReader(text), origin, "")
	zp.SetDefaultTTL(300)
	z := &zone{origin: origin, rrs: make(map[string][]dns.RR)}
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if !dns.IsSubDomain(origin, rr.Header().Name) {
			s.t.Fatalf("dnstest: %s is outside zone %s", rr, origin)
		}
		z.add(rr)
	}
	if err := zp.Err(); err != nil {
		s.t.Fatalf("dnstest: zone %s: %v", origin, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.zones[origin] = z
}

// AddRR adds one record, given as a zone-file line with a fully qualified
// owner, to the zone that holds it.
func (s *Server) AddRR(rr string) {
	s.t.Helper()
	s.edit(rr, func(z *zone, r dns.RR) { z.add(r) })
}

// RemoveRR removes the records equal to rr (TTL aside) from the zone that
// holds it.
func (s *Server) RemoveRR(rr string) {
	s.t.Helper()
	s.edit(rr, func(z *zone, r dns.RR) {
		name := dns.CanonicalName(r.Header().Name)
		var keep []dns.RR
		for _, old := range z.rrs[name] {
			if !dns.IsDuplicate(old, r) {
				keep = append(keep, old)
			}
		}
		z.rrs[name] = keep
	})
}

func (s *Server) edit(text string, change func(*zone, dns.RR)) {
	s.t.Helper()
	rr, err := dns.NewRR(text)
	if err != nil || rr == nil {
		s.t.Fatalf("dnstest: record %q: %v", text, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zoneFor(rr.Header().Name)
	if z == nil {
		s.t.Fatalf("dnstest: no zone holds %s", rr)
	}
	change(z, rr)
}

func (z *zone) add(rr dns.RR) {
	name := dns.CanonicalName(rr.Header().Name)
	z.rrs[name] = append(z.rrs[name], rr)
}

// zoneFor returns the most specific zone holding name, or nil.
func (s *Server) zoneFor(name string) *zone {
	var best *zone
	for origin, z := range s.zones {
		if dns.IsSubDomain(origin, name) && (best == nil || len(origin) > len(best.origin)) {
			best = z
		}
	}
	return best
}

// answer fills reply to q from the server's zones, following RFC 1034
// §4.3.2: REFUSED outside its zones, a referral below a zone cut, CNAMEs
// chased within the zone, and negative answers carrying the SOA.
func (s *Server) answer(reply *dns.Msg, q dns.Question) {
	z := s.zoneFor(q.Name)
	if z == nil {
		reply.Rcode = dns.RcodeRefused
		return
	}
	reply.Authoritative = true
	name := q.Name
	for range maxChase {
		if ns := z.cut(name); ns != nil {
			// A referral is not authoritative data (RFC 1034 §4.3.2 3b);
			// AA describes the first answer record, so keep it after a CNAME.
			reply.Authoritative = len(reply.Answer) > 0
			reply.Ns = ns
			reply.Extra = z.glue(ns)
			return
		}
		rrs, exists := z.lookup(name)
		if !exists {
			reply.Rcode = dns.RcodeNameError // RFC 6604: the rcode is for the last name of a chain
			reply.Ns = z.soa()
			return
		}
		if match := ofType(rrs, q.Qtype); len(match) > 0 {
			reply.Answer = append(reply.Answer, match...)
			return
		}
		cname := ofType(rrs, dns.TypeCNAME)
		if len(cname) == 0 || q.Qtype == dns.TypeCNAME {
			reply.Ns = z.soa() // NODATA (RFC 2308 §2.2)
			return
		}
		if slices.Contains(reply.Answer, cname[0]) {
			return // a loop: the client will notice
		}
		reply.Answer = append(reply.Answer, cname[0])
		name = cname[0].(*dns.CNAME).Target
		if !dns.IsSubDomain(z.origin, name) {
			return // the rest of the chain is the resolver's job
		}
	}
}

// lookup returns the records at name and whether name exists, which it also
// does as an empty non-terminal (RFC 8020 §2), or through a wildcard at its
// closest encloser (RFC 4592 §4.1: the records of *.<encloser>, owned by
// name).
func (z *zone) lookup(name string) ([]dns.RR, bool) {
	name = dns.CanonicalName(name)
	if rrs, ok := z.exact(name); ok {
		return rrs, true
	}
	labels := dns.SplitDomainName(name)
	for i := 1; i < len(labels) && dns.IsSubDomain(z.origin, dns.Fqdn(strings.Join(labels[i:], "."))); i++ {
		encloser := dns.Fqdn(strings.Join(labels[i:], "."))
		if _, ok := z.exact(encloser); !ok && encloser != z.origin {
			continue
		}
		var out []dns.RR
		for _, rr := range z.rrs["*."+encloser] {
			rr = dns.Copy(rr)
			rr.Header().Name = name
			out = append(out, rr)
		}
		return out, len(out) > 0
	}
	return nil, false
}

// exact is lookup without wildcards.
func (z *zone) exact(name string) ([]dns.RR, bool) {
	if rrs := z.rrs[name]; len(rrs) > 0 {
		return rrs, true
	}
	for owner, rrs := range z.rrs {
		if len(rrs) > 0 && owner != name && dns.IsSubDomain(name, owner) {
			return nil, true
		}
	}
	return nil, false
}

// cut returns the NS records of the highest zone cut between the apex
// (excluded) and name (included), or nil when name is not delegated.
func (z *zone) cut(name string) []dns.RR {
	labels := dns.SplitDomainName(dns.CanonicalName(name))
	below := dns.CountLabel(z.origin)
	for i := len(labels) - below - 1; i >= 0; i-- {
		owner := dns.Fqdn(strings.Join(labels[i:], "."))
		if ns := ofType(z.rrs[owner], dns.TypeNS); len(ns) > 0 {
			return ns
		}
	}
	return nil
}

// glue returns the addresses this zone holds for the name servers in ns.
func (z *zone) glue(ns []dns.RR) []dns.RR {
	var extra []dns.RR
	for _, rr := range ns {
		host := dns.CanonicalName(rr.(*dns.NS).Ns)
		extra = append(extra, ofType(z.rrs[host], dns.TypeA)...)
		extra = append(extra, ofType(z.rrs[host], dns.TypeAAAA)...)
	}
	return extra
}

// soa returns the zone's SOA for the authority section of a negative answer,
// its TTL lowered to the SOA minimum as RFC 2308 §3 asks.
func (z *zone) soa() []dns.RR {
	rrs := ofType(z.rrs[z.origin], dns.TypeSOA)
	if len(rrs) == 0 {
		return nil
	}
	soa := dns.Copy(rrs[0]).(*dns.SOA)
	soa.Hdr.Ttl = min(soa.Hdr.Ttl, soa.Minttl)
	return []dns.RR{soa}
}

func ofType(rrs []dns.RR, t uint16) []dns.RR {
	var out []dns.RR
	for _, rr := range rrs {
		if rr.Header().Rrtype == t {
			out = append(out, rr)
		}
	}
	return out
}
