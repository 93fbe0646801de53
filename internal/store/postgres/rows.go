package postgres

import (
	"context"
	"errors"
	"fmt"

	json "github.com/go-json-experiment/json/v1"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sesame/sesame/internal/store"
)

// The tables of templates, email templates and configuration sets have one
// shape: (account, region, name) and the row as JSON. These helpers serve
// all three; table is always one of the constant names, never input.

// rowKey is store.TemplateKey or store.ConfigSetKey.
type rowKey interface {
	store.TemplateKey | store.ConfigSetKey
}

func keyParts[K rowKey](k K) (string, string, string) {
	switch k := any(k).(type) {
	case store.TemplateKey:
		return k.Account, k.Region, k.Name
	case store.ConfigSetKey:
		return k.Account, k.Region, k.Name
	}
	panic("unreachable")
}

// getRow decodes the row of k into v; store.ErrNotFound when there is none.
func getRow[K rowKey](ctx context.Context, q queryer, table string, k K, suffix string, v any) error {
	a, r, n := keyParts(k)
	var data []byte
	err := q.QueryRow(ctx, `SELECT data FROM `+table+` WHERE account = $1 AND region = $2 AND name = $3`+suffix, a, r, n).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

func putRow[K rowKey](ctx context.Context, tx pgx.Tx, table string, k K, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	a, r, n := keyParts(k)
	_, err = tx.Exec(ctx, `INSERT INTO `+table+` (account, region, name, data) VALUES ($1, $2, $3, $4)
		ON CONFLICT (account, region, name) DO UPDATE SET data = excluded.data`, a, r, n, data)
	return err
}

func deleteRow[K rowKey](ctx context.Context, pool *pgxpool.Pool, table string, k K) (bool, error) {
	a, r, n := keyParts(k)
	tag, err := pool.Exec(ctx, `DELETE FROM `+table+` WHERE account = $1 AND region = $2 AND name = $3`, a, r, n)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() > 0, nil
}

// createRow stores a new row under a lock on the account's rows of table,
// after checking that the name is free and that limit, given the account's
// count in the region, allows it.
func createRow[K rowKey](ctx context.Context, s *Store, table string, k K, v any, what string, limit func(inRegion int) error) error {
	a, r, n := keyParts(k)
	return s.write(ctx, func(tx pgx.Tx) error {
		if err := lock(ctx, tx, classAccountCounts, table, a); err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+table+` WHERE account = $1 AND region = $2 AND name = $3)`, a, r, n).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return errorf(what, n, store.ErrExists)
		}
		if limit != nil {
			var count int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM `+table+` WHERE account = $1 AND region = $2`, a, r).Scan(&count); err != nil {
				return err
			}
			if err := limit(count); err != nil {
				return err
			}
		}
		return putRow(ctx, tx, table, k, v)
	})
}

func listRows[T any](ctx context.Context, pool *pgxpool.Pool, table, account, region, after string, limit int) ([]*T, error) {
	rows, err := pool.Query(ctx, `SELECT data FROM `+table+` WHERE account = $1 AND region = $2 AND name > $3 ORDER BY name LIMIT $4`,
		account, region, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		v := new(T)
		if err := json.Unmarshal(data, v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func errorf(what, name string, err error) error {
	return fmt.Errorf("%s %q: %w", what, name, err)
}
