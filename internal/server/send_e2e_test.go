package server_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

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
	// Without a custom MAIL FROM domain, SES's bounce address.
	if got.From != id+"@amazonses.com" || strings.Join(got.To, " ") != "to@example.org bcc@example.org" {
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

// TestSendMailFrom: the envelope sender of a relayed message is at the
// identity's custom MAIL FROM domain once its MX is verified (an address
// inheriting its domain's), at SES's default domain before, or, with
// BehaviorOnMXFailure RejectMessage, the send is refused with
// MailFromDomainNotVerifiedException and nothing is stored or relayed.
func TestSendMailFrom(t *testing.T) {
	relay := smtptest.New(t)
	e := start(t, server.Options{SMTPURL: relay.URL, Mail: relayMail(relay)})
	ctx := context.Background()
	for _, n := range []string{"example.com", "app@example.com"} {
		var err error
		if n == "example.com" {
			_, err = e.v1.VerifyDomainIdentity(ctx, &ses.VerifyDomainIdentityInput{Domain: aws.String(n)})
		} else {
			_, err = e.v1.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String(n)})
		}
		if err != nil {
			t.Fatal(err)
		}
		setIdentity(t, e, n, func(id *identity.Identity) { id.Verification.Status = identity.Success })
	}
	if m := relay.Next(t); m.To[0] != "app@example.com" {
		t.Fatalf("want the verification mail of app@example.com first, got one to %v", m.To)
	}
	if _, err := e.srv.Store.UpdateSendingState(ctx, e.acct, region, func(s *store.SendingState) error {
		s.Production, s.MaxSendRate = true, -1
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	send := func() (string, error) {
		out, err := e.v1.SendEmail(ctx, &ses.SendEmailInput{Source: aws.String("app@example.com"),
			Destination: &types.Destination{ToAddresses: []string{"to@example.org"}},
			Message:     &types.Message{Subject: &types.Content{Data: aws.String("s")}, Body: &types.Body{Text: &types.Content{Data: aws.String("b")}}}})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.MessageId), nil
	}
	envelope := func(want string) {
		t.Helper()
		id, err := send()
		if err != nil {
			t.Fatal(err)
		}
		if got := relay.Next(t); got.From != id+"@"+want {
			t.Errorf("envelope sender %s, want %s@%s", got.From, id, want)
		}
	}

	// Pending, UseDefaultValue: SES's default domain.
	if _, err := e.v1.SetIdentityMailFromDomain(ctx, &ses.SetIdentityMailFromDomainInput{Identity: aws.String("example.com"), MailFromDomain: aws.String("mail.example.com")}); err != nil {
		t.Fatal(err)
	}
	envelope("amazonses.com")
	// Verified: the address inherits its domain's MAIL FROM domain.
	setIdentity(t, e, "example.com", func(id *identity.Identity) { id.MailFrom.Check.Status = identity.Success })
	envelope("mail.example.com")

	// Pending again, RejectMessage: refused, in v1 and v2.
	if _, err := e.v1.SetIdentityMailFromDomain(ctx, &ses.SetIdentityMailFromDomainInput{Identity: aws.String("example.com"), MailFromDomain: aws.String("mail.example.com"),
		BehaviorOnMXFailure: types.BehaviorOnMXFailureRejectMessage}); err != nil {
		t.Fatal(err)
	}
	setIdentity(t, e, "example.com", func(id *identity.Identity) { id.MailFrom.Check.Status = identity.TemporaryFailure })
	before, err := e.srv.Store.CountMessages(ctx, store.Limit{Kind: store.SentMail, Account: e.acct, Region: region})
	if err != nil {
		t.Fatal(err)
	}
	_, err = send()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "MailFromDomainNotVerifiedException" || !strings.Contains(ae.ErrorMessage(), "mail.example.com") {
		t.Fatalf("v1 send with an unverified MAIL FROM and RejectMessage: %v", err)
	}
	_, err = e.v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("app@example.com"), Destination: &v2types.Destination{ToAddresses: []string{"to@example.org"}},
		Content: &v2types.EmailContent{Raw: &v2types.RawMessage{Data: []byte("From: app@example.com\r\nSubject: v2\r\n\r\nx\r\n")}}})
	var v2e *v2types.MailFromDomainNotVerifiedException
	if !errors.As(err, &v2e) {
		t.Fatalf("v2 send with an unverified MAIL FROM and RejectMessage: %v", err)
	}
	if n, _ := e.srv.Store.CountMessages(ctx, store.Limit{Kind: store.SentMail, Account: e.acct, Region: region}); n != before {
		t.Errorf("refused sends stored messages: %d, want %d", n, before)
	}
	// The address's own setting wins over its domain's: none of it, the
	// domain's still decides; one of its own, verified, is used.
	if _, err := e.v1.SetIdentityMailFromDomain(ctx, &ses.SetIdentityMailFromDomainInput{Identity: aws.String("app@example.com"), MailFromDomain: aws.String("bounce.example.com")}); err != nil {
		t.Fatal(err)
	}
	setIdentity(t, e, "app@example.com", func(id *identity.Identity) { id.MailFrom.Check.Status = identity.Success })
	envelope("bounce.example.com")
}

// setIdentity changes an identity as the verifier would, through the
// registry's write-through cache.
func setIdentity(t *testing.T, e *env, name string, f func(*identity.Identity)) {
	t.Helper()
	k := identity.Key{Account: e.acct, Region: region, Name: name}
	if _, err := e.srv.Registry.Store.UpdateIdentity(context.Background(), k, func(cur *identity.Identity) (*identity.Identity, error) {
		f(cur)
		return cur, nil
	}); err != nil {
		t.Fatal(err)
	}
}
