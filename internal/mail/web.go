package mail

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/store"
)

//go:embed pages/*.html
var pageFS embed.FS

var pages = template.Must(template.ParseFS(pageFS, "pages/*.html"))

// Confirmer marks an address verified when its link is opened; the registry
// is one.
type Confirmer interface {
	// ConfirmEmail verifies a pending address and returns its status
	// afterwards: Success, or Failed when its window had run out.
	// store.ErrNotFound means the identity was deleted.
	ConfirmEmail(ctx context.Context, k identity.Key) (identity.Status, error)
}

// Web serves the pages of verification mail: the link (GET /verify) and,
// without a relay, the local outbox (GET /outbox).
type Web struct {
	Mailer  *Mailer
	Confirm Confirmer
	Log     *slog.Logger
}

// Register adds the pages to mux.
func (w *Web) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+VerifyPath, w.verify)
	mux.HandleFunc("GET /outbox", w.outbox)
	mux.HandleFunc("GET /outbox/{id}", w.message)
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
	// The token is a bearer credential: keep it out of caches and out of
	// the Referer of wherever the page or a redirect leads.
	rw.Header().Set("Cache-Control", "no-store")
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

// outbox lists the local outbox. With a relay configured it is not served:
// the links of mail on its way to real mailboxes must not be readable by
// anyone who can reach the server.
func (w *Web) outbox(rw http.ResponseWriter, r *http.Request) {
	if !w.Mailer.Local() {
		http.Error(rw, "The outbox is served only when no SMTP relay is configured; use `sesame outbox` on the server.", http.StatusNotFound)
		return
	}
	q := store.MessageQuery{To: r.URL.Query().Get("to"), Limit: 200}
	if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n > 0 && n <= 10000 {
		q.Limit = n
	}
	ms, err := w.Mailer.Store.ListMessages(r.Context(), q)
	if err != nil {
		w.log().Error("listing the outbox", "err", err)
		http.Error(rw, "The outbox could not be read; the server log has the cause.", http.StatusInternalServerError)
		return
	}
	w.render(rw, "outbox.html", map[string]any{"Title": "Outbox", "Messages": ms, "Limit": q.Limit, "To": q.To})
}

func (w *Web) message(rw http.ResponseWriter, r *http.Request) {
	if !w.Mailer.Local() {
		http.NotFound(rw, r)
		return
	}
	m, err := w.Mailer.Store.GetMessage(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		http.Error(rw, "No such message in the outbox.", http.StatusNotFound)
		return
	}
	if err != nil {
		w.log().Error("reading a message", "err", err)
		http.Error(rw, "The message could not be read; the server log has the cause.", http.StatusInternalServerError)
		return
	}
	w.render(rw, "message.html", map[string]any{"Title": m.Subject, "M": m})
}

func (w *Web) render(rw http.ResponseWriter, name string, data any) {
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.Header().Set("Cache-Control", "no-store")
	var b strings.Builder
	if err := pages.ExecuteTemplate(&b, name, data); err != nil {
		w.log().Error("rendering a page", "page", name, "err", err)
		http.Error(rw, "The page could not be rendered.", http.StatusInternalServerError)
		return
	}
	rw.Write([]byte(b.String()))
}

func (w *Web) log() *slog.Logger {
	if w.Log != nil {
		return w.Log
	}
	return slog.Default()
}
