package sestest_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/sesame/sesame/internal/sestest"
)

func TestServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := sestest.NewClock(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	srv := sestest.New(t, sestest.Options{Now: clock.Now})
	a := srv.NewAccount("tenant-a")
	if len(a.AccountId) != 12 || a.AccessKeyId == "" || a.SecretAccessKey == "" {
		t.Fatalf("credentials %+v", a.Credentials)
	}

	if _, err := a.V1("").VerifyDomainIdentity(ctx, &ses.VerifyDomainIdentityInput{Domain: aws.String("example.com")}); err != nil {
		t.Fatalf("v1 VerifyDomainIdentity: %v", err)
	}
	got, err := a.V2("").GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("example.com")})
	if err != nil {
		t.Fatalf("v2 GetEmailIdentity: %v", err)
	}
	if got.VerificationStatus != "PENDING" {
		t.Errorf("VerificationStatus = %q, want PENDING", got.VerificationStatus)
	}
	// The injected clock drives the registry: 72 hours later the TXT check
	// has failed.
	clock.Advance(72 * time.Hour)
	got, err = a.V2("").GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("example.com")})
	if err != nil {
		t.Fatalf("v2 GetEmailIdentity: %v", err)
	}
	if got.VerificationStatus != "FAILED" {
		t.Errorf("VerificationStatus after 72h = %q, want FAILED", got.VerificationStatus)
	}

	// The default region is us-east-1: another region sees nothing.
	l, err := a.V1("eu-west-1").ListIdentities(ctx, &ses.ListIdentitiesInput{})
	if err != nil || len(l.Identities) != 0 {
		t.Errorf("eu-west-1 ListIdentities = %v, %v; want nothing", l.Identities, err)
	}

	r := srv.NewRequest("GET", "/healthz", nil)
	resp, body := srv.Do(r)
	if resp.StatusCode != http.StatusOK || string(body) != "ok\n" {
		t.Errorf("/healthz = %d %q", resp.StatusCode, body)
	}

	srv.Close()
	srv.Close() // twice is fine
	if _, err := http.Get(srv.URL + "/healthz"); err == nil {
		t.Error("server still answers after Close")
	}
}

func TestSign(t *testing.T) {
	t.Parallel()
	srv := sestest.New(t)
	a := srv.NewAccount("signer")
	body := []byte("Action=ListIdentities&Version=2010-12-01")
	r := srv.NewRequest("POST", "/", body)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if err := sestest.Sign(r, body, a.AWS(), "ses", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, got := srv.Do(r)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, got)
	}
}

func TestClock(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := sestest.NewClock(t0)
	c.Advance(time.Hour)
	if got := c.Now(); !got.Equal(t0.Add(time.Hour)) {
		t.Errorf("Now = %v", got)
	}
	c.Set(t0)
	if got := c.Now(); !got.Equal(t0) {
		t.Errorf("Now = %v", got)
	}
}

func TestServerErrorsRecorded(t *testing.T) {
	t.Parallel()
	srv := sestest.New(t, sestest.Options{Allow5xx: true})
	// With the store closed, /healthz must fail, with a 5xx the recorder
	// notes.
	if err := srv.Sesame.Store.Close(); err != nil {
		t.Fatal(err)
	}
	resp, _ := srv.Do(srv.NewRequest("GET", "/healthz", nil))
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("/healthz with a closed store: %d, want 503", resp.StatusCode)
	}
	if got := srv.ServerErrors(); len(got) != 1 || got[0] != "GET /healthz: 503 " {
		t.Errorf("ServerErrors() = %q", got)
	}
}
