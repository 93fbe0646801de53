package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/sesame/sesame/internal/store"
)

// ClaimMessages implements store.Outbox: the due messages are read and
// leased in one immediate transaction, which holds the write lock, so no
// other process claims them in between, and a read that fails (the
// caller's context cancelled) leases nothing. A lease is written lazily:
// lost with the machine, its messages are due again after the restart,
// as they would be once it ran out.
func (s *Store) ClaimMessages(ctx context.Context, now, until time.Time, limit int) ([]*store.Message, error) {
	var out []*store.Message
	err := s.writeLazy(ctx, func(tx *sql.Tx) error {
		ms, err := readMessages(ctx, tx, `SELECT `+messageColumns+` FROM mail_messages
			WHERE status = 'queued' AND next_attempt <= ? ORDER BY next_attempt, rowid LIMIT ?`, now.UnixNano(), limit)
		if err != nil || len(ms) == 0 {
			return err
		}
		ids := make([]any, len(ms))
		for i, m := range ms {
			ids[i] = m.ID
			m.NextAttempt = until
		}
		if _, err := tx.ExecContext(ctx, `UPDATE mail_messages SET next_attempt = ? WHERE id IN (?`+strings.Repeat(",?", len(ids)-1)+`)`,
			append([]any{until.UnixNano()}, ids...)...); err != nil {
			return err
		}
		out = ms
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
