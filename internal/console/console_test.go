package console_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sesame/sesame/internal/console"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/registry"
	"github.com/sesame/sesame/internal/sestest"
)

func TestSignIn(t *testing.T) {
	srv := sestest.New(t)
	a := srv.NewAccount("alpha")
	b := newBrowser(t, srv)

	wantRedirect(t, b.get("/console"), "/console/")
	wantRedirect(t, b.get("/console/"), "/console/signin")
	wantRedirect(t, b.get("/console/identities"), "/console/signin?next=%2Fconsole%2Fidentities")

	p := b.get("/console/signin")
	wantStatus(t, p, http.StatusOK)
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options"} {
		if p.Header.Get(h) == "" {
			t.Errorf("sign-in page without %s", h)
		}
	}
	if cc := p.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}

	form := b.form("/console/signin", "access_key_id", a.AccessKeyId, "secret_access_key", string(a.SecretAccessKey), "region", "eu-west-1")
	p = b.post("/console/signin", form)
	wantRedirect(t, p, "/console/identities")
	var c *http.Cookie
	for _, ck := range p.Cookies() {
		if ck.Name == console.CookieName {
			c = ck
		}
	}
	if c == nil {
		t.Fatal("no session cookie after sign-in")
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != console.Prefix || c.Secure {
		t.Errorf("cookie flags: HttpOnly=%v SameSite=%v Path=%q Secure=%v; want HttpOnly, Lax, %s, not Secure over HTTP", c.HttpOnly, c.SameSite, c.Path, c.Secure, console.Prefix)
	}
	if c.Expires.IsZero() {
		t.Error("session cookie without expiry")
	}
	if strings.Contains(c.Value, string(a.SecretAccessKey)) {
		t.Error("the cookie carries the secret key")
	}
	if form.Get("csrf") == csrfRE.FindStringSubmatch(b.get("/console/identities").Body)[1] {
		t.Error("signing in kept the anonymous CSRF token")
	}

	p = b.get("/console/identities")
	wantStatus(t, p, http.StatusOK)
	for _, want := range []string{a.AccountId, `<option value="eu-west-1" selected>`, "No identities in this region yet"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("identities page without %q", want)
		}
	}

	// The sign-in page sends a signed-in visitor on, session kept.
	wantRedirect(t, b.get("/console/signin"), "/console/identities")
	wantStatus(t, b.get("/console/identities"), http.StatusOK)

	// Sign out: the cookie no longer opens pages.
	wantRedirect(t, b.post("/console/signout", b.form("/console/identities")), "/console/signin?why=signedout")
	wantRedirect(t, b.get("/console/identities"), "/console/signin")
}

// otherFirst is secret with another first character.
func otherFirst(secret string) string {
	if secret[0] == 'x' {
		return "y" + secret[1:]
	}
	return "x" + secret[1:]
}

func TestSignInRefused(t *testing.T) {
	srv := sestest.New(t)
	a := srv.NewAccount("alpha")
	other := srv.NewAccount("beta")
	for _, tc := range []struct {
		name, keyID, secret string
	}{
		{name: "wrong secret", keyID: a.AccessKeyId, secret: otherFirst(string(a.SecretAccessKey))},
		{name: "another key's secret", keyID: a.AccessKeyId, secret: string(other.SecretAccessKey)},
		{name: "empty secret", keyID: a.AccessKeyId, secret: ""},
		{name: "unknown key", keyID: "AKIAUNKNOWNUNKNOWN", secret: string(a.SecretAccessKey)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBrowser(t, srv)
			p := b.post("/console/signin", b.form("/console/signin", "access_key_id", tc.keyID, "secret_access_key", tc.secret))
			wantStatus(t, p, http.StatusUnauthorized)
			if !strings.Contains(p.Body, "Wrong access key ID or secret access key") {
				t.Errorf("no error message:\n%s", p.Body)
			}
			wantRedirect(t, b.get("/console/identities"), "/console/signin")
		})
	}
}

func TestRevokedKeySignsOut(t *testing.T) {
	srv := sestest.New(t)
	a := srv.NewAccount("alpha")
	b := newBrowser(t, srv)
	b.signIn(a)
	wantStatus(t, b.get("/console/identities"), http.StatusOK)

	if err := srv.Sesame.Accounts.Revoke(context.Background(), a.AccessKeyId); err != nil {
		t.Fatal(err)
	}
	wantRedirect(t, b.get("/console/identities"), "/console/signin?")
	if p := b.get("/console/identities"); p.StatusCode != http.StatusSeeOther {
		t.Errorf("after revocation: status %d, want a redirect to sign in", p.StatusCode)
	}
	// Signing in again with the revoked key fails.
	p := b.post("/console/signin", b.form("/console/signin", "access_key_id", a.AccessKeyId, "secret_access_key", string(a.SecretAccessKey)))
	wantStatus(t, p, http.StatusUnauthorized)
}

func TestForgedCookie(t *testing.T) {
	srv := sestest.New(t)
	a := srv.NewAccount("alpha")
	victim := srv.NewAccount("victim")
	b := newBrowser(t, srv)
	b.signIn(a)
	c := b.cookie()
	payload, mac, _ := strings.Cut(c.Value, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(payload)
	forged := strings.Replace(string(raw), a.AccountId, victim.AccountId, 1)
	for name, value := range map[string]string{
		"other account, old MAC": base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + mac,
		"no MAC":                 payload,
		"MAC of another payload": payload + "." + base64.RawURLEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")),
	} {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+"/console/identities", nil)
			req.AddCookie(&http.Cookie{Name: console.CookieName, Value: value})
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/console/signin") {
				t.Errorf("forged cookie: status %d to %q, want a redirect to sign in", resp.StatusCode, resp.Header.Get("Location"))
			}
		})
	}
}

func TestCSRF(t *testing.T) {
	srv := sestest.New(t)
	a := srv.NewAccount("alpha")
	b := newBrowser(t, srv)
	b.signIn(a)
	good := b.csrf("/console/create")

	for _, tc := range []struct {
		name  string
		token string
		hdr   []string
	}{
		{name: "no token"},
		{name: "wrong token", token: good[:len(good)-2] + "xx"},
		{name: "another session's token", token: newBrowser(t, srv).csrf("/console/signin")},
		{name: "cross-site with the token", token: good, hdr: []string{"Sec-Fetch-Site", "cross-site"}},
		{name: "other origin with the token", token: good, hdr: []string{"Origin", "https://evil.example"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"name": {"csrf.example.com"}}
			if tc.token != "" {
				form.Set("csrf", tc.token)
			}
			p := b.post("/console/identities", form, tc.hdr...)
			wantStatus(t, p, http.StatusForbidden)
			if !strings.Contains(p.Body, "CSRF") {
				t.Errorf("refusal does not say why:\n%s", p.Body)
			}
			if _, err := srv.Sesame.Registry.Get(context.Background(), registry.Scope{Account: a.AccountId, Region: "us-east-1"}, "csrf.example.com"); !registry.IsKind(err, registry.NotFound) {
				t.Errorf("the refused form created the identity (err %v)", err)
			}
		})
	}

	// Every state-changing form is guarded, not only creation.
	wantRedirect(t, b.post("/console/identities", url.Values{"csrf": {good}, "name": {"ok.example.com"}}), "/console/identities/ok.example.com")
	for _, path := range []string{"/console/signout", "/console/region", "/console/identities/ok.example.com/check",
		"/console/identities/ok.example.com/mail-from", "/console/identities/ok.example.com/delete"} {
		wantStatus(t, b.post(path, url.Values{"confirm": {"ok.example.com"}, "region": {"eu-west-1"}}), http.StatusForbidden)
	}
	wantStatus(t, b.get("/console/identities/ok.example.com"), http.StatusOK)

	// The sign-in form too: a forged sign-in would put the victim in the
	// attacker's account.
	anon := newBrowser(t, srv)
	p := anon.post("/console/signin", url.Values{"access_key_id": {a.AccessKeyId}, "secret_access_key": {string(a.SecretAccessKey)}})
	wantStatus(t, p, http.StatusForbidden)
}

func TestIsolation(t *testing.T) {
	srv := sestest.New(t)
	a, z := srv.NewAccount("alpha"), srv.NewAccount("zulu")
	ba, bz := newBrowser(t, srv), newBrowser(t, srv)
	ba.signIn(a)
	bz.signIn(z)

	wantRedirect(t, ba.post("/console/identities", ba.form("/console/create", "name", "alpha.example.com")), "/console/identities/alpha.example.com")
	wantRedirect(t, ba.post("/console/identities", ba.form("/console/create", "name", "ops@alpha.example.com")), "/console/identities/ops@alpha.example.com")
	if got := listed(ba.get("/console/identities").Body); !slices.Equal(got, []string{"alpha.example.com", "ops@alpha.example.com"}) {
		t.Fatalf("alpha lists %q", got)
	}

	if got := listed(bz.get("/console/identities").Body); len(got) != 0 {
		t.Errorf("zulu lists alpha's identities: %q", got)
	}
	for _, path := range []string{"/console/identities/alpha.example.com", "/console/identities/alpha.example.com/delete", "/console/identities/alpha.example.com/doctor"} {
		wantStatus(t, bz.get(path), http.StatusNotFound)
	}
	for _, path := range []string{"/console/identities/alpha.example.com/check", "/console/identities/alpha.example.com/delete", "/console/identities/alpha.example.com/mail-from"} {
		wantStatus(t, bz.post(path, bz.form("/console/identities", "confirm", "alpha.example.com", "mail_from", "mail.alpha.example.com")), http.StatusNotFound)
	}
	if out := bz.get("/console/outbox").Body; strings.Contains(out, "alpha.example.com") {
		t.Error("zulu's outbox shows alpha's verification email")
	}
	if out := ba.get("/console/outbox").Body; !strings.Contains(out, "ops@alpha.example.com") {
		t.Error("alpha's outbox does not show its verification email")
	}
	id, err := srv.Sesame.Registry.Get(context.Background(), registry.Scope{Account: a.AccountId, Region: "us-east-1"}, "alpha.example.com")
	if err != nil || id.MailFrom.Domain != "" {
		t.Errorf("alpha's identity after zulu's attempts: %+v, %v", id, err)
	}

	// Regions are separate too: the same account sees nothing in another.
	wantRedirect(t, ba.post("/console/region", ba.form("/console/identities", "region", "eu-west-1", "next", "/console/identities/alpha.example.com")), "/console/identities")
	if got := listed(ba.get("/console/identities").Body); len(got) != 0 {
		t.Errorf("eu-west-1 lists us-east-1's identities: %q", got)
	}
	wantStatus(t, ba.post("/console/region", ba.form("/console/identities", "region", "mars-north-1")), http.StatusBadRequest)
}

func TestPagination(t *testing.T) {
	srv := sestest.New(t)
	a := srv.NewAccount("alpha")
	sc := registry.Scope{Account: a.AccountId, Region: "us-east-1"}
	var want []string
	for i := range 120 {
		name := fmt.Sprintf("d%03d.example.com", i)
		if _, err := srv.Sesame.Registry.VerifyDomainIdentity(context.Background(), sc, name); err != nil {
			t.Fatal(err)
		}
		want = append(want, name)
	}
	if _, err := srv.Sesame.Registry.VerifyEmailIdentity(context.Background(), sc, "mail@d000.example.com"); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, srv)
	b.signIn(a)

	var got []string
	pages := 0
	for path := "/console/identities?type=domain"; path != ""; pages++ {
		p := b.get(path)
		wantStatus(t, p, http.StatusOK)
		got = append(got, listed(p.Body)...)
		path = ""
		if m := nextRE.FindStringSubmatch(p.Body); m != nil {
			path = strings.ReplaceAll(m[1], "&amp;", "&")
		}
		if pages > 0 && !strings.Contains(p.Body, "First page") {
			t.Errorf("page %d has no link to the first page", pages+1)
		}
	}
	if pages != 3 || !slices.Equal(got, want) {
		t.Errorf("%d pages of 50 listed %d identities, want 3 pages of all 120 in order:\n%q", pages, len(got), got)
	}

	for _, tc := range []struct {
		query string
		want  int
	}{
		{query: "q=d01", want: 10},
		{query: "q=D11&type=domain", want: 10},
		{query: "type=email", want: 1},
		{query: "status=Pending&size=100", want: 100},
		{query: "status=Success", want: 0},
		{query: "size=20", want: 20},
		{query: "size=7", want: 50}, // not offered: the default
	} {
		t.Run(tc.query, func(t *testing.T) {
			if got := listed(b.get("/console/identities?" + tc.query).Body); len(got) != tc.want {
				t.Errorf("%d identities listed, want %d", len(got), tc.want)
			}
		})
	}
	// A token of another filter starts again rather than failing.
	p := b.get("/console/identities?type=email&next=" + url.QueryEscape(strings.TrimPrefix(nextRE.FindStringSubmatch(b.get("/console/identities?type=domain").Body)[1], "/console/identities?next=")))
	wantStatus(t, p, http.StatusOK)
}

var nextRE = regexp.MustCompile(`<a rel="next" href="([^"]+)">`)

func TestEscaping(t *testing.T) {
	srv := sestest.New(t)
	a := srv.NewAccount("alpha")
	b := newBrowser(t, srv)
	b.signIn(a)
	// A quoted local part may hold quotes, ampersands and spaces (RFC
	// 5321); angle brackets are refused by names.Email.
	evil := `"x\" onmouseover='alert(1)' &amp; y"@example.com`
	p := b.post("/console/identities", b.form("/console/create", "name", evil))
	wantRedirect(t, p, "/console/identities/")
	loc := p.Header.Get("Location")
	page := b.get(loc[:strings.Index(loc, "?")])
	wantStatus(t, page, http.StatusOK)
	list := b.get("/console/identities").Body
	for _, body := range []string{page.Body, list} {
		if strings.Contains(body, `onmouseover='alert(1)'`) || strings.Contains(body, `x\" onmouseover`) {
			t.Errorf("the identity name is not escaped:\n%s", body)
		}
		if !strings.Contains(body, "onmouseover=&#39;alert(1)&#39; &amp;amp; y") {
			t.Errorf("the escaped name is missing:\n%s", body)
		}
	}

	for _, path := range []string{
		"/console/identities?q=" + url.QueryEscape(`"><script>alert(1)</script>`),
		"/console/signin?next=" + url.QueryEscape(`/console/"><script>alert(1)</script>`),
	} {
		if body := b.get(path).Body; strings.Contains(body, "<script>alert(1)") {
			t.Errorf("%s reflects markup:\n%s", path, body)
		}
	}
	c := newBrowser(t, srv)
	p = c.post("/console/signin", c.form("/console/signin", "access_key_id", `<img src=x onerror=alert(1)>`, "secret_access_key", "x"))
	if strings.Contains(p.Body, "<img src=x") {
		t.Errorf("sign-in reflects markup:\n%s", p.Body)
	}
	// The sign-in form never sends anyone to another site.
	p = c.post("/console/signin", c.form("/console/signin", "access_key_id", a.AccessKeyId, "secret_access_key", string(a.SecretAccessKey), "next", "//evil.example/console/"))
	wantRedirect(t, p, "/console/identities")
}

func TestIdentityPages(t *testing.T) {
	srv := sestest.New(t)
	a := srv.NewAccount("alpha")
	b := newBrowser(t, srv)
	b.signIn(a)

	// Bad names are refused with the registry's message, the form kept.
	p := b.post("/console/identities", b.form("/console/create", "name", "not a domain"))
	wantStatus(t, p, http.StatusBadRequest)
	if !strings.Contains(p.Body, "Invalid domain name") || !strings.Contains(p.Body, `value="not a domain"`) {
		t.Errorf("create error page:\n%s", p.Body)
	}
	wantRedirect(t, b.post("/console/identities", b.form("/console/create", "name", "Example.COM")), "/console/identities/example.com?done=created")
	wantStatus(t, b.post("/console/identities", b.form("/console/create", "name", "example.com")), http.StatusConflict)

	id, err := srv.Sesame.Registry.Get(context.Background(), registry.Scope{Account: a.AccountId, Region: "us-east-1"}, "example.com")
	if err != nil {
		t.Fatal(err)
	}
	p = b.get("/console/identities/example.com?done=created")
	wantStatus(t, p, http.StatusOK)
	want := []string{
		"Identity created.",
		`data-name="_amazonses.example.com" data-type="TXT" data-value="` + id.Token + `"`,
		"this TXT name takes one value more",
		"◷</span> pending verification",
		"Check now",
		// SES's DKIM zone: no keys behind the tokens, and the page says so.
		`data-testid="ses-dkim-note"`,
	}
	for _, tok := range id.DKIM.Tokens {
		want = append(want, fmt.Sprintf(`data-name="%s._domainkey.example.com" data-type="CNAME" data-value="%s.dkim.amazonses.com"`, tok, tok))
	}
	// Attribute values are escaped further ("+" is "&#43;"); compare the
	// text a browser sees.
	text := html.UnescapeString(p.Body)
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("identity page without %q", w)
		}
	}
	if strings.Contains(p.Body, "?done=") {
		t.Error("flash parameter leaked into the page's links")
	}
	if strings.Contains(p.Body, "regions-note") {
		t.Error("a note about other regions, with the domain in one region only")
	}
	// The same domain in another region of the account: say that the TXT
	// record holds both values.
	if _, err := srv.Sesame.Registry.VerifyDomainIdentity(context.Background(), registry.Scope{Account: a.AccountId, Region: "eu-west-1"}, "example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Sesame.Registry.VerifyDomainIdentity(context.Background(), registry.Scope{Account: srv.NewAccount("other").AccountId, Region: "us-west-2"}, "example.com"); err != nil {
		t.Fatal(err)
	}
	p = b.get("/console/identities/example.com")
	if note := regexp.MustCompile(`(?s)data-testid="regions-note".*?</p>`).FindString(p.Body); !strings.Contains(note, "eu-west-1") || strings.Contains(note, "us-west-2") {
		t.Errorf("regions note %q: want eu-west-1, and nothing of another account", note)
	}

	// MAIL FROM: a subdomain is accepted and adds its records; another
	// domain is refused beside the form.
	p = b.post("/console/identities/example.com/mail-from", b.form("/console/identities/example.com", "mail_from", "mail.other.org"))
	wantStatus(t, p, http.StatusBadRequest)
	if !strings.Contains(p.Body, "must be a subdomain of example.com") {
		t.Errorf("MAIL FROM error not shown:\n%s", p.Body)
	}
	wantRedirect(t, b.post("/console/identities/example.com/mail-from", b.form("/console/identities/example.com", "mail_from", "mail.example.com", "behavior", "RejectMessage")), "/console/identities/example.com?done=mailfrom")
	p = b.get("/console/identities/example.com")
	for _, w := range []string{`data-name="mail.example.com" data-type="MX" data-value="10 feedback-smtp.us-east-1.amazonses.com"`, `value="RejectMessage" checked`} {
		if !strings.Contains(p.Body, w) {
			t.Errorf("after setting MAIL FROM, page without %q", w)
		}
	}

	// Deleting needs the name typed again.
	wantStatus(t, b.get("/console/identities/example.com/delete"), http.StatusOK)
	wantStatus(t, b.post("/console/identities/example.com/delete", b.form("/console/identities/example.com/delete", "confirm", "example.org")), http.StatusBadRequest)
	wantRedirect(t, b.post("/console/identities/example.com/delete", b.form("/console/identities/example.com/delete", "confirm", "example.com")), "/console/identities?done=deleted")
	wantStatus(t, b.get("/console/identities/example.com"), http.StatusNotFound)

	// An address: its verification email, in the outbox, and a resend.
	wantRedirect(t, b.post("/console/identities", b.form("/console/create", "name", "ops@example.net")), "/console/identities/ops@example.net")
	p = b.get("/console/identities/ops@example.net")
	if !strings.Contains(p.Body, "open the verification link") || strings.Contains(p.Body, "Records to publish") {
		t.Errorf("address page:\n%s", p.Body)
	}
	if !strings.Contains(p.Body, "opened, within 24 hours.") {
		t.Error("address page does not say how long the link works")
	}
	// Nothing in DNS to check, and no "Domain" verification.
	if strings.Contains(p.Body, "Check now") || strings.Contains(p.Body, "Domain verification") || !strings.Contains(p.Body, "Email address verification") {
		t.Errorf("address page: a DNS check or a domain's words:\n%s", p.Body)
	}
	wantRedirect(t, b.post("/console/identities/ops@example.net/resend", b.form("/console/identities/ops@example.net")), "/console/identities/ops@example.net?done=resent")
	if n := strings.Count(b.get("/console/outbox").Body, "Open the verification link"); n != 2 {
		t.Errorf("outbox shows %d emails, want 2", n)
	}
}

func TestStatusBadges(t *testing.T) {
	srv := sestest.New(t)
	a := srv.NewAccount("alpha")
	sc := registry.Scope{Account: a.AccountId, Region: "us-east-1"}
	ctx := context.Background()
	for _, st := range []identity.Status{identity.Success, identity.Failed, identity.TemporaryFailure} {
		name := strings.ToLower(string(st)) + ".example.com"
		if _, err := srv.Sesame.Registry.VerifyDomainIdentity(ctx, sc, name); err != nil {
			t.Fatal(err)
		}
		if _, err := srv.Sesame.Registry.Store.UpdateIdentity(ctx, identity.Key{Account: sc.Account, Region: sc.Region, Name: name}, func(cur *identity.Identity) (*identity.Identity, error) {
			cur.Verification.Status = st
			return cur, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	b := newBrowser(t, srv)
	b.signIn(a)
	body := b.get("/console/identities").Body
	for _, w := range []string{
		`<span class="badge b-ok"><span class="icon" aria-hidden="true">✔</span> verified</span>`,
		`<span class="badge b-failed"><span class="icon" aria-hidden="true">✖</span> failed</span>`,
		`<span class="badge b-temp"><span class="icon" aria-hidden="true">⚠</span> temporary failure</span>`,
		`<span class="badge b-none"><span class="icon" aria-hidden="true">—</span> not started</span>`,
		`<span class="badge b-none"><span class="icon" aria-hidden="true">—</span> not set up</span>`,
	} {
		if !strings.Contains(body, w) {
			t.Errorf("list without %s", w)
		}
	}
}

func TestStatic(t *testing.T) {
	srv := sestest.New(t)
	b := newBrowser(t, srv)
	body := b.get("/console/signin").Body
	m := regexp.MustCompile(`href="(/console/static/console\.css\?v=[0-9a-f]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no versioned stylesheet in:\n%s", body)
	}
	p := b.get(m[1])
	wantStatus(t, p, http.StatusOK)
	if ct := p.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("stylesheet served as %q", ct)
	}
	if !strings.Contains(p.Body, "@media (max-width") {
		t.Error("no narrow-screen rules in the stylesheet")
	}
	wantStatus(t, b.get("/console/static/console.js"), http.StatusOK)
	wantStatus(t, b.get("/console/static/missing.js"), http.StatusNotFound)
	wantStatus(t, b.get("/console/static/"), http.StatusNotFound)
	wantStatus(t, b.get("/console/nowhere"), http.StatusNotFound)
}
