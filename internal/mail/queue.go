package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sesame/sesame/internal/store"
)

// Sender hands one message to a relay; *Relay is one. An error that is a
// *DeliveryError with Permanent set is not retried.
type Sender interface {
	Send(ctx context.Context, from string, to []string, msg []byte) error
}

// Queue delivers the queued messages of the outbox, one at a time, and
// retries temporary failures with exponential backoff. Since the outbox is
// the queue, a restart loses nothing: queued messages are picked up again,
// and one that was being sent when the process died is sent again once its
// lease (Lease) runs out, by this process or another replica (at least
// once, like any MTA).
type Queue struct {
	Store store.Outbox
	Relay Sender
	Now   func() time.Time
	Log   *slog.Logger
	// RetryMin is the wait after the first temporary failure; it doubles
	// with each attempt up to RetryMax. Defaults: 30 s and 30 min.
	RetryMin, RetryMax time.Duration
	// GiveUp is how long after its creation a verification message is
	// still tried: its link's validity, since a late link is useless.
	GiveUp time.Duration
	// SentGiveUp is how long sent mail is tried; default DefaultSentGiveUp.
	SentGiveUp time.Duration
	// Failed, if set, is told of each message that failed for good.
	Failed func(ctx context.Context, m *store.Message)

	wake chan struct{}
}

// Poll bounds how long the queue sleeps without being woken, so that
// messages queued by another process are seen.
const Poll = time.Minute

func (q *Queue) now() time.Time {
	if q.Now != nil {
		return q.Now().UTC()
	}
	return time.Now().UTC()
}

func (q *Queue) log() *slog.Logger {
	if q.Log != nil {
		return q.Log
	}
	return slog.Default()
}

// Init prepares the queue; call it before Wake or Run.
func (q *Queue) Init() {
	q.wake = make(chan struct{}, 1)
	if q.RetryMin == 0 {
		q.RetryMin = 30 * time.Second
	}
	if q.RetryMax == 0 {
		q.RetryMax = 30 * time.Minute
	}
}

// Wake tells the queue a message is due now.
func (q *Queue) Wake() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Lease is how long a claimed message is this queue's alone: other
// processes on the same database (replicas) take it only once the lease
// has run out, which is when the process that claimed it died while
// sending. It is longer than an attempt can take (the relay's steps each
// time out after a minute), so a message is never sent twice by two live
// replicas.
const Lease = 15 * time.Minute

// Run delivers until ctx is done. It claims one message at a time, so that
// no message waits under a lease while others are sent.
func (q *Queue) Run(ctx context.Context) {
	for ctx.Err() == nil {
		now := q.now()
		due, err := q.Store.ClaimMessages(ctx, now, now.Add(Lease), 1)
		if err != nil && ctx.Err() == nil {
			q.log().Error("reading the outbox", "err", err)
		}
		for _, m := range due {
			q.deliver(ctx, m)
		}
		if len(due) > 0 {
			continue
		}
		wait := Poll
		if next, err := q.Store.NextDue(ctx); err == nil && !next.IsZero() {
			wait = min(wait, next.Sub(q.now()))
		}
		t := time.NewTimer(max(wait, 0))
		select {
		case <-ctx.Done():
		case <-q.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// backoff is the wait after the n-th failed attempt.
func (q *Queue) backoff(n int) time.Duration {
	d := q.RetryMin
	for i := 1; i < n && d < q.RetryMax; i++ {
		d *= 2
	}
	return min(d, q.RetryMax)
}

// DefaultSentGiveUp is how long sent mail is retried: SES documents no
// figure, and this is what MTAs commonly use for a first bounce (Postfix's
// maximal_queue_lifetime is 5 days; Sesame is a test and staging relay).
const DefaultSentGiveUp = 12 * time.Hour

// giveUp is how long m is tried; 0 is for ever.
func (q *Queue) giveUp(m *store.Message) time.Duration {
	if m.Kind == store.SentMail {
		if q.SentGiveUp > 0 {
			return q.SentGiveUp
		}
		return DefaultSentGiveUp
	}
	return q.GiveUp
}

// recipients are the envelope recipients of m.
func recipients(m *store.Message) []string {
	if len(m.Recipients) > 0 {
		return m.Recipients
	}
	return []string{m.To}
}

// what names m in the log.
func what(m *store.Message) string {
	if m.Kind == store.SentMail {
		return "sent email"
	}
	return "verification email"
}

func (q *Queue) deliver(ctx context.Context, m *store.Message) {
	log := q.log().With("message_id", m.ID, "to", m.To, "account", m.Key.Account, "region", m.Key.Region, "kind", what(m))
	giveUp := q.giveUp(m)
	if m.Kind == store.SentMail && giveUp > 0 && !q.now().Before(m.Created.Add(giveUp)) {
		m.Status, m.NextAttempt, m.Done = store.Failed, time.Time{}, q.now()
		m.LastError = fmt.Sprintf("gave up after %d attempts in %s: %s", m.Attempts, giveUp, m.LastError)
		attempts.WithLabelValues("expired").Inc()
		log.Warn("sent email not delivered in time; gave up")
		q.record(ctx, log, m)
		return
	}
	if m.Kind == store.Verification && giveUp > 0 && !q.now().Before(m.Created.Add(giveUp)) {
		// Its link expired before this attempt (the server was down, or
		// the retry came late): sending it would only hand the recipient
		// a dead link.
		m.Status, m.NextAttempt, m.Done = store.Failed, time.Time{}, q.now()
		if m.Attempts > 0 { // keep what the relay said last
			m.LastError = gaveUp(m.Attempts, m.LastError)
		} else {
			m.LastError = "not sent: its link expired before it could be delivered"
		}
		attempts.WithLabelValues("expired").Inc()
		log.Warn("verification email not sent: its link expired first")
		q.record(ctx, log, m)
		return
	}
	err := q.Relay.Send(ctx, m.From, recipients(m), m.Raw)
	if ctx.Err() != nil {
		// Shutting down: the message stays queued, and its lease is
		// given back so that another replica sends it now rather than
		// when the lease runs out.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		m.NextAttempt = q.now()
		if err := q.Store.UpdateMessage(rctx, m); err != nil {
			log.Warn("giving back the lease of a message at shutdown", "err", err)
		}
		return
	}
	now := q.now()
	m.Attempts++
	m.LastError = ""
	var de *DeliveryError
	switch {
	case err == nil:
		m.Status, m.NextAttempt, m.Done = store.Sent, time.Time{}, now
		attempts.WithLabelValues("sent").Inc()
		log.Info(what(m)+" sent", "attempts", m.Attempts)
	case errors.As(err, &de) && de.Permanent:
		m.Status, m.NextAttempt, m.Done, m.LastError = store.Failed, time.Time{}, now, err.Error()
		attempts.WithLabelValues("permanent").Inc()
		log.Warn(what(m)+" refused by the relay", "err", err)
	case giveUp > 0 && !now.Add(q.backoff(m.Attempts)).Before(m.Created.Add(giveUp)):
		m.Status, m.NextAttempt, m.Done = store.Failed, time.Time{}, now
		m.LastError = gaveUp(m.Attempts, err.Error())
		if m.Kind == store.SentMail {
			m.LastError = fmt.Sprintf("gave up after %d attempts in %s: %s", m.Attempts, giveUp, err)
		}
		attempts.WithLabelValues("expired").Inc()
		log.Warn(what(m)+" not delivered in time; gave up", "err", err)
	default:
		m.NextAttempt, m.LastError = now.Add(q.backoff(m.Attempts)), err.Error()
		attempts.WithLabelValues("temporary").Inc()
		log.Info(what(m)+" delayed; will retry", "err", err, "attempts", m.Attempts, "next", m.NextAttempt)
	}
	q.record(ctx, log, m)
}

// gaveUp is the error of a message failed after attempts that all failed
// for a while, the last with last.
func gaveUp(attempts int, last string) string {
	return fmt.Sprintf("gave up after %d attempts, as the link expires: %s", attempts, last)
}

// record stores the outcome of an attempt, and tells Failed of a message
// that failed for good.
func (q *Queue) record(ctx context.Context, log *slog.Logger, m *store.Message) {
	if err := q.Store.UpdateMessage(ctx, m); err != nil {
		log.Error("recording the delivery", "err", err)
		return
	}
	if m.Status == store.Failed && q.Failed != nil {
		q.Failed(ctx, m)
	}
}
