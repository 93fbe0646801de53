package server_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/smtp"
	"net/textproto"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/sesame/sesame/internal/auth/sigv4"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/server"
	"github.com/sesame/sesame/internal/sestest"
	"github.com/sesame/sesame/internal/smtpserver"
	"github.com/sesame/sesame/internal/smtptest"
	"github.com/sesame/sesame/internal/store"
)

// smtpEnv is a Sesame with its SMTP interface on two loopback listeners:
// STARTTLS (addr) and implicit TLS (tlsAddr), on a self-signed
// certificate made in the data directory.
type smtpEnv struct {
	*env
	keyID, secret, password string
	addr, tlsAddr           string
	tls                     *tls.Config // trusts the certificate
	caFile                  string
}

func startSMTP(t *testing.T, o server.Options, lim smtpserver.Limits) *smtpEnv {
	t.Helper()
	if o.Data == "" {
		o.Data = t.TempDir()
	}
	e := start(t, o)
	cert, fp, err := smtpserver.LoadCertificate("", "", o.Data, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(fp) != 95 {
		t.Errorf("fingerprint %q: want 32 bytes as AB:CD:...", fp)
	}
	srv, err := e.srv.SMTP(server.SMTPOptions{Region: "us-east-1", Certificate: cert, Hostname: "sesame.test", Limits: lim})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	se := &smtpEnv{env: e}
	for _, implicit := range []bool{false, true} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if implicit {
			se.tlsAddr = ln.Addr().String()
		} else {
			se.addr = ln.Addr().String()
		}
		go srv.Serve(ln, implicit)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	se.tls = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	se.caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(se.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := e.creds.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	se.keyID, se.secret = c.AccessKeyID, c.SecretAccessKey
	se.password = sigv4.SMTPPassword(c.SecretAccessKey, "us-east-1")
	return se
}

// verifyDomain makes name a verified domain of the account.
func (e *smtpEnv) verifyDomain(t *testing.T, name string) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.v1.VerifyDomainIdentity(ctx, &ses.VerifyDomainIdentityInput{Domain: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	k := identity.Key{Account: e.acct, Region: "us-east-1", Name: name}
	if _, err := e.srv.Registry.Store.UpdateIdentity(ctx, k, func(cur *identity.Identity) (*identity.Identity, error) {
		cur.Verification.Status = identity.Success
		return cur, nil
	}); err != nil {
		t.Fatal(err)
	}
}

// sending changes the account's sending state in us-east-1.
func (e *smtpEnv) sending(t *testing.T, f func(*store.SendingState)) {
	t.Helper()
	if _, err := e.srv.Store.UpdateSendingState(context.Background(), e.acct, "us-east-1", func(s *store.SendingState) error {
		f(s)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func (e *smtpEnv) sentCount(t *testing.T) int {
	t.Helper()
	ms, err := e.srv.Store.ListMessages(context.Background(), store.MessageQuery{Kind: store.SentMail, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(ms)
}

// client is a raw SMTP conversation, to see the replies as sent.
type client struct {
	t    *testing.T
	conn net.Conn
	text *textproto.Conn
}

func (e *smtpEnv) dialPlain(t *testing.T) *client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", e.addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, conn: conn, text: textproto.NewConn(conn)}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	c.expect(220, "")
	c.do("EHLO client.test")
	return c
}

// dial connects, says EHLO and STARTTLS, and EHLO again.
func (e *smtpEnv) dial(t *testing.T) *client {
	t.Helper()
	c := e.dialPlain(t)
	if code, msg := c.do("STARTTLS"); code != 220 {
		t.Fatalf("STARTTLS: %d %s", code, msg)
	}
	tc := tls.Client(c.conn, e.tls)
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	c.conn, c.text = tc, textproto.NewConn(tc)
	if code, msg := c.do("EHLO client.test"); code != 250 || !strings.Contains(msg, "AUTH PLAIN LOGIN") {
		t.Fatalf("EHLO after STARTTLS: %d %s", code, msg)
	}
	return c
}

func (c *client) do(line string) (int, string) {
	c.t.Helper()
	if err := c.text.PrintfLine("%s", line); err != nil {
		c.t.Fatalf("%s: %v", line, err)
	}
	return c.read(line)
}

func (c *client) read(what string) (int, string) {
	c.t.Helper()
	code, msg, err := c.text.ReadResponse(0)
	if err != nil && code == 0 {
		c.t.Fatalf("%s: %v", what, err)
	}
	return code, msg
}

func (c *client) expect(code int, msg string) {
	c.t.Helper()
	got, gotMsg := c.read("reply")
	if got != code || (msg != "" && gotMsg != msg) {
		c.t.Fatalf("reply %d %q, want %d %q", got, gotMsg, code, msg)
	}
}

// want sends line and checks the reply's code and, if given, its text.
func (c *client) want(line string, code int, msg string) string {
	c.t.Helper()
	got, gotMsg := c.do(line)
	if got != code || (msg != "" && gotMsg != msg) {
		c.t.Fatalf("%s: %d %q, want %d %q", line, got, gotMsg, code, msg)
	}
	return gotMsg
}

func (c *client) auth(user, pass string) (int, string) {
	c.t.Helper()
	return c.do("AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00"+user+"\x00"+pass)))
}

// send runs one transaction and returns the reply to the data.
func (c *client) send(from string, to []string, data string) (int, string) {
	c.t.Helper()
	c.want("MAIL FROM:<"+from+">", 250, "")
	for _, r := range to {
		c.want("RCPT TO:<"+r+">", 250, "")
	}
	c.want("DATA", 354, "")
	w := c.text.DotWriter()
	io.WriteString(w, data)
	w.Close()
	return c.read("end of data")
}

func message(from, to, subject string) string {
	return "From: " + from + "\r\nTo: " + to + "\r\nSubject: " + subject + "\r\n\r\nHello over SMTP.\r\n"
}

var messageIDRE = regexp.MustCompile(`^Ok ([0-9a-f]{16}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-000000)$`)

// TestSMTPNetSMTPRelayed: Go's net/smtp, with STARTTLS and an SMTP
// password derived as SES derives it, sends a message that goes through
// the one outbox and relay and arrives at a real SMTP server, with SES's
// Message-ID, Bcc-like envelope recipients and the MAIL FROM as the
// envelope sender; it is in /_aws/ses too.
func TestSMTPNetSMTPRelayed(t *testing.T) {
	relay := smtptest.New(t)
	e := startSMTP(t, server.Options{SMTPURL: relay.URL, Mail: relayMail(relay)}, smtpserver.Limits{})
	e.verifyDomain(t, "example.com")
	e.sending(t, func(s *store.SendingState) { s.Production, s.MaxSendRate = true, -1 })

	c, err := smtp.Dial(e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.StartTLS(e.tls); err != nil {
		t.Fatal(err)
	}
	if err := c.Auth(smtp.PlainAuth("", e.keyID, e.password, "127.0.0.1")); err != nil {
		t.Fatalf("AUTH with the derived password: %v", err)
	}
	if err := c.Mail("bounces@example.com"); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"to@example.org", "hidden@example.net", "to@example.org"} { // one twice: sent once
		if err := c.Rcpt(r); err != nil {
			t.Fatal(err)
		}
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "From: App <app@example.com>\r\nTo: to@example.org\r\nSubject: over smtp\r\nMessage-ID: <mine@client>\r\n\r\nHello over SMTP.\r\n")
	if err := w.Close(); err != nil {
		t.Fatalf("end of data: %v", err)
	}
	c.Quit()

	got := relay.Next(t)
	m := regexp.MustCompile(`Message-ID: <([^@>]+)@email\.amazonses\.com>\r\n`).FindStringSubmatch(string(got.Data))
	if m == nil || strings.Contains(string(got.Data), "<mine@client>") || !strings.Contains(string(got.Data), "Hello over SMTP.") {
		t.Fatalf("relayed message without SES's Message-ID:\n%s", got.Data)
	}
	// The client's MAIL FROM is the source SES checks; the envelope
	// sender SES relays with is its own bounce address (no custom MAIL
	// FROM domain here), as for the API's sends.
	if got.From != m[1]+"@amazonses.com" || strings.Join(got.To, " ") != "to@example.org hidden@example.net" {
		t.Errorf("relayed envelope: from %s to %v", got.From, got.To)
	}
	stored, err := e.srv.Store.GetMessage(context.Background(), m[1])
	if err != nil || stored.Sent == nil || stored.Sent.Action != "SendRawEmail" || stored.Sent.Source != "bounces@example.com" {
		t.Fatalf("stored message %+v: %v", stored, err)
	}
	// /_aws/ses, signed as LocalStack's users sign it.
	req := e.signedGet(t, "/_aws/ses?id="+m[1])
	if !strings.Contains(req, `"Id":"`+m[1]+`"`) || !strings.Contains(req, "Hello over SMTP.") {
		t.Errorf("/_aws/ses?id=%s: %s", m[1], req)
	}
}

// signedGet GETs path of the API, signed with the account's key.
func (e *smtpEnv) signedGet(t *testing.T, path string) string {
	t.Helper()
	req, err := http.NewRequest("GET", e.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := sestest.Sign(req, nil, aws.Credentials{AccessKeyID: e.keyID, SecretAccessKey: e.secret}, "ses", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return string(b)
}

// TestSMTPReplies: SES's rules in SMTP's words, each refused message
// stored nowhere: TLS before AUTH, SES's 535 for a wrong password (or one
// of another region), 530 before AUTH, SES's 554 for an unverified MAIL
// FROM, From header or sandbox recipient, the 50 recipients, 552 for a
// message too long, SES's 454 for the rate and the daily quota, and
// "250 Ok <MessageId>" for an accepted one.
func TestSMTPReplies(t *testing.T) {
	e := startSMTP(t, server.Options{}, smtpserver.Limits{MaxMessageBytes: 64 << 10})
	e.verifyDomain(t, "example.com")

	plain := e.dialPlain(t)
	if code, msg := plain.auth(e.keyID, e.password); code < 500 {
		t.Errorf("AUTH before STARTTLS: %d %s, want it refused", code, msg)
	}
	plain.want("MAIL FROM:<app@example.com>", 530, "Authentication required")

	c := e.dial(t)
	c.want("MAIL FROM:<app@example.com>", 530, "Authentication required")
	if code, msg := c.auth(e.keyID, sigv4.SMTPPassword(e.secret, "eu-west-1")); code != 535 || msg != "Authentication Credentials Invalid" {
		t.Errorf("AUTH with another region's password: %d %q, want SES's 535", code, msg)
	}
	if code, msg := c.auth(e.keyID, e.secret); code != 535 {
		t.Errorf("AUTH with the secret itself: %d %q, want 535", code, msg)
	}
	if code, msg := c.auth(e.keyID, e.password); code != 235 {
		t.Fatalf("AUTH: %d %q", code, msg)
	}

	c.want("MAIL FROM:<app@example..com>", 553, "<app@example..com> Invalid email address")
	c.want("MAIL FROM:<>", 553, "<> Invalid email address")
	c.want("RSET", 250, "")

	notVerified := "Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: "
	for _, tc := range []struct {
		name, from, to, data, want string
		code                       int
	}{
		{"unverified MAIL FROM", "other@unverified.org", "success@simulator.amazonses.com",
			message("app@example.com", "success@simulator.amazonses.com", "x"), notVerified + "other@unverified.org", 554},
		{"unverified From header", "app@example.com", "success@simulator.amazonses.com",
			message("Boss <boss@elsewhere.org>", "success@simulator.amazonses.com", "x"), notVerified + "Boss <boss@elsewhere.org>, boss@elsewhere.org", 554},
		{"sandbox recipient", "app@example.com", "someone@example.org",
			message("app@example.com", "someone@example.org", "x"), notVerified + "someone@example.org", 554},
		{"duplicate header", "app@example.com", "success@simulator.amazonses.com",
			"From: app@example.com\r\nSubject: a\r\nSubject: b\r\n\r\nx\r\n", "Transaction failed: Duplicate header 'Subject'.", 554},
		{"unknown configuration set", "app@example.com", "success@simulator.amazonses.com",
			"X-SES-CONFIGURATION-SET: nope\r\n" + message("app@example.com", "success@simulator.amazonses.com", "x"), "Transaction failed: Configuration set nope does not exist: create it first (CreateConfigurationSet), or check its name and region.", 554},
		{"too long", "app@example.com", "success@simulator.amazonses.com",
			message("app@example.com", "success@simulator.amazonses.com", "x") + strings.Repeat("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\r\n", 2000), "Message is too long.", 552},
	} {
		if code, msg := c.send(tc.from, []string{tc.to}, tc.data); code != tc.code || msg != tc.want {
			t.Errorf("%s: %d %q, want %d %q", tc.name, code, msg, tc.code, tc.want)
		}
	}
	if n := e.sentCount(t); n != 0 {
		t.Errorf("%d messages stored after refusals, want none", n)
	}

	// The daily quota, in production: one recipient a day. (Counted
	// first: the store counts the simulator's recipients too.)
	e.sending(t, func(s *store.SendingState) { s.Production, s.MaxSendRate, s.Max24HourSend = true, -1, 1 })
	if code, msg := c.send("app@example.com", []string{"someone@example.org"}, message("app@example.com", "someone@example.org", "q1")); code != 250 {
		t.Fatalf("production, first of the day: %d %q", code, msg)
	}
	if code, msg := c.send("app@example.com", []string{"someone@example.org"}, message("app@example.com", "someone@example.org", "q2")); code != 454 || msg != "Throttling failure: Daily message quota exceeded." {
		t.Errorf("past the daily quota: %d %q, want SES's 454", code, msg)
	}
	e.sending(t, func(s *store.SendingState) { s.Production, s.Max24HourSend = false, -1 })

	// 50 recipients at most, RCPT TO counted.
	c.want("MAIL FROM:<app@example.com>", 250, "")
	for i := range 50 {
		c.want(fmt.Sprintf("RCPT TO:<success+%d@simulator.amazonses.com>", i), 250, "")
	}
	if code, msg := c.do("RCPT TO:<success+50@simulator.amazonses.com>"); code != 452 {
		t.Errorf("51st recipient: %d %q, want 452", code, msg)
	}
	c.want("RSET", 250, "")

	code, msg := c.send("app@example.com", []string{"success@simulator.amazonses.com"}, message("App <app@example.com>", "success@simulator.amazonses.com", "ok"))
	m := messageIDRE.FindStringSubmatch(msg)
	if code != 250 || m == nil {
		t.Fatalf("accepted message: %d %q, want 250 Ok <MessageId>", code, msg)
	}
	if got, err := e.srv.Store.GetMessage(context.Background(), m[1]); err != nil || got.Status != store.Sent {
		t.Errorf("message %s: %+v, %v", m[1], got, err)
	}

	// The rate: one recipient in 100 s leaves none for the next message.
	e.sending(t, func(s *store.SendingState) { s.MaxSendRate = 0.01 })
	if code, msg := c.send("app@example.com", []string{"success@simulator.amazonses.com"}, message("app@example.com", "success@simulator.amazonses.com", "1")); code != 250 {
		t.Fatalf("first message at the new rate: %d %q", code, msg)
	}
	if code, msg := c.send("app@example.com", []string{"success@simulator.amazonses.com"}, message("app@example.com", "success@simulator.amazonses.com", "2")); code != 454 || msg != "Throttling failure: Maximum sending rate exceeded." {
		t.Errorf("past the rate: %d %q, want SES's 454", code, msg)
	}
	if n := e.sentCount(t); n != 3 {
		t.Errorf("%d messages stored, want the 3 accepted", n)
	}
	c.want("QUIT", 221, "")
}

// TestSMTPSessions: AUTH LOGIN as AWS's example uses it; a key revoked
// while its session is open stops working at once; failed AUTH from one
// client is throttled, the right password included; implicit TLS; a
// connection dropped in the middle of DATA stores nothing.
func TestSMTPSessions(t *testing.T) {
	e := startSMTP(t, server.Options{}, smtpserver.Limits{})
	e.verifyDomain(t, "example.com")
	ctx := context.Background()
	k2, err := e.srv.Accounts.AddKey(ctx, e.acct)
	if err != nil {
		t.Fatal(err)
	}

	// AUTH LOGIN, the user name and password asked in turn, with the
	// second key; then the key is revoked.
	c := e.dial(t)
	c.want("AUTH LOGIN", 334, base64.StdEncoding.EncodeToString([]byte("Username:")))
	c.want(base64.StdEncoding.EncodeToString([]byte(k2.AccessKeyId)), 334, base64.StdEncoding.EncodeToString([]byte("Password:")))
	c.want(base64.StdEncoding.EncodeToString([]byte(sigv4.SMTPPassword(string(k2.SecretAccessKey), "us-east-1"))), 235, "")
	c.want("MAIL FROM:<app@example.com>", 250, "")
	c.want("RCPT TO:<success@simulator.amazonses.com>", 250, "")
	if err := e.srv.Accounts.Revoke(ctx, k2.AccessKeyId); err != nil {
		t.Fatal(err)
	}
	c.want("DATA", 354, "")
	w := c.text.DotWriter()
	io.WriteString(w, message("app@example.com", "success@simulator.amazonses.com", "revoked"))
	w.Close()
	c.expect(535, "Authentication Credentials Invalid")
	c.want("MAIL FROM:<app@example.com>", 530, "Authentication required")
	if code, _ := e.dial(t).auth(k2.AccessKeyId, sigv4.SMTPPassword(string(k2.SecretAccessKey), "us-east-1")); code != 535 {
		t.Errorf("AUTH with a revoked key: %d, want 535", code)
	}

	// Implicit TLS.
	tc, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", e.tlsAddr, e.tls)
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	tc.SetDeadline(time.Now().Add(time.Minute))
	ic := &client{t: t, conn: tc, text: textproto.NewConn(tc)}
	ic.expect(220, "")
	if msg := ic.want("EHLO client.test", 250, ""); !strings.Contains(msg, "AUTH PLAIN LOGIN") || strings.Contains(msg, "STARTTLS") {
		t.Errorf("EHLO over implicit TLS: %q", msg)
	}
	if code, _ := ic.auth(e.keyID, e.password); code != 235 {
		t.Fatalf("AUTH over implicit TLS: %d", code)
	}

	// A connection dropped in the middle of DATA.
	d := e.dial(t)
	d.auth(e.keyID, e.password)
	d.want("MAIL FROM:<app@example.com>", 250, "")
	d.want("RCPT TO:<success@simulator.amazonses.com>", 250, "")
	d.want("DATA", 354, "")
	io.WriteString(d.conn, "From: app@example.com\r\nSubject: cut\r\n\r\nhalf a mess")
	d.conn.Close()
	if code, msg := ic.send("app@example.com", []string{"success@simulator.amazonses.com"}, message("app@example.com", "success@simulator.amazonses.com", "whole")); code != 250 {
		t.Fatalf("after the dropped one: %d %q", code, msg)
	}
	time.Sleep(200 * time.Millisecond) // the dropped session's reads have failed
	ms, err := e.srv.Store.ListMessages(ctx, store.MessageQuery{Kind: store.SentMail, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || !strings.Contains(string(ms[0].Raw), "Subject: whole\r\n") {
		t.Errorf("stored after a dropped DATA: %d messages, want only the whole one", len(ms))
	}

	// Failed AUTH is throttled per client: past the free failures even
	// the right password waits.
	f := e.dial(t)
	for i := 0; i < 5; i++ {
		if code, _ := f.auth(e.keyID, "wrong"); code != 535 {
			t.Fatalf("failure %d: %d, want 535", i+1, code)
		}
	}
	if code, msg := f.auth(e.keyID, e.password); code != 454 || !strings.HasPrefix(msg, "Temporary authentication failure") {
		t.Errorf("AUTH after 5 failures: %d %q, want 454 Temporary authentication failure", code, msg)
	}
}

// TestSMTPConnectionLimits: a client over its share of connections gets
// SES's 421 and is closed, and gets in again once one of its connections
// ends; an idle connection is closed.
func TestSMTPConnectionLimits(t *testing.T) {
	e := startSMTP(t, server.Options{}, smtpserver.Limits{ConnsPerClient: 2, IdleTimeout: 2 * time.Second})
	a, b := e.dialPlain(t), e.dialPlain(t)
	conn, err := net.DialTimeout("tcp", e.addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	line, _ := io.ReadAll(conn)
	conn.Close()
	if string(line) != "421 Too many concurrent SMTP connections\r\n" {
		t.Errorf("third connection: %q, want SES's 421 and the end", line)
	}
	a.want("QUIT", 221, "")
	a.conn.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", e.addr, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(30 * time.Second))
		l, _ := textproto.NewReader(bufio.NewReader(conn)).ReadLine()
		conn.Close()
		if strings.HasPrefix(l, "220 ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after one connection ended, still %q", l)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// b has been idle: the server closes it with 421.
	b.conn.SetDeadline(time.Now().Add(30 * time.Second))
	start := time.Now()
	code, _, _ := b.text.ReadResponse(0)
	if code != 421 {
		t.Errorf("idle connection: %d, want 421", code)
	}
	if _, err := b.text.ReadLine(); err == nil {
		t.Error("idle connection still open after its 421")
	}
	if time.Since(start) > 20*time.Second {
		t.Errorf("idle connection closed after %v", time.Since(start))
	}
}

// TestSMTPDataMemory: past the server's budget of message data in
// memory, a message gets 451 and is stored nowhere; the budget is given
// back, so the next one is accepted.
func TestSMTPDataMemory(t *testing.T) {
	e := startSMTP(t, server.Options{}, smtpserver.Limits{DataMemory: 128 << 10})
	e.verifyDomain(t, "example.com")
	e.sending(t, func(s *store.SendingState) { s.MaxSendRate = -1 })
	c := e.dial(t)
	c.auth(e.keyID, e.password)
	big := message("app@example.com", "success@simulator.amazonses.com", "big") + strings.Repeat(strings.Repeat("x", 62)+"\r\n", 3000)
	if code, msg := c.send("app@example.com", []string{"success@simulator.amazonses.com"}, big); code != 451 || msg != "Temporary service failure" {
		t.Errorf("past the data memory: %d %q, want 451", code, msg)
	}
	if n := e.sentCount(t); n != 0 {
		t.Errorf("%d messages stored", n)
	}
	for i := range 3 {
		if code, msg := c.send("app@example.com", []string{"success@simulator.amazonses.com"}, message("app@example.com", "success@simulator.amazonses.com", "small")); code != 250 {
			t.Fatalf("small message %d after: %d %q", i, code, msg)
		}
	}
}
