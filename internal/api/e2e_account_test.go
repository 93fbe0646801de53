package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

// TestAccountSendingState: a new account is in the sandbox with SES's
// sandbox quotas; pausing sending shows in v1 and v2 alike, per region.
func TestAccountSendingState(t *testing.T) {
	_, a := start(t)
	ctx := t.Context()
	v1, v2 := a.V1("us-east-1"), a.V2("us-east-1")
	q := try(v1.GetSendQuota(ctx, &ses.GetSendQuotaInput{})).must(t)
	if q.Max24HourSend != 200 || q.MaxSendRate != 1 || q.SentLast24Hours != 0 {
		t.Errorf("GetSendQuota of a new account = %+v, want the sandbox's 200 a day, 1 a second", q)
	}
	acct := try(v2.GetAccount(ctx, &sesv2.GetAccountInput{})).must(t)
	if acct.ProductionAccessEnabled || !acct.SendingEnabled || acct.SendQuota == nil || acct.SendQuota.Max24HourSend != 200 || acct.SendQuota.MaxSendRate != 1 ||
		aws.ToString(acct.EnforcementStatus) != "HEALTHY" {
		t.Errorf("GetAccount of a new account = %+v", acct)
	}
	if en := try(v1.GetAccountSendingEnabled(ctx, &ses.GetAccountSendingEnabledInput{})).must(t); !en.Enabled {
		t.Error("sending is disabled in a new account")
	}
	try(v1.UpdateAccountSendingEnabled(ctx, &ses.UpdateAccountSendingEnabledInput{Enabled: false})).must(t)
	if en := try(v1.GetAccountSendingEnabled(ctx, &ses.GetAccountSendingEnabledInput{})).must(t); en.Enabled {
		t.Error("UpdateAccountSendingEnabled false did not pause sending")
	}
	if acct := try(v2.GetAccount(ctx, &sesv2.GetAccountInput{})).must(t); acct.SendingEnabled {
		t.Error("v2 GetAccount does not see the pause")
	}
	if en := try(a.V1("eu-west-1").GetAccountSendingEnabled(ctx, &ses.GetAccountSendingEnabledInput{})).must(t); !en.Enabled {
		t.Error("pausing us-east-1 paused eu-west-1")
	}
	try(v2.PutAccountSendingAttributes(ctx, &sesv2.PutAccountSendingAttributesInput{SendingEnabled: true})).must(t)
	if en := try(v1.GetAccountSendingEnabled(ctx, &ses.GetAccountSendingEnabledInput{})).must(t); !en.Enabled {
		t.Error("PutAccountSendingAttributes true did not resume sending")
	}
	st := try(v1.GetSendStatistics(ctx, &ses.GetSendStatisticsInput{})).must(t)
	if len(st.SendDataPoints) != 0 {
		t.Errorf("a new account has statistics: %+v", st.SendDataPoints)
	}
}

// TestEmailTemplatesV2: the v2 email template operations, with v2's codes.
func TestEmailTemplatesV2(t *testing.T) {
	_, a := start(t)
	c := a.V2("us-east-1")
	ctx := t.Context()
	content := &v2types.EmailTemplateContent{Subject: aws.String("Hi {{name}}"), Text: aws.String("Hello {{name}}"), Html: aws.String("<b>{{name}}</b>")}
	try(c.CreateEmailTemplate(ctx, &sesv2.CreateEmailTemplateInput{TemplateName: aws.String("welcome"), TemplateContent: content,
		Tags: []v2types.Tag{{Key: aws.String("team"), Value: aws.String("web")}}})).must(t)
	_, err := c.CreateEmailTemplate(ctx, &sesv2.CreateEmailTemplateInput{TemplateName: aws.String("welcome"), TemplateContent: content})
	wantAPIError(t, err, "AlreadyExistsException", http.StatusBadRequest)
	_, err = c.CreateEmailTemplate(ctx, &sesv2.CreateEmailTemplateInput{TemplateName: aws.String("x"), TemplateContent: &v2types.EmailTemplateContent{Text: aws.String("{{#each}")}})
	wantAPIError(t, err, "BadRequestException", http.StatusBadRequest)

	got := try(c.GetEmailTemplate(ctx, &sesv2.GetEmailTemplateInput{TemplateName: aws.String("welcome")})).must(t)
	if aws.ToString(got.TemplateContent.Subject) != "Hi {{name}}" || aws.ToString(got.TemplateContent.Html) != "<b>{{name}}</b>" || len(got.Tags) != 1 {
		t.Errorf("GetEmailTemplate = %+v", got)
	}
	_, err = c.GetEmailTemplate(ctx, &sesv2.GetEmailTemplateInput{TemplateName: aws.String("nope")})
	wantAPIError(t, err, "NotFoundException", http.StatusNotFound)

	r := try(c.TestRenderEmailTemplate(ctx, &sesv2.TestRenderEmailTemplateInput{TemplateName: aws.String("welcome"), TemplateData: aws.String(`{"name":"Ana"}`)})).must(t)
	if rt := aws.ToString(r.RenderedTemplate); !strings.Contains(rt, "Subject: Hi Ana") || !strings.Contains(rt, "<b>Ana</b>") {
		t.Errorf("RenderedTemplate:\n%s", rt)
	}
	_, err = c.TestRenderEmailTemplate(ctx, &sesv2.TestRenderEmailTemplateInput{TemplateName: aws.String("welcome"), TemplateData: aws.String(`{}`)})
	if msg := wantAPIError(t, err, "BadRequestException", http.StatusBadRequest); msg != "Attribute 'name' is not present in the rendering data." {
		t.Errorf("missing attribute: %q", msg)
	}
	_, err = c.TestRenderEmailTemplate(ctx, &sesv2.TestRenderEmailTemplateInput{TemplateName: aws.String("nope"), TemplateData: aws.String(`{}`)})
	wantAPIError(t, err, "NotFoundException", http.StatusNotFound)

	try(c.UpdateEmailTemplate(ctx, &sesv2.UpdateEmailTemplateInput{TemplateName: aws.String("welcome"), TemplateContent: &v2types.EmailTemplateContent{Subject: aws.String("New")}})).must(t)
	got = try(c.GetEmailTemplate(ctx, &sesv2.GetEmailTemplateInput{TemplateName: aws.String("welcome")})).must(t)
	if aws.ToString(got.TemplateContent.Subject) != "New" || got.TemplateContent.Text != nil || len(got.Tags) != 1 {
		t.Errorf("after UpdateEmailTemplate: %+v", got)
	}
	_, err = c.UpdateEmailTemplate(ctx, &sesv2.UpdateEmailTemplateInput{TemplateName: aws.String("nope"), TemplateContent: content})
	wantAPIError(t, err, "NotFoundException", http.StatusNotFound)

	try(c.CreateEmailTemplate(ctx, &sesv2.CreateEmailTemplateInput{TemplateName: aws.String("a"), TemplateContent: content})).must(t)
	p1 := try(c.ListEmailTemplates(ctx, &sesv2.ListEmailTemplatesInput{PageSize: aws.Int32(1)})).must(t)
	if len(p1.TemplatesMetadata) != 1 || aws.ToString(p1.TemplatesMetadata[0].TemplateName) != "a" || p1.NextToken == nil || p1.TemplatesMetadata[0].CreatedTimestamp == nil {
		t.Fatalf("first page = %+v", p1)
	}
	p2 := try(c.ListEmailTemplates(ctx, &sesv2.ListEmailTemplatesInput{PageSize: aws.Int32(1), NextToken: p1.NextToken})).must(t)
	if len(p2.TemplatesMetadata) != 1 || aws.ToString(p2.TemplatesMetadata[0].TemplateName) != "welcome" || p2.NextToken != nil {
		t.Errorf("second page = %+v", p2)
	}
	try(c.DeleteEmailTemplate(ctx, &sesv2.DeleteEmailTemplateInput{TemplateName: aws.String("welcome")})).must(t)
	_, err = c.DeleteEmailTemplate(ctx, &sesv2.DeleteEmailTemplateInput{TemplateName: aws.String("welcome")})
	wantAPIError(t, err, "NotFoundException", http.StatusNotFound)
}
