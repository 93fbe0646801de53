package console_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/sesame/sesame/internal/sestest"
	"github.com/sesame/sesame/internal/store"
)

// TestOutboxPerTenant: the local outbox is the account's own. /outbox is no
// longer a page of every account's mail for anyone who reaches the server:
// it sends the visitor to the console, whose outbox and message pages show
// only the signed-in account's messages, so a tenant never sees (and so
// never opens) the link of another tenant's address.
func TestOutboxPerTenant(t *testing.T) {
	srv := sestest.New(t)
	a, z := srv.NewAccount("alpha"), srv.NewAccount("zulu")
	ba, bz, anon := newBrowser(t, srv), newBrowser(t, srv), newBrowser(t, srv)
	ba.signIn(a)
	bz.signIn(z)
	wantRedirect(t, ba.post("/console/identities", ba.form("/console/create", "name", "ops@alpha.example.com")), "/console/identities/")
	ms, err := srv.Sesame.Store.ListMessages(context.Background(), store.MessageQuery{Account: a.AccountId, Limit: 10})
	if err != nil || len(ms) != 1 {
		t.Fatalf("alpha's messages: %v, %v", ms, err)
	}
	m := ms[0]
	token := m.Link[strings.Index(m.Link, "token="):]

	// Nobody signed in: no recipient, no link.
	for _, path := range []string{"/outbox", "/outbox?to=ops@alpha.example.com", "/outbox/" + m.ID} {
		p := anon.get(path)
		if strings.Contains(p.Body, "alpha.example.com") || strings.Contains(p.Body, token) {
			t.Errorf("GET %s without a session shows alpha's message:\n%s", path, p.Body)
		}
		wantRedirect(t, p, "/console/outbox")
	}
	wantRedirect(t, anon.get("/console/outbox/"+m.ID), "/console/signin")

	// Another tenant: neither in its outbox nor by the message's ID.
	for _, path := range []string{"/console/outbox", "/console/outbox/" + m.ID} {
		p := bz.get(path)
		if strings.Contains(p.Body, "alpha.example.com") || strings.Contains(p.Body, token) {
			t.Errorf("zulu's %s shows alpha's message:\n%s", path, p.Body)
		}
	}
	wantStatus(t, bz.get("/console/outbox/"+m.ID), http.StatusNotFound)

	// Its own account: the list and the message, with the link.
	wantRedirect(t, ba.get("/outbox"), "/console/outbox")
	p := ba.get("/console/outbox")
	if !strings.Contains(p.Body, `href="/console/outbox/`+m.ID+`"`) {
		t.Errorf("alpha's outbox does not link its message:\n%s", p.Body)
	}
	p = ba.get("/console/outbox/" + m.ID)
	wantStatus(t, p, http.StatusOK)
	for _, want := range []string{"ops@alpha.example.com", strings.ReplaceAll(token, "&", "&amp;"), "Message-ID: &lt;" + m.ID} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("alpha's message page without %q:\n%s", want, p.Body)
		}
	}
	wantStatus(t, ba.get("/console/outbox/nope"), http.StatusNotFound)
}
