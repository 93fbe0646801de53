package store

import (
	"context"
	"time"

	"github.com/sesame/sesame/internal/identity"
)

// Sending stores what the sending API keeps besides the outbox: the email
// templates of SendTemplatedEmail and the sending state of each account.
type Sending interface {
	EmailTemplates
	SendingStates
	// SentVolume returns, for each message sent by an account in a region
	// after since, when it was accepted and to how many recipients, oldest
	// first: for GetSendStatistics.
	SentVolume(ctx context.Context, account, region string, since time.Time) ([]Volume, error)
	// HideSent takes an account's sent message (all of them when id is
	// empty) out of ListMessages, as LocalStack's DELETE /_aws/ses does,
	// and reports how many it hid. The messages stay: they are still
	// delivered and still count against the quota.
	HideSent(ctx context.Context, account, id string) (int, error)
}

// Volume is one sent message as GetSendStatistics counts it.
type Volume struct {
	Created    time.Time
	Recipients int
}

// EmailTemplate is an email template (v1 CreateTemplate, v2
// CreateEmailTemplate): a subject and text and HTML parts in SES's
// Handlebars-based language. Its key is that of TemplateKey, in a
// namespace of its own: a custom verification template and an email
// template may share a name, as in SES.
type EmailTemplate struct {
	TemplateKey
	Subject string
	Text    string
	HTML    string
	Tags    []identity.Tag // v2's; v1 has none
	Created time.Time
	Updated time.Time
}

// EmailTemplates stores email templates.
type EmailTemplates interface {
	// CreateEmailTemplate stores a new template, or returns ErrExists for
	// a name in use. In the same transaction it counts the account's
	// templates in t's region and stores t only if limit (when not nil)
	// returns nil; limit's error is returned as is.
	CreateEmailTemplate(ctx context.Context, t *EmailTemplate, limit func(inRegion int) error) error
	// GetEmailTemplate returns ErrNotFound for an unknown template.
	GetEmailTemplate(ctx context.Context, k TemplateKey) (*EmailTemplate, error)
	// UpdateEmailTemplate replaces the parts of a stored template, keeping
	// its Created; ErrNotFound for an unknown template.
	UpdateEmailTemplate(ctx context.Context, t *EmailTemplate) error
	// DeleteEmailTemplate reports whether the template existed.
	DeleteEmailTemplate(ctx context.Context, k TemplateKey) (bool, error)
	// ListEmailTemplates lists the templates of one account and region
	// whose names sort after after, in name order.
	ListEmailTemplates(ctx context.Context, account, region, after string, limit int) ([]*EmailTemplate, error)
}

// SendingState is what SES keeps per account and region about sending:
// whether the account left the sandbox, whether sending is paused, and its
// quotas. An account and region never written has the zero state, which
// is SES's for a new account: in the sandbox, sending enabled, the
// sandbox's quotas (see account.DefaultSending).
type SendingState struct {
	Account string
	Region  string
	// Production is true once the account left the sandbox.
	Production bool
	// Paused is true while sending is disabled
	// (UpdateAccountSendingEnabled false).
	Paused bool
	// Max24HourSend and MaxSendRate override the quotas; zero keeps the
	// default of the sandbox or of production, negative is unlimited.
	Max24HourSend float64
	MaxSendRate   float64
	Updated       time.Time
}

// SendingStates stores the sending state of accounts.
type SendingStates interface {
	// GetSendingState returns the state of an account in a region: the
	// zero state (with Account and Region set) when none was stored.
	GetSendingState(ctx context.Context, account, region string) (*SendingState, error)
	// UpdateSendingState runs fn on the current state (as GetSendingState
	// returns it) in one transaction and stores it; fn's error is returned
	// as is and stores nothing.
	UpdateSendingState(ctx context.Context, account, region string, fn func(s *SendingState) error) (*SendingState, error)
}
