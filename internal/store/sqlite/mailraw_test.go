package sqlite

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/store"
)

// TestMigrateRaw opens a database of schema version 11, whose messages
// keep their raw in their row, in this version (migrations 12 and 13):
// each message reads back whole, its raw now in mail_raw alone, and an
// outcome written after keeps it.
func TestMigrateRaw(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	all := migrations
	migrations = all[:11]
	s, err := Open(ctx, dir)
	migrations = all
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	raws := map[string]string{"m1": "Subject: one\r\n\r\nfirst\r\n", "m2": "Subject: two\r\n\r\nsecond\r\n"}
	for id, raw := range raws {
		if _, err := s.db.ExecContext(ctx, `INSERT INTO mail_messages (id, account, region, identity, sender, recipient, subject, link, link_nonce, raw,
			created, status, next_attempt, kind, recipients) VALUES (?, '111111111111', 'us-east-1', 'example.com', 'a@example.com', 'b@example.org', 's', '', '', ?, ?, 'queued', ?, 'sent', 1)`,
			id, []byte(raw), now.UnixNano(), now.UnixNano()); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	s, err = Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var cols int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_table_info('mail_messages') WHERE name = 'raw'`).Scan(&cols); err != nil || cols != 0 {
		t.Errorf("mail_messages still has a raw column (%d, %v)", cols, err)
	}
	// Migration 13: a table with a rowid, and no foreign key (a rebuild of
	// mail_messages would cascade to it).
	var sqlText string
	var fks int
	if err := s.db.QueryRowContext(ctx, `SELECT sql FROM sqlite_schema WHERE name = 'mail_raw'`).Scan(&sqlText); err != nil ||
		strings.Contains(strings.ToUpper(sqlText), "WITHOUT ROWID") {
		t.Errorf("mail_raw: %q, %v; want a table with a rowid", sqlText, err)
	}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_foreign_key_list('mail_raw')`).Scan(&fks); err != nil || fks != 0 {
		t.Errorf("mail_raw has %d foreign keys (%v), want none", fks, err)
	}
	for id, raw := range raws {
		m, err := s.GetMessage(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if string(m.Raw) != raw {
			t.Errorf("%s after migration: raw %q, want %q", id, m.Raw, raw)
		}
		m.Status, m.Attempts, m.Done = store.Sent, 1, now
		if err := s.UpdateMessages(ctx, []*store.Message{m}); err != nil {
			t.Fatal(err)
		}
		if m, err := s.GetMessage(ctx, id); err != nil || string(m.Raw) != raw || m.Status != store.Sent {
			t.Errorf("%s after its outcome: %+v, %v", id, m, err)
		}
	}
	// A new message's raw goes to mail_raw, and reads back from it.
	k := identity.Key{Account: "111111111111", Region: "us-east-1", Name: "example.com"}
	if err := s.AddMessage(ctx, &store.Message{ID: "m3", Key: k, From: "a@example.com", To: "b@example.org", Raw: []byte("third"),
		Created: now, Status: store.Local, Kind: store.SentMail, Counted: 1}, nil, nil); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM mail_raw`).Scan(&n); err != nil || n != 3 {
		t.Errorf("mail_raw holds %d rows (%v), want 3", n, err)
	}
	ms, err := s.ListMessages(ctx, store.MessageQuery{Kind: store.SentMail, Limit: 10})
	if err != nil || len(ms) != 3 {
		t.Fatalf("ListMessages: %d messages, %v", len(ms), err)
	}
	for _, m := range ms {
		if want, ok := raws[m.ID]; m.ID == "m3" && string(m.Raw) != "third" || ok && string(m.Raw) != want {
			t.Errorf("%s listed with raw %q", m.ID, m.Raw)
		}
	}
}
