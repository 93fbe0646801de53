package dnsserver

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// keys is a small real key source: a map, and a failure to report.
type keys struct {
	mu   sync.Mutex
	m    map[string]string
	fail bool
}

func (k *keys) DKIMKey(_ context.Context, sel string) (string, bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fail {
		return "", false, context.DeadlineExceeded
	}
	v, ok := k.m[sel]
	return v, ok, nil
}

// longKey is the size of a 2048-bit key's record: more than one string.
var longKey = "v=DKIM1; k=rsa; p=" + strings.Repeat("A", 392)

func start(t *testing.T, s *Server) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, pc, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	addr := pc.LocalAddr().String()
	// Ready when it answers.
	for i := 0; ; i++ {
		c := &dns.Client{Timeout: 100 * time.Millisecond}
		m := new(dns.Msg)
		m.SetQuestion("dkim.example.test.", dns.TypeSOA)
		if _, _, err := c.Exchange(m, addr); err == nil {
			break
		} else if i > 50 {
			t.Fatalf("server on %s does not answer: %v", addr, err)
		}
	}
	return addr
}

func newServer() (*Server, *keys) {
	k := &keys{m: map[string]string{"tok1": "v=DKIM1; k=rsa; p=MIGf", "tok2": longKey}}
	return &Server{Zone: "dkim.example.test", NS: []string{"ns1.example.test", "ns2.example.test"}, Serial: 7, Keys: k, RateLimit: -1}, k
}

func ask(t *testing.T, net, addr, name string, qtype uint16, edns bool) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: net, Timeout: time.Second}
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	if edns {
		m.SetEdns0(4096, false)
	}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %s over %s: %v", name, dns.TypeToString[qtype], net, err)
	}
	return r
}

func TestAnswers(t *testing.T) {
	s, k := newServer()
	addr := start(t, s)
	for _, c := range []struct {
		name   string
		qtype  uint16
		rcode  int
		answer int
		soa    bool // in the authority section
	}{
		{name: "tok1.dkim.example.test.", qtype: dns.TypeTXT, rcode: dns.RcodeSuccess, answer: 1},
		{name: "TOK1.Dkim.Example.Test.", qtype: dns.TypeTXT, rcode: dns.RcodeSuccess, answer: 1},
		{name: "tok1.dkim.example.test.", qtype: dns.TypeA, rcode: dns.RcodeSuccess, soa: true},
		{name: "nope.dkim.example.test.", qtype: dns.TypeTXT, rcode: dns.RcodeNameError, soa: true},
		{name: "a.tok1.dkim.example.test.", qtype: dns.TypeTXT, rcode: dns.RcodeNameError, soa: true},
		{name: "dkim.example.test.", qtype: dns.TypeSOA, rcode: dns.RcodeSuccess, answer: 1},
		{name: "dkim.example.test.", qtype: dns.TypeNS, rcode: dns.RcodeSuccess, answer: 2},
		{name: "dkim.example.test.", qtype: dns.TypeTXT, rcode: dns.RcodeSuccess, soa: true},
		{name: "example.test.", qtype: dns.TypeSOA, rcode: dns.RcodeRefused},
		{name: "dkim.example.test.", qtype: dns.TypeAXFR, rcode: dns.RcodeRefused},
	} {
		for _, network := range []string{"udp", "tcp"} {
			r := ask(t, network, addr, c.name, c.qtype, true)
			gotSOA := len(r.Ns) == 1 && r.Ns[0].Header().Rrtype == dns.TypeSOA
			if r.Rcode != c.rcode || len(r.Answer) != c.answer || gotSOA != c.soa || (c.rcode != dns.RcodeRefused) != r.Authoritative || r.RecursionAvailable {
				t.Errorf("%s %s over %s: %s, %d answers, SOA %v, AA %v; want %s, %d, %v", c.name, dns.TypeToString[c.qtype], network,
					dns.RcodeToString[r.Rcode], len(r.Answer), gotSOA, r.Authoritative, dns.RcodeToString[c.rcode], c.answer, c.soa)
			}
			for _, rr := range r.Answer {
				if rr.Header().Name != c.name {
					t.Errorf("owner %q, want the query's spelling %q", rr.Header().Name, c.name)
				}
			}
		}
	}

	// A long key is split into strings of at most 255 octets, which join
	// back to the value.
	r := ask(t, "udp", addr, "tok2.dkim.example.test.", dns.TypeTXT, true)
	txt := r.Answer[0].(*dns.TXT)
	if len(txt.Txt) != 2 || len(txt.Txt[0]) != 255 || strings.Join(txt.Txt, "") != longKey {
		t.Errorf("long key served as %d strings %q", len(txt.Txt), txt.Txt)
	}
	if r.IsEdns0() == nil {
		t.Error("no OPT in the reply to an EDNS0 query")
	}

	// The store failing is SERVFAIL, not NXDOMAIN: a resolver must not
	// cache the key as gone.
	k.mu.Lock()
	k.fail = true
	k.mu.Unlock()
	if r := ask(t, "udp", addr, "tok1.dkim.example.test.", dns.TypeTXT, false); r.Rcode != dns.RcodeServerFailure {
		t.Errorf("with the store failing: %s", dns.RcodeToString[r.Rcode])
	}
}

// TestTruncation: an answer that does not fit the client's UDP size is
// truncated, and comes whole over TCP.
func TestTruncation(t *testing.T) {
	s, k := newServer()
	k.m["big"] = "v=DKIM1; k=rsa; p=" + strings.Repeat("B", 700) // a 4096-bit key's size
	addr := start(t, s)
	r := ask(t, "udp", addr, "big.dkim.example.test.", dns.TypeTXT, false)
	if !r.Truncated || len(r.Answer) != 0 {
		t.Errorf("512-byte UDP: TC %v, %d answers; want truncated", r.Truncated, len(r.Answer))
	}
	if r := ask(t, "tcp", addr, "big.dkim.example.test.", dns.TypeTXT, false); r.Truncated || len(r.Answer) != 1 {
		t.Errorf("TCP: TC %v, %d answers", r.Truncated, len(r.Answer))
	}
	if r := ask(t, "udp", addr, "big.dkim.example.test.", dns.TypeTXT, true); r.Truncated || len(r.Answer) != 1 {
		t.Errorf("EDNS0 UDP: TC %v, %d answers", r.Truncated, len(r.Answer))
	}
}

func TestBadQueries(t *testing.T) {
	s, _ := newServer()
	addr := start(t, s)
	c := &dns.Client{Timeout: time.Second}
	m := new(dns.Msg)
	m.SetQuestion("tok1.dkim.example.test.", dns.TypeTXT)
	m.SetEdns0(1232, false)
	m.IsEdns0().SetVersion(1)
	if r, _, err := c.Exchange(m, addr); err != nil || r.Rcode != dns.RcodeBadVers {
		t.Errorf("EDNS version 1: %v %v", r, err)
	}
	m = new(dns.Msg)
	m.SetNotify("dkim.example.test.")
	if r, _, err := c.Exchange(m, addr); err != nil || r.Rcode != dns.RcodeNotImplemented {
		t.Errorf("NOTIFY: %v %v", r, err)
	}
}

// TestRateLimit: past the limit a client network gets every other reply
// truncated and the rest dropped; another network is not affected.
func TestRateLimit(t *testing.T) {
	l := newLimiter(5)
	at := time.Unix(0, 0)
	l.now = func() time.Time { return at }
	a := &net.UDPAddr{IP: net.ParseIP("192.0.2.10"), Port: 1}
	b := &net.UDPAddr{IP: net.ParseIP("192.0.2.200"), Port: 2} // same /24
	other := &net.UDPAddr{IP: net.ParseIP("198.51.100.1"), Port: 3}
	var got []verdict
	for range 5 {
		got = append(got, l.allow(a))
	}
	got = append(got, l.allow(b), l.allow(a), l.allow(b))
	want := []verdict{send, send, send, send, send, slip, drop, slip}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("responses %v, want %v", got, want)
		}
	}
	if v := l.allow(other); v != send {
		t.Errorf("another network: %v", v)
	}
	at = at.Add(time.Second) // refilled
	if v := l.allow(a); v != send {
		t.Errorf("a second later: %v", v)
	}
}

func TestValidate(t *testing.T) {
	for _, s := range []*Server{{Zone: "", NS: []string{"ns"}, Keys: &keys{}}, {Zone: "dkim.example.test", Keys: &keys{}}, {Zone: "dkim.example.test", NS: []string{"ns"}}} {
		if err := s.Validate(); err == nil {
			t.Errorf("%+v: no error", s)
		}
	}
}

// FuzzServeDNS answers any message without panicking.
func FuzzServeDNS(f *testing.F) {
	s, _ := newServer()
	m := new(dns.Msg)
	m.SetQuestion("tok1.dkim.example.test.", dns.TypeTXT)
	b, _ := m.Pack()
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		var req dns.Msg
		if req.Unpack(b) != nil {
			return
		}
		s.answer(&req)
	})
}
