package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sesame/sesame/internal/identity"
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

// TestNotifyIdentities: a write of many identities is told in several
// notifications, each under PostgreSQL's limit, that name every key once.
func TestNotifyIdentities(t *testing.T) {
	ctx := context.Background()
	srv := pgtest.Start(t)
	url := srv.NewDatabase(t)
	s := open(t, url)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "LISTEN "+identityChannel); err != nil {
		t.Fatal(err)
	}
	var keys []identity.Key
	for i := range 500 {
		keys = append(keys, identity.Key{Account: "111111111111", Region: "us-east-1", Name: fmt.Sprintf("d%03d.example.com", i)})
	}
	if err := s.write(ctx, func(tx pgx.Tx) error { return notifyIdentities(ctx, tx, keys) }); err != nil {
		t.Fatal(err)
	}
	seen := map[identity.Key]int{}
	notes := 0
	for len(seen) < len(keys) {
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if err != nil {
			t.Fatalf("after %d notifications, %d keys: %v", notes, len(seen), err)
		}
		notes++
		if len(n.Payload) > maxPayload {
			t.Errorf("payload of %d bytes", len(n.Payload))
		}
		var l [][3]string
		if err := json.Unmarshal([]byte(n.Payload), &l); err != nil {
			t.Fatalf("payload %q: %v", n.Payload, err)
		}
		for _, k := range l {
			seen[identity.Key{Account: k[0], Region: k[1], Name: k[2]}]++
		}
	}
	if notes < 2 {
		t.Errorf("%d notifications for 500 keys, want several", notes)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%v named %d times", k, n)
		}
	}
}

// TestReplicasCount: stores that watch one database hear each other's
// heartbeats, and count each other within a few seconds; one that stops
// is no longer counted.
func TestReplicasCount(t *testing.T) {
	srv := pgtest.Start(t)
	url := srv.NewDatabase(t)
	stores := []*Store{open(t, url), open(t, url), open(t, url)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stops := make([]context.CancelFunc, len(stores))
	var wg sync.WaitGroup
	for i, s := range stores {
		wctx, stop := context.WithCancel(ctx)
		stops[i] = stop
		c := store.NewCache(s, 10)
		wg.Go(func() { s.Watch(wctx, c) })
	}
	defer wg.Wait()
	defer cancel()
	wait := func(want int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for stores[0].Replicas() != want {
			if time.Now().After(deadline) {
				t.Fatalf("%d replicas counted, want %d", stores[0].Replicas(), want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	wait(3)
	stops[2]()
	wait(2)
}

// BenchmarkUpdateIdentity: a read-modify-write of an existing identity
// (a new verification window, as VerifyDomainIdentity writes), from
// parallel goroutines, with a replica's listener hearing the
// notifications. cpu-µs/op is this process's CPU and the database's
// (pgtest.Server.CPU), db-µs/op the database's alone.
func BenchmarkUpdateIdentity(b *testing.B) {
	ctx := context.Background()
	srv := pgtest.Start(b)
	s := open(b, srv.NewDatabase(b))
	const n = 1000
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	ids := make([]*identity.Identity, n)
	for i := range ids {
		ids[i] = &identity.Identity{Key: identity.Key{Account: "111111111111", Region: "us-east-1", Name: fmt.Sprintf("d%04d.example.com", i)},
			Created: t0, Token: identity.NewVerificationToken()}
		ids[i].Verification.Start(t0)
	}
	if err := s.Import(ctx, ids); err != nil {
		b.Fatal(err)
	}
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	wg.Go(func() { s.Watch(wctx, store.NewCache(s, n)) })
	var next atomic.Int64
	var ru0 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	db0 := srv.CPU()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			k := ids[i%n].Key
			_, err := s.UpdateIdentity(ctx, k, func(cur *identity.Identity) (*identity.Identity, error) {
				cur.Verification.Start(t0.Add(time.Duration(i) * time.Second))
				return cur, nil
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	var ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	db := srv.CPU() - db0
	cpu := time.Duration(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano()) + db
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
	b.ReportMetric(float64(db.Microseconds())/float64(b.N), "db-µs/op")
}

// TestLockIdentity: the lock of an identity's read-modify-write is its
// row's where the row exists (the advisory lock left free, so that writes
// of existing identities never wait on each other's hashes), and the
// advisory lock where it does not.
func TestLockIdentity(t *testing.T) {
	ctx := context.Background()
	srv := pgtest.Start(t)
	s := open(t, srv.NewDatabase(t))
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	there := identity.Key{Account: "111111111111", Region: "us-east-1", Name: "there.example.com"}
	if err := s.Import(ctx, []*identity.Identity{{Key: there, Created: t0, Token: identity.NewVerificationToken()}}); err != nil {
		t.Fatal(err)
	}
	missing := identity.Key{Account: "111111111111", Region: "us-east-1", Name: "missing.example.com"}
	for _, c := range []struct {
		k               identity.Key
		rowLocked, lock bool
	}{{there, true, false}, {missing, false, true}} {
		holder, err := s.pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := holder.Exec(ctx, lockIdentitySQL, lockArgs(c.k)...); err != nil {
			t.Fatal(err)
		}
		other, err := s.pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = other.Exec(ctx, selectIdentity+" FOR UPDATE NOWAIT", c.k.Account, c.k.Region, c.k.Name)
		var pe *pgconn.PgError
		if locked := errors.As(err, &pe) && pe.Code == "55P03"; locked != c.rowLocked {
			t.Errorf("%s: another transaction's FOR UPDATE NOWAIT: %v; want the row locked: %v", c.k.Name, err, c.rowLocked)
		}
		other.Rollback(ctx)
		if other, err = s.pool.Begin(ctx); err != nil {
			t.Fatal(err)
		}
		var free bool
		if err := other.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1, $2)`, classIdentity, lockHash(c.k.Account, c.k.Region, c.k.Name)).Scan(&free); err != nil {
			t.Fatal(err)
		}
		if free == c.lock {
			t.Errorf("%s: advisory lock free to another transaction: %v; want it held: %v", c.k.Name, free, c.lock)
		}
		other.Rollback(ctx)
		holder.Rollback(ctx)
	}
}
