package dnsclient

import (
	"testing"

	"github.com/miekg/dns"
)

// FuzzReply feeds arbitrary wire bytes to everything that reads a reply:
// validate, interpret (classification and CNAME chasing) and the evidence
// lines. None of it may panic, and what it says must hang together.
func FuzzReply(f *testing.F) {
	for _, m := range seedReplies() {
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := new(dns.Msg)
		if err := r.Unpack(data); err != nil {
			return
		}
		q := newQuery("_amazonses.example.test.", dns.TypeTXT, false)
		if len(r.Question) > 0 {
			q = newQuery(r.Question[0].Name, r.Question[0].Qtype, false)
		}
		q.Id = r.Id
		_ = validate(q, r)

		resp := &Response{Name: q.Question[0].Name, Qtype: q.Question[0].Qtype}
		next := resp.interpret(r, resp.Name)
		switch {
		case resp.Outcome < Answer || resp.Outcome > Loop:
			t.Errorf("outcome %v", resp.Outcome)
		case resp.Outcome == Answer && len(resp.Answer) == 0:
			t.Errorf("Answer without records")
		case resp.Outcome != Answer && len(resp.Answer) > 0:
			t.Errorf("%v with records %v", resp.Outcome, resp.Answer)
		case next != "" && resp.Outcome != NoData:
			t.Errorf("next %q after %v", next, resp.Outcome)
		case len(resp.CNAMEs) > MaxCNAMEs+1:
			t.Errorf("chain of %d", len(resp.CNAMEs))
		case resp.Outcome.Temporary() && resp.Err == nil:
			t.Errorf("%v without an error", resp.Outcome)
		}
		if lines := replyLines(r); len(lines) == 0 {
			t.Errorf("no evidence lines")
		}
	})
}

// seedReplies are replies of each kind the client must handle.
func seedReplies() []*dns.Msg {
	rr := func(s string) dns.RR {
		r, err := dns.NewRR(s)
		if err != nil {
			panic(err)
		}
		return r
	}
	reply := func(name string, qtype uint16, rcode int, aa bool, answer, ns []dns.RR) *dns.Msg {
		q := new(dns.Msg).SetQuestion(name, qtype)
		m := new(dns.Msg).SetRcode(q, rcode)
		m.Authoritative, m.Answer, m.Ns = aa, answer, ns
		m.SetEdns0(udpSize, false)
		return m
	}
	soa := rr("example.test. 60 IN SOA ns1.example.test. hostmaster.example.test. 1 7200 3600 1209600 60")
	tc := reply("_amazonses.example.test.", dns.TypeTXT, dns.RcodeSuccess, true, nil, nil)
	tc.Truncated = true
	return []*dns.Msg{
		reply("_amazonses.example.test.", dns.TypeTXT, dns.RcodeSuccess, true, []dns.RR{rr(`_amazonses.example.test. 300 IN TXT "AbC/dEf="`)}, nil),
		reply("_amazonses.example.test.", dns.TypeMX, dns.RcodeSuccess, true, nil, []dns.RR{soa}),
		reply("nope.example.test.", dns.TypeTXT, dns.RcodeNameError, true, nil, []dns.RR{soa}),
		reply("www.example.test.", dns.TypeTXT, dns.RcodeSuccess, true, []dns.RR{
			rr("www.example.test. 300 IN CNAME web.example.test."), rr(`web.example.test. 300 IN TXT "web"`)}, nil),
		reply("out.example.test.", dns.TypeTXT, dns.RcodeSuccess, true, []dns.RR{rr("out.example.test. 300 IN CNAME x.other.test.")}, nil),
		reply("loop1.example.test.", dns.TypeTXT, dns.RcodeSuccess, true, []dns.RR{
			rr("loop1.example.test. 300 IN CNAME loop2.example.test."), rr("loop2.example.test. 300 IN CNAME loop1.example.test.")}, nil),
		reply("x.sub.example.test.", dns.TypeTXT, dns.RcodeSuccess, false, nil, []dns.RR{rr("sub.example.test. 300 IN NS ns.sub.example.test.")}),
		reply("example.test.", dns.TypeTXT, dns.RcodeServerFailure, false, nil, nil),
		reply("example.test.", dns.TypeTXT, dns.RcodeRefused, false, nil, nil),
		tc,
	}
}
