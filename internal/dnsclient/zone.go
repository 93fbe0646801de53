package dnsclient

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// Server is one address of one name server host; a host with two
// addresses is two Servers.
type Server struct {
	Name string // the NS host name, fully qualified, lower case
	Addr netip.Addr
}

func (s Server) String() string { return s.Name + " " + s.Addr.String() }

// Zone is the zone that holds a name and the servers that answer for it.
type Zone struct {
	Apex     string   // fully qualified, lower case
	NS       []string // the apex's NS host names, sorted
	Servers  []Server // their addresses in NS order, A before AAAA, each address once
	Evidence []string // the resolver queries that found them, as dig lines
}

// FindZone finds the zone that holds name: it asks the resolver for the NS
// records of name, then of each parent in turn, until one has them; that
// name is the zone cut (RFC 1034 §4.2.1). Names on the way may not exist
// or have no NS records, which just means the cut is higher. It then asks
// for the A and AAAA records of each NS host; hosts the resolver cannot
// resolve are left out of Servers (Evidence says why).
//
// The error wraps ErrNoZone if no name below the root has NS records,
// ErrNoServers if no NS host has an address, and ErrTemporary if the
// resolver failed, timed out or refused.
func (c *Client) FindZone(ctx context.Context, name string) (*Zone, error) {
	z := &Zone{}
	if err := c.findZone(c.newLookup(ctx), name, z, &z.Evidence); err != nil {
		return nil, err
	}
	return z, nil
}

// FindZoneNoEvidence is FindZone without Zone.Evidence, for a caller that
// keeps only the zone or the error, as the verifier does: writing out the
// resolver's answers as dig would is a sixth of its DNS work.
func (c *Client) FindZoneNoEvidence(ctx context.Context, name string) (*Zone, error) {
	z := &Zone{}
	if err := c.findZone(c.newLookup(ctx), name, z, nil); err != nil {
		return nil, err
	}
	return z, nil
}

// findZone fills z, and appends to ev (if not nil) what it asked and was
// answered, even when it fails.
func (c *Client) findZone(l lookup, name string, z *Zone, ev *[]string) error {
	res, err := c.resolver()
	if err != nil {
		return err
	}
	name = dns.CanonicalName(name)
	for apex := name; apex != "."; apex = parent(apex) {
		r, err := c.recurse(l, res, apex, dns.TypeNS, ev)
		if err != nil {
			return err
		}
		if ns := nsAt(r, apex); len(ns) > 0 {
			z.Apex, z.NS = apex, ns
			break
		}
	}
	if z.Apex == "" {
		return fmt.Errorf("%w: %q", ErrNoZone, name)
	}

	var failed error
	for _, host := range z.NS {
		for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
			r, err := c.recurse(l, res, host, qtype, ev)
			if err != nil {
				failed = err
				continue
			}
			var addrs []netip.Addr
			answer, _, _, _ := chase(r.Answer, host, qtype, nil)
			for _, rr := range answer {
				if a, ok := addrOf(rr); ok && !z.has(a) {
					addrs = append(addrs, a)
				}
			}
			slices.SortFunc(addrs, netip.Addr.Compare)
			for _, a := range addrs {
				z.Servers = append(z.Servers, Server{Name: host, Addr: a})
			}
		}
	}
	if len(z.Servers) == 0 {
		if failed != nil {
			return failed
		}
		return fmt.Errorf("%w %s: %s", ErrNoServers, z.Apex, strings.Join(z.NS, " "))
	}
	return nil
}

// recurse asks the recursive resolver; only NOERROR and NXDOMAIN replies
// say something about the name.
func (c *Client) recurse(l lookup, res netip.AddrPort, name string, qtype uint16, ev *[]string) (*dns.Msg, error) {
	r, _, err := c.exchange(l, res, name, qtype, nil, ev)
	if err != nil {
		return nil, fmt.Errorf("%w: resolver %s: %s %s: %v", ErrTemporary, res, name, typeString(qtype), err)
	}
	if r.Rcode == dns.RcodeServerFailure && !l.cd {
		// A validating resolver answers SERVFAIL for a zone whose DNSSEC
		// is broken; asked again with checking disabled, it answers
		// (RFC 4035 §3.2.2). Servers that are down fail both times.
		cd := l
		cd.cd = true
		if rcd, _, err := c.exchange(cd, res, name, qtype, nil, ev); err == nil &&
			(rcd.Rcode == dns.RcodeSuccess || rcd.Rcode == dns.RcodeNameError) {
			return nil, fmt.Errorf("%w: %w: resolver %s: %s %s: SERVFAIL, answered with checking disabled (+cd)", ErrTemporary, ErrDNSSEC, res, name, typeString(qtype))
		}
	}
	if r.Rcode != dns.RcodeSuccess && r.Rcode != dns.RcodeNameError {
		return nil, fmt.Errorf("%w: resolver %s: %s %s: %s", ErrTemporary, res, name, typeString(qtype), dns.RcodeToString[r.Rcode])
	}
	return r, nil
}

// nsAt returns the sorted NS host names at apex: from the answer, or from
// the authority section of a referral when the resolver is not recursive.
func nsAt(r *dns.Msg, apex string) []string {
	rrs := r.Answer
	if len(rrs) == 0 {
		rrs = r.Ns
	}
	var hosts []string
	for _, rr := range rrs {
		if ns, ok := rr.(*dns.NS); ok && strings.EqualFold(ns.Hdr.Name, apex) {
			hosts = append(hosts, dns.CanonicalName(ns.Ns))
		}
	}
	slices.Sort(hosts)
	return slices.Compact(hosts)
}

func (z *Zone) has(a netip.Addr) bool {
	return slices.ContainsFunc(z.Servers, func(s Server) bool { return s.Addr == a })
}

func addrOf(rr dns.RR) (netip.Addr, bool) {
	switch rr := rr.(type) {
	case *dns.A:
		return netip.AddrFromSlice(rr.A.To4())
	case *dns.AAAA:
		return netip.AddrFromSlice(rr.AAAA.To16())
	}
	return netip.Addr{}, false
}

// parent returns the name one label up; the parent of a TLD is ".".
func parent(name string) string {
	if i, end := dns.NextLabel(name, 0); !end {
		return name[i:]
	}
	return "."
}
