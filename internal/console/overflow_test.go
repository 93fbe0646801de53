package console

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sesame/sesame/internal/account"
	"github.com/sesame/sesame/internal/auth/throttle"
	"github.com/sesame/sesame/internal/registry"
	"github.com/sesame/sesame/internal/store/sqlite"
)

// TestSignInOverflow: when the throttle's table is full of entries holding
// attempts back (a flood from many addresses), a newcomer shares the
// overflow entry: a right secret still signs in, a wrong one is refused
// with 429 once the overflow has had its free failures.
func TestSignInOverflow(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sealer, err := account.LoadSealer(filepath.Join(dir, account.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	accounts := &account.Manager{Store: st, Sealer: sealer}
	creds, err := accounts.Create(ctx, "owner")
	if err != nil {
		t.Fatal(err)
	}
	// The console's clock stands still, so the entries that fill the
	// table hold attempts back for the whole test, however slow the
	// machine.
	now := time.Now()
	c := &Console{Registry: &registry.Registry{}, Accounts: accounts, Key: bytes.Repeat([]byte{7}, 32), Log: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return now }}
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(srv.Close)

	// The table full of other addresses' entries, each holding back.
	c.throttle.Max = 64
	for i := range c.throttle.Max {
		for range SignInFreeFailuresPerAddress {
			c.throttle.Begin(now, throttle.Addr(fmt.Sprintf("198.51.100.%d:4000", i)))
		}
	}

	signIn := func(secret string) *http.Response {
		jar, _ := cookiejar.New(nil)
		hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := hc.Get(srv.URL + "/console/signin")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(body)
		if m == nil {
			t.Fatalf("no CSRF token:\n%s", body)
		}
		form := url.Values{"csrf": {string(m[1])}, "access_key_id": {creds.AccessKeyId}, "secret_access_key": {secret}}
		resp, err = hc.Post(srv.URL+"/console/signin", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	for i := 0; i < SignInFreeFailuresPerAddress; i++ {
		if resp := signIn("wrong"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong secret %d on the overflow: status %d, want 401 within its free failures", i+1, resp.StatusCode)
		}
	}
	resp := signIn("wrong")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("wrong secret past the overflow's free failures: status %d, Retry-After %q; want 429 with it", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp := signIn(string(creds.SecretAccessKey)); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/identities" {
		t.Errorf("right secret on the held overflow: status %d to %q, want 303 to /console/identities", resp.StatusCode, resp.Header.Get("Location"))
	}
	if n := c.throttle.Len(); n > c.throttle.Max {
		t.Errorf("%d entries, want at most %d", n, c.throttle.Max)
	}
}
