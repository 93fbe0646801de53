package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/google/go-cmp/cmp"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/registry"
	"github.com/sesame/sesame/internal/server"
	"github.com/sesame/sesame/internal/sestest"
)

const (
	okURL   = "https://app.example.com/verified"
	failURL = "https://app.example.com/failed"
	content = `<html><body style="font-family:sans-serif"><h1>Welcome to ProductName</h1><p>One last step.</p></body></html>`
)

// verified makes addr a verified sender through its link.
func verified(t *testing.T, e *env, addr string) {
	t.Helper()
	e.verify(t, addr)
	if code, _, _ := e.open(t, e.outbox(t, addr).Link); code != http.StatusOK {
		t.Fatalf("verifying %s: %d", addr, code)
	}
}

func v1Template(name string) *ses.CreateCustomVerificationEmailTemplateInput {
	return &ses.CreateCustomVerificationEmailTemplateInput{
		TemplateName: aws.String(name), FromEmailAddress: aws.String("sender@example.com"),
		TemplateSubject: aws.String("Please confirm"), TemplateContent: aws.String(content),
		SuccessRedirectionURL: aws.String(okURL), FailureRedirectionURL: aws.String(failURL),
	}
}

func createTemplateV2(t *testing.T, e *env, name string) {
	t.Helper()
	if _, err := e.v2.CreateCustomVerificationEmailTemplate(context.Background(), v2Template(name)); err != nil {
		t.Fatal(err)
	}
}

func v2Template(name string) *sesv2.CreateCustomVerificationEmailTemplateInput {
	return &sesv2.CreateCustomVerificationEmailTemplateInput{
		TemplateName: aws.String(name), FromEmailAddress: aws.String("sender@example.com"),
		TemplateSubject: aws.String("Please confirm"), TemplateContent: aws.String(content),
		SuccessRedirectionURL: aws.String(okURL), FailureRedirectionURL: aws.String(failURL),
		Tags: []v2types.Tag{{Key: aws.String("team"), Value: aws.String("growth")}},
	}
}

func TestTemplatesV1(t *testing.T) {
	e := start(t, server.Options{})
	ctx := context.Background()
	c := e.v1
	with := func(f func(in *ses.CreateCustomVerificationEmailTemplateInput)) *ses.CreateCustomVerificationEmailTemplateInput {
		in := v1Template("welcome")
		f(in)
		return in
	}

	_, err := c.CreateCustomVerificationEmailTemplate(ctx, v1Template("welcome"))
	if msg := wantAPIError(t, err, "FromEmailAddressNotVerified", http.StatusBadRequest); !strings.Contains(msg, "sender@example.com") {
		t.Errorf("message %q", msg)
	}
	verified(t, e, "sender@example.com")
	if _, err := c.CreateCustomVerificationEmailTemplate(ctx, v1Template("welcome")); err != nil {
		t.Fatal(err)
	}
	errs := []struct {
		name string
		in   *ses.CreateCustomVerificationEmailTemplateInput
		code string
	}{
		{"exists", v1Template("welcome"), "CustomVerificationEmailTemplateAlreadyExists"},
		{"a link in the content", with(func(in *ses.CreateCustomVerificationEmailTemplateInput) {
			in.TemplateName, in.TemplateContent = aws.String("x"), aws.String(`<a href="https://x.example">x</a>`)
		}), "CustomVerificationEmailInvalidContent"},
		{"a comment", with(func(in *ses.CreateCustomVerificationEmailTemplateInput) {
			in.TemplateName, in.TemplateContent = aws.String("x"), aws.String(`<p>x</p><!-- y -->`)
		}), "CustomVerificationEmailInvalidContent"},
		{"no subject", with(func(in *ses.CreateCustomVerificationEmailTemplateInput) {
			in.TemplateName, in.TemplateSubject = aws.String("x"), aws.String("")
		}), "ValidationError"},
		{"relative URL", with(func(in *ses.CreateCustomVerificationEmailTemplateInput) {
			in.TemplateName, in.SuccessRedirectionURL = aws.String("x"), aws.String("/ok")
		}), "InvalidParameterValue"},
		{"display name", with(func(in *ses.CreateCustomVerificationEmailTemplateInput) {
			in.TemplateName, in.FromEmailAddress = aws.String("x"), aws.String("Sender <sender@example.com>")
		}), "InvalidParameterValue"},
		{"bad name", with(func(in *ses.CreateCustomVerificationEmailTemplateInput) { in.TemplateName = aws.String("a b") }), "InvalidParameterValue"},
	}
	for _, tt := range errs {
		t.Run("Create/"+tt.name, func(t *testing.T) {
			_, err := c.CreateCustomVerificationEmailTemplate(ctx, tt.in)
			wantAPIError(t, err, tt.code, http.StatusBadRequest)
		})
	}

	g, err := c.GetCustomVerificationEmailTemplate(ctx, &ses.GetCustomVerificationEmailTemplateInput{TemplateName: aws.String("welcome")})
	if err != nil {
		t.Fatal(err)
	}
	want := [6]string{"welcome", "sender@example.com", "Please confirm", content, okURL, failURL}
	got := [6]string{aws.ToString(g.TemplateName), aws.ToString(g.FromEmailAddress), aws.ToString(g.TemplateSubject), aws.ToString(g.TemplateContent), aws.ToString(g.SuccessRedirectionURL), aws.ToString(g.FailureRedirectionURL)}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Get (-want +got):\n%s", d)
	}
	_, err = c.GetCustomVerificationEmailTemplate(ctx, &ses.GetCustomVerificationEmailTemplateInput{TemplateName: aws.String("nope")})
	wantAPIError(t, err, "CustomVerificationEmailTemplateDoesNotExist", http.StatusBadRequest)

	// Update needs only the name; what is left out is kept.
	if _, err := c.UpdateCustomVerificationEmailTemplate(ctx, &ses.UpdateCustomVerificationEmailTemplateInput{TemplateName: aws.String("welcome"), TemplateSubject: aws.String("Confirm, please")}); err != nil {
		t.Fatal(err)
	}
	g, _ = c.GetCustomVerificationEmailTemplate(ctx, &ses.GetCustomVerificationEmailTemplateInput{TemplateName: aws.String("welcome")})
	if aws.ToString(g.TemplateSubject) != "Confirm, please" || aws.ToString(g.TemplateContent) != content {
		t.Errorf("after Update: %q, %q", aws.ToString(g.TemplateSubject), aws.ToString(g.TemplateContent))
	}
	for _, u := range []struct {
		name string
		in   *ses.UpdateCustomVerificationEmailTemplateInput
		code string
	}{
		{"unknown", &ses.UpdateCustomVerificationEmailTemplateInput{TemplateName: aws.String("nope"), TemplateSubject: aws.String("x")}, "CustomVerificationEmailTemplateDoesNotExist"},
		{"unverified sender", &ses.UpdateCustomVerificationEmailTemplateInput{TemplateName: aws.String("welcome"), FromEmailAddress: aws.String("other@example.com")}, "FromEmailAddressNotVerified"},
		{"bad content", &ses.UpdateCustomVerificationEmailTemplateInput{TemplateName: aws.String("welcome"), TemplateContent: aws.String("<script>x</script>")}, "CustomVerificationEmailInvalidContent"},
	} {
		_, err := c.UpdateCustomVerificationEmailTemplate(ctx, u.in)
		t.Run("Update/"+u.name, func(t *testing.T) { wantAPIError(t, err, u.code, http.StatusBadRequest) })
	}

	// At most 50 templates.
	for i := 1; i < registry.MaxTemplates; i++ {
		if _, err := c.CreateCustomVerificationEmailTemplate(ctx, v1Template(fmt.Sprintf("t%02d", i))); err != nil {
			t.Fatalf("template %d: %v", i+1, err)
		}
	}
	_, err = c.CreateCustomVerificationEmailTemplate(ctx, v1Template("one-too-many"))
	wantAPIError(t, err, "LimitExceeded", http.StatusBadRequest)

	// List: pages in name order; MaxResults out of range means 50.
	var names []string
	var next *string
	for {
		l, err := c.ListCustomVerificationEmailTemplates(ctx, &ses.ListCustomVerificationEmailTemplatesInput{MaxResults: aws.Int32(20), NextToken: next})
		if err != nil {
			t.Fatal(err)
		}
		for _, tm := range l.CustomVerificationEmailTemplates {
			names = append(names, aws.ToString(tm.TemplateName))
		}
		if next = l.NextToken; next == nil {
			break
		}
	}
	if len(names) != 50 || names[0] != "t01" || names[49] != "welcome" {
		t.Errorf("listed %d: %v", len(names), names)
	}
	if l, err := c.ListCustomVerificationEmailTemplates(ctx, &ses.ListCustomVerificationEmailTemplatesInput{MaxResults: aws.Int32(500)}); err != nil || len(l.CustomVerificationEmailTemplates) != 50 {
		t.Errorf("MaxResults 500: %v", err)
	}

	// Delete: an unknown template is no error in v1.
	for _, n := range []string{"t01", "t01"} {
		if _, err := c.DeleteCustomVerificationEmailTemplate(ctx, &ses.DeleteCustomVerificationEmailTemplateInput{TemplateName: aws.String(n)}); err != nil {
			t.Errorf("Delete %s: %v", n, err)
		}
	}
	_, err = c.GetCustomVerificationEmailTemplate(ctx, &ses.GetCustomVerificationEmailTemplateInput{TemplateName: aws.String("t01")})
	wantAPIError(t, err, "CustomVerificationEmailTemplateDoesNotExist", http.StatusBadRequest)
}

func TestSendCustomVerificationEmailV1(t *testing.T) {
	e := start(t, server.Options{})
	ctx := context.Background()
	c := e.v1
	verified(t, e, "sender@example.com")
	if _, err := c.CreateCustomVerificationEmailTemplate(ctx, v1Template("welcome")); err != nil {
		t.Fatal(err)
	}
	send := func(addr, tmpl, cs string) (*ses.SendCustomVerificationEmailOutput, error) {
		in := &ses.SendCustomVerificationEmailInput{EmailAddress: aws.String(addr), TemplateName: aws.String(tmpl)}
		if cs != "" {
			in.ConfigurationSetName = aws.String(cs)
		}
		return c.SendCustomVerificationEmail(ctx, in)
	}
	_, err := send("user@example.com", "nope", "")
	wantAPIError(t, err, "CustomVerificationEmailTemplateDoesNotExist", http.StatusBadRequest)
	_, err = send("user@example.com", "welcome", "marketing")
	wantAPIError(t, err, "ConfigurationSetDoesNotExist", http.StatusBadRequest)
	_, err = send("no-at-sign", "welcome", "")
	wantAPIError(t, err, "InvalidParameterValue", http.StatusBadRequest)

	out, err := send("user@example.com", "welcome", "")
	if err != nil {
		t.Fatal(err)
	}
	m := e.outbox(t, "user@example.com")
	if aws.ToString(out.MessageId) != m.ID || m.From != "sender@example.com" || m.Subject != "Please confirm" || !strings.Contains(string(m.Raw), "Welcome to ProductName") {
		t.Errorf("MessageId %q; outbox %+v", aws.ToString(out.MessageId), m)
	}
	// The address is an identity at once, Pending, as the API reference says.
	wantStatus(t, e, "user@example.com", "Pending", "PENDING")
	code, to, _ := e.open(t, m.Link)
	if code != http.StatusSeeOther || to != okURL {
		t.Errorf("link: %d to %q, want 303 to %s", code, to, okURL)
	}
	wantStatus(t, e, "user@example.com", "Success", "SUCCESS")
	if code, to, _ := e.open(t, m.Link); code != http.StatusSeeOther || to != failURL {
		t.Errorf("reused link: %d to %q, want 303 to %s", code, to, failURL)
	}

	// Once the sender is no longer verified, nothing is sent.
	c.DeleteIdentity(ctx, &ses.DeleteIdentityInput{Identity: aws.String("sender@example.com")})
	_, err = send("other@example.com", "welcome", "")
	wantAPIError(t, err, "FromEmailAddressNotVerified", http.StatusBadRequest)

	// A domain covers its addresses as senders.
	e.v1.VerifyDomainIdentity(ctx, &ses.VerifyDomainIdentityInput{Domain: aws.String("example.com")})
	markVerified(t, e, "example.com")
	if _, err := send("other@example.com", "welcome", ""); err != nil {
		t.Errorf("a sender covered by its verified domain: %v", err)
	}
}

func TestMessageRejected(t *testing.T) {
	t.Parallel() // 10 MB through the API and the encoder: slow under -race
	e := start(t, server.Options{})
	ctx := context.Background()
	verified(t, e, "sender@example.com")
	// Under 10 MB of content, over 10 MB of message once encoded
	// (quoted-printable lines add 3 bytes every 76).
	big := strings.Repeat("a", 10_200_000)
	in := v1Template("big")
	in.TemplateContent = aws.String(big)
	if _, err := e.v1.CreateCustomVerificationEmailTemplate(ctx, in); err != nil {
		t.Fatal(err)
	}
	_, err := e.v1.SendCustomVerificationEmail(ctx, &ses.SendCustomVerificationEmailInput{EmailAddress: aws.String("user@example.com"), TemplateName: aws.String("big")})
	wantAPIError(t, err, "MessageRejected", http.StatusBadRequest)
	_, err = e.v2.SendCustomVerificationEmail(ctx, &sesv2.SendCustomVerificationEmailInput{EmailAddress: aws.String("user@example.com"), TemplateName: aws.String("big")})
	wantAPIError(t, err, "MessageRejected", http.StatusBadRequest)
}

// TestLargeTemplateV1: a template just under 10 MB of markup, which the v1
// form encoding makes three times as large, is taken.
func TestLargeTemplateV1(t *testing.T) {
	t.Parallel() // 10 MB through the API: slow under -race
	e := start(t, server.Options{})
	ctx := context.Background()
	verified(t, e, "sender@example.com")
	in := v1Template("large")
	in.TemplateContent = aws.String("<p>" + strings.Repeat("<b>a b</b>", 990_000) + "</p>")
	if _, err := e.v1.CreateCustomVerificationEmailTemplate(ctx, in); err != nil {
		t.Fatalf("a %d-byte template through v1: %v", len(*in.TemplateContent), err)
	}
}

func TestTemplatesV2(t *testing.T) {
	e := start(t, server.Options{})
	ctx := context.Background()
	c := e.v2
	_, err := c.CreateCustomVerificationEmailTemplate(ctx, v2Template("welcome"))
	wantAPIError(t, err, "BadRequestException", http.StatusBadRequest) // sender not verified
	verified(t, e, "sender@example.com")
	createTemplateV2(t, e, "welcome")
	_, err = c.CreateCustomVerificationEmailTemplate(ctx, v2Template("welcome"))
	wantAPIError(t, err, "AlreadyExistsException", http.StatusBadRequest)
	bad := v2Template("bad")
	bad.TemplateContent = aws.String("<a href='x'>x</a>")
	_, err = c.CreateCustomVerificationEmailTemplate(ctx, bad)
	wantAPIError(t, err, "BadRequestException", http.StatusBadRequest)

	g, err := c.GetCustomVerificationEmailTemplate(ctx, &sesv2.GetCustomVerificationEmailTemplateInput{TemplateName: aws.String("welcome")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(g.TemplateContent) != content || aws.ToString(g.FromEmailAddress) != "sender@example.com" || len(g.Tags) != 1 || aws.ToString(g.Tags[0].Value) != "growth" {
		t.Errorf("Get: %+v", g)
	}
	_, err = c.GetCustomVerificationEmailTemplate(ctx, &sesv2.GetCustomVerificationEmailTemplateInput{TemplateName: aws.String("nope")})
	wantAPIError(t, err, "NotFoundException", http.StatusNotFound)

	up := &sesv2.UpdateCustomVerificationEmailTemplateInput{TemplateName: aws.String("welcome"), FromEmailAddress: aws.String("sender@example.com"),
		TemplateSubject: aws.String("New subject"), TemplateContent: aws.String(content), SuccessRedirectionURL: aws.String(okURL), FailureRedirectionURL: aws.String(failURL)}
	if _, err := c.UpdateCustomVerificationEmailTemplate(ctx, up); err != nil {
		t.Fatal(err)
	}
	if g, _ := c.GetCustomVerificationEmailTemplate(ctx, &sesv2.GetCustomVerificationEmailTemplateInput{TemplateName: aws.String("welcome")}); aws.ToString(g.TemplateSubject) != "New subject" || len(g.Tags) != 1 {
		t.Errorf("after Update: %+v", g)
	}
	up.TemplateName = aws.String("nope")
	_, err = c.UpdateCustomVerificationEmailTemplate(ctx, up)
	wantAPIError(t, err, "NotFoundException", http.StatusNotFound)

	l, err := c.ListCustomVerificationEmailTemplates(ctx, &sesv2.ListCustomVerificationEmailTemplatesInput{PageSize: aws.Int32(1)})
	if err != nil || len(l.CustomVerificationEmailTemplates) != 1 || l.NextToken != nil {
		t.Errorf("List: %+v, %v", l, err)
	}
	_, err = c.ListCustomVerificationEmailTemplates(ctx, &sesv2.ListCustomVerificationEmailTemplatesInput{PageSize: aws.Int32(51)})
	wantAPIError(t, err, "BadRequestException", http.StatusBadRequest)

	out, err := c.SendCustomVerificationEmail(ctx, &sesv2.SendCustomVerificationEmailInput{EmailAddress: aws.String("user@example.com"), TemplateName: aws.String("welcome")})
	if err != nil || aws.ToString(out.MessageId) != e.outbox(t, "user@example.com").ID {
		t.Fatalf("Send: %v, %v", out, err)
	}
	_, err = c.SendCustomVerificationEmail(ctx, &sesv2.SendCustomVerificationEmailInput{EmailAddress: aws.String("user@example.com"), TemplateName: aws.String("nope")})
	wantAPIError(t, err, "NotFoundException", http.StatusNotFound)
	_, err = c.SendCustomVerificationEmail(ctx, &sesv2.SendCustomVerificationEmailInput{EmailAddress: aws.String("user@example.com"), TemplateName: aws.String("welcome"), ConfigurationSetName: aws.String("cs")})
	wantAPIError(t, err, "NotFoundException", http.StatusNotFound)

	if _, err := c.DeleteCustomVerificationEmailTemplate(ctx, &sesv2.DeleteCustomVerificationEmailTemplateInput{TemplateName: aws.String("welcome")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteCustomVerificationEmailTemplate(ctx, &sesv2.DeleteCustomVerificationEmailTemplateInput{TemplateName: aws.String("welcome")})
	wantAPIError(t, err, "NotFoundException", http.StatusNotFound)
}

func TestTemplateLimitV2(t *testing.T) {
	e := start(t, server.Options{})
	verified(t, e, "sender@example.com")
	for i := range 50 {
		createTemplateV2(t, e, fmt.Sprintf("t%02d", i))
	}
	_, err := e.v2.CreateCustomVerificationEmailTemplate(context.Background(), v2Template("t50"))
	wantAPIError(t, err, "LimitExceededException", http.StatusBadRequest)
	// Templates are per region.
	other := *e
	other.v2 = sesv2.New(sesv2.Options{Region: "eu-west-1", Credentials: e.creds, BaseEndpoint: aws.String(e.url), Retryer: sestest.ClosedConnRetryer()})
	_, err = other.v2.CreateCustomVerificationEmailTemplate(context.Background(), v2Template("t50"))
	wantAPIError(t, err, "BadRequestException", http.StatusBadRequest) // its sender is verified in us-east-1 only
}

// markVerified sets an identity's verification to Success, as the DNS
// verifier would, through the registry's (cached) store.
func markVerified(t *testing.T, e *env, name string) {
	t.Helper()
	k := identity.Key{Account: e.acct, Region: region, Name: name}
	_, err := e.srv.Registry.Store.UpdateIdentity(context.Background(), k, func(cur *identity.Identity) (*identity.Identity, error) {
		cur.Verification.Status = identity.Success
		return cur, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
