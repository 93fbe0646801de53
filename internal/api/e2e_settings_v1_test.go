package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/google/go-cmp/cmp"
)

// examplePolicy is the policy of the model's PutIdentityPolicy example,
// for this test's account.
func examplePolicy(account, identity string) string {
	return `{"Version":"2008-10-17","Statement":[{"Sid":"stmt1469123904194","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":["ses:SendEmail","ses:SendRawEmail"],"Resource":"arn:aws:ses:us-east-1:` + account + `:identity/` + identity + `"}]}`
}

func TestV1Notifications(t *testing.T) {
	t.Parallel()
	_, a := start(t)
	c := a.V1(east)
	ctx := t.Context()
	verifyDomain(t, c, "example.com")
	topic := "arn:aws:sns:us-east-1:" + a.AccountId + ":ExampleTopic"
	get := func() types.IdentityNotificationAttributes {
		t.Helper()
		out := try(c.GetIdentityNotificationAttributes(ctx, &ses.GetIdentityNotificationAttributesInput{Identities: []string{"example.com", "unknown.example"}})).must(t)
		if len(out.NotificationAttributes) != 1 {
			t.Fatalf("NotificationAttributes %v, want example.com only", out.NotificationAttributes)
		}
		return out.NotificationAttributes["example.com"]
	}
	// A new identity: no topics, forwarding on, no headers (the model's
	// example, without topics).
	want := types.IdentityNotificationAttributes{BounceTopic: aws.String(""), ComplaintTopic: aws.String(""), DeliveryTopic: aws.String(""), ForwardingEnabled: true}
	if diff := cmp.Diff(want, get(), cmpOpts); diff != "" {
		t.Errorf("new identity (-want +got):\n%s", diff)
	}
	_, err := c.SetIdentityFeedbackForwardingEnabled(ctx, &ses.SetIdentityFeedbackForwardingEnabledInput{Identity: aws.String("example.com"), ForwardingEnabled: false})
	if msg := wantAPIError(t, err, "InvalidParameterValue", http.StatusBadRequest); !strings.Contains(msg, "Bounce and Complaint") {
		t.Errorf("message %q does not say which topics to set", msg)
	}
	for _, typ := range []types.NotificationType{types.NotificationTypeBounce, types.NotificationTypeComplaint, types.NotificationTypeDelivery} {
		try(c.SetIdentityNotificationTopic(ctx, &ses.SetIdentityNotificationTopicInput{Identity: aws.String("example.com"), NotificationType: typ, SnsTopic: aws.String(topic)})).must(t)
	}
	try(c.SetIdentityFeedbackForwardingEnabled(ctx, &ses.SetIdentityFeedbackForwardingEnabledInput{Identity: aws.String("example.com"), ForwardingEnabled: false})).must(t)
	try(c.SetIdentityHeadersInNotificationsEnabled(ctx, &ses.SetIdentityHeadersInNotificationsEnabledInput{Identity: aws.String("example.com"), NotificationType: types.NotificationTypeDelivery, Enabled: true})).must(t)
	want = types.IdentityNotificationAttributes{BounceTopic: aws.String(topic), ComplaintTopic: aws.String(topic), DeliveryTopic: aws.String(topic), HeadersInDeliveryNotificationsEnabled: true}
	if diff := cmp.Diff(want, get(), cmpOpts); diff != "" {
		t.Errorf("after setting (-want +got):\n%s", diff)
	}
	// The v2 view of the same store.
	v2 := getIdentity(t, a.V2(east), "example.com")
	if v2.FeedbackForwardingStatus {
		t.Error("v2 FeedbackForwardingStatus true after v1 disabled it")
	}
	_, err = c.SetIdentityNotificationTopic(ctx, &ses.SetIdentityNotificationTopicInput{Identity: aws.String("example.com"), NotificationType: types.NotificationTypeBounce})
	wantAPIError(t, err, "InvalidParameterValue", http.StatusBadRequest)
	_, err = c.SetIdentityNotificationTopic(ctx, &ses.SetIdentityNotificationTopicInput{Identity: aws.String("unknown.example"), NotificationType: types.NotificationTypeBounce, SnsTopic: aws.String(topic)})
	if msg := wantAPIError(t, err, "InvalidParameterValue", http.StatusBadRequest); !strings.Contains(msg, "does not exist") {
		t.Errorf("unknown identity: message %q", msg)
	}
}

func TestV1Policies(t *testing.T) {
	t.Parallel()
	_, a := start(t)
	c := a.V1(east)
	ctx := t.Context()
	verifyDomain(t, c, "example.com")
	doc := examplePolicy(a.AccountId, "example.com")
	try(c.PutIdentityPolicy(ctx, &ses.PutIdentityPolicyInput{Identity: aws.String("example.com"), PolicyName: aws.String("MyPolicy"), Policy: aws.String(doc)})).must(t)
	got := try(c.GetIdentityPolicies(ctx, &ses.GetIdentityPoliciesInput{Identity: aws.String("example.com"), PolicyNames: []string{"MyPolicy", "Other"}})).must(t)
	if diff := cmp.Diff(map[string]string{"MyPolicy": doc}, got.Policies); diff != "" {
		t.Errorf("GetIdentityPolicies (-want +got):\n%s", diff)
	}
	l := try(c.ListIdentityPolicies(ctx, &ses.ListIdentityPoliciesInput{Identity: aws.String("example.com")})).must(t)
	if diff := cmp.Diff([]string{"MyPolicy"}, l.PolicyNames); diff != "" {
		t.Errorf("ListIdentityPolicies (-want +got):\n%s", diff)
	}
	v2 := getIdentity(t, a.V2(east), "example.com")
	if diff := cmp.Diff(map[string]string{"MyPolicy": doc}, v2.Policies); diff != "" {
		t.Errorf("v2 GetEmailIdentity Policies (-want +got):\n%s", diff)
	}
	_, err := c.PutIdentityPolicy(ctx, &ses.PutIdentityPolicyInput{Identity: aws.String("example.com"), PolicyName: aws.String("Bad"), Policy: aws.String(`{"Version":"2012-10-17","Statement":[]}`)})
	if msg := wantAPIError(t, err, "InvalidPolicy", http.StatusBadRequest); !strings.Contains(msg, "Statement is empty") {
		t.Errorf("message %q", msg)
	}
	_, err = c.PutIdentityPolicy(ctx, &ses.PutIdentityPolicyInput{Identity: aws.String("example.com"), PolicyName: aws.String("bad name"), Policy: aws.String(doc)})
	wantAPIError(t, err, "InvalidParameterValue", http.StatusBadRequest)
	try(c.DeleteIdentityPolicy(ctx, &ses.DeleteIdentityPolicyInput{Identity: aws.String("example.com"), PolicyName: aws.String("MyPolicy")})).must(t)
	try(c.DeleteIdentityPolicy(ctx, &ses.DeleteIdentityPolicyInput{Identity: aws.String("example.com"), PolicyName: aws.String("MyPolicy")})).must(t)
	l = try(c.ListIdentityPolicies(ctx, &ses.ListIdentityPoliciesInput{Identity: aws.String("example.com")})).must(t)
	if len(l.PolicyNames) != 0 {
		t.Errorf("after delete: %v", l.PolicyNames)
	}
}
