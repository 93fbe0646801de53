package doctor

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/dnstest"
)

// BenchmarkDoctorDomain is one full diagnosis of a correct domain with one
// instance (TXT, three DKIM CNAMEs, MAIL FROM MX and SPF, DMARC) over
// loopback, with a fresh client per run, as each `sesame doctor NAME` has.
// "limit100" has the command's per-server rate limit, 100 queries/s, which
// spaces the ten questions each server gets 10 ms apart; "unlimited"
// shows the cost of the diagnosis itself.
//
//	go test ./internal/doctor -run '^$' -bench DoctorDomain -benchtime 50x
func BenchmarkDoctorDomain(b *testing.B) {
	c := readCase(b, "testdata/cases/good.txt")
	cl, _ := startWorld(b, c)
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		rate float64
	}{{"limit100", 100}, {"unlimited", 1e9}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				d := &Doctor{Client: &dnsclient.Client{Resolver: cl.Resolver, AuthPort: cl.AuthPort, RateLimit: bc.rate}}
				rep, err := d.Diagnose(ctx, c.input)
				if err != nil || rep.Status != SeverityOK {
					b.Fatalf("Diagnose: %v", err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/diagnosis")
		})
	}
}

// BenchmarkDoctorBatch10000 diagnoses 10,000 correct domains in batch
// mode, as `sesame doctor -f FILE -o json` does, with its defaults (64 at
// once, 100 queries/s per server). The domains are spread over 500 DNS
// providers of two servers each, on 1,000 loopback addresses; the servers
// run in the benchmark's process and their CPU counts. The rate limit is
// per server address, so a batch of domains that all share one provider
// is bounded by it instead (about 10 domains/s at 100 queries/s).
//
//	go test ./internal/doctor -run '^$' -bench DoctorBatch -benchtime 1x
func BenchmarkDoctorBatch10000(b *testing.B) {
	const domains, providers = 10000, 500
	res, port := batchWorld(b, domains, providers)
	inputs := make([]Input, domains)
	for i := range inputs {
		inputs[i] = Input{Name: fmt.Sprintf("d%05d.test", i), Expect: Expectations{benchInstance(fmt.Sprintf("d%05d.test", i))}}
	}
	ctx := context.Background()
	for b.Loop() {
		d := &Doctor{Client: &dnsclient.Client{Resolver: res, AuthPort: port, RateLimit: 100}}
		bad := 0
		d.Batch(ctx, inputs, DefaultConcurrency, func(i int, r *Report, err error) {
			if err != nil || r.Status != SeverityOK {
				bad++
				if bad == 1 {
					var sb strings.Builder
					if r != nil {
						r.WriteText(&sb, TextOptions{})
					}
					b.Errorf("%s: %v\n%s", inputs[i].Name, err, sb.String())
				}
			}
			if r != nil {
				r.WriteJSON(io.Discard)
			}
		}, nil)
		if bad > 0 {
			b.Fatalf("%d of %d domains not OK", bad, domains)
		}
	}
	b.ReportMetric(float64(domains)*float64(b.N)/b.Elapsed().Seconds(), "domains/s")
}

const (
	benchToken = "pmBGN/7MjnfhTKUZ06Enqq1PeGUaOkw8lGhcfwefcHU="
	benchDKIM1 = "vvjuipp74whm76gqoni7qmwwn4w4qusj"
	benchDKIM2 = "6t2h3dvxbocpdq3hbemdcnbzz2gi5e2n"
	benchDKIM3 = "7g3zhmcxezqogtxyjfldrqqfwf5hy2gf"
)

func benchInstance(domain string) Instance {
	return Instance{Label: "ses1", Region: "us-east-1", Token: benchToken,
		DKIMTokens: []string{benchDKIM1, benchDKIM2, benchDKIM3}, MailFrom: "mail." + domain}
}

// batchWorld serves n correct zones d00000.test... from providers pairs of
// servers, delegated from the resolver's test. zone, and returns the
// resolver's address and the common port.
func batchWorld(b *testing.B, n, providers int) (string, string) {
	b.Helper()
	first := dnstest.NewServer(b, "127.0.1.1")
	port := first.Port
	servers := []*dnstest.Server{first}
	for i := 1; i < 2*providers; i++ {
		servers = append(servers, dnstest.NewServer(b, fmt.Sprintf("127.0.%d.%d:%s", 1+i/250, 1+i%250, port)))
	}
	res := dnstest.NewServer(b, "127.0.0.53:"+port)
	var tld strings.Builder
	tld.WriteString(tldZone)
	for i := range 2 * providers {
		fmt.Fprintf(&tld, "ns%d.p%d A 127.0.%d.%d\n", i%2+1, i/2, 1+i/250, 1+i%250)
	}
	ses := readFile(b, "testdata/amazonses.com.zone")
	sesSrv := dnstest.NewServer(b, "127.0.0.4:"+port)
	sesSrv.SetZone("amazonses.com.", ses)
	res.SetZone("amazonses.com.", ses)
	for i := range n {
		p := i % providers
		origin := fmt.Sprintf("d%05d.test.", i)
		fmt.Fprintf(&tld, "%s NS ns1.p%d.test.\n%[1]s NS ns2.p%[2]d.test.\n", origin, p)
		zone := fmt.Sprintf(`$TTL 300
@                SOA    ns1.p%d.test. hostmaster 1 7200 3600 1209600 300
@                NS     ns1.p%[1]d.test.
@                NS     ns2.p%[1]d.test.
_amazonses       TXT    %q
%s._domainkey CNAME %[3]s.dkim.amazonses.com.
%s._domainkey CNAME %[4]s.dkim.amazonses.com.
%s._domainkey CNAME %[5]s.dkim.amazonses.com.
mail             MX     10 feedback-smtp.us-east-1.amazonses.com.
mail             TXT    "v=spf1 include:amazonses.com ~all"
_dmarc           TXT    "v=DMARC1; p=reject"
`, p, benchToken, benchDKIM1, benchDKIM2, benchDKIM3)
		servers[2*p].SetZone(origin, zone)
		servers[2*p+1].SetZone(origin, zone)
	}
	res.SetZone(".", rootZone)
	res.SetZone("test.", tld.String())
	return res.Addr, port
}
