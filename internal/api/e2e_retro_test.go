package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ses/types"

	"github.com/sesame/sesame/internal/sestest"
)

// retroMessage is a message of /_aws/ses as LocalStack's users read it:
// generic JSON.
type retroMessage map[string]any

func retroGet(t *testing.T, srv *sestest.Server, a *sestest.Account, query string) []retroMessage {
	t.Helper()
	resp, body := send(t, srv, raw{Method: http.MethodGet, Target: "/_aws/ses" + query, Creds: a.AWS()})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /_aws/ses%s: %d %s", query, resp.StatusCode, body)
	}
	var out struct {
		Messages []retroMessage `json:"messages"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.Messages == nil {
		t.Fatalf("GET /_aws/ses: %s (%v); want {\"messages\": [...]}", body, err)
	}
	return out.Messages
}

// TestRetro: /_aws/ses shows each account its own sent mail in
// LocalStack's shape and filters, and DELETE clears it; unsigned requests
// are refused.
func TestRetro(t *testing.T) {
	srv, a := start(t)
	b := srv.NewAccount("tenant-b")
	ctx := t.Context()
	c := a.V1("us-east-1")
	verifyDomain(t, c, "example.com")
	markVerified(t, srv, a, "us-east-1", "example.com")
	production(t, srv, a, "us-east-1")
	id1 := aws.ToString(try(c.SendEmail(ctx, simple("app@example.com", "to@example.org"))).must(t).MessageId)
	id2 := aws.ToString(try(c.SendRawEmail(ctx, &ses.SendRawEmailInput{Source: aws.String("other@example.com"),
		RawMessage: &types.RawMessage{Data: []byte("From: other@example.com\r\nTo: x@example.org\r\nSubject: raw\r\n\r\nbody\r\n")}})).must(t).MessageId)

	all := retroGet(t, srv, a, "")
	if len(all) != 2 || all[0]["Id"] != id1 || all[1]["Id"] != id2 {
		t.Fatalf("GET: %v; want %s then %s", all, id1, id2)
	}
	m := all[0]
	if m["Region"] != "us-east-1" || m["Source"] != "app@example.com" || m["Subject"] != "Hello" {
		t.Errorf("SendEmail as shown: %v", m)
	}
	if ts, _ := m["Timestamp"].(string); len(ts) != len("2006-01-02T15:04:05") {
		t.Errorf("Timestamp %q: want YYYY-MM-DDTHH:MM:SS", ts)
	}
	if body, _ := m["Body"].(map[string]any); body["text_part"] != "Hi there" || body["html_part"] != nil {
		t.Errorf("Body %v", m["Body"])
	}
	if d, _ := m["Destination"].(map[string]any); d == nil || len(d["ToAddresses"].([]any)) != 1 {
		t.Errorf("Destination %v", m["Destination"])
	}
	if r := all[1]; r["RawData"] == nil || r["Destination"] != nil || r["Body"] != nil {
		t.Errorf("SendRawEmail as shown: %v", r)
	}
	if got := retroGet(t, srv, a, "?email="+url.QueryEscape("other@example.com")); len(got) != 1 || got[0]["Id"] != id2 {
		t.Errorf("?email=: %v", got)
	}
	if got := retroGet(t, srv, a, "?id="+id1+"&email=other@example.com"); len(got) != 0 {
		t.Errorf("filters do not combine with AND: %v", got)
	}
	if got := retroGet(t, srv, b, ""); len(got) != 0 {
		t.Errorf("another account sees %v", got)
	}
	if resp, _ := send(t, srv, raw{Method: http.MethodGet, Target: "/_aws/ses"}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("unsigned GET: %d, want 403", resp.StatusCode)
	}
	if resp, _ := send(t, srv, raw{Method: http.MethodDelete, Target: "/_aws/ses?id=" + id1, Creds: a.AWS()}); resp.StatusCode != http.StatusNoContent {
		t.Errorf("DELETE ?id=: %d, want 204", resp.StatusCode)
	}
	if got := retroGet(t, srv, a, ""); len(got) != 1 || got[0]["Id"] != id2 {
		t.Errorf("after DELETE ?id=: %v", got)
	}
	if resp, _ := send(t, srv, raw{Method: http.MethodDelete, Target: "/_aws/ses", Creds: a.AWS()}); resp.StatusCode != http.StatusNoContent {
		t.Errorf("DELETE: %d, want 204", resp.StatusCode)
	}
	if got := retroGet(t, srv, a, ""); len(got) != 0 {
		t.Errorf("after DELETE: %v", got)
	}
	// Cleared from the view, still counted.
	if q := try(c.GetSendQuota(ctx, &ses.GetSendQuotaInput{})).must(t); q.SentLast24Hours != 2 {
		t.Errorf("SentLast24Hours after DELETE = %v, want 2", q.SentLast24Hours)
	}
}
