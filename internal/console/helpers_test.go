package console_test

import (
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/sesame/sesame/internal/console"
	"github.com/sesame/sesame/internal/sestest"
)

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so tests see each 303 and each Set-Cookie.
type browser struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func newBrowser(t *testing.T, srv *sestest.Server) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: srv.URL, hc: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// newBrowserFrom is a browser whose connections come from the loopback
// address local (127.0.0.2, say): another client address to the server.
func newBrowserFrom(t *testing.T, srv *sestest.Server, local string) *browser {
	t.Helper()
	b := newBrowser(t, srv)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	b.hc.Transport = &http.Transport{DialContext: d.DialContext}
	return b
}

// page is a response with its body read.
type page struct {
	*http.Response
	Body string
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	if resp.StatusCode >= 500 {
		b.t.Errorf("%s %s: status %d: the console should never fail here\n%s", req.Method, req.URL, resp.StatusCode, body)
	}
	return page{resp, string(body)}
}

func (b *browser) get(path string) page {
	b.t.Helper()
	req, err := http.NewRequest("GET", b.base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// post sends a form; hdr adds headers ("Sec-Fetch-Site", say).
func (b *browser) post(path string, form url.Values, hdr ...string) page {
	b.t.Helper()
	req, err := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return b.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token of the forms on the page at path.
func (b *browser) csrf(path string) string {
	b.t.Helper()
	p := b.get(path)
	m := csrfRE.FindStringSubmatch(p.Body)
	if m == nil {
		b.t.Fatalf("GET %s: %d, no CSRF token in:\n%s", path, p.StatusCode, p.Body)
	}
	return m[1]
}

// form is a form with the token of the page at path.
func (b *browser) form(path string, kv ...string) url.Values {
	b.t.Helper()
	v := url.Values{"csrf": {b.csrf(path)}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func (b *browser) signIn(a *sestest.Account) {
	b.t.Helper()
	p := b.post("/console/signin", b.form("/console/signin", "access_key_id", a.AccessKeyId, "secret_access_key", string(a.SecretAccessKey), "region", "us-east-1"))
	wantRedirect(b.t, p, "/console/identities")
}

func (b *browser) cookie() *http.Cookie {
	u, _ := url.Parse(b.base + console.Prefix)
	for _, c := range b.hc.Jar.Cookies(u) {
		if c.Name == console.CookieName {
			return c
		}
	}
	return nil
}

func wantRedirect(t *testing.T, p page, prefix string) {
	t.Helper()
	if p.StatusCode != http.StatusSeeOther && p.StatusCode != http.StatusMovedPermanently && p.StatusCode != http.StatusFound {
		t.Fatalf("%s %s: status %d, want a redirect to %s\n%s", p.Request.Method, p.Request.URL.Path, p.StatusCode, prefix, p.Body)
	}
	if loc := p.Header.Get("Location"); !strings.HasPrefix(loc, prefix) {
		t.Fatalf("%s %s: redirect to %q, want %s...", p.Request.Method, p.Request.URL.Path, loc, prefix)
	}
}

func wantStatus(t *testing.T, p page, status int) {
	t.Helper()
	if p.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d\n%s", p.Request.Method, p.Request.URL, p.StatusCode, status, p.Body)
	}
}

var identityRE = regexp.MustCompile(`<tr data-identity="([^"]+)">`)

// listed returns the identities of a list page, as the page escapes them.
func listed(body string) []string {
	var out []string
	for _, m := range identityRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}
