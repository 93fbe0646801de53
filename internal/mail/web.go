package mail

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/store"
	"github.com/sesame/sesame/internal/webhdr"
)

//go:embed pages/*.html pages/style.css
var pageFS embed.FS

// style is the pages' inline style sheet, allowed by its hash in their
// Content-Security-Policy: the pages need no file of their own.
var style = func() string {
	b, err := pageFS.ReadFile("pages/style.css")
	if err != nil {
		panic(err)
	}
	return string(b)
}()

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"css": func() template.CSS { return template.CSS(style) },
}).ParseFS(pageFS, "pages/*.html"))

var styleHash = webhdr.StyleHash(style)

// Confirmer marks an address verified when its link is opened; the registry
// is one.
type Confirmer interface {
	// ConfirmEmail verifies a pending address and returns its status
	// afterwards: Success, or Failed when its window had run out.
	// store.ErrNotFound means the identity was deleted.
	ConfirmEmail(ctx context.Context, k identity.Key) (identity.Status, error)
}

// Web serves the page of verification links (GET /verify), and sends
// /outbox to the console's.
type Web struct {
	Mailer  *Mailer
	Confirm Confirmer
	Log     *slog.Logger
}

// Register adds the pages to mux, each with the security headers of every
// HTML page (webhdr).
func (w *Web) Register(mux *http.ServeMux) {
	mux.Handle("GET "+VerifyPath, headers(w.verify))
	mux.Handle("GET /outbox", headers(toConsole))
	mux.Handle("GET /outbox/{id}", headers(toConsole))
}

func headers(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		webhdr.Set(rw.Header(), styleHash)
		h(rw, r)
	})
}

// result is one outcome of opening a link.
type result struct {
	Title  string
	Lines  []string
	OK     bool
	Status int
}

func (w *Web) verify(rw http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead {
		return // link scanners probe with HEAD: only a real visit verifies
	}
	ctx := r.Context()
	m := w.Mailer
	// The token is a bearer credential: keep it out of caches (webhdr) and
	// out of the Referer of wherever the page or a redirect leads.
	rw.Header().Set("Referrer-Policy", "no-referrer")
	c, err := m.Signer.Parse(r.URL.Query().Get("token"))
	if err != nil {
		w.page(rw, result{Status: http.StatusBadRequest, Title: "This verification link is not valid",
			Lines: []string{"The link is incomplete or was changed. Mail programs sometimes cut long links: copy the whole link from the email into the address bar."}})
		return
	}
	l, err := m.Store.GetLink(ctx, c.Nonce)
	if errors.Is(err, store.ErrNotFound) || (err == nil && l.Key != c.Key) {
		w.page(rw, result{Status: http.StatusNotFound, Title: "This verification link is not known",
			Lines: []string{"This server has no record of the link. Ask for a new verification email."}})
		return
	}
	if err != nil {
		w.fail(rw, c, err)
		return
	}
	now := m.now()
	addr := c.Key.Name
	switch {
	case !l.Used.IsZero():
		w.outcome(rw, r, l, result{Status: http.StatusGone, Title: "This verification link was already used",
			Lines: []string{fmt.Sprintf("The link for %s was opened on %s UTC. Each link works once.", addr, l.Used.Format("2 January 2006 at 15:04"))}})
		return
	case !l.Replaced.IsZero():
		w.outcome(rw, r, l, result{Status: http.StatusGone, Title: "A newer verification email replaced this one",
			Lines: []string{fmt.Sprintf("A new verification email was sent to %s on %s UTC, and only the newest link works. Open the link in that email.", addr, l.Replaced.Format("2 January 2006 at 15:04"))}})
		return
	case !now.Before(c.Expires):
		w.outcome(rw, r, l, expired(addr, c.Expires))
		return
	}
	st, err := w.Confirm.ConfirmEmail(ctx, c.Key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		w.outcome(rw, r, l, result{Status: http.StatusGone, Title: "This address is no longer being verified",
			Lines: []string{fmt.Sprintf("%s was removed from the identities of the account that asked for this verification. Nothing was changed.", addr)}})
		return
	case err != nil:
		w.fail(rw, c, err)
		return
	case st != identity.Success:
		w.outcome(rw, r, l, expired(addr, c.Expires))
		return
	}
	if _, err := m.Store.UseLink(ctx, c.Nonce, now); err != nil {
		// The address is verified; a link left usable can only verify it again.
		w.log().Error("recording a used link", "to", addr, "err", err)
	}
	w.log().Info("email address verified by its link", "identity", addr, "account", c.Key.Account, "region", c.Key.Region)
	w.outcome(rw, r, l, result{Status: http.StatusOK, OK: true, Title: "Email address verified",
		Lines: []string{
			fmt.Sprintf("You have verified %s in region %s. It may now be used to send email.", addr, c.Key.Region),
			"You may close this page.",
		}})
}

func expired(addr string, at time.Time) result {
	return result{Status: http.StatusGone, Title: "This verification link has expired",
		Lines: []string{fmt.Sprintf("The link for %s expired on %s UTC. Ask for a new verification email and open its link within the time it gives.", addr, at.Format("2 January 2006 at 15:04"))}}
}

// outcome sends the page of res, or, for a custom template's link, a
// redirection to its success or failure URL.
func (w *Web) outcome(rw http.ResponseWriter, r *http.Request, l *store.Link, res result) {
	to := l.FailureURL
	if res.OK {
		to = l.SuccessURL
	}
	if to != "" {
		http.Redirect(rw, r, to, http.StatusSeeOther)
		return
	}
	w.page(rw, res)
}

func (w *Web) fail(rw http.ResponseWriter, c Claims, err error) {
	w.log().Error("verification link", "to", c.Key.Name, "err", err)
	w.page(rw, result{Status: http.StatusInternalServerError, Title: "The address could not be verified now",
		Lines: []string{"Something went wrong on the server; the link was not used. Open it again in a few minutes."}})
}

func (w *Web) page(rw http.ResponseWriter, res result) {
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.WriteHeader(res.Status)
	if err := pages.ExecuteTemplate(rw, "verify.html", res); err != nil {
		w.log().Error("rendering a page", "err", err)
	}
}

// ConsoleOutbox is the outbox's page: the console's, which needs a session
// and shows only its account's messages.
const ConsoleOutbox = "/console/outbox"

// toConsole sends /outbox and /outbox/{id} (the pages of earlier versions,
// which listed every account's mail to anyone who reached the server) to
// the console's outbox: a tenant sees its own messages only, so never the
// link of an address another tenant asked to verify.
func toConsole(rw http.ResponseWriter, r *http.Request) {
	to := ConsoleOutbox
	if id := r.PathValue("id"); id != "" {
		to += "/" + url.PathEscape(id)
	}
	http.Redirect(rw, r, to, http.StatusSeeOther)
}

func (w *Web) log() *slog.Logger {
	if w.Log != nil {
		return w.Log
	}
	return slog.Default()
}
