package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/store"
)

// AddDKIMKeys implements store.DKIMKeys.
func (s *Store) AddDKIMKeys(ctx context.Context, keys []store.DKIMKey) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		for i := range keys {
			if err := putDKIMKey(ctx, tx, &keys[i], false); err != nil {
				return err
			}
		}
		return nil
	})
}

// GetDKIMKey implements store.DKIMKeys.
func (s *Store) GetDKIMKey(ctx context.Context, token string) (*store.DKIMKey, error) {
	var data []byte
	err := s.db.QueryRowContext(ctx, `SELECT data FROM dkim_keys WHERE token = ?`, strings.ToLower(token)).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	k := new(store.DKIMKey)
	if err := json.Unmarshal(data, k); err != nil {
		return nil, fmt.Errorf("dkim key %s: %w", token, err)
	}
	return k, nil
}

// ListDKIMKeys implements store.DKIMKeys.
func (s *Store) ListDKIMKeys(ctx context.Context, k identity.Key) ([]store.DKIMKey, error) {
	return listDKIMKeys(ctx, s.db, k)
}

// UpdateDKIMKeys implements store.DKIMKeys.
func (s *Store) UpdateDKIMKeys(ctx context.Context, k identity.Key, fn func(cur []store.DKIMKey) ([]store.DKIMKey, error)) ([]store.DKIMKey, error) {
	var out []store.DKIMKey
	err := s.write(ctx, func(tx *sql.Tx) error {
		cur, err := listDKIMKeys(ctx, tx, k)
		if err != nil {
			return err
		}
		next, err := fn(slices.Clone(cur))
		if err != nil {
			return err
		}
		if next == nil {
			out = cur
			return nil
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM dkim_keys WHERE account = ? AND region = ? AND name = ?`, k.Account, k.Region, k.Name); err != nil {
			return err
		}
		for i := range next {
			next[i].Identity = k
			if err := putDKIMKey(ctx, tx, &next[i], true); err != nil {
				return err
			}
		}
		slices.SortFunc(next, func(a, b store.DKIMKey) int { return strings.Compare(a.Token, b.Token) })
		out = next
		return nil
	})
	return out, err
}

// DKIMIdentities implements store.DKIMKeys.
func (s *Store) DKIMIdentities(ctx context.Context, after identity.Key, limit int) ([]identity.Key, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT account, region, name FROM dkim_keys
		WHERE (account, region, name) > (?, ?, ?) ORDER BY account, region, name LIMIT ?`,
		after.Account, after.Region, after.Name, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []identity.Key
	for rows.Next() {
		var k identity.Key
		if err := rows.Scan(&k.Account, &k.Region, &k.Name); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// rowsQueryer is a *sql.DB or *sql.Tx.
type rowsQueryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// DKIMGeneration implements store.DKIMKeys: the triggers of migration 8
// bump it.
func (s *Store) DKIMGeneration(ctx context.Context) (int64, error) {
	var g int64
	err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'dkim_generation'`).Scan(&g)
	return g, err
}

func listDKIMKeys(ctx context.Context, q rowsQueryer, k identity.Key) ([]store.DKIMKey, error) {
	rows, err := q.QueryContext(ctx, `SELECT data FROM dkim_keys WHERE account = ? AND region = ? AND name = ? ORDER BY token`,
		k.Account, k.Region, k.Name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.DKIMKey
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		var key store.DKIMKey
		if err := json.Unmarshal(data, &key); err != nil {
			return nil, err
		}
		out = append(out, key)
	}
	return out, rows.Err()
}

// putDKIMKey stores k; a token already stored is replaced when replace is
// set, kept otherwise.
func putDKIMKey(ctx context.Context, tx *sql.Tx, k *store.DKIMKey, replace bool) error {
	k.Token = strings.ToLower(k.Token)
	data, err := json.Marshal(k)
	if err != nil {
		return err
	}
	conflict := `DO NOTHING`
	if replace {
		conflict = `DO UPDATE SET account = excluded.account, region = excluded.region, name = excluded.name, data = excluded.data`
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO dkim_keys (token, account, region, name, data) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (token) `+conflict, k.Token, k.Identity.Account, k.Identity.Region, k.Identity.Name, data)
	return err
}
