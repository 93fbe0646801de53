package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/registry"
	"github.com/sesame/sesame/internal/sestest"
)

// TestServedRegions: with an operator's list of regions (serve
// --regions), a region of SES's that is not in it is refused like a
// made-up one, on both protocols.
func TestServedRegions(t *testing.T) {
	t.Parallel()
	_, a := start(t, sestest.Options{Regions: []string{west}})
	ctx := t.Context()
	verifyDomain(t, a.V1(west), "example.com")
	createIdentity(t, a.V2(west), "user@example.com")

	_, err := a.V1(east).VerifyDomainIdentity(ctx, &ses.VerifyDomainIdentityInput{Domain: aws.String("example.com")})
	if msg := wantAPIError(t, err, "SignatureDoesNotMatch", http.StatusForbidden); !strings.Contains(msg, "valid region, not 'us-east-1'. Use a region this server serves: eu-west-1.") {
		t.Errorf("v1 message %q", msg)
	}
	_, err = a.V2(east).CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("example.com")})
	wantAPIError(t, err, "SignatureDoesNotMatch", http.StatusForbidden)
}

// TestAccountLimits: the caps on identities and templates hold for an
// account across all its regions, not only in each region, so that a
// tenant cannot store without bound by moving from region to region;
// other accounts are not affected, and deleting makes room.
func TestAccountLimits(t *testing.T) {
	t.Parallel()
	srv, a := start(t, sestest.Options{Caps: registry.Caps{Identities: 3, Templates: 2}})
	ctx := t.Context()
	verifyDomain(t, a.V1(east), "one.example")
	verifyDomain(t, a.V1(west), "two.example")
	createIdentity(t, a.V2("ap-south-1"), "three.example")

	for _, r := range []string{east, west, "sa-east-1"} {
		wantNoRoom(t, a, r, "four.example", "in all regions (3)")
	}
	// Asking again for an identity is not a new one.
	verifyDomain(t, a.V1(west), "two.example")
	// Another account has its own caps.
	verifyDomain(t, srv.NewAccount("tenant-b").V1("sa-east-1"), "four.example")
	// Deleting in one region makes room in another.
	try(a.V1(east).DeleteIdentity(ctx, &ses.DeleteIdentityInput{Identity: aws.String("one.example")})).must(t)
	createIdentity(t, a.V2("sa-east-1"), "four@three.example")

}

// wantNoRoom checks that every way of adding the domain (and an address of
// it) in the region is refused with LimitExceeded (v1) and
// LimitExceededException (v2), the v1 message containing msgPart.
func wantNoRoom(t *testing.T, a *sestest.Account, region, domain, msgPart string) {
	t.Helper()
	ctx := t.Context()
	_, err := a.V1(region).VerifyDomainIdentity(ctx, &ses.VerifyDomainIdentityInput{Domain: aws.String(domain)})
	if msg := wantAPIError(t, err, "LimitExceeded", http.StatusBadRequest); !strings.Contains(msg, msgPart) {
		t.Errorf("%s: message %q, want it to contain %q", region, msg, msgPart)
	}
	_, err = a.V1(region).VerifyDomainDkim(ctx, &ses.VerifyDomainDkimInput{Domain: aws.String(domain)})
	wantAPIError(t, err, "LimitExceeded", http.StatusBadRequest)
	_, err = a.V1(region).VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String("one@" + domain)})
	wantAPIError(t, err, "LimitExceeded", http.StatusBadRequest)
	_, err = a.V2(region).CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(domain)})
	wantAPIError(t, err, "LimitExceededException", http.StatusBadRequest)
}

// TestAccountTemplateLimit: the same for custom verification templates,
// which may hold 10 MB each.
func TestAccountTemplateLimit(t *testing.T) {
	t.Parallel()
	srv, a := start(t, sestest.Options{Caps: registry.Caps{Templates: 2}})
	ctx := t.Context()
	// template is a template of a sender verified in the region.
	template := func(region string) *ses.CreateCustomVerificationEmailTemplateInput {
		t.Helper()
		sender := "sender@example.com"
		try(a.V1(region).VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String(sender)})).must(t)
		if _, err := srv.Sesame.Registry.ConfirmEmail(ctx, identity.Key{Account: a.AccountId, Region: region, Name: sender}); err != nil {
			t.Fatal(err)
		}
		return &ses.CreateCustomVerificationEmailTemplateInput{
			TemplateName: aws.String("welcome"), FromEmailAddress: aws.String(sender),
			TemplateSubject: aws.String("Please confirm"), TemplateContent: aws.String("<p>Hello</p>"),
			SuccessRedirectionURL: aws.String("https://app.example.com/ok"), FailureRedirectionURL: aws.String("https://app.example.com/ko"),
		}
	}
	try(a.V1(east).CreateCustomVerificationEmailTemplate(ctx, template(east))).must(t)
	try(a.V1(west).CreateCustomVerificationEmailTemplate(ctx, template(west))).must(t)
	_, err := a.V1("ap-south-1").CreateCustomVerificationEmailTemplate(ctx, template("ap-south-1"))
	if msg := wantAPIError(t, err, "LimitExceeded", http.StatusBadRequest); !strings.Contains(msg, "in all regions (2)") {
		t.Errorf("v1 message %q", msg)
	}
	in := template("sa-east-1")
	_, err = a.V2("sa-east-1").CreateCustomVerificationEmailTemplate(ctx, &sesv2.CreateCustomVerificationEmailTemplateInput{
		TemplateName: in.TemplateName, FromEmailAddress: in.FromEmailAddress, TemplateSubject: in.TemplateSubject, TemplateContent: in.TemplateContent,
		SuccessRedirectionURL: in.SuccessRedirectionURL, FailureRedirectionURL: in.FailureRedirectionURL,
	})
	wantAPIError(t, err, "LimitExceededException", http.StatusBadRequest)
	try(a.V1(west).DeleteCustomVerificationEmailTemplate(ctx, &ses.DeleteCustomVerificationEmailTemplateInput{TemplateName: aws.String("welcome")})).must(t)
	try(a.V1("ap-south-1").CreateCustomVerificationEmailTemplate(ctx, template("ap-south-1"))).must(t)
}
