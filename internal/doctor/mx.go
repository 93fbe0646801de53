package doctor

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/names"
)

// mxProbes returns the address questions of an address's domain that
// has no MX: mail then goes to its A or AAAA records (RFC 5321 §5.1).
func (r *run) mxProbes() []qkey {
	if r.kind != names.KindEmail {
		return nil
	}
	for _, resp := range r.get(key(r.domain, dns.TypeMX)).known() {
		if resp.Outcome != dnsclient.Answer {
			return []qkey{key(r.domain, dns.TypeA), key(r.domain, dns.TypeAAAA)}
		}
	}
	return nil
}

// emailChecks checks that an address's domain can receive the
// verification message.
func (r *run) emailChecks() {
	if r.kind != names.KindEmail {
		return
	}
	r.check(r.zoneOf(key(r.domain, dns.TypeMX)), r.mxCheck)
}

func (r *run) mxCheck(v view) ([]*Finding, bool) {
	resp := v.resp(r.domain, dns.TypeMX)
	if resp == nil || resp.Outcome.Temporary() || resp.Outcome == dnsclient.Loop {
		return nil, false
	}
	hosts := mxHosts(resp)
	rec := Record{Name: r.domain, Type: "MX", Found: mxStrings(resp)}
	one := func(c Code, recs []Record, ev []string, format string, args ...any) ([]*Finding, bool) {
		return []*Finding{{Code: c, Summary: fmt.Sprintf(format, args...), Records: recs, Evidence: ev}}, true
	}
	switch {
	case len(hosts) == 1 && hosts[0] == "":
		return one(MXNull, []Record{rec}, resp.Evidence, "%s has a null MX: it accepts no mail", r.domain)
	case len(hosts) > 0:
		return one(MXOK, []Record{rec}, resp.Evidence, "%s has %d MX record(s)", r.domain, len(hosts))
	}
	var addrs []string
	ev := resp.Evidence
	for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
		a := v.resp(r.domain, qtype)
		if a == nil {
			continue
		}
		ev = append(ev, a.Evidence...)
		for _, rr := range a.Answer {
			switch rr := rr.(type) {
			case *dns.A:
				addrs = append(addrs, rr.A.String())
			case *dns.AAAA:
				addrs = append(addrs, rr.AAAA.String())
			}
		}
	}
	if len(addrs) > 0 {
		return one(MXImplicit, []Record{rec, {Name: r.domain, Type: "A/AAAA", Found: addrs}}, ev, "%s has no MX record; mail falls back to its address", r.domain)
	}
	what := "has no MX record and no address"
	if resp.Outcome == dnsclient.NXDomain {
		what = "does not exist"
	}
	return one(MXMissing, []Record{rec}, ev, "%s %s: the address cannot receive mail", r.domain, what)
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
