package server

import (
	"context"

	"github.com/sesame/sesame/internal/store"
	"github.com/sesame/sesame/internal/store/sqlite"
)

// OpenStore opens the store of the data directory. It is the one place
// that names a backend: another (PostgreSQL) is chosen here, and the
// callers, which see only store.Store, do not change.
func OpenStore(ctx context.Context, data string) (store.Store, error) {
	st, err := sqlite.Open(ctx, data)
	if err != nil {
		return nil, err // not a nil *sqlite.Store in a non-nil interface
	}
	return st, nil
}
