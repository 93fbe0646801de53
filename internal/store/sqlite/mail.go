package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sesame/sesame/internal/store"
)

// Times are unix nanoseconds; NULL (or 0 for NOT NULL columns) is the zero
// time.

func nanos(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

func fromNanos(n sql.NullInt64) time.Time {
	if !n.Valid || n.Int64 == 0 {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

// AddMessage implements store.Outbox.
func (s *Store) AddMessage(ctx context.Context, m *store.Message, l *store.Link, limits []store.Limit) error {
	return s.write(ctx, func(tx *sql.Tx) error {
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
			if _, err := tx.ExecContext(ctx, `UPDATE mail_links SET replaced = ? WHERE account = ? AND region = ? AND name = ? AND replaced IS NULL`,
				l.Created.UnixNano(), k.Account, k.Region, k.Name); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO mail_links (nonce, account, region, name, created, expires, success_url, failure_url)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, l.Nonce, k.Account, k.Region, k.Name, l.Created.UnixNano(), l.Expires.UnixNano(), l.SuccessURL, l.FailureURL); err != nil {
				return err
			}
		}
		sent, err := encodeSent(m)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO mail_messages (id, account, region, identity, sender, recipient, subject, link, link_nonce,
			created, status, attempts, next_attempt, last_error, done, kind, recipients, sent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			m.ID, m.Key.Account, m.Key.Region, m.Key.Name, m.From, m.To, m.Subject, m.Link, m.LinkNonce,
			m.Created.UnixNano(), string(m.Status), m.Attempts, nanos(m.NextAttempt), m.LastError, nanos(m.Done),
			string(m.Kind), m.Counted, sent)
		if isUnique(err) {
			return fmt.Errorf("message %q: %w", m.ID, store.ErrExists)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO mail_raw (id, raw) VALUES (?, ?)`, m.ID, m.Raw); err != nil {
			return err
		}
		if m.Kind != store.SentMail {
			return nil
		}
		return countSent(ctx, tx, m)
	})
}

// countSent adds m's recipients to its minute in sent_minutes; the first
// message of a minute also drops the account's minutes older than
// store.SentMinutesKept, which no count reads.
func countSent(ctx context.Context, tx *sql.Tx, m *store.Message) error {
	if m.Counted == 0 { // the mailbox simulator's alone
		return nil
	}
	minute := store.SentMinute(m.Created)
	var total int
	if err := tx.QueryRowContext(ctx, `INSERT INTO sent_minutes (account, region, minute, recipients) VALUES (?, ?, ?, ?)
		ON CONFLICT (account, region, minute) DO UPDATE SET recipients = recipients + excluded.recipients RETURNING recipients`,
		m.Key.Account, m.Key.Region, minute, m.Counted).Scan(&total); err != nil || total != m.Counted {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM sent_minutes WHERE account = ? AND region = ? AND minute < ?`,
		m.Key.Account, m.Key.Region, minute-store.SentMinutesKept)
	return err
}

// CountMessages implements store.Outbox.
func (s *Store) CountMessages(ctx context.Context, l store.Limit) (int, error) {
	return countMessages(ctx, s.db, l)
}

func countMessages(ctx context.Context, q queryer, l store.Limit) (int, error) {
	if l.Kind == store.SentMail {
		// The quota counts recipients in one region: the whole minutes
		// from sent_minutes, the first one's messages after Since from
		// mail_messages_sent (store.SentWindow).
		minute, partialEnd := store.SentWindow(l.Since)
		var n int
		err := q.QueryRowContext(ctx, `SELECT
			(SELECT COALESCE(SUM(recipients), 0) FROM sent_minutes WHERE account = ? AND region = ? AND minute > ?) +
			(SELECT COALESCE(SUM(recipients), 0) FROM mail_messages WHERE kind = 'sent' AND account = ? AND region = ? AND created > ? AND created < ?)`,
			l.Account, l.Region, minute, l.Account, l.Region, l.Since.UnixNano(), partialEnd).Scan(&n)
		return n, err
	}
	query := `SELECT COUNT(*) FROM mail_messages WHERE account = ? AND created > ? AND kind = ''`
	args := []any{l.Account, l.Since.UnixNano()}
	if l.Recipient != "" {
		query += ` AND recipient = ?`
		args = append(args, l.Recipient)
	}
	var n int
	err := q.QueryRowContext(ctx, query, args...).Scan(&n)
	return n, err
}

// messageColumns are a message's, the raw message from mail_raw.
const messageColumns = `id, account, region, identity, sender, recipient, subject, link, link_nonce,
	(SELECT raw FROM mail_raw WHERE mail_raw.id = mail_messages.id),
	created, status, attempts, next_attempt, last_error, done, kind, sent, recipients`

// GetMessage implements store.Outbox.
func (s *Store) GetMessage(ctx context.Context, id string) (*store.Message, error) {
	ms, err := s.messages(ctx, `SELECT `+messageColumns+` FROM mail_messages WHERE id = ?`, id)
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
	// The kind as SQL's literal: SQLite takes a partial index (WHERE kind
	// = '') for a query that names the same value, not a parameter.
	kind, args := kindIs(q.Kind)
	query := `SELECT ` + messageColumns + ` FROM mail_messages WHERE ` + kind + ` AND hidden = 0`
	if q.Account != "" {
		query += ` AND account = ?`
		args = append(args, q.Account)
		if q.Region != "" {
			query += ` AND region = ?`
			args = append(args, q.Region)
		}
	}
	if q.To != "" {
		query += ` AND recipient = ?`
		args = append(args, q.To)
	}
	if q.Status != "" {
		query += ` AND status = ?`
		args = append(args, string(q.Status))
	}
	query += ` ORDER BY created DESC, rowid DESC LIMIT ?`
	args = append(args, q.Limit)
	return s.messages(ctx, query, args...)
}

// kindIs is the condition on the kind: the store's kinds as SQL literals,
// which SQLite's partial indexes need, any other as a parameter (it matches
// nothing stored).
func kindIs(k store.MessageKind) (string, []any) {
	switch k {
	case store.Verification:
		return `kind = ''`, nil
	case store.SentMail:
		return `kind = 'sent'`, nil
	}
	return `kind = ?`, []any{string(k)}
}

// DueMessages implements store.Outbox.
func (s *Store) DueMessages(ctx context.Context, now time.Time, limit int) ([]*store.Message, error) {
	return s.messages(ctx, `SELECT `+messageColumns+` FROM mail_messages
		WHERE status = 'queued' AND next_attempt <= ? ORDER BY next_attempt, rowid LIMIT ?`, now.UnixNano(), limit)
}

// NextDue implements store.Outbox.
func (s *Store) NextDue(ctx context.Context) (time.Time, error) {
	var n sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT MIN(next_attempt) FROM mail_messages WHERE status = 'queued'`).Scan(&n)
	return fromNanos(n), err
}

// UpdateMessage implements store.Outbox.
func (s *Store) UpdateMessage(ctx context.Context, m *store.Message) error {
	return s.write(ctx, func(tx *sql.Tx) error { return updateMessage(ctx, tx, m) })
}

// UpdateMessages implements store.MessageBatcher: one commit for all of
// ms, written lazily (writeLazy: the queue's outcomes).
func (s *Store) UpdateMessages(ctx context.Context, ms []*store.Message) error {
	return s.writeLazy(ctx, func(tx *sql.Tx) error {
		for _, m := range ms {
			if err := updateMessage(ctx, tx, m); err != nil {
				return err
			}
		}
		return nil
	})
}

func updateMessage(ctx context.Context, tx *sql.Tx, m *store.Message) error {
	res, err := tx.ExecContext(ctx, `UPDATE mail_messages SET status = ?, attempts = ?, next_attempt = ?, last_error = ?, done = ? WHERE id = ?`,
		string(m.Status), m.Attempts, nanos(m.NextAttempt), m.LastError, nanos(m.Done), m.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("message %q: %w", m.ID, store.ErrNotFound)
	}
	return nil
}

func (s *Store) messages(ctx context.Context, query string, args ...any) ([]*store.Message, error) {
	return readMessages(ctx, s.db, query, args...)
}

// readMessages is messages through q: the database, or a transaction
// whose lock the read must be under.
func readMessages(ctx context.Context, q rowsQueryer, query string, args ...any) ([]*store.Message, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*store.Message
	for rows.Next() {
		var m store.Message
		var status string
		var created int64
		var next, done sql.NullInt64
		var kind string
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
	var used, replaced sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT nonce, account, region, name, created, expires, used, replaced, success_url, failure_url
		FROM mail_links WHERE nonce = ?`, nonce).Scan(&l.Nonce, &l.Key.Account, &l.Key.Region, &l.Key.Name, &created, &expires, &used, &replaced, &l.SuccessURL, &l.FailureURL)
	if errors.Is(err, sql.ErrNoRows) {
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

// UseLink implements store.Links.
func (s *Store) UseLink(ctx context.Context, nonce string, at time.Time) (bool, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE mail_links SET used = ? WHERE nonce = ? AND used IS NULL`, at.UnixNano(), nonce)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n > 0, err
}

// CreateTemplate implements store.Templates.
func (s *Store) CreateTemplate(ctx context.Context, t *store.Template, limit func(inRegion, inAccount int) error) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := getTemplate(ctx, tx, t.TemplateKey); err == nil {
			return fmt.Errorf("template %q: %w", t.Name, store.ErrExists)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		var inRegion, inAccount int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FILTER (WHERE region = ?), COUNT(*) FROM mail_templates WHERE account = ?`, t.Region, t.Account).Scan(&inRegion, &inAccount); err != nil {
			return err
		}
		if limit != nil {
			if err := limit(inRegion, inAccount); err != nil {
				return err
			}
		}
		return putTemplate(ctx, tx, t)
	})
}

// GetTemplate implements store.Templates.
func (s *Store) GetTemplate(ctx context.Context, k store.TemplateKey) (*store.Template, error) {
	return getTemplate(ctx, s.db, k)
}

// UpdateTemplate implements store.Templates.
func (s *Store) UpdateTemplate(ctx context.Context, k store.TemplateKey, fn func(t *store.Template) error) (*store.Template, error) {
	var out *store.Template
	err := s.write(ctx, func(tx *sql.Tx) error {
		t, err := getTemplate(ctx, tx, k)
		if err != nil {
			return err
		}
		if err := fn(t); err != nil {
			return err
		}
		t.TemplateKey = k
		out = t
		return putTemplate(ctx, tx, t)
	})
	return out, err
}

// DeleteTemplate implements store.Templates.
func (s *Store) DeleteTemplate(ctx context.Context, k store.TemplateKey) (bool, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM mail_templates WHERE account = ? AND region = ? AND name = ?`, k.Account, k.Region, k.Name)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n > 0, err
}

// ListTemplates implements store.Templates.
func (s *Store) ListTemplates(ctx context.Context, account, region, after string, limit int) ([]*store.Template, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT data FROM mail_templates WHERE account = ? AND region = ? AND name > ? ORDER BY name LIMIT ?`,
		account, region, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*store.Template
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		t, err := decodeTemplate(data)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func getTemplate(ctx context.Context, q queryer, k store.TemplateKey) (*store.Template, error) {
	var data []byte
	err := q.QueryRowContext(ctx, `SELECT data FROM mail_templates WHERE account = ? AND region = ? AND name = ?`, k.Account, k.Region, k.Name).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return decodeTemplate(data)
}

func putTemplate(ctx context.Context, tx *sql.Tx, t *store.Template) error {
	data, err := json.Marshal(t)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO mail_templates (account, region, name, data) VALUES (?, ?, ?, ?)
		ON CONFLICT (account, region, name) DO UPDATE SET data = excluded.data`, t.Account, t.Region, t.Name, data)
	return err
}

func decodeTemplate(data []byte) (*store.Template, error) {
	t := new(store.Template)
	if err := json.Unmarshal(data, t); err != nil {
		return nil, err
	}
	return t, nil
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
