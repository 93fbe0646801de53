package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/google/go-cmp/cmp"
)

func TestV2FeedbackAttributes(t *testing.T) {
	t.Parallel()
	_, a := start(t)
	c := a.V2(east)
	ctx := t.Context()
	createIdentity(t, c, "example.com")
	// Unlike v1, v2 turns forwarding off without SNS topics: SES then
	// mails the feedback anyway (PutEmailIdentityFeedbackAttributes).
	try(c.PutEmailIdentityFeedbackAttributes(ctx, &sesv2.PutEmailIdentityFeedbackAttributesInput{EmailIdentity: aws.String("example.com"), EmailForwardingEnabled: false})).must(t)
	if getIdentity(t, c, "example.com").FeedbackForwardingStatus {
		t.Error("FeedbackForwardingStatus still true")
	}
	try(c.PutEmailIdentityFeedbackAttributes(ctx, &sesv2.PutEmailIdentityFeedbackAttributesInput{EmailIdentity: aws.String("example.com"), EmailForwardingEnabled: true})).must(t)
	if !getIdentity(t, c, "example.com").FeedbackForwardingStatus {
		t.Error("FeedbackForwardingStatus still false")
	}
}

func TestV2Policies(t *testing.T) {
	t.Parallel()
	_, a := start(t)
	c := a.V2(east)
	ctx := t.Context()
	createIdentity(t, c, "example.com")
	doc := examplePolicy(a.AccountId, "example.com")
	in := &sesv2.CreateEmailIdentityPolicyInput{EmailIdentity: aws.String("example.com"), PolicyName: aws.String("MyPolicy"), Policy: aws.String(doc)}
	try(c.CreateEmailIdentityPolicy(ctx, in)).must(t)
	_, err := c.CreateEmailIdentityPolicy(ctx, in)
	wantAPIError(t, err, "AlreadyExistsException", http.StatusBadRequest)
	got := try(c.GetEmailIdentityPolicies(ctx, &sesv2.GetEmailIdentityPoliciesInput{EmailIdentity: aws.String("example.com")})).must(t)
	if diff := cmp.Diff(map[string]string{"MyPolicy": doc}, got.Policies); diff != "" {
		t.Errorf("GetEmailIdentityPolicies (-want +got):\n%s", diff)
	}
	doc2 := strings.Replace(doc, `"ses:SendEmail",`, "", 1)
	try(c.UpdateEmailIdentityPolicy(ctx, &sesv2.UpdateEmailIdentityPolicyInput{EmailIdentity: aws.String("example.com"), PolicyName: aws.String("MyPolicy"), Policy: aws.String(doc2)})).must(t)
	_, err = c.UpdateEmailIdentityPolicy(ctx, &sesv2.UpdateEmailIdentityPolicyInput{EmailIdentity: aws.String("example.com"), PolicyName: aws.String("Other"), Policy: aws.String(doc2)})
	wantAPIError(t, err, "NotFoundException", http.StatusNotFound)
	_, err = c.UpdateEmailIdentityPolicy(ctx, &sesv2.UpdateEmailIdentityPolicyInput{EmailIdentity: aws.String("example.com"), PolicyName: aws.String("MyPolicy"), Policy: aws.String(`{"Version":"2012-10-17"`)})
	if msg := wantAPIError(t, err, "BadRequestException", http.StatusBadRequest); !strings.Contains(msg, "not valid JSON") {
		t.Errorf("message %q", msg)
	}
	pol := try(a.V1(east).GetIdentityPolicies(ctx, &ses.GetIdentityPoliciesInput{Identity: aws.String("example.com"), PolicyNames: []string{"MyPolicy"}})).must(t)
	if pol.Policies["MyPolicy"] != doc2 {
		t.Errorf("v1 sees %q, want the updated policy", pol.Policies["MyPolicy"])
	}
	try(c.DeleteEmailIdentityPolicy(ctx, &sesv2.DeleteEmailIdentityPolicyInput{EmailIdentity: aws.String("example.com"), PolicyName: aws.String("MyPolicy")})).must(t)
	_, err = c.DeleteEmailIdentityPolicy(ctx, &sesv2.DeleteEmailIdentityPolicyInput{EmailIdentity: aws.String("example.com"), PolicyName: aws.String("MyPolicy")})
	wantAPIError(t, err, "NotFoundException", http.StatusNotFound)
	_, err = c.GetEmailIdentityPolicies(ctx, &sesv2.GetEmailIdentityPoliciesInput{EmailIdentity: aws.String("unknown.example")})
	wantAPIError(t, err, "NotFoundException", http.StatusNotFound)
}

func TestV2ConfigurationSets(t *testing.T) {
	t.Parallel()
	_, a := start(t)
	c := a.V2(east)
	ctx := t.Context()
	try(c.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{
		ConfigurationSetName: aws.String("marketing"),
		Tags:                 []types.Tag{{Key: aws.String("team"), Value: aws.String("growth")}},
		SendingOptions:       &types.SendingOptions{SendingEnabled: true},
	})).must(t)
	_, err := c.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("marketing")})
	wantAPIError(t, err, "AlreadyExistsException", http.StatusBadRequest)
	_, err = c.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("bad name")})
	wantAPIError(t, err, "BadRequestException", http.StatusBadRequest)
	try(c.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("alerts")})).must(t)

	got := try(c.GetConfigurationSet(ctx, &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String("marketing")})).must(t)
	if aws.ToString(got.ConfigurationSetName) != "marketing" || got.SendingOptions == nil || !got.SendingOptions.SendingEnabled || len(got.Tags) != 1 {
		t.Errorf("GetConfigurationSet: %+v", got)
	}
	var names []string
	p := sesv2.NewListConfigurationSetsPaginator(c, &sesv2.ListConfigurationSetsInput{PageSize: aws.Int32(1)})
	for p.HasMorePages() {
		names = append(names, try(p.NextPage(ctx)).must(t).ConfigurationSets...)
	}
	if diff := cmp.Diff([]string{"alerts", "marketing"}, names); diff != "" {
		t.Errorf("ListConfigurationSets (-want +got):\n%s", diff)
	}

	// The identity's default set must exist.
	createIdentity(t, c, "example.com")
	_, err = c.PutEmailIdentityConfigurationSetAttributes(ctx, &sesv2.PutEmailIdentityConfigurationSetAttributesInput{EmailIdentity: aws.String("example.com"), ConfigurationSetName: aws.String("nope")})
	wantAPIError(t, err, "NotFoundException", http.StatusNotFound)
	try(c.PutEmailIdentityConfigurationSetAttributes(ctx, &sesv2.PutEmailIdentityConfigurationSetAttributesInput{EmailIdentity: aws.String("example.com"), ConfigurationSetName: aws.String("marketing")})).must(t)
	if got := aws.ToString(getIdentity(t, c, "example.com").ConfigurationSetName); got != "marketing" {
		t.Errorf("ConfigurationSetName %q, want marketing", got)
	}
	try(c.PutEmailIdentityConfigurationSetAttributes(ctx, &sesv2.PutEmailIdentityConfigurationSetAttributesInput{EmailIdentity: aws.String("example.com")})).must(t)
	if got := getIdentity(t, c, "example.com").ConfigurationSetName; got != nil {
		t.Errorf("ConfigurationSetName %q after removing it", *got)
	}

	try(c.DeleteConfigurationSet(ctx, &sesv2.DeleteConfigurationSetInput{ConfigurationSetName: aws.String("marketing")})).must(t)
	_, err = c.DeleteConfigurationSet(ctx, &sesv2.DeleteConfigurationSetInput{ConfigurationSetName: aws.String("marketing")})
	wantAPIError(t, err, "NotFoundException", http.StatusNotFound)
	_, err = c.GetConfigurationSet(ctx, &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String("marketing")})
	wantAPIError(t, err, "NotFoundException", http.StatusNotFound)
	// Another region has its own sets.
	_, err = a.V2(west).GetConfigurationSet(ctx, &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String("alerts")})
	wantAPIError(t, err, "NotFoundException", http.StatusNotFound)
}

// TestV2Tags: Terraform's flow (create a tagged identity, then
// ListTagsForResource), and tags on configuration sets.
func TestV2Tags(t *testing.T) {
	t.Parallel()
	srv, a := start(t)
	c := a.V2(east)
	ctx := t.Context()
	try(c.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("example.com"), Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}})).must(t)
	arn := "arn:aws:ses:us-east-1:" + a.AccountId + ":identity/example.com"
	list := func(arn string) []types.Tag {
		t.Helper()
		return try(c.ListTagsForResource(ctx, &sesv2.ListTagsForResourceInput{ResourceArn: aws.String(arn)})).must(t).Tags
	}
	tg := func(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }
	if diff := cmp.Diff([]types.Tag{tg("env", "prod")}, list(arn), cmpOpts); diff != "" {
		t.Errorf("ListTagsForResource (-want +got):\n%s", diff)
	}
	try(c.TagResource(ctx, &sesv2.TagResourceInput{ResourceArn: aws.String(arn), Tags: []types.Tag{tg("env", "dev"), tg("team", "ops")}})).must(t)
	if diff := cmp.Diff([]types.Tag{tg("env", "dev"), tg("team", "ops")}, list(arn), cmpOpts); diff != "" {
		t.Errorf("after TagResource (-want +got):\n%s", diff)
	}
	try(c.UntagResource(ctx, &sesv2.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"env", "absent"}})).must(t)
	if diff := cmp.Diff([]types.Tag{tg("team", "ops")}, getIdentity(t, c, "example.com").Tags, cmpOpts); diff != "" {
		t.Errorf("GetEmailIdentity after UntagResource (-want +got):\n%s", diff)
	}
	// 50 tags at most, counting those the resource has.
	var many []types.Tag
	for i := range 50 {
		many = append(many, tg("k"+string(rune('A'+i%26))+string(rune('a'+i/26)), "v"))
	}
	_, err := c.TagResource(ctx, &sesv2.TagResourceInput{ResourceArn: aws.String(arn), Tags: many})
	if msg := wantAPIError(t, err, "BadRequestException", http.StatusBadRequest); !strings.Contains(msg, "at most 50") {
		t.Errorf("message %q", msg)
	}
	_, err = c.TagResource(ctx, &sesv2.TagResourceInput{ResourceArn: aws.String(arn), Tags: []types.Tag{tg(strings.Repeat("k", 129), "v")}})
	wantAPIError(t, err, "BadRequestException", http.StatusBadRequest)
	for _, bad := range []string{
		"arn:aws:ses:us-east-1:" + a.AccountId + ":identity/unknown.example",
		"arn:aws:ses:eu-west-1:" + a.AccountId + ":identity/example.com",
		"arn:aws:ses:us-east-1:999999999999:identity/example.com",
		"arn:aws:ses:us-east-1:" + a.AccountId + ":configuration-set/none",
	} {
		_, err := c.ListTagsForResource(ctx, &sesv2.ListTagsForResourceInput{ResourceArn: aws.String(bad)})
		wantAPIError(t, err, "NotFoundException", http.StatusNotFound)
	}
	_, err = c.ListTagsForResource(ctx, &sesv2.ListTagsForResourceInput{ResourceArn: aws.String("example.com")})
	wantAPIError(t, err, "BadRequestException", http.StatusBadRequest)

	try(c.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("cs")})).must(t)
	csArn := "arn:aws:ses:us-east-1:" + a.AccountId + ":configuration-set/cs"
	try(c.TagResource(ctx, &sesv2.TagResourceInput{ResourceArn: aws.String(csArn), Tags: []types.Tag{tg("a", "1")}})).must(t)
	if got := try(c.GetConfigurationSet(ctx, &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String("cs")})).must(t).Tags; len(got) != 1 {
		t.Errorf("configuration set tags %v", got)
	}
	markVerified(t, srv, a, east, "example.com")
	try(c.CreateCustomVerificationEmailTemplate(ctx, &sesv2.CreateCustomVerificationEmailTemplateInput{TemplateName: aws.String("welcome"),
		FromEmailAddress: aws.String("no-reply@example.com"), TemplateSubject: aws.String("Hi"), TemplateContent: aws.String("<p>Hi</p>"),
		SuccessRedirectionURL: aws.String("https://example.com/ok"), FailureRedirectionURL: aws.String("https://example.com/no")})).must(t)
	tArn := "arn:aws:ses:us-east-1:" + a.AccountId + ":custom-verification-email-template/welcome"
	try(c.TagResource(ctx, &sesv2.TagResourceInput{ResourceArn: aws.String(tArn), Tags: []types.Tag{tg("b", "2")}})).must(t)
	if diff := cmp.Diff([]types.Tag{tg("b", "2")}, list(tArn), cmpOpts); diff != "" {
		t.Errorf("template tags (-want +got):\n%s", diff)
	}
}

// TestV2PutUnknownIdentity: every v2 Put* of an identity answers an
// unknown one with NotFoundException, as the model lists.
func TestV2PutUnknownIdentity(t *testing.T) {
	t.Parallel()
	_, a := start(t)
	c := a.V2(east)
	ctx := t.Context()
	n := aws.String("unknown.example")
	for name, call := range map[string]func() error{
		"PutEmailIdentityDkimAttributes": func() error {
			_, err := c.PutEmailIdentityDkimAttributes(ctx, &sesv2.PutEmailIdentityDkimAttributesInput{EmailIdentity: n, SigningEnabled: true})
			return err
		},
		"PutEmailIdentityDkimSigningAttributes": func() error {
			_, err := c.PutEmailIdentityDkimSigningAttributes(ctx, &sesv2.PutEmailIdentityDkimSigningAttributesInput{EmailIdentity: n, SigningAttributesOrigin: types.DkimSigningAttributesOriginAwsSes})
			return err
		},
		"PutEmailIdentityMailFromAttributes": func() error {
			_, err := c.PutEmailIdentityMailFromAttributes(ctx, &sesv2.PutEmailIdentityMailFromAttributesInput{EmailIdentity: n, MailFromDomain: aws.String("mail.unknown.example")})
			return err
		},
		"PutEmailIdentityFeedbackAttributes": func() error {
			_, err := c.PutEmailIdentityFeedbackAttributes(ctx, &sesv2.PutEmailIdentityFeedbackAttributesInput{EmailIdentity: n, EmailForwardingEnabled: true})
			return err
		},
		"PutEmailIdentityConfigurationSetAttributes": func() error {
			_, err := c.PutEmailIdentityConfigurationSetAttributes(ctx, &sesv2.PutEmailIdentityConfigurationSetAttributesInput{EmailIdentity: n})
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			if msg := wantAPIError(t, call(), "NotFoundException", http.StatusNotFound); !strings.Contains(msg, "unknown.example") {
				t.Errorf("message %q does not name the identity", msg)
			}
		})
	}
}

// TestV2ListConfigurationSetsGET: the model's binding (GET with PageSize
// and NextToken in the query string), which botocore uses; the Go SDK
// POSTs to /v2/email/list-configuration-sets.
func TestV2ListConfigurationSetsGET(t *testing.T) {
	t.Parallel()
	srv, a := start(t)
	c := a.V2(east)
	for _, n := range []string{"b", "a", "c"} {
		try(c.CreateConfigurationSet(t.Context(), &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String(n)})).must(t)
	}
	var names []string
	token := ""
	for range 4 {
		target := "/v2/email/configuration-sets?PageSize=2"
		if token != "" {
			target += "&NextToken=" + url.QueryEscape(token)
		}
		resp, body := send(t, srv, raw{Method: "GET", Target: target, Creds: a.AWS()})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		var page struct {
			ConfigurationSets []string
			NextToken         string
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		names = append(names, page.ConfigurationSets...)
		if token = page.NextToken; token == "" {
			break
		}
	}
	if diff := cmp.Diff([]string{"a", "b", "c"}, names); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	resp, body := send(t, srv, raw{Method: "GET", Target: "/v2/email/configuration-sets?PageSize=1001", Creds: a.AWS()})
	wantV2Error(t, resp, body, http.StatusBadRequest, "BadRequestException")
	resp, body = send(t, srv, raw{Method: "GET", Target: "/v2/email/configuration-sets/a/event-destinations", Creds: a.AWS()})
	wantV2Error(t, resp, body, http.StatusNotFound, "UnknownOperationException")
}
