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
	for _, r := range []string{"to@example.org", "hidden@example.net"} {
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
	if got.From != "bounces@example.com" || strings.Join(got.To, " ") != "to@example.org hidden@example.net" {
		t.Errorf("relayed envelope: from %s to %v", got.From, got.To)
	}
	m := regexp.MustCompile(`Message-ID: <([^@>]+)@email\.amazonses\.com>\r\n`).FindStringSubmatch(string(got.Data))
	if m == nil || strings.Contains(string(got.Data), "<mine@client>") || !strings.Contains(string(got.Data), "Hello over SMTP.") {
		t.Fatalf("relayed message without SES's Message-ID:\n%s", got.Data)
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

var _ = bufio.NewReader
var _ = fmt.Sprint
