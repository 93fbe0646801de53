package dnstest

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

const exampleZone = `
@          SOA   ns1 hostmaster 1 7200 3600 1209600 60
@          NS    ns1
ns1        A     127.0.0.1
_amazonses TXT   "AbC/dEf="
a.b        A     192.0.2.1
www        CNAME web
web        A     192.0.2.2
away       CNAME target.other.test.
sub        NS    ns.sub
ns.sub     A     127.0.0.2
*.wild     TXT   "any"
here.wild  A     192.0.2.3
`

// ask sends one query over network and returns the reply.
func ask(t *testing.T, s *Server, network, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg).SetQuestion(name, qtype)
	c := &dns.Client{Net: network, Timeout: 5 * time.Second}
	r, _, err := c.Exchange(m, s.Addr)
	if err != nil {
		t.Fatalf("%s %s over %s: %v", name, dns.TypeToString[qtype], network, err)
	}
	return r
}

func strs(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		out = append(out, rr.String())
	}
	return out
}

func TestAnswer(t *testing.T) {
	s := NewServer(t, "")
	s.SetZone("example.test.", exampleZone)
	soa := []string{"example.test.\t60\tIN\tSOA\tns1.example.test. hostmaster.example.test. 1 7200 3600 1209600 60"}

	tests := []struct {
		name   string
		qname  string
		qtype  uint16
		rcode  int
		aa     bool
		answer []string
		ns     []string
		extra  []string
	}{
		{name: "answer", qname: "_amazonses.example.test.", qtype: dns.TypeTXT, rcode: dns.RcodeSuccess, aa: true,
			answer: []string{"_amazonses.example.test.\t300\tIN\tTXT\t\"AbC/dEf=\""}},
		{name: "case insensitive", qname: "_AmazonSES.Example.TEST.", qtype: dns.TypeTXT, rcode: dns.RcodeSuccess, aa: true,
			answer: []string{"_amazonses.example.test.\t300\tIN\tTXT\t\"AbC/dEf=\""}},
		{name: "nodata", qname: "_amazonses.example.test.", qtype: dns.TypeMX, rcode: dns.RcodeSuccess, aa: true, ns: soa},
		{name: "nxdomain", qname: "nope.example.test.", qtype: dns.TypeTXT, rcode: dns.RcodeNameError, aa: true, ns: soa},
		{name: "empty non-terminal", qname: "b.example.test.", qtype: dns.TypeA, rcode: dns.RcodeSuccess, aa: true, ns: soa},
		{name: "cname chased", qname: "www.example.test.", qtype: dns.TypeA, rcode: dns.RcodeSuccess, aa: true,
			answer: []string{"www.example.test.\t300\tIN\tCNAME\tweb.example.test.", "web.example.test.\t300\tIN\tA\t192.0.2.2"}},
		{name: "cname asked", qname: "www.example.test.", qtype: dns.TypeCNAME, rcode: dns.RcodeSuccess, aa: true,
			answer: []string{"www.example.test.\t300\tIN\tCNAME\tweb.example.test."}},
		{name: "cname out of zone", qname: "away.example.test.", qtype: dns.TypeTXT, rcode: dns.RcodeSuccess, aa: true,
			answer: []string{"away.example.test.\t300\tIN\tCNAME\ttarget.other.test."}},
		{name: "delegation", qname: "x.sub.example.test.", qtype: dns.TypeTXT, rcode: dns.RcodeSuccess, aa: false,
			ns:    []string{"sub.example.test.\t300\tIN\tNS\tns.sub.example.test."},
			extra: []string{"ns.sub.example.test.\t300\tIN\tA\t127.0.0.2"}},
		{name: "wildcard", qname: "x.wild.example.test.", qtype: dns.TypeTXT, rcode: dns.RcodeSuccess, aa: true,
			answer: []string{"x.wild.example.test.\t300\tIN\tTXT\t\"any\""}},
		{name: "wildcard below a name that does not exist", qname: "a.x.wild.example.test.", qtype: dns.TypeTXT, rcode: dns.RcodeSuccess, aa: true,
			answer: []string{"a.x.wild.example.test.\t300\tIN\tTXT\t\"any\""}},
		{name: "no wildcard for a name that exists", qname: "here.wild.example.test.", qtype: dns.TypeTXT, rcode: dns.RcodeSuccess, aa: true, ns: soa},
		{name: "no wildcard below another encloser", qname: "x.here.wild.example.test.", qtype: dns.TypeTXT, rcode: dns.RcodeNameError, aa: true, ns: soa},
		{name: "outside zones", qname: "example.org.", qtype: dns.TypeA, rcode: dns.RcodeRefused},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := ask(t, s, "udp", tc.qname, tc.qtype)
			if r.Rcode != tc.rcode || r.Authoritative != tc.aa {
				t.Errorf("rcode %s aa %v, want %s aa %v", dns.RcodeToString[r.Rcode], r.Authoritative, dns.RcodeToString[tc.rcode], tc.aa)
			}
			if diff := cmp.Diff(tc.answer, strs(r.Answer)); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.ns, strs(r.Ns)); diff != "" {
				t.Errorf("authority (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.extra, strs(r.Extra)); diff != "" {
				t.Errorf("additional (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEdit(t *testing.T) {
	s := NewServer(t, "")
	s.SetZone("example.test.", exampleZone)
	const rr = "_amazonses.example.test. 60 IN TXT \"second\""

	s.AddRR(rr)
	if got := len(ask(t, s, "udp", "_amazonses.example.test.", dns.TypeTXT).Answer); got != 2 {
		t.Errorf("after AddRR: %d TXT records, want 2", got)
	}
	s.RemoveRR(rr)
	s.RemoveRR("_amazonses.example.test. IN TXT \"AbC/dEf=\"")
	if r := ask(t, s, "udp", "_amazonses.example.test.", dns.TypeTXT); r.Rcode != dns.RcodeNameError {
		t.Errorf("after RemoveRR: %s, want NXDOMAIN", dns.RcodeToString[r.Rcode])
	}
	s.SetZone("example.test.", "@ SOA ns1 hostmaster 2 7200 3600 1209600 60\n@ TXT replaced")
	if r := ask(t, s, "udp", "example.test.", dns.TypeTXT); len(r.Answer) != 1 {
		t.Errorf("after SetZone: answer %v, want the new TXT", r.Answer)
	}
}

func TestFaults(t *testing.T) {
	s := NewServer(t, "")
	s.SetZone("example.test.", exampleZone)
	const name = "_amazonses.example.test."

	s.SetFault(ServFail)
	if r := ask(t, s, "udp", name, dns.TypeTXT); r.Rcode != dns.RcodeServerFailure {
		t.Errorf("ServFail: rcode %s", dns.RcodeToString[r.Rcode])
	}
	s.SetFault(Refused)
	if r := ask(t, s, "tcp", name, dns.TypeTXT); r.Rcode != dns.RcodeRefused {
		t.Errorf("Refused: rcode %s", dns.RcodeToString[r.Rcode])
	}
	s.SetFault(Truncate)
	if r := ask(t, s, "udp", name, dns.TypeTXT); !r.Truncated || len(r.Answer) != 0 {
		t.Errorf("Truncate over UDP: tc %v answer %v, want tc and no answer", r.Truncated, r.Answer)
	}
	if r := ask(t, s, "tcp", name, dns.TypeTXT); r.Truncated || len(r.Answer) != 1 {
		t.Errorf("Truncate over TCP: tc %v answer %v, want the answer", r.Truncated, r.Answer)
	}
	s.SetFault(LowercaseTXT)
	if r := ask(t, s, "udp", name, dns.TypeTXT); len(r.Answer) != 1 || r.Answer[0].(*dns.TXT).Txt[0] != "abc/def=" {
		t.Errorf("LowercaseTXT: answer %v", r.Answer)
	}
	s.SetFault(NoFault) // the zone data itself must be untouched
	if r := ask(t, s, "udp", name, dns.TypeTXT); len(r.Answer) != 1 || r.Answer[0].(*dns.TXT).Txt[0] != "AbC/dEf=" {
		t.Errorf("NoFault after LowercaseTXT: answer %v", r.Answer)
	}

	s.SetFault(Drop)
	c := &dns.Client{Timeout: 100 * time.Millisecond}
	_, _, err := c.Exchange(new(dns.Msg).SetQuestion(name, dns.TypeTXT), s.Addr)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("Drop: err %v, want a timeout", err)
	}
}

func TestTruncateBySize(t *testing.T) {
	s := NewServer(t, "")
	s.SetZone("example.test.", exampleZone)
	for i := range 20 {
		s.AddRR("big.example.test. IN TXT \"" + strings.Repeat("x", 40) + string(rune('a'+i)) + "\"")
	}
	if r := ask(t, s, "udp", "big.example.test.", dns.TypeTXT); !r.Truncated {
		t.Errorf("%d-record answer over UDP without EDNS0: not truncated", len(r.Answer))
	}
	m := new(dns.Msg).SetQuestion("big.example.test.", dns.TypeTXT).SetEdns0(1232, false)
	r, _, err := new(dns.Client).Exchange(m, s.Addr)
	if err != nil || r.Truncated || len(r.Answer) != 20 || r.IsEdns0() == nil {
		t.Errorf("with EDNS0 1232: err %v tc %v %d records, want 20 with OPT", err, r.Truncated, len(r.Answer))
	}
}

func TestQueryLog(t *testing.T) {
	s := NewServer(t, "")
	s.SetZone("example.test.", exampleZone)
	ask(t, s, "udp", "Web.example.test.", dns.TypeA)
	m := new(dns.Msg).SetQuestion("example.test.", dns.TypeNS).SetEdns0(1232, false)
	m.RecursionDesired = false
	if _, _, err := (&dns.Client{Net: "tcp"}).Exchange(m, s.Addr); err != nil {
		t.Fatal(err)
	}
	got := s.Queries()
	for i := range got {
		got[i].ID = 0 // random
	}
	want := []Query{
		{Name: "Web.example.test.", Type: dns.TypeA, Net: "udp", RD: true},
		{Name: "example.test.", Type: dns.TypeNS, Net: "tcp", UDPSize: 1232},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("queries (-want +got):\n%s", diff)
	}
	s.ResetQueries()
	if got := s.Queries(); len(got) != 0 {
		t.Errorf("after ResetQueries: %v", got)
	}
}

func TestSamePortOtherAddress(t *testing.T) {
	a := NewServer(t, "127.0.0.1")
	b := NewServer(t, "127.0.0.2:"+a.Port)
	a.SetZone("example.test.", exampleZone)
	b.SetZone("sub.example.test.", "@ SOA ns hostmaster 1 7200 3600 1209600 60\nx TXT child")

	if r := ask(t, a, "udp", "x.sub.example.test.", dns.TypeTXT); r.Authoritative || len(r.Ns) == 0 {
		t.Errorf("parent: aa %v ns %v, want a referral", r.Authoritative, r.Ns)
	}
	if r := ask(t, b, "tcp", "x.sub.example.test.", dns.TypeTXT); !r.Authoritative || len(r.Answer) != 1 {
		t.Errorf("child: aa %v answer %v, want the TXT", r.Authoritative, r.Answer)
	}
	if len(a.Queries()) != 1 || len(b.Queries()) != 1 {
		t.Errorf("queries: a %v, b %v; want one each", a.Queries(), b.Queries())
	}
	b.Close()
	b.Close() // idempotent
}

// TestNewServers: the servers share one port, each on its own address.
func TestNewServers(t *testing.T) {
	for range 20 { // ports taken on one address but not another are skipped
		s := NewServers(t, "127.0.0.1", "127.0.0.3", "127.0.0.53")
		if len(s) != 3 || s[0].Port != s[1].Port || s[1].Port != s[2].Port || s[2].Addr != "127.0.0.53:"+s[0].Port {
			t.Fatalf("servers %s %s %s", s[0].Addr, s[1].Addr, s[2].Addr)
		}
		s[1].SetZone("example.test.", exampleZone)
		if r := ask(t, s[1], "tcp", "web.example.test.", dns.TypeA); len(r.Answer) != 1 {
			t.Fatalf("answer %v", r.Answer)
		}
	}
}
