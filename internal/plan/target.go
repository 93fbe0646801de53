package plan

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/redact"
)

// ErrTarget: an --apply URL or a TSIG key that cannot be used.
var ErrTarget = errors.New("invalid update target")

// Target is a server that takes RFC 2136 dynamic updates:
// rfc2136://HOST[:PORT][?zone=ZONE].
type Target struct {
	Host string // an IP address or a host name
	Port string // "53" unless given
	Zone string // fully qualified; "" means the zone that holds the domain
}

// ParseTarget reads an rfc2136:// URL.
func ParseTarget(s string) (*Target, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTarget, redact.ParseError(err))
	}
	s = redact.URL(u) // quoted below without a password
	if u.Scheme != "rfc2136" || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.Fragment != "" {
		return nil, fmt.Errorf("%w: %q: want rfc2136://HOST:PORT?zone=ZONE", ErrTarget, s)
	}
	t := &Target{Host: u.Hostname(), Port: u.Port()}
	if _, err := netip.ParseAddr(t.Host); err != nil && !isHostName(t.Host) {
		return nil, fmt.Errorf("%w: %q: host %q is neither an IP address nor a host name", ErrTarget, s, t.Host)
	}
	if t.Port == "" {
		t.Port = "53"
	}
	if p, err := strconv.ParseUint(t.Port, 10, 16); err != nil || p == 0 {
		return nil, fmt.Errorf("%w: %q: port %q", ErrTarget, s, t.Port)
	}
	for k, v := range u.Query() {
		if k != "zone" || len(v) != 1 {
			return nil, fmt.Errorf("%w: %q: the only parameter is zone, given once", ErrTarget, s)
		}
		if _, ok := dns.IsDomainName(v[0]); !ok || v[0] == "" || v[0] == "." {
			return nil, fmt.Errorf("%w: %q: zone %q is not a domain name", ErrTarget, s, v[0])
		}
		t.Zone = dns.CanonicalName(v[0])
	}
	return t, nil
}

func isHostName(h string) bool {
	if _, ok := dns.IsDomainName(h); !ok || h == "" || h == "." {
		return false
	}
	for _, c := range h {
		if !(c == '.' || c == '-' || c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// Addr is host:port.
func (t *Target) Addr() string { return net.JoinHostPort(t.Host, t.Port) }

func (t *Target) String() string {
	s := "rfc2136://" + t.Addr()
	if t.Zone != "" {
		s += "?zone=" + url.QueryEscape(bare(t.Zone))
	}
	return s
}

// server returns the target as a dnsclient server, and a client like base
// that asks it at its port.
func (t *Target) server(ctx context.Context, base *dnsclient.Client) (dnsclient.Server, *dnsclient.Client, error) {
	ip, err := netip.ParseAddr(t.Host)
	if err != nil {
		ips, lerr := net.DefaultResolver.LookupNetIP(ctx, "ip", t.Host)
		if lerr != nil || len(ips) == 0 {
			return dnsclient.Server{}, nil, fmt.Errorf("--apply host %q: %v", t.Host, lerr)
		}
		ip = ips[0]
	}
	cl := &dnsclient.Client{Resolver: base.Resolver, AuthPort: t.Port, Timeout: base.Timeout, Budget: base.Budget, Retries: base.Retries, RateLimit: base.RateLimit}
	return dnsclient.Server{Name: dns.Fqdn(t.Host), Addr: ip.Unmap()}, cl, nil
}

// TSIG is a key that signs updates and zone transfers (RFC 8945).
type TSIG struct {
	Name      string // fully qualified, lower case
	Algorithm string // as miekg/dns names it, such as dns.HmacSHA256
	Secret    Secret // base64
}

// Secret is a TSIG secret; it prints and logs redacted.
type Secret string

func (Secret) String() string               { return "REDACTED" }
func (Secret) LogValue() slog.Value         { return slog.StringValue("REDACTED") }
func (s Secret) Format(f fmt.State, _ rune) { f.Write([]byte(s.String())) }

var algorithms = map[string]string{
	"hmac-sha1":   dns.HmacSHA1,
	"hmac-sha224": dns.HmacSHA224,
	"hmac-sha256": dns.HmacSHA256,
	"hmac-sha384": dns.HmacSHA384,
	"hmac-sha512": dns.HmacSHA512,
}

// ParseTSIG reads NAME:ALGORITHM:SECRET, such as
// "sesame.:hmac-sha256:c2VjcmV0...". The error never shows the secret.
func ParseTSIG(s string) (*TSIG, error) {
	name, rest, ok1 := strings.Cut(s, ":")
	alg, secret, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 || name == "" {
		return nil, fmt.Errorf("%w: TSIG key: want NAME:ALGORITHM:SECRET", ErrTarget)
	}
	if _, ok := dns.IsDomainName(name); !ok {
		return nil, fmt.Errorf("%w: TSIG key name %q is not a domain name", ErrTarget, name)
	}
	a, ok := algorithms[strings.TrimSuffix(strings.ToLower(alg), ".")]
	if !ok {
		return nil, fmt.Errorf("%w: TSIG algorithm %q: want hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384 or hmac-sha512", ErrTarget, alg)
	}
	if b, err := base64.StdEncoding.DecodeString(secret); err != nil || len(b) == 0 {
		return nil, fmt.Errorf("%w: the TSIG secret of %s is not base64", ErrTarget, name)
	}
	return &TSIG{Name: dns.CanonicalName(name), Algorithm: a, Secret: Secret(secret)}, nil
}

// sign signs m with k, and returns the secrets a dns.Client or
// dns.Transfer needs to check the reply's signature; nil when k is nil.
func (k *TSIG) sign(m *dns.Msg) map[string]string {
	if k == nil {
		return nil
	}
	m.SetTsig(k.Name, k.Algorithm, 300, time.Now().Unix())
	return map[string]string{k.Name: string(k.Secret)}
}
