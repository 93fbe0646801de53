package doctor

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/dnstest"
)

// The test DNS world. Every server listens on the same port, on its own
// loopback address, as real name servers all listen on port 53:
//
//	127.0.0.53  resolver: the root, test., amazonses.com. and the first
//	            version of every zone of the case, to find zones with
//	127.0.0.1   ns1.example.test
//	127.0.0.3   ns2.example.test
//	127.0.0.4   ns.amazonses.com, for the include:amazonses.com of SPF
//	127.0.0.5   ns3: serves nothing unless a case says so (a lame server)
//	127.0.0.6   ns4: likewise, for a second zone of a case
var serverAddrs = map[string]string{
	"ns1": "127.0.0.1", "ns2": "127.0.0.3", "ses": "127.0.0.4", "ns3": "127.0.0.5", "ns4": "127.0.0.6", "resolver": "127.0.0.53",
}

const (
	rootZone = `
@           SOA  a.root.test. hostmaster.root.test. 1 7200 3600 1209600 300
`
	// test. is a registry: names below it that are not delegated do not
	// exist, as unregistered names under .com do not.
	tldZone = `
@           SOA  a.nic.test. hostmaster.nic.test. 1 7200 3600 1209600 300
@           NS   a.nic.test.
a.nic       A    127.0.0.250
`
)

// testCase is one file of testdata/cases: a header, then zones.
//
//	# what the case shows
//	name: example.test
//	instance: ses1 region=us-east-1 token=... dkim=a,b,c mail-from=mail.example.test
//	want: verification-record-ok dkim-records-ok
//	clean: true
//	fault: ns2 drop
//	-- example.test --
//	zone text, served by ns1 and ns2 (and the resolver)
//	-- example.test @ns2 --
//	another version, served by ns2 instead
type testCase struct {
	name   string
	input  Input
	want   []Code
	clean  bool
	faults map[string]dnstest.Fault
	zones  []zoneText
}

type zoneText struct {
	origin  string
	servers []string
	text    string
}

var faults = map[string]dnstest.Fault{
	"drop": dnstest.Drop, "servfail": dnstest.ServFail, "refused": dnstest.Refused, "lowercase": dnstest.LowercaseTXT,
	"bogus": dnstest.Bogus,
}

func readCase(t testing.TB, path string) testCase {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := testCase{name: strings.TrimSuffix(filepath.Base(path), ".txt"), faults: map[string]dnstest.Fault{}}
	var zone *zoneText
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if h, ok := strings.CutPrefix(line, "-- "); ok && strings.HasSuffix(h, " --") {
			fields := strings.Fields(strings.TrimSuffix(h, " --"))
			c.zones = append(c.zones, zoneText{origin: fields[0]})
			zone = &c.zones[len(c.zones)-1]
			for _, s := range fields[1:] {
				zone.servers = append(zone.servers, strings.TrimPrefix(s, "@"))
			}
			if len(zone.servers) == 0 {
				zone.servers = []string{"ns1", "ns2"}
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
			c.input.Name = v
		case "instance":
			c.input.Expect = append(c.input.Expect, parseInstance(t, v))
		case "want":
			for _, code := range strings.Fields(v) {
				c.want = append(c.want, Code(code))
			}
		case "clean":
			c.clean = v == "true"
		case "fault":
			srv, fault, _ := strings.Cut(v, " ")
			c.faults[srv] = faults[fault]
		default:
			if line != "" && !strings.HasPrefix(line, "#") {
				t.Fatalf("%s:%d: unknown header %q", path, n, line)
			}
		}
	}
	return c
}

// parseInstance reads "LABEL key=value flag ...".
func parseInstance(t testing.TB, s string) Instance {
	fields := strings.Fields(s)
	in := Instance{Label: fields[0]}
	for _, f := range fields[1:] {
		k, v, _ := strings.Cut(f, "=")
		st := func() *Status {
			if in.Status == nil {
				in.Status = &Status{}
			}
			return in.Status
		}
		switch k {
		case "region":
			in.Region = v
		case "token":
			in.Token = v
		case "dkim":
			in.DKIMTokens = strings.Split(v, ",")
		case "selector":
			in.DKIMSelector = v
		case "dkim-key": // the p= of the BYODKIM key's record
			in.DKIMKey = "v=DKIM1; k=rsa; p=" + v
		case "token-key": // TOKEN:P, the p= of the key the instance publishes for a token
			tok, p, _ := strings.Cut(v, ":")
			if in.DKIMKeys == nil {
				in.DKIMKeys = map[string]string{}
			}
			in.DKIMKeys[tok] = "v=DKIM1; k=rsa; p=" + p
		case "mail-from":
			in.MailFrom = v
		case "from-ses":
			in.FromSES = true
		case "missing":
			in.Missing = true
		case "verification-status":
			st().Verification = v
		case "dkim-status":
			st().DKIM = v
		case "dkim-enabled":
			st().DKIMEnabled = true
		case "mail-from-status":
			st().MailFrom = v
		default:
			t.Fatalf("instance %q: unknown field %q", s, f)
		}
	}
	return in
}

// startWorld serves the case's zones and returns a client that finds them.
func startWorld(t testing.TB, c testCase) (*dnsclient.Client, string) {
	t.Helper()
	srv := map[string]*dnstest.Server{}
	names := []string{"ns1", "ns2", "ses", "ns3", "ns4", "resolver"}
	var hosts []string
	for _, n := range names {
		hosts = append(hosts, serverAddrs[n])
	}
	for i, s := range dnstest.NewServers(t, hosts...) {
		srv[names[i]] = s
	}
	port := srv["ns1"].Port
	ses := readFile(t, "testdata/amazonses.com.zone")
	res := srv["resolver"]
	res.SetZone(".", rootZone)
	res.SetZone("test.", tldZone)
	res.SetZone("amazonses.com.", ses)
	srv["ses"].SetZone("amazonses.com.", ses)
	var seen []string
	for _, z := range c.zones {
		for _, s := range z.servers {
			if srv[s] == nil {
				t.Fatalf("case %s: unknown server %q", c.name, s)
			}
			srv[s].SetZone(z.origin, z.text)
		}
		if !slices.Contains(seen, z.origin) {
			seen = append(seen, z.origin)
			res.SetZone(z.origin, z.text)
		}
	}
	for s, f := range c.faults {
		srv[s].SetFault(f)
	}
	// Short timeouts without retries: a dropped query costs 0.3 s, not 6.
	return &dnsclient.Client{Resolver: res.Addr, AuthPort: port, Timeout: 300 * time.Millisecond, Retries: -1, RateLimit: 1000}, port
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
