package knottest

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestUpdateIsServed(t *testing.T) {
	s := Start(t, "127.0.0.1", "example.test", `$ORIGIN example.test.
$TTL 60
@ SOA ns1 hostmaster 1 3600 600 86400 60
@ NS ns1
ns1 A 127.0.0.1
`)
	s.Update(`add _amazonses.example.test. 60 TXT "abc="`)
	m := new(dns.Msg)
	m.SetQuestion("_amazonses.example.test.", dns.TypeTXT)
	r, _, err := (&dns.Client{Timeout: time.Second}).Exchange(m, s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Answer) != 1 || r.Answer[0].(*dns.TXT).Txt[0] != "abc=" || !r.Authoritative {
		t.Fatalf("after the update: %v", r)
	}
}

// TestSecondServer: a second knotd on the same port at another address,
// with the zone unloaded, answers SERVFAIL for every name in it.
func TestSecondServer(t *testing.T) {
	s := Start(t, "127.0.6.1", "example.test", "$ORIGIN example.test.\n$TTL 60\n@ SOA ns1 hostmaster 1 3600 600 86400 60\n@ NS ns1\nns1 A 127.0.6.1\n")
	broken := StartWith(t, "127.0.6.2", "example.test", "", Options{Port: s.Port, Unloaded: true})
	if broken.Port != s.Port || broken.Addr != "127.0.6.2:"+s.Port {
		t.Fatalf("second server at %s, want port %s", broken.Addr, s.Port)
	}
	for _, name := range []string{"example.test.", "_amazonses.sub.example.test."} {
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeTXT)
		r, _, err := (&dns.Client{Timeout: time.Second}).Exchange(m, broken.Addr)
		if err != nil {
			t.Fatal(err)
		}
		if r.Rcode != dns.RcodeServerFailure {
			t.Errorf("%s TXT: %s, want SERVFAIL", name, dns.RcodeToString[r.Rcode])
		}
	}
}
