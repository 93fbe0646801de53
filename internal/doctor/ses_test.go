package doctor_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/google/go-cmp/cmp"

	"github.com/sesame/sesame/internal/account"
	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/doctor"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/server"
)

// startSesame runs a real Sesame on loopback and returns its URL and an
// account's credentials.
func startSesame(t *testing.T) (string, *account.Credentials) {
	t.Helper()
	ctx := context.Background()
	s, err := server.Open(ctx, server.Options{Data: t.TempDir(), DNS: config.SES(), Policies: identity.SESPolicies()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	hs := httptest.NewServer(s.Handler)
	t.Cleanup(hs.Close)
	creds, err := s.Accounts.Create(ctx, "tenant")
	if err != nil {
		t.Fatal(err)
	}
	return hs.URL, creds
}

func client(url string, c *account.Credentials) *ses.Client {
	return ses.New(ses.Options{
		Region:       "us-east-1",
		Credentials:  credentials.StaticCredentialsProvider{Value: aws.Credentials{AccessKeyID: c.AccessKeyId, SecretAccessKey: string(c.SecretAccessKey)}},
		BaseEndpoint: aws.String(url),
		Retryer:      aws.NopRetryer{},
	})
}

// recorder is an SES that notes how many identities each call asked for.
type recorder struct {
	doctor.SES
	mu    sync.Mutex
	calls []string
}

func (r *recorder) note(op string, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, fmt.Sprintf("%s %d", op, n))
}

func (r *recorder) GetIdentityVerificationAttributes(ctx context.Context, in *ses.GetIdentityVerificationAttributesInput, o ...func(*ses.Options)) (*ses.GetIdentityVerificationAttributesOutput, error) {
	r.note("verification", len(in.Identities))
	return r.SES.GetIdentityVerificationAttributes(ctx, in, o...)
}

func TestFetch(t *testing.T) {
	url, creds := startSesame(t)
	c := client(url, creds)
	ctx := context.Background()
	v, err := c.VerifyDomainIdentity(ctx, &ses.VerifyDomainIdentityInput{Domain: aws.String("example.test")})
	if err != nil {
		t.Fatal(err)
	}
	k, err := c.VerifyDomainDkim(ctx, &ses.VerifyDomainDkimInput{Domain: aws.String("example.test")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetIdentityMailFromDomain(ctx, &ses.SetIdentityMailFromDomainInput{Identity: aws.String("example.test"), MailFromDomain: aws.String("mail.example.test")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String("user@example.test")}); err != nil {
		t.Fatal(err)
	}

	rec := &recorder{SES: c}
	src := doctor.Source{Label: "t@us-east-1", Region: "us-east-1", API: rec}
	ids := []string{"example.test", "user@example.test", "missing.test"}
	for i := range 240 {
		ids = append(ids, fmt.Sprintf("d%d.test", i))
	}
	got, err := doctor.Fetch(ctx, src, ids)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"verification 100", "verification 100", "verification 43"}; !slices.Equal(rec.calls, want) {
		t.Errorf("calls %q, want %q: at most 100 identities a call", rec.calls, want)
	}
	want := map[string]doctor.Instance{
		"example.test": {Label: "t@us-east-1", Region: "us-east-1", Token: aws.ToString(v.VerificationToken), DKIMTokens: k.DkimTokens,
			MailFrom: "mail.example.test", FromSES: true,
			Status: &doctor.Status{Verification: "Pending", DKIM: "Pending", DKIMEnabled: true, MailFrom: "Pending"}},
		// SES reports an address's own DKIM (none); the doctor checks its
		// domain's, which sign its mail.
		"user@example.test": {Label: "t@us-east-1", Region: "us-east-1", DKIMTokens: k.DkimTokens, FromSES: true,
			Status: &doctor.Status{Verification: "Pending", DKIM: "Pending", DKIMEnabled: true}},
		"missing.test": {Label: "t@us-east-1", Region: "us-east-1", FromSES: true, Missing: true},
	}
	for id, w := range want {
		if diff := cmp.Diff(w, got[id]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", id, diff)
		}
	}
	if len(got) != len(ids) {
		t.Errorf("%d instances, want one per identity (%d)", len(got), len(ids))
	}
}

func TestFetchError(t *testing.T) {
	url, creds := startSesame(t)
	creds.SecretAccessKey = "wrong"
	_, err := doctor.Fetch(context.Background(), doctor.Source{Label: "t", API: client(url, creds)}, []string{"example.test"})
	if err == nil {
		t.Fatal("Fetch with a wrong secret key succeeded")
	}
}

func TestNewSource(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config")
	os.WriteFile(cfg, []byte("[profile eu]\nregion = eu-west-1\n[profile none]\n"), 0o600)
	for k, v := range map[string]string{"AWS_CONFIG_FILE": cfg, "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_REGION": "", "AWS_DEFAULT_REGION": "", "AWS_PROFILE": ""} {
		t.Setenv(k, v)
	}
	tests := []struct {
		spec      doctor.SourceSpec
		label     string
		region    string
		wantError bool
	}{
		{spec: doctor.SourceSpec{Profile: "eu"}, label: "eu@eu-west-1", region: "eu-west-1"},
		{spec: doctor.SourceSpec{Profile: "eu", Region: "us-east-2"}, label: "eu@us-east-2", region: "us-east-2"},
		{spec: doctor.SourceSpec{Endpoint: "http://127.0.0.1:1", Region: "us-east-1"}, label: "http://127.0.0.1:1@us-east-1", region: "us-east-1"},
		{spec: doctor.SourceSpec{Label: "x", Profile: "eu"}, label: "x", region: "eu-west-1"},
		{spec: doctor.SourceSpec{Profile: "none"}, wantError: true},
		{spec: doctor.SourceSpec{Profile: "nosuch"}, wantError: true},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%+v", tc.spec), func(t *testing.T) {
			src, err := doctor.NewSource(context.Background(), tc.spec)
			if tc.wantError {
				if err == nil {
					t.Errorf("got %+v, want an error", src)
				}
				return
			}
			if err != nil || src.Label != tc.label || src.Region != tc.region {
				t.Errorf("got %q %q %v, want %q %q", src.Label, src.Region, err, tc.label, tc.region)
			}
		})
	}
}
