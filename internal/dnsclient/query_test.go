package dnsclient

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
	"github.com/sesame/sesame/internal/dnstest"
)

func strs[T dns.RR](rrs []T) []string {
	var out []string
	for _, rr := range rrs {
		out = append(out, rr.String())
	}
	return out
}

func TestQuery(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		name    string
		qname   string
		qtype   uint16
		outcome Outcome
		answer  []string
		cnames  []string
		soa     bool
		err     error
	}{
		{name: "answer", qname: "_amazonses.example.test", qtype: dns.TypeTXT, outcome: Answer,
			answer: []string{"_amazonses.example.test.\t300\tIN\tTXT\t\"AbC/dEf=\""}},
		{name: "mx", qname: "mail.example.test", qtype: dns.TypeMX, outcome: Answer,
			answer: []string{"mail.example.test.\t300\tIN\tMX\t10 feedback-smtp.us-east-1.amazonses.com."}},
		{name: "nodata", qname: "_amazonses.example.test", qtype: dns.TypeMX, outcome: NoData, soa: true},
		{name: "nxdomain", qname: "_amazonses.nope.example.test", qtype: dns.TypeTXT, outcome: NXDomain, soa: true},
		{name: "dkim cname asked", qname: "abc._domainkey.example.test", qtype: dns.TypeCNAME, outcome: Answer,
			answer: []string{"abc._domainkey.example.test.\t300\tIN\tCNAME\tabc.dkim.amazonses.com."}},
		{name: "cname in zone", qname: "www.example.test", qtype: dns.TypeTXT, outcome: Answer,
			answer: []string{"web.example.test.\t300\tIN\tTXT\t\"web\""},
			cnames: []string{"www.example.test.\t300\tIN\tCNAME\tweb.example.test."}},
		{name: "cname to delegated zone", qname: "out.example.test", qtype: dns.TypeTXT, outcome: Answer,
			answer: []string{"x.sub.example.test.\t300\tIN\tTXT\t\"in sub\""},
			cnames: []string{"out.example.test.\t300\tIN\tCNAME\tx.sub.example.test."}},
		{name: "cname to other zone on same server", qname: "shared.example.test", qtype: dns.TypeTXT, outcome: Answer,
			answer: []string{"x.other.test.\t300\tIN\tTXT\t\"in other\""},
			cnames: []string{"shared.example.test.\t300\tIN\tCNAME\tx.other.test."}},
		{name: "cname loop", qname: "loop1.example.test", qtype: dns.TypeTXT, outcome: Loop, err: ErrCNAMELoop,
			cnames: []string{"loop1.example.test.\t300\tIN\tCNAME\tloop2.example.test.", "loop2.example.test.\t300\tIN\tCNAME\tloop1.example.test."}},
		{name: "referral", qname: "x.sub.example.test", qtype: dns.TypeTXT, outcome: Lame},
		{name: "outside zones", qname: "example.org", qtype: dns.TypeTXT, outcome: Refused},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := w.c.Query(context.Background(), ns1, tc.qname, tc.qtype)
			if r.Outcome != tc.outcome || (r.SOA != nil) != tc.soa {
				t.Errorf("outcome %v, SOA %v; want %v, SOA %v\n%s", r.Outcome, r.SOA, tc.outcome, tc.soa, strings.Join(r.Evidence, "\n"))
			}
			if diff := cmp.Diff(tc.answer, strs(r.Answer)); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.cnames, strs(r.CNAMEs)); diff != "" {
				t.Errorf("CNAMEs (-want +got):\n%s", diff)
			}
			if tc.err != nil && !errors.Is(r.Err, tc.err) {
				t.Errorf("err %v, want %v", r.Err, tc.err)
			}
			if r.Server != ns1 || r.Name != dns.Fqdn(tc.qname) || r.Qtype != tc.qtype {
				t.Errorf("response is about %v %s %d", r.Server, r.Name, r.Qtype)
			}
		})
	}
}

func TestQueryEvidence(t *testing.T) {
	w := newWorld(t)
	r := w.c.Query(context.Background(), ns1, "_amazonses.example.test", dns.TypeTXT)
	want := []string{
		"dig @127.0.0.1 -p " + w.ns1.Port + " +norecurse _amazonses.example.test. TXT",
		";; status: NOERROR, flags: qr aa",
		";; ANSWER SECTION:",
		"_amazonses.example.test.\t300\tIN\tTXT\t\"AbC/dEf=\"",
	}
	if diff := cmp.Diff(want, r.Evidence); diff != "" {
		t.Errorf("evidence (-want +got):\n%s", diff)
	}
}

// TestCNAMEServers checks which servers a CNAME chain is followed on.
func TestCNAMEServers(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		name    string
		qname   string
		ns1     []string // names ns1 is asked about
		sub     []string // names the sub zone's server is asked about
		resolvd bool     // whether the resolver was asked (to find the target's zone)
	}{
		{name: "in reply", qname: "www.example.test.", ns1: []string{"www.example.test."}},
		{name: "same server", qname: "shared.example.test.", ns1: []string{"shared.example.test.", "x.other.test."}},
		{name: "other zone", qname: "out.example.test.",
			ns1: []string{"out.example.test.", "x.sub.example.test."}, sub: []string{"x.sub.example.test."}, resolvd: true},
	}
	names := func(qs []dnstest.Query) []string {
		var out []string
		for _, q := range qs {
			out = append(out, q.Name)
		}
		return out
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, s := range []*dnstest.Server{w.ns1, w.sub, w.resolver} {
				s.ResetQueries()
			}
			if r := w.c.Query(context.Background(), ns1, tc.qname, dns.TypeTXT); r.Outcome != Answer {
				t.Fatalf("outcome %v: %v", r.Outcome, r.Err)
			}
			if diff := cmp.Diff(tc.ns1, names(w.ns1.Queries())); diff != "" {
				t.Errorf("ns1 queries (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.sub, names(w.sub.Queries())); diff != "" {
				t.Errorf("sub queries (-want +got):\n%s", diff)
			}
			if got := len(w.resolver.Queries()) > 0; got != tc.resolvd {
				t.Errorf("resolver asked: %v, want %v", got, tc.resolvd)
			}
		})
	}
}

func TestChainTooLong(t *testing.T) {
	var rrs []dns.RR
	for i := range MaxCNAMEs + 1 {
		rr, err := dns.NewRR(fmt.Sprintf("c%d.example.test. 300 IN CNAME c%d.example.test.", i, i+1))
		if err != nil {
			t.Fatal(err)
		}
		rrs = append(rrs, rr)
	}
	if _, chain, _, err := chase(rrs, "c0.example.test.", dns.TypeTXT, nil); !errors.Is(err, ErrCNAMELoop) {
		t.Errorf("chain of %d: err %v, want ErrCNAMELoop", len(chain), err)
	}
	if _, chain, end, err := chase(rrs[1:], "c1.example.test.", dns.TypeTXT, nil); err != nil || len(chain) != MaxCNAMEs || end != "c9.example.test." {
		t.Errorf("chain of %d ending at %s: err %v, want %d links and no error", len(chain), end, err, MaxCNAMEs)
	}
}

func TestFaults(t *testing.T) {
	w := newWorld(t)
	w.c.Timeout = 100 * time.Millisecond
	w.c.Retries = 1
	tests := []struct {
		fault   dnstest.Fault
		outcome Outcome
		queries int // how many times ns1 is asked
	}{
		{fault: dnstest.ServFail, outcome: ServFail, queries: 1},
		{fault: dnstest.Refused, outcome: Refused, queries: 1},
		{fault: dnstest.Drop, outcome: Timeout, queries: 2}, // the retry
	}
	for _, tc := range tests {
		t.Run(tc.outcome.String(), func(t *testing.T) {
			w.ns1.SetFault(tc.fault)
			defer w.ns1.SetFault(dnstest.NoFault)
			w.ns1.ResetQueries()

			rs := w.c.QueryAll(context.Background(), &Zone{Servers: []Server{ns1, ns2}}, "_amazonses.example.test", dns.TypeTXT)
			if got := []Outcome{rs[0].Outcome, rs[1].Outcome}; !slices.Equal(got, []Outcome{tc.outcome, Answer}) {
				t.Errorf("outcomes %v, want [%v Answer]", got, tc.outcome)
			}
			if !rs[0].Outcome.Temporary() || rs[0].Err == nil || rs[0].Server != ns1 {
				t.Errorf("ns1: temporary %v, err %v, server %v", rs[0].Outcome.Temporary(), rs[0].Err, rs[0].Server)
			}
			if got := len(w.ns1.Queries()); got != tc.queries {
				t.Errorf("ns1 asked %d times, want %d", got, tc.queries)
			}
		})
	}
}

func TestTCPFallback(t *testing.T) {
	w := newWorld(t)
	w.ns1.SetFault(dnstest.Truncate)
	r := w.c.Query(context.Background(), ns1, "_amazonses.example.test", dns.TypeTXT)
	if r.Outcome != Answer {
		t.Fatalf("outcome %v: %v", r.Outcome, r.Err)
	}
	var nets []string
	for _, q := range w.ns1.Queries() {
		nets = append(nets, q.Net)
	}
	if !slices.Equal(nets, []string{"udp", "tcp"}) {
		t.Errorf("transports %v, want [udp tcp]", nets)
	}
	if !slices.Contains(r.Evidence, ";; Truncated, retrying in TCP mode.") {
		t.Errorf("evidence does not show the truncation:\n%s", strings.Join(r.Evidence, "\n"))
	}
}

func TestLowercasedByProvider(t *testing.T) {
	w := newWorld(t)
	w.ns1.SetFault(dnstest.LowercaseTXT)
	r := w.c.Query(context.Background(), ns1, "_amazonses.example.test", dns.TypeTXT)
	if r.Outcome != Answer || r.Answer[0].(*dns.TXT).Txt[0] != "abc/def=" {
		t.Errorf("outcome %v answer %v, want the value as served, lowercased", r.Outcome, r.Answer)
	}
}

// TestQueries checks what goes on the wire (RFC 6891 EDNS0, no recursion,
// random IDs).
func TestQueries(t *testing.T) {
	w := newWorld(t)
	for range 10 {
		w.c.Query(context.Background(), ns1, "_amazonses.example.test", dns.TypeTXT)
	}
	ids := map[uint16]bool{}
	for _, q := range w.ns1.Queries() {
		ids[q.ID] = true
		if q.RD || q.UDPSize != udpSize || q.Net != "udp" {
			t.Errorf("query %+v, want RD unset, EDNS0 size %d, over UDP", q, udpSize)
		}
	}
	// Ten random 16-bit IDs: the chance of three or more repeats is ~1e-8.
	if len(ids) < 8 {
		t.Errorf("%d distinct IDs in 10 queries", len(ids))
	}
}

func TestBudget(t *testing.T) {
	w := newWorld(t)
	w.ns1.SetFault(dnstest.Drop)
	w.c.Timeout = 50 * time.Millisecond
	w.c.Budget = 300 * time.Millisecond
	w.c.Retries = 1000

	start := time.Now()
	r := w.c.Query(context.Background(), ns1, "_amazonses.example.test", dns.TypeTXT)
	elapsed := time.Since(start)
	if r.Outcome != Timeout || !r.Outcome.Temporary() {
		t.Errorf("outcome %v, want Timeout", r.Outcome)
	}
	// Each attempt waits out the 50ms timeout, so the budget allows six.
	if n := len(w.ns1.Queries()); n < 1 || n > 7 {
		t.Errorf("%d attempts within the budget, want 1 to 7", n)
	}
	if elapsed > 5*time.Second {
		t.Errorf("took %v with a budget of %v", elapsed, w.c.Budget)
	}
}

func TestOutcome(t *testing.T) {
	tests := []struct {
		o         Outcome
		name      string
		temporary bool
	}{
		{o: Answer, name: "Answer"},
		{o: NoData, name: "NoData"},
		{o: NXDomain, name: "NXDomain"},
		{o: ServFail, name: "ServFail", temporary: true},
		{o: Refused, name: "Refused", temporary: true},
		{o: Timeout, name: "Timeout", temporary: true},
		{o: NetError, name: "NetError", temporary: true},
		{o: Lame, name: "Lame", temporary: true},
		{o: Loop, name: "Loop"},
		{o: 0, name: "Outcome(0)"},
	}
	for _, tc := range tests {
		if tc.o.String() != tc.name || tc.o.Temporary() != tc.temporary {
			t.Errorf("%d: %s temporary %v, want %s %v", int(tc.o), tc.o, tc.o.Temporary(), tc.name, tc.temporary)
		}
	}
}
