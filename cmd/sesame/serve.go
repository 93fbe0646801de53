package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame/sesame/internal/account"
	"github.com/sesame/sesame/internal/api"
	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/mail"
	"github.com/sesame/sesame/internal/netlimit"
	"github.com/sesame/sesame/internal/server"
)

type serveFlags struct {
	regionFlags
	listen    string
	keyFile   string
	servers   nameServers
	dns       config.DNS
	policies  identity.Policies
	publicURL string
	smtpURL   string
	// allowLocalOutbox runs without a relay on a non-loopback listener or
	// public URL.
	allowLocalOutbox bool
	mail             mail.Settings
	verify           server.VerifyOptions
	api              apiFlags
	smtp             smtpFlags
	dkim             dkimFlags
}

// apiFlags are the API's limits (api.Limits), in the units of the flags.
type apiFlags struct {
	accountRate  float64
	accountBurst int
	bodyMemory   int // MiB
	// maxConns and maxConnsPerIP bound the listener (server.Listen).
	maxConns, maxConnsPerIP int
}

func (f *serveFlags) limits() api.Limits {
	l := api.Limits{AccountRate: f.api.accountRate, AccountBurst: f.api.accountBurst, BodyMemory: int64(f.api.bodyMemory) << 20}
	if f.api.accountRate == 0 {
		l.AccountRate = -1 // no limit
	}
	return l
}

func newServe(g *globals) *cobra.Command {
	f := &serveFlags{dns: config.SES(), policies: identity.SESPolicies()}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the SES API (v1 and v2), the DNS verifier and the web console",
		Long: `Run the SES-compatible API on one HTTP listener: the v1 Query protocol at /,
v2 REST-JSON under /v2/email/, the web console at /console/, the links of
verification emails at /verify, /healthz and Prometheus /metrics. In the
background, the verifier checks each domain's records on its authoritative
name servers (--verify=false turns it off). With --smtp-listen or
--smtps-listen, SES's SMTP interface too: the user name is an access key ID,
the password its SMTP password for --smtp-region (sesame accounts
smtp-password).

On the first start with an empty data directory, a "default" account is
created and its credentials are printed.

Without --smtp-url, verification emails stay in the local outbox, where
each tenant sees the links of the addresses it names (for trying Sesame
and test rigs): a --listen address or a --public-url other machines reach
(a loopback listener behind a reverse proxy, say) is then refused unless
--allow-local-outbox is given.

Every flag can also be set with an environment variable: SESAME_ and the
flag's name in upper case with dashes as underscores (--listen: SESAME_LISTEN).
A flag on the command line wins over its variable.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runServe(cmd.Context(), g, f, cmd.OutOrStdout()) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "127.0.0.1:8080", "address of the HTTP listener")
	fl.StringVar(&f.keyFile, "key-file", "", "file of the key that seals secret access keys (default <data>/secret.key)")
	addRegionFlags(fl, &f.regionFlags)
	addRecordFlags(fl, &f.dns)
	addPolicyFlags(fl, &f.policies)
	f.servers.add(fl)
	fl.IntVar(&f.verify.Concurrency, "verify-concurrency", 16, "identities checked at once")
	fl.DurationVar(&f.verify.Recheck, "recheck-interval", time.Hour, "how often verified identities are checked again, to notice removed records")
	fl.BoolVar(&f.verify.Run, "verify", true, "run the DNS verifier (--verify=false: identities stay as they are until checked on demand)")
	fl.StringVar(&f.publicURL, "public-url", "", "base URL of verification links, as recipients reach this server (default http://<listen address>)")
	fl.StringVar(&f.smtpURL, "smtp-url", "", "SMTP relay of verification mail: smtp://[user:password@]host[:587] (STARTTLS; plain SMTP accepted on loopback only) or smtps://...[:465]; empty keeps mail in the local outbox (sesame outbox, and each account's in the console), allowed with a loopback --listen and --public-url only unless --allow-local-outbox")
	fl.BoolVar(&f.allowLocalOutbox, "allow-local-outbox", false, "serve without --smtp-url on a non-loopback --listen or --public-url, knowingly: each tenant sees the links of the addresses it names in its console outbox, so it verifies them without their owners (a demo or a test rig, not a service)")
	fl.IntVar(&f.mail.Concurrency, "relay-concurrency", mail.DefaultConcurrency, "messages handed to the SMTP relay at once, each on a connection kept open between messages")
	fl.StringVar(&f.mail.CAFile, "smtp-ca-file", "", "PEM file of the CAs the relay's certificate must chain to (default the system's)")
	fl.Float64Var(&f.api.accountRate, "account-rate", api.DefaultLimits.AccountRate, "API requests per second each account may make on average (0: no limit); past it, Throttling (v1) or TooManyRequestsException (v2)")
	fl.IntVar(&f.api.accountBurst, "account-burst", api.DefaultLimits.AccountBurst, "API requests each account may make at once, above --account-rate")
	fl.IntVar(&f.api.bodyMemory, "body-memory-mib", int(api.DefaultLimits.BodyMemory>>20), "most MiB of request bodies held at once across the server; past it, Throttling (v1) or TooManyRequestsException (v2)")
	f.dkim.add(fl)
	fl.IntVar(&f.api.maxConns, "max-connections", netlimit.DefaultMaxConns, "most connections open at once; one more is closed as soon as accepted")
	fl.IntVar(&f.api.maxConnsPerIP, "max-connections-per-ip", netlimit.DefaultMaxConnsPerClient, "most connections open at once from one client address (an IPv4 address, an IPv6 /64)")
	fl.StringVar(&f.mail.From, "mail-sender", "", "sender (From address) of verification mail (default no-reply@<host of --public-url>)")
	addSMTPFlags(fl, &f.smtp)
	withEnv(fl, serveEnv...)
	return cmd
}

func runServe(ctx context.Context, g *globals, f *serveFlags, out io.Writer) error {
	log, err := g.logger()
	if err != nil {
		return err
	}
	if err := f.regionFlags.validate(); err != nil {
		return usageError{err}
	}
	f.regionFlags.warn(log)
	if err := f.validate(); err != nil {
		return usageError{err}
	}
	f.verify.Resolver, f.verify.AuthPort, f.verify.RateLimit = f.servers.resolver, f.servers.authPort, f.servers.rateLimit
	server.TuneGC()
	server.TuneProcs()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Listen first: the default public URL is the address bound.
	ln, err := server.Listen(f.listen, f.api.maxConns, f.api.maxConnsPerIP)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", f.listen, err)
	}
	if f.publicURL == "" {
		f.publicURL = defaultPublicURL(ln.Addr())
	}
	s, err := server.Open(ctx, server.Options{Data: g.data, DatabaseURL: g.databaseURL, KeyFile: f.keyFile, DNS: f.dns, Policies: f.policies, Log: log,
		PublicURL: f.publicURL, SMTPURL: f.smtpURL, Mail: f.mail, Verify: f.verify, Regions: f.regions, Caps: f.caps, Limits: f.limits(),
		DKIM: f.dkim.options()})
	if err != nil {
		ln.Close()
		return err
	}
	defer s.Close()
	var dnsErrc <-chan error
	if f.dkim.listen != "" {
		o := f.dkim.dnsOptions(f.dns.DKIMDomain)
		addr, errc, err := s.ListenDNS(ctx, f.dkim.listen, o)
		if err != nil {
			ln.Close()
			return err
		}
		dnsErrc = errc
		if len(f.dkim.ns) == 0 {
			log.Warn("the DKIM zone names " + o.NS[0] + " as its name server: set --dns-ns to the names the parent zone delegates it to")
		}
		log.Info("sesame serving the DKIM zone", "zone", f.dns.DKIMDomain, "dns", addr.String(), "ns", strings.Join(o.NS, ","))
	}
	creds, err := s.EnsureDefaultAccount(ctx)
	if err != nil {
		return err
	}
	url := "http://" + ln.Addr().String()
	consoleURL := strings.TrimSuffix(f.publicURL, "/") + "/console/"
	if creds != nil {
		printWelcome(out, url, consoleURL, creds)
	}
	log.Info("sesame serving", "url", url, "console", consoleURL, "data", g.data)

	hs := s.HTTPServer()
	errc := make(chan error, 1)
	stopSMTP, err := f.smtp.start(s, g.data, log, out, errc)
	if err != nil {
		return err
	}
	defer stopSMTP()
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case err := <-dnsErrc:
		return fmt.Errorf("--dns-listen %s: %w", f.dkim.listen, err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// validate refuses the flag values that cannot work, before anything is
// opened: a mistake is a usage error, not a verifier that fails later.
func (f *serveFlags) validate() error {
	if f.api.accountRate < 0 || f.api.accountBurst < 1 {
		return fmt.Errorf("--account-rate %v --account-burst %d: want a rate of 0 (no limit) or more and a burst of at least 1", f.api.accountRate, f.api.accountBurst)
	}
	if err := api.CheckBodyMemory(f.limits()); err != nil {
		return fmt.Errorf("--body-memory-mib %d: %w", f.api.bodyMemory, err)
	}
	if f.api.maxConns < 1 || f.api.maxConnsPerIP < 1 {
		return fmt.Errorf("--max-connections %d --max-connections-per-ip %d: want at least 1 each", f.api.maxConns, f.api.maxConnsPerIP)
	}
	if f.verify.Concurrency < 1 {
		return fmt.Errorf("--verify-concurrency %d: want at least 1", f.verify.Concurrency)
	}
	if f.mail.Concurrency < 1 {
		return fmt.Errorf("--relay-concurrency %d: want at least 1", f.mail.Concurrency)
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
		zero bool // zero is allowed
	}{
		{"--verification-window", f.policies.Records.Window, false},
		{"--revocation-grace", f.policies.Records.Grace, true},
		{"--link-validity", f.policies.Link.Window, false},
		{"--recheck-interval", f.verify.Recheck, false},
	} {
		if d.v < 0 && d.zero {
			return fmt.Errorf("%s %v: want 0 (at once) or a positive duration, such as 72h", d.flag, d.v)
		}
		if d.v <= 0 && !d.zero {
			return fmt.Errorf("%s %v: want a positive duration, such as 72h", d.flag, d.v)
		}
	}
	if err := f.checkMail(); err != nil {
		return err
	}
	if err := f.servers.validate(); err != nil {
		return err
	}
	if err := f.smtp.validate(); err != nil {
		return err
	}
	if err := f.dkim.validate(f.dns); err != nil {
		return err
	}
	return f.dns.Validate()
}

func printWelcome(out io.Writer, url, consoleURL string, c *account.Credentials) {
	fmt.Fprintf(out, `Created the default account %s. Its credentials (shown only now):

  export AWS_ACCESS_KEY_ID=%s
  export AWS_SECRET_ACCESS_KEY=%s
  export AWS_DEFAULT_REGION=us-east-1

Then, for example:

  aws ses verify-domain-identity --domain example.com --endpoint-url %s

or open the web console and sign in with the access key ID and secret above:

  %s

`, c.AccountId, c.AccessKeyId, c.SecretAccessKey, url, consoleURL)
}

// defaultPublicURL is http://<the address bound>, with a loopback address
// in place of an unspecified one (0.0.0.0, ::), which no browser can open.
func defaultPublicURL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
