package plan

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/dnstest"
	"github.com/sesame/sesame/internal/records"
)

// unreadOptions plans every kind of record: a token, three DKIM CNAMEs, a
// MAIL FROM domain, and the DMARC record the zone lacks.
func unreadOptions() Options {
	return Options{Domain: "example.test", Instances: []records.Instance{
		{Label: "ops@us-east-1", Region: "us-east-1", Token: tokOps, DKIMTokens: dkimOps, MailFrom: "mail.example.test"},
	}}
}

// unreadWorld is the corpus's DNS world (world_test.go) with no zone for
// example.test yet, and its servers, for the cases to break.
func unreadWorld(t *testing.T) (map[string]*dnstest.Server, *dnsclient.Client) {
	srv := servers(t)
	port := srv["ns1"].Port
	srv["resolver"].SetZone(".", rootZone)
	srv["resolver"].SetZone("test.", tldZone)
	srv["resolver"].SetZone("amazonses.com.", sesZone)
	srv["ses"].SetZone("amazonses.com.", sesZone)
	return srv, &dnsclient.Client{Resolver: srv["resolver"].Addr, AuthPort: port, Timeout: 200 * time.Millisecond, Retries: -1, RateLimit: 1000}
}

// TestUnread: a zone that cannot be read still gets its whole plan, every
// record set an addition, with a warning that says why; the update adds
// each only where it is absent.
func TestUnread(t *testing.T) {
	zone := zoneHead + "_amazonses TXT \"" + tokOps + "\"\n"
	tests := []struct {
		name  string
		setup func(servers map[string]*dnstest.Server)
		apex  string // the zone the plan is for
		why   string // in the warning
	}{
		// The registrar does not delegate example.test yet: the nearest
		// zone is test., which cannot hold its records.
		{name: "not delegated", setup: func(map[string]*dnstest.Server) {}, apex: "example.test.", why: "is not delegated: the nearest zone is test, a public suffix,"},
		// Delegated to servers that refuse every query.
		{name: "servers refuse", apex: "example.test.", why: "no server of example.test answered for its SOA", setup: func(s map[string]*dnstest.Server) {
			s["resolver"].SetZone("example.test.", zone)
			s["ns1"].SetFault(dnstest.Refused)
			s["ns2"].SetFault(dnstest.Refused)
		}},
		// Delegated to servers that do not serve it (yet): lame.
		{name: "servers do not serve it", apex: "example.test.", why: "Refused", setup: func(s map[string]*dnstest.Server) {
			s["resolver"].SetZone("example.test.", zone)
		}},
		// No network: the resolver does not answer.
		{name: "resolver silent", apex: "example.test.", why: "finding the zone of example.test", setup: func(s map[string]*dnstest.Server) {
			s["resolver"].SetFault(dnstest.Drop)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			servers, cl := unreadWorld(t)
			tc.setup(servers)
			p, err := (&Planner{Client: cl}).Plan(context.Background(), unreadOptions())
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			why, ok := p.Unread()
			if !ok || !strings.Contains(why, tc.why) {
				t.Fatalf("Unread() = %q, %v; want a warning with %q (problems %+v)", why, ok, tc.why, p.Problems)
			}
			t.Log(why)
			if p.Zone != tc.apex {
				t.Errorf("zone %s, want %s", p.Zone, tc.apex)
			}
			var got []string
			for _, s := range p.RRsets {
				got = append(got, s.Type+" "+s.Name)
				if s.Action != Add {
					t.Errorf("%s %s: %s, want add", s.Name, s.Type, s.Action)
				}
			}
			want := []string{"TXT _amazonses.example.test.", "TXT _dmarc.example.test.", "MX mail.example.test.", "TXT mail.example.test."}
			for _, d := range dkimOps {
				want = append(want, "CNAME "+d+"._domainkey.example.test.")
			}
			for _, w := range want {
				if !slices.Contains(got, w) {
					t.Errorf("the plan lacks %s; it has %v", w, got)
				}
			}
			if len(p.Errors()) > 0 {
				t.Errorf("errors %+v: an unread zone is a warning", p.Errors())
			}
			// Each addition is conditional: the record set must be absent.
			m := p.Update(p.Zone)
			if m == nil || len(m.Answer) != len(p.RRsets) {
				t.Fatalf("update %v, want one prerequisite per record set", m)
			}
			for _, rr := range m.Answer {
				if rr.Header().Class != dns.ClassNONE || rr.Header().Rrtype == dns.TypeANY {
					t.Errorf("prerequisite %v, want RRset does not exist (class NONE)", rr)
				}
			}
		})
	}
}
