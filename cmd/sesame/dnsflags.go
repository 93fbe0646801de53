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
	if d.resolver != "" {
		if _, err := netip.ParseAddrPort(d.resolver); err != nil {
			if _, err := netip.ParseAddr(d.resolver); err != nil {
				return fmt.Errorf("--resolver %q: want an IP address and port, such as 127.0.0.1:53", d.resolver)
			}
		}
	}
	if p, err := strconv.ParseUint(d.authPort, 10, 16); err != nil || p == 0 {
		return fmt.Errorf("--dns-port %q: want a port number", d.authPort)
	}
	if d.timeout <= 0 || d.rateLimit <= 0 {
		return errors.New("--timeout and --dns-rate-limit must be positive")
	}
	return d.dns.Validate()
}
