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

// CreateEmailTemplate implements store.EmailTemplates.
func (s *Store) CreateEmailTemplate(ctx context.Context, t *store.EmailTemplate, limit func(inRegion int) error) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := getEmailTemplate(ctx, tx, t.TemplateKey); err == nil {
			return fmt.Errorf("email template %q: %w", t.Name, store.ErrExists)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if limit != nil {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM email_templates WHERE account = ? AND region = ?`, t.Account, t.Region).Scan(&n); err != nil {
				return err
			}
			if err := limit(n); err != nil {
				return err
			}
		}
		return putEmailTemplate(ctx, tx, t)
	})
}

// GetEmailTemplate implements store.EmailTemplates.
func (s *Store) GetEmailTemplate(ctx context.Context, k store.TemplateKey) (*store.EmailTemplate, error) {
	return getEmailTemplate(ctx, s.db, k)
}

// UpdateEmailTemplate implements store.EmailTemplates.
func (s *Store) UpdateEmailTemplate(ctx context.Context, t *store.EmailTemplate) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		cur, err := getEmailTemplate(ctx, tx, t.TemplateKey)
		if err != nil {
			return err
		}
		c := *t
		c.Created = cur.Created
		return putEmailTemplate(ctx, tx, &c)
	})
}

// DeleteEmailTemplate implements store.EmailTemplates.
func (s *Store) DeleteEmailTemplate(ctx context.Context, k store.TemplateKey) (bool, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM email_templates WHERE account = ? AND region = ? AND name = ?`, k.Account, k.Region, k.Name)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n > 0, err
}

// ListEmailTemplates implements store.EmailTemplates.
func (s *Store) ListEmailTemplates(ctx context.Context, account, region, after string, limit int) ([]*store.EmailTemplate, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT data FROM email_templates WHERE account = ? AND region = ? AND name > ? ORDER BY name LIMIT ?`,
		account, region, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*store.EmailTemplate
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		t := new(store.EmailTemplate)
		if err := json.Unmarshal(data, t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func getEmailTemplate(ctx context.Context, q queryer, k store.TemplateKey) (*store.EmailTemplate, error) {
	var data []byte
	err := q.QueryRowContext(ctx, `SELECT data FROM email_templates WHERE account = ? AND region = ? AND name = ?`, k.Account, k.Region, k.Name).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	t := new(store.EmailTemplate)
	return t, json.Unmarshal(data, t)
}

func putEmailTemplate(ctx context.Context, tx *sql.Tx, t *store.EmailTemplate) error {
	data, err := json.Marshal(t)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO email_templates (account, region, name, data) VALUES (?, ?, ?, ?)
		ON CONFLICT (account, region, name) DO UPDATE SET data = excluded.data`, t.Account, t.Region, t.Name, data)
	return err
}

// GetSendingState implements store.SendingStates.
func (s *Store) GetSendingState(ctx context.Context, account, region string) (*store.SendingState, error) {
	return getSendingState(ctx, s.db, account, region)
}

// UpdateSendingState implements store.SendingStates.
func (s *Store) UpdateSendingState(ctx context.Context, account, region string, fn func(st *store.SendingState) error) (*store.SendingState, error) {
	var out *store.SendingState
	err := s.write(ctx, func(tx *sql.Tx) error {
		st, err := getSendingState(ctx, tx, account, region)
		if err != nil {
			return err
		}
		if err := fn(st); err != nil {
			return err
		}
		st.Account, st.Region = account, region
		data, err := json.Marshal(st)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sending_states (account, region, data) VALUES (?, ?, ?)
			ON CONFLICT (account, region) DO UPDATE SET data = excluded.data`, account, region, data); err != nil {
			return err
		}
		out = st
		return nil
	})
	return out, err
}

func getSendingState(ctx context.Context, q queryer, account, region string) (*store.SendingState, error) {
	st := &store.SendingState{Account: account, Region: region}
	var data []byte
	err := q.QueryRowContext(ctx, `SELECT data FROM sending_states WHERE account = ? AND region = ?`, account, region).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return nil, err
	}
	return st, json.Unmarshal(data, st)
}

// SentVolume implements store.Sending.
func (s *Store) SentVolume(ctx context.Context, account, region string, since time.Time) ([]store.Volume, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT created, recipients FROM mail_messages WHERE kind = 'sent' AND account = ? AND region = ? AND created > ? ORDER BY created`,
		account, region, since.UnixNano())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Volume
	for rows.Next() {
		var created int64
		var v store.Volume
		if err := rows.Scan(&created, &v.Recipients); err != nil {
			return nil, err
		}
		v.Created = time.Unix(0, created).UTC()
		out = append(out, v)
	}
	return out, rows.Err()
}

// HideSent implements store.Sending.
func (s *Store) HideSent(ctx context.Context, account, id string) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		q := `UPDATE mail_messages SET hidden = 1 WHERE kind = 'sent' AND account = ? AND hidden = 0`
		args := []any{account}
		if id != "" {
			q += ` AND id = ?`
			args = append(args, id)
		}
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
