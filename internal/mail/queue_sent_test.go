package mail

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/smtptest"
	"github.com/sesame/sesame/internal/store"
)

func queueSent(t *testing.T, st store.Outbox, id string, created time.Time, rcpts ...string) {
	t.Helper()
	m := &store.Message{ID: id, Kind: store.SentMail, Key: identity.Key{Account: addrKey.Account, Region: addrKey.Region, Name: "example.com"},
		From: "app@example.com", To: rcpts[0], Recipients: rcpts, Raw: []byte("Subject: hi\r\n\r\nbody\r\n"),
		Created: created, Status: store.Queued, NextAttempt: time.Now().UTC(), Sent: &store.SentInfo{MessageID: id}}
	if err := st.AddMessage(context.Background(), m, nil, nil); err != nil {
		t.Fatal(err)
	}
}

// TestQueueSentMail: sent mail goes through the same queue and relay as
// verification mail, to every envelope recipient in one transaction.
func TestQueueSentMail(t *testing.T) {
	st := openStore(t, t.TempDir())
	srv := smtptest.New(t)
	queueSent(t, st, "s1", time.Now().UTC(), "a@example.net", "b@example.net", "c@example.org")
	queueMessage(t, st, "v1")
	runQueue(t, &Queue{Store: st, Relay: relayTo(t, srv), GiveUp: time.Hour})
	waitStatus(t, st, "s1", store.Sent)
	waitStatus(t, st, "v1", store.Sent)
	var sent *smtptest.Message
	for _, m := range srv.Messages() {
		if m.From == "app@example.com" {
			sent = &m
		}
	}
	if sent == nil {
		t.Fatalf("the relay got no message from app@example.com: %v", srv.Messages())
	}
	if d := cmp.Diff([]string{"a@example.net", "b@example.net", "c@example.org"}, sent.To); d != "" {
		t.Errorf("envelope recipients (-want +got):\n%s", d)
	}
}

// TestQueueSentMailOutlivesTheLinkWindow: the give-up of verification mail
// (its link's validity) does not apply to sent mail, which has its own.
func TestQueueSentMailOutlivesTheLinkWindow(t *testing.T) {
	st := openStore(t, t.TempDir())
	srv := smtptest.New(t)
	queueSent(t, st, "old", time.Now().UTC().Add(-2*time.Hour), "a@example.net")
	queueSent(t, st, "older", time.Now().UTC().Add(-13*time.Hour), "a@example.net")
	runQueue(t, &Queue{Store: st, Relay: relayTo(t, srv), GiveUp: time.Hour})
	waitStatus(t, st, "old", store.Sent)
	if m := waitStatus(t, st, "older", store.Failed); m.Attempts != 0 {
		t.Errorf("a message past DefaultSentGiveUp was offered to the relay: %+v", m)
	}
}
