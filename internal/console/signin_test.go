package console_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame/sesame/internal/console"
	"github.com/sesame/sesame/internal/sestest"
)

// logBuffer is a log the server writes from its goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *logBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// TestSignInLogsOnlyKeyIDs: a refused sign-in logs the key ID only when it
// is shaped like one. A secret pasted into the key ID field, or 60 KiB of
// anything, never reaches the log.
func TestSignInLogsOnlyKeyIDs(t *testing.T) {
	var logs logBuffer
	srv := sestest.New(t, sestest.Options{Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	a := srv.NewAccount("alpha")
	huge := strings.Repeat("Z", 60<<10)
	for _, keyID := range []string{string(a.SecretAccessKey), huge, "AKIAUNKNOWNUNKNOWN23"} {
		b := newBrowser(t, srv)
		wantStatus(t, b.post("/console/signin", b.form("/console/signin", "access_key_id", keyID, "secret_access_key", "wrong")), http.StatusUnauthorized)
	}
	out := logs.String()
	if strings.Contains(out, string(a.SecretAccessKey)) {
		t.Errorf("a secret typed into the key ID field is in the log:\n%s", out)
	}
	if strings.Contains(out, "ZZZZZZZZ") {
		t.Errorf("a 60 KiB key ID is in the log (%d bytes of log)", len(out))
	}
	if !strings.Contains(out, "AKIAUNKNOWNUNKNOWN23") {
		t.Errorf("a well-formed key ID is not logged:\n%s", out)
	}
	if n := strings.Count(out, "console sign-in refused"); n != 3 {
		t.Errorf("%d refusals logged, want 3:\n%s", n, out)
	}
	if n := strings.Count(out, "access_key_id=malformed"); n != 2 {
		t.Errorf("%d refusals logged as malformed, want 2 (the secret and the 60 KiB):\n%s", n, out)
	}
	// An ID of Sesame's shape alone is logged: ASIA (temporary keys, which
	// Sesame never issues), lower case, digits base32 lacks, one short.
	logs.mu.Lock()
	logs.b.Reset()
	logs.mu.Unlock()
	for _, keyID := range []string{"ASIAAAAAAAAAAAAAAAAA", "akiaaaaaaaaaaaaaaaaa", "AKIA0000000000000000", "AKIAAAAAAAAAAAAAAAA"} {
		b := newBrowser(t, srv)
		wantStatus(t, b.post("/console/signin", b.form("/console/signin", "access_key_id", keyID, "secret_access_key", "wrong")), http.StatusUnauthorized)
	}
	if out := logs.String(); strings.Count(out, "access_key_id=malformed") != 4 {
		t.Errorf("want 4 refusals logged as malformed:\n%s", out)
	}
}

// TestSignInRateLimit: after a few wrong secrets for one key ID, further
// attempts wait, with backoff, and are answered 429 with Retry-After
// without the secret being checked, even the right one; the wait over,
// the right secret signs in. Many key IDs from one address are held back
// the same way.
func TestSignInRateLimit(t *testing.T) {
	srv := sestest.New(t)
	a := srv.NewAccount("alpha")
	b := newBrowser(t, srv)
	attempt := func(keyID, secret string) page {
		return b.post("/console/signin", b.form("/console/signin", "access_key_id", keyID, "secret_access_key", secret))
	}
	for i := 0; i < console.SignInFreeFailures; i++ {
		wantStatus(t, attempt(a.AccessKeyId, "wrong"), http.StatusUnauthorized)
	}
	p := attempt(a.AccessKeyId, string(a.SecretAccessKey))
	wantStatus(t, p, http.StatusTooManyRequests)
	if s, err := strconv.Atoi(p.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After %q, want whole seconds", p.Header.Get("Retry-After"))
	}
	if !strings.Contains(p.Body, "Too many failed sign-ins") {
		t.Errorf("no explanation on the page:\n%s", p.Body)
	}
	wantRedirect(t, b.get("/console/identities"), "/console/signin") // the throttled attempt did not sign in
	// Another key is not held back by this one's failures.
	z := srv.NewAccount("zulu")
	other := newBrowser(t, srv)
	other.signIn(z)

	time.Sleep(console.SignInBackoff + 100*time.Millisecond)
	p = attempt(a.AccessKeyId, string(a.SecretAccessKey))
	wantRedirect(t, p, "/console/identities")

	// One address trying many key IDs: the failures above count, the
	// sign-ins do not.
	c := newBrowser(t, srv)
	for i := 0; ; i++ {
		keyID := "AKIA" + strings.Repeat(string(rune('A'+i%26)), 16)
		p := c.post("/console/signin", c.form("/console/signin", "access_key_id", keyID, "secret_access_key", "wrong"))
		if p.StatusCode == http.StatusTooManyRequests {
			if want := console.SignInFreeFailuresPerAddress - console.SignInFreeFailures; i != want {
				t.Errorf("throttled after %d more failures, want %d", i, want)
			}
			break
		}
		wantStatus(t, p, http.StatusUnauthorized)
		if i > console.SignInFreeFailuresPerAddress+2 {
			t.Fatalf("%d failed sign-ins from one address, none held back", i)
		}
	}
}

// TestSignInOwnerNotLockedOut: failing a key ID from one address holds
// back that key ID from that address; its owner, signing in from another,
// is not locked out, and the attacker still is.
func TestSignInOwnerNotLockedOut(t *testing.T) {
	srv := sestest.New(t)
	a := srv.NewAccount("alpha")
	attacker := newBrowser(t, srv) // 127.0.0.1
	for i := 0; i < console.SignInFreeFailures; i++ {
		wantStatus(t, attacker.post("/console/signin", attacker.form("/console/signin", "access_key_id", a.AccessKeyId, "secret_access_key", "wrong")), http.StatusUnauthorized)
	}
	wantStatus(t, attacker.post("/console/signin", attacker.form("/console/signin", "access_key_id", a.AccessKeyId, "secret_access_key", "wrong")), http.StatusTooManyRequests)

	owner := newBrowserFrom(t, srv, "127.0.0.2")
	owner.signIn(a)
	wantStatus(t, owner.get("/console/identities"), http.StatusOK)
	// The owner's success clears nothing of the attacker's.
	wantStatus(t, attacker.post("/console/signin", attacker.form("/console/signin", "access_key_id", a.AccessKeyId, "secret_access_key", string(a.SecretAccessKey))), http.StatusTooManyRequests)
}
