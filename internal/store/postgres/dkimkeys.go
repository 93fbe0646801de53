package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	json "github.com/go-json-experiment/json/v1"
	"github.com/jackc/pgx/v5"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/store"
)

// AddDKIMKeys implements store.DKIMKeys.
func (s *Store) AddDKIMKeys(ctx context.Context, keys []store.DKIMKey) error {
	return s.write(ctx, func(tx pgx.Tx) error {
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
	err := s.pool.QueryRow(ctx, `SELECT data FROM dkim_keys WHERE token = $1`, strings.ToLower(token)).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
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
	rows, err := s.pool.Query(ctx, listDKIMKeysSQL, k.Account, k.Region, k.Name)
	if err != nil {
		return nil, err
	}
	return scanDKIMKeys(rows)
}

const listDKIMKeysSQL = `SELECT data FROM dkim_keys WHERE account = $1 AND region = $2 AND name = $3 ORDER BY token`

// UpdateDKIMKeys implements store.DKIMKeys. The identity's advisory lock
// of its own class serialises two updates of one identity's keys (a
// rotation by the server and `sesame dkim rotate`, say).
func (s *Store) UpdateDKIMKeys(ctx context.Context, k identity.Key, fn func(cur []store.DKIMKey) ([]store.DKIMKey, error)) ([]store.DKIMKey, error) {
	var out []store.DKIMKey
	err := s.write(ctx, func(tx pgx.Tx) error {
		if err := lock(ctx, tx, classDKIMKeys, k.Account, k.Region, k.Name); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, listDKIMKeysSQL, k.Account, k.Region, k.Name)
		if err != nil {
			return err
		}
		cur, err := scanDKIMKeys(rows)
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
		if _, err := tx.Exec(ctx, `DELETE FROM dkim_keys WHERE account = $1 AND region = $2 AND name = $3`, k.Account, k.Region, k.Name); err != nil {
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
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT account, region, name FROM dkim_keys
		WHERE (account, region, name) > ($1, $2, $3) ORDER BY account, region, name LIMIT $4`,
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

// DKIMGeneration implements store.DKIMKeys: migration 3's trigger bumps it.
func (s *Store) DKIMGeneration(ctx context.Context) (int64, error) {
	var g int64
	err := s.pool.QueryRow(ctx, `SELECT value FROM meta WHERE key = 'dkim_generation'`).Scan(&g)
	return g, err
}

func scanDKIMKeys(rows pgx.Rows) ([]store.DKIMKey, error) {
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
func putDKIMKey(ctx context.Context, tx pgx.Tx, k *store.DKIMKey, replace bool) error {
	k.Token = strings.ToLower(k.Token)
	data, err := json.Marshal(k)
	if err != nil {
		return err
	}
	conflict := `DO NOTHING`
	if replace {
		conflict = `DO UPDATE SET account = excluded.account, region = excluded.region, name = excluded.name, data = excluded.data`
	}
	_, err = tx.Exec(ctx, `INSERT INTO dkim_keys (token, account, region, name, data) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (token) `+conflict, k.Token, k.Identity.Account, k.Identity.Region, k.Identity.Name, data)
	return err
}
