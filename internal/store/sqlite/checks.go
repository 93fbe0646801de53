package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/store"
)

// ClaimDue implements store.Checks.
func (s *Store) ClaimDue(ctx context.Context, now, until time.Time, limit int) ([]*identity.Identity, error) {
	var out []*identity.Identity
	err := s.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT data FROM identities WHERE next_check IS NOT NULL AND next_check <= ?
			ORDER BY next_check LIMIT ?`, now.UnixNano(), limit)
		if err != nil {
			return err
		}
		ids, err := scan(rows)
		if err != nil {
			return err
		}
		for _, id := range ids {
			id.Next = until
			if err := putIdentity(ctx, tx, id); err != nil {
				return err
			}
		}
		out = ids
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SaveChecks implements store.Checks: one transaction, so one sync to disk,
// for a whole batch of checks.
func (s *Store) SaveChecks(ctx context.Context, updates []store.CheckUpdate) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		// One INSERT of all the records of a check, prepared once per size:
		// a statement costs more than a row.
		inserts := map[int]*sql.Stmt{}
		defer func() {
			for _, st := range inserts {
				st.Close()
			}
		}()
		insert := func(n int) (*sql.Stmt, error) {
			if st := inserts[n]; st != nil {
				return st, nil
			}
			q := `INSERT INTO checks (account, region, name, at, data) VALUES (?, ?, ?, ?, ?)` + strings.Repeat(`, (?, ?, ?, ?, ?)`, n-1)
			st, err := tx.PrepareContext(ctx, q)
			inserts[n] = st
			return st, err
		}
		// Keep the last MaxChecks: delete below the MaxChecks-th newest.
		trim, err := tx.PrepareContext(ctx, `DELETE FROM checks WHERE account = ?1 AND region = ?2 AND name = ?3 AND seq <
			(SELECT seq FROM checks WHERE account = ?1 AND region = ?2 AND name = ?3 ORDER BY seq DESC LIMIT 1 OFFSET ?4)`)
		if err != nil {
			return err
		}
		defer trim.Close()
		for _, u := range updates {
			cur, err := getIdentity(ctx, tx, u.Key)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			next := u.Apply(cur)
			if next == nil {
				continue
			}
			next.Key = u.Key
			if err := putIdentity(ctx, tx, next); err != nil {
				return err
			}
			if len(u.Checks) == 0 {
				continue
			}
			k := u.Key
			args := make([]any, 0, 5*len(u.Checks))
			for _, c := range u.Checks {
				data, err := json.Marshal(c)
				if err != nil {
					return err
				}
				args = append(args, k.Account, k.Region, k.Name, c.At.UnixNano(), data)
			}
			ins, err := insert(len(u.Checks))
			if err != nil {
				return err
			}
			if _, err := ins.ExecContext(ctx, args...); err != nil {
				return err
			}
			if _, err := trim.ExecContext(ctx, k.Account, k.Region, k.Name, store.MaxChecks-1); err != nil {
				return err
			}
		}
		return nil
	})
}

// ListChecks implements store.Checks.
func (s *Store) ListChecks(ctx context.Context, k identity.Key, limit int) ([]store.CheckRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT data FROM checks WHERE account = ? AND region = ? AND name = ?
		ORDER BY seq DESC LIMIT ?`, k.Account, k.Region, k.Name, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.CheckRecord
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		var c store.CheckRecord
		if err := json.Unmarshal(data, &c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
