package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/sesame/sesame/internal/knottest"
	"github.com/sesame/sesame/internal/server"
	"github.com/sesame/sesame/internal/sestest"
)

const knotZone = `$ORIGIN example.test.
$TTL 60
@    SOA ns1 hostmaster 1 3600 600 86400 30
@    NS  ns1
ns1  A   127.0.0.1
`

// waitStatus polls the API (as a user of the aws CLI would) until the
// identity's v2 status is want, or the deadline passes.
func waitStatus(t *testing.T, c *sesv2.Client, name, want string, within time.Duration) *sesv2.GetEmailIdentityOutput {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		out, err := c.GetEmailIdentity(context.Background(), &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		if string(out.VerificationStatus) == want {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still %s after %v, want %s (info %+v)", name, out.VerificationStatus, within, want, out.VerificationInfo)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestKnotEndToEnd: a domain registered through the SES API goes from
// Pending to Success within 10 seconds of its records being published into
// a real Knot DNS server with RFC 2136 updates, and back when removed.
func TestKnotEndToEnd(t *testing.T) {
	t.Parallel()
	knot := knottest.Start(t, "127.0.0.1", "example.test", knotZone)
	srv := sestest.New(t, sestest.Options{Verify: server.VerifyOptions{
		Run: true, Resolver: knot.Addr, AuthPort: knot.Port, RateLimit: 1000, Recheck: time.Second,
		Timeout: 500 * time.Millisecond, Budget: 3 * time.Second,
	}})
	a := srv.NewAccount("ops")
	v1, v2 := a.V1("us-east-1"), a.V2("us-east-1")
	ctx := context.Background()

	vt, err := v1.VerifyDomainIdentity(ctx, &ses.VerifyDomainIdentityInput{Domain: aws.String("example.test")})
	if err != nil {
		t.Fatal(err)
	}
	dk, err := v1.VerifyDomainDkim(ctx, &ses.VerifyDomainDkimInput{Domain: aws.String("example.test")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v1.SetIdentityMailFromDomain(ctx, &ses.SetIdentityMailFromDomainInput{Identity: aws.String("example.test"), MailFromDomain: aws.String("mail.example.test")}); err != nil {
		t.Fatal(err)
	}
	// Nothing is published yet: the first check finds nothing and says so.
	out := waitStatus(t, v2, "example.test", "PENDING", 5*time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for out.VerificationInfo == nil || out.VerificationInfo.LastCheckedTimestamp == nil {
		if time.Now().After(deadline) {
			t.Fatal("no check within 5 s of creation")
		}
		time.Sleep(50 * time.Millisecond)
		out = waitStatus(t, v2, "example.test", "PENDING", time.Second)
	}

	// Publish a value the provider lowercased: it stays Pending, with the reason.
	knot.Update(fmt.Sprintf(`add _amazonses.example.test. 60 TXT "%s"`, strings.ToLower(*vt.VerificationToken)))
	rep := checkNow(t, srv, a, "example.test")
	if c := rep["verification"]; c.status != "Pending" || c.errorType != "INVALID_VALUE" || !strings.Contains(strings.ToLower(c.detail), "case") {
		t.Fatalf("lowercased token: %+v", c)
	}
	if st, _ := v1Attrs(t, v1, "example.test"); st != "Pending" {
		t.Errorf("lowercased token: v1 status %s", st)
	}
	if out := getV2(t, v2, "example.test"); out.VerificationStatus != "PENDING" {
		t.Errorf("lowercased token: v2 status %s", out.VerificationStatus)
	}
	lowered := false
	for _, r := range report(t, srv, a, "us-east-1", "example.test").Timeline {
		lowered = lowered || r.Check == "verification" && r.Outcome == "mismatch" && strings.Contains(r.Detail, "only in case")
	}
	if !lowered {
		t.Error("no timeline record says the served value differs only in case")
	}

	published := time.Now()
	lines := []string{`delete _amazonses.example.test. TXT`, fmt.Sprintf(`add _amazonses.example.test. 60 TXT "%s"`, *vt.VerificationToken)}
	for _, tok := range dk.DkimTokens {
		lines = append(lines, fmt.Sprintf(`add %s._domainkey.example.test. 60 CNAME %s.dkim.amazonses.com.`, tok, tok))
	}
	lines = append(lines, `add mail.example.test. 60 MX 10 feedback-smtp.us-east-1.amazonses.com.`, `add mail.example.test. 60 TXT "v=spf1 include:amazonses.com ~all"`)
	knot.Update(lines...)
	out = waitStatus(t, v2, "example.test", "SUCCESS", 10*time.Second)
	t.Logf("verified %v after publication", time.Since(published).Round(time.Millisecond))
	if out.DkimAttributes.Status != "SUCCESS" {
		t.Errorf("DKIM status %s", out.DkimAttributes.Status)
	}
	if out.VerificationInfo.SOARecord == nil || aws.ToString(out.VerificationInfo.SOARecord.PrimaryNameServer) == "" {
		t.Errorf("no SOA in VerificationInfo: %+v", out.VerificationInfo)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		mf, err := v1.GetIdentityMailFromDomainAttributes(ctx, &ses.GetIdentityMailFromDomainAttributesInput{Identities: []string{"example.test"}})
		if err != nil {
			t.Fatal(err)
		}
		if mf.MailFromDomainAttributes["example.test"].MailFromDomainStatus == "Success" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("MAIL FROM still %s", mf.MailFromDomainAttributes["example.test"].MailFromDomainStatus)
		}
		time.Sleep(100 * time.Millisecond)
	}
	attrs, _ := v1.GetIdentityVerificationAttributes(ctx, &ses.GetIdentityVerificationAttributesInput{Identities: []string{"example.test"}})
	if s := attrs.VerificationAttributes["example.test"].VerificationStatus; s != "Success" {
		t.Errorf("v1 status %s", s)
	}

	// The MX removed: MAIL FROM fails at once on the next re-check.
	knot.Update(`delete mail.example.test. MX`)
	deadline = time.Now().Add(10 * time.Second)
	for {
		mf, _ := v1.GetIdentityMailFromDomainAttributes(ctx, &ses.GetIdentityMailFromDomainAttributesInput{Identities: []string{"example.test"}})
		if mf.MailFromDomainAttributes["example.test"].MailFromDomainStatus == "Failed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("MAIL FROM not Failed 10 s after its MX was removed")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type checkState struct{ status, errorType, detail string }

// checkNow calls the Sesame extension POST .../sesame/checks.
func checkNow(t *testing.T, srv *sestest.Server, a *sestest.Account, name string) map[string]checkState {
	t.Helper()
	req := srv.NewRequest("POST", "/v2/email/identities/"+name+"/sesame/checks", nil)
	if err := sestest.Sign(req, nil, a.AWS(), "ses", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, body := srv.Do(req)
	if resp.StatusCode != 200 {
		t.Fatalf("check now: %d %s", resp.StatusCode, body)
	}
	var rep struct {
		Checks map[string]struct{ Status, ErrorType, Detail string }
	}
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatal(err)
	}
	out := map[string]checkState{}
	for k, v := range rep.Checks {
		out[k] = checkState{v.Status, v.ErrorType, v.Detail}
	}
	return out
}
