package registry

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// policyDoc is a policy letting principal use example.com for actions.
func policyDoc(effect, principal, actions string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"s1","Effect":%q,"Principal":{"AWS":%q},"Action":%s,"Resource":"arn:aws:ses:us-east-1:111111111111:identity/example.com"}]}`, effect, principal, actions)
}

func TestPolicyValidation(t *testing.T) {
	r := newTest(t)
	ctx := t.Context()
	if _, err := r.VerifyDomainIdentity(ctx, east, "example.com"); err != nil {
		t.Fatal(err)
	}
	ok := policyDoc("Allow", "222222222222", `["ses:SendEmail","ses:SendRawEmail"]`)
	for _, tc := range []struct {
		name, policy, doc string
		kind              Kind
		msg               string
	}{
		{name: "bad name", policy: "my policy", doc: ok, kind: Invalid, msg: "letters, digits"},
		{name: "long name", policy: strings.Repeat("a", 65), doc: ok, kind: Invalid, msg: "1 to 64"},
		{name: "too large", policy: "p", doc: ok[:len(ok)-1] + `,"Id":"` + strings.Repeat("x", MaxPolicySize) + `"}`, kind: InvalidPolicy, msg: "4 KB"},
		{name: "not JSON", policy: "p", doc: `{"Version":`, kind: InvalidPolicy, msg: "not valid JSON"},
		{name: "two objects", policy: "p", doc: ok + ok, kind: InvalidPolicy, msg: "not valid JSON"},
		{name: "version", policy: "p", doc: strings.Replace(ok, "2012-10-17", "2020-01-01", 1), kind: InvalidPolicy, msg: "Version"},
		{name: "no statement", policy: "p", doc: `{"Version":"2012-10-17"}`, kind: InvalidPolicy, msg: "no Statement"},
		{name: "effect", policy: "p", doc: policyDoc("Maybe", "222222222222", `"ses:SendEmail"`), kind: InvalidPolicy, msg: "Effect"},
		{name: "action", policy: "p", doc: policyDoc("Allow", "222222222222", `"ses:DeleteIdentity"`), kind: InvalidPolicy, msg: "not a sending action"},
		{name: "resource", policy: "p", doc: strings.Replace(ok, "identity/example.com", "identity/other.com", 1), kind: InvalidPolicy, msg: "not this identity"},
		{name: "no principal", policy: "p", doc: strings.Replace(ok, `"Principal":{"AWS":"222222222222"},`, "", 1), kind: InvalidPolicy, msg: "no Principal"},
		{name: "unknown member", policy: "p", doc: strings.Replace(ok, `"Sid":"s1"`, `"Sid":"s1","Effects":"Allow"`, 1), kind: InvalidPolicy, msg: "unknown member"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := r.PutPolicy(ctx, east, "example.com", tc.policy, tc.doc, PolicyUpsert)
			if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("PutPolicy: %v, want %v containing %q", err, tc.kind, tc.msg)
			}
		})
	}
	if err := r.PutPolicy(ctx, east, "unknown.example", "p", ok, PolicyUpsert); !errors.Is(err, NotFound) {
		t.Errorf("unknown identity: %v, want NotFound", err)
	}
	// 20 policies, then the limit; replacing one is not a new one.
	for i := range MaxPolicies {
		if err := r.PutPolicy(ctx, east, "example.com", fmt.Sprintf("p%02d", i), ok, PolicyUpsert); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.PutPolicy(ctx, east, "example.com", "one-more", ok, PolicyUpsert); !errors.Is(err, LimitExceeded) {
		t.Errorf("21st policy: %v, want LimitExceeded", err)
	}
	if err := r.PutPolicy(ctx, east, "example.com", "p00", ok, PolicyUpdate); err != nil {
		t.Errorf("replacing one: %v", err)
	}
	if err := r.PutPolicy(ctx, east, "example.com", "p00", ok, PolicyCreate); !errors.Is(err, AlreadyExists) {
		t.Errorf("creating an existing one: %v, want AlreadyExists", err)
	}
	if err := r.DeletePolicy(ctx, east, "example.com", "nope", true); !errors.Is(err, NotFound) {
		t.Errorf("v2 delete of a missing policy: %v, want NotFound", err)
	}
	if err := r.DeletePolicy(ctx, east, "example.com", "nope", false); err != nil {
		t.Errorf("v1 delete of a missing policy: %v", err)
	}
	if err := r.PutPolicy(ctx, east, "example.com", "nope", ok, PolicyUpdate); !errors.Is(err, NotFound) {
		t.Errorf("updating a missing policy: %v, want NotFound", err)
	}
	got, err := r.IdentityPolicies(ctx, east, "arn:aws:ses:us-east-1:111111111111:identity/example.com", []string{"p01", "absent"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"p01": ok}, got); diff != "" {
		t.Errorf("IdentityPolicies (-want +got):\n%s", diff)
	}
}

// TestMaySend: only a policy's Allow lets another account send from an
// identity, a Deny wins, conditions never grant, the owner always may.
func TestMaySend(t *testing.T) {
	r := newTest(t)
	ctx := t.Context()
	if _, err := r.VerifyDomainIdentity(ctx, east, "example.com"); err != nil {
		t.Fatal(err)
	}
	k := east.key("example.com")
	const other, third = "222222222222", "333333333333"
	may := func(sender, action string) bool {
		t.Helper()
		ok, err := r.MaySend(ctx, sender, k, action)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !may(east.Account, "ses:SendEmail") || may(other, "ses:SendEmail") {
		t.Fatal("without policies: only the owner may send")
	}
	put := func(name, doc string) {
		t.Helper()
		if err := r.PutPolicy(ctx, east, "example.com", name, doc, PolicyUpsert); err != nil {
			t.Fatal(err)
		}
	}
	put("allow", policyDoc("Allow", "arn:aws:iam::"+other+":root", `["ses:SendEmail"]`))
	if !may(other, "ses:SendEmail") || may(other, "ses:SendRawEmail") || may(third, "ses:SendEmail") {
		t.Error("an Allow of SendEmail for one account: that account, that action only")
	}
	put("wild", policyDoc("Allow", third, `"ses:send*"`))
	if !may(third, "ses:SendRawEmail") || !may(third, "ses:SendTemplatedEmail") {
		t.Error("ses:send* allows every sending action, in any case")
	}
	put("deny", policyDoc("Deny", other, `"ses:*"`))
	if may(other, "ses:SendEmail") {
		t.Error("an explicit Deny beats an Allow")
	}
	if err := r.DeletePolicy(ctx, east, "example.com", "deny", true); err != nil {
		t.Fatal(err)
	}
	cond := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ses:SendRawEmail","Resource":"arn:aws:ses:us-east-1:111111111111:identity/example.com","Condition":{"StringEquals":{"ses:FromAddress":"a@example.com"}}}]}`
	put("cond", cond)
	if may(other, "ses:SendRawEmail") {
		t.Error("a conditional Allow granted")
	}
	condDeny := strings.Replace(strings.Replace(cond, `"Allow"`, `"Deny"`, 1), "SendRawEmail", "SendEmail", 1)
	put("cond", condDeny)
	if may(other, "ses:SendEmail") {
		t.Error("a conditional Deny did not deny")
	}
	if !may(east.Account, "ses:SendEmail") {
		t.Error("the owner is not bound by its policies")
	}
	if _, err := r.MaySend(ctx, other, east.key("unknown.example"), "ses:SendEmail"); !errors.Is(err, NotFound) {
		t.Errorf("unknown identity: %v, want NotFound", err)
	}
}

func TestNotifications(t *testing.T) {
	r := newTest(t)
	ctx := t.Context()
	if _, err := r.VerifyDomainIdentity(ctx, east, "example.com"); err != nil {
		t.Fatal(err)
	}
	const topic = "arn:aws:sns:us-east-1:111111111111:bounces"
	if _, err := r.SetFeedbackForwarding(ctx, east, "example.com", false, true); !errors.Is(err, Invalid) || !strings.Contains(err.Error(), "Bounce and Complaint") {
		t.Errorf("disabling forwarding without topics: %v, want Invalid naming the topics", err)
	}
	for _, typ := range []string{"Bounce", "Complaint"} {
		if _, err := r.SetNotificationTopic(ctx, east, "example.com", typ, topic); err != nil {
			t.Fatal(err)
		}
	}
	id, err := r.SetFeedbackForwarding(ctx, east, "example.com", false, true)
	if err != nil || id.FeedbackForwardingStatus {
		t.Fatalf("disabling forwarding with topics: %v %v", id, err)
	}
	if _, err := r.SetNotificationTopic(ctx, east, "example.com", "Bounce", ""); !errors.Is(err, Invalid) {
		t.Errorf("removing the bounce topic while forwarding is off: %v, want Invalid", err)
	}
	if _, err := r.SetNotificationTopic(ctx, east, "example.com", "Delivery", "not-an-arn"); !errors.Is(err, Invalid) {
		t.Errorf("a topic that is no ARN: %v, want Invalid", err)
	}
	if _, err := r.SetHeadersInNotifications(ctx, east, "example.com", "Sometimes", true); !errors.Is(err, Invalid) {
		t.Errorf("bad type: %v, want Invalid", err)
	}
	id, err = r.SetHeadersInNotifications(ctx, east, "example.com", "Complaint", true)
	if err != nil || !id.Notifications.HeadersInComplaint || id.Notifications.HeadersInBounce {
		t.Errorf("headers in complaints: %+v %v", id.Notifications, err)
	}
	// v2 may turn forwarding off without topics.
	if _, err := r.VerifyDomainIdentity(ctx, east, "v2.example"); err != nil {
		t.Fatal(err)
	}
	if id, err := r.SetFeedbackForwarding(ctx, east, "v2.example", false, false); err != nil || id.FeedbackForwardingStatus {
		t.Errorf("v2 disabling forwarding without topics: %v", err)
	}
	// The identity may be named by its ARN, but not another account's.
	if _, err := r.SetNotificationTopic(ctx, east, "arn:aws:ses:us-east-1:111111111111:identity/example.com", "Delivery", topic); err != nil {
		t.Errorf("by ARN: %v", err)
	}
	if _, err := r.SetNotificationTopic(ctx, east, "arn:aws:ses:us-east-1:222222222222:identity/example.com", "Delivery", topic); !errors.Is(err, NotFound) {
		t.Errorf("another account's ARN: %v, want NotFound", err)
	}
	if _, err := r.SetHeadersInNotifications(ctx, east, "nobody@example.com", "Bounce", true); !errors.Is(err, NotFound) {
		t.Errorf("unknown identity: %v, want NotFound", err)
	}
}

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"ses:Send*", "ses:SendRawEmail", true},
		{"ses:*Email", "ses:SendEmail", true},
		{"ses:Send?mail", "ses:SendEmail", true},
		{"ses:Send?mail", "ses:SendRawEmail", false},
		{"*", "", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"arn:aws:ses:us-east-1:111111111111:identity/*", "arn:aws:ses:us-east-1:111111111111:identity/example.com", true},
		{strings.Repeat("*", 2000) + "x", strings.Repeat("a", 2000), false},
	} {
		if got := glob(tc.pattern, tc.s, false); got != tc.want {
			t.Errorf("glob(%.40q, %.40q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

// TestDKIMOf: an address's mail is signed with its domain's DKIM while
// signing is on for the domain or for the address; the address itself
// reports only its own switch (OwnDKIM).
func TestDKIMOf(t *testing.T) {
	r := newTest(t)
	ctx := t.Context()
	if _, err := r.VerifyDomainDkim(ctx, east, "example.com"); err != nil {
		t.Fatal(err)
	}
	a, err := r.VerifyEmailIdentity(ctx, east, "user@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if v := OwnDKIM(a); v.Enabled || v.Status != "NotStarted" || len(v.Tokens) != 0 {
		t.Errorf("OwnDKIM of a new address: %+v", v)
	}
	v, err := r.DKIMOf(ctx, east, a)
	if err != nil || !v.Enabled || len(v.Tokens) != 3 {
		t.Errorf("DKIMOf of an address in a signing domain: %+v %v", v, err)
	}
	if _, err := r.SetDKIMEnabled(ctx, east, "example.com", false); err != nil {
		t.Fatal(err)
	}
	if v, _ := r.DKIMOf(ctx, east, a); v.Enabled {
		t.Error("signed though neither the domain nor the address signs")
	}
	a, err = r.SetDKIMEnabled(ctx, east, "user@example.com", true)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := r.DKIMOf(ctx, east, a); !v.Enabled || !OwnDKIM(a).Enabled {
		t.Error("the address's own switch does not sign")
	}
}
