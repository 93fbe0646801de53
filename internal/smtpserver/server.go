// Package smtpserver is SES's SMTP interface
// (https://docs.aws.amazon.com/ses/latest/dg/send-email-smtp.html) on
// emersion/go-smtp: a client authenticates with an access key ID and its
// SMTP password for the listener's region, and each message is handed to
// send.Sender as SendRawEmail's are, so the API's gate, quotas, signing
// and outbox apply unchanged. Only the words differ: SES's SMTP replies
// (replies.go).
//
// A listener for the public internet: TLS before AUTH (STARTTLS, or TLS
// from the first byte), failed AUTH throttled per client, a bound on
// connections per client and in all, idle and lifetime timeouts
// (listener.go), and a bound on the message data held in memory at once.
package smtpserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sesame/sesame/internal/account"
	"github.com/sesame/sesame/internal/auth/throttle"
	"github.com/sesame/sesame/internal/registry"
	"github.com/sesame/sesame/internal/send"
)

// The defaults of Options.
const (
	// MaxMessageBytes is SES's quota for SMTP, 40 MB, as for the v2 API
	// (https://docs.aws.amazon.com/ses/latest/dg/quotas.html; SES's SMTP
	// troubleshooting page still says 10 MB).
	MaxMessageBytes = send.MaxV2
	// MaxRecipients is SES's 50 per message, RCPT TO counted.
	MaxRecipients = send.MaxRecipients
	// DefaultIdleTimeout is how long a client may stay silent, within a
	// command or between two. SES closes idle connections after about
	// 10 s; a minute is kinder to a loaded client.
	DefaultIdleTimeout = time.Minute
	// DefaultLifetime bounds a connection, however busy.
	DefaultLifetime = 30 * time.Minute
	// DefaultConnsPerClient is the most connections of one client
	// address (an IPv6 /64) at once; DefaultConns of all clients.
	DefaultConnsPerClient = 20
	DefaultConns          = 500
	// DefaultDataMemory is the most message data held at once, across
	// connections: past it a message gets 451 and may be tried again.
	DefaultDataMemory = 256 << 20
)

// Keys resolves access key IDs (account.Manager); a revoked key is not
// found.
type Keys interface {
	Resolve(ctx context.Context, keyID string) (account.Key, bool, error)
}

// Sender accepts messages (send.Sender).
type Sender interface {
	Send(ctx context.Context, sc registry.Scope, m *send.Message) (string, error)
}

// Options configure a Server.
type Options struct {
	// Region is the region the listener serves, as SES's endpoint
	// email-smtp.REGION.amazonaws.com does: passwords are derived for it
	// and messages sent in it.
	Region string
	Keys   Keys
	Sender Sender
	// TLS is the certificate for STARTTLS and implicit TLS.
	TLS *tls.Config
	// Hostname is the name in the banner and the EHLO reply; default
	// the machine's.
	Hostname string
	Limits
	Log *slog.Logger
	Now func() time.Time
}

// Limits bound what clients may take; zero values take the defaults
// above.
type Limits struct {
	IdleTimeout     time.Duration
	Lifetime        time.Duration
	ConnsPerClient  int
	Conns           int
	DataMemory      int64
	MaxMessageBytes int
}

// Server serves the SMTP interface on one or more listeners.
type Server struct {
	opts   Options
	smtp   *smtp.Server
	log    *slog.Logger
	fails  throttle.Table // failed AUTH
	memory budget
	conns  counter
}

// New returns a server; Serve starts it on a listener.
func New(opts Options) (*Server, error) {
	if opts.Region == "" || opts.Keys == nil || opts.Sender == nil || opts.TLS == nil {
		return nil, errors.New("smtpserver: Region, Keys, Sender and TLS are required")
	}
	if opts.Hostname == "" {
		opts.Hostname, _ = os.Hostname()
		if opts.Hostname == "" {
			opts.Hostname = "localhost"
		}
	}
	setDefault(&opts.IdleTimeout, DefaultIdleTimeout)
	setDefault(&opts.Lifetime, DefaultLifetime)
	setDefault(&opts.ConnsPerClient, DefaultConnsPerClient)
	setDefault(&opts.Conns, DefaultConns)
	setDefault(&opts.DataMemory, DefaultDataMemory)
	setDefault(&opts.MaxMessageBytes, MaxMessageBytes)
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	s := &Server{opts: opts, log: opts.Log, memory: budget{max: opts.DataMemory}}
	be := smtp.BackendFunc(s.newSession)
	srv := smtp.NewServer(be)
	srv.Domain = opts.Hostname
	srv.TLSConfig = opts.TLS
	srv.MaxMessageBytes = int64(opts.MaxMessageBytes)
	srv.MaxRecipients = MaxRecipients
	// AUTH only over TLS: AUTH is neither offered nor accepted before
	// STARTTLS.
	srv.AllowInsecureAuth = false
	// SES does not support SMTPUTF8: MAIL FROM ... SMTPUTF8 is refused.
	srv.EnableSMTPUTF8 = false
	// Reads are timed by the listener's connections (idle and lifetime
	// deadlines on every read, DATA included); a write must go through
	// within the idle timeout too.
	srv.WriteTimeout = opts.IdleTimeout
	srv.ErrorLog = slogLogger{opts.Log}
	s.smtp = srv
	return s, nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

func (s *Server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

// Serve accepts connections on l until Close: implicit is TLS from the
// first byte (port 465's way), otherwise the client must STARTTLS before
// AUTH (587's).
func (s *Server) Serve(l net.Listener, implicit bool) error {
	var cfg *tls.Config
	if implicit {
		cfg = s.opts.TLS
	}
	return s.smtp.Serve(&listener{Listener: l, s: s, tls: cfg})
}

// Close stops the listeners and closes every connection.
func (s *Server) Close() error { return s.smtp.Close() }

// Shutdown stops the listeners and waits for the connections to end, or
// for ctx.
func (s *Server) Shutdown(ctx context.Context) error { return s.smtp.Shutdown(ctx) }

// slogLogger is go-smtp's error log in slog; it reports connections that
// ended in an error, which a public listener sees all day.
type slogLogger struct{ l *slog.Logger }

func (l slogLogger) Printf(format string, v ...any) {
	l.l.Debug("smtp connection", "detail", fmt.Sprintf(format, v...))
}

func (l slogLogger) Println(v ...any) { l.l.Debug("smtp connection", "detail", fmt.Sprint(v...)) }

// budget is the message data held in memory across connections.
type budget struct {
	mu   sync.Mutex
	max  int64
	used int64
}

func (b *budget) take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.max {
		return false
	}
	b.used += n
	return true
}

func (b *budget) give(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}
