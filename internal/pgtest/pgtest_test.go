package pgtest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestStart: a cluster starts, takes a connection and a write, and stops.
func TestStart(t *testing.T) {
	s := Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE TABLE t (k text PRIMARY KEY, v int)"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "INSERT INTO t VALUES ($1, $2)", "a", 1); err != nil {
		t.Fatal(err)
	}
	var v int
	if err := conn.QueryRow(ctx, "SELECT v FROM t WHERE k = $1", "a").Scan(&v); err != nil || v != 1 {
		t.Fatalf("read back %d, %v", v, err)
	}
	var version string
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	t.Logf("PostgreSQL %s on port %d", version, s.Port)
}

// TestProgram: outside a test, Program starts a cluster, gives a database,
// and Close stops the cluster and removes its directory.
func TestProgram(t *testing.T) {
	Bin(t) // skip (or fail in CI) as the other tests do without PostgreSQL
	p := &Program{}
	s := Start(p)
	url := s.NewDatabase(p)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		p.Close()
		t.Fatal(err)
	}
	conn.Close(ctx)
	p.Close()
	if _, err := os.Stat(s.Dir); !os.IsNotExist(err) {
		t.Fatalf("after Close the data directory %s is still there: %v", s.Dir, err)
	}
	if err := s.WaitReady(0); err == nil {
		t.Fatal("after Close the server still accepts connections")
	}
}
