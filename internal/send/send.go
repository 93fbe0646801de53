// Package send accepts a message for sending, as SES's Send* calls do, in
// the steps DESIGN.md names:
//
//	gate     who may send (the source verified, itself or through its
//	         domain), the sandbox's recipients, the pause, the quota and
//	         the rate (gate.go)
//	build    the MIME message, with SES's Message-ID and Date (build.go)
//	sign     DKIM, through the Signer hook (sign.go)
//	envelope the MAIL FROM and the recipients (envelope.go)
//	enqueue  into mail's one outbox and queue, before the call returns
//
// A refused call stores and sends nothing.
package send

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/sesame/sesame/internal/mail"
	"github.com/sesame/sesame/internal/registry"
	"github.com/sesame/sesame/internal/store"
)

// The message size limits
// (https://docs.aws.amazon.com/ses/latest/dg/quotas.html): measured on the
// whole MIME message, attachments base64-encoded.
const (
	MaxV1 = 10 << 20 // the v1 API
	MaxV2 = 40 << 20 // the v2 API (and SMTP)
	// MaxRecipients is SES's fixed limit across To, Cc and Bcc.
	MaxRecipients = 50
)

// Queue relays what the outbox holds (*mail.Queue).
type Queue interface {
	// Wake says a message is due now: the queue claims it from the store.
	Wake()
	// Reserve, Hand and Unreserve give the queue a message this process
	// stores, under a lease that is the queue's, so that it does not read
	// it back (see mail.Queue.Reserve).
	Reserve(ctx context.Context, now time.Time) (until time.Time, ok bool)
	Hand(ctx context.Context, m *store.Message)
	Unreserve()
}

// Sender accepts messages.
type Sender struct {
	// Registry answers which addresses are verified (Unverified).
	Registry *registry.Registry
	// States hold each account's sandbox, pause and quotas.
	States store.SendingStates
	// Outbox stores accepted messages; it is the queue.
	Outbox store.Outbox
	// Queue, if set, relays: accepted messages are queued and handed to
	// it, or it is woken to claim them. Nil keeps them in the local outbox
	// (captured; see api/retro).
	Queue Queue
	// Signer signs with the identity's DKIM key; nil signs nothing.
	Signer Signer
	Now    func() time.Time
	Log    *slog.Logger

	mu    sync.Mutex
	rates map[registry.Scope]*bucket
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Sender) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// Message is what a send call gives.
type Message struct {
	Action string // SendEmail, SendRawEmail... for the record
	// Max is the size limit: MaxV1 or MaxV2.
	Max int
	// Source is the sender as given: v1 Source, v2 FromEmailAddress; it
	// may have a display name. For raw mail it may be empty, and the From
	// header is used.
	Source      string
	To, Cc, Bcc []string
	ReplyTo     []string
	ReturnPath  string
	// Simple content (or a rendered template).
	Subject, Text, HTML string
	// Template names a stored template, or Inline is v2's inline one;
	// TemplateData renders it into Subject, Text and HTML.
	Template, TemplateData string
	Inline                 *store.EmailTemplate
	// Raw is the MIME message of SendRawEmail or v2 Raw content;
	// Destinations, if any, replace its To, Cc and Bcc as the envelope.
	Raw []byte
	// SourceArn, FromArn and ReturnPathArn are sending authorization
	// (arn.go): v1's parameters, or v2's FromEmailAddressIdentityArn (as
	// SourceArn and FromArn) and FeedbackForwardingEmailAddressIdentityArn
	// (as ReturnPathArn). A raw message's X-SES-*-ARN headers stand for
	// those not given.
	SourceArn, FromArn, ReturnPathArn IdentityARN
	// ConfigurationSet is ConfigurationSetName: it must exist in the
	// account and region (ConfigurationSetDoesNotExist, v2
	// NotFoundException); it is kept with nothing more done (no event
	// destinations yet).
	ConfigurationSet string
}

// Send gates, builds, signs and enqueues m, and returns its MessageId.
func (s *Sender) Send(ctx context.Context, sc registry.Scope, m *Message) (string, error) {
	now := s.now()
	p, err := s.parse(m)
	if err != nil {
		return "", err
	}
	if m.ConfigurationSet != "" {
		if err := s.Registry.ConfigSetExists(ctx, sc, m.ConfigurationSet); err != nil {
			return "", err
		}
	}
	tpl := m.Inline
	if m.Template != "" {
		// A template that does not exist fails the call (TemplateDoesNotExist).
		if tpl, err = s.Registry.GetEmailTemplate(ctx, sc, m.Template); err != nil {
			return "", err
		}
	}
	st, err := s.gate(ctx, sc, p, m.Action, now)
	if err != nil {
		return "", err
	}
	id := mail.NewMessageID(now)
	if tpl != nil {
		r, err := registry.RenderTemplate(tpl, m.TemplateData)
		if err != nil {
			// "If the call is successful, you receive a MessageId ... if
			// Amazon SES can't render the email ... it doesn't send":
			// SES reports it as a Rendering Failure event.
			s.log().Warn("templated message not sent: Rendering Failure", "account", sc.Account, "region", sc.Region,
				"message_id", id, "template", tpl.Name, "err", err)
			return id, nil
		}
		m.Subject, m.Text, m.HTML = r.Subject, r.Text, r.HTML
	}
	raw, err := build(p, m, sc.Region, id, now)
	if err != nil {
		return "", err
	}
	if len(raw) > m.Max {
		return "", rejectf("Message length is more than %d bytes: SES's limit for this call (%d MB), attachments counted base64-encoded.", m.Max, m.Max>>20)
	}
	if raw, err = s.sign(ctx, sc, p, raw); err != nil {
		return "", err
	}
	msg := envelope(sc, p, m, id, st.mailFrom, raw, now)
	reserved := false
	if s.Queue != nil && len(msg.Recipients) > 0 {
		msg.Status, msg.NextAttempt = store.Queued, now
		if until, ok := s.Queue.Reserve(ctx, now); ok {
			msg.NextAttempt, reserved = until, true
			defer func() { // not stored (an error, a panic): the place is free again
				if reserved {
					s.Queue.Unreserve()
				}
			}()
		}
	}
	if err := s.Outbox.AddMessage(ctx, msg, nil, st.limits(sc, now, p)); err != nil {
		return "", err
	}
	status := msg.Status // msg is the queue's once handed
	switch {
	case reserved:
		reserved = false
		s.Queue.Hand(ctx, msg)
	case status == store.Queued:
		s.Queue.Wake()
	}
	s.log().Info("message accepted", "account", sc.Account, "region", sc.Region, "message_id", id, "action", m.Action,
		"recipients", len(p.rcpts), "status", status)
	return id, nil
}
