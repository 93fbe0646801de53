package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sesame/sesame/internal/store"
)

// CreateConfigSet implements store.ConfigSets.
func (s *Store) CreateConfigSet(ctx context.Context, c *store.ConfigSet, limit func(inRegion int) error) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := getConfigSet(ctx, tx, c.ConfigSetKey); err == nil {
			return fmt.Errorf("configuration set %q: %w", c.Name, store.ErrExists)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if limit != nil {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM config_sets WHERE account = ? AND region = ?`, c.Account, c.Region).Scan(&n); err != nil {
				return err
			}
			if err := limit(n); err != nil {
				return err
			}
		}
		return putConfigSet(ctx, tx, c)
	})
}

// GetConfigSet implements store.ConfigSets.
func (s *Store) GetConfigSet(ctx context.Context, k store.ConfigSetKey) (*store.ConfigSet, error) {
	return getConfigSet(ctx, s.db, k)
}

// UpdateConfigSet implements store.ConfigSets.
func (s *Store) UpdateConfigSet(ctx context.Context, k store.ConfigSetKey, fn func(c *store.ConfigSet) error) (*store.ConfigSet, error) {
	var out *store.ConfigSet
	err := s.write(ctx, func(tx *sql.Tx) error {
		c, err := getConfigSet(ctx, tx, k)
		if err != nil {
			return err
		}
		if err := fn(c); err != nil {
			return err
		}
		c.ConfigSetKey = k
		out = c
		return putConfigSet(ctx, tx, c)
	})
	return out, err
}

// DeleteConfigSet implements store.ConfigSets.
func (s *Store) DeleteConfigSet(ctx context.Context, k store.ConfigSetKey) (bool, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM config_sets WHERE account = ? AND region = ? AND name = ?`, k.Account, k.Region, k.Name)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n > 0, err
}

// ListConfigSets implements store.ConfigSets.
func (s *Store) ListConfigSets(ctx context.Context, account, region, after string, limit int) ([]*store.ConfigSet, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT data FROM config_sets WHERE account = ? AND region = ? AND name > ? ORDER BY name LIMIT ?`,
		account, region, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*store.ConfigSet
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		c := new(store.ConfigSet)
		if err := json.Unmarshal(data, c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func getConfigSet(ctx context.Context, q queryer, k store.ConfigSetKey) (*store.ConfigSet, error) {
	var data []byte
	err := q.QueryRowContext(ctx, `SELECT data FROM config_sets WHERE account = ? AND region = ? AND name = ?`, k.Account, k.Region, k.Name).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	c := new(store.ConfigSet)
	if err := json.Unmarshal(data, c); err != nil {
		return nil, err
	}
	return c, nil
}

func putConfigSet(ctx context.Context, tx *sql.Tx, c *store.ConfigSet) error {
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO config_sets (account, region, name, data) VALUES (?, ?, ?, ?)
		ON CONFLICT (account, region, name) DO UPDATE SET data = excluded.data`, c.Account, c.Region, c.Name, data)
	return err
}
