package console_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sesame/sesame/internal/console"
	"github.com/sesame/sesame/internal/sestest"
)

// TestSignOutKillsCookie: after signing out, the session cookie opens
// nothing, even replayed by a client that kept a copy.
func TestSignOutKillsCookie(t *testing.T) {
	srv := sestest.New(t)
	a := srv.NewAccount("alpha")
	b := newBrowser(t, srv)
	b.signIn(a)
	stolen := b.cookie()
	csrf := b.csrf("/console/identities")
	wantRedirect(t, b.post("/console/signout", b.form("/console/identities")), "/console/signin?why=signedout")

	replay := func(method, path, body string) *http.Response {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: console.CookieName, Value: stolen.Value})
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, path := range []string{"/console/identities", "/console/outbox", "/console/create"} {
		if resp := replay("GET", path, ""); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/console/signin") {
			t.Errorf("GET %s with the signed-out cookie: %d to %q, want a redirect to sign in", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if resp := replay("POST", "/console/identities", "csrf="+csrf+"&name=replayed.example.com"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/console/signin") {
		t.Errorf("POST with the signed-out cookie: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Not even the sign-in page takes it for a session (no redirect loop).
	if resp := replay("GET", "/console/signin", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("sign-in page with the signed-out cookie: %d, want the form", resp.StatusCode)
	}
	// Signing in again works, with a new session.
	b.signIn(a)
	wantStatus(t, b.get("/console/identities"), http.StatusOK)
	if b.cookie().Value == stolen.Value {
		t.Error("the new session has the old cookie")
	}
}
