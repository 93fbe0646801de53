package plan

import (
	"bufio"
	"flag"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/dnstest"
	"github.com/sesame/sesame/internal/doctor"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// The test DNS world: every server on one port, each on its own loopback
// address, as real name servers all listen on port 53. The addresses
// differ from the doctor's, whose tests may run at the same time.
//
//	127.0.2.53  resolver: root, test., amazonses.com. and each zone of the case
//	127.0.2.1   ns1.example.test
//	127.0.2.2   ns2.example.test
//	127.0.2.4   ns.amazonses.com, for SPF's include:amazonses.com
var serverAddrs = map[string]string{"ns1": "127.0.2.1", "ns2": "127.0.2.2", "ses": "127.0.2.4", "resolver": "127.0.2.53"}

const (
	rootZone = "@ SOA a.root.test. hostmaster.root.test. 1 7200 3600 1209600 300\n"
	tldZone  = "@ SOA a.nic.test. hostmaster.nic.test. 1 7200 3600 1209600 300\n@ NS a.nic.test.\na.nic A 127.0.2.250\n"
	sesZone  = `@  SOA ns.amazonses.com. hostmaster.amazonses.com. 1 7200 3600 1209600 300
@  NS  ns
ns A   127.0.2.4
@  TXT "v=spf1 ip4:199.255.192.0/22 ip4:199.127.232.0/22 ip4:54.240.0.0/18 ip4:69.169.224.0/20 -all"
`
	// zoneHead starts a case's zone that has no SOA of its own.
	zoneHead = `$TTL 300
@    SOA ns1 hostmaster 2024060101 7200 3600 1209600 300
@    NS  ns1
@    NS  ns2
ns1  A   127.0.2.1
ns2  A   127.0.2.2
`
)

// testCase is one file of testdata/cases: a header, then zones.
//
//	# what the case shows
//	name: example.test
//	instance: ops region=us-east-1 token=... dkim=a,b,c mail-from=mail.example.test
//	flags: single-value-txt prune fqdn dmarc=v=DMARC1;p=reject
//	want: mail-from-region-conflict
//	clean: true
//	-- example.test --
//	records, served by ns1 and ns2 (a standard SOA and NS are added)
//	-- example.test @ns2 --
//	another version, served by ns2 instead
type testCase struct {
	name  string
	opts  Options
	fqdn  bool
	want  []Code
	clean bool
	zones []zoneText
}

type zoneText struct {
	origin  string
	servers []string
	text    string
}

func readCase(t *testing.T, path string) testCase {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := testCase{name: strings.TrimSuffix(strings.TrimPrefix(path, "testdata/cases/"), ".txt")}
	var instances strings.Builder
	var zone *zoneText
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if h, ok := strings.CutPrefix(line, "-- "); ok && strings.HasSuffix(h, " --") {
			fields := strings.Fields(strings.TrimSuffix(h, " --"))
			c.zones = append(c.zones, zoneText{origin: dns.Fqdn(fields[0]), servers: []string{"ns1", "ns2"}})
			zone = &c.zones[len(c.zones)-1]
			if len(fields) > 1 {
				zone.servers = nil
				for _, s := range fields[1:] {
					zone.servers = append(zone.servers, strings.TrimPrefix(s, "@"))
				}
			}
			continue
		}
		if zone != nil {
			zone.text += line + "\n"
			continue
		}
		k, v, _ := strings.Cut(line, ":")
		v = strings.TrimSpace(v)
		switch k {
		case "name":
			c.opts.Domain = v
		case "instance":
			instances.WriteString(line + "\n")
		case "flags":
			for _, fl := range strings.Fields(v) {
				switch name, val, _ := strings.Cut(fl, "="); name {
				case "single-value-txt":
					c.opts.SingleValueTXT = true
				case "prune":
					c.opts.Prune = true
				case "fqdn":
					c.fqdn = true
				case "dmarc":
					c.opts.DMARC = strings.ReplaceAll(val, ";", "; ")
				default:
					t.Fatalf("%s:%d: unknown flag %q", path, n, fl)
				}
			}
		case "want":
			for _, code := range strings.Fields(v) {
				c.want = append(c.want, Code(code))
			}
		case "clean":
			c.clean = v == "true"
		default:
			if line != "" && !strings.HasPrefix(line, "#") {
				t.Fatalf("%s:%d: unknown header %q", path, n, line)
			}
		}
	}
	in, err := ParseInstances(strings.NewReader(instances.String()))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	c.opts.Instances = in
	return c
}

// world serves the case's zones and returns a client that finds them and
// a Planner.List that lists ns1's version of the main zone, as AXFR would.
func world(t *testing.T, c testCase) (*dnsclient.Client, func(ctx any, zone string) []dns.RR) {
	t.Helper()
	srv := servers(t)
	port := srv["ns1"].Port
	res := srv["resolver"]
	res.SetZone(".", rootZone)
	res.SetZone("test.", tldZone)
	res.SetZone("amazonses.com.", sesZone)
	srv["ses"].SetZone("amazonses.com.", sesZone)
	var seen []string
	for _, z := range c.zones {
		text := z.text
		if !strings.Contains(text, " SOA ") {
			text = zoneHead + text
		}
		for _, s := range z.servers {
			srv[s].SetZone(z.origin, text)
		}
		if !slices.Contains(seen, z.origin) {
			seen = append(seen, z.origin)
			res.SetZone(z.origin, text)
		}
	}
	list := func(_ any, zone string) []dns.RR {
		for _, z := range c.zones {
			if z.origin == zone && slices.Contains(z.servers, "ns1") {
				return parseZone(t, zone, zoneHead+z.text)
			}
		}
		return nil
	}
	return &dnsclient.Client{Resolver: res.Addr, AuthPort: port, Timeout: 300 * time.Millisecond, Retries: -1, RateLimit: 1000}, list
}

func parseZone(t *testing.T, origin, text string) []dns.RR {
	zp := dns.NewZoneParser(strings.NewReader(text), origin, "")
	zp.SetDefaultTTL(300)
	var out []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		out = append(out, rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

func codes(p *Plan) []Code {
	var out []Code
	for _, pr := range p.Problems {
		out = append(out, pr.Code)
	}
	return out
}

func bad(p *Plan) []Problem {
	var out []Problem
	for _, pr := range p.Problems {
		if pr.Severity >= doctor.SeverityWarning {
			out = append(out, pr)
		}
	}
	return out
}

// servers starts the world's servers, all on one port (serverAddrs).
func servers(t *testing.T) map[string]*dnstest.Server {
	t.Helper()
	names := []string{"ns1", "ns2", "ses", "resolver"}
	var hosts []string
	for _, n := range names {
		hosts = append(hosts, serverAddrs[n])
	}
	srv := map[string]*dnstest.Server{}
	for i, s := range dnstest.NewServers(t, hosts...) {
		srv[names[i]] = s
	}
	return srv
}
