package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/sesame/sesame/internal/redact"
)

// Relay hands messages to one SMTP server: smtp:// with STARTTLS (which
// must succeed: credentials and links never cross the network in the
// clear), or smtps:// with TLS from the start (RFC 8314). A relay on a
// loopback address, where nothing crosses a network, may also speak plain
// SMTP, as a local MTA or a mail catcher often does; STARTTLS is still used
// when it offers it.
type Relay struct {
	// Addr is host:port.
	Addr string
	// Implicit is TLS from the first byte (smtps); otherwise STARTTLS.
	Implicit bool
	// Loopback allows plain SMTP when the server offers no STARTTLS.
	Loopback bool
	Username string
	Password Secret
	// TLS verifies the server; its RootCAs may be a private CA.
	TLS *tls.Config
	// Hello is the name given in EHLO; default "localhost".
	Hello string
	// Timeout bounds each step (dial, each command, the data); default
	// one minute.
	Timeout time.Duration
}

// Secret is a relay password; it never appears in logs.
type Secret string

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue("REDACTED") }

// ParseRelay reads a relay URL: smtp://[user[:password]@]host[:port]
// (STARTTLS, port 587 by default) or smtps://... (port 465). caFile, if
// set, is a PEM file of the CAs the server's certificate must chain to.
func ParseRelay(raw, caFile string) (*Relay, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("SMTP URL: %v (want smtp://[user[:password]@]host[:port])", redact.ParseError(err))
	}
	r := &Relay{TLS: &tls.Config{MinVersion: tls.VersionTLS12}}
	port := "587"
	switch u.Scheme {
	case "smtp":
	case "smtps":
		r.Implicit, port = true, "465"
	default:
		return nil, fmt.Errorf("SMTP URL %q: use smtp://host[:port] (STARTTLS) or smtps://host[:port] (TLS)", redact.URL(u))
	}
	if u.Hostname() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return nil, fmt.Errorf("SMTP URL %q: want only [user[:password]@]host[:port]", redact.URL(u))
	}
	if u.Port() != "" || strings.HasSuffix(u.Host, ":") {
		// url.Parse takes any digits, and "host:" with none.
		n, err := strconv.ParseUint(u.Port(), 10, 16)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("SMTP URL %q: port %q: want a number from 1 to 65535, such as 587 (STARTTLS) or 465 (smtps)", redact.URL(u), u.Port())
		}
		port = strconv.FormatUint(n, 10)
	}
	r.Addr = net.JoinHostPort(u.Hostname(), port)
	r.TLS.ServerName = u.Hostname()
	r.Loopback = IsLoopback(u.Hostname())
	if u.User != nil {
		r.Username = u.User.Username()
		p, _ := u.User.Password()
		r.Password = Secret(p)
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("SMTP CA file: %w", err)
		}
		r.TLS.RootCAs = x509.NewCertPool()
		if !r.TLS.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("SMTP CA file %q: no PEM certificate in it", caFile)
		}
	}
	return r, nil
}

// IsLoopback says whether host names this machine: localhost, 127.0.0.0/8
// or ::1.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// String is the relay for logs, without the password.
func (r *Relay) String() string {
	s := "smtp"
	if r.Implicit {
		s = "smtps"
	}
	if r.Username != "" {
		return s + "://" + r.Username + "@" + r.Addr
	}
	return s + "://" + r.Addr
}

// DeliveryError is a failed delivery. Permanent errors (a 5xx reply to the
// message) are not retried; everything else is: 4xx replies, and any
// failure to reach, secure or log in to the relay, which is the relay's
// problem rather than the message's.
type DeliveryError struct {
	Permanent bool
	Err       error
}

func (e *DeliveryError) Error() string { return e.Err.Error() }
func (e *DeliveryError) Unwrap() error { return e.Err }

// Send delivers one message to its recipients in one transaction: a
// recipient the relay refuses fails the whole message, as go-smtp's
// SendMail does.
func (r *Relay) Send(ctx context.Context, from string, to []string, msg []byte) error {
	c, stop, err := r.dial(ctx)
	if err != nil {
		return &DeliveryError{Err: fmt.Errorf("relay %s: %w", r, err)}
	}
	defer stop()
	defer c.Close()
	err = c.SendMail(from, to, bytes.NewReader(msg))
	if err != nil {
		var se *smtp.SMTPError
		return &DeliveryError{Permanent: errors.As(err, &se) && se.Code/100 == 5, Err: fmt.Errorf("relay %s: %w", r, err)}
	}
	c.Quit()
	return nil
}

// dial connects, secures the connection and logs in. stop releases the
// watch on ctx.
func (r *Relay) dial(ctx context.Context) (c *smtp.Client, stop func() bool, err error) {
	if r.Loopback && !r.Implicit {
		// Plain SMTP first: if the server offers STARTTLS, the connection
		// is made again with it (go-smtp starts TLS only on a new client).
		c, stop, err := r.connect(ctx, false)
		if err != nil {
			return nil, nil, err
		}
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return r.login(c, stop)
		}
		stop()
		c.Close()
	}
	if c, stop, err = r.connect(ctx, true); err != nil {
		return nil, nil, err
	}
	return r.login(c, stop)
}

// connect connects and greets, securing the connection unless secure is
// false (smtp:// on loopback only).
func (r *Relay) connect(ctx context.Context, secure bool) (c *smtp.Client, stop func() bool, err error) {
	timeout := r.timeout()
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", r.Addr)
	if err != nil {
		return nil, nil, err
	}
	// go-smtp takes no context: closing the connection ends any step.
	stop = context.AfterFunc(ctx, func() { conn.Close() })
	fail := func(err error) (*smtp.Client, func() bool, error) {
		stop()
		conn.Close()
		return nil, nil, err
	}
	switch {
	case r.Implicit:
		tc := tls.Client(conn, r.TLS)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fail(err)
		}
		c = smtp.NewClient(tc)
	case !secure:
		c = smtp.NewClient(conn)
	default:
		if c, err = smtp.NewClientStartTLS(conn, r.TLS); err != nil {
			return fail(err)
		}
	}
	c.CommandTimeout, c.SubmissionTimeout = timeout, timeout
	// After STARTTLS the client greets again, so the name can still be set.
	hello := r.Hello
	if hello == "" {
		hello = "localhost"
	}
	if err := c.Hello(hello); err != nil {
		return fail(err)
	}
	return c, stop, nil
}

// login authenticates, if the relay has a user; on failure it closes c.
func (r *Relay) login(c *smtp.Client, stop func() bool) (*smtp.Client, func() bool, error) {
	if r.Username == "" {
		return c, stop, nil
	}
	if err := c.Auth(sasl.NewPlainClient("", r.Username, string(r.Password))); err != nil {
		stop()
		c.Close()
		return nil, nil, fmt.Errorf("AUTH PLAIN as %q: %w", r.Username, err)
	}
	return c, stop, nil
}

func (r *Relay) timeout() time.Duration {
	if r.Timeout == 0 {
		return time.Minute
	}
	return r.Timeout
}
