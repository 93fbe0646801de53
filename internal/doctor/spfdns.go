package doctor

import (
	"context"
	"net"
	"strings"

	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/dnsclient"
)

// spfResolver lets blitiri.com.ar/go/spf evaluate a record through
// dnsclient, asking the authoritative servers of each name it looks up.
// The record under test is given rather than looked up, so that each
// server's version of it can be evaluated.
type spfResolver struct {
	d      *Doctor
	domain string // canonical
	record string
}

func (s *spfResolver) lookup(ctx context.Context, name string, qtype uint16) (*dnsclient.Response, error) {
	resp := s.d.cache.lookup(ctx, s.d.Client, key(name, qtype))
	// net.Resolver's conventions, which the library relies on:
	// IsNotFound for a name that does not exist, IsTemporary for a
	// failure, and no error for a name without records of the type.
	switch {
	case resp.Outcome == dnsclient.NXDomain:
		return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	case resp.Outcome.Temporary() || resp.Outcome == dnsclient.Loop:
		// The outcome, not the error text: that names local ports,
		// which change from run to run.
		return nil, &net.DNSError{Err: outcomeText[resp.Outcome], Name: name, Server: serverID(resp.Server),
			IsTemporary: true, IsTimeout: resp.Outcome == dnsclient.Timeout}
	}
	return resp, nil
}

var outcomeText = map[dnsclient.Outcome]string{
	dnsclient.ServFail: "server failure (SERVFAIL)",
	dnsclient.Refused:  "query refused",
	dnsclient.Timeout:  "timed out",
	dnsclient.NetError: "network error",
	dnsclient.Lame:     "answer without authority",
	dnsclient.Loop:     "CNAME loop",
}

func (s *spfResolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	if dns.CanonicalName(name) == s.domain {
		return []string{s.record}, nil
	}
	resp, err := s.lookup(ctx, name, dns.TypeTXT)
	if err != nil {
		return nil, err
	}
	return txtValues(resp), nil
}

func (s *spfResolver) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	resp, err := s.lookup(ctx, name, dns.TypeMX)
	if err != nil {
		return nil, err
	}
	var out []*net.MX
	for _, rr := range resp.Answer {
		if mx, ok := rr.(*dns.MX); ok {
			out = append(out, &net.MX{Host: mx.Mx, Pref: mx.Preference})
		}
	}
	return out, nil
}

func (s *spfResolver) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	var out []net.IPAddr
	for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
		resp, err := s.lookup(ctx, host, qtype)
		if err != nil {
			return nil, err
		}
		for _, rr := range resp.Answer {
			switch rr := rr.(type) {
			case *dns.A:
				out = append(out, net.IPAddr{IP: rr.A})
			case *dns.AAAA:
				out = append(out, net.IPAddr{IP: rr.AAAA})
			}
		}
	}
	return out, nil
}

func (s *spfResolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	rev, err := dns.ReverseAddr(addr)
	if err != nil {
		return nil, &net.DNSError{Err: err.Error(), Name: addr}
	}
	resp, err := s.lookup(ctx, rev, dns.TypePTR)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, rr := range resp.Answer {
		if p, ok := rr.(*dns.PTR); ok {
			out = append(out, strings.ToLower(p.Ptr))
		}
	}
	return out, nil
}
