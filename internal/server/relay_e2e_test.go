package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/sesame/sesame/internal/mail"
	"github.com/sesame/sesame/internal/server"
	"github.com/sesame/sesame/internal/smtptest"
	"github.com/sesame/sesame/internal/store"
)

func TestRelayTemporaryFailureThenSuccess(t *testing.T) {
	relay := smtptest.New(t, smtptest.Options{Reply: func(n int, _ smtptest.Message) error {
		if n == 1 {
			return smtptest.Temporary
		}
		return nil
	}})
	e := start(t, server.Options{SMTPURL: relay.URL, Mail: relayMail(relay)})
	e.verify(t, "user@example.com")
	got := relay.Next(t)
	m := waitMessage(t, e, "user@example.com", store.Sent)
	if m.Attempts != 2 || m.LastError != "" || relay.Attempts() != 2 {
		t.Errorf("after a 451 and a 250: %+v; the relay saw %d offers", m, relay.Attempts())
	}
	wantStatus(t, e, "user@example.com", "Pending", "PENDING")
	if code, _, _ := e.open(t, linkIn(t, got.Data)); code != http.StatusOK {
		t.Errorf("link: %d", code)
	}
	wantStatus(t, e, "user@example.com", "Success", "SUCCESS")
}

func TestRelayPermanentFailure(t *testing.T) {
	relay := smtptest.New(t, smtptest.Options{Reply: func(int, smtptest.Message) error { return smtptest.Permanent }})
	e := start(t, server.Options{SMTPURL: relay.URL, Mail: relayMail(relay)})
	e.verify(t, "nobody@example.com")
	m := waitMessage(t, e, "nobody@example.com", store.Failed)
	if !strings.Contains(m.LastError, "550") || m.Attempts != 1 {
		t.Errorf("outbox: %+v", m)
	}
	// The API shows the failure: the address must be verified again.
	deadline := time.Now().Add(10 * time.Second)
	for v1, _ := e.status(t, "nobody@example.com"); v1 != "Failed"; v1, _ = e.status(t, "nobody@example.com") {
		if time.Now().After(deadline) {
			t.Fatalf("status %s after a permanent failure, want Failed", v1)
		}
		time.Sleep(5 * time.Millisecond)
	}
	wantStatus(t, e, "nobody@example.com", "Failed", "FAILED")
	g, _ := e.v2.GetEmailIdentity(context.Background(), &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("nobody@example.com")})
	if g.VerificationInfo == nil || g.VerificationInfo.LastCheckedTimestamp == nil {
		t.Errorf("VerificationInfo %+v: want the time of the failure", g.VerificationInfo)
	}
	// Asking again tries again.
	e.verify(t, "nobody@example.com")
	wantStatus(t, e, "nobody@example.com", "Pending", "PENDING")
	waitMessage(t, e, "nobody@example.com", store.Failed)
	if relay.Attempts() != 2 {
		t.Errorf("%d offers, want 2", relay.Attempts())
	}
}

// TestOutboxSurvivesRestart: a message stored while the relay is down is
// delivered after a restart, and a local message and its link outlive one.
func TestOutboxSurvivesRestart(t *testing.T) {
	t.Run("queued", func(t *testing.T) {
		dir := t.TempDir()
		down := mail.Settings{RetryMin: 10 * time.Millisecond, RetryMax: 20 * time.Millisecond}
		e := start(t, server.Options{Data: dir, SMTPURL: "smtp://127.0.0.1:1", Mail: down})
		e.verify(t, "user@example.com")
		m := e.outbox(t, "user@example.com")
		if m.Status != store.Queued {
			t.Fatalf("stored before the call returned: %+v", m)
		}
		e.close()

		relay := smtptest.New(t)
		e = restart(t, server.Options{Data: dir, SMTPURL: relay.URL, Mail: relayMail(relay)}, e)
		got := relay.Next(t)
		if sent := waitMessage(t, e, "user@example.com", store.Sent); sent.ID != m.ID {
			t.Errorf("after the restart, %s was sent instead of %s", sent.ID, m.ID)
		}
		if code, _, _ := e.open(t, e.moved(linkIn(t, got.Data))); code != http.StatusOK {
			t.Errorf("link: %d", code)
		}
	})
	t.Run("local", func(t *testing.T) {
		dir := t.TempDir()
		e := start(t, server.Options{Data: dir})
		e.verify(t, "user@example.com")
		m := e.outbox(t, "user@example.com")
		e.close()
		e = restart(t, server.Options{Data: dir}, e)
		if again := e.outbox(t, "user@example.com"); again.ID != m.ID || string(again.Raw) != string(m.Raw) {
			t.Errorf("after the restart: %+v", again)
		}
		// The token was signed with the key kept in the data directory.
		if code, _, _ := e.open(t, e.moved(m.Link)); code != http.StatusOK {
			t.Errorf("link after the restart: %d", code)
		}
	})
}

// TestOutboxPage: /outbox shows nothing to whoever reaches the server; it
// sends the visitor to the console's outbox, which asks for a sign-in.
func TestOutboxPage(t *testing.T) {
	e := start(t, server.Options{})
	e.verify(t, "user@example.com")
	m := e.outbox(t, "user@example.com")
	for _, path := range []string{"/outbox", "/console/outbox"} {
		code, loc, page := e.open(t, e.url+path)
		if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/") || strings.Contains(page, "user@example.com") || strings.Contains(page, m.Link) {
			t.Errorf("%s without a session: %d to %q\n%s", path, code, loc, page)
		}
	}
}

func TestVerificationLimits(t *testing.T) {
	limits := mail.Limits{PerRecipient: 2, RecipientWindow: time.Hour, PerAccount: 4, AccountWindow: 24 * time.Hour}
	e := start(t, server.Options{Mail: mail.Settings{Limits: &limits}})
	ctx := context.Background()
	e.verify(t, "user@example.com")
	e.verify(t, "user@example.com")
	_, err := e.v1.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String("user@example.com")})
	if msg := wantAPIError(t, err, "Throttling", http.StatusBadRequest); !strings.HasPrefix(msg, "Maximum sending rate exceeded.") {
		t.Errorf("message %q", msg)
	}
	_, err = e.v2.SendCustomVerificationEmail(ctx, &sesv2.SendCustomVerificationEmailInput{EmailAddress: aws.String("user@example.com"), TemplateName: aws.String("none")})
	wantAPIError(t, err, "NotFoundException", http.StatusNotFound) // the template is looked at first

	e.verify(t, "second@example.com")
	_, err = e.v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("third@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	// The account's fifth mail of the day.
	_, err = e.v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("fourth@example.com")})
	if msg := wantAPIError(t, err, "LimitExceededException", http.StatusBadRequest); !strings.HasPrefix(msg, "Daily message quota exceeded.") {
		t.Errorf("message %q", msg)
	}
	// A refused create leaves nothing behind, so it can be retried.
	_, err = e.v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("fourth@example.com")})
	wantAPIError(t, err, "NotFoundException", http.StatusNotFound)
	_, err = e.v1.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String("fourth@example.com")})
	if msg := wantAPIError(t, err, "Throttling", http.StatusBadRequest); !strings.HasPrefix(msg, "Daily message quota exceeded.") {
		t.Errorf("message %q", msg)
	}
	// Domains send no mail and are not limited.
	if _, err := e.v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("example.com")}); err != nil {
		t.Errorf("a domain: %v", err)
	}
}

func TestVerificationLimitsV2Rate(t *testing.T) {
	limits := mail.Limits{PerRecipient: 1, RecipientWindow: time.Hour}
	e := start(t, server.Options{Mail: mail.Settings{Limits: &limits}})
	ctx := context.Background()
	e.verify(t, "sender@example.com")
	e.open(t, e.outbox(t, "sender@example.com").Link)
	createTemplateV2(t, e, "welcome")
	send := func() error {
		_, err := e.v2.SendCustomVerificationEmail(ctx, &sesv2.SendCustomVerificationEmailInput{EmailAddress: aws.String("user@example.com"), TemplateName: aws.String("welcome")})
		return err
	}
	if err := send(); err != nil {
		t.Fatal(err)
	}
	if msg := wantAPIError(t, send(), "TooManyRequestsException", http.StatusTooManyRequests); !strings.HasPrefix(msg, "Maximum sending rate exceeded.") {
		t.Errorf("message %q", msg)
	}
}

// moved points a link made by an earlier listener at this one.
func (e *env) moved(link string) string {
	return e.url + link[strings.Index(link, "/verify"):]
}

// TestAWSCLIThroughRelay is the whole path with the aws CLI and a real
// SMTP server: verify-email-identity, the message arrives at the relay,
// its link is opened, and get-identity-verification-attributes says
// Success.
func TestAWSCLIThroughRelay(t *testing.T) {
	awsCLI, err := exec.LookPath("aws")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the aws CLI is missing: the test set-up must install it")
		}
		t.Skip("the aws CLI is missing; CI fails here instead")
	}
	relay := smtptest.New(t, smtptest.Options{Username: "sesame", Password: "pw"})
	e := start(t, server.Options{SMTPURL: relay.URL, Mail: relayMail(relay)})
	creds, err := e.creds.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(awsCLI, append([]string{"--endpoint-url", e.url, "--output", "json"}, args...)...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+creds.SecretAccessKey,
			"AWS_DEFAULT_REGION="+region, "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	status := func() string {
		var out struct {
			VerificationAttributes map[string]struct{ VerificationStatus string }
		}
		if err := json.Unmarshal([]byte(cli("ses", "get-identity-verification-attributes", "--identities", "cli@example.com")), &out); err != nil {
			t.Fatal(err)
		}
		return out.VerificationAttributes["cli@example.com"].VerificationStatus
	}

	cli("ses", "verify-email-identity", "--email-address", "cli@example.com")
	got := relay.Next(t)
	if len(got.To) != 1 || got.To[0] != "cli@example.com" {
		t.Fatalf("the relay got a message to %v", got.To)
	}
	if s := status(); s != "Pending" {
		t.Errorf("before the click: %s", s)
	}
	if code, _, page := e.open(t, linkIn(t, got.Data)); code != http.StatusOK || !strings.Contains(page, "Email address verified") {
		t.Fatalf("opening the link: %d\n%s", code, page)
	}
	if s := status(); s != "Success" {
		t.Errorf("after the click: %s, want Success", s)
	}
}
