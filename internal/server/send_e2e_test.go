package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ses/types"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/server"
	"github.com/sesame/sesame/internal/smtptest"
	"github.com/sesame/sesame/internal/store"
)

// TestSendRelayed: with --smtp-url, a message accepted by SendEmail goes
// through the one queue and relay that verification mail uses, and
// arrives at a real SMTP server with SES's Message-ID, to every
// recipient, Bcc in the envelope only; the simulator is not relayed. A
// 5xx from the relay fails the message and is recorded.
func TestSendRelayed(t *testing.T) {
	relay := smtptest.New(t, smtptest.Options{Reply: func(_ int, m smtptest.Message) error {
		if strings.Contains(string(m.Data), "Subject: refuse") {
			return smtptest.Permanent
		}
		return nil
	}})
	e := start(t, server.Options{SMTPURL: relay.URL, Mail: relayMail(relay)})
	ctx := context.Background()
	k := identity.Key{Account: e.acct, Region: "us-east-1", Name: "example.com"}
	if _, err := e.v1.VerifyDomainIdentity(ctx, &ses.VerifyDomainIdentityInput{Domain: aws.String("example.com")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.Registry.Store.UpdateIdentity(ctx, k, func(cur *identity.Identity) (*identity.Identity, error) {
		cur.Verification.Status = identity.Success
		return cur, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.Store.UpdateSendingState(ctx, e.acct, "us-east-1", func(s *store.SendingState) error {
		s.Production, s.MaxSendRate = true, -1
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	send := func(subject string) string {
		out, err := e.v1.SendEmail(ctx, &ses.SendEmailInput{Source: aws.String("app@example.com"),
			Destination: &types.Destination{ToAddresses: []string{"to@example.org"}, BccAddresses: []string{"bcc@example.org", "success@simulator.amazonses.com"}},
			Message:     &types.Message{Subject: &types.Content{Data: aws.String(subject)}, Body: &types.Body{Text: &types.Content{Data: aws.String("hello")}}}})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.MessageId)
	}
	id := send("hi")
	got := relay.Next(t)
	if got.From != "app@example.com" || strings.Join(got.To, " ") != "to@example.org bcc@example.org" {
		t.Errorf("envelope from %s to %v", got.From, got.To)
	}
	if !strings.Contains(string(got.Data), "Message-ID: <"+id+"@email.amazonses.com>\r\n") || strings.Contains(string(got.Data), "bcc@") {
		t.Errorf("relayed message:\n%s", got.Data)
	}
	wait := func(id string, want store.MessageStatus) *store.Message {
		deadline := time.Now().Add(10 * time.Second)
		for {
			m, err := e.srv.Store.GetMessage(ctx, id)
			if err == nil && m.Status == want {
				return m
			}
			if time.Now().After(deadline) {
				t.Fatalf("message %s: %+v, %v; want %s", id, m, err, want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	wait(id, store.Sent)
	if m := wait(send("refuse"), store.Failed); !strings.Contains(m.LastError, "550") {
		t.Errorf("a 5xx was not recorded: %+v", m)
	}
}
