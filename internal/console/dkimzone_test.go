package console_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/sestest"
)

// TestOwnDKIMZone: with a DKIM zone of Sesame's own, the CNAMEs point at
// it and the page has no warning about SES's zone (TestIdentityPages
// shows the warning with the default).
func TestOwnDKIMZone(t *testing.T) {
	d := config.SES()
	d.DKIMDomain = "dkim.example.net"
	srv := sestest.New(t, sestest.Options{DNS: d})
	a := srv.NewAccount("alpha")
	b := newBrowser(t, srv)
	b.signIn(a)
	wantRedirect(t, b.post("/console/identities", b.form("/console/create", "name", "example.com")), "/console/identities/example.com?done=created")
	p := b.get("/console/identities/example.com")
	wantStatus(t, p, http.StatusOK)
	if strings.Contains(p.Body, "ses-dkim-note") {
		t.Error("the warning about SES's DKIM zone, with a zone of Sesame's own")
	}
	if !strings.Contains(p.Body, `.dkim.example.net"`) {
		t.Error("the DKIM CNAMEs do not point at the server's DKIM zone")
	}
}
