package main

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/spf13/pflag"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/identity"
)

// dnsFlags are the flags of the commands that ask name servers themselves:
// doctor and plan.
type dnsFlags struct {
	resolver  string
	authPort  string
	timeout   time.Duration
	rateLimit float64
	dns       config.DNS
}

func newDNSFlags() dnsFlags { return dnsFlags{dns: config.SES()} }

func (d *dnsFlags) add(fl *pflag.FlagSet) {
	fl.StringVar(&d.resolver, "resolver", "", "recursive resolver used to find name servers, host:port (default: the first of /etc/resolv.conf)")
	fl.StringVar(&d.authPort, "dns-port", "53", "port of authoritative name servers (change only for tests)")
	fl.DurationVar(&d.timeout, "timeout", dnsclient.DefaultTimeout, "how long to wait for one DNS reply")
	fl.Float64Var(&d.rateLimit, "dns-rate-limit", doctorRateLimit, "most DNS queries per second to any one name server")
	addRecordFlags(fl, &d.dns)
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
	if d.timeout <= 0 || d.rateLimit <= 0 {
		return errors.New("--timeout and --dns-rate-limit must be positive")
	}
	return validateDNS(d.resolver, d.authPort, d.dns)
}

// validateDNS checks the flags that serve, doctor and plan share: the
// resolver, the port of authoritative servers and the record settings.
func validateDNS(resolver, authPort string, d config.DNS) error {
	if resolver != "" {
		if _, err := netip.ParseAddrPort(resolver); err != nil {
			if _, err := netip.ParseAddr(resolver); err != nil {
				return fmt.Errorf("--resolver %q: want an IP address and port, such as 127.0.0.1:53", resolver)
			}
		}
	}
	if p, err := strconv.ParseUint(authPort, 10, 16); err != nil || p == 0 {
		return fmt.Errorf("--dns-port %q: want a port number", authPort)
	}
	return d.Validate()
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
