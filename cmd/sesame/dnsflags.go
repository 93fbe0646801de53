package main

import (
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/spf13/pflag"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/identity"
)

// DefaultRateLimit is the default of --dns-rate-limit, for the verifier,
// the doctor and plan alike: a diagnosis asks each server about a dozen
// questions, so a person waits a quarter of a second for it.
const DefaultRateLimit = 50

// nameServers are the flags of every command that asks name servers itself
// (serve, doctor, plan), defined once so that they agree.
type nameServers struct {
	resolver  string
	authPort  string
	rateLimit float64
}

func (n *nameServers) add(fl *pflag.FlagSet) {
	fl.StringVar(&n.resolver, "resolver", "", "recursive resolver (host:port) used to find each domain's authoritative name servers (default: the first nameserver of /etc/resolv.conf)")
	fl.StringVar(&n.authPort, "dns-port", "53", "port of authoritative name servers (change only for tests)")
	fl.Float64Var(&n.rateLimit, "dns-rate-limit", DefaultRateLimit, "most DNS queries per second to any one name server")
}

// validate checks the flags; its errors are usage errors.
func (n *nameServers) validate() error {
	if n.rateLimit <= 0 {
		return fmt.Errorf("--dns-rate-limit %v: want a positive number of queries per second", n.rateLimit)
	}
	if n.resolver != "" {
		if _, err := netip.ParseAddrPort(n.resolver); err != nil {
			if _, err := netip.ParseAddr(n.resolver); err != nil {
				return fmt.Errorf("--resolver %q: want an IP address and port, such as 127.0.0.1:53", n.resolver)
			}
		}
	}
	if p, err := strconv.ParseUint(n.authPort, 10, 16); err != nil || p == 0 {
		return fmt.Errorf("--dns-port %q: want a port number", n.authPort)
	}
	return nil
}

// dnsFlags are the flags of the commands that ask name servers and judge
// what they answer on the spot: doctor and plan.
type dnsFlags struct {
	nameServers
	timeout time.Duration
	dns     config.DNS
}

func newDNSFlags() dnsFlags { return dnsFlags{dns: config.SES()} }

func (d *dnsFlags) add(fl *pflag.FlagSet) {
	d.nameServers.add(fl)
	fl.DurationVar(&d.timeout, "timeout", dnsclient.DefaultTimeout, "how long to wait for one DNS reply")
	addRecordFlags(fl, &d.dns)
}

// client is the DNS client the flags describe; budget bounds one lookup
// (0: the default).
func (d *dnsFlags) client(budget time.Duration) *dnsclient.Client {
	return &dnsclient.Client{Resolver: d.resolver, AuthPort: d.authPort, Timeout: d.timeout, RateLimit: d.rateLimit, Budget: budget}
}

// addRecordFlags adds the record settings, whose defaults are SES's; serve,
// doctor and plan share them so that all three agree on the records.
func addRecordFlags(fl *pflag.FlagSet, d *config.DNS) {
	fl.StringVar(&d.VerificationPrefix, "verification-prefix", d.VerificationPrefix, "label of the verification TXT record: <prefix>.<domain>")
	fl.StringVar(&d.ValuePrefix, "value-prefix", d.ValuePrefix, "optional prefix of the verification TXT value")
	fl.StringVar(&d.DKIMDomain, "dkim-domain", d.DKIMDomain, "target domain of the Easy DKIM CNAMEs: <token>.<dkim-domain>")
	fl.StringVar(&d.MailFromMX, "mail-from-mx", d.MailFromMX, "MX host of custom MAIL FROM domains; {region} is replaced by the region")
	fl.StringVar(&d.SPFInclude, "spf-include", d.SPFInclude, "domain in the MAIL FROM SPF record: v=spf1 include:<spf-include> ~all")
}

// validate checks the flags; its errors are usage errors.
func (d *dnsFlags) validate() error {
	if d.timeout <= 0 {
		return fmt.Errorf("--timeout %v: want a positive duration, such as 2s", d.timeout)
	}
	if err := d.nameServers.validate(); err != nil {
		return err
	}
	return d.dns.Validate()
}

// addPolicyFlags adds the windows of the checks, whose defaults are SES's.
// serve and `identities show` share them, so that both compute the same
// deadlines.
func addPolicyFlags(fl *pflag.FlagSet, p *identity.Policies) {
	fl.Var(recordsWindow{p}, "verification-window", "how long a DNS record may take to appear before the check fails")
	fl.DurationVar(&p.Records.Grace, "revocation-grace", p.Records.Grace, "how long a verified TXT or DKIM record may be missing before verification is revoked")
	fl.DurationVar(&p.Link.Window, "link-validity", p.Link.Window, "how long an email verification link works")
}

// recordsWindow is --verification-window: the window of the DNS records,
// the domain's TXT and DKIM records and the MAIL FROM MX alike.
type recordsWindow struct{ p *identity.Policies }

func (w recordsWindow) String() string {
	if w.p == nil {
		return ""
	}
	return w.p.Records.Window.String()
}

func (w recordsWindow) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	w.p.Records.Window, w.p.MailFrom.Window = d, d
	return nil
}

func (recordsWindow) Type() string { return "duration" }
