package console_test

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/sesame/sesame/internal/console"
	"github.com/sesame/sesame/internal/pgtest"
	"github.com/sesame/sesame/internal/sestest"
)

// TestSessionOnEveryReplica: on PostgreSQL, a console session made on one
// replica works on another (they share the console key), and signing out
// on the first ends it on the second.
func TestSessionOnEveryReplica(t *testing.T) {
	url := pgtest.Start(t).NewDatabase(t)
	data := t.TempDir()
	os.Chmod(data, 0o700)
	first := sestest.New(t, sestest.Options{DatabaseURL: url, Data: data})
	second := sestest.New(t, sestest.Options{DatabaseURL: url, Data: data})
	a := first.NewAccount("alpha")
	b := newBrowser(t, first)
	b.signIn(a)
	cookie := b.cookie()
	onSecond := func() *http.Response {
		req, _ := http.NewRequest("GET", second.URL+"/console/identities", nil)
		req.AddCookie(&http.Cookie{Name: console.CookieName, Value: cookie.Value})
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := onSecond(); resp.StatusCode != http.StatusOK {
		t.Fatalf("the session made on the first replica, on the second: %d to %q, want the page", resp.StatusCode, resp.Header.Get("Location"))
	}
	wantRedirect(t, b.post("/console/signout", b.form("/console/identities")), "/console/signin?why=signedout")
	if resp := onSecond(); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/console/signin") {
		t.Errorf("signed out on the first replica, on the second: %d to %q, want a redirect to sign in", resp.StatusCode, resp.Header.Get("Location"))
	}
}
