package server_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/http/httptest"
	netmail "net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/smithy-go"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/mail"
	"github.com/sesame/sesame/internal/server"
	"github.com/sesame/sesame/internal/sestest"
	"github.com/sesame/sesame/internal/smtptest"
	"github.com/sesame/sesame/internal/store"
)

// The verification mail end to end: aws-sdk-go-v2 clients against a whole
// Sesame on loopback (httptest), links opened over HTTP as a browser
// would, and, for the relay, go-smtp's server on loopback.

const region = "us-east-1"

type env struct {
	srv  *server.Server
	url  string
	acct string
	v1   *ses.Client
	v2   *sesv2.Client
	// web opens links without following redirects.
	web   *http.Client
	creds aws.CredentialsProvider
	close func()
}

// start runs Sesame with o, and makes an account; Data defaults to a
// temporary directory, the public URL is the listener's.
func start(t *testing.T, o server.Options) *env {
	return restart(t, o, nil)
}

// restart runs Sesame with o, using the account of an earlier env on the
// same data directory when one is given.
func restart(t *testing.T, o server.Options, earlier *env) *env {
	t.Helper()
	hs := httptest.NewUnstartedServer(nil)
	if o.Data == "" {
		o.Data = t.TempDir()
	}
	if o.Policies == (identity.Policies{}) {
		o.Policies = identity.SESPolicies()
	}
	o.DNS = config.SES()
	o.Log = slog.New(slog.DiscardHandler)
	o.PublicURL = "http://" + hs.Listener.Addr().String()
	s, err := server.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	hs.Config.Handler = s.Handler
	hs.Start()
	e := &env{srv: s, url: hs.URL, web: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	e.close = func() { hs.Close(); s.Close() }
	t.Cleanup(e.close)
	if earlier != nil {
		e.acct, e.creds = earlier.acct, earlier.creds
	} else {
		c, err := s.Accounts.Create(context.Background(), "tenant")
		if err != nil {
			t.Fatal(err)
		}
		e.acct, e.creds = c.AccountId, credentials.NewStaticCredentialsProvider(c.AccessKeyId, string(c.SecretAccessKey), "")
	}
	e.v1 = ses.New(ses.Options{Region: region, Credentials: e.creds, BaseEndpoint: aws.String(hs.URL), Retryer: sestest.ClosedConnRetryer()})
	e.v2 = sesv2.New(sesv2.Options{Region: region, Credentials: e.creds, BaseEndpoint: aws.String(hs.URL), Retryer: sestest.ClosedConnRetryer()})
	return e
}

func (e *env) verify(t *testing.T, addr string) {
	t.Helper()
	if _, err := e.v1.VerifyEmailIdentity(context.Background(), &ses.VerifyEmailIdentityInput{EmailAddress: aws.String(addr)}); err != nil {
		t.Fatalf("VerifyEmailIdentity %s: %v", addr, err)
	}
}

// outbox returns the newest message to addr.
func (e *env) outbox(t *testing.T, addr string) *store.Message {
	t.Helper()
	ms, err := e.srv.Store.ListMessages(context.Background(), store.MessageQuery{To: addr, Limit: 1})
	if err != nil || len(ms) == 0 {
		t.Fatalf("no message to %s in the outbox: %v", addr, err)
	}
	return ms[0]
}

// open opens a link as a browser would and returns the status, the
// redirection and the page.
func (e *env) open(t *testing.T, link string) (int, string, string) {
	t.Helper()
	resp, err := e.web.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

func (e *env) status(t *testing.T, addr string) (v1, v2 string) {
	t.Helper()
	ctx := context.Background()
	a, err := e.v1.GetIdentityVerificationAttributes(ctx, &ses.GetIdentityVerificationAttributesInput{Identities: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	g, err := e.v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(addr)})
	if err != nil {
		t.Fatal(err)
	}
	return string(a.VerificationAttributes[addr].VerificationStatus), string(g.VerificationStatus)
}

func wantStatus(t *testing.T, e *env, addr, v1, v2 string) {
	t.Helper()
	if g1, g2 := e.status(t, addr); g1 != v1 || g2 != v2 {
		t.Errorf("%s: v1 %s, v2 %s; want %s, %s", addr, g1, g2, v1, v2)
	}
}

// wantAPIError checks an SDK error's code and HTTP status and returns its
// message.
func wantAPIError(t *testing.T, err error, code string, status int) string {
	t.Helper()
	var ae smithy.APIError
	var re *awshttp.ResponseError
	if !errors.As(err, &ae) || !errors.As(err, &re) {
		t.Fatalf("error %v, want %s (%d)", err, code, status)
	}
	if ae.ErrorCode() != code || re.HTTPStatusCode() != status {
		t.Fatalf("error %s (HTTP %d), want %s (HTTP %d): %v", ae.ErrorCode(), re.HTTPStatusCode(), code, status, err)
	}
	return ae.ErrorMessage()
}

func TestEmailVerifiedByLink(t *testing.T) {
	e := start(t, server.Options{})
	ctx := context.Background()
	e.verify(t, "user@example.com")
	wantStatus(t, e, "user@example.com", "Pending", "PENDING")
	m := e.outbox(t, "user@example.com")
	if m.Status != store.Local || !strings.HasPrefix(m.Link, e.url+"/verify?token=") {
		t.Fatalf("outbox message %+v", m)
	}
	code, _, page := e.open(t, m.Link)
	if code != http.StatusOK || !strings.Contains(page, "Email address verified") {
		t.Fatalf("opening the link: %d\n%s", code, page)
	}
	wantStatus(t, e, "user@example.com", "Success", "SUCCESS")
	g, _ := e.v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("user@example.com")})
	if !g.VerifiedForSendingStatus {
		t.Error("VerifiedForSendingStatus false after the click")
	}
	l, _ := e.v1.ListVerifiedEmailAddresses(ctx, &ses.ListVerifiedEmailAddressesInput{})
	if len(l.VerifiedEmailAddresses) != 1 || l.VerifiedEmailAddresses[0] != "user@example.com" {
		t.Errorf("ListVerifiedEmailAddresses = %v", l.VerifiedEmailAddresses)
	}
	if code, _, page := e.open(t, m.Link); code != http.StatusGone || !strings.Contains(page, "already used") {
		t.Errorf("a used link: %d\n%s", code, page)
	}
	// A verified address gets no new mail.
	e.verify(t, "user@example.com")
	if again := e.outbox(t, "user@example.com"); again.ID != m.ID {
		t.Error("a verified address got another verification mail")
	}

	// v1 VerifyEmailAddress and v2 CreateEmailIdentity send one too.
	if _, err := e.v1.VerifyEmailAddress(ctx, &ses.VerifyEmailAddressInput{EmailAddress: aws.String("old@example.com")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("new@example.com")}); err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"old@example.com", "new@example.com"} {
		if code, _, _ := e.open(t, e.outbox(t, addr).Link); code != http.StatusOK {
			t.Errorf("%s: link %d", addr, code)
		}
		wantStatus(t, e, addr, "Success", "SUCCESS")
	}
	// A domain gets no mail.
	e.v1.VerifyDomainIdentity(ctx, &ses.VerifyDomainIdentityInput{Domain: aws.String("example.org")})
	if ms, _ := e.srv.Store.ListMessages(ctx, store.MessageQuery{Limit: 100}); len(ms) != 3 {
		t.Errorf("%d messages in the outbox, want 3", len(ms))
	}
}

func TestResendVoidsOlderLink(t *testing.T) {
	e := start(t, server.Options{})
	e.verify(t, "user@example.com")
	first := e.outbox(t, "user@example.com")
	e.verify(t, "user@example.com")
	second := e.outbox(t, "user@example.com")
	if first.ID == second.ID || first.Link == second.Link {
		t.Fatal("asking again sent no new link")
	}
	if code, _, page := e.open(t, first.Link); code != http.StatusGone || !strings.Contains(page, "newer verification email") {
		t.Errorf("the older link: %d\n%s", code, page)
	}
	wantStatus(t, e, "user@example.com", "Pending", "PENDING")
	if code, _, _ := e.open(t, second.Link); code != http.StatusOK {
		t.Errorf("the newest link: %d", code)
	}
	wantStatus(t, e, "user@example.com", "Success", "SUCCESS")
}

// TestLinkExpiry runs the 24-hour window on a fake clock.
func TestLinkExpiry(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	e := start(t, server.Options{Now: clock.Now})
	e.verify(t, "late@example.com")
	e.verify(t, "just@example.com")
	late, just := e.outbox(t, "late@example.com"), e.outbox(t, "just@example.com")

	clock.Advance(24*time.Hour - time.Second)
	wantStatus(t, e, "late@example.com", "Pending", "PENDING")
	if code, _, _ := e.open(t, just.Link); code != http.StatusOK {
		t.Errorf("a link opened a second before it expires: %d", code)
	}
	clock.Advance(time.Second)
	wantStatus(t, e, "late@example.com", "Failed", "FAILED")
	code, _, page := e.open(t, late.Link)
	if code != http.StatusGone || !strings.Contains(page, "expired") {
		t.Errorf("an expired link: %d\n%s", code, page)
	}
	wantStatus(t, e, "late@example.com", "Failed", "FAILED")
	wantStatus(t, e, "just@example.com", "Success", "SUCCESS")

	// Asking again sends a fresh link with a new window.
	e.verify(t, "late@example.com")
	wantStatus(t, e, "late@example.com", "Pending", "PENDING")
	clock.Advance(23 * time.Hour)
	if code, _, _ := e.open(t, e.outbox(t, "late@example.com").Link); code != http.StatusOK {
		t.Errorf("the new link: %d", code)
	}
	wantStatus(t, e, "late@example.com", "Success", "SUCCESS")
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// linkIn finds the verification link in the text part of a message as
// received.
func linkIn(t *testing.T, raw []byte) string {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"Date", "Message-Id", "Mime-Version", "From", "To", "Subject"} {
		if m.Header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
	_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := multipart.NewReader(m.Body, params["boundary"]).NextRawPart()
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(quotedprintable.NewReader(p))
	link := regexp.MustCompile(`https?://\S+/verify\?token=\S+`).Find(text)
	if link == nil {
		t.Fatalf("no link in\n%s", text)
	}
	return string(link)
}

func TestRelayDelivers(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts smtptest.Options
	}{
		{name: "STARTTLS", opts: smtptest.Options{Username: "sesame", Password: "pw"}},
		{name: "smtps", opts: smtptest.Options{Implicit: true, Username: "sesame", Password: "pw"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			relay := smtptest.New(t, tt.opts)
			e := start(t, server.Options{SMTPURL: relay.URL, Mail: relayMail(relay)})
			e.verify(t, "user@example.com")
			got := relay.Next(t)
			if len(got.To) != 1 || got.To[0] != "user@example.com" || got.From != "no-reply@localhost" {
				t.Errorf("envelope %s -> %v", got.From, got.To)
			}
			link := linkIn(t, got.Data)
			if code, _, _ := e.open(t, link); code != http.StatusOK {
				t.Fatalf("link: %d", code)
			}
			wantStatus(t, e, "user@example.com", "Success", "SUCCESS")
			m := waitMessage(t, e, "user@example.com", store.Sent)
			if m.Attempts != 1 {
				t.Errorf("attempts %d", m.Attempts)
			}
			// With a relay, the outbox is not served over HTTP, not
			// even to a signed-in tenant.
			if code, _, page := e.open(t, e.url+"/outbox"); code != http.StatusSeeOther || strings.Contains(page, m.Link) {
				t.Errorf("/outbox with a relay: %d\n%s", code, page)
			}
		})
	}
}

// relayMail trusts the relay's certificate and retries at once.
func relayMail(relay *smtptest.Server) mail.Settings {
	return mail.Settings{CAFile: relay.CAFile, RetryMin: 10 * time.Millisecond, RetryMax: 20 * time.Millisecond}
}

// waitMessage waits for the newest message to addr to reach a status.
func waitMessage(t *testing.T, e *env, addr string, want store.MessageStatus) *store.Message {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ms, err := e.srv.Store.ListMessages(context.Background(), store.MessageQuery{To: addr, Limit: 1})
		if err == nil && len(ms) == 1 && ms[0].Status == want {
			return ms[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("message to %s: %v, %v; want status %s", addr, ms, err, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
