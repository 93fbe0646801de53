// Package server assembles a running Sesame: the store, the accounts, the
// registry and the HTTP handlers of both API protocols, /healthz and
// /metrics. `sesame serve` and the end-to-end tests both use it.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sesame/sesame/internal/account"
	"github.com/sesame/sesame/internal/api"
	"github.com/sesame/sesame/internal/api/sesv1"
	"github.com/sesame/sesame/internal/api/sesv2"
	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/keyring"
	"github.com/sesame/sesame/internal/mail"
	"github.com/sesame/sesame/internal/netlimit"
	"github.com/sesame/sesame/internal/registry"
	"github.com/sesame/sesame/internal/send"
	"github.com/sesame/sesame/internal/store"
	"github.com/sesame/sesame/internal/verify"
)

// CacheSize is how many identities are kept in memory: 10 regions of
// SES's maximum of 10,000.
const CacheSize = 100000

// cacheSize is how many identities the server keeps in memory. On
// PostgreSQL, where other replicas write identities too, the cache is told
// of their writes (watchCache); docs/benchmarks.md says what it saves.
func cacheSize(opts Options) int {
	if opts.DatabaseURL != "" {
		return postgresCacheSize
	}
	return CacheSize
}

// postgresCacheSize is CacheSize but in the benchmark that measures a
// server without the cache on PostgreSQL.
var postgresCacheSize = CacheSize

// Options configure a server.
type Options struct {
	// Data is the data directory: the database and the sealing key.
	Data string
	// DatabaseURL, when set, is the PostgreSQL database used instead of
	// the data directory's SQLite (postgres://...); the key files stay in
	// Data.
	DatabaseURL string
	// KeyFile is the sealing key of secret access keys; default
	// <Data>/secret.key.
	KeyFile  string
	DNS      config.DNS
	Policies identity.Policies
	Log      *slog.Logger
	Now      func() time.Time
	// Regions are the regions served: only they are accepted in a
	// credential scope, and only in them are identities and templates
	// created. Empty means config.SESRegions.
	Regions []string
	// Caps are the account-wide caps on identities and templates; zero
	// fields take registry's defaults.
	Caps registry.Caps
	// PublicURL is the base of verification links; default
	// DefaultPublicURL.
	PublicURL string
	// SMTPURL is the relay of verification mail (smtp:// with STARTTLS,
	// smtps://); empty keeps mail in the local outbox.
	SMTPURL string
	// Mail tunes verification mail: sender, relay CA, limits, retries.
	Mail mail.Settings
	// Verify configures the DNS verifier.
	Verify VerifyOptions
	// Limits bound request bodies and each account's request rate; the
	// zero value is api.DefaultLimits.
	Limits api.Limits
	// DKIM configures the Easy DKIM keys and their rotation (dkim.go).
	DKIM DKIMOptions
}

// Server is an assembled Sesame.
type Server struct {
	// Store is the database (OpenStore). Identities must be written
	// through Identities, the cache in front of it, or the API will not
	// see them.
	Store      store.Store
	Identities *store.Cache
	Accounts   *account.Manager
	Registry   *registry.Registry
	Handler    http.Handler
	Log        *slog.Logger
	Mail       *mail.Mailer
	Verifier   *verify.Verifier
	Sender     *send.Sender
	// Keyring holds the DKIM keys; with SES's own DKIM domain it makes no
	// Easy DKIM keys (NoEasyKeys) but keeps BYODKIM ones.
	Keyring *keyring.Keyring

	limits     api.Limits
	stopDKIM   func()
	stopMail   func()
	stopVerify func()
	stopWatch  func()
}

// Open opens the store in opts.Data and builds the handlers.
func Open(ctx context.Context, opts Options) (*Server, error) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if err := opts.DNS.Validate(); err != nil {
		return nil, err
	}
	st, err := OpenStore(ctx, opts.Data, opts.DatabaseURL)
	if err != nil {
		return nil, err
	}
	warnDataDir(opts.Data, opts.Log)
	accts, err := OpenAccounts(st, opts.Data, opts.KeyFile)
	if err == nil {
		err = checkSharedKeys(st, opts.Data)
	}
	if err != nil {
		st.Close()
		return nil, err
	}
	s := &Server{Store: st, Accounts: accts, Log: opts.Log, limits: opts.Limits}
	s.Identities = store.NewCache(st, cacheSize(opts))
	s.watchCache()
	s.Registry = &registry.Registry{Store: s.Identities, DNS: opts.DNS, Policies: opts.Policies, Caps: opts.Caps, Regions: served(opts.Regions), Now: opts.Now, Log: opts.Log.With("component", "registry"), ConfigSets: s.Store}
	if err := s.openMail(opts); err != nil {
		st.Close()
		return nil, err
	}
	s.openVerifier(opts)
	s.openSending(opts)
	s.openDKIM(opts)
	console, err := s.console(opts) // the web console at /console/ (console.go)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.Handler = s.routes(console)
	return s, nil
}

// OpenAccounts returns the account manager of a store, with its sealing key.
func OpenAccounts(st store.Accounts, data, keyFile string) (*account.Manager, error) {
	if keyFile == "" {
		keyFile = filepath.Join(data, account.KeyFile)
	}
	if err := checkSharedKey(st, keyFile, sealingKey); err != nil {
		return nil, err
	}
	sealer, err := account.LoadSealer(keyFile)
	if err != nil {
		return nil, err
	}
	return &account.Manager{Store: st, Sealer: sealer}, nil
}

// Close stops mail delivery and closes the store.
func (s *Server) Close() error {
	s.closeDKIM()
	s.closeVerifier()
	s.closeMail()
	if s.stopWatch != nil {
		s.stopWatch()
	}
	return s.Store.Close()
}

func (s *Server) routes(console http.Handler) http.Handler {
	auth := api.NewAuthenticator(s.Accounts, s.limits, s.Registry.Regions)
	v1 := &sesv1.Handler{Registry: s.Registry, Sender: s.Sender, Auth: auth, Log: s.Log.With("component", "sesv1")}
	v2 := &sesv2.Handler{Registry: s.Registry, Sender: s.Sender, Auth: auth, Verifier: s.Verifier, Checks: s.Identities, Log: s.Log.With("component", "sesv2")}

	reg := prometheus.NewRegistry()
	reg.MustRegister(api.Collectors()...)
	reg.MustRegister(netlimit.Collectors()...)
	reg.MustRegister(identityCollector{s}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	mux := http.NewServeMux()
	mux.Handle("/console/", console)
	mux.Handle("/console", console)
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", s.healthz)
	s.mailRoutes(mux, reg)
	s.sendRoutes(mux, auth)
	mux.Handle("/", v1)
	// ServeMux answers a path that is not clean (//, /./, /../) with a
	// redirect to the clean one, which a signed client follows only to
	// fail its signature. The API gets such paths as they were sent, and
	// the v2 handler every path under /v2, so that each gets an SES error.
	// ServeMux judges the escaped path: a console page of an address such
	// as "/../x"@example.com (%2F..%2F) is clean, and reaches the console.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case p == "/v2" || strings.HasPrefix(p, "/v2/"):
			v2.ServeHTTP(w, r)
		case !isClean(r.URL.EscapedPath()):
			v1.ServeHTTP(w, r)
		default:
			mux.ServeHTTP(w, r)
		}
	})
}

// HTTPServer returns the http.Server that serves s.Handler (on a
// listener from Listen, which bounds connections). Its limits are those of
// a server on the public internet:
//   - headers must arrive within 10 s and fit in 8 KiB (net/http reads 4
//     KiB beyond it, and answers more with 431 Request Header Fields Too
//     Large): an SDK's or the CLI's, SigV4 and a session token included,
//     are 1-3 KiB (TestHeaderLimit); the default 1 MiB let a client make
//     the server hold 1 MiB per connection, and echo it;
//   - no ReadTimeout: net/http would cancel the context of any request still
//     served when it passes. The API sets a deadline for each body instead
//     (api.Limits), and the console caps its forms;
//   - idle connections are closed after 2 minutes (SDKs keep theirs for
//     90 s at most).
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    MaxHeaderBytes,
		IdleTimeout:       2 * time.Minute,
	}
}

// MaxHeaderBytes is the http.Server's bound on a request's headers.
const MaxHeaderBytes = 8 << 10

// isClean says whether ServeMux would serve p as it is: p is its own
// path.Clean, but for a trailing slash.
func isClean(p string) bool {
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c == p
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, err := s.Store.Generation(ctx); err != nil {
		http.Error(w, "store: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

var identitiesDesc = prometheus.NewDesc("sesame_identities", "Identities by type and verification status.", []string{"type", "status"}, nil)

// identityCollector counts identities on each scrape, from the store, so
// the figure is right whichever process changed them.
type identityCollector struct{ s *Server }

func (c identityCollector) Describe(ch chan<- *prometheus.Desc) { ch <- identitiesDesc }

func (c identityCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.s.Store.CountIdentities(ctx)
	if err != nil {
		c.s.Log.Error("counting identities for metrics", "err", err)
		return
	}
	for _, n := range counts {
		ch <- prometheus.MustNewConstMetric(identitiesDesc, prometheus.GaugeValue, float64(n.N), n.Kind.String(), string(n.Status))
	}
}
