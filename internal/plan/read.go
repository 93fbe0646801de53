package plan

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/records"
)

// CodeZoneUnread: the zone could not be read (not delegated yet, its
// servers do not answer, no network), so the plan adds every record.
const CodeZoneUnread Code = "zone-unread"

// read finds the zone of b's domain and reads from it what the plan needs.
// Its errors wrap ErrRead.
func (pl *Planner) read(ctx context.Context, b *builder) error {
	z, err := pl.zone(ctx, b.o.Domain)
	if err != nil {
		return err
	}
	b.zone = z.Apex
	if b.r, err = pl.reader(ctx, z); err != nil {
		return err
	}
	return b.read(ctx)
}

// notDelegated is the error of a domain whose nearest zone is the root or
// a public suffix (a registry's, such as com or co.uk): the domain is not
// delegated, or not yet, and that zone cannot hold its records
// (dnsclient.PublicZone, which the doctor's notOwnable asks too).
func notDelegated(domain string, z *dnsclient.Zone) error {
	if !dnsclient.PublicZone(domain, z.Apex) {
		return nil
	}
	nearest := "the root"
	if z.Apex != "." {
		nearest = bare(z.Apex) + ", a public suffix,"
	}
	return fmt.Errorf("%w: %s is not delegated: the nearest zone is %s which cannot hold its records", ErrRead, domain, nearest)
}

// unread makes b plan on an empty zone, after err says why the zone could
// not be read: every record the instances need is an addition, in the zone
// found or else the domain's own. An update applies an addition only where
// the record set is still absent (a prerequisite), so applying such a plan
// changes nothing in a zone that turns out to hold the records.
func (b *builder) unread(err error) {
	if b.zone == "" {
		b.zone = dns.CanonicalName(b.o.Domain) // the zone it will be, once delegated
	}
	b.cur = map[qkey]*dnsclient.Response{}
	b.problems = nil // of servers that answered in part: the plan follows none
	b.r = &reader{desc: "nothing: the zone could not be read"}
	b.problem(records.SeverityWarning, CodeZoneUnread, "", "%v; the plan adds every record, as if zone %s were empty, since what it holds is unknown", err, bare(b.zone))
}

// Unread returns why the zone could not be read, when it could not: the
// plan then adds every record (CodeZoneUnread).
func (p *Plan) Unread() (string, bool) {
	for _, pr := range p.Problems {
		if pr.Code == CodeZoneUnread {
			return pr.Message, true
		}
	}
	return "", false
}

// reader asks the servers the plan is built on: the zone's name servers,
// following the one with the newest SOA serial, or the primary alone.
type reader struct {
	cl   *dnsclient.Client
	zone *dnsclient.Zone // the servers asked
	main int             // index of the server the plan follows
	desc string
}

func (r *reader) source() string { return r.desc }

func (pl *Planner) reader(ctx context.Context, z *dnsclient.Zone) (*reader, error) {
	if pl.Primary != nil {
		srv, cl, err := pl.Primary.server(ctx, pl.Client)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrRead, err)
		}
		return &reader{cl: cl, zone: &dnsclient.Zone{Apex: z.Apex, Servers: []dnsclient.Server{srv}}, desc: "primary " + pl.Primary.Addr()}, nil
	}
	// After a change, secondaries lag until they transfer the new
	// version: the newest serial is the zone's current state.
	soas := pl.Client.QueryAll(ctx, z, z.Apex, dns.TypeSOA)
	main, best := -1, uint32(0)
	var failed []string
	for i, resp := range soas {
		s, ok := resp.Serial()
		if !ok {
			failed = append(failed, fmt.Sprintf("%s: %s", serverName(z.Servers[i]), outcome(resp)))
			continue
		}
		if main < 0 || newer(s, best) {
			main, best = i, s
		}
	}
	if main < 0 {
		return nil, fmt.Errorf("%w: no server of %s answered for its SOA (%s)", ErrRead, bare(z.Apex), strings.Join(failed, "; "))
	}
	return &reader{cl: pl.Client, zone: z, main: main, desc: fmt.Sprintf("%s (serial %d)", serverName(z.Servers[main]), best)}, nil
}

// newer compares SOA serials in sequence space arithmetic (RFC 1982).
func newer(a, b uint32) bool { return a != b && int32(a-b) > 0 }

func outcome(resp *dnsclient.Response) string {
	if resp.Err != nil {
		return fmt.Sprintf("%s: %v", resp.Outcome, resp.Err)
	}
	return resp.Outcome.String()
}

// qkey is one question: a canonical name and a type.
type qkey struct {
	name  string
	qtype uint16
}

func key(name string, qtype uint16) qkey { return qkey{dns.CanonicalName(name), qtype} }

// questions returns what the plan needs to know: every name it may write,
// with the type it writes there.
func (b *builder) questions() []qkey {
	// The domain's own TXT: SES reads a token there too (and
	// SingleValueTXT writes one there).
	qs := []qkey{key(b.verName(), dns.TypeTXT), key(dmarcName(b.o.Domain), dns.TypeTXT), key(b.o.Domain, dns.TypeTXT)}
	for _, in := range b.o.Instances {
		for _, t := range in.DKIMTokens {
			qs = append(qs, key(b.dkimName(t), dns.TypeCNAME))
		}
		if in.MailFrom != "" {
			qs = append(qs, key(in.MailFrom, dns.TypeMX), key(in.MailFrom, dns.TypeTXT))
		}
	}
	var out []qkey
	for _, q := range qs {
		if !slices.Contains(out, q) && dns.IsSubDomain(b.zone, q.name) {
			out = append(out, q)
		}
	}
	return out
}

// read asks every question of every server, concurrently, and keeps the
// main server's answers. Servers that answer differently are reported:
// the plan follows one of them, and SES may ask any.
func (b *builder) read(ctx context.Context) error {
	qs := b.questions()
	all := make([][]*dnsclient.Response, len(qs))
	var wg sync.WaitGroup
	for i, q := range qs {
		wg.Go(func() { all[i] = b.r.cl.QueryAll(ctx, b.r.zone, q.name, q.qtype) })
	}
	wg.Wait()
	b.cur = map[qkey]*dnsclient.Response{}
	main := serverName(b.r.zone.Servers[b.r.main])
	for i, q := range qs {
		resp := all[i][b.r.main]
		if resp.Outcome.Temporary() {
			return fmt.Errorf("%w: %s %s from %s: %s", ErrRead, bare(q.name), dns.TypeToString[q.qtype], main, outcome(resp))
		}
		b.cur[q] = resp
		want := answerData(resp)
		for j, other := range all[i] {
			if j == b.r.main {
				continue
			}
			if other.Outcome.Temporary() {
				b.problem(records.SeverityWarning, CodeServersDisagree, q.name, "%s did not answer for %s %s (%s); the plan follows %s",
					serverName(b.r.zone.Servers[j]), bare(q.name), dns.TypeToString[q.qtype], outcome(other), b.r.desc)
			} else if got := answerData(other); !slices.Equal(got, want) {
				b.problem(records.SeverityWarning, CodeServersDisagree, q.name, "%s serves %s %s as %s; the plan follows %s, which serves %s",
					serverName(b.r.zone.Servers[j]), bare(q.name), dns.TypeToString[q.qtype], quoteAll(got), b.r.desc, quoteAll(want))
			}
		}
	}
	return nil
}

// answerData returns the sorted data of resp's records at the name asked.
func answerData(resp *dnsclient.Response) []string {
	var out []string
	for _, rr := range resp.Answer {
		if strings.EqualFold(rr.Header().Name, resp.Name) {
			out = append(out, rrData(rr))
		}
	}
	if len(resp.CNAMEs) > 0 {
		out = append(out, "CNAME "+rrData(resp.CNAMEs[0]))
	}
	slices.Sort(out)
	return out
}

// rrData is the data of rr as Value.Data holds it.
func rrData(rr dns.RR) string {
	switch rr := rr.(type) {
	case *dns.TXT:
		return dnsclient.TXTText(rr)
	case *dns.CNAME:
		return strings.ToLower(dns.Fqdn(rr.Target))
	case *dns.MX:
		return fmt.Sprintf("%d %s", rr.Preference, strings.ToLower(dns.Fqdn(rr.Mx)))
	}
	return strings.TrimPrefix(rr.String(), rr.Header().String())
}

// readOther reads a name outside the plan's zone from its own servers:
// the first that says something about it.
func (b *builder) readOther(ctx context.Context, cl *dnsclient.Client, name string, qtype uint16) *dnsclient.Response {
	z, err := cl.FindZone(ctx, name)
	if err != nil {
		return nil
	}
	for _, srv := range z.Servers {
		if resp := cl.Query(ctx, srv, name, qtype); !resp.Outcome.Temporary() {
			return resp
		}
	}
	return nil
}

func bare(name string) string { return strings.TrimSuffix(name, ".") }

// serverName names a server as the doctor does: host and address.
func serverName(s dnsclient.Server) string { return bare(s.Name) + " " + s.Addr.String() }

func quoteAll(vals []string) string {
	if len(vals) == 0 {
		return "nothing"
	}
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, " ")
}
