package mail

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/store"
)

// confirmer is a Confirmer that records calls and answers status, or
// store.ErrNotFound when gone is set.
type confirmer struct {
	mu     sync.Mutex
	calls  []identity.Key
	status identity.Status
	gone   bool
}

func (c *confirmer) ConfirmEmail(_ context.Context, k identity.Key) (identity.Status, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, k)
	if c.gone {
		return "", store.ErrNotFound
	}
	return c.status, nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

type fixture struct {
	m     *Mailer
	conf  *confirmer
	clock *clock
	h     http.Handler
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{conf: &confirmer{status: identity.Success}, clock: &clock{t: t0}}
	f.m = &Mailer{Store: openStore(t, t.TempDir()), Signer: testSigner(t, 'k'), PublicURL: "http://sesame.test/", From: "no-reply@sesame.test",
		Validity: 24 * time.Hour, Limits: DefaultLimits(), Now: f.clock.Now, Log: slog.New(slog.DiscardHandler)}
	mux := http.NewServeMux()
	(&Web{Mailer: f.m, Confirm: f.conf}).Register(mux)
	f.h = mux
	return f
}

func pending(k identity.Key) *identity.Identity {
	id := &identity.Identity{Key: k}
	id.Verification.Start(t0)
	return id
}

// send stores a verification mail to k and returns its message.
func (f *fixture) send(t *testing.T, k identity.Key, tmpl *store.Template) *store.Message {
	t.Helper()
	var id string
	var err error
	if tmpl == nil {
		err = f.m.SendVerification(context.Background(), pending(k))
	} else {
		id, err = f.m.SendCustomVerification(context.Background(), pending(k), tmpl)
	}
	if err != nil {
		t.Fatal(err)
	}
	ms, err := f.m.Store.ListMessages(context.Background(), store.MessageQuery{To: k.Name, Limit: 1})
	if err != nil || len(ms) != 1 || (id != "" && ms[0].ID != id) {
		t.Fatalf("outbox: %v, %v (message ID %q)", ms, err, id)
	}
	return ms[0]
}

func (f *fixture) get(t *testing.T, method, target string) (int, http.Header, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, rec.Result().Header, string(b)
}

func path(link string) string { return strings.TrimPrefix(link, "http://sesame.test") }

func TestVerifyLink(t *testing.T) {
	f := newFixture(t)
	m := f.send(t, addrKey, nil)
	if m.Status != store.Local || !strings.HasPrefix(m.Link, "http://sesame.test/verify?token=") {
		t.Fatalf("message %+v", m)
	}
	if code, _, _ := f.get(t, http.MethodHead, path(m.Link)); code != http.StatusOK || len(f.conf.calls) != 0 {
		t.Fatalf("HEAD: %d, %d confirmations; a link scanner must not verify", code, len(f.conf.calls))
	}
	code, h, body := f.get(t, http.MethodGet, path(m.Link))
	if code != http.StatusOK || !strings.Contains(body, "Email address verified") || !strings.Contains(body, "user@example.com") {
		t.Fatalf("first open: %d\n%s", code, body)
	}
	if len(f.conf.calls) != 1 || f.conf.calls[0] != addrKey {
		t.Errorf("confirmations %v", f.conf.calls)
	}
	if h.Get("Cache-Control") != "no-store" || h.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("headers %v", h)
	}
	code, _, body = f.get(t, http.MethodGet, path(m.Link))
	if code != http.StatusGone || !strings.Contains(body, "already used") || len(f.conf.calls) != 1 {
		t.Errorf("second open: %d, %d confirmations\n%s", code, len(f.conf.calls), body)
	}
}

func TestVerifyLinkFailures(t *testing.T) {
	f := newFixture(t)
	first := f.send(t, addrKey, nil)
	f.clock.Add(time.Minute)
	second := f.send(t, addrKey, nil)
	unsigned, _ := f.m.Signer.Sign(Claims{Key: addrKey, Nonce: NewNonce(), Expires: t0.Add(time.Hour)})
	tests := []struct {
		name, target string
		status       int
		want         string
	}{
		{name: "older link", target: path(first.Link), status: http.StatusGone, want: "newer verification email"},
		{name: "no token", target: "/verify", status: http.StatusBadRequest, want: "not valid"},
		{name: "cut token", target: path(second.Link)[:60], status: http.StatusBadRequest, want: "copy the whole link"},
		{name: "signed but never sent", target: "/verify?token=" + unsigned, status: http.StatusNotFound, want: "no record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, body := f.get(t, http.MethodGet, tt.target)
			if code != tt.status || !strings.Contains(body, tt.want) {
				t.Errorf("%d, want %d with %q\n%s", code, tt.status, tt.want, body)
			}
		})
	}
	if len(f.conf.calls) != 0 {
		t.Errorf("%d confirmations from bad links", len(f.conf.calls))
	}
	// 24 hours after it was sent, the newest link has expired too.
	f.clock.Add(24 * time.Hour)
	code, _, body := f.get(t, http.MethodGet, path(second.Link))
	if code != http.StatusGone || !strings.Contains(body, "expired") || len(f.conf.calls) != 0 {
		t.Errorf("expired link: %d, %d confirmations\n%s", code, len(f.conf.calls), body)
	}

	f.clock.Add(-24 * time.Hour)
	f.conf.gone = true
	if code, _, body := f.get(t, http.MethodGet, path(second.Link)); code != http.StatusGone || !strings.Contains(body, "no longer") {
		t.Errorf("deleted identity: %d\n%s", code, body)
	}
	f.conf.gone, f.conf.status = false, identity.Failed
	if code, _, body := f.get(t, http.MethodGet, path(second.Link)); code != http.StatusGone || !strings.Contains(body, "expired") {
		t.Errorf("identity window over: %d\n%s", code, body)
	}
}

func TestCustomLinkRedirects(t *testing.T) {
	f := newFixture(t)
	tmpl := &store.Template{From: "sender@example.com", Subject: "Welcome", Content: "<p>Hi</p>",
		SuccessURL: "https://app.example.com/ok", FailureURL: "https://app.example.com/ko"}
	m := f.send(t, addrKey, tmpl)
	if m.From != "sender@example.com" || m.Subject != "Welcome" {
		t.Errorf("message %+v", m)
	}
	for i, want := range []string{tmpl.SuccessURL, tmpl.FailureURL} {
		code, h, _ := f.get(t, http.MethodGet, path(m.Link))
		if code != http.StatusSeeOther || h.Get("Location") != want || h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("open %d: %d to %q, want 303 to %q", i+1, code, h.Get("Location"), want)
		}
	}
}

// TestOutboxToConsole: /outbox listed every account's messages and links
// to anyone who reached the server; it now sends the visitor to the
// console's outbox, which shows a signed-in account its own (tested in
// internal/console), and shows nothing itself.
func TestOutboxToConsole(t *testing.T) {
	f := newFixture(t)
	m := f.send(t, identity.Key{Account: "123456789012", Region: "us-east-1", Name: "user@example.com"}, nil)
	for path, want := range map[string]string{
		"/outbox":                     "/console/outbox",
		"/outbox?to=user@example.com": "/console/outbox",
		"/outbox/" + m.ID:             "/console/outbox/" + m.ID,
	} {
		code, h, body := f.get(t, http.MethodGet, path)
		if code != http.StatusSeeOther || h.Get("Location") != want || strings.Contains(body, "user@example.com") || strings.Contains(body, m.Link) {
			t.Errorf("GET %s: %d to %q, want 303 to %s, nothing of the message\n%s", path, code, h.Get("Location"), want, body)
		}
	}
}

func TestLimits(t *testing.T) {
	f := newFixture(t)
	f.m.Limits = Limits{PerRecipient: 2, RecipientWindow: time.Hour, PerAccount: 3, AccountWindow: 24 * time.Hour}
	ctx := context.Background()
	other := identity.Key{Account: addrKey.Account, Region: "eu-west-1", Name: "other@example.com"}
	for i := range 2 {
		if err := f.m.SendVerification(ctx, pending(addrKey)); err != nil {
			t.Fatalf("mail %d: %v", i+1, err)
		}
	}
	var le *LimitError
	if err := f.m.CheckLimits(ctx, addrKey); !errors.As(err, &le) || le.Daily || !strings.HasPrefix(err.Error(), "Maximum sending rate exceeded.") {
		t.Errorf("CheckLimits after 2 mails to one address: %v", err)
	}
	if err := f.m.SendVerification(ctx, pending(addrKey)); !errors.As(err, &le) || le.Daily || le.Recipient != addrKey.Name {
		t.Errorf("third mail to one address within the hour: %v", err)
	}
	if err := f.m.SendVerification(ctx, pending(identity.Key{Account: "999999999999", Region: "us-east-1", Name: addrKey.Name})); err != nil {
		t.Errorf("another account's mail to the same address: %v", err)
	}
	if err := f.m.SendVerification(ctx, pending(other)); err != nil {
		t.Errorf("third mail of the account: %v", err)
	}
	err := f.m.SendVerification(ctx, pending(identity.Key{Account: addrKey.Account, Region: "us-east-1", Name: "third@example.com"}))
	if !errors.As(err, &le) || !le.Daily || !strings.HasPrefix(err.Error(), "Daily message quota exceeded.") {
		t.Errorf("fourth mail of the account within a day: %v", err)
	}
	f.clock.Add(24 * time.Hour)
	if err := f.m.SendVerification(ctx, pending(addrKey)); err != nil {
		t.Errorf("a day later: %v", err)
	}
}

func TestTooLarge(t *testing.T) {
	t.Parallel() // 10 MB through the API and the encoder: slow under -race
	f := newFixture(t)
	tmpl := &store.Template{From: "sender@example.com", Subject: "x", Content: strings.Repeat("é", MaxTemplate/2-10)}
	if _, err := f.m.SendCustomVerification(context.Background(), pending(addrKey), tmpl); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a template under 10 MB whose message is over: %v, want ErrTooLarge", err)
	}
}

func TestDefaultFrom(t *testing.T) {
	for url, want := range map[string]string{
		"https://sesame.example.com/base": "no-reply@sesame.example.com",
		"http://127.0.0.1:8080":           "no-reply@localhost",
		"http://[::1]:8080":               "no-reply@localhost",
	} {
		if got := DefaultFrom(url); got != want {
			t.Errorf("DefaultFrom(%q) = %q, want %q", url, got, want)
		}
	}
}
