package mail

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/sesame/sesame/internal/store"
)

// Sender hands one message to a relay; *Relay is one. An error that is a
// *DeliveryError with Permanent set is not retried.
type Sender interface {
	Send(ctx context.Context, from string, to []string, msg []byte) error
}

// Queue delivers the queued messages of the outbox, a few at a time
// (Concurrency), and retries temporary failures with exponential backoff.
// Since the outbox is the queue, a restart loses nothing: queued messages
// are picked up again, and one that was being sent when the process died
// is sent again once its lease (Lease) runs out, by this process or
// another replica (at least once, like any MTA). The outcomes of attempts
// are written together, several in one transaction when the store allows
// (store.UpdateMessages), while the next messages are being sent; a
// claimed message stays this queue's until its outcome is written.
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
	// Concurrency is how many messages are sent at once; default
	// DefaultConcurrency.
	Concurrency int
	// InFlowDelay is how long Reserve waits for a place when the queue
	// holds as many messages as it takes; default DefaultInFlowDelay,
	// negative for none.
	InFlowDelay time.Duration
	// Failed, if set, is told of each message that failed for good.
	Failed func(ctx context.Context, m *store.Message)

	wake  chan struct{}
	freed chan struct{} // an outcome was written: its message may be due again
	// handed are messages this process stored under this queue's lease
	// (Reserve, Hand), for the workers without reading them back.
	handed chan *store.Message

	mu        sync.Mutex
	flight    map[string]bool // IDs claimed (true) or handed (false) and not yet recorded
	reserved  int             // places taken by Reserve and not yet handed
	recording int             // of flight, those sent and waiting for their outcome's write
	waiting   []chan bool     // Reserves waiting for a place, first come first: told whether they got one
	running   bool            // Run is taking handed messages
}

// Lease is how long a claimed message is this queue's alone: other
// processes on the same database (replicas) take it only once the lease
// has run out, which is when the process that claimed it died while
// sending. It is longer than an attempt can take (the relay's steps each
// time out after a minute), so a message is never sent twice by two live
// replicas.
const Lease = 15 * time.Minute

// DefaultConcurrency is how many messages a Queue sends at once by
// default: a delivery is four round trips (MAIL, RCPT, DATA, the message),
// and on a busy server each waits for the CPU behind the calls' DKIM
// signatures, so with 4 the queue relayed a fifth less than the API
// accepted on two cores and fell behind; with Postfix's
// default_destination_concurrency_limit (20) its workers were busy nine
// tenths of the time and the calls waited for places, and 32 relayed about
// a twentieth more in alternating runs, where 64 did not (docs/benchmarks.md).
// It stays under Postfix's smtpd_client_connection_count_limit (50); a
// smarthost that allows fewer connections a client (many allow 10) refuses
// the others with 421 at the greeting, and a delivery then waits for one
// of the relay's own connections (Relay.conn); --relay-concurrency set to
// its limit spares those dials.
const DefaultConcurrency = 32

// DefaultInFlowDelay is how long a message waits for a place in a full
// queue before it is stored for a later claim instead, Postfix's
// in_flow_delay: when messages arrive faster than they are relayed, their
// acceptance slows to the pace of the deliveries rather than piling them up
// in the outbox, to be read back and leased again by claims that take the
// CPU the deliveries need (on two busy cores the queue otherwise relayed a
// sixth less than the API accepted: docs/benchmarks.md). A queue that keeps
// up never waits.
const DefaultInFlowDelay = time.Second

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
	q.freed = make(chan struct{}, 1)
	q.flight = make(map[string]bool)
	if q.RetryMin == 0 {
		q.RetryMin = 30 * time.Second
	}
	if q.RetryMax == 0 {
		q.RetryMax = 30 * time.Minute
	}
	if q.Concurrency <= 0 {
		q.Concurrency = DefaultConcurrency
	}
	q.handed = make(chan *store.Message, q.Concurrency+handAhead(q.Concurrency))
}

// handAhead is how many handed messages may wait for a worker beyond the
// ones being sent: enough that a busy queue still takes new messages from
// this process's calls without reading them back, few enough that a
// process that dies leaves only a handful under its lease (they are sent
// once it runs out, as the ones being sent are).
func handAhead(concurrency int) int { return 2 * concurrency }

// Reserve takes a place for a message this process is about to store
// (SendRawEmail, say) so that the queue sends it without claiming it from
// the store: a claim is a transaction that reads the message back and
// writes its lease. When the queue holds as many messages as it takes,
// Reserve waits up to InFlowDelay for a place (or until ctx ends). ok is
// false when the queue is not running or no place came; otherwise store
// the message queued with NextAttempt = until, a lease that is this
// queue's, then call Hand with it, or Unreserve if it was not stored.
func (q *Queue) Reserve(ctx context.Context, now time.Time) (until time.Time, ok bool) {
	q.mu.Lock()
	if !q.running {
		q.mu.Unlock()
		return time.Time{}, false
	}
	// In turn: a place free while others wait is theirs (freeRoom gives
	// it as it frees it, so none is free then but for a moment).
	if q.places() < q.capacity() && len(q.waiting) == 0 {
		q.reserved++
		q.mu.Unlock()
		return now.Add(Lease), true
	}
	d := cmp.Or(q.InFlowDelay, DefaultInFlowDelay)
	if d < 0 {
		q.mu.Unlock()
		return time.Time{}, false
	}
	woken := make(chan bool, 1)
	q.waiting = append(q.waiting, woken)
	q.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case given := <-woken:
		if !given { // the queue stopped
			return time.Time{}, false
		}
		return q.now().Add(Lease), true
	case <-t.C:
	case <-ctx.Done():
	}
	q.giveUpWaiting(woken)
	return time.Time{}, false
}

// places is how many places are taken: messages reserved, handed or
// claimed, and not yet sent; under mu. A sent message waiting for its
// outcome to be written keeps its entry in flight (it is not claimed
// again meanwhile) but not its place: the outcomes wait for the store's
// writer, behind the calls' durable commits, whose sync to disk may take
// tens of milliseconds, and counted they made the calls wait for places
// the workers did not need (a third of the callers' time in sendload's
// closed loop: docs/benchmarks.md). The outcomes waiting are bounded
// anyway, by the recorder's channel and batch.
func (q *Queue) places() int { return len(q.flight) - q.recording + q.reserved }

// capacity is how many places the queue has: its workers', and
// handAhead's beyond them.
func (q *Queue) capacity() int { return q.Concurrency + handAhead(q.Concurrency) }

// giveUpWaiting takes a Reserve that returns without a place out of line;
// if it was given one meanwhile, that place goes to the next in line.
func (q *Queue) giveUpWaiting(woken chan bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if i := slices.Index(q.waiting, woken); i >= 0 {
		q.waiting = slices.Delete(q.waiting, i, i+1)
		return
	}
	if <-woken { // sent under mu as it left the line: there already
		q.reserved--
		q.freeRoom()
	}
}

// freeRoom gives the places free to the waiting Reserves, in turn, each
// reserved for its waiter as it is woken (none once the queue stops: all
// are woken, to return without); under mu. One wake-up a place: waking
// every waiter for each place freed, most of them to wait again, kept
// the cores' run queues full, so that the relay's connections, whose
// answers only a core without work polls for, waited milliseconds for
// each (docs/benchmarks.md); and a place given as it is freed cannot go
// to a Reserve that did not wait.
func (q *Queue) freeRoom() {
	for len(q.waiting) > 0 {
		given := q.running
		if given {
			if q.places() >= q.capacity() {
				return
			}
			q.reserved++
		}
		q.waiting[0] <- given // room: each waiter is woken once
		q.waiting = q.waiting[1:]
	}
}

// Hand gives the queue m, stored under the lease Reserve gave: a worker
// sends it as if it had been claimed. Once Run has stopped, m is given
// back instead (due now, for another replica or the next start).
func (q *Queue) Hand(ctx context.Context, m *store.Message) {
	q.mu.Lock()
	q.reserved--
	q.flight[m.ID] = false
	if q.running {
		// Under the lock, so that Run, which stops taking them under it,
		// still finds m; the buffer has room for every place Reserve gives.
		q.handed <- m
		q.mu.Unlock()
		return
	}
	q.mu.Unlock()
	q.giveBack(ctx, m)
}

// Unreserve gives back a place whose message was not stored.
func (q *Queue) Unreserve() {
	q.mu.Lock()
	q.reserved--
	q.freeRoom()
	q.mu.Unlock()
}

// Wake tells the queue a message is due now.
func (q *Queue) Wake() { signal(q.wake) }

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// recordBatch bounds the outcomes written in one transaction.
const recordBatch = 64

// Run delivers until ctx is done. It returns once the deliveries under way
// have ended and their outcomes are written; a message whose send ctx
// interrupted stays queued as it was.
func (q *Queue) Run(ctx context.Context) {
	jobs := make(chan *store.Message)
	outcomes := make(chan *store.Message, recordBatch)
	var workers sync.WaitGroup
	for range q.Concurrency {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for {
				var m *store.Message
				select {
				case j, ok := <-jobs:
					if !ok {
						return
					}
					m = j
				case m = <-q.handed:
					if !q.now().Before(m.NextAttempt.Add(-Lease / 2)) {
						// It waited half its lease for a worker (slow
						// relays): claimed afresh, it gets a whole one,
						// rather than run out while it is being sent
						// and be sent by another replica too.
						q.giveBack(ctx, m)
						continue
					}
				}
				if q.deliver(ctx, m) {
					q.sent()
					outcomes <- m
				} else {
					q.giveBack(ctx, m)
				}
			}
		}()
	}
	q.mu.Lock()
	q.running = true
	q.mu.Unlock()
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		// The outcomes of sends that completed are written even when
		// ctx ends, or those messages would be sent again.
		q.recorder(context.WithoutCancel(ctx), outcomes)
	}()
	defer func() {
		close(jobs)
		workers.Wait()
		q.mu.Lock()
		q.running = false // Hand gives back from now on
		q.freeRoom()      // and Reserve gives no place: its waiters return
		q.mu.Unlock()
		for len(q.handed) > 0 {
			q.giveBack(ctx, <-q.handed)
		}
		close(outcomes)
		<-recorded
		if c, ok := q.Relay.(io.Closer); ok {
			c.Close()
		}
	}()
	for ctx.Err() == nil {
		// Claim as many as there are idle workers: a claimed message is
		// leased, so claiming more would only make it wait under a lease
		// that other replicas respect.
		// Handed messages do not count: the workers take claimed and handed
		// ones alike, so retries, verification mail and other replicas'
		// messages still go out while this process's calls keep the
		// handed places full.
		free := q.Concurrency - q.claimed()
		var due []*store.Message
		if free > 0 {
			now := q.now()
			var err error
			due, err = q.Store.ClaimMessages(ctx, now, now.Add(Lease), free)
			if err != nil && ctx.Err() == nil {
				q.log().Error("reading the outbox", "err", err)
			}
		}
		for i, m := range due {
			q.take(m)
			select {
			case jobs <- m:
			case <-ctx.Done():
				for _, m := range due[i:] {
					q.giveBack(ctx, m)
				}
				return
			}
		}
		if len(due) > 0 {
			continue
		}
		// Nothing new is due: wait for the next retry, a new message, or
		// an outcome written (its message may be due again, and messages
		// beyond the batch are then seen).
		wait := Poll
		if next, err := q.Store.NextDue(ctx); err == nil && !next.IsZero() {
			wait = min(wait, next.Sub(q.now()))
			if wait <= 0 {
				if q.full() {
					// Due, but the workers are busy: a free one
					// comes through freed.
					wait = Poll
				} else {
					continue // it became due since the claim
				}
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-q.wake:
		case <-q.freed:
		case <-t.C:
		}
		t.Stop()
	}
}

// take marks m, just claimed, as being delivered.
func (q *Queue) take(m *store.Message) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.flight[m.ID] = true
}

// claimed is how many of the messages in flight were claimed (not
// handed), counted: flight holds a few times Concurrency at most, and Run
// asks once a claim.
func (q *Queue) claimed() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for _, c := range q.flight {
		if c {
			n++
		}
	}
	return n
}

// full says whether the queue claims no more: it has Concurrency
// claimed messages being delivered.
func (q *Queue) full() bool { return q.claimed() >= q.Concurrency }

// sent frees the place of a message sent, whose outcome is still to be
// written (see places).
func (q *Queue) sent() {
	q.mu.Lock()
	q.recording++
	q.freeRoom()
	q.mu.Unlock()
}

// release ends the delivery of m, its outcome written (recorded, after
// sent) or not (given back): a worker is free.
func (q *Queue) release(m *store.Message, recorded bool) {
	q.mu.Lock()
	delete(q.flight, m.ID)
	if recorded {
		q.recording--
	}
	q.freeRoom()
	q.mu.Unlock()
	signal(q.freed)
}

// giveBack ends the claim of a message not sent because the queue is
// stopping (or a handed one that waited too long): it stays queued as it
// was, due now, so that another replica, or this queue's next claim,
// sends it at once rather than when the lease runs out.
func (q *Queue) giveBack(ctx context.Context, m *store.Message) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	m.NextAttempt = q.now()
	if err := q.Store.UpdateMessage(rctx, m); err != nil {
		q.logger(m).Warn("giving back the lease of a message", "err", err)
	}
	q.release(m, false)
}

// recorder writes the outcomes as they come, all those waiting in one
// transaction, until outcomes is closed.
func (q *Queue) recorder(ctx context.Context, outcomes <-chan *store.Message) {
	var ms []*store.Message
	for m := range outcomes {
		ms = append(ms[:0], m)
	more:
		for len(ms) < recordBatch {
			select {
			case m, ok := <-outcomes:
				if !ok {
					break more
				}
				ms = append(ms, m)
			default:
				break more
			}
		}
		q.record(ctx, ms)
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

// deliver makes one attempt at m, or gives it up, and sets its new state;
// false means ctx ended first and m is to stay as it was.
func (q *Queue) deliver(ctx context.Context, m *store.Message) bool {
	log := q.logger(m)
	giveUp := q.giveUp(m)
	if m.Kind == store.SentMail && giveUp > 0 && !q.now().Before(m.Created.Add(giveUp)) {
		m.Status, m.NextAttempt, m.Done = store.Failed, time.Time{}, q.now()
		m.LastError = fmt.Sprintf("gave up after %d attempts in %s: %s", m.Attempts, giveUp, m.LastError)
		attempts.WithLabelValues("expired").Inc()
		log.Warn("sent email not delivered in time; gave up")
		return true
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
		return true
	}
	err := q.Relay.Send(ctx, m.From, recipients(m), m.Raw)
	if err != nil && ctx.Err() != nil {
		return false // shutting down: the message stays queued
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
	return true
}

// logger is the log of m's delivery.
func (q *Queue) logger(m *store.Message) *slog.Logger {
	return q.log().With("message_id", m.ID, "to", m.To, "account", m.Key.Account, "region", m.Key.Region, "kind", what(m))
}

// gaveUp is the error of a message failed after attempts that all failed
// for a while, the last with last.
func gaveUp(attempts int, last string) string {
	return fmt.Sprintf("gave up after %d attempts, as the link expires: %s", attempts, last)
}

// record stores the outcomes of attempts, releases their messages, and
// tells Failed of those that failed for good. An outcome that could not
// be written leaves its message as it was: queued, it is tried again.
func (q *Queue) record(ctx context.Context, ms []*store.Message) {
	written := make([]bool, len(ms))
	if err := store.UpdateMessages(ctx, q.Store, ms); err == nil {
		for i := range written {
			written[i] = true
		}
	} else {
		// One bad message (say, deleted meanwhile) must not lose the
		// others' outcomes: write them one by one.
		for i, m := range ms {
			if err := q.Store.UpdateMessage(ctx, m); err != nil {
				q.logger(m).Error("recording the delivery", "err", err)
				continue
			}
			written[i] = true
		}
	}
	for i, m := range ms {
		if written[i] && m.Status == store.Failed && q.Failed != nil {
			q.Failed(ctx, m)
		}
		q.release(m, true)
	}
}
