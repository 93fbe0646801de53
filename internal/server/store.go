package server

import (
	"context"
	"fmt"

	"github.com/sesame/sesame/internal/store"
	"github.com/sesame/sesame/internal/store/postgres"
	"github.com/sesame/sesame/internal/store/sqlite"
)

// OpenStore opens the store: the PostgreSQL database of databaseURL
// (--database-url) when it is set, else the SQLite database of the data
// directory. It is the one place that names a backend; the callers see only
// store.Store.
func OpenStore(ctx context.Context, data, databaseURL string) (store.Store, error) {
	if databaseURL != "" {
		if !postgres.IsURL(databaseURL) {
			return nil, fmt.Errorf("--database-url: want postgres://user:password@host:5432/database (PostgreSQL is the one database served besides the data directory's SQLite)")
		}
		st, err := postgres.Open(ctx, databaseURL)
		if err != nil {
			return nil, err
		}
		return st, nil
	}
	st, err := sqlite.Open(ctx, data)
	if err != nil {
		return nil, err // not a nil *sqlite.Store in a non-nil interface
	}
	return st, nil
}
