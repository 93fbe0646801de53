package sqlite

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/store"
)

// TestMessageIndexes: the indexes of verification mail's limits hold
// verification mail only (a sent message writes neither), and the queries
// that need them still take them: the limits per account and per
// recipient, the outbox's listing of verification mail, and the sending
// quota's count, from its index alone.
func TestMessageIndexes(t *testing.T) {
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
		want  string // in the plan
	}{
		{`SELECT COUNT(*) FROM mail_messages WHERE account = ? AND created > ? AND kind = ''`, []any{k.Account, since}, "INDEX mail_messages_account"},
		{`SELECT COUNT(*) FROM mail_messages WHERE account = ? AND created > ? AND kind = '' AND recipient = ?`, []any{k.Account, since, "a@example.com"}, "INDEX mail_messages_"},
		{`SELECT id FROM mail_messages WHERE ` + kind + ` AND hidden = 0 AND recipient = ? ORDER BY created DESC, rowid DESC LIMIT 10`, append(args, "a@example.com"), "INDEX mail_messages_recipient"},
		// The quota's count, read at every send, from the index alone.
		{`SELECT COALESCE(SUM(recipients), 0) FROM mail_messages WHERE kind = 'sent' AND account = ? AND region = ? AND created > ?`,
			[]any{k.Account, k.Region, since}, "COVERING INDEX mail_messages_sent"},
	} {
		if p := plan(c.query, c.args...); !strings.Contains(p, c.want) {
			t.Errorf("%s\nplan: %s\nwant %s", c.query, p, c.want)
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

// BenchmarkSentQuota is the sending quota's count over a day of 20,000
// sent 14 KB messages, which every send reads in the writer's transaction.
func BenchmarkSentQuota(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	now := time.Now().UTC()
	k := identity.Key{Account: "111111111111", Region: "us-east-1", Name: "example.com"}
	raw := []byte(strings.Repeat("x", 14000))
	const n = 20000
	for i := range n {
		m := &store.Message{ID: fmt.Sprint("m", i), Key: k, From: "a@example.com", To: "b@example.org",
			Raw: raw, Created: now.Add(-time.Duration(n-i) * time.Second), Status: store.Local, Kind: store.SentMail, Counted: 1}
		if err := s.AddMessage(ctx, m, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	l := store.Limit{Kind: store.SentMail, Account: k.Account, Region: k.Region, Since: now.Add(-24 * time.Hour)}
	b.ResetTimer()
	for range b.N {
		if got, err := s.CountMessages(ctx, l); err != nil || got != n {
			b.Fatalf("CountMessages = %d, %v; want %d", got, err, n)
		}
	}
}
