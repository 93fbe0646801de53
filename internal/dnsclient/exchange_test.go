package dnsclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"testing"

	"github.com/miekg/dns"
)

func TestValidate(t *testing.T) {
	q := newQuery("_amazonses.example.test.", dns.TypeTXT, false)
	tests := []struct {
		name   string
		change func(r *dns.Msg)
		ok     bool
	}{
		{name: "matching", change: func(r *dns.Msg) {}, ok: true},
		{name: "name case differs", change: func(r *dns.Msg) { r.Question[0].Name = "_AmazonSES.Example.Test." }, ok: true},
		{name: "error without question", change: func(r *dns.Msg) { r.Rcode, r.Question = dns.RcodeFormatError, nil }, ok: true},
		{name: "not a response", change: func(r *dns.Msg) { r.Response = false }},
		{name: "other ID", change: func(r *dns.Msg) { r.Id++ }},
		{name: "other opcode", change: func(r *dns.Msg) { r.Opcode = dns.OpcodeNotify }},
		{name: "other name", change: func(r *dns.Msg) { r.Question[0].Name = "example.test." }},
		{name: "other type", change: func(r *dns.Msg) { r.Question[0].Qtype = dns.TypeA }},
		{name: "other class", change: func(r *dns.Msg) { r.Question[0].Qclass = dns.ClassCHAOS }},
		{name: "answer without question", change: func(r *dns.Msg) { r.Question = nil }},
		{name: "two questions", change: func(r *dns.Msg) { r.Question = append(r.Question, r.Question[0]) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := new(dns.Msg).SetReply(q)
			tc.change(r)
			err := validate(q, r)
			if (err == nil) != tc.ok || err != nil && !errors.Is(err, ErrBadReply) {
				t.Errorf("validate = %v, want ok %v", err, tc.ok)
			}
		})
	}
}

func TestDigCommand(t *testing.T) {
	tests := []struct {
		addr    string
		recurse bool
		name    string
		qtype   uint16
		want    string
	}{
		{addr: "192.0.2.53:53", name: "_amazonses.example.com", qtype: dns.TypeTXT,
			want: "dig @192.0.2.53 -p 53 +norecurse _amazonses.example.com. TXT"},
		{addr: "[2001:db8::53]:53", name: "mail.example.com.", qtype: dns.TypeMX,
			want: "dig @2001:db8::53 -p 53 +norecurse mail.example.com. MX"},
		{addr: "127.0.0.53:5353", recurse: true, name: "example.com.", qtype: dns.TypeNS,
			want: "dig @127.0.0.53 -p 5353 example.com. NS"},
		{addr: "192.0.2.53:53", name: "example.com.", qtype: 65280,
			want: "dig @192.0.2.53 -p 53 +norecurse example.com. TYPE65280"},
	}
	for _, tc := range tests {
		if got := digCommand(netip.MustParseAddrPort(tc.addr), tc.recurse, tc.name, tc.qtype); got != tc.want {
			t.Errorf("digCommand(%s) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}

// TestBadReply sends a reply for another question from the server's own
// address and port, as an off-path spoofer would hope to.
func TestBadReply(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			q := new(dns.Msg)
			if q.Unpack(buf[:n]) != nil {
				continue
			}
			r := new(dns.Msg).SetReply(q)
			r.Question[0].Name = "evil.example."
			b, _ := r.Pack()
			pc.WriteTo(b, from)
		}
	}()
	addr := netip.MustParseAddrPort(pc.LocalAddr().String())
	c := &Client{AuthPort: fmt.Sprint(addr.Port()), Retries: 1}
	r := c.Query(context.Background(), Server{Name: "ns.example.test.", Addr: addr.Addr()}, "example.test", dns.TypeTXT)
	if r.Outcome != NetError || !errors.Is(r.Err, ErrBadReply) {
		t.Errorf("outcome %v err %v, want NetError and ErrBadReply", r.Outcome, r.Err)
	}
}

// TestSetQueryReuse: a socket's message, rebuilt for each query, carries
// nothing of the one before.
func TestSetQueryReuse(t *testing.T) {
	var m dns.Msg
	var opt dns.OPT
	setQuery(&m, &opt, "ns.example.test", dns.TypeA, true)
	m.CheckingDisabled, m.Rcode = true, dns.RcodeServerFailure
	opt.SetDo()
	opt.Option = append(opt.Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"})
	setQuery(&m, &opt, "_amazonses.example.test.", dns.TypeTXT, false)

	want := newQuery("_amazonses.example.test.", dns.TypeTXT, false)
	want.Id = m.Id
	got, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	wantWire, err := want.Pack()
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(wantWire) {
		t.Errorf("rebuilt query:\n%v\nwant:\n%v", &m, want)
	}
}
