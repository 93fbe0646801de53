package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/sesame/sesame/internal/sestest"
	"github.com/sesame/sesame/internal/store"
)

// production lifts the sandbox of a in region, as `sesame accounts
// sending --production` does, with rates no test reaches.
func production(t *testing.T, srv *sestest.Server, a *sestest.Account, region string) {
	t.Helper()
	if _, err := srv.Sesame.Store.UpdateSendingState(t.Context(), a.AccountId, region, func(s *store.SendingState) error {
		s.Production, s.MaxSendRate = true, -1
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func simple(from string, to ...string) *ses.SendEmailInput {
	return &ses.SendEmailInput{Source: aws.String(from), Destination: &types.Destination{ToAddresses: to},
		Message: &types.Message{Subject: &types.Content{Data: aws.String("Hello")}, Body: &types.Body{Text: &types.Content{Data: aws.String("Hi there")}}}}
}

// sent is the captured message of a MessageId.
func sent(t *testing.T, srv *sestest.Server, id string) *store.Message {
	t.Helper()
	m, err := srv.Sesame.Store.GetMessage(t.Context(), id)
	if err != nil {
		t.Fatalf("message %s: %v", id, err)
	}
	return m
}

// TestSendGate: SES's refusals, with its codes and texts, and a refused
// call stores nothing.
func TestSendGate(t *testing.T) {
	srv, a := start(t)
	c := a.V1("us-east-1")
	ctx := t.Context()
	count := func() int {
		n, err := srv.Sesame.Store.CountMessages(ctx, store.Limit{Kind: store.SentMail, Account: a.AccountId, Region: "us-east-1"})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	// An unverified source.
	_, err := c.SendEmail(ctx, simple("App <app@example.com>", "success@simulator.amazonses.com"))
	msg := wantAPIError(t, err, "MessageRejected", http.StatusBadRequest)
	if want := "Email address is not verified. The following identities failed the check in region US-EAST-1: App <app@example.com>, app@example.com"; msg != want {
		t.Errorf("message\n got %q\nwant %q", msg, want)
	}
	// A pending domain is not verified either.
	verifyDomain(t, c, "example.com")
	_, err = c.SendEmail(ctx, simple("app@example.com", "success@simulator.amazonses.com"))
	wantAPIError(t, err, "MessageRejected", http.StatusBadRequest)

	markVerified(t, srv, a, "us-east-1", "example.com")
	// The sandbox: the simulator is open, other recipients must be verified.
	id := try(c.SendEmail(ctx, simple("app@example.com", "success@simulator.amazonses.com"))).must(t).MessageId
	if m := sent(t, srv, aws.ToString(id)); m.Status != store.Sent || m.Sent.Action != "SendEmail" ||
		len(m.Sent.Simulated) != 1 || m.Sent.Simulated[0] != "success@simulator.amazonses.com: delivered" {
		t.Errorf("simulator message: %+v %+v", m, m.Sent)
	}
	_, err = c.SendEmail(ctx, simple("app@sub.example.com", "someone@example.org", "x@example.com"))
	msg = wantAPIError(t, err, "MessageRejected", http.StatusBadRequest)
	if !strings.HasSuffix(msg, "in region US-EAST-1: someone@example.org") {
		t.Errorf("sandbox message %q: want the unverified recipient alone (the subdomain and x@ are covered by example.com)", msg)
	}
	// The region matters: eu-west-1 has no verified identity.
	_, err = a.V1("eu-west-1").SendEmail(ctx, simple("app@example.com", "success@simulator.amazonses.com"))
	wantAPIError(t, err, "MessageRejected", http.StatusBadRequest)

	// The sandbox's rate of 1 a second: the message just sent used it.
	_, err = c.SendEmail(ctx, simple("app@example.com", "x@example.com"))
	if msg := wantAPIError(t, err, "Throttling", http.StatusBadRequest); msg != "Maximum sending rate exceeded." {
		t.Errorf("rate message %q", msg)
	}

	production(t, srv, a, "us-east-1")
	try(c.SendEmail(ctx, simple("app@example.com", "someone@example.org"))).must(t)
	before := count()

	// A configuration set must exist; one that does is taken.
	in := simple("app@example.com", "someone@example.org")
	in.ConfigurationSetName = aws.String("nope")
	_, err = c.SendEmail(ctx, in)
	wantAPIError(t, err, "ConfigurationSetDoesNotExist", http.StatusBadRequest)
	try(a.V2("us-east-1").CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("app")})).must(t)
	in.ConfigurationSetName = aws.String("app")
	try(c.SendEmail(ctx, in)).must(t)
	_, err = a.V2("us-east-1").SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("app@example.com"), ConfigurationSetName: aws.String("nope"),
		Destination: &v2types.Destination{ToAddresses: []string{"someone@example.org"}},
		Content:     &v2types.EmailContent{Simple: &v2types.Message{Subject: &v2types.Content{Data: aws.String("s")}, Body: &v2types.Body{Text: &v2types.Content{Data: aws.String("b")}}}}})
	wantAPIError(t, err, "NotFoundException", http.StatusNotFound)
	before = count()

	// Validation.
	_, err = c.SendEmail(ctx, simple("app@example.com"))
	wantAPIError(t, err, "InvalidParameterValue", http.StatusBadRequest)
	many := make([]string, 51)
	for i := range many {
		many[i] = "r@example.org"
	}
	_, err = c.SendEmail(ctx, simple("app@example.com", many...))
	wantAPIError(t, err, "InvalidParameterValue", http.StatusBadRequest)
	_, err = c.SendEmail(ctx, simple("app@example.com", "not an address"))
	wantAPIError(t, err, "InvalidParameterValue", http.StatusBadRequest)
	_, err = c.SendRawEmail(ctx, &ses.SendRawEmailInput{RawMessage: &types.RawMessage{Data: []byte("From: app@example.com\r\nTo: a@example.org\r\nSubject: a\r\nSubject: b\r\n\r\nx\r\n")}})
	if msg := wantAPIError(t, err, "InvalidParameterValue", http.StatusBadRequest); msg != "Duplicate header 'Subject'." {
		t.Errorf("duplicate header message %q", msg)
	}
	_, err = c.SendRawEmail(ctx, &ses.SendRawEmailInput{RawMessage: &types.RawMessage{Data: []byte("From: app@example.com\r\nTo: a@example.org\r\n\r\n" + strings.Repeat("x", 10<<20))}})
	wantAPIError(t, err, "MessageRejected", http.StatusBadRequest)

	// The pause.
	try(c.UpdateAccountSendingEnabled(ctx, &ses.UpdateAccountSendingEnabledInput{Enabled: false})).must(t)
	_, err = c.SendEmail(ctx, simple("app@example.com", "someone@example.org"))
	wantAPIError(t, err, "AccountSendingPausedException", http.StatusBadRequest)
	_, err = a.V2("us-east-1").SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("app@example.com"),
		Destination: &v2types.Destination{ToAddresses: []string{"someone@example.org"}},
		Content:     &v2types.EmailContent{Simple: &v2types.Message{Subject: &v2types.Content{Data: aws.String("s")}, Body: &v2types.Body{Text: &v2types.Content{Data: aws.String("b")}}}}})
	wantAPIError(t, err, "SendingPausedException", http.StatusBadRequest)
	try(c.UpdateAccountSendingEnabled(ctx, &ses.UpdateAccountSendingEnabledInput{Enabled: true})).must(t)

	// The daily quota counts recipients.
	if _, err := srv.Sesame.Store.UpdateSendingState(ctx, a.AccountId, "us-east-1", func(s *store.SendingState) error {
		s.Max24HourSend = float64(before + 1)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Mail to the mailbox simulator "counts against the rate limit but not
	// the daily quota", then or later.
	try(c.SendEmail(ctx, simple("app@example.com", "success@simulator.amazonses.com"))).must(t)
	_, err = c.SendEmail(ctx, simple("app@example.com", "a@example.org", "b@example.org"))
	if msg := wantAPIError(t, err, "Throttling", http.StatusBadRequest); msg != "Daily message quota exceeded." {
		t.Errorf("quota message %q", msg)
	}
	if n := count(); n != before {
		t.Errorf("refused calls stored messages: %d recipients counted, want %d", n, before)
	}
	try(c.SendEmail(ctx, simple("app@example.com", "a@example.org"))).must(t)
	if q := try(c.GetSendQuota(ctx, &ses.GetSendQuotaInput{})).must(t); int(q.SentLast24Hours) != before+1 {
		t.Errorf("SentLast24Hours = %v, want %d", q.SentLast24Hours, before+1)
	}
	if st := try(c.GetSendStatistics(ctx, &ses.GetSendStatisticsInput{})).must(t); len(st.SendDataPoints) == 0 {
		t.Error("GetSendStatistics has no data point after sending")
	}
}

// TestSendCaptured: each send call's message is in the outbox with SES's
// Message-ID and Date, as the relay would get it.
func TestSendCaptured(t *testing.T) {
	srv, a := start(t)
	c, c2 := a.V1("eu-west-1"), a.V2("eu-west-1")
	ctx := t.Context()
	verifyDomain(t, a.V1("eu-west-1"), "example.com")
	markVerified(t, srv, a, "eu-west-1", "example.com")
	production(t, srv, a, "eu-west-1")

	id := aws.ToString(try(c.SendEmail(ctx, &ses.SendEmailInput{Source: aws.String("Ana <ana@example.com>"),
		Destination:      &types.Destination{ToAddresses: []string{"to@example.org"}, CcAddresses: []string{"cc@example.org"}, BccAddresses: []string{"bcc@example.org"}},
		ReplyToAddresses: []string{"reply@example.net"},
		Message: &types.Message{Subject: &types.Content{Data: aws.String("Grüße")},
			Body: &types.Body{Text: &types.Content{Data: aws.String("text")}, Html: &types.Content{Data: aws.String("<p>html</p>")}}}})).must(t).MessageId)
	m := sent(t, srv, id)
	raw := string(m.Raw)
	for _, want := range []string{"Message-ID: <" + id + "@eu-west-1.amazonses.com>\r\n", "From: \"Ana\" <ana@example.com>\r\n", "To: <to@example.org>\r\n",
		"Cc: <cc@example.org>\r\n", "Reply-To: <reply@example.net>\r\n", "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n", "multipart/alternative", "<p>html</p>"} {
		if !strings.Contains(raw, want) {
			t.Errorf("message lacks %q:\n%s", want, raw)
		}
	}
	if strings.Contains(raw, "bcc@example.org") {
		t.Errorf("Bcc is in the message:\n%s", raw)
	}
	if strings.Join(m.Recipients, " ") != "to@example.org cc@example.org bcc@example.org" || m.From != id+"@eu-west-1.amazonses.com" || m.Status != store.Local {
		t.Errorf("envelope: from %s to %v, status %s", m.From, m.Recipients, m.Status)
	}
	if len(id) != 60 || !strings.HasSuffix(id, "-000000") {
		t.Errorf("MessageId %q is not in SES's form", id)
	}

	// Raw: SES replaces Message-ID and Date, strips Bcc and the ARN headers.
	rawIn := "From: ana@example.com\r\nTo: to@example.org\r\nBcc: hidden@example.org\r\nMessage-ID: <mine@x>\r\nDate: Mon, 1 Jan 2001 00:00:00 +0000\r\nX-SES-SOURCE-ARN: arn:aws:ses:eu-west-1:" + a.AccountId + ":identity/example.com\r\nSubject: raw\r\n\r\nbody\r\n"
	id = aws.ToString(try(c.SendRawEmail(ctx, &ses.SendRawEmailInput{RawMessage: &types.RawMessage{Data: []byte(rawIn)}})).must(t).MessageId)
	m = sent(t, srv, id)
	raw = string(m.Raw)
	for _, bad := range []string{"<mine@x>", "2001", "hidden@", "X-SES-SOURCE-ARN"} {
		if strings.Contains(raw, bad) {
			t.Errorf("raw message kept %q:\n%s", bad, raw)
		}
	}
	if !strings.HasSuffix(raw, "Subject: raw\r\n\r\nbody\r\n") || strings.Join(m.Recipients, " ") != "to@example.org hidden@example.org" {
		t.Errorf("raw message to %v:\n%s", m.Recipients, raw)
	}
	// An unverified From header is refused even with a verified Source.
	_, err := c.SendRawEmail(ctx, &ses.SendRawEmailInput{Source: aws.String("ana@example.com"), RawMessage: &types.RawMessage{Data: []byte("From: eve@evil.example\r\nTo: a@example.org\r\n\r\nx\r\n")}})
	wantAPIError(t, err, "MessageRejected", http.StatusBadRequest)

	// An identity ARN of the caller's own account needs no policy; another
	// account's needs one (TestSendAuthorization).
	own := simple("ana@example.com", "to@example.org")
	own.SourceArn = aws.String("arn:aws:ses:eu-west-1:" + a.AccountId + ":identity/example.com")
	try(c.SendEmail(ctx, own)).must(t)
	other := simple("ana@example.com", "to@example.org")
	other.SourceArn = aws.String("arn:aws:ses:eu-west-1:999999999999:identity/example.com")
	_, err = c.SendEmail(ctx, other)
	wantAPIError(t, err, "AccessDenied", http.StatusForbidden)

	// Templated, v1 and v2.
	try(c.CreateTemplate(ctx, &ses.CreateTemplateInput{Template: &types.Template{TemplateName: aws.String("t"), SubjectPart: aws.String("Hi {{name}}"), TextPart: aws.String("Dear {{name}}")}})).must(t)
	id = aws.ToString(try(c.SendTemplatedEmail(ctx, &ses.SendTemplatedEmailInput{Source: aws.String("ana@example.com"), Destination: &types.Destination{ToAddresses: []string{"to@example.org"}},
		Template: aws.String("t"), TemplateData: aws.String(`{"name":"Bo"}`)})).must(t).MessageId)
	if raw := string(sent(t, srv, id).Raw); !strings.Contains(raw, "Subject: Hi Bo\r\n") || !strings.Contains(raw, "Dear Bo") {
		t.Errorf("templated message:\n%s", raw)
	}
	_, err = c.SendTemplatedEmail(ctx, &ses.SendTemplatedEmailInput{Source: aws.String("ana@example.com"), Destination: &types.Destination{ToAddresses: []string{"to@example.org"}},
		Template: aws.String("nope"), TemplateData: aws.String(`{}`)})
	wantAPIError(t, err, "TemplateDoesNotExist", http.StatusBadRequest)
	// A rendering failure still returns a MessageId, and nothing is sent.
	id = aws.ToString(try(c.SendTemplatedEmail(ctx, &ses.SendTemplatedEmailInput{Source: aws.String("ana@example.com"), Destination: &types.Destination{ToAddresses: []string{"to@example.org"}},
		Template: aws.String("t"), TemplateData: aws.String(`{}`)})).must(t).MessageId)
	if _, err := srv.Sesame.Store.GetMessage(ctx, id); err == nil {
		t.Errorf("a message that failed to render was stored")
	}
	bulk := try(c.SendBulkTemplatedEmail(ctx, &ses.SendBulkTemplatedEmailInput{Source: aws.String("ana@example.com"), Template: aws.String("t"), DefaultTemplateData: aws.String(`{"name":"all"}`),
		Destinations: []types.BulkEmailDestination{
			{Destination: &types.Destination{ToAddresses: []string{"one@example.org"}}, ReplacementTemplateData: aws.String(`{"name":"One"}`)},
			{Destination: &types.Destination{ToAddresses: []string{"two@example.org"}}, ReplacementTemplateData: aws.String(`{}`)},
			{Destination: &types.Destination{ToAddresses: []string{"bad address"}}},
		}})).must(t)
	if len(bulk.Status) != 3 || bulk.Status[0].Status != types.BulkEmailStatusSuccess || bulk.Status[1].Status != types.BulkEmailStatusSuccess ||
		bulk.Status[2].Status != types.BulkEmailStatusInvalidParameterValue {
		t.Fatalf("bulk statuses: %+v", bulk.Status)
	}
	if raw := string(sent(t, srv, aws.ToString(bulk.Status[1].MessageId)).Raw); !strings.Contains(raw, "Dear all") {
		t.Errorf("the {} destination did not get DefaultTemplateData:\n%s", raw)
	}

	id = aws.ToString(try(c2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("ana@example.com"), Destination: &v2types.Destination{ToAddresses: []string{"to@example.org"}},
		Content: &v2types.EmailContent{Template: &v2types.Template{TemplateName: aws.String("t"), TemplateData: aws.String(`{"name":"V2"}`)}}})).must(t).MessageId)
	if raw := string(sent(t, srv, id).Raw); !strings.Contains(raw, "Dear V2") {
		t.Errorf("v2 templated message:\n%s", raw)
	}
	id = aws.ToString(try(c2.SendEmail(ctx, &sesv2.SendEmailInput{Destination: &v2types.Destination{ToAddresses: []string{"to@example.org"}},
		Content: &v2types.EmailContent{Raw: &v2types.RawMessage{Data: []byte("From: ana@example.com\r\nSubject: v2 raw\r\n\r\nhello\r\n")}}})).must(t).MessageId)
	if m := sent(t, srv, id); !strings.Contains(string(m.Raw), "v2 raw") || m.Recipients[0] != "to@example.org" {
		t.Errorf("v2 raw message: %+v", m)
	}
	v2bulk := try(c2.SendBulkEmail(ctx, &sesv2.SendBulkEmailInput{FromEmailAddress: aws.String("ana@example.com"),
		DefaultContent: &v2types.BulkEmailContent{Template: &v2types.Template{TemplateName: aws.String("t"), TemplateData: aws.String(`{"name":"d"}`)}},
		BulkEmailEntries: []v2types.BulkEmailEntry{{Destination: &v2types.Destination{ToAddresses: []string{"one@example.org"}}},
			{Destination: &v2types.Destination{ToAddresses: []string{"two@example.org"}}, ReplacementEmailContent: &v2types.ReplacementEmailContent{ReplacementTemplate: &v2types.ReplacementTemplate{ReplacementTemplateData: aws.String(`{"name":"r"}`)}}}},
	})).must(t)
	if len(v2bulk.BulkEmailEntryResults) != 2 || v2bulk.BulkEmailEntryResults[0].Status != v2types.BulkEmailStatusSuccess || v2bulk.BulkEmailEntryResults[1].Status != v2types.BulkEmailStatusSuccess {
		t.Fatalf("v2 bulk: %+v", v2bulk.BulkEmailEntryResults)
	}
	if raw := string(sent(t, srv, aws.ToString(v2bulk.BulkEmailEntryResults[1].MessageId)).Raw); !strings.Contains(raw, "Dear r") {
		t.Errorf("v2 bulk replacement data not used:\n%s", raw)
	}
}
