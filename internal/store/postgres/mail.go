package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sesame/sesame/internal/store"
)

// Times are unix nanoseconds; NULL is the zero time.

func nanos(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	n := t.UnixNano()
	return &n
}

func fromNanos(n *int64) time.Time {
	if n == nil || *n == 0 {
		return time.Time{}
	}
	return time.Unix(0, *n).UTC()
}

// AddMessage implements store.Outbox. The limits are counted and the
// message stored under a lock on the account's mail, so that replicas
// accepting mail for one account at once never both pass a limit with one
// place left.
func (s *Store) AddMessage(ctx context.Context, m *store.Message, l *store.Link, limits []store.Limit) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		if err := lock(ctx, tx, classMail, m.Key.Account); err != nil {
			return err
		}
		for _, lim := range limits {
			n, err := countMessages(ctx, tx, lim)
			if err != nil {
				return err
			}
			if n >= lim.Max {
				return lim.Err
			}
		}
		if l != nil {
			k := l.Key
			if _, err := tx.Exec(ctx, `UPDATE mail_links SET replaced = $1 WHERE account = $2 AND region = $3 AND name = $4 AND replaced IS NULL`,
				l.Created.UnixNano(), k.Account, k.Region, k.Name); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO mail_links (nonce, account, region, name, created, expires, success_url, failure_url)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, l.Nonce, k.Account, k.Region, k.Name, l.Created.UnixNano(), l.Expires.UnixNano(), l.SuccessURL, l.FailureURL); err != nil {
				return err
			}
		}
		sent, err := encodeSent(m)
		if err != nil {
			return err
		}
		raw := m.Raw
		if raw == nil {
			raw = []byte{} // NOT NULL, as SQLite's empty blob
		}
		_, err = tx.Exec(ctx, `INSERT INTO mail_messages (id, account, region, identity, sender, recipient, subject, link, link_nonce, raw,
			created, status, attempts, next_attempt, last_error, done, kind, recipients, sent)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
			m.ID, m.Key.Account, m.Key.Region, m.Key.Name, m.From, m.To, m.Subject, m.Link, m.LinkNonce, raw,
			m.Created.UnixNano(), string(m.Status), m.Attempts, nanos(m.NextAttempt), m.LastError, nanos(m.Done),
			string(m.Kind), m.Counted, sent)
		if isUnique(err) {
			return fmt.Errorf("message %q: %w", m.ID, store.ErrExists)
		}
		if err != nil || m.Kind != store.SentMail {
			return err
		}
		return countSent(ctx, tx, m)
	})
}

// countSent adds m's recipients to its minute in sent_minutes; the first
// message of a minute also drops the account's minutes older than
// store.SentMinutesKept, which no count reads.
func countSent(ctx context.Context, tx pgx.Tx, m *store.Message) error {
	if m.Counted == 0 { // the mailbox simulator's alone
		return nil
	}
	minute := store.SentMinute(m.Created)
	var total int
	if err := tx.QueryRow(ctx, `INSERT INTO sent_minutes (account, region, minute, recipients) VALUES ($1, $2, $3, $4)
		ON CONFLICT (account, region, minute) DO UPDATE SET recipients = sent_minutes.recipients + excluded.recipients RETURNING recipients`,
		m.Key.Account, m.Key.Region, minute, m.Counted).Scan(&total); err != nil || total != m.Counted {
		return err
	}
	_, err := tx.Exec(ctx, `DELETE FROM sent_minutes WHERE account = $1 AND region = $2 AND minute < $3`,
		m.Key.Account, m.Key.Region, minute-store.SentMinutesKept)
	return err
}

// CountMessages implements store.Outbox.
func (s *Store) CountMessages(ctx context.Context, l store.Limit) (int, error) {
	return countMessages(ctx, s.pool, l)
}

func countMessages(ctx context.Context, q queryer, l store.Limit) (int, error) {
	var n int
	if l.Kind == store.SentMail {
		// The quota counts recipients in one region: the whole minutes
		// from sent_minutes, the first one's messages after Since from
		// mail_messages_sent (store.SentWindow).
		minute, partialEnd := store.SentWindow(l.Since)
		err := q.QueryRow(ctx, `SELECT
			(SELECT COALESCE(SUM(recipients), 0) FROM sent_minutes WHERE account = $1 AND region = $2 AND minute > $3) +
			(SELECT COALESCE(SUM(recipients), 0) FROM mail_messages WHERE kind = 'sent' AND account = $1 AND region = $2 AND created > $4 AND created < $5)`,
			l.Account, l.Region, minute, l.Since.UnixNano(), partialEnd).Scan(&n)
		return n, err
	}
	query := `SELECT COUNT(*) FROM mail_messages WHERE account = $1 AND created > $2 AND kind = ''`
	args := []any{l.Account, l.Since.UnixNano()}
	if l.Recipient != "" {
		query += ` AND recipient = $3`
		args = append(args, l.Recipient)
	}
	err := q.QueryRow(ctx, query, args...).Scan(&n)
	return n, err
}

const messageColumns = `id, account, region, identity, sender, recipient, subject, link, link_nonce, raw,
	created, status, attempts, next_attempt, last_error, done, kind, sent, recipients`

// GetMessage implements store.Outbox.
func (s *Store) GetMessage(ctx context.Context, id string) (*store.Message, error) {
	ms, err := s.messages(ctx, `SELECT `+messageColumns+` FROM mail_messages WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, store.ErrNotFound
	}
	return ms[0], nil
}

// ListMessages implements store.Outbox.
func (s *Store) ListMessages(ctx context.Context, q store.MessageQuery) ([]*store.Message, error) {
	query := `SELECT ` + messageColumns + ` FROM mail_messages WHERE kind = $1 AND NOT hidden`
	args := []any{string(q.Kind)}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if q.Account != "" {
		query += ` AND account = ` + arg(q.Account)
		if q.Region != "" {
			query += ` AND region = ` + arg(q.Region)
		}
	}
	if q.To != "" {
		query += ` AND recipient = ` + arg(q.To)
	}
	if q.Status != "" {
		query += ` AND status = ` + arg(string(q.Status))
	}
	query += ` ORDER BY created DESC, seq DESC LIMIT ` + arg(q.Limit)
	return s.messages(ctx, query, args...)
}

// DueMessages implements store.Outbox.
func (s *Store) DueMessages(ctx context.Context, now time.Time, limit int) ([]*store.Message, error) {
	return s.messages(ctx, `SELECT `+messageColumns+` FROM mail_messages
		WHERE status = 'queued' AND next_attempt <= $1 ORDER BY next_attempt, seq LIMIT $2`, now.UnixNano(), limit)
}

// NextDue implements store.Outbox.
func (s *Store) NextDue(ctx context.Context) (time.Time, error) {
	var n *int64
	err := s.pool.QueryRow(ctx, `SELECT MIN(next_attempt) FROM mail_messages WHERE status = 'queued'`).Scan(&n)
	return fromNanos(n), err
}

// UpdateMessage implements store.Outbox.
func (s *Store) UpdateMessage(ctx context.Context, m *store.Message) error {
	return updateMessage(ctx, s.pool, m)
}

// UpdateMessages implements store.MessageBatcher: the outcomes of a
// queue's attempts in one transaction.
func (s *Store) UpdateMessages(ctx context.Context, ms []*store.Message) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		for _, m := range ms {
			if err := updateMessage(ctx, tx, m); err != nil {
				return err
			}
		}
		return nil
	})
}

// execer is a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func updateMessage(ctx context.Context, db execer, m *store.Message) error {
	tag, err := db.Exec(ctx, `UPDATE mail_messages SET status = $1, attempts = $2, next_attempt = $3, last_error = $4, done = $5 WHERE id = $6`,
		string(m.Status), m.Attempts, nanos(m.NextAttempt), m.LastError, nanos(m.Done), m.ID)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("message %q: %w", m.ID, store.ErrNotFound)
	}
	return nil
}

// ClaimMessages implements store.Outbox: FOR UPDATE SKIP LOCKED, as
// ClaimDue, so that replicas delivering at once each get their own
// messages; the lease is set in the same transaction.
func (s *Store) ClaimMessages(ctx context.Context, now, until time.Time, limit int) ([]*store.Message, error) {
	var out []*store.Message
	err := s.write(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM mail_messages WHERE status = 'queued' AND next_attempt <= $1
			ORDER BY next_attempt, seq LIMIT $2 FOR UPDATE SKIP LOCKED`, now.UnixNano(), limit)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || len(ids) == 0 {
			out = nil
			return err
		}
		rows, err = tx.Query(ctx, `UPDATE mail_messages SET next_attempt = $1 WHERE id = ANY($2) RETURNING `+messageColumns, until.UnixNano(), ids)
		if err != nil {
			return err
		}
		if out, err = scanMessages(rows); err != nil {
			return err
		}
		// In the order of the queue, not the update's.
		slices.SortFunc(out, func(a, b *store.Message) int { return slices.Index(ids, a.ID) - slices.Index(ids, b.ID) })
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Store) messages(ctx context.Context, query string, args ...any) ([]*store.Message, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return scanMessages(rows)
}

func scanMessages(rows pgx.Rows) ([]*store.Message, error) {
	defer rows.Close()
	var out []*store.Message
	for rows.Next() {
		var m store.Message
		var status, kind string
		var created int64
		var next, done *int64
		var sent []byte
		if err := rows.Scan(&m.ID, &m.Key.Account, &m.Key.Region, &m.Key.Name, &m.From, &m.To, &m.Subject, &m.Link, &m.LinkNonce, &m.Raw,
			&created, &status, &m.Attempts, &next, &m.LastError, &done, &kind, &sent, &m.Counted); err != nil {
			return nil, err
		}
		m.Kind = store.MessageKind(kind)
		if err := decodeSent(&m, sent); err != nil {
			return nil, err
		}
		m.Created = time.Unix(0, created).UTC()
		m.Status = store.MessageStatus(status)
		m.NextAttempt = fromNanos(next)
		m.Done = fromNanos(done)
		out = append(out, &m)
	}
	return out, rows.Err()
}

// GetLink implements store.Links.
func (s *Store) GetLink(ctx context.Context, nonce string) (*store.Link, error) {
	var l store.Link
	var created, expires int64
	var used, replaced *int64
	err := s.pool.QueryRow(ctx, `SELECT nonce, account, region, name, created, expires, used, replaced, success_url, failure_url
		FROM mail_links WHERE nonce = $1`, nonce).Scan(&l.Nonce, &l.Key.Account, &l.Key.Region, &l.Key.Name, &created, &expires, &used, &replaced, &l.SuccessURL, &l.FailureURL)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	l.Created = time.Unix(0, created).UTC()
	l.Expires = time.Unix(0, expires).UTC()
	l.Used = fromNanos(used)
	l.Replaced = fromNanos(replaced)
	return &l, nil
}

// UseLink implements store.Links: one statement, so of two replicas
// opening one link at once exactly one is told it did.
func (s *Store) UseLink(ctx context.Context, nonce string, at time.Time) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE mail_links SET used = $1 WHERE nonce = $2 AND used IS NULL`, at.UnixNano(), nonce)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() > 0, nil
}

// CreateTemplate implements store.Templates.
func (s *Store) CreateTemplate(ctx context.Context, t *store.Template, limit func(inRegion, inAccount int) error) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		if err := lock(ctx, tx, classAccountCounts, "mail_templates", t.Account); err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM mail_templates WHERE account = $1 AND region = $2 AND name = $3)`,
			t.Account, t.Region, t.Name).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return fmt.Errorf("template %q: %w", t.Name, store.ErrExists)
		}
		var inRegion, inAccount int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FILTER (WHERE region = $1), COUNT(*) FROM mail_templates WHERE account = $2`,
			t.Region, t.Account).Scan(&inRegion, &inAccount); err != nil {
			return err
		}
		if limit != nil {
			if err := limit(inRegion, inAccount); err != nil {
				return err
			}
		}
		return putRow(ctx, tx, "mail_templates", t.TemplateKey, t)
	})
}

// GetTemplate implements store.Templates.
func (s *Store) GetTemplate(ctx context.Context, k store.TemplateKey) (*store.Template, error) {
	t := new(store.Template)
	if err := getRow(ctx, s.pool, "mail_templates", k, "", t); err != nil {
		return nil, err
	}
	return t, nil
}

// UpdateTemplate implements store.Templates.
func (s *Store) UpdateTemplate(ctx context.Context, k store.TemplateKey, fn func(t *store.Template) error) (*store.Template, error) {
	var out *store.Template
	err := s.write(ctx, func(tx pgx.Tx) error {
		t := new(store.Template)
		if err := getRow(ctx, tx, "mail_templates", k, " FOR UPDATE", t); err != nil {
			return err
		}
		if err := fn(t); err != nil {
			return err
		}
		t.TemplateKey = k
		out = t
		return putRow(ctx, tx, "mail_templates", k, t)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteTemplate implements store.Templates.
func (s *Store) DeleteTemplate(ctx context.Context, k store.TemplateKey) (bool, error) {
	return deleteRow(ctx, s.pool, "mail_templates", k)
}

// ListTemplates implements store.Templates.
func (s *Store) ListTemplates(ctx context.Context, account, region, after string, limit int) ([]*store.Template, error) {
	return listRows[store.Template](ctx, s.pool, "mail_templates", account, region, after, limit)
}

// sentRow is the sent column: what a send call gave, and the envelope
// recipients.
type sentRow struct {
	Info       *store.SentInfo
	Recipients []string
}

func encodeSent(m *store.Message) ([]byte, error) {
	if m.Sent == nil && len(m.Recipients) == 0 {
		return nil, nil
	}
	return json.Marshal(sentRow{m.Sent, m.Recipients})
}

func decodeSent(m *store.Message, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	var r sentRow
	if err := json.Unmarshal(data, &r); err != nil {
		return err
	}
	m.Sent, m.Recipients = r.Info, r.Recipients
	return nil
}
