package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/keyring"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/server"
)

// dkimFlags are serve's flags of the Easy DKIM keys: Sesame's DNS for the
// DKIM zone and the rotation of the keys.
type dkimFlags struct {
	listen   string
	ns       []string
	mbox     string
	ttl      time.Duration
	rotation time.Duration
	grace    time.Duration
}

func (d *dkimFlags) add(fl *pflag.FlagSet) {
	fl.StringVar(&d.listen, "dns-listen", "", "address (UDP and TCP) where Sesame answers as the authoritative server of the --dkim-domain zone, with the Easy DKIM keys (e.g. 0.0.0.0:53); empty: no DNS listener")
	fl.StringSliceVar(&d.ns, "dns-ns", nil, "host names of the DKIM zone's name servers, for its NS and SOA records: those the parent zone delegates it to (comma-separated; default ns1.<dkim-domain>)")
	fl.StringVar(&d.mbox, "dns-soa-mbox", "", "responsible mailbox of the DKIM zone's SOA, hostmaster@example.net (default hostmaster@<dkim-domain>)")
	fl.DurationVar(&d.ttl, "dns-ttl", 300*time.Second, "TTL of the DKIM zone's records; a new key signs only once it has been published this long")
	fl.DurationVar(&d.rotation, "dkim-rotation", 0, "rotate each identity's Easy DKIM keys this often, one token at a time (e.g. 2160h); 0: only when sesame dkim rotate asks")
	fl.DurationVar(&d.grace, "dkim-rotation-grace", keyring.DefaultGrace, "how long a key that stopped signing stays published, so that mail signed with it still verifies")
}

func (d *dkimFlags) validate(dnsCfg config.DNS) error {
	if d.listen != "" && !server.ServesDKIM(dnsCfg) {
		return fmt.Errorf("--dns-listen: %w", server.ErrSESDKIMDomain)
	}
	for _, ns := range d.ns {
		// names' domain rules (LDH labels, length), as for identities.
		if kind, _, err := names.Identity(strings.TrimSuffix(ns, ".")); err != nil || kind != names.KindDomain {
			return fmt.Errorf("--dns-ns %q: want a host name, such as ns1.example.net", ns)
		}
	}
	if d.ttl < time.Second || d.ttl > 24*time.Hour {
		return fmt.Errorf("--dns-ttl %v: want 1s to 24h", d.ttl)
	}
	if d.rotation < 0 {
		return fmt.Errorf("--dkim-rotation %v: want 0 (off) or a positive duration, such as 2160h", d.rotation)
	}
	if d.rotation > 0 && d.rotation < 2*d.ttl {
		return fmt.Errorf("--dkim-rotation %v: want at least twice --dns-ttl (%v): a new key waits the TTL before it signs", d.rotation, d.ttl)
	}
	if d.grace < d.ttl {
		return fmt.Errorf("--dkim-rotation-grace %v: want at least --dns-ttl (%v), so that no resolver holds a key that is gone", d.grace, d.ttl)
	}
	return nil
}

func (d *dkimFlags) options() server.DKIMOptions {
	return server.DKIMOptions{TTL: d.ttl, Rotation: d.rotation, Grace: d.grace}
}

// dnsOptions are the DNS listener's settings; without --dns-ns the zone
// names ns1.<zone> as its server, which is right only if the parent
// delegates to that name (the caller warns).
func (d *dkimFlags) dnsOptions(zone string) server.DNSOptions {
	ns := d.ns
	if len(ns) == 0 {
		ns = []string{"ns1." + zone}
	}
	return server.DNSOptions{NS: ns, Mbox: d.mbox, TTL: d.ttl}
}
