package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sesame/sesame/internal/store"
)

func bumpGeneration(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `UPDATE meta SET value = value + 1 WHERE key = 'accounts_generation'`)
	return err
}

// CreateAccount implements store.Accounts.
func (s *Store) CreateAccount(ctx context.Context, a store.Account, k store.AccessKey) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO accounts (id, name, created) VALUES ($1, $2, $3)`, a.ID, a.Name, a.Created.UnixNano())
		if isUnique(err) {
			return fmt.Errorf("account %q: %w", a.Name, store.ErrExists)
		}
		if err != nil {
			return err
		}
		if err := insertKey(ctx, tx, k); err != nil {
			return err
		}
		return bumpGeneration(ctx, tx)
	})
}

func insertKey(ctx context.Context, tx pgx.Tx, k store.AccessKey) error {
	_, err := tx.Exec(ctx, `INSERT INTO access_keys (id, account, sealed, created) VALUES ($1, $2, $3, $4)`,
		k.ID, k.Account, k.SealedSecret, k.Created.UnixNano())
	if isUnique(err) {
		return fmt.Errorf("access key %q: %w", k.ID, store.ErrExists)
	}
	return err
}

// GetAccount implements store.Accounts.
func (s *Store) GetAccount(ctx context.Context, id string) (*store.Account, error) {
	var a store.Account
	var created int64
	err := s.pool.QueryRow(ctx, `SELECT id, name, created FROM accounts WHERE id = $1 OR name = $1 ORDER BY id = $1 DESC LIMIT 1`, id).
		Scan(&a.ID, &a.Name, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	a.Created = time.Unix(0, created).UTC()
	return &a, nil
}

// ListAccounts implements store.Accounts.
func (s *Store) ListAccounts(ctx context.Context) ([]store.Account, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name, created FROM accounts ORDER BY created, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Account
	for rows.Next() {
		var a store.Account
		var created int64
		if err := rows.Scan(&a.ID, &a.Name, &created); err != nil {
			return nil, err
		}
		a.Created = time.Unix(0, created).UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}

// AddKey implements store.Accounts.
func (s *Store) AddKey(ctx context.Context, k store.AccessKey) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM accounts WHERE id = $1`, k.Account).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("account %q: %w", k.Account, store.ErrNotFound)
		}
		if err := insertKey(ctx, tx, k); err != nil {
			return err
		}
		return bumpGeneration(ctx, tx)
	})
}

// GetKey implements store.Accounts.
func (s *Store) GetKey(ctx context.Context, id string) (*store.AccessKey, error) {
	keys, err := s.keys(ctx, `SELECT id, account, sealed, created, revoked FROM access_keys WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, store.ErrNotFound
	}
	return &keys[0], nil
}

// ListKeys implements store.Accounts.
func (s *Store) ListKeys(ctx context.Context, account string) ([]store.AccessKey, error) {
	return s.keys(ctx, `SELECT id, account, sealed, created, revoked FROM access_keys WHERE account = $1 ORDER BY created, id`, account)
}

func (s *Store) keys(ctx context.Context, query string, args ...any) ([]store.AccessKey, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.AccessKey
	for rows.Next() {
		var k store.AccessKey
		var created int64
		var revoked *int64
		if err := rows.Scan(&k.ID, &k.Account, &k.SealedSecret, &created, &revoked); err != nil {
			return nil, err
		}
		k.Created = time.Unix(0, created).UTC()
		if revoked != nil {
			k.Revoked = time.Unix(0, *revoked).UTC()
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeKey implements store.Accounts.
func (s *Store) RevokeKey(ctx context.Context, id string, at time.Time) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE access_keys SET revoked = COALESCE(revoked, $1) WHERE id = $2`, at.UnixNano(), id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("access key %q: %w", id, store.ErrNotFound)
		}
		return bumpGeneration(ctx, tx)
	})
}

// Generation implements store.Accounts.
func (s *Store) Generation(ctx context.Context) (int64, error) {
	var g int64
	err := s.pool.QueryRow(ctx, `SELECT value FROM meta WHERE key = 'accounts_generation'`).Scan(&g)
	return g, err
}
