// Package dnsserver is Sesame's authoritative DNS server for the Easy DKIM
// zone (--dkim-domain): customers' CNAMEs <token>._domainkey.<domain> point
// at <token>.<dkim domain>, and this server answers there with the key
// that Sesame signs with, so keys can be rotated without the customer
// touching DNS (SES's design). It answers as an authoritative server must
// (RFC 1034 §4.3.2, RFC 2308): the zone's SOA and NS at the apex, TXT at
// each token's name, NODATA and NXDOMAIN with the SOA, REFUSED outside the
// zone; EDNS0 (RFC 6891), truncation and TCP; and a response rate limit per
// client network against reflection.
package dnsserver

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Keys are the public keys the zone publishes.
type Keys interface {
	// DKIMKey returns the TXT value published at <selector>.<zone>
	// ("v=DKIM1; k=rsa; p=..."), or ok false when no key has that
	// selector. Selectors are lower case.
	DKIMKey(ctx context.Context, selector string) (value string, ok bool, err error)
}

// Server answers for one zone.
type Server struct {
	// Zone is the DKIM domain, e.g. "dkim.example.net".
	Zone string
	// NS are the zone's name servers (host names); at least one.
	NS []string
	// Mbox is the SOA's responsible mailbox in DNS form
	// ("hostmaster.example.net"); "" means hostmaster.<zone>.
	Mbox string
	// Serial is the SOA serial; 0 means the server's start time. Keys are
	// read at each query, so the serial does not follow them; secondaries
	// are not expected (the zone is served by Sesame's replicas).
	Serial uint32
	// TTL of the answers (the keys' and the NS'); 0 means DefaultTTL.
	TTL uint32
	// Keys answers for the tokens.
	Keys Keys
	// RateLimit is the responses a second to one client network (/24 for
	// IPv4, /56 for IPv6) beyond which responses are dropped, every second
	// one sent truncated instead so that real resolvers retry over TCP;
	// 0 means DefaultRateLimit, negative none.
	RateLimit int
	Log       *slog.Logger

	rrl *limiter
}

const (
	DefaultTTL       = 300
	DefaultRateLimit = 100
	// maxUDP is the largest UDP reply sent, whatever the client offers:
	// the DNS flag day 2020 value, below common path MTUs.
	maxUDP = 1232
	// lookupTimeout bounds the store lookup of one query.
	lookupTimeout = 2 * time.Second
)

func (s *Server) zone() string { return dns.CanonicalName(s.Zone) }

func (s *Server) ttl() uint32 {
	if s.TTL == 0 {
		return DefaultTTL
	}
	return s.TTL
}

func (s *Server) soa() *dns.SOA {
	mbox := s.Mbox
	if mbox == "" {
		mbox = "hostmaster." + s.zone()
	}
	serial := s.Serial
	if serial == 0 {
		serial = uint32(time.Now().Unix())
		s.Serial = serial
	}
	ns := "ns." + s.zone()
	if len(s.NS) > 0 {
		ns = s.NS[0]
	}
	return &dns.SOA{
		Hdr: dns.RR_Header{Name: s.zone(), Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: s.ttl()},
		Ns:  dns.Fqdn(ns), Mbox: dns.Fqdn(mbox), Serial: serial,
		Refresh: 3600, Retry: 600, Expire: 604800,
		// The negative TTL: a resolver keeps an NXDOMAIN for a new token
		// this long (RFC 2308 §5), so keep it short.
		Minttl: 60,
	}
}

// Validate reports settings that cannot serve.
func (s *Server) Validate() error {
	if _, ok := dns.IsDomainName(s.Zone); !ok || s.Zone == "" || s.Zone == "." {
		return errors.New("the DKIM zone must be a domain name, such as dkim.example.net")
	}
	if len(s.NS) == 0 {
		return errors.New("the DKIM zone needs at least one name server name (--dns-ns)")
	}
	for _, ns := range s.NS {
		if _, ok := dns.IsDomainName(ns); !ok {
			return errors.New("name server " + ns + " is not a host name")
		}
	}
	if s.Keys == nil {
		return errors.New("no key source")
	}
	return nil
}

// ListenAndServe serves UDP and TCP on addr until ctx ends.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	if err := s.Validate(); err != nil {
		return err
	}
	pcs, l, err := Listen(addr)
	if err != nil {
		return err
	}
	return s.ServeAll(ctx, pcs, l)
}

// Serve answers on pc (UDP) and l (TCP) until ctx ends, then closes them.
func (s *Server) Serve(ctx context.Context, pc net.PacketConn, l net.Listener) error {
	return s.ServeAll(ctx, []net.PacketConn{pc}, l)
}

// ServeAll answers on the UDP sockets pcs (those of Listen) and l (TCP)
// until ctx ends, then closes them.
func (s *Server) ServeAll(ctx context.Context, pcs []net.PacketConn, l net.Listener) error {
	s.soa() // fix the serial before the first query
	if s.rrl == nil && s.RateLimit >= 0 {
		s.rrl = newLimiter(cmp.Or(s.RateLimit, DefaultRateLimit))
	}
	h := dns.HandlerFunc(s.ServeDNS)
	servers := []*dns.Server{
		// TCP: idle connections are closed, and each holds at most one
		// query's worth of buffer (miekg/dns reads one message at a time).
		{Listener: l, Handler: h, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second, IdleTimeout: func() time.Duration { return 10 * time.Second }},
	}
	for _, pc := range pcs {
		servers = append(servers, &dns.Server{PacketConn: pc, Handler: h})
	}
	errs := make(chan error, len(servers))
	for _, srv := range servers {
		go func() { errs <- srv.ActivateAndServe() }()
	}
	select {
	case <-ctx.Done():
	case err := <-errs:
		for _, srv := range servers {
			srv.Shutdown()
		}
		return err
	}
	for _, srv := range servers {
		srv.Shutdown()
	}
	return nil
}

// ServeDNS answers one query.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	udp := w.LocalAddr().Network() == "udp"
	if udp && s.rrl != nil {
		switch s.rrl.allow(w.RemoteAddr()) {
		case drop:
			queries.WithLabelValues("dropped").Inc()
			return
		case slip:
			m := new(dns.Msg)
			m.SetReply(req)
			m.Truncated, m.Authoritative = true, true
			queries.WithLabelValues("truncated").Inc()
			w.WriteMsg(m)
			return
		}
	}
	m := s.answer(req)
	size := dns.MinMsgSize
	if opt := req.IsEdns0(); opt != nil {
		size = int(min(max(opt.UDPSize(), dns.MinMsgSize), maxUDP))
	}
	// Packed once: nearly every answer fits, and m.Truncate would pack it
	// a first time only to measure it.
	buf, err := m.Pack()
	if err == nil && udp && len(buf) > size {
		m.Truncate(size) // sets TC when the answer does not fit: the client asks again over TCP
		buf, err = m.Pack()
	}
	if err != nil {
		if s.Log != nil {
			s.Log.Warn("dns reply not packed", "question", req.Question, "err", err)
		}
		m = new(dns.Msg)
		m.SetRcode(req, dns.RcodeServerFailure)
		if buf, err = m.Pack(); err != nil {
			return
		}
	}
	queries.WithLabelValues(dns.RcodeToString[m.Rcode]).Inc()
	if _, err := w.Write(buf); err != nil && s.Log != nil {
		s.Log.Debug("dns reply not sent", "client", w.RemoteAddr().String(), "err", err)
	}
}

// answer builds the reply to req.
func (s *Server) answer(req *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(req)
	m.RecursionAvailable = false
	if opt := req.IsEdns0(); opt != nil {
		if opt.Version() != 0 {
			// RFC 6891 §6.1.3: BADVERS, with our OPT.
			m.SetEdns0(maxUDP, false)
			m.Rcode = dns.RcodeBadVers
			return m
		}
		m.SetEdns0(maxUDP, false)
	}
	if req.Opcode != dns.OpcodeQuery {
		m.Rcode = dns.RcodeNotImplemented
		return m
	}
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		return m
	}
	q := req.Question[0]
	name := dns.CanonicalName(q.Name)
	zone := s.zone()
	if q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY || !dns.IsSubDomain(zone, name) {
		m.Rcode = dns.RcodeRefused
		return m
	}
	switch q.Qtype {
	case dns.TypeAXFR, dns.TypeIXFR:
		m.Rcode = dns.RcodeRefused // no transfers: the keys come from the store
		return m
	}
	m.Authoritative = true
	if name == zone {
		switch q.Qtype {
		case dns.TypeSOA:
			m.Answer = append(m.Answer, s.soa())
		case dns.TypeNS:
			m.Answer = append(m.Answer, s.nsRRs()...)
		case dns.TypeANY:
			m.Answer = append(m.Answer, s.soa())
			m.Answer = append(m.Answer, s.nsRRs()...)
		default:
			m.Ns = append(m.Ns, s.soa())
		}
		return s.keepCase(m, q.Name)
	}
	// One label below the apex is a token; anything deeper does not exist.
	selector := strings.TrimSuffix(name, "."+zone)
	value, ok := "", false
	if !strings.Contains(selector, ".") {
		ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
		var err error
		value, ok, err = s.Keys.DKIMKey(ctx, selector)
		cancel()
		if err != nil {
			if s.Log != nil {
				s.Log.Warn("dkim key lookup failed", "selector", selector, "err", err)
			}
			m.Authoritative = false
			m.Rcode = dns.RcodeServerFailure
			return m
		}
	}
	if !ok {
		m.Rcode = dns.RcodeNameError
		m.Ns = append(m.Ns, s.soa())
		return s.keepCase(m, q.Name)
	}
	if q.Qtype == dns.TypeTXT || q.Qtype == dns.TypeANY {
		m.Answer = append(m.Answer, &dns.TXT{
			Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: s.ttl()},
			Txt: Split(value),
		})
	} else {
		m.Ns = append(m.Ns, s.soa()) // NODATA
	}
	return s.keepCase(m, q.Name)
}

func (s *Server) nsRRs() []dns.RR {
	var out []dns.RR
	for _, ns := range s.NS {
		out = append(out, &dns.NS{Hdr: dns.RR_Header{Name: s.zone(), Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: s.ttl()}, Ns: dns.Fqdn(ns)})
	}
	return out
}

// keepCase gives the answers the owner name as the query spelled it:
// resolvers that randomise the case of queries (0x20) compare it.
func (s *Server) keepCase(m *dns.Msg, qname string) *dns.Msg {
	for _, rr := range m.Answer {
		if strings.EqualFold(rr.Header().Name, qname) {
			rr.Header().Name = qname
		}
	}
	return m
}

// Split cuts a TXT value into character-strings of at most 255 octets, as
// DNS requires (RFC 1035 §3.3.14); a DKIM verifier joins them (RFC 6376
// §3.6.2.2). The strings are in miekg/dns's zone-file form: the key's
// base64 needs no escapes.
func Split(value string) []string {
	var out []string
	for len(value) > 255 {
		out = append(out, value[:255])
		value = value[255:]
	}
	return append(out, value)
}
