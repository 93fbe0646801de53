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
