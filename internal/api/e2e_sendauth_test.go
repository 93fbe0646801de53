package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/sesame/sesame/internal/store"
)

// TestSendAuthorization: a delegate account sends from an identity of
// another account only while one of that identity's policies allows the
// calling action for it; the message is the delegate's (its quota, its
// record), the X-SES-*-ARN headers are gone, and every refusal is SES's
// AccessDenied, 403.
func TestSendAuthorization(t *testing.T) {
	srv, owner := start(t)
	delegate := srv.NewAccount("tenant-b")
	const east = "us-east-1"
	ctx := t.Context()
	oc, dc, dc2 := owner.V1(east), delegate.V1(east), delegate.V2(east)
	verifyDomain(t, oc, "example.com")
	markVerified(t, srv, owner, east, "example.com")
	production(t, srv, owner, east)
	production(t, srv, delegate, east)
	arn := "arn:aws:ses:us-east-1:" + owner.AccountId + ":identity/example.com"
	denied := func(action string) string {
		return fmt.Sprintf("User `arn:aws:iam::%s:root' is not authorized to perform `%s' on resource `%s'", delegate.AccountId, action, arn)
	}
	policy := func(effect, actions, extra string) {
		t.Helper()
		doc := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":%q,"Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":%s,"Resource":%q%s}]}`,
			effect, delegate.AccountId, actions, arn, extra)
		try(oc.PutIdentityPolicy(ctx, &ses.PutIdentityPolicyInput{Identity: aws.String("example.com"), PolicyName: aws.String("delegate"), Policy: aws.String(doc)})).must(t)
	}
	viaARN := func() *ses.SendEmailInput {
		in := simple("app@example.com", "to@example.org")
		in.SourceArn = aws.String(arn)
		return in
	}
	rawVia := func(header string) *ses.SendRawEmailInput {
		return &ses.SendRawEmailInput{RawMessage: &types.RawMessage{Data: []byte("From: App <app@example.com>\r\nTo: to@example.org\r\n" + header + "Subject: raw\r\n\r\nbody\r\n")}}
	}
	count := func(a string) int {
		n, err := srv.Sesame.Store.CountMessages(ctx, store.Limit{Kind: store.SentMail, Account: a, Region: east})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Without an ARN the delegate's own identities decide: none.
	_, err := dc.SendEmail(ctx, simple("app@example.com", "to@example.org"))
	wantAPIError(t, err, "MessageRejected", http.StatusBadRequest)
	// No policy: denied, in v1 and v2.
	_, err = dc.SendEmail(ctx, viaARN())
	if msg := wantAPIError(t, err, "AccessDenied", http.StatusForbidden); msg != denied("ses:SendEmail") {
		t.Errorf("denial\n got %q\nwant %q", msg, denied("ses:SendEmail"))
	}
	v2simple := &sesv2.SendEmailInput{FromEmailAddress: aws.String("app@example.com"), FromEmailAddressIdentityArn: aws.String(arn),
		Destination: &v2types.Destination{ToAddresses: []string{"to@example.org"}},
		Content:     &v2types.EmailContent{Simple: &v2types.Message{Subject: &v2types.Content{Data: aws.String("s")}, Body: &v2types.Body{Text: &v2types.Content{Data: aws.String("b")}}}}}
	_, err = dc2.SendEmail(ctx, v2simple)
	wantAPIError(t, err, "AccessDeniedException", http.StatusForbidden)

	// A policy of another action: SendRawEmail may, SendEmail may not.
	policy("Allow", `"ses:SendRawEmail"`, "")
	_, err = dc.SendEmail(ctx, viaARN())
	wantAPIError(t, err, "AccessDenied", http.StatusForbidden)
	id := aws.ToString(try(dc.SendRawEmail(ctx, rawVia("X-SES-SOURCE-ARN: "+arn+"\r\nX-SES-FROM-ARN: "+arn+"\r\nX-SES-RETURN-PATH-ARN: "+arn+"\r\n"))).must(t).MessageId)
	m := sent(t, srv, id)
	if strings.Contains(strings.ToUpper(string(m.Raw)), "X-SES-") {
		t.Errorf("the ARN headers were kept:\n%s", m.Raw)
	}
	if m.Key.Account != delegate.AccountId {
		t.Errorf("message recorded for account %s, want the delegate %s", m.Key.Account, delegate.AccountId)
	}
	if count(delegate.AccountId) != 1 || count(owner.AccountId) != 0 {
		t.Errorf("quota: delegate %d, owner %d; want 1 and 0", count(delegate.AccountId), count(owner.AccountId))
	}
	// The parameter beats the header: a header naming nothing is ignored then.
	raw := rawVia("X-SES-SOURCE-ARN: arn:aws:ses:us-east-1:999999999999:identity/example.com\r\n")
	raw.SourceArn = aws.String(arn)
	try(dc.SendRawEmail(ctx, raw)).must(t)
	// v2 raw content is ses:SendRawEmail; simple content ses:SendEmail.
	try(dc2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddressIdentityArn: aws.String(arn), Destination: &v2types.Destination{ToAddresses: []string{"to@example.org"}},
		Content: &v2types.EmailContent{Raw: &v2types.RawMessage{Data: []byte("From: app@example.com\r\nSubject: v2\r\n\r\nx\r\n")}}})).must(t)
	_, err = dc2.SendEmail(ctx, v2simple)
	if msg := wantAPIError(t, err, "AccessDeniedException", http.StatusForbidden); msg != denied("ses:SendEmail") {
		t.Errorf("v2 denial %q", msg)
	}

	// Allowed.
	policy("Allow", `["ses:SendEmail","ses:SendRawEmail"]`, "")
	try(dc.SendEmail(ctx, viaARN())).must(t)
	try(dc2.SendEmail(ctx, v2simple)).must(t)
	// The ARN must cover the address and be of the call's region.
	in := viaARN()
	in.Source = aws.String("app@other.example")
	_, err = dc.SendEmail(ctx, in)
	wantAPIError(t, err, "InvalidParameterValue", http.StatusBadRequest)
	_, err = delegate.V1("eu-west-1").SendEmail(ctx, viaARN())
	wantAPIError(t, err, "InvalidParameterValue", http.StatusBadRequest)
	// A ReturnPath of the owner's domain needs its ARN too (or SourceArn's).
	in = simple("app@example.com", "to@example.org")
	in.ReturnPath = aws.String("bounces@example.com")
	_, err = dc.SendEmail(ctx, in)
	wantAPIError(t, err, "MessageRejected", http.StatusBadRequest)
	in.SourceArn = aws.String(arn)
	try(dc.SendEmail(ctx, in)).must(t)
	// Both accounts must be out of the sandbox to mail unverified recipients.
	if _, err := srv.Sesame.Store.UpdateSendingState(ctx, owner.AccountId, east, func(s *store.SendingState) error {
		s.Production = false
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_, err = dc.SendEmail(ctx, viaARN())
	if msg := wantAPIError(t, err, "MessageRejected", http.StatusBadRequest); !strings.HasSuffix(msg, ": to@example.org") {
		t.Errorf("sandbox message %q", msg)
	}
	production(t, srv, owner, east)

	// An explicit Deny wins; a condition Sesame does not evaluate allows nothing.
	doc := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":%q},"Action":"ses:SendEmail","Resource":%q}]}`, delegate.AccountId, arn)
	try(oc.PutIdentityPolicy(ctx, &ses.PutIdentityPolicyInput{Identity: aws.String("example.com"), PolicyName: aws.String("deny"), Policy: aws.String(doc)})).must(t)
	_, err = dc.SendEmail(ctx, viaARN())
	wantAPIError(t, err, "AccessDenied", http.StatusForbidden)
	try(oc.DeleteIdentityPolicy(ctx, &ses.DeleteIdentityPolicyInput{Identity: aws.String("example.com"), PolicyName: aws.String("deny")})).must(t)
	policy("Allow", `"ses:SendEmail"`, `,"Condition":{"StringEquals":{"ses:FromAddress":"app@example.com"}}`)
	_, err = dc.SendEmail(ctx, viaARN())
	wantAPIError(t, err, "AccessDenied", http.StatusForbidden)

	// Revoked: the policy deleted, the delegate is refused again, and a
	// bulk call is refused whole.
	policy("Allow", `"ses:Send*"`, "")
	try(dc.SendEmail(ctx, viaARN())).must(t)
	try(oc.DeleteIdentityPolicy(ctx, &ses.DeleteIdentityPolicyInput{Identity: aws.String("example.com"), PolicyName: aws.String("delegate")})).must(t)
	_, err = dc.SendEmail(ctx, viaARN())
	wantAPIError(t, err, "AccessDenied", http.StatusForbidden)
	try(dc.CreateTemplate(ctx, &ses.CreateTemplateInput{Template: &types.Template{TemplateName: aws.String("t"), SubjectPart: aws.String("s"), TextPart: aws.String("t")}})).must(t)
	_, err = dc.SendBulkTemplatedEmail(ctx, &ses.SendBulkTemplatedEmailInput{Source: aws.String("app@example.com"), SourceArn: aws.String(arn), Template: aws.String("t"), DefaultTemplateData: aws.String("{}"),
		Destinations: []types.BulkEmailDestination{{Destination: &types.Destination{ToAddresses: []string{"to@example.org"}}}}})
	if msg := wantAPIError(t, err, "AccessDenied", http.StatusForbidden); msg != denied("ses:SendBulkTemplatedEmail") {
		t.Errorf("bulk denial %q", msg)
	}

	// An identity the owner has not verified sends nothing, policy or not;
	// one that does not exist is denied, like one without a policy.
	verifyDomain(t, oc, "pending.example")
	parn := "arn:aws:ses:us-east-1:" + owner.AccountId + ":identity/pending.example"
	try(oc.PutIdentityPolicy(ctx, &ses.PutIdentityPolicyInput{Identity: aws.String("pending.example"), PolicyName: aws.String("p"), Policy: aws.String(
		fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":%q},"Action":"ses:SendEmail","Resource":%q}]}`, delegate.AccountId, parn))})).must(t)
	in = simple("app@pending.example", "to@example.org")
	in.SourceArn = aws.String(parn)
	_, err = dc.SendEmail(ctx, in)
	wantAPIError(t, err, "MessageRejected", http.StatusBadRequest)
	in = simple("app@nowhere.example", "to@example.org")
	in.SourceArn = aws.String("arn:aws:ses:us-east-1:" + owner.AccountId + ":identity/nowhere.example")
	_, err = dc.SendEmail(ctx, in)
	wantAPIError(t, err, "AccessDenied", http.StatusForbidden)
}
