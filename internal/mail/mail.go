// Package mail sends the verification email of address identities: the
// message itself (MIME), a signed link that works once and expires, the
// outbox every message is stored in before the API call returns, delivery
// through an SMTP relay with retries, and caps against abuse.
//
// Without a relay, messages stay in the local outbox (`sesame outbox`, and
// each account's own in the console) and their links are logged, so an
// address can be verified without any mail server.
package mail

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/store"
)

// ErrTooLarge is a message of MaxMessage bytes or more (SES: MessageRejected).
var ErrTooLarge = errors.New("message too large")

// VerifyPath is the path of verification links under the public URL.
const VerifyPath = "/verify"

// Settings tune verification mail; the zero value is Sesame's default.
type Settings struct {
	// From sends SES-style verification mail; default DefaultFrom of the
	// public URL.
	From string
	// CAFile is a PEM file of the CAs the relay's certificate must chain
	// to, instead of the system's (a private CA, or a test's).
	CAFile string
	// Limits cap verification mail; nil means DefaultLimits.
	Limits *Limits
	// RetryMin and RetryMax bound the backoff of temporary failures; see
	// Queue.
	RetryMin, RetryMax time.Duration
	// Concurrency is how many messages are relayed at once; default
	// DefaultConcurrency.
	Concurrency int
}

// DefaultFrom is no-reply@ the host of the public URL, or no-reply@localhost
// when that host is an IP address.
func DefaultFrom(publicURL string) string {
	host := "localhost"
	if u, err := url.Parse(publicURL); err == nil && u.Hostname() != "" && net.ParseIP(u.Hostname()) == nil {
		host = u.Hostname()
	}
	return "no-reply@" + host
}

// Mailer stores verification messages and their links. It implements
// registry.Mailer.
type Mailer struct {
	Store  store.Mail
	Signer *Signer
	// PublicURL is the base of links: <PublicURL>/verify?token=...
	PublicURL string
	// From sends SES-style verification mail; custom templates have
	// their own sender.
	From string
	// Validity is the life of a link: identity.Policies.Link.Window.
	Validity time.Duration
	Limits   Limits
	Now      func() time.Time
	Log      *slog.Logger
	// Queue delivers through a relay; nil keeps messages in the local
	// outbox.
	Queue *Queue
}

func (m *Mailer) now() time.Time {
	if m.Now != nil {
		return m.Now().UTC()
	}
	return time.Now().UTC()
}

// Local reports whether messages stay in the local outbox.
func (m *Mailer) Local() bool { return m.Queue == nil }

// SendVerification stores the verification mail of a pending address,
// with a new link that voids the earlier ones. A *LimitError means nothing
// was stored.
func (m *Mailer) SendVerification(ctx context.Context, id *identity.Identity) error {
	_, err := m.send(ctx, id, nil)
	return err
}

// SendCustomVerification stores a custom verification mail made from t and
// returns its message ID.
func (m *Mailer) SendCustomVerification(ctx context.Context, id *identity.Identity, t *store.Template) (string, error) {
	return m.send(ctx, id, t)
}

// CheckLimits returns the *LimitError a mail to k would get now, so that an
// operation can refuse before it changes anything.
func (m *Mailer) CheckLimits(ctx context.Context, k identity.Key) error {
	for _, l := range m.limits(k, m.now()) {
		n, err := m.Store.CountMessages(ctx, l)
		if err != nil {
			return err
		}
		if n >= l.Max {
			return l.Err
		}
	}
	return nil
}

func (m *Mailer) limits(k identity.Key, now time.Time) []store.Limit {
	var out []store.Limit
	if l := m.Limits; l.PerRecipient > 0 {
		out = append(out, store.Limit{Account: k.Account, Recipient: k.Name, Since: now.Add(-l.RecipientWindow), Max: l.PerRecipient,
			Err: &LimitError{Max: l.PerRecipient, Window: l.RecipientWindow, Recipient: k.Name}})
	}
	if l := m.Limits; l.PerAccount > 0 {
		out = append(out, store.Limit{Account: k.Account, Since: now.Add(-l.AccountWindow), Max: l.PerAccount,
			Err: &LimitError{Daily: true, Max: l.PerAccount, Window: l.AccountWindow}})
	}
	return out
}

// LinkURL is the verification URL of a token.
func (m *Mailer) LinkURL(token string) string {
	return strings.TrimSuffix(m.PublicURL, "/") + VerifyPath + "?token=" + url.QueryEscape(token)
}

func (m *Mailer) send(ctx context.Context, id *identity.Identity, t *store.Template) (string, error) {
	now := m.now()
	l := &store.Link{Nonce: NewNonce(), Key: id.Key, Created: now, Expires: now.Add(m.Validity).Truncate(time.Second)}
	tok, err := m.Signer.Sign(Claims{Key: id.Key, Nonce: l.Nonce, Expires: l.Expires})
	if err != nil {
		return "", err
	}
	link := m.LinkURL(tok)
	let := defaultLetter(m.From, id.Name, id.Region, link, m.Validity)
	if t != nil {
		let = customLetter(t.From, id.Name, t.Subject, t.Content, link)
		l.SuccessURL, l.FailureURL = t.SuccessURL, t.FailureURL
	}
	msg := &store.Message{
		ID: NewMessageID(now), Key: id.Key, From: let.From, To: id.Name, Subject: let.Subject,
		Link: link, LinkNonce: l.Nonce, Created: now, Status: store.Local,
	}
	msg.Raw = let.encode(msg.ID, now)
	if len(msg.Raw) >= MaxMessage {
		return "", ErrTooLarge
	}
	if !m.Local() {
		msg.Status, msg.NextAttempt = store.Queued, now
	}
	if err := m.Store.AddMessage(ctx, msg, l, m.limits(id.Key, now)); err != nil {
		return "", err
	}
	queued.WithLabelValues(string(msg.Status)).Inc()
	if m.Local() {
		// The point of the local outbox: a newcomer finds the link here.
		m.log().Info("verification email kept in the local outbox (no --smtp-url): open the link to verify the address",
			"to", id.Name, "account", id.Account, "region", id.Region, "message_id", msg.ID, "link", link)
	} else {
		m.Queue.Wake()
	}
	return msg.ID, nil
}

func (m *Mailer) log() *slog.Logger {
	if m.Log != nil {
		return m.Log
	}
	return slog.Default()
}
