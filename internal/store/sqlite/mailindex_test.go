package sqlite

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/store"
)

// TestVerificationIndexes: the indexes of verification mail's limits hold
// verification mail only (a sent message writes neither), and the queries
// that need them still take them: the limits per account and per
// recipient, and the outbox's listing of verification mail.
func TestVerificationIndexes(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now().UTC()
	k := identity.Key{Account: "111111111111", Region: "us-east-1", Name: "a@example.com"}
	for i, kind := range []store.MessageKind{store.Verification, store.SentMail, store.SentMail} {
		m := &store.Message{ID: "m" + string(rune('0'+i)), Key: k, From: "no-reply@example.com", To: "a@example.com",
			Raw: []byte("x"), Created: now, Status: store.Local, Kind: kind, Counted: 1}
		if err := s.AddMessage(ctx, m, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, index := range []string{"mail_messages_account", "mail_messages_recipient"} {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM mail_messages INDEXED BY `+index+` WHERE kind = ''`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("%s holds %d messages, want the 1 verification message", index, n)
		}
	}
	plan := func(query string, args ...any) string {
		rows, err := s.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			b.WriteString(detail + "; ")
		}
		return b.String()
	}
	since := now.Add(-time.Hour).UnixNano()
	kind, args := kindIs(store.Verification)
	for _, c := range []struct {
		query string
		args  []any
		index string
	}{
		{`SELECT COUNT(*) FROM mail_messages WHERE account = ? AND created > ? AND kind = ''`, []any{k.Account, since}, "mail_messages_account"},
		{`SELECT COUNT(*) FROM mail_messages WHERE account = ? AND created > ? AND kind = '' AND recipient = ?`, []any{k.Account, since, "a@example.com"}, "mail_messages_"},
		{`SELECT id FROM mail_messages WHERE ` + kind + ` AND hidden = 0 AND recipient = ? ORDER BY created DESC, rowid DESC LIMIT 10`, append(args, "a@example.com"), "mail_messages_recipient"},
	} {
		if p := plan(c.query, c.args...); !strings.Contains(p, "INDEX "+c.index) {
			t.Errorf("%s\nplan: %s\nwant an index %s*", c.query, p, c.index)
		}
	}
	// What countMessages and ListMessages run counts right.
	if n, err := s.CountMessages(ctx, store.Limit{Account: k.Account, Since: now.Add(-time.Hour), Recipient: "a@example.com"}); err != nil || n != 1 {
		t.Errorf("CountMessages = %d, %v; want 1 verification message", n, err)
	}
	if ms, err := s.ListMessages(ctx, store.MessageQuery{Kind: store.SentMail, To: "a@example.com", Limit: 10}); err != nil || len(ms) != 2 {
		t.Errorf("ListMessages(sent, to) = %d messages, %v; want 2", len(ms), err)
	}
}
