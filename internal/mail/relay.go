package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/sesame/sesame/internal/names"
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
	// MaxIdle is how many connections are kept open between messages;
	// default DefaultMaxIdle. Set it to the number of deliveries at once.
	MaxIdle int

	mu   sync.Mutex
	idle []*relayConn // most recently used last
	// Under mu, for the deliveries that wait for one of the relay's own
	// connections (waitForOurs):
	freed    chan struct{} // closed (and replaced) when a connection is kept, closed or fails to open
	open     int           // connections open, idle or sending
	dialing  int           // connections being opened
	closes   uint64        // open connections closed so far
	startTLS atomic.Bool   // a loopback server offered STARTTLS: no plain probe
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
// SendMail does. It reuses an idle connection when there is one, and
// keeps the connection open afterwards for the next message: a new
// connection costs a TCP and a TLS handshake, and a login, per message.
// Only a connection whose last transaction succeeded is kept, so the next
// starts with MAIL, without an RSET (a round trip per message); if the
// server closed it while it was idle, MAIL fails before anything of the
// message was sent, and another connection is as good. A connection that
// failed in any other way is closed, never reused.
func (r *Relay) Send(ctx context.Context, from string, to []string, msg []byte) error {
	var opts *smtp.MailOptions
	if !names.IsASCII(from) || slices.ContainsFunc(to, func(a string) bool { return !names.IsASCII(a) }) {
		opts = &smtp.MailOptions{UTF8: true}
	}
	for {
		pc := r.idleConn()
		reused := pc != nil
		if !reused {
			var err error
			if pc, reused, err = r.conn(ctx); err != nil {
				return &DeliveryError{Err: fmt.Errorf("relay %s: %w", r, err)}
			}
		}
		stop := context.AfterFunc(ctx, func() { pc.conn.Close() })
		err := pc.c.Mail(from, opts)
		mailed := err == nil
		if mailed {
			err = transaction(pc.c, to, msg)
		}
		ended := !stop() // ctx ended, and closed the connection
		switch {
		case err == nil && ended:
			// The message was accepted as ctx ended: the connection may be
			// closed half-way through; do not keep it.
			pc.close()
			return nil
		case err == nil:
			r.keep(pc)
			return nil
		}
		pc.close()
		if ended {
			return &DeliveryError{Err: fmt.Errorf("relay %s: %w", r, ctx.Err())}
		}
		var se *smtp.SMTPError
		isReply := errors.As(err, &se)
		if reused && !mailed && closedWhileIdle(err) {
			continue // nothing was sent on it: another connection is as good
		}
		return &DeliveryError{Permanent: isReply && se.Code/100 == 5, Err: fmt.Errorf("relay %s: %w", r, err)}
	}
}

// refusedForOurs says whether a new connection was refused with 421 at
// its greeting: what a server that limits connections per client says
// (Postfix's smtpd_client_connection_count_limit: "421 4.7.0 Error: too
// many connections"), so the message waits for one of the connections this
// relay holds rather than failing for a retry half a minute later.
func refusedForOurs(err error) bool {
	var se *smtp.SMTPError
	return errors.As(err, &se) && se.Code == 421
}

// conn is a new connection for a delivery that found none idle. Refused
// with 421 at the greeting, it waits for one of the relay's own
// (waitForOurs): an idle one (reused), or the place of one that closed,
// and then dials again; all its waits within one step's timeout.
func (r *Relay) conn(ctx context.Context) (pc *relayConn, reused bool, err error) {
	var until time.Time
	for {
		pc, err := r.dial(ctx)
		if err == nil || !refusedForOurs(err) {
			return pc, false, err
		}
		if until.IsZero() {
			until = time.Now().Add(r.timeout())
		}
		idle, again := r.waitForOurs(ctx, until)
		if idle != nil {
			return idle, true, nil
		}
		if !again {
			return nil, false, err
		}
	}
}

// waitForOurs waits, after a refusal for our connections, until one of
// the relay's own connections is idle (it returns it, taken) or one closes
// (again: its place on the server is free, dial again); neither when the
// relay has none open or being opened (the refusal is then the relay's
// answer, not our number of connections), or ctx ends, or until passes. A
// refused dial, or an idle connection another delivery took first, wakes
// the waiters only to look again, never to dial, so that refusals for
// another cause (other clients, a rate limit, maintenance) do not turn
// into a loop of dials.
func (r *Relay) waitForOurs(ctx context.Context, until time.Time) (idle *relayConn, again bool) {
	t := time.NewTimer(time.Until(until))
	defer t.Stop()
	r.mu.Lock()
	closes := r.closes
	for {
		if pc := r.takeIdle(); pc != nil {
			r.mu.Unlock()
			return pc, false
		}
		switch {
		case r.closes != closes:
			r.mu.Unlock()
			return nil, true
		case r.open == 0 && r.dialing == 0:
			r.mu.Unlock()
			return nil, false
		}
		if r.freed == nil {
			r.freed = make(chan struct{})
		}
		freed := r.freed
		r.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			return nil, false
		case <-t.C:
			return nil, false
		}
		r.mu.Lock()
	}
}

// signalFreed wakes the deliveries waiting for a connection; under mu.
func (r *Relay) signalFreed() {
	if r.freed != nil {
		close(r.freed)
		r.freed = nil
	}
}

// closedWhileIdle says whether MAIL on a kept connection failed because
// the server or the network closed it while it waited: the server's 421
// (closing), or the connection found closed or reset. Not a timeout (a
// silent link would cost a minute for each connection tried) nor go-smtp's
// own refusals before anything is sent (an address it cannot send on any
// connection).
func closedWhileIdle(err error) bool {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code == 421
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// transaction is the rest of SendMail after MAIL: RCPT, DATA and the
// message.
func transaction(c *smtp.Client, to []string, msg []byte) error {
	for _, addr := range to {
		if err := c.Rcpt(addr, nil); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	return w.Close()
}

// DefaultMaxIdle is how many connections a Relay keeps open between
// messages by default: Queue's DefaultConcurrency.
const DefaultMaxIdle = DefaultConcurrency

// IdleTimeout is how long an unused connection is kept: a little longer
// than Postfix's smtp_connection_cache_time_limit (2 s), well within the
// 5 minutes RFC 5321 (4.5.3.2.7) lets a server wait for the next command.
const IdleTimeout = 5 * time.Second

// MaxConnAge bounds the life of a connection, as Postfix's
// smtp_connection_reuse_time_limit (300 s) does, so that a relay that
// rotates its certificate or is replaced behind a name is reached again.
const MaxConnAge = 5 * time.Minute

// relayConn is one open connection to the relay.
type relayConn struct {
	r      *Relay
	c      *smtp.Client
	conn   net.Conn // under c: closing it ends any step of c
	opened time.Time
	idle   time.Time // since when it waits in the pool
	gone   sync.Once // its place in r.open given back
}

func (pc *relayConn) close() {
	pc.c.Close()
	pc.release()
}

// release gives the connection's place back, once.
func (pc *relayConn) release() {
	pc.gone.Do(func() {
		pc.r.mu.Lock()
		pc.r.open--
		pc.r.closes++
		pc.r.signalFreed()
		pc.r.mu.Unlock()
	})
}

// idleConn takes the most recently used idle connection, closing the
// ones too old to be reused.
func (r *Relay) idleConn() *relayConn {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.takeIdle()
}

// takeIdle is idleConn under mu.
func (r *Relay) takeIdle() *relayConn {
	now := time.Now()
	for len(r.idle) > 0 {
		pc := r.idle[len(r.idle)-1]
		r.idle = r.idle[:len(r.idle)-1]
		if now.Sub(pc.idle) < IdleTimeout && now.Sub(pc.opened) < MaxConnAge {
			return pc
		}
		go pc.quit()
	}
	return nil
}

// keep puts pc back in the pool, or closes it when the pool is full.
func (r *Relay) keep(pc *relayConn) {
	max := r.MaxIdle
	if max == 0 {
		max = DefaultMaxIdle
	}
	pc.idle = time.Now()
	r.mu.Lock()
	if len(r.idle) < max {
		r.idle = append(r.idle, pc)
		r.signalFreed()
		pc = nil
	}
	r.mu.Unlock()
	if pc != nil {
		go pc.quit()
	}
}

// quit ends the session politely, within a second: go-smtp sets each
// command's deadline from CommandTimeout, over any set on the connection.
func (pc *relayConn) quit() {
	pc.c.CommandTimeout = time.Second
	pc.c.Quit()
	pc.close()
}

// Close closes the idle connections (Queue.Run does as it returns); a
// later message opens a new one.
func (r *Relay) Close() error {
	r.mu.Lock()
	idle := r.idle
	r.idle = nil
	r.mu.Unlock()
	// All at once: each may take its second against a server that does
	// not answer QUIT, and a relay keeps up to MaxIdle of them.
	var wg sync.WaitGroup
	for _, pc := range idle {
		wg.Go(pc.quit)
	}
	wg.Wait()
	return nil
}

// dial connects, secures the connection and logs in.
func (r *Relay) dial(ctx context.Context) (*relayConn, error) {
	if r.Loopback && !r.Implicit && !r.startTLS.Load() {
		// Plain SMTP first: if the server offers STARTTLS, the connection
		// is made again with it (go-smtp starts TLS only on a new client),
		// and so are the next ones.
		pc, err := r.connect(ctx, false)
		if err != nil {
			return nil, err
		}
		if ok, _ := pc.c.Extension("STARTTLS"); !ok {
			return r.login(ctx, pc)
		}
		r.startTLS.Store(true)
		pc.close()
	}
	pc, err := r.connect(ctx, true)
	if err != nil {
		return nil, err
	}
	return r.login(ctx, pc)
}

// connect connects and greets, securing the connection unless secure is
// false (smtp:// on loopback only). It counts as being opened meanwhile,
// so that a delivery refused as it opens waits for it (waitForOurs).
func (r *Relay) connect(ctx context.Context, secure bool) (*relayConn, error) {
	r.mu.Lock()
	r.dialing++
	r.mu.Unlock()
	pc, err := r.greet(ctx, secure)
	r.mu.Lock()
	r.dialing--
	if err == nil {
		r.open++
	} else {
		r.signalFreed() // the waiters count again: perhaps none of ours is left
	}
	r.mu.Unlock()
	return pc, err
}

// greet is connect's dial, TLS and EHLO.
func (r *Relay) greet(ctx context.Context, secure bool) (*relayConn, error) {
	timeout := r.timeout()
	d := net.Dialer{Timeout: timeout}
	tcp, err := d.DialContext(ctx, "tcp", r.Addr)
	if err != nil {
		return nil, err
	}
	var conn net.Conn = &batchConn{Conn: tcp}
	// go-smtp takes no context: closing the connection ends any step.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	fail := func(err error) (*relayConn, error) {
		conn.Close()
		return nil, err
	}
	var c *smtp.Client
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
	if ctx.Err() != nil {
		return fail(ctx.Err())
	}
	return &relayConn{r: r, c: c, conn: conn, opened: time.Now()}, nil
}

// login authenticates, if the relay has a user; on failure it closes pc.
func (r *Relay) login(ctx context.Context, pc *relayConn) (*relayConn, error) {
	if r.Username == "" {
		return pc, nil
	}
	stop := context.AfterFunc(ctx, func() { pc.conn.Close() })
	defer stop()
	if err := pc.c.Auth(sasl.NewPlainClient("", r.Username, string(r.Password))); err != nil {
		pc.close()
		return nil, fmt.Errorf("AUTH PLAIN as %q: %w", r.Username, err)
	}
	return pc, nil
}

func (r *Relay) timeout() time.Duration {
	if r.Timeout == 0 {
		return time.Minute
	}
	return r.Timeout
}
