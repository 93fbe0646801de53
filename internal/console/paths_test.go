package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sesame/sesame/internal/sestest"
)

// TestPathLikeNames: an address whose local part looks like a path
// ("/../x") has pages like any other. Its escaped path is clean, but the
// decoded one is not, and the server's router once sent every such path to
// the v1 API, so the identity could not be opened.
func TestPathLikeNames(t *testing.T) {
	srv := sestest.New(t)
	a := srv.NewAccount("alpha")
	b := newBrowser(t, srv)
	b.signIn(a)
	for _, name := range []string{`"/../x"@example.com`, `"./"@example.com`, `"a//b"@example.com`} {
		p := b.post("/console/identities", b.form("/console/create", "name", name))
		wantRedirect(t, p, "/console/identities/")
		loc := p.Header.Get("Location")
		page := loc[:strings.Index(loc, "?")]
		if page != "/console/identities/"+url.PathEscape(name) {
			t.Fatalf("created %s: redirect to %s", name, loc)
		}
		for _, path := range []string{page, page + "/delete"} {
			p := b.get(path)
			wantStatus(t, p, http.StatusOK)
			if !strings.Contains(p.Body, "example.com") || strings.Contains(p.Body, "<ErrorResponse") {
				t.Errorf("GET %s is not the identity's page:\n%s", path, p.Body)
			}
		}
		wantRedirect(t, b.post(page+"/delete", b.form(page+"/delete", "confirm", name)), "/console/identities")
	}
}
