package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/store"
)

// GetIdentity implements store.Identities.
func (s *Store) GetIdentity(ctx context.Context, k identity.Key) (*identity.Identity, error) {
	return getIdentity(ctx, s.db, k)
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func getIdentity(ctx context.Context, q queryer, k identity.Key) (*identity.Identity, error) {
	var data []byte
	var next sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT data, next_check FROM identities WHERE account = ? AND region = ? AND name = ?`,
		k.Account, k.Region, k.Name).Scan(&data, &next)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return decode(data, next)
}

// GetIdentities implements store.Identities.
func (s *Store) GetIdentities(ctx context.Context, account, region string, names []string) (map[string]*identity.Identity, error) {
	out := make(map[string]*identity.Identity, len(names))
	if len(names) == 0 {
		return out, nil
	}
	if len(names) == 1 {
		id, err := s.GetIdentity(ctx, identity.Key{Account: account, Region: region, Name: names[0]})
		if errors.Is(err, store.ErrNotFound) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out[id.Name] = id
		return out, nil
	}
	args := make([]any, 0, len(names)+2)
	args = append(args, account, region)
	for _, n := range names {
		args = append(args, n)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT data, next_check FROM identities WHERE account = ? AND region = ? AND name IN (?`+
		strings.Repeat(",?", len(names)-1)+`)`, args...)
	if err != nil {
		return nil, err
	}
	ids, err := scan(rows)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		out[id.Name] = id
	}
	return out, nil
}

// UpdateIdentity implements store.Identities.
func (s *Store) UpdateIdentity(ctx context.Context, k identity.Key, fn func(cur *identity.Identity) (*identity.Identity, error)) (*identity.Identity, error) {
	var out *identity.Identity
	err := s.write(ctx, func(tx *sql.Tx) error {
		cur, err := getIdentity(ctx, tx, k)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		next, err := fn(cur)
		if err != nil {
			return err
		}
		if next == nil {
			out = cur
			return nil
		}
		next.Key = k
		out = next
		return putIdentity(ctx, tx, next)
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, store.ErrNotFound
	}
	return out, nil
}

// Import implements store.Identities.
func (s *Store) Import(ctx context.Context, ids []*identity.Identity) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			if err := putIdentity(ctx, tx, id); err != nil {
				return err
			}
		}
		return nil
	})
}

func putIdentity(ctx context.Context, tx *sql.Tx, id *identity.Identity) error {
	data, err := json.Marshal(id)
	if err != nil {
		return err
	}
	var due any
	if !id.Next.IsZero() {
		due = id.Next.UnixNano()
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO identities (account, region, name, kind, status, next_check, data)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (account, region, name) DO UPDATE SET
		kind = excluded.kind, status = excluded.status, next_check = excluded.next_check, data = excluded.data`,
		id.Account, id.Region, id.Name, int(id.Kind), string(id.Status()), due, data)
	return err
}

// DeleteIdentity implements store.Identities.
func (s *Store) DeleteIdentity(ctx context.Context, k identity.Key) (bool, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM identities WHERE account = ? AND region = ? AND name = ?`, k.Account, k.Region, k.Name)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n > 0, err
}

// ListIdentities implements store.Identities.
func (s *Store) ListIdentities(ctx context.Context, q store.ListQuery) ([]*identity.Identity, error) {
	query := `SELECT data, next_check FROM identities WHERE account = ? AND region = ? AND name > ?`
	args := []any{q.Account, q.Region, q.After}
	if q.Kind != 0 {
		query += ` AND kind = ?`
		args = append(args, int(q.Kind))
	}
	query += ` ORDER BY name LIMIT ?`
	args = append(args, q.Limit)
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return scan(rows)
}

// CountAccountIdentities implements store.Identities.
func (s *Store) CountAccountIdentities(ctx context.Context, account, region string) (int, error) {
	var n int
	var err error
	if region == "" {
		err = s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM identities WHERE account = ?`, account).Scan(&n)
	} else {
		err = s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM identities WHERE account = ? AND region = ?`, account, region).Scan(&n)
	}
	return n, err
}

// CountIdentities implements store.Identities.
func (s *Store) CountIdentities(ctx context.Context) ([]store.Count, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT kind, status, COUNT(*) FROM identities GROUP BY kind, status ORDER BY kind, status`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Count
	for rows.Next() {
		var c store.Count
		if err := rows.Scan(&c.Kind, &c.Status, &c.N); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// DueIdentities implements store.Identities.
func (s *Store) DueIdentities(ctx context.Context, now time.Time, limit int) ([]*identity.Identity, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT data, next_check FROM identities WHERE next_check IS NOT NULL AND next_check <= ?
		ORDER BY next_check LIMIT ?`, now.UnixNano(), limit)
	if err != nil {
		return nil, err
	}
	return scan(rows)
}

func scan(rows *sql.Rows) ([]*identity.Identity, error) {
	defer rows.Close()
	var out []*identity.Identity
	for rows.Next() {
		var data []byte
		var next sql.NullInt64
		if err := rows.Scan(&data, &next); err != nil {
			return nil, err
		}
		id, err := decode(data, next)
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// decode decodes an identity row: data, and next_check, which is the
// identity's Next. The Next in data is the one of the last write of the
// whole row: a claim sets next_check alone (see ClaimDue).
func decode(data []byte, next sql.NullInt64) (*identity.Identity, error) {
	id := new(identity.Identity)
	if err := json.Unmarshal(data, id); err != nil {
		return nil, err
	}
	setNext(id, next)
	return id, nil
}

// setNext sets id.Next from a next_check value.
func setNext(id *identity.Identity, next sql.NullInt64) {
	if !next.Valid {
		id.Next = time.Time{}
	} else if id.Next.UnixNano() != next.Int64 || id.Next.IsZero() {
		id.Next = time.Unix(0, next.Int64).UTC()
	}
}
