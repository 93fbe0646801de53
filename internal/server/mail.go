package server

import (
	"context"
	"fmt"
	"net"
	"net/http"
	netmail "net/mail"
	"net/url"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sesame/sesame/internal/mail"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/redact"
	"github.com/sesame/sesame/internal/store"
)

// DefaultPublicURL is the base of verification links when Options.PublicURL
// is empty: the default listener of `sesame serve`.
const DefaultPublicURL = "http://127.0.0.1:8080"

// openMail builds the verification mailer and, with a relay, starts the
// queue that delivers through it.
func (s *Server) openMail(opts Options) error {
	pub := opts.PublicURL
	if pub == "" {
		pub = DefaultPublicURL
	}
	if _, err := ParsePublicURL(pub); err != nil {
		return err
	}
	from := opts.Mail.From
	if from == "" {
		from = mail.DefaultFrom(pub)
	}
	if a, err := netmail.ParseAddress(from); err != nil || a.Name != "" || a.Address != from {
		return fmt.Errorf("mail sender %q: want a bare address, such as no-reply@sesame.example.com", from)
	}
	signer, err := mail.LoadSigner(filepath.Join(opts.Data, mail.KeyFile))
	if err != nil {
		return err
	}
	validity := opts.Policies.Link.Window
	if validity <= 0 {
		validity = 24 * time.Hour
	}
	limits := mail.DefaultLimits()
	if opts.Mail.Limits != nil {
		limits = *opts.Mail.Limits
	}
	log := opts.Log.With("component", "mail")
	m := &mail.Mailer{Store: s.Store, Signer: signer, PublicURL: pub, From: from, Validity: validity,
		Limits: limits, Now: opts.Now, Log: log}
	if opts.SMTPURL != "" {
		relay, err := mail.ParseRelay(opts.SMTPURL, opts.Mail.CAFile)
		if err != nil {
			return err
		}
		relay.Hello = names.DomainOf(from)
		relay.MaxIdle = opts.Mail.Concurrency
		q := &mail.Queue{Store: s.Store, Relay: relay, Now: opts.Now, Log: log, RetryMin: opts.Mail.RetryMin,
			RetryMax: opts.Mail.RetryMax, GiveUp: validity, Concurrency: opts.Mail.Concurrency, Failed: s.mailFailed}
		q.Init()
		m.Queue = q
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			q.Run(ctx)
		}()
		s.stopMail = func() { cancel(); <-done }
		log.Info("verification mail goes through the SMTP relay", "relay", relay.String(), "from", from)
	} else {
		log.Info("no SMTP relay (--smtp-url): verification mail stays in the local outbox, each account's in its console", "outbox", pub+mail.ConsoleOutbox)
	}
	s.Mail = m
	s.Registry.Mailer = m
	s.Registry.Templates = s.Store
	return nil
}

// ParsePublicURL reads the base URL of verification links (--public-url):
// absolute http or https, without a query or credentials.
func ParsePublicURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("public URL %q: %v; want an absolute http or https URL without a query, such as https://sesame.example.com", redact.String(raw), redact.ParseError(err))
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("public URL %q: want an absolute http or https URL without a query or credentials, such as https://sesame.example.com", redact.URL(u))
	}
	return u, nil
}

// LoopbackURL says whether the URL's host is this machine (localhost, a
// loopback address): only then does a link to it reach this machine alone.
// A loopback --listen behind a reverse proxy is reached from anywhere
// through the proxy's public URL, so the local outbox rule looks at both.
func LoopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Host != "" && mail.IsLoopback(u.Hostname())
}

// LoopbackListen says whether the listener address (host:port) accepts
// connections from this machine only: a loopback address or localhost. An
// empty host (":8080") is every interface. Without a relay, `sesame serve`
// needs one (or --allow-local-outbox): the local outbox shows each tenant
// the links of the addresses it names, which proves nothing of their
// owners.
func LoopbackListen(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	return err == nil && host != "" && mail.IsLoopback(host)
}

// mailFailed fails the address whose newest verification mail the relay
// refused; an older message's failure is moot once a newer one is on its
// way.
func (s *Server) mailFailed(ctx context.Context, m *store.Message) {
	l, err := s.Store.GetLink(ctx, m.LinkNonce)
	if err != nil || !l.Replaced.IsZero() {
		return
	}
	if err := s.Registry.MailFailed(ctx, m.Key, m.Done, m.LastError); err != nil {
		s.Log.Error("recording a failed verification email", "identity", m.Key.Name, "err", err)
	}
}

// mailRoutes serves the verification link and the local outbox.
func (s *Server) mailRoutes(mux *http.ServeMux, reg *prometheus.Registry) {
	web := &mail.Web{Mailer: s.Mail, Confirm: s.Registry, Log: s.Log.With("component", "mail")}
	web.Register(mux)
	reg.MustRegister(mail.Collectors()...)
}

func (s *Server) closeMail() {
	if s.stopMail != nil {
		s.stopMail()
	}
}
