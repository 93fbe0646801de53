package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/dnsserver"
	"github.com/sesame/sesame/internal/keyring"
)

// DKIMOptions configure the Easy DKIM keys and their rotation.
type DKIMOptions struct {
	// TTL is the TTL of the published keys (--dns-ttl): a new key waits
	// this long before it signs. Zero: dnsserver.DefaultTTL.
	TTL time.Duration
	// Rotation rotates each identity's keys this often (--dkim-rotation);
	// zero only when asked (`sesame dkim rotate`).
	Rotation time.Duration
	// Grace keeps a retired key published this long; zero:
	// keyring.DefaultGrace.
	Grace time.Duration
	// Step is how often rotations move on; zero: from the TTL (a half, 1 s
	// to 1 min).
	Step time.Duration
}

// ErrSESDKIMDomain: Sesame cannot publish keys in Amazon's zone.
var ErrSESDKIMDomain = errors.New("the DKIM domain is SES's own dkim.amazonses.com, a zone only Amazon serves: " +
	"Sesame makes no keys for it and cannot answer for it; set --dkim-domain to a zone you delegate to Sesame (such as dkim.example.net)")

// ServesDKIM reports whether Sesame makes and publishes Easy DKIM keys
// for d: not for SES's own DKIM domain.
func ServesDKIM(d config.DNS) bool { return !d.SESDKIMZone() }

// openDKIM sets up the keyring when Sesame can publish keys: the tokens
// get keys, sent mail is signed, and rotations move on in the
// background. Call it after openSending.
func (s *Server) openDKIM(opts Options) {
	o := opts.DKIM
	ttl := o.TTL
	if ttl <= 0 {
		ttl = dnsserver.DefaultTTL * time.Second
	}
	// With SES's own DKIM domain the keyring still keeps and signs with
	// BYODKIM keys, whose records are in the customer's zone.
	s.Keyring = &keyring.Keyring{Keys: s.Store, Identities: s.Identities, Sealer: s.Accounts.Sealer, Registry: s.Registry,
		TTL: ttl, Grace: o.Grace, Interval: o.Rotation, Now: opts.Now, Log: s.Log.With("component", "dkim"),
		NoEasyKeys: !ServesDKIM(opts.DNS)}
	s.Registry.DKIMKeys = s.Keyring
	s.Sender.Signer = s.Keyring
	if !ServesDKIM(opts.DNS) {
		s.Log.Warn("Easy DKIM tokens get no keys and mail is signed only with BYODKIM keys: " + ErrSESDKIMDomain.Error())
		return
	}
	step := o.Step
	if step <= 0 {
		step = min(max(ttl/2, time.Second), time.Minute)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Keyring.Run(ctx, step)
	}()
	s.stopDKIM = func() { cancel(); <-done }
}

func (s *Server) closeDKIM() {
	if s.stopDKIM != nil {
		s.stopDKIM()
	}
}

// DNSOptions configure Sesame's authoritative DNS for the DKIM zone.
type DNSOptions struct {
	NS   []string // --dns-ns
	Mbox string   // --dns-soa-mbox: "hostmaster.example.net" or hostmaster@example.net
	TTL  time.Duration
}

// ListenDNS binds addr (UDP and TCP, the same port) and answers there for
// the DKIM zone from the keyring until ctx ends; errc gets the error that
// stops it.
func (s *Server) ListenDNS(ctx context.Context, addr string, o DNSOptions) (net.Addr, <-chan error, error) {
	if s.Keyring == nil || s.Keyring.NoEasyKeys {
		return nil, nil, ErrSESDKIMDomain
	}
	srv := &dnsserver.Server{Zone: s.Registry.DNS.DKIMDomain, NS: o.NS, Mbox: strings.Replace(o.Mbox, "@", ".", 1),
		TTL: uint32(o.TTL / time.Second), Keys: s.Keyring, Log: s.Log.With("component", "dns")}
	if err := srv.Validate(); err != nil {
		return nil, nil, err
	}
	pcs, l, err := dnsserver.Listen(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("--dns-listen %s: %w", addr, err)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ServeAll(ctx, pcs, l) }()
	return pcs[0].LocalAddr(), errc, nil
}
