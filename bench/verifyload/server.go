package main

import (
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/records"
)

// zones is an authoritative server for every benchmark zone, and the
// resolver too: it answers NS queries for the zones and the address of
// their name server, ns.bench.test, itself. Lookups are map reads, so the
// server costs the same per query whatever the number of zones.
type zones struct {
	rrs     map[string]map[uint16][]dns.RR // by lower-case owner
	soa     map[string]*dns.SOA            // by zone apex
	queries atomic.Int64
}

func newZones(n int, host string) *zones {
	z := &zones{rrs: make(map[string]map[uint16][]dns.RR), soa: make(map[string]*dns.SOA)}
	z.zone("bench.test.")
	z.add(fmt.Sprintf("ns.bench.test. A %s", host))
	for i := range n {
		id := benchIdentity(i, time.Time{})
		z.zone(id.Name + ".")
		for _, r := range records.For(id, config.SES()) {
			v := r.Value
			if r.Type == "TXT" {
				v = strconv.Quote(v)
			} else {
				v += "."
			}
			z.add(fmt.Sprintf("%s. %s %s", r.Name, r.Type, v))
		}
	}
	return z
}

func (z *zones) zone(apex string) {
	z.add(apex + " SOA ns.bench.test. hostmaster.bench.test. 1 7200 3600 1209600 60")
	z.add(apex + " NS ns.bench.test.")
	z.soa[apex] = z.rrs[apex][dns.TypeSOA][0].(*dns.SOA)
}

func (z *zones) add(text string) {
	rr, err := dns.NewRR(text)
	if err != nil {
		log.Fatalf("%q: %v", text, err)
	}
	name := strings.ToLower(rr.Header().Name)
	if z.rrs[name] == nil {
		z.rrs[name] = make(map[uint16][]dns.RR)
	}
	z.rrs[name][rr.Header().Rrtype] = append(z.rrs[name][rr.Header().Rrtype], rr)
}

// apex returns the SOA of the zone holding name.
func (z *zones) apex(name string) *dns.SOA {
	for i, end := 0, false; !end; i, end = dns.NextLabel(name, i) {
		if soa := z.soa[name[i:]]; soa != nil {
			return soa
		}
	}
	return nil
}

func (z *zones) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	n := z.queries.Add(1)
	m := new(dns.Msg).SetReply(req)
	if opt := req.IsEdns0(); opt != nil {
		m.SetEdns0(1232, false)
	}
	if len(req.Question) != 1 {
		w.WriteMsg(m.SetRcode(req, dns.RcodeFormatError))
		return
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	if name == "count.bench." {
		m.Answer = []dns.RR{&dns.TXT{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET}, Txt: []string{strconv.FormatInt(n, 10)}}}
		w.WriteMsg(m)
		return
	}
	soa := z.apex(name)
	if soa == nil {
		m.Rcode = dns.RcodeRefused
		w.WriteMsg(m)
		return
	}
	m.Authoritative = true
	set, ok := z.rrs[name]
	switch {
	case !ok:
		m.Rcode = dns.RcodeNameError
		m.Ns = []dns.RR{soa}
	case len(set[q.Qtype]) > 0:
		m.Answer = set[q.Qtype]
	case len(set[dns.TypeCNAME]) > 0:
		m.Answer = set[dns.TypeCNAME]
	default:
		m.Ns = []dns.RR{soa}
	}
	w.WriteMsg(m)
}

// runServer serves the zones on addr over UDP and TCP until interrupted,
// printing "listening ADDR" once it is ready.
func runServer(addr string, n int) {
	pc, err := net.ListenPacket("udp", addr)
	check(err)
	// Hundreds of queries arrive at once from the verifier (dnsperf keeps
	// 100 outstanding); the default buffer of some 200 KB drops some of
	// them while the server is not running, and each drop costs the
	// verifier a timeout. Servers under load are given more.
	check(pc.(*net.UDPConn).SetReadBuffer(4 << 20))
	l, err := net.Listen("tcp", pc.LocalAddr().String())
	check(err)
	host, _, _ := net.SplitHostPort(pc.LocalAddr().String())
	z := newZones(n, host)
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: z}, {Listener: l, Handler: z}} {
		go func() { check(srv.ActivateAndServe()) }()
	}
	fmt.Printf("listening %s\n", pc.LocalAddr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	<-sig
}
