package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/sesame/sesame/internal/store"
)

// CreateConfigSet implements store.ConfigSets.
func (s *Store) CreateConfigSet(ctx context.Context, c *store.ConfigSet, limit func(inRegion int) error) error {
	return createRow(ctx, s, "config_sets", c.ConfigSetKey, c, "configuration set", limit)
}

// GetConfigSet implements store.ConfigSets.
func (s *Store) GetConfigSet(ctx context.Context, k store.ConfigSetKey) (*store.ConfigSet, error) {
	c := new(store.ConfigSet)
	if err := getRow(ctx, s.pool, "config_sets", k, "", c); err != nil {
		return nil, err
	}
	return c, nil
}

// UpdateConfigSet implements store.ConfigSets.
func (s *Store) UpdateConfigSet(ctx context.Context, k store.ConfigSetKey, fn func(c *store.ConfigSet) error) (*store.ConfigSet, error) {
	var out *store.ConfigSet
	err := s.write(ctx, func(tx pgx.Tx) error {
		c := new(store.ConfigSet)
		if err := getRow(ctx, tx, "config_sets", k, " FOR UPDATE", c); err != nil {
			return err
		}
		if err := fn(c); err != nil {
			return err
		}
		c.ConfigSetKey = k
		out = c
		return putRow(ctx, tx, "config_sets", k, c)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteConfigSet implements store.ConfigSets.
func (s *Store) DeleteConfigSet(ctx context.Context, k store.ConfigSetKey) (bool, error) {
	return deleteRow(ctx, s.pool, "config_sets", k)
}

// ListConfigSets implements store.ConfigSets.
func (s *Store) ListConfigSets(ctx context.Context, account, region, after string, limit int) ([]*store.ConfigSet, error) {
	return listRows[store.ConfigSet](ctx, s.pool, "config_sets", account, region, after, limit)
}
