package console_test

import (
	"context"
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sesame/sesame/internal/console"
	"github.com/sesame/sesame/internal/dnstest"
	"github.com/sesame/sesame/internal/registry"
	"github.com/sesame/sesame/internal/server"
	"github.com/sesame/sesame/internal/sestest"
)

// TestCheckNowSharedName: 'check now' reads the zone at once; the TXT name
// already holds another instance's token, so the page says to add a value
// rather than replace; the evidence and the doctor's findings show.
func TestCheckNowSharedName(t *testing.T) {
	dns := dnstest.NewServer(t, "127.0.0.1")
	dns.SetZone("example.test", `$ORIGIN example.test.
@    SOA ns1 hostmaster 1 3600 600 86400 30
@    NS  ns1
ns1  A   127.0.0.1
_amazonses TXT "OtherRegionToken0123456789abcdefghijklmnopq="
`)
	srv := sestest.New(t, sestest.Options{Verify: server.VerifyOptions{
		Resolver: dns.Addr, AuthPort: dns.Port, RateLimit: 1000, Timeout: 300 * time.Millisecond, Budget: 2 * time.Second,
	}})
	a := srv.NewAccount("alpha")
	b := newBrowser(t, srv)
	b.signIn(a)
	wantRedirect(t, b.post("/console/identities", b.form("/console/create", "name", "example.test")), "/console/identities/example.test")
	id, err := srv.Sesame.Registry.Get(context.Background(), registry.Scope{Account: a.AccountId, Region: "us-east-1"}, "example.test")
	if err != nil {
		t.Fatal(err)
	}

	// Before a check: no evidence, and no claim about other values.
	p := b.get("/console/identities/example.test")
	if strings.Contains(p.Body, `data-testid="shared-note"`) || strings.Contains(p.Body, `id="evidence"`) {
		t.Fatalf("evidence before any check:\n%s", p.Body)
	}

	dns.AddRR(`_amazonses.example.test. 60 TXT "amazonses:` + id.Token + `"`)
	wantRedirect(t, b.post("/console/identities/example.test/check", b.form("/console/identities/example.test")), "/console/identities/example.test?done=checked")
	p = b.get("/console/identities/example.test?done=checked")
	text := html.UnescapeString(p.Body)
	for _, w := range []string{
		"Checked the name servers just now.",
		`<dd data-testid="status-verification"><span class="badge b-ok">`,
		`data-testid="shared-note"`,
		"already holds 1 other value",
		"OtherRegionToken0123456789abcdefghijklmnopq=",
		"do not replace it",
		"Evidence of the last check",
		"ns1.example.test.",
	} {
		if !strings.Contains(text, w) {
			t.Errorf("after check now, page without %q", w)
		}
	}
	if strings.Contains(text, "other value: <code>amazonses:") || strings.Count(text, "OtherRegionToken") != 2 {
		t.Errorf("the note lists this identity's own value, or not just the other one:\n%s", text)
	}

	// The doctor: a fragment for the page's script, a page without it.
	req, _ := http.NewRequest("GET", srv.URL+"/console/identities/example.test/doctor", nil)
	req.Header.Set(console.FragmentHeader, "1")
	frag := b.do(req)
	wantStatus(t, frag, http.StatusOK)
	if strings.Contains(frag.Body, "<html") || !strings.Contains(frag.Body, `data-testid="doctor-summary"`) || !strings.Contains(frag.Body, "dmarc-missing") {
		t.Errorf("doctor fragment:\n%s", frag.Body)
	}
	full := b.get("/console/identities/example.test/doctor")
	if !strings.Contains(full.Body, "<html") || !strings.Contains(full.Body, "dmarc-missing") {
		t.Errorf("doctor page:\n%s", full.Body)
	}
}

// TestDoctorTimeout: a name server that never answers cuts the doctor
// short with a message, and 'check now' comes back with the outcome
// rather than hanging.
func TestDoctorTimeout(t *testing.T) {
	dns := dnstest.NewServer(t, "127.0.0.1")
	dns.SetZone("example.test", `$ORIGIN example.test.
@    SOA ns1 hostmaster 1 3600 600 86400 30
@    NS  ns1
ns1  A   127.0.0.1
`)
	dns.SetFault(dnstest.Drop)
	srv := sestest.New(t, sestest.Options{Verify: server.VerifyOptions{
		Resolver: dns.Addr, AuthPort: dns.Port, RateLimit: 1000, Timeout: 100 * time.Millisecond, Budget: 300 * time.Millisecond,
	}})
	a := srv.NewAccount("alpha")
	b := newBrowser(t, srv)
	b.signIn(a)
	wantRedirect(t, b.post("/console/identities", b.form("/console/create", "name", "example.test")), "/console/identities/example.test")

	start := time.Now()
	wantRedirect(t, b.post("/console/identities/example.test/check", b.form("/console/identities/example.test")), "/console/identities/example.test")
	p := b.get("/console/identities/example.test")
	if !strings.Contains(p.Body, "temporary failure") {
		t.Errorf("a silent name server is not a temporary failure:\n%s", p.Body)
	}
	frag := b.get("/console/identities/example.test/doctor")
	wantStatus(t, frag, http.StatusOK)
	if !strings.Contains(frag.Body, "did not answer") && !strings.Contains(frag.Body, "took too long") && !strings.Contains(frag.Body, "could not run") {
		t.Errorf("doctor with a silent server:\n%s", frag.Body)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("check and doctor took %v", d)
	}
}
