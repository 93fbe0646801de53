package postgres

import (
	"context"
	"errors"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/jackc/pgx/v5"

	"github.com/sesame/sesame/internal/store"
)

// CreateEmailTemplate implements store.EmailTemplates.
func (s *Store) CreateEmailTemplate(ctx context.Context, t *store.EmailTemplate, limit func(inRegion int) error) error {
	return createRow(ctx, s, "email_templates", t.TemplateKey, t, "email template", limit)
}

// GetEmailTemplate implements store.EmailTemplates.
func (s *Store) GetEmailTemplate(ctx context.Context, k store.TemplateKey) (*store.EmailTemplate, error) {
	t := new(store.EmailTemplate)
	if err := getRow(ctx, s.pool, "email_templates", k, "", t); err != nil {
		return nil, err
	}
	return t, nil
}

// UpdateEmailTemplate implements store.EmailTemplates.
func (s *Store) UpdateEmailTemplate(ctx context.Context, t *store.EmailTemplate) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		cur := new(store.EmailTemplate)
		if err := getRow(ctx, tx, "email_templates", t.TemplateKey, " FOR UPDATE", cur); err != nil {
			return err
		}
		c := *t
		c.Created = cur.Created
		return putRow(ctx, tx, "email_templates", t.TemplateKey, &c)
	})
}

// DeleteEmailTemplate implements store.EmailTemplates.
func (s *Store) DeleteEmailTemplate(ctx context.Context, k store.TemplateKey) (bool, error) {
	return deleteRow(ctx, s.pool, "email_templates", k)
}

// ListEmailTemplates implements store.EmailTemplates.
func (s *Store) ListEmailTemplates(ctx context.Context, account, region, after string, limit int) ([]*store.EmailTemplate, error) {
	return listRows[store.EmailTemplate](ctx, s.pool, "email_templates", account, region, after, limit)
}

// GetSendingState implements store.SendingStates.
func (s *Store) GetSendingState(ctx context.Context, account, region string) (*store.SendingState, error) {
	return getSendingState(ctx, s.pool, account, region)
}

// UpdateSendingState implements store.SendingStates. The state may not
// have a row yet, so the lock is an advisory one on the account and region.
func (s *Store) UpdateSendingState(ctx context.Context, account, region string, fn func(st *store.SendingState) error) (*store.SendingState, error) {
	var out *store.SendingState
	err := s.write(ctx, func(tx pgx.Tx) error {
		if err := lock(ctx, tx, classSending, account, region); err != nil {
			return err
		}
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
		if _, err := tx.Exec(ctx, `INSERT INTO sending_states (account, region, data) VALUES ($1, $2, $3)
			ON CONFLICT (account, region) DO UPDATE SET data = excluded.data`, account, region, data); err != nil {
			return err
		}
		out = st
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func getSendingState(ctx context.Context, q queryer, account, region string) (*store.SendingState, error) {
	st := &store.SendingState{Account: account, Region: region}
	var data []byte
	err := q.QueryRow(ctx, `SELECT data FROM sending_states WHERE account = $1 AND region = $2`, account, region).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return nil, err
	}
	return st, json.Unmarshal(data, st)
}

// SentVolume implements store.Sending.
func (s *Store) SentVolume(ctx context.Context, account, region string, since time.Time) ([]store.Volume, error) {
	rows, err := s.pool.Query(ctx, `SELECT created, recipients FROM mail_messages WHERE kind = 'sent' AND account = $1 AND region = $2 AND created > $3
		ORDER BY created, seq`, account, region, since.UnixNano())
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
	q := `UPDATE mail_messages SET hidden = true WHERE kind = 'sent' AND account = $1 AND NOT hidden`
	args := []any{account}
	if id != "" {
		q += ` AND id = $2`
		args = append(args, id)
	}
	tag, err := s.pool.Exec(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}
