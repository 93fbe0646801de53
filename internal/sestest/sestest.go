// Package sestest starts a real Sesame on a loopback port for tests, in the
// manner of net/http/httptest: the store in a temporary directory, the full
// HTTP handler (v1 Query at "/", v2 REST under /v2/email/, /healthz,
// /metrics) on 127.0.0.1:0, and aws-sdk-go-v2 clients already pointed at it.
//
//	srv := sestest.New(t)
//	acct := srv.NewAccount("tenant-a")
//	out, err := acct.V1("us-east-1").VerifyDomainIdentity(ctx, &ses.VerifyDomainIdentityInput{Domain: aws.String("example.com")})
//
// Everything started is stopped by t.Cleanup; Close may also be called
// early.
package sestest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/sesame/sesame/internal/account"
	"github.com/sesame/sesame/internal/api"
	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/mail"
	"github.com/sesame/sesame/internal/netlimit"
	"github.com/sesame/sesame/internal/registry"
	"github.com/sesame/sesame/internal/server"
)

// DefaultRegion is the region of clients made without one.
const DefaultRegion = "us-east-1"

// Options configure a test server. The zero value is SES's behaviour with
// the real clock.
type Options struct {
	// Now is the clock of the identity registry (the 72-hour and 24-hour
	// windows); nil means time.Now. A Clock's Now fits. Signatures are
	// still checked against the real time, since the SDK signs with it.
	Now func() time.Time
	// Policies are the verification windows; nil means identity.SESPolicies().
	Policies *identity.Policies
	// DNS are the record settings; the zero value means config.SES().
	DNS config.DNS
	// Regions are the regions served; nil means config.SESRegions.
	Regions []string
	// Caps are the account-wide caps; the zero value is the defaults.
	Caps registry.Caps
	// Log receives the server's log; nil sends warnings and errors to
	// tb.Log, so a test shows the hidden cause of an InternalFailure.
	Log *slog.Logger
	// Allow5xx turns off the check that fails the test when the server
	// answered any request made through Client (and so through the SDK
	// clients) with a 5xx status. Sesame should never answer 5xx to
	// anything a client can send.
	Allow5xx bool
	// Verify configures the DNS verifier; by default it does not run, so
	// identities stay Pending and no test queries real DNS.
	Verify server.VerifyOptions
	// Limits bound request bodies and account rates; the zero value is
	// api.DefaultLimits, as in sesame serve.
	Limits api.Limits
	// DatabaseURL, when set, is a PostgreSQL database (pgtest) used
	// instead of SQLite in the data directory.
	DatabaseURL string
	// Data is the data directory; empty means a new tb.TempDir(). Two
	// servers given one directory and one DatabaseURL are two replicas
	// that share their key files.
	Data string
	// DKIM configures the Easy DKIM keys (with a DNS.DKIMDomain other
	// than SES's).
	DKIM server.DKIMOptions
	// SMTPURL is the relay of outgoing mail, with Mail its settings
	// (a CA file for a loopback relay, retries); empty keeps mail in the
	// local outbox.
	SMTPURL string
	Mail    mail.Settings
	// MaxConns and MaxConnsPerClient bound the connections the listener
	// accepts, as server.Listen does; zero takes its defaults.
	MaxConns, MaxConnsPerClient int
}

// Server is a running Sesame.
type Server struct {
	// URL is the base URL, http://127.0.0.1:port, with no trailing slash.
	URL string
	// Sesame is the assembled server: its Accounts and Registry may be
	// used directly to arrange a state the API cannot produce. Change
	// identities through Sesame.Registry.Store: the registry reads through
	// a write-through cache, so a write to Sesame.Store is not seen.
	Sesame *server.Server
	// HTTP is the underlying test HTTP server.
	HTTP *httptest.Server

	tb        testing.TB
	closeOnce sync.Once
	client    *http.Client
	rec       *recorder
}

// New starts a Sesame with a fresh, empty store in tb.TempDir(). At most
// one Options may be given.
func New(tb testing.TB, opts ...Options) *Server {
	tb.Helper()
	if len(opts) > 1 {
		tb.Fatalf("sestest.New: %d Options given, want at most one", len(opts))
	}
	var o Options
	if len(opts) == 1 {
		o = opts[0]
	}
	pol := identity.SESPolicies()
	if o.Policies != nil {
		pol = *o.Policies
	}
	if o.DNS == (config.DNS{}) {
		o.DNS = config.SES()
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(tbWriter{tb}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	data := o.Data
	if data == "" {
		data = tb.TempDir()
		os.Chmod(data, 0o700) // as an operator should: the server warns about a directory others may list
	}
	sesame, err := server.Open(context.Background(), server.Options{
		Data:        data,
		DatabaseURL: o.DatabaseURL,
		DNS:         o.DNS,
		Regions:     o.Regions,
		Caps:        o.Caps,
		Policies:    pol,
		Log:         o.Log,
		Now:         o.Now,
		Verify:      o.Verify,
		Limits:      o.Limits,
		DKIM:        o.DKIM,
		SMTPURL:     o.SMTPURL,
		Mail:        o.Mail,
	})
	if err != nil {
		tb.Fatalf("sestest.New: opening the server: %v", err)
	}
	hs := httptest.NewUnstartedServer(sesame.Handler)
	hs.Config = sesame.HTTPServer() // the limits of sesame serve
	hs.Listener = netlimit.Limit(hs.Listener, o.MaxConns, o.MaxConnsPerClient)
	hs.Start()
	rec := &recorder{next: hs.Client().Transport}
	s := &Server{URL: hs.URL, Sesame: sesame, HTTP: hs, tb: tb, rec: rec, client: &http.Client{Transport: rec}}
	tb.Cleanup(func() {
		s.Close()
		if bad := rec.serverErrors(); len(bad) > 0 && !o.Allow5xx {
			tb.Errorf("sestest: the server answered %d request(s) with 5xx:\n%s", len(bad), strings.Join(bad, "\n"))
		}
	})
	return s
}

// Close stops the HTTP server, waiting for requests in flight, then closes
// the store. It may be called more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.HTTP.Close()
		if err := s.Sesame.Close(); err != nil {
			s.tb.Errorf("sestest: closing the store: %v", err)
		}
	})
}

// Client returns an HTTP client for raw requests to the server. Responses
// with a 5xx status are recorded and fail the test at cleanup (see
// Options.Allow5xx).
func (s *Server) Client() *http.Client { return s.client }

// ServerErrors returns the 5xx responses seen so far, one line each.
func (s *Server) ServerErrors() []string { return s.rec.serverErrors() }

// recorder is a RoundTripper that notes 5xx responses.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	bad  []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err == nil && resp.StatusCode >= 500 {
		code := resp.Header.Get("x-amzn-ErrorType")
		r.mu.Lock()
		r.bad = append(r.bad, fmt.Sprintf("%s %s: %d %s", req.Method, req.URL.RequestURI(), resp.StatusCode, code))
		r.mu.Unlock()
	}
	return resp, err
}

func (r *recorder) serverErrors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bad...)
}

// Account is a tenant of the test server and its first access key.
type Account struct {
	account.Credentials
	srv *Server
}

// NewAccount creates an account with one access key, failing the test on
// error.
func (s *Server) NewAccount(name string) *Account {
	s.tb.Helper()
	c, err := s.Sesame.Accounts.Create(context.Background(), name)
	if err != nil {
		s.tb.Fatalf("sestest: creating account %q: %v", name, err)
	}
	return &Account{Credentials: *c, srv: s}
}

// AWS returns the account's key as SDK credentials.
func (a *Account) AWS() aws.Credentials {
	return aws.Credentials{AccessKeyID: a.AccessKeyId, SecretAccessKey: string(a.SecretAccessKey), Source: "sestest"}
}

// V1 returns an SES v1 (Query) client of the account in region; "" means
// DefaultRegion.
func (a *Account) V1(region string) *ses.Client { return a.srv.V1(a.AWS(), region) }

// V2 returns an SES v2 (REST-JSON) client of the account in region; ""
// means DefaultRegion.
func (a *Account) V2(region string) *sesv2.Client { return a.srv.V2(a.AWS(), region) }

// V1 returns an SES v1 client signing with any credentials, e.g. an unknown
// or revoked key. Retries are off, so errors surface at once (but for a
// connection closed under the call: ClosedConnRetryer).
func (s *Server) V1(creds aws.Credentials, region string) *ses.Client {
	if region == "" {
		region = DefaultRegion
	}
	return ses.New(ses.Options{
		Region:       region,
		Credentials:  credentials.StaticCredentialsProvider{Value: creds},
		BaseEndpoint: aws.String(s.URL),
		HTTPClient:   s.Client(),
		Retryer:      ClosedConnRetryer(),
	})
}

// V2 returns an SES v2 client signing with any credentials. Retries are
// off, so errors surface at once (but for a connection closed under the
// call: ClosedConnRetryer).
func (s *Server) V2(creds aws.Credentials, region string) *sesv2.Client {
	if region == "" {
		region = DefaultRegion
	}
	return sesv2.New(sesv2.Options{
		Region:       region,
		Credentials:  credentials.StaticCredentialsProvider{Value: creds},
		BaseEndpoint: aws.String(s.URL),
		HTTPClient:   s.Client(),
		Retryer:      ClosedConnRetryer(),
	})
}

// NewRequest returns an unsigned request to the server; target is the
// path and query, already escaped ("/v2/email/identities/a%40b.com").
func (s *Server) NewRequest(method, target string, body []byte) *http.Request {
	s.tb.Helper()
	r, err := http.NewRequest(method, s.URL+target, bytes.NewReader(body))
	if err != nil {
		s.tb.Fatalf("sestest: request %s %s: %v", method, target, err)
	}
	return r
}

// Do sends a request and returns the response with its body read.
func (s *Server) Do(r *http.Request) (*http.Response, []byte) {
	s.tb.Helper()
	resp, err := s.Client().Do(r)
	if err != nil {
		s.tb.Fatalf("sestest: %s %s: %v", r.Method, r.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.tb.Fatalf("sestest: reading the response to %s %s: %v", r.Method, r.URL, err)
	}
	return resp, b
}

// Sign signs r with SigV4 as the AWS SDK does, for the service name in the
// credential scope ("ses"; v1 also accepts "email"), region and signing
// time at. body must be what r sends.
func Sign(r *http.Request, body []byte, creds aws.Credentials, service, region string, at time.Time) error {
	sum := sha256.Sum256(body)
	return v4.NewSigner().SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), service, region, at)
}

// Clock is a settable clock for Options.Now, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// tbWriter sends log lines to tb.Log.
type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// ClosedConnRetryer retries a call only when its connection was found
// closed under it (net.ErrClosed), at once and twice at most: a known race
// of net/http's Transport with the SDK's request bodies
// (aws/aws-sdk-go-v2#2737, whose standard retryer retries it for that
// reason) that a test with retries off otherwise sees as a failure of the
// server. Every other error surfaces at once.
func ClosedConnRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		o.RateLimiter = ratelimit.None
		o.Retryables = []retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
			if errors.Is(err, net.ErrClosed) {
				return aws.TrueTernary
			}
			return aws.FalseTernary
		})}
	})
}
