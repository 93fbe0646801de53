package dnsclient

import (
	"net/netip"
	"testing"

	"github.com/sesame/sesame/internal/dnstest"
)

// The test DNS tree. Every server listens on the same port, on its own
// loopback address, as real name servers listen on port 53.
const (
	exampleZone = `
@            SOA    ns1 hostmaster 1 7200 3600 1209600 60
@            NS     ns1
@            NS     ns2
ns1          A      127.0.0.1
ns2          A      127.0.0.3
_amazonses   TXT    "AbC/dEf="
mail         MX     10 feedback-smtp.us-east-1.amazonses.com.
b            TXT    "a.b.example.test does not exist, b.example.test has no NS"
abc._domainkey CNAME abc.dkim.amazonses.com.
www          CNAME  web
web          TXT    "web"
loop1        CNAME  loop2
loop2        CNAME  loop1
out          CNAME  x.sub.example.test.
shared       CNAME  x.other.test.
sub          NS     ns.sub
ns.sub       A      127.0.0.2
`
	subZone = `
@            SOA    ns hostmaster 1 7200 3600 1209600 60
@            NS     ns
ns           A      127.0.0.2
x            TXT    "in sub"
`
	otherZone = `
@            SOA    ns1.example.test. hostmaster.example.test. 1 7200 3600 1209600 60
@            NS     ns1.example.test.
x            TXT    "in other"
`
	// The resolver's root zone makes everything else NXDOMAIN.
	rootZone = `
@            SOA    a.root.test. hostmaster.root.test. 1 7200 3600 1209600 60
lame.test.   NS     ns.nowhere.invalid.
`
	lameZone = `
@            SOA    ns.nowhere.invalid. hostmaster 1 7200 3600 1209600 60
@            NS     ns.nowhere.invalid.
`
)

// world is the test DNS tree:
//
//	127.0.0.53  resolver, authoritative for every zone below
//	127.0.0.1   ns1.example.test      example.test, other.test
//	127.0.0.3   ns2.example.test      example.test
//	127.0.0.2   ns.sub.example.test   sub.example.test, delegated from example.test
type world struct {
	resolver, ns1, ns2, sub *dnstest.Server
	c                       *Client
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{}
	s := dnstest.NewServers(t, "127.0.0.1", "127.0.0.3", "127.0.0.2", "127.0.0.53")
	w.ns1, w.ns2, w.sub, w.resolver = s[0], s[1], s[2], s[3]
	port := w.ns1.Port

	w.ns1.SetZone("example.test.", exampleZone)
	w.ns1.SetZone("other.test.", otherZone)
	w.ns2.SetZone("example.test.", exampleZone)
	w.sub.SetZone("sub.example.test.", subZone)
	w.resolver.SetZone(".", rootZone)
	w.resolver.SetZone("example.test.", exampleZone)
	w.resolver.SetZone("sub.example.test.", subZone)
	w.resolver.SetZone("other.test.", otherZone)
	w.resolver.SetZone("lame.test.", lameZone)

	w.c = &Client{Resolver: w.resolver.Addr, AuthPort: port}
	return w
}

var (
	ns1 = Server{Name: "ns1.example.test.", Addr: netip.MustParseAddr("127.0.0.1")}
	ns2 = Server{Name: "ns2.example.test.", Addr: netip.MustParseAddr("127.0.0.3")}
	sub = Server{Name: "ns.sub.example.test.", Addr: netip.MustParseAddr("127.0.0.2")}
)
