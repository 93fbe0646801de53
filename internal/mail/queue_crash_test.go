package mail

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sesame/sesame/internal/smtptest"
	"github.com/sesame/sesame/internal/store"
)

// queueNumbered stores n queued messages m0..m<n-1>, each naming itself
// in an X-Queue-ID header.
func queueNumbered(t testing.TB, st store.Outbox, n int, body []byte) {
	t.Helper()
	now := time.Now().UTC()
	for i := range n {
		id := fmt.Sprintf("m%d", i)
		raw := append([]byte("X-Queue-ID: "+id+"\r\nSubject: crash\r\n\r\n"), body...)
		m := &store.Message{ID: id, Kind: store.SentMail, Key: addrKey, From: "app@example.com", To: "to@example.org",
			Raw: raw, Created: now, Status: store.Queued, NextAttempt: now}
		if err := st.AddMessage(context.Background(), m, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
}

var queueIDHeader = regexp.MustCompile(`(?m)^X-Queue-ID: (\S+)\r$`)

// received counts how many times each message reached srv.
func received(srv *smtptest.Server) map[string]int {
	got := map[string]int{}
	for _, m := range srv.Messages() {
		if sub := queueIDHeader.FindSubmatch(m.Data); sub != nil {
			got[string(sub[1])]++
		}
	}
	return got
}

// TestQueueCrash: a process killed (SIGKILL) while it relays loses no
// message, and sends again none whose delivery it had recorded: only those
// delivered and not yet recorded, a bounded few, go twice. The queue runs
// in a child process (this test binary, TestQueueCrashChild), relaying to
// a server in this one.
func TestQueueCrash(t *testing.T) {
	const n = 300
	dir := t.TempDir()
	st := openStore(t, dir)
	queueNumbered(t, st, n, bytes.Repeat([]byte(strings.Repeat("x", 76)+"\r\n"), 26))
	srv := smtptest.New(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestQueueCrashChild$")
	cmd.Env = append(os.Environ(), "SESAME_CRASH_DIR="+dir, "SESAME_CRASH_URL="+srv.URL, "SESAME_CRASH_CA="+srv.CAFile)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for srv.Accepted() < n/4 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the child delivered %d messages in 20s:\n%s", srv.Accepted(), out.Bytes())
		}
		time.Sleep(time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	time.Sleep(100 * time.Millisecond) // the server reads what was under way
	before := received(srv)

	recorded := map[string]bool{}
	all, err := st.ListMessages(context.Background(), store.MessageQuery{Kind: store.SentMail, Limit: n})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range all {
		if m.Status == store.Sent {
			recorded[m.ID] = true
			if before[m.ID] == 0 {
				t.Errorf("%s recorded as sent, never received", m.ID)
			}
		}
	}
	if len(recorded) == 0 || len(recorded) == n {
		t.Fatalf("killed with %d of %d recorded as sent: the crash did not come in the middle\n%s", len(recorded), n, out.Bytes())
	}

	// The messages the child had claimed are leased for Lease: make them
	// due, as the lease running out would.
	leased := 0
	for _, m := range all {
		if m.Status == store.Queued && m.NextAttempt.After(time.Now()) {
			m.NextAttempt = time.Now().UTC()
			if err := st.UpdateMessage(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			leased++
		}
	}
	if leased > DefaultConcurrency {
		t.Errorf("%d messages leased by the killed child, want at most %d (its workers)", leased, DefaultConcurrency)
	}

	// The next process delivers the rest.
	q := &Queue{Store: st, Relay: relayTo(t, srv)}
	runQueue(t, q)
	waitFor(t, func() (time.Time, bool) {
		next, err := st.NextDue(context.Background())
		return next, err == nil && next.IsZero()
	})
	after := received(srv)
	twice := 0
	for i := range n {
		id := fmt.Sprintf("m%d", i)
		switch {
		case after[id] == 0:
			t.Errorf("%s lost", id)
		case recorded[id] && after[id] > 1:
			t.Errorf("%s sent again after its delivery was recorded", id)
		case after[id] > 2:
			t.Errorf("%s received %d times", id, after[id])
		case after[id] == 2:
			twice++
		}
	}
	// Sent twice: at most those delivered and waiting for their write.
	if limit := DefaultConcurrency + recordBatch; twice > limit {
		t.Errorf("%d messages sent twice, want at most %d", twice, limit)
	}
	t.Logf("killed after %d deliveries, %d recorded; %d sent twice", len(before), len(recorded), twice)
}

// TestQueueCrashChild is the process TestQueueCrash kills.
func TestQueueCrashChild(t *testing.T) {
	dir := os.Getenv("SESAME_CRASH_DIR")
	if dir == "" {
		return // run by TestQueueCrash only
	}
	st := openStore(t, dir)
	r, err := ParseRelay(os.Getenv("SESAME_CRASH_URL"), os.Getenv("SESAME_CRASH_CA"))
	if err != nil {
		t.Fatal(err)
	}
	q := &Queue{Store: st, Relay: r, Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	q.Init()
	q.Run(context.Background()) // until killed
}

// TestQueueConcurrentOnce: with several deliveries at once, each message
// is sent once, over a few connections kept open.
func TestQueueConcurrentOnce(t *testing.T) {
	const n = 200
	st := openStore(t, t.TempDir())
	srv := smtptest.New(t)
	queueNumbered(t, st, n, []byte("body\r\n"))
	runQueue(t, &Queue{Store: st, Relay: relayTo(t, srv)})
	waitFor(t, func() (int, bool) { got := srv.Accepted(); return got, got >= n })
	waitFor(t, func() (time.Time, bool) {
		next, err := st.NextDue(context.Background())
		return next, err == nil && next.IsZero()
	})
	got := received(srv)
	for i := range n {
		if id := fmt.Sprintf("m%d", i); got[id] != 1 {
			t.Errorf("%s received %d times, want once", id, got[id])
		}
	}
	// One connection per delivery at once, and as many probes without
	// TLS (the first ones are made together); more only if one broke.
	if c := srv.Connections(); c > 2*DefaultConcurrency {
		t.Errorf("%d connections for %d messages, want at most %d", c, n, 2*DefaultConcurrency)
	}
}
