package mail

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/smtptest"
	"github.com/sesame/sesame/internal/store"
	"github.com/sesame/sesame/internal/store/sqlite"
)

func openStore(t *testing.T, dir string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

var addrKey = identity.Key{Account: "123456789012", Region: "us-east-1", Name: "user@example.com"}

// queueMessage stores one queued message, as Mailer does with a relay.
func queueMessage(t *testing.T, st store.Outbox, id string) {
	t.Helper()
	m := &store.Message{ID: id, Key: addrKey, From: "no-reply@sesame.example.com", To: addrKey.Name, Subject: "Verify",
		Link: "http://x/verify", LinkNonce: "n" + id, Raw: []byte("Subject: Verify\r\n\r\nlink\r\n"),
		Created: time.Now().UTC(), Status: store.Queued, NextAttempt: time.Now().UTC()}
	if err := st.AddMessage(context.Background(), m, nil, nil); err != nil {
		t.Fatal(err)
	}
}

// runQueue runs q until the test ends.
func runQueue(t *testing.T, q *Queue) {
	q.Log = slog.New(slog.DiscardHandler)
	q.Init()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); q.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// waitStatus polls the outbox until message id has the status.
func waitStatus(t *testing.T, st store.Outbox, id string, want store.MessageStatus) *store.Message {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, err := st.GetMessage(context.Background(), id)
		if err == nil && m.Status == want {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %s: %+v, %v; want status %s", id, m, err, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestQueueRetriesThenSends(t *testing.T) {
	st := openStore(t, t.TempDir())
	srv := smtptest.New(t, smtptest.Options{Reply: func(n int, _ smtptest.Message) error {
		if n <= 2 {
			return smtptest.Temporary
		}
		return nil
	}})
	queueMessage(t, st, "m1")
	runQueue(t, &Queue{Store: st, Relay: relayTo(t, srv), RetryMin: 10 * time.Millisecond, RetryMax: 20 * time.Millisecond, GiveUp: time.Hour})
	m := waitStatus(t, st, "m1", store.Sent)
	if m.Attempts != 3 || m.LastError != "" || m.Done.IsZero() || !m.NextAttempt.IsZero() {
		t.Errorf("after two 451 replies and a success: %+v", m)
	}
	if got := srv.Messages(); len(got) != 1 || srv.Attempts() != 3 {
		t.Errorf("server accepted %d of %d offers, want 1 of 3", len(got), srv.Attempts())
	}
}

func TestQueuePermanentFailure(t *testing.T) {
	st := openStore(t, t.TempDir())
	srv := smtptest.New(t, smtptest.Options{Reply: func(int, smtptest.Message) error { return smtptest.Permanent }})
	var mu sync.Mutex
	var failed []string
	queueMessage(t, st, "m1")
	runQueue(t, &Queue{Store: st, Relay: relayTo(t, srv), RetryMin: time.Millisecond, GiveUp: time.Hour,
		Failed: func(_ context.Context, m *store.Message) { mu.Lock(); failed = append(failed, m.ID); mu.Unlock() }})
	m := waitStatus(t, st, "m1", store.Failed)
	if m.Attempts != 1 || !strings.Contains(m.LastError, "550") || m.Done.IsZero() {
		t.Errorf("after a 550 reply: %+v", m)
	}
	// Failed is told once the outcome is written, a moment after.
	waitFor(t, func() ([]string, bool) {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), failed...), len(failed) == 1 && failed[0] == "m1"
	})
	if srv.Attempts() != 1 {
		t.Errorf("%d attempts: a permanent failure was retried", srv.Attempts())
	}
}

func TestQueueGivesUpWhenTheLinkExpires(t *testing.T) {
	st := openStore(t, t.TempDir())
	srv := smtptest.New(t, smtptest.Options{Reply: func(int, smtptest.Message) error { return smtptest.Temporary }})
	queueMessage(t, st, "m1")
	runQueue(t, &Queue{Store: st, Relay: relayTo(t, srv), RetryMin: 10 * time.Millisecond, RetryMax: 10 * time.Millisecond, GiveUp: 100 * time.Millisecond})
	m := waitStatus(t, st, "m1", store.Failed)
	if !strings.Contains(m.LastError, "gave up") || !strings.Contains(m.LastError, "451") || m.Attempts != srv.Attempts() {
		t.Errorf("status %s after %d attempts (%d offers): %s", m.Status, m.Attempts, srv.Attempts(), m.LastError)
	}
}

// TestQueueDropsExpired: a message whose link expired while no process
// ran is failed without being offered to the relay.
func TestQueueDropsExpired(t *testing.T) {
	st := openStore(t, t.TempDir())
	srv := smtptest.New(t)
	queueMessage(t, st, "m1")
	later := func() time.Time { return time.Now().Add(2 * time.Hour) }
	var failed []string
	var mu sync.Mutex
	runQueue(t, &Queue{Store: st, Relay: relayTo(t, srv), Now: later, GiveUp: time.Hour,
		Failed: func(_ context.Context, m *store.Message) { mu.Lock(); failed = append(failed, m.ID); mu.Unlock() }})
	m := waitStatus(t, st, "m1", store.Failed)
	if !strings.Contains(m.LastError, "expired") || m.Done.IsZero() || srv.Attempts() != 0 {
		t.Errorf("an expired message: %+v; %d offers to the relay", m, srv.Attempts())
	}
	// Failed is told once the outcome is written, a moment after.
	waitFor(t, func() ([]string, bool) {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), failed...), len(failed) == 1 && failed[0] == "m1"
	})
}

// TestQueueExpiredAfterAttempts: a message tried before, whose retry comes
// after its link expired, is failed with what the relay said last.
func TestQueueExpiredAfterAttempts(t *testing.T) {
	st := openStore(t, t.TempDir())
	srv := smtptest.New(t)
	queueMessage(t, st, "m1")
	m, _ := st.GetMessage(context.Background(), "m1")
	m.Attempts, m.LastError = 3, "relay: 451 4.3.0 try again later"
	if err := st.UpdateMessage(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	later := func() time.Time { return time.Now().Add(2 * time.Hour) }
	runQueue(t, &Queue{Store: st, Relay: relayTo(t, srv), Now: later, GiveUp: time.Hour})
	m = waitStatus(t, st, "m1", store.Failed)
	if !strings.Contains(m.LastError, "gave up after 3 attempts") || !strings.Contains(m.LastError, "451") || srv.Attempts() != 0 {
		t.Errorf("expired after 3 attempts: %q; %d offers to the relay", m.LastError, srv.Attempts())
	}
}

// TestQueueSurvivesRestart: a message queued while the relay is down is
// delivered by the next process.
func TestQueueSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	queueMessage(t, st, "m1")
	down, _ := ParseRelay("smtp://127.0.0.1:1", "")
	q := &Queue{Store: st, Relay: down, RetryMin: time.Hour, Log: slog.New(slog.DiscardHandler)}
	q.Init()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); q.Run(ctx) }()
	m := waitFor(t, func() (*store.Message, bool) {
		m, _ := st.GetMessage(context.Background(), "m1")
		return m, m != nil && m.Attempts == 1
	})
	if m.Status != store.Queued || m.LastError == "" {
		t.Fatalf("with the relay down: %+v", m)
	}
	cancel()
	<-done
	st.Close()

	st = openStore(t, dir)
	// The retry is an hour away; make it due, as an hour passing would.
	m.NextAttempt = time.Now().UTC()
	st.UpdateMessage(context.Background(), m)
	srv := smtptest.New(t)
	runQueue(t, &Queue{Store: st, Relay: relayTo(t, srv)})
	srv.Next(t)
	if m := waitStatus(t, st, "m1", store.Sent); m.Attempts != 2 {
		t.Errorf("attempts %d, want 2", m.Attempts)
	}
}

func waitFor[T any](t *testing.T, f func() (T, bool)) T {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, ok := f()
		if ok {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within 10s: last %+v", v)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestBackoff(t *testing.T) {
	q := &Queue{RetryMin: 30 * time.Second, RetryMax: 30 * time.Minute}
	var got []time.Duration
	for n := 1; n <= 8; n++ {
		got = append(got, q.backoff(n))
	}
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 30 * time.Minute, 30 * time.Minute}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("backoff = %v, want %v", got, want)
		}
	}
}
