// Package console is Sesame's web console: sign in with an access key, see
// an account's identities with their statuses, the records to publish
// with copy buttons, the evidence of the last check and the doctor's
// findings, check now, set MAIL FROM, delete, and the outbox of
// verification mail. It is server-rendered html/template with a little
// plain JavaScript, all embedded, so it works without network access.
//
// Every page re-checks that the session's access key is still active, so
// revoking a key signs its sessions out, and that the session was not
// signed out (Signouts); every form carries a CSRF token.
package console

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sesame/sesame/internal/account"
	"github.com/sesame/sesame/internal/auth/throttle"
	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/mail"
	"github.com/sesame/sesame/internal/registry"
	"github.com/sesame/sesame/internal/store"
	"github.com/sesame/sesame/internal/verify"
	"github.com/sesame/sesame/internal/webhdr"
)

// Prefix is where the console is mounted.
const Prefix = "/console/"

// Defaults for the zero values of Console's fields.
const (
	DefaultRegion        = "us-east-1"
	DefaultDoctorTimeout = 8 * time.Second
	DefaultCheckTimeout  = 20 * time.Second
)

// regions are the regions of the region select box: the ones the server
// serves (Registry.Regions, from --regions), or else SES's own
// (config.SESRegions); the session's region is added if it is another.
func (c *Console) regions() []string {
	if rs := c.Registry.Regions; len(rs) > 0 {
		return rs
	}
	return config.SESRegions
}

// Resolver finds active access keys; *account.Manager is one.
type Resolver interface {
	Resolve(ctx context.Context, keyID string) (account.Key, bool, error)
}

// Console serves the console under Prefix. Fields must not change once
// Handler is called.
type Console struct {
	Registry *registry.Registry
	Accounts Resolver
	// Key signs session cookies: 32 bytes, from LoadKey.
	Key []byte
	// Verifier runs "check now"; nil hides the button.
	Verifier *verify.Verifier
	// Checks holds the evidence of past checks; nil shows none.
	Checks store.Checks
	// Signouts keeps signed-out sessions; nil keeps them in memory, until
	// the process ends.
	Signouts Signouts
	// Mail is the verification mailer; nil or with a relay, no outbox.
	Mail *mail.Mailer
	// Sent holds the mail of the send calls (the Sent page); nil shows
	// none.
	Sent store.Outbox
	// Keys are the Easy DKIM keys the server publishes, for the doctor to
	// know which key must be where each CNAME leads; nil: any usable key.
	Keys store.DKIMKeys
	// DNS is the doctor's client (the verifier's, to share its rate
	// limits); nil leaves the doctor out.
	DNS *dnsclient.Client
	// Secure marks cookies Secure: set it when users reach the console
	// over HTTPS, even through a proxy.
	Secure bool
	// SessionTTL is how long a sign-in lasts; 0 means DefaultSessionTTL.
	SessionTTL time.Duration
	// DoctorTimeout and CheckTimeout bound the doctor and "check now", so
	// a page never hangs on a slow name server.
	DoctorTimeout, CheckTimeout time.Duration
	Log                         *slog.Logger
	// Now is the clock of sessions; nil means time.Now.
	Now func() time.Time

	once     sync.Once
	handler  http.Handler
	ss       *sessions
	throttle throttle.Table // failed sign-ins
	signouts Signouts
}

// Handler returns the console's handler, for /console and the paths under
// Prefix.
func (c *Console) Handler() http.Handler {
	c.once.Do(c.init)
	return c.handler
}

func (c *Console) init() {
	if c.Log == nil {
		c.Log = slog.Default().With("component", "console")
	}
	c.ss = &sessions{key: c.Key, ttl: c.SessionTTL, secure: c.Secure, now: c.now}
	c.signouts = c.Signouts
	if c.signouts == nil {
		c.signouts = &memSignouts{}
	}
	if c.ss.ttl <= 0 {
		c.ss.ttl = DefaultSessionTTL
	}
	mux := http.NewServeMux()
	mux.Handle("/console", http.RedirectHandler(Prefix, http.StatusMovedPermanently))
	mux.HandleFunc("GET /console/{$}", c.index)
	mux.HandleFunc("GET /console/signin", c.signinForm)
	mux.HandleFunc("POST /console/signin", c.signin)
	mux.Handle("GET /console/static/", http.StripPrefix("/console/static/", staticHandler()))
	for _, rt := range []struct {
		pattern string
		h       handlerFunc
	}{
		{"POST /console/signout", c.signout},
		{"POST /console/region", c.region},
		{"GET /console/identities", c.list},
		{"POST /console/identities", c.create},
		{"GET /console/create", c.createForm},
		{"GET /console/identities/{name}", c.show},
		{"GET /console/identities/{name}/doctor", c.doctor},
		{"POST /console/identities/{name}/check", c.checkNow},
		{"POST /console/identities/{name}/mail-from", c.setMailFrom},
		{"POST /console/identities/{name}/resend", c.resend},
		{"GET /console/identities/{name}/delete", c.deleteForm},
		{"POST /console/identities/{name}/delete", c.delete},
		{"GET /console/outbox", c.outbox},
		{"GET /console/outbox/{id}", c.message},
		{"GET /console/sent", c.sent},
		{"GET /console/sent/{id}", c.sentOne},
	} {
		mux.Handle(rt.pattern, c.auth(rt.h))
	}
	mux.HandleFunc("/console/", func(w http.ResponseWriter, r *http.Request) {
		c.errorPage(w, r, nil, http.StatusNotFound, "There is no such page in the console.")
	})
	c.handler = headers(mux)
}

func (c *Console) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// headers sets what every response needs, the headers of every HTML page
// Sesame serves (webhdr); static files keep the cache headers of their own.
func headers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		webhdr.Set(w.Header())
		if strings.HasPrefix(r.URL.Path, "/console/static/") {
			w.Header().Del("Cache-Control") // the static handler sets its own
		}
		h.ServeHTTP(w, r)
	})
}

// request is a signed-in request.
type request struct {
	*http.Request
	s     *session
	scope registry.Scope
}

// handlerFunc is a page; an error it returns becomes an error page.
type handlerFunc func(w http.ResponseWriter, r *request) error

// auth lets signed-in requests through: the session cookie must be valid,
// its access key still active and still the account's, and a POST must
// carry the session's CSRF token.
func (c *Console) auth(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := c.signedIn(r)
		if err != nil {
			c.Log.Error("reading the sign-outs", "err", err)
			c.errorPage(w, r, nil, http.StatusServiceUnavailable, "The server could not check your session. Try again in a moment.")
			return
		}
		if s == nil {
			c.toSignin(w, r, "")
			return
		}
		k, ok, err := c.Accounts.Resolve(r.Context(), s.KeyID)
		if err != nil {
			c.Log.Error("resolving a session's access key", "err", err)
			c.errorPage(w, r, nil, http.StatusServiceUnavailable, "The server could not check your access key. Try again in a moment.")
			return
		}
		if !ok || k.Account != s.Account {
			// Revoked or deleted: drop the session, keep the visitor's CSRF
			// state fresh.
			c.ss.write(w, c.ss.fresh("", "", ""))
			c.toSignin(w, r, "revoked")
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if !checkCSRF(r, s) {
				c.csrfRefused(w, r, s)
				return
			}
		}
		rq := &request{Request: r, s: s, scope: registry.Scope{Account: s.Account, Region: s.Region}}
		if err := h(w, rq); err != nil {
			c.fail(w, rq, err)
		}
	})
}

// toSignin sends the visitor to the sign-in page, back here afterwards.
func (c *Console) toSignin(w http.ResponseWriter, r *http.Request, why string) {
	q := url.Values{}
	if r.Method == http.MethodGet {
		q.Set("next", r.URL.RequestURI())
	}
	if why != "" {
		q.Set("why", why)
	}
	to := "/console/signin"
	if len(q) > 0 {
		to += "?" + q.Encode()
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func (c *Console) csrfRefused(w http.ResponseWriter, r *http.Request, s *session) {
	c.Log.Warn("form refused: missing or wrong CSRF token, or cross-site", "path", r.URL.Path, "account", s.Account)
	c.errorPage(w, r, s, http.StatusForbidden, "This form was refused: it did not carry this page's security token (CSRF), or it came from another site. Go back, reload the page and try again.")
}

// fail turns an error of a page into an error page: registry errors with
// their message and status, anything else logged and hidden.
func (c *Console) fail(w http.ResponseWriter, r *request, err error) {
	var re *registry.Error
	switch {
	case errors.As(err, &re):
		c.errorPage(w, r.Request, r.s, statusOf(re.Kind), re.Message)
	case errors.Is(err, context.DeadlineExceeded):
		c.errorPage(w, r.Request, r.s, http.StatusGatewayTimeout, "That took too long: the name servers may be slow. Try again in a moment.")
	default:
		c.Log.Error("console page", "path", r.URL.Path, "account", r.s.Account, "region", r.s.Region, "err", err)
		c.errorPage(w, r.Request, r.s, http.StatusInternalServerError, "Something went wrong on the server; the server log has the cause.")
	}
}

func statusOf(k registry.Kind) int {
	switch k {
	case registry.NotFound, registry.ConfigSetNotFound:
		return http.StatusNotFound
	case registry.AlreadyExists:
		return http.StatusConflict
	case registry.Throttled, registry.QuotaExceeded, registry.LimitExceeded:
		return http.StatusTooManyRequests
	}
	return http.StatusBadRequest
}

// identityPath is the page of an identity. Names are escaped as one path
// segment: an address's local part may hold "/" or "?".
func identityPath(name string) string {
	return "/console/identities/" + url.PathEscape(name)
}
