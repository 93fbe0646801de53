package server_test

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/smtp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ses/types"

	"github.com/sesame/sesame/internal/auth/sigv4"
	"github.com/sesame/sesame/internal/server"
	"github.com/sesame/sesame/internal/sestest"
	"github.com/sesame/sesame/internal/smtpserver"
	"github.com/sesame/sesame/internal/smtptest"
	"github.com/sesame/sesame/internal/store"
)

// TestSignedMailRelayed: what issues 16 and 17 end on. A domain verified
// on Knot, with its DKIM keys served by Sesame's DNS and a custom MAIL
// FROM domain, sends once through the API and once through the SMTP
// interface; both messages arrive at a real SMTP server with the MAIL
// FROM domain as envelope sender and a DKIM signature that verifies
// through the chain of real name servers.
func TestSignedMailRelayed(t *testing.T) {
	t.Parallel()
	relay := smtptest.New(t)
	w := newDKIMWorld(t, func(o *sestest.Options) { o.SMTPURL, o.Mail = relay.URL, relayMail(relay) })
	ctx := t.Context()
	if _, err := w.v1.SetIdentityMailFromDomain(ctx, &ses.SetIdentityMailFromDomainInput{Identity: aws.String("example.test"), MailFromDomain: aws.String("mail.example.test")}); err != nil {
		t.Fatal(err)
	}
	w.customer.Update(`add mail.example.test. 60 MX 10 feedback-smtp.us-east-1.amazonses.com.`, `add mail.example.test. 60 TXT "v=spf1 include:amazonses.com ~all"`)
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if st := getV2(t, w.v2, "example.test").MailFromAttributes.MailFromDomainStatus; st == "SUCCESS" {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("MAIL FROM status %s, want SUCCESS", st)
		}
	}
	if _, err := w.srv.Sesame.Store.UpdateSendingState(ctx, w.a.AccountId, "us-east-1", func(s *store.SendingState) error {
		s.Production, s.MaxSendRate = true, -1
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	arrived := func(how, id string) {
		t.Helper()
		got := relay.Next(t)
		if got.From != id+"@mail.example.test" || strings.Join(got.To, " ") != "to@example.org" {
			t.Errorf("%s: envelope from %s to %v, want %s@mail.example.test to to@example.org", how, got.From, got.To, id)
		}
		w.verify(t, how, got.Data)
	}

	// The API.
	o, err := w.v1.SendEmail(ctx, &ses.SendEmailInput{Source: aws.String("app@example.test"),
		Destination: &types.Destination{ToAddresses: []string{"to@example.org"}},
		Message:     &types.Message{Subject: &types.Content{Data: aws.String("through the API")}, Body: &types.Body{Text: &types.Content{Data: aws.String("hello")}}}})
	if err != nil {
		t.Fatal(err)
	}
	arrived("sent with SendEmail", aws.ToString(o.MessageId))

	// The SMTP interface, with STARTTLS and the SES SMTP password.
	cert, _, err := smtpserver.LoadCertificate("", "", t.TempDir(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ss, err := w.srv.Sesame.SMTP(server.SMTPOptions{Region: "us-east-1", Certificate: cert, Hostname: "sesame.test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go ss.Serve(ln, false)
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	c, err := smtp.Dial(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.StartTLS(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Auth(smtp.PlainAuth("", w.a.AccessKeyId, sigv4.SMTPPassword(string(w.a.SecretAccessKey), "us-east-1"), "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("app@example.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("to@example.org"); err != nil {
		t.Fatal(err)
	}
	d, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	d.Write([]byte("From: App <app@example.test>\r\nTo: to@example.org\r\nSubject: through SMTP\r\n\r\nhello over SMTP\r\n"))
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	c.Quit()
	ms, err := w.srv.Sesame.Store.ListMessages(ctx, store.MessageQuery{Kind: store.SentMail, Limit: 1})
	if err != nil || len(ms) != 1 {
		t.Fatalf("the SMTP message is not in the outbox: %v %v", ms, err)
	}
	arrived("sent over SMTP", ms[0].ID)
}
