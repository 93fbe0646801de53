// Package dnstest runs real authoritative DNS servers on loopback for tests,
// in the manner of net/http/httptest.
//
// A Server answers from zone-file text, can be edited while it serves, can
// be told to misbehave (Fault) and records every query it receives, so a
// test can assert on what a client actually asked and how.
package dnstest

import (
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// Fault makes a Server misbehave in one of the ways real name servers do.
type Fault int

const (
	// NoFault answers normally.
	NoFault Fault = iota
	// ServFail answers every query with SERVFAIL.
	ServFail
	// Refused answers every query with REFUSED, as a lame server does.
	Refused
	// Drop reads queries and never answers, so clients time out.
	Drop
	// Truncate answers UDP queries with an empty reply that has the TC bit
	// set, so clients must retry over TCP (RFC 7766 §5).
	Truncate
	// LowercaseTXT lowercases TXT strings in answers, as some DNS providers
	// do to the records their customers enter.
	LowercaseTXT
	// Bogus answers SERVFAIL unless the query sets the CD (checking
	// disabled) bit, as a validating resolver does for a zone whose DNSSEC
	// chain of trust is broken (RFC 4035 §3.2.2, §5.5).
	Bogus
)

// Query is one query a Server received.
type Query struct {
	Name    string // as asked, case preserved
	Type    uint16
	Net     string // "udp" or "tcp"
	ID      uint16
	RD      bool   // recursion desired
	UDPSize uint16 // EDNS0 payload size (RFC 6891); 0 if the query had no OPT record
}

// Server is an authoritative DNS server listening on UDP and TCP on the
// same loopback address and port.
type Server struct {
	Addr string // host:port, for UDP and TCP alike
	Port string // the port alone, to start more servers on the same port

	t       testing.TB
	servers []*dns.Server // started ones, for Close

	mu    sync.Mutex
	zones map[string]*zone // by lower-case origin
	fault Fault
	log   []Query
}

// NewServer starts a server on addr ("127.0.0.2:5353", or a host alone for
// a free port; "" means "127.0.0.1") and stops it when the test ends.
// Several servers can share a port on different loopback addresses
// (127.0.0.1, 127.0.0.2, ...), like the name servers of a real domain.
func NewServer(t testing.TB, addr string) *Server {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil { // no port given
		host, port = addr, "0"
	}
	if host == "" {
		host = "127.0.0.1"
	}
	pc, l, err := listen(host, port)
	if err != nil {
		t.Fatalf("dnstest: listen on %s port %s: %v", host, port, err)
	}
	return serve(t, pc, l)
}

// NewServers starts one server on each of the loopback addresses hosts,
// all on the same port, as real name servers all listen on port 53. The
// port is one that is free on every address: when the first address's
// port is taken on another (by another test process), it tries others.
func NewServers(t testing.TB, hosts ...string) []*Server {
	t.Helper()
	type pair struct {
		pc net.PacketConn
		l  net.Listener
	}
	for try := 0; ; try++ {
		var got []pair
		var err error
		port := "0"
		for _, h := range hosts {
			var p pair
			if p.pc, p.l, err = listen(h, port); err != nil {
				break
			}
			got = append(got, p)
			_, port, _ = net.SplitHostPort(p.l.Addr().String())
		}
		if err == nil {
			out := make([]*Server, len(got))
			for i, p := range got {
				out[i] = serve(t, p.pc, p.l)
			}
			return out
		}
		for _, p := range got {
			p.pc.Close()
			p.l.Close()
		}
		if try == 20 {
			t.Fatalf("dnstest: no port free on all of %v: %v", hosts, err)
		}
	}
}

func serve(t testing.TB, pc net.PacketConn, l net.Listener) *Server {
	t.Helper()
	s := &Server{
		Addr:  l.Addr().String(),
		t:     t,
		zones: make(map[string]*zone),
	}
	_, s.Port, _ = net.SplitHostPort(s.Addr)
	t.Cleanup(s.Close)

	h := dns.HandlerFunc(s.serveDNS)
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: l, Handler: h}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		failed := make(chan error, 1)
		go func() { failed <- srv.ActivateAndServe() }()
		select {
		case <-started:
			s.servers = append(s.servers, srv)
		case err := <-failed:
			pc.Close()
			l.Close()
			t.Fatalf("dnstest: serve on %s: %v", s.Addr, err)
		}
	}
	return s
}

// listen opens UDP and TCP on the same port. With port "0" the kernel picks
// the UDP port, which may be taken for TCP: then it tries another.
func listen(host, port string) (net.PacketConn, net.Listener, error) {
	for try := 0; ; try++ {
		pc, err := net.ListenPacket("udp", net.JoinHostPort(host, port))
		if err != nil {
			return nil, nil, err
		}
		p := strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port)
		l, err := net.Listen("tcp", net.JoinHostPort(host, p))
		if err == nil {
			return pc, l, nil
		}
		pc.Close()
		if port != "0" || try == 10 {
			return nil, nil, err
		}
	}
}

// Close stops the server. It is called when the test ends and may be
// called earlier, more than once.
func (s *Server) Close() {
	s.mu.Lock()
	servers := s.servers
	s.servers = nil
	s.mu.Unlock()
	for _, srv := range servers {
		srv.Shutdown()
	}
}

// SetFault makes the server misbehave from now on; NoFault restores it.
func (s *Server) SetFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = f
}

// Queries returns the queries received so far, oldest first.
func (s *Server) Queries() []Query {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Query(nil), s.log...)
}

// ResetQueries forgets the queries received so far.
func (s *Server) ResetQueries() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = nil
}

func (s *Server) serveDNS(w dns.ResponseWriter, req *dns.Msg) {
	network := "udp"
	if _, ok := w.LocalAddr().(*net.TCPAddr); ok {
		network = "tcp"
	}
	reply := new(dns.Msg).SetReply(req)
	if len(req.Question) != 1 { // the default accept func already rejects these
		w.WriteMsg(reply.SetRcode(req, dns.RcodeFormatError))
		return
	}
	q := req.Question[0]
	entry := Query{Name: q.Name, Type: q.Qtype, Net: network, ID: req.Id, RD: req.RecursionDesired}
	opt := req.IsEdns0()
	if opt != nil {
		entry.UDPSize = opt.UDPSize()
	}

	s.mu.Lock()
	s.log = append(s.log, entry)
	fault := s.fault
	s.answer(reply, q)
	s.mu.Unlock()

	switch fault {
	case ServFail:
		reply = new(dns.Msg).SetRcode(req, dns.RcodeServerFailure)
	case Bogus:
		if !req.CheckingDisabled {
			reply = new(dns.Msg).SetRcode(req, dns.RcodeServerFailure)
		}
	case Refused:
		reply = new(dns.Msg).SetRcode(req, dns.RcodeRefused)
	case Drop:
		return
	case Truncate:
		if network == "udp" {
			reply.Answer, reply.Ns, reply.Extra = nil, nil, nil
			reply.Truncated = true
		}
	case LowercaseTXT:
		lowercaseTXT(reply.Answer)
	}

	// RFC 6891 §6.2.3: a UDP reply must fit the requester's payload size,
	// or 512 octets without EDNS0 (RFC 1035 §4.2.1); Truncate sets TC.
	size := dns.MinMsgSize
	if opt != nil {
		reply.SetEdns0(1232, false)
		size = max(int(opt.UDPSize()), size)
	}
	if network == "udp" {
		reply.Truncate(size)
	}
	w.WriteMsg(reply)
}

func lowercaseTXT(rrs []dns.RR) {
	for i, rr := range rrs {
		if txt, ok := rr.(*dns.TXT); ok {
			txt = dns.Copy(txt).(*dns.TXT) // zone data is shared
			for j := range txt.Txt {
				txt.Txt[j] = strings.ToLower(txt.Txt[j])
			}
			rrs[i] = txt
		}
	}
}
