package postgres

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame/sesame/internal/pgtest"
	"github.com/sesame/sesame/internal/store"
	"github.com/sesame/sesame/internal/store/storetest"
)

func open(t testing.TB, url string) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestStore runs the store suite, the one the SQLite store passes, on a
// database of its own for each test.
func TestStore(t *testing.T) {
	srv := pgtest.Start(t)
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, srv.NewDatabase(t)) })
}

// TestCachedStore: the suite through the cache, as `sesame serve` uses it.
func TestCachedStore(t *testing.T) {
	srv := pgtest.Start(t)
	storetest.Run(t, func(t *testing.T) store.Store { return store.NewCache(open(t, srv.NewDatabase(t)), 1000) })
}

// TestConcurrentMigrations: replicas started at once on an empty database
// all open it, and the schema is made once.
func TestConcurrentMigrations(t *testing.T) {
	srv := pgtest.Start(t)
	url := srv.NewDatabase(t)
	var wg sync.WaitGroup
	stores := make([]*Store, 6)
	errs := make([]error, len(stores))
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = Open(context.Background(), url) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	var v, rows int
	if err := stores[0].pool.QueryRow(context.Background(), `SELECT max(version), count(*) FROM schema_version`).Scan(&v, &rows); err != nil {
		t.Fatal(err)
	}
	if v != SchemaVersion || rows != 1 {
		t.Errorf("schema_version holds %d rows, version %d; want one row, %d", rows, v, SchemaVersion)
	}
	// Opened again, a current schema is left as it is.
	s := open(t, url)
	if _, err := s.Generation(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestNewerSchema: a binary older than the database refuses it rather
// than writing to a schema it does not know.
func TestNewerSchema(t *testing.T) {
	srv := pgtest.Start(t)
	url := srv.NewDatabase(t)
	s := open(t, url)
	if _, err := s.pool.Exec(context.Background(), `UPDATE schema_version SET version = version + 1`); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), url)
	if err == nil || !strings.Contains(err.Error(), "upgrade sesame") {
		t.Fatalf("Open of a newer schema: %v, want an error that says to upgrade", err)
	}
}
