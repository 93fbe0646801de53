package mail

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/sesame/sesame/internal/smtptest"
	"github.com/sesame/sesame/internal/store"
)

// handMessage stores a message under the lease Reserve gave and hands it
// to q, as send.Sender does; false when q had no place.
func handMessage(t *testing.T, q *Queue, st store.Outbox, id string) bool {
	t.Helper()
	now := time.Now().UTC()
	until, ok := q.Reserve(context.Background(), now)
	if !ok {
		return false
	}
	// A whole lease from when the place was given (after an in-flow
	// delay, later than now).
	if got := until.Sub(now); got < Lease || got > Lease+DefaultInFlowDelay+time.Second {
		t.Errorf("lease of %s, want %s from when the place was given", got, Lease)
	}
	m := &store.Message{ID: id, Kind: store.SentMail, Key: addrKey, From: "app@example.com", To: "to@example.org",
		Recipients: []string{"to@example.org"}, Raw: []byte("Subject: handed\r\n\r\nbody\r\n"),
		Created: now, Status: store.Queued, NextAttempt: until}
	if err := st.AddMessage(context.Background(), m, nil, nil); err != nil {
		q.Unreserve()
		t.Fatal(err)
	}
	q.Hand(context.Background(), m)
	return true
}

// TestQueueHanded: a message handed to the queue is sent at once,
// although the store holds it under a lease for 15 minutes (so no claim
// could have taken it), and its outcome is written.
func TestQueueHanded(t *testing.T) {
	st := openStore(t, t.TempDir())
	srv := smtptest.New(t)
	q := &Queue{Store: st, Relay: relayTo(t, srv)}
	if _, ok := q.Reserve(context.Background(), time.Now()); ok {
		t.Fatal("Reserve gave a place before Run")
	}
	runQueue(t, q)
	waitFor(t, func() (bool, bool) { // Run has started taking them
		q.mu.Lock()
		defer q.mu.Unlock()
		return q.running, q.running
	})
	if !handMessage(t, q, st, "h1") {
		t.Fatal("no place in an idle queue")
	}
	if got := srv.Next(t); got.From != "app@example.com" {
		t.Errorf("envelope sender %q", got.From)
	}
	if m := waitStatus(t, st, "h1", store.Sent); m.Attempts != 1 || !m.NextAttempt.IsZero() {
		t.Errorf("after delivery: %+v", m)
	}
}

// TestQueueReserveBounded: the queue gives no more places than it sends
// at once plus handAhead, counting the messages it holds; a place given
// back is free again.
func TestQueueReserveBounded(t *testing.T) {
	st := openStore(t, t.TempDir())
	// A relay that does not answer the data holds every message in a
	// worker, so the places fill up.
	q := &Queue{Store: st, Relay: relayTo(t, stalling(t)), Concurrency: 2, InFlowDelay: -1}
	runQueue(t, q)
	waitFor(t, func() (bool, bool) {
		q.mu.Lock()
		defer q.mu.Unlock()
		return q.running, q.running
	})
	want := 2 + handAhead(2)
	n := 0
	for handMessage(t, q, st, fmt.Sprintf("h%d", n)) {
		if n++; n > want {
			break
		}
	}
	if n != want {
		t.Fatalf("%d messages handed, want %d", n, want)
	}
	q.mu.Lock()
	delete(q.flight, "h0") // as if its outcome were written
	q.mu.Unlock()
	if _, ok := q.Reserve(context.Background(), time.Now()); !ok {
		t.Fatal("no place once a message was released")
	}
	q.Unreserve()
}

// TestQueueHandedAtStop: messages handed but not sent when the queue
// stops, and one handed after it stopped, are given back due now, so
// that another replica or the next start sends them without waiting for
// the lease.
func TestQueueHandedAtStop(t *testing.T) {
	st := openStore(t, t.TempDir())
	// Never delivers: each attempt ends with the queue.
	q := &Queue{Store: st, Relay: relayTo(t, stalling(t)), Concurrency: 2, Log: slog.New(slog.DiscardHandler)}
	q.Init()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); q.Run(ctx) }()
	waitFor(t, func() (bool, bool) {
		q.mu.Lock()
		defer q.mu.Unlock()
		return q.running, q.running
	})
	for _, id := range []string{"a", "b", "c"} { // a and b are being sent, c waits
		if !handMessage(t, q, st, id) {
			t.Fatalf("no place for %s", id)
		}
	}
	until, ok := q.Reserve(context.Background(), time.Now()) // stored while the queue stops
	if !ok {
		t.Fatal("no place for d")
	}
	cancel()
	<-done
	d := &store.Message{ID: "d", Kind: store.SentMail, Key: addrKey, From: "app@example.com", To: "to@example.org",
		Recipients: []string{"to@example.org"}, Raw: []byte("Subject: d\r\n\r\n"), Created: time.Now().UTC(),
		Status: store.Queued, NextAttempt: until}
	if err := st.AddMessage(context.Background(), d, nil, nil); err != nil {
		t.Fatal(err)
	}
	q.Hand(context.Background(), d)
	for _, id := range []string{"a", "b", "c", "d"} {
		m, err := st.GetMessage(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != store.Queued || m.NextAttempt.After(time.Now()) {
			t.Errorf("%s after the stop: status %s, next attempt in %s; want queued and due", id, m.Status, time.Until(m.NextAttempt).Round(time.Second))
		}
	}
	if _, ok := q.Reserve(context.Background(), time.Now()); ok {
		t.Error("Reserve gave a place after Run stopped")
	}
}

// stalling is an SMTP server that reads each message and does not answer
// until the test ends.
func stalling(t *testing.T) *smtptest.Server {
	stall := make(chan struct{})
	srv := smtptest.New(t, smtptest.Options{Reply: func(int, smtptest.Message) error {
		<-stall
		return nil
	}})
	t.Cleanup(func() { close(stall) })
	return srv
}

// TestQueueClaimsUnderHandedLoad: while this process's calls keep every
// handed place taken, a message that only a claim can take (queued before,
// a retry, another replica's) is still sent.
func TestQueueClaimsUnderHandedLoad(t *testing.T) {
	st := openStore(t, t.TempDir())
	// A slow relay, so that the calls keep the places taken.
	srv := smtptest.New(t, smtptest.Options{CountOnly: true, Reply: func(int, smtptest.Message) error {
		time.Sleep(20 * time.Millisecond)
		return nil
	}})
	q := &Queue{Store: st, Relay: relayTo(t, srv), Concurrency: 2}
	runQueue(t, q)
	waitFor(t, func() (bool, bool) {
		q.mu.Lock()
		defer q.mu.Unlock()
		return q.running, q.running
	})
	stop := make(chan struct{})
	done := make(chan int)
	for w := range 4 {
		go func() {
			n := 0
			for i := 0; ; i++ {
				select {
				case <-stop:
					done <- n
					return
				default:
				}
				if handMessage(t, q, st, fmt.Sprintf("w%d-%d", w, i)) {
					n++
				}
			}
		}()
	}
	waitFor(t, func() (int, bool) { // the places taken
		q.mu.Lock()
		defer q.mu.Unlock()
		n := q.places()
		return n, n >= 2
	})
	queueMessage(t, st, "claimed")
	q.Wake()
	m := waitStatus(t, st, "claimed", store.Sent)
	close(stop)
	handed := 0
	for range 4 {
		handed += <-done
	}
	if m.Attempts != 1 {
		t.Errorf("the claimed message: %+v", m)
	}
	if handed == 0 {
		t.Error("no message was handed: the test did not load the queue")
	}
}

// fill waits until q runs, then hands it messages h0, h1, ... until every
// place is taken; it returns their number.
func fill(t *testing.T, q *Queue, st store.Outbox) int {
	t.Helper()
	waitFor(t, func() (bool, bool) {
		q.mu.Lock()
		defer q.mu.Unlock()
		return q.running, q.running
	})
	places := q.capacity()
	for i := range places {
		if !handMessage(t, q, st, fmt.Sprintf("h%d", i)) {
			t.Fatalf("no place for message %d of %d", i, places)
		}
	}
	return places
}

// TestQueueInFlowDelay: a message for a full queue waits for a place, up
// to InFlowDelay (Postfix's in_flow_delay), and takes the first one freed;
// past the delay it gets none, to be stored for a claim instead.
func TestQueueInFlowDelay(t *testing.T) {
	st := openStore(t, t.TempDir())
	q := &Queue{Store: st, Relay: relayTo(t, stalling(t)), Concurrency: 1, InFlowDelay: time.Minute}
	runQueue(t, q)
	fill(t, q, st)
	got := make(chan bool, 1)
	go func() {
		_, ok := q.Reserve(context.Background(), time.Now())
		got <- ok
	}()
	select {
	case ok := <-got:
		t.Fatalf("Reserve on a full queue returned %v at once, want it to wait", ok)
	case <-time.After(200 * time.Millisecond):
	}
	q.release(&store.Message{ID: "h1"}, false) // given back: a place is free
	select {
	case ok := <-got:
		if !ok {
			t.Fatal("Reserve got no place once one was freed")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Reserve still waits after a place was freed")
	}
	// Full again (the waiter took the place): a short delay runs out.
	q.mu.Lock()
	q.InFlowDelay = 50 * time.Millisecond
	q.mu.Unlock()
	start := time.Now()
	if _, ok := q.Reserve(context.Background(), time.Now()); ok {
		t.Fatal("Reserve gave a place in a full queue")
	}
	if el := time.Since(start); el < 50*time.Millisecond {
		t.Errorf("Reserve gave up after %v, want the 50ms delay", el)
	}
	q.Unreserve() // the waiter's place, never stored
}

// slowOutcomes is a store whose outcomes wait until written is closed, as
// they wait for the writer behind long durable commits.
type slowOutcomes struct {
	store.Outbox
	written chan struct{}
}

func (s slowOutcomes) UpdateMessages(ctx context.Context, ms []*store.Message) error {
	<-s.written
	return store.UpdateMessages(ctx, s.Outbox, ms)
}

func (s slowOutcomes) UpdateMessage(ctx context.Context, m *store.Message) error {
	<-s.written
	return s.Outbox.UpdateMessage(ctx, m)
}

// TestQueueSentFreesPlace: a message sent frees its place at once, before
// its outcome is written: calls do not wait for the store's writer to take
// a place the workers have free. Its outcome is still written, and the
// message is not claimed again meanwhile.
func TestQueueSentFreesPlace(t *testing.T) {
	st := openStore(t, t.TempDir())
	srv := smtptest.New(t, smtptest.Options{})
	slow := slowOutcomes{Outbox: st, written: make(chan struct{})}
	q := &Queue{Store: slow, Relay: relayTo(t, srv), Concurrency: 1, InFlowDelay: -1}
	runQueue(t, q)
	var once sync.Once
	write := func() { once.Do(func() { close(slow.written) }) }
	t.Cleanup(write) // before runQueue's, which waits for the outcomes
	places := fill(t, q, st)
	for range places {
		srv.Next(t)
	}
	// Every message sent, no outcome written: every place is free.
	waitFor(t, func() (int, bool) {
		q.mu.Lock()
		defer q.mu.Unlock()
		return q.places(), q.places() == 0
	})
	for i := range places {
		if !handMessage(t, q, st, fmt.Sprintf("again%d", i)) {
			t.Fatalf("no place for message %d of %d while the first outcomes wait", i, places)
		}
	}
	write()
	for i := range places {
		for _, id := range []string{fmt.Sprintf("h%d", i), fmt.Sprintf("again%d", i)} {
			if m := waitStatus(t, st, id, store.Sent); m.Attempts != 1 {
				t.Errorf("%s: %d attempts, want 1", id, m.Attempts)
			}
		}
	}
}

// TestQueueReserveInTurn: Reserves waiting for a place get them in the
// order they came, and a place freed wakes one of them, not all, however
// often the queue looks for room before that one runs.
func TestQueueReserveInTurn(t *testing.T) {
	st := openStore(t, t.TempDir())
	q := &Queue{Store: st, Relay: relayTo(t, stalling(t)), Concurrency: 1, InFlowDelay: time.Minute}
	runQueue(t, q)
	fill(t, q, st)
	waiters := func() int {
		q.mu.Lock()
		defer q.mu.Unlock()
		return len(q.waiting)
	}
	got := make(chan string, 3)
	for i, name := range []string{"first", "second", "third"} {
		go func() {
			if _, ok := q.Reserve(context.Background(), time.Now()); ok {
				got <- name
			}
		}()
		waitFor(t, func() (int, bool) { return waiters(), waiters() == i+1 })
	}
	for i, want := range []string{"first", "second", "third"} {
		q.release(&store.Message{ID: fmt.Sprintf("h%d", i)}, false) // given back: one place free
		// Before the woken waiter runs, more calls that free nothing (a
		// recorded outcome's release, say) wake no one else: the place
		// is the woken one's already.
		q.mu.Lock()
		q.freeRoom()
		q.mu.Unlock()
		left := waiters()
		if left != 2-i {
			t.Errorf("a place freed woke %d waiters, want 1", 3-i-left)
		}
		select {
		case name := <-got:
			if name != want {
				t.Errorf("place %d went to the %s waiter, want the %s", i+1, name, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no waiter took place %d", i+1)
		}
	}
	for range 3 {
		q.Unreserve() // the waiters' places, never stored
	}
}
