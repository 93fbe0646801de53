package store

import (
	"context"
	"time"

	"github.com/sesame/sesame/internal/identity"
)

// Mail stores what verification mail needs: the links sent, the outbox of
// messages, and the custom verification templates.
type Mail interface {
	Links
	Outbox
	Templates
}

// Link is one verification link sent to an address. Only the newest link of
// an identity works: storing a new one marks the others Replaced.
type Link struct {
	Nonce   string // random; names the link
	Key     identity.Key
	Created time.Time
	Expires time.Time
	// Used is when the link was opened with success; zero until then.
	Used time.Time
	// Replaced is when a newer link was sent; zero while this is the newest.
	Replaced time.Time
	// SuccessURL and FailureURL are the redirections of a custom
	// verification template; empty for SES's own verification mail.
	SuccessURL string
	FailureURL string
}

// Links stores verification links. Links are written with their message
// (Outbox.AddMessage).
type Links interface {
	// GetLink returns ErrNotFound for an unknown nonce.
	GetLink(ctx context.Context, nonce string) (*Link, error)
	// UseLink marks a link used and reports whether this call did: false
	// when it was used already.
	UseLink(ctx context.Context, nonce string, at time.Time) (bool, error)
}

// MessageStatus is where a message is in the outbox.
type MessageStatus string

const (
	// Local: kept in the local outbox, since no relay is configured.
	Local MessageStatus = "local"
	// Queued: waiting for the relay (a first attempt, or a retry).
	Queued MessageStatus = "queued"
	// Sent: the relay accepted it.
	Sent MessageStatus = "sent"
	// Failed: the relay refused it for good, or retries ran out.
	Failed MessageStatus = "failed"
)

// MessageKind says what a message in the outbox is: both kinds share one
// queue, one relay and one retry policy.
type MessageKind string

const (
	// Verification: a verification email; the zero kind, as every
	// message was before sending.
	Verification MessageKind = ""
	// SentMail: a message accepted by a send call (SendEmail and kin).
	SentMail MessageKind = "sent"
)

// Message is one email in the outbox: a verification email, or one sent
// through the API.
type Message struct {
	ID   string
	Kind MessageKind
	// Key is the identity it verifies; for sent mail, the sender's
	// account and region, and the source's domain as Name.
	Key  identity.Key
	From string // the envelope sender (MAIL FROM)
	// To is the recipient of a verification email; Recipients are the
	// envelope recipients of sent mail (To, Cc and Bcc; To is the first).
	To         string
	Recipients []string
	// Counted is how many of Recipients the daily sending quota counts:
	// mail to SES's mailbox simulator "counts against the rate limit but
	// not the daily quota".
	Counted int
	// Sent describes sent mail as the call gave it; nil for verification.
	Sent      *SentInfo
	Subject   string
	Link      string // the verification URL inside
	LinkNonce string
	Raw       []byte // the whole RFC 5322 message, CRLF line ends
	Created   time.Time
	Status    MessageStatus
	Attempts  int
	// NextAttempt is when a queued message is tried next.
	NextAttempt time.Time
	LastError   string
	Done        time.Time // when it was sent or failed
}

// SentInfo is what a send call said of a message, as LocalStack's
// /_aws/ses shows it (api/retro): the source and destinations as given,
// and the simple or templated content before it became MIME.
type SentInfo struct {
	MessageID    string // the MessageId returned, as SES makes it
	Action       string // SendEmail, SendRawEmail, SendTemplatedEmail...
	Source       string
	To, Cc, Bcc  []string
	Subject      string
	Text, HTML   string
	Template     string
	TemplateData string
	Raw          bool // the call gave the MIME message itself
	// Simulated are the outcomes of SES's mailbox simulator recipients,
	// "address: outcome", which SES answers itself and Sesame does not
	// relay.
	Simulated []string `json:",omitempty"`
}

// SentMinute is the minute a sent message counts in for the sending
// quota: both stores keep the recipients of each account's sent mail by
// the minute (sent_minutes), so that the quota's count, read at every send,
// sums at most a day of minutes rather than a day of messages.
func SentMinute(t time.Time) int64 {
	n := t.UnixNano()
	m := n / int64(time.Minute)
	if n%int64(time.Minute) < 0 { // down, not toward zero: before 1970 too, a minute starts at or before its times
		m--
	}
	return m
}

// SentMinutesKept is how many minutes before a message's own the stores
// keep when they add it; older ones are dropped as a new minute begins.
// Two days: the quota's window is one.
const SentMinutesKept = 2 * 24 * 60

// SentWindow splits the quota's window, the messages created after since:
// the whole minutes after since's own (their counts), and since's minute
// from since to before partialEnd (unix nanoseconds; its messages, at most
// a minute of them), so that the count is exact to the nanosecond. since
// must be within SentMinutesKept of the newest message.
func SentWindow(since time.Time) (minute, partialEnd int64) {
	minute = SentMinute(since)
	return minute, (minute + 1) * int64(time.Minute)
}

// Limit caps the messages of one kind an account sent after Since, to one
// recipient or to all. For sent mail it counts recipients in one region,
// as SES's quotas do.
type Limit struct {
	Kind      MessageKind
	Account   string
	Region    string // sent mail only
	Recipient string // empty: every recipient; verification only
	Since     time.Time
	Max       int
	// Err is what AddMessage returns when the cap is reached.
	Err error
}

// MessageQuery selects messages, newest first.
type MessageQuery struct {
	Kind    MessageKind
	Account string // empty: every account
	Region  string // empty: every region; only with Account
	To      string // empty: every recipient
	Status  MessageStatus
	Limit   int
}

// Outbox stores messages.
type Outbox interface {
	// AddMessage stores m and its link in one transaction, replacing the
	// identity's earlier links, unless a limit is reached: then nothing is
	// stored and that limit's Err is returned.
	AddMessage(ctx context.Context, m *Message, l *Link, limits []Limit) error
	// CountMessages counts what a Limit counts: messages, or for sent mail
	// their recipients.
	CountMessages(ctx context.Context, l Limit) (int, error)
	// GetMessage returns ErrNotFound for an unknown ID.
	GetMessage(ctx context.Context, id string) (*Message, error)
	ListMessages(ctx context.Context, q MessageQuery) ([]*Message, error)
	// DueMessages returns up to limit queued messages whose NextAttempt is
	// not after now, earliest first.
	DueMessages(ctx context.Context, now time.Time, limit int) ([]*Message, error)
	// ClaimMessages leases up to limit queued messages due at now
	// (NextAttempt not after now), earliest first, for delivery: in one
	// transaction their NextAttempt becomes until, so no other process
	// (replica) delivers them before the lease runs out, and those of a
	// process that died come due again when it does. They are returned as
	// stored, with NextAttempt = until; UpdateMessage records the outcome.
	ClaimMessages(ctx context.Context, now, until time.Time, limit int) ([]*Message, error)
	// NextDue is the earliest NextAttempt of a queued message; zero when
	// nothing is queued.
	NextDue(ctx context.Context) (time.Time, error)
	// UpdateMessage stores the delivery state of m (Status, Attempts,
	// NextAttempt, LastError, Done); ErrNotFound for an unknown ID.
	UpdateMessage(ctx context.Context, m *Message) error
}

// MessageBatcher is an Outbox that stores the delivery state of several
// messages in one transaction: one durable write for many outcomes, which
// is what bounds a queue that commits each one (a sync to disk each).
type MessageBatcher interface {
	// UpdateMessages does what UpdateMessage does for each of ms, all or
	// nothing: on any error, ErrNotFound for one unknown ID included,
	// none is stored.
	UpdateMessages(ctx context.Context, ms []*Message) error
}

// UpdateMessages stores the delivery state of ms: in one transaction when o
// is a MessageBatcher, otherwise one message after another (stopping at
// the first error, the earlier ones stored).
func UpdateMessages(ctx context.Context, o Outbox, ms []*Message) error {
	if b, ok := o.(MessageBatcher); ok {
		return b.UpdateMessages(ctx, ms)
	}
	for _, m := range ms {
		if err := o.UpdateMessage(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// TemplateKey names a custom verification template: templates belong to
// one account in one region, as in SES.
type TemplateKey struct {
	Account string
	Region  string
	Name    string
}

// Template is a custom verification email template.
type Template struct {
	TemplateKey
	From       string
	Subject    string
	Content    string
	SuccessURL string
	FailureURL string
	Tags       []identity.Tag
	Created    time.Time
	Updated    time.Time
}

// Templates stores custom verification templates.
type Templates interface {
	// CreateTemplate stores a new template, or returns ErrExists for a
	// name in use. In the same transaction it counts the account's
	// templates in t's region and in all regions, and stores t only if
	// limit (when not nil) returns nil; limit's error is returned as is.
	CreateTemplate(ctx context.Context, t *Template, limit func(inRegion, inAccount int) error) error
	// GetTemplate returns ErrNotFound for an unknown template.
	GetTemplate(ctx context.Context, k TemplateKey) (*Template, error)
	// UpdateTemplate runs fn on the template in one transaction and stores
	// the result; ErrNotFound for an unknown template, fn's error as is.
	UpdateTemplate(ctx context.Context, k TemplateKey, fn func(t *Template) error) (*Template, error)
	// DeleteTemplate reports whether the template existed.
	DeleteTemplate(ctx context.Context, k TemplateKey) (bool, error)
	// ListTemplates lists the templates of one account and region whose
	// names sort after after, in name order.
	ListTemplates(ctx context.Context, account, region, after string, limit int) ([]*Template, error)
}
