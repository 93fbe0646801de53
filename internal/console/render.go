package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sesame/sesame/internal/identity"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages are the page templates, each parsed with the layout.
var pages = parsePages()

func parsePages() map[string]*template.Template {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	m := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimPrefix(n, "templates/")
		if base == "layout.html" {
			continue
		}
		m[base] = template.Must(template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n))
	}
	return m
}

var funcs = template.FuncMap{
	"badge":        badgeOf,
	"identityPath": identityPath,
	"static":       staticPath,
	"when":         when,
	"ago":          ago,
	"iso":          func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"severity":     severityBadge,
	"join":         strings.Join,
}

// frame is what the layout shows around a page.
type frame struct {
	Title    string
	Flash    string
	SignedIn bool
	Account  string
	Region   string
	CSRF     string
	Here     string // this page, to come back to after switching region
	Regions  []string
	Page     any
}

// render writes a page. It renders into a buffer first, so a template
// error is a clean 500 and not half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, s *session, status int, name, title string, page any) {
	f := frame{Title: title, Flash: flashes[r.URL.Query().Get("done")], Here: here(r), Page: page}
	if s != nil && s.signedIn() {
		f.SignedIn, f.Account, f.Region, f.CSRF = true, s.Account, s.Region, s.CSRF
		rs := c.regions()
		f.Regions = rs
		if !slices.Contains(rs, s.Region) {
			f.Regions = append([]string{s.Region}, rs...)
		}
	}
	var b bytes.Buffer
	if err := pages[name].ExecuteTemplate(&b, "layout", f); err != nil {
		c.Log.Error("rendering a console page", "page", name, "err", err)
		http.Error(w, "The page could not be rendered; the server log has the cause.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// here is the page's address without its flash message, to come back to.
func here(r *http.Request) string {
	q := r.URL.Query()
	if !q.Has("done") {
		return r.URL.RequestURI()
	}
	q.Del("done")
	if len(q) == 0 {
		return r.URL.EscapedPath()
	}
	return r.URL.EscapedPath() + "?" + q.Encode()
}

// fragment writes a template without the layout (the doctor's findings,
// fetched by the identity page).
func (c *Console) fragment(w http.ResponseWriter, name string, data any) {
	var b bytes.Buffer
	if err := pages[name].ExecuteTemplate(&b, "fragment", data); err != nil {
		c.Log.Error("rendering a console fragment", "page", name, "err", err)
		http.Error(w, "The findings could not be rendered.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b.Bytes())
}

type errorData struct {
	Status  int
	Message string
}

func (c *Console) errorPage(w http.ResponseWriter, r *http.Request, s *session, status int, msg string) {
	c.render(w, r, s, status, "error.html", http.StatusText(status), errorData{Status: status, Message: msg})
}

// badge is a status as the console shows it: a word and an icon, so that
// colour is never the only sign (WCAG 1.4.1).
type badge struct {
	Class string // ok, pending, failed, temp, none: the colour
	Icon  string
	Text  string
}

// badgeOf uses the words of SES's console ("pending verification" turns
// to "verified") for the v1 statuses of the spec, §6.
func badgeOf(s identity.Status) badge {
	switch s {
	case identity.Success:
		return badge{"ok", "✔", "verified"}
	case identity.Pending:
		return badge{"pending", "◷", "pending verification"}
	case identity.Failed:
		return badge{"failed", "✖", "failed"}
	case identity.TemporaryFailure:
		return badge{"temp", "⚠", "temporary failure"}
	}
	return badge{"none", "—", "not started"}
}

// notSetUp is MAIL FROM without a custom domain.
var notSetUp = badge{"none", "—", "not set up"}

func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// ago is a rough "3 minutes ago", beside the exact time.
func ago(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := time.Since(t)
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		s = "less than a minute"
	case d < time.Hour:
		s = plural(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		s = plural(int(d/time.Hour), "hour")
	default:
		s = plural(int(d/(24*time.Hour)), "day")
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

// duration writes a setting for people: "24 hours", "90 minutes".
func duration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return plural(int(d/time.Hour), "hour")
	case d%time.Minute == 0:
		return plural(int(d/time.Minute), "minute")
	}
	return d.String()
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// staticHashes version the static files' URLs, so browsers may cache them
// for long and still see a new build at once.
var staticHashes = hashStatic()

func hashStatic() map[string]string {
	m := map[string]string{}
	fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := staticFS.ReadFile(p)
		sum := sha256.Sum256(b)
		m[strings.TrimPrefix(p, "static/")] = hex.EncodeToString(sum[:6])
		return nil
	})
	return m
}

func staticPath(name string) string {
	return "/console/static/" + name + "?v=" + staticHashes[name]
}

func staticHandler() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := staticHashes[r.URL.Path]; !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	})
}
