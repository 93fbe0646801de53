package dnsclient

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Response is what one server said about one name and type.
type Response struct {
	Server  Server
	Name    string // as asked, fully qualified
	Qtype   uint16
	Outcome Outcome
	// Answer holds the records of type Qtype at the end of the CNAME chain.
	Answer []dns.RR
	// CNAMEs is the chain followed from Name, if any. Its end may be in
	// another zone, answered by another server (Evidence shows which).
	CNAMEs []*dns.CNAME
	// SOA is the zone's SOA from the authority section of a negative
	// answer (RFC 2308 §3); its TTL says how long the absence may be cached.
	SOA *dns.SOA
	RTT time.Duration // of the first reply from Server
	Err error         // what went wrong, for the Temporary outcomes and Loop
	// Evidence is the queries made, as dig commands a person can repeat,
	// each followed by what came back.
	Evidence []string
}

// Query asks srv about name and qtype, without recursion, and classifies
// the reply. UDP replies that are truncated are repeated over TCP; timeouts
// and network errors are retried (Client.Retries), all within
// Client.Budget.
//
// CNAMEs are followed (RFC 1034 §5.3.3), except when qtype is CNAME: within
// the reply, then by asking srv for the target, and when srv does not serve
// the target (REFUSED or a reply without authority) by asking the servers
// of the target's own zone. A chain longer than MaxCNAMEs is a Loop.
func (c *Client) Query(ctx context.Context, srv Server, name string, qtype uint16) *Response {
	return c.query(c.newLookup(ctx), srv, name, qtype)
}

func (c *Client) query(l lookup, srv Server, name string, qtype uint16) *Response {
	resp := &Response{Server: srv, Name: dns.Fqdn(name), Qtype: qtype}
	if !l.quiet {
		resp.Evidence = make([]string, 0, 8)
	}
	next := c.ask(l, srv, resp.Name, resp)
	for cur := srv; next != ""; {
		target := next
		next = c.ask(l, cur, target, resp)
		if resp.Outcome == Lame || resp.Outcome == Refused {
			cur, next = c.askZone(l, target, resp)
		}
	}
	return resp
}

// QueryAll queries each server of zone concurrently and returns their
// responses in the order of zone.Servers. Each is asked because the servers
// of a zone disagree for a while after a change, until every secondary has
// the new version.
func (c *Client) QueryAll(ctx context.Context, zone *Zone, name string, qtype uint16) []*Response {
	return c.queryAll(c.newLookup(ctx), zone, name, qtype) // each Query's budget starts now
}

// QueryAllNoEvidence is QueryAll without Response.Evidence, for a caller
// that keeps only what the servers answered, as the verifier does with the
// SOA records it fetches.
func (c *Client) QueryAllNoEvidence(ctx context.Context, zone *Zone, name string, qtype uint16) []*Response {
	l := c.newLookup(ctx)
	l.quiet = true
	return c.queryAll(l, zone, name, qtype)
}

func (c *Client) queryAll(l lookup, zone *Zone, name string, qtype uint16) []*Response {
	out := make([]*Response, len(zone.Servers))
	if len(out) == 0 {
		return out
	}
	var wg sync.WaitGroup
	last := len(out) - 1
	for i, srv := range zone.Servers[:last] {
		wg.Go(func() { out[i] = c.query(l, srv, name, qtype) })
	}
	out[last] = c.query(l, zone.Servers[last], name, qtype) // this goroutine asks one
	wg.Wait()
	return out
}

// ask queries srv for name into resp and returns the CNAME target to ask
// about next, if the reply leaves one unanswered.
func (c *Client) ask(l lookup, srv Server, name string, resp *Response) string {
	resp.Answer, resp.SOA = nil, nil
	addr, err := c.authAddr(srv)
	if err != nil {
		resp.Outcome, resp.Err = NetError, err
		return ""
	}
	r, rtt, err := c.exchange(l, addr, name, resp.Qtype, c.limiter(addr), l.evidence(resp))
	if err != nil {
		resp.Outcome, resp.Err = errOutcome(err), err
		return ""
	}
	if resp.RTT == 0 {
		resp.RTT = rtt
	}
	return resp.interpret(r, name)
}

// askZone finds the zone of a CNAME target and asks its servers in turn
// until one gives an outcome that is not temporary. It returns that server
// and the next target, if any.
func (c *Client) askZone(l lookup, name string, resp *Response) (Server, string) {
	z := &Zone{}
	err := c.findZone(l, name, z, l.evidence(resp))
	if err != nil {
		resp.Err = err
		switch {
		case errors.Is(err, ErrNoZone):
			resp.Outcome = NXDomain
		case errors.Is(err, ErrNoServers):
			resp.Outcome = Lame
		default:
			resp.Outcome = NetError
		}
		return Server{}, ""
	}
	for _, srv := range z.Servers {
		next := c.ask(l, srv, name, resp)
		if !resp.Outcome.Temporary() {
			return srv, next
		}
	}
	return Server{}, ""
}

// interpret classifies r, the reply about name, into resp (RFC 2308 §2
// tells NXDOMAIN from NODATA) and returns the CNAME target to ask about
// next when the chain in r ends at a name r says nothing about.
func (resp *Response) interpret(r *dns.Msg, name string) string {
	resp.Err = nil
	switch r.Rcode {
	case dns.RcodeSuccess, dns.RcodeNameError:
	case dns.RcodeRefused:
		resp.Outcome, resp.Err = Refused, errors.New("server refused the query")
		return ""
	default:
		resp.Outcome, resp.Err = ServFail, fmt.Errorf("server answered %s", rcodeString(r.Rcode))
		return ""
	}
	if !r.Authoritative {
		resp.Outcome, resp.Err = Lame, errors.New("reply without the AA bit (a referral or cached data): the server is not authoritative for the name")
		return ""
	}
	answer, chain, end, err := chase(r.Answer, name, resp.Qtype, resp.CNAMEs)
	resp.CNAMEs = chain
	if err != nil {
		resp.Outcome, resp.Err = Loop, err
		return ""
	}
	for _, rr := range r.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			resp.SOA = soa
			break
		}
	}
	switch {
	case r.Rcode == dns.RcodeNameError: // about the chain's last name (RFC 6604 §2)
		resp.Outcome = NXDomain
	case len(answer) > 0:
		resp.Outcome, resp.Answer = Answer, answer
	default:
		resp.Outcome = NoData
		// A chain that leaves the server's zone ends without a SOA:
		// the target's data must be asked for.
		if resp.SOA == nil && !strings.EqualFold(end, name) {
			return end
		}
	}
	return ""
}

// chase follows name through the CNAMEs in rrs and returns the records of
// qtype at the end, chain extended with the CNAMEs followed, and the name
// the chain ends at. A chain that comes back to a name, or grows longer
// than MaxCNAMEs, is ErrCNAMELoop.
func chase(rrs []dns.RR, name string, qtype uint16, chain []*dns.CNAME) ([]dns.RR, []*dns.CNAME, string, error) {
	for {
		var answer []dns.RR
		var cname *dns.CNAME
		for _, rr := range rrs {
			if rr == nil || !strings.EqualFold(rr.Header().Name, name) {
				continue
			}
			if rr.Header().Rrtype == qtype {
				answer = append(answer, rr)
			} else if cn, ok := rr.(*dns.CNAME); ok && cname == nil {
				cname = cn
			}
		}
		if len(answer) > 0 || cname == nil || qtype == dns.TypeCNAME {
			return answer, chain, name, nil
		}
		chain = append(chain, cname)
		if len(chain) > MaxCNAMEs {
			return nil, chain, name, fmt.Errorf("%w: more than %d links from %s", ErrCNAMELoop, MaxCNAMEs, chain[0].Hdr.Name)
		}
		for _, cn := range chain {
			if strings.EqualFold(cn.Hdr.Name, cname.Target) {
				return nil, chain, name, fmt.Errorf("%w: %s points back to %s", ErrCNAMELoop, cname.Hdr.Name, cname.Target)
			}
		}
		name = cname.Target
	}
}

func rcodeString(rcode int) string {
	if s, ok := dns.RcodeToString[rcode]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", rcode)
}

// Serial is the serial of the SOA record in the answer of a SOA query;
// ok is false when the server gave no such answer.
func (r *Response) Serial() (serial uint32, ok bool) {
	if r == nil || r.Outcome != Answer {
		return 0, false
	}
	for _, rr := range r.Answer {
		if soa, ok := rr.(*dns.SOA); ok {
			return soa.Serial, true
		}
	}
	return 0, false
}

// evidence is where the queries of resp are written, nil for a quiet lookup.
func (l lookup) evidence(resp *Response) *[]string {
	if l.quiet {
		return nil
	}
	return &resp.Evidence
}
