package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
)

// cached is the number of statements conn keeps.
func cached(t *testing.T, conn *sql.Conn) int {
	t.Helper()
	n := -1
	if err := conn.Raw(func(dc any) error {
		c, ok := dc.(*cachingConn)
		if !ok {
			return fmt.Errorf("connection is %T, not a cachingConn", dc)
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		n = len(c.stmts)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestStatementsKept: a query run again on a connection uses the
// statement kept from its first run; a script of several statements is
// not kept; the same query while the kept statement's rows are still
// open gets a statement of its own, and both read right.
func TestStatementsKept(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3)`); err != nil {
		t.Fatal(err)
	}
	base := cached(t, conn)
	const q = `SELECT x FROM t WHERE x >= ? ORDER BY x`
	read := func(rows *sql.Rows) (got []int) {
		for rows.Next() {
			var x int
			if err := rows.Scan(&x); err != nil {
				t.Fatal(err)
			}
			got = append(got, x)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return got
	}
	for i := 1; i <= 3; i++ {
		rows, err := conn.QueryContext(ctx, q, i)
		if err != nil {
			t.Fatal(err)
		}
		if got := read(rows); len(got) != 4-i || got[0] != i {
			t.Errorf("run %d: %v", i, got)
		}
		rows.Close()
		if _, err := conn.ExecContext(ctx, `UPDATE t SET x = x WHERE x = ?`, i); err != nil {
			t.Fatal(err)
		}
	}
	if n := cached(t, conn); n != base+2 {
		t.Errorf("%d statements kept after two queries run three times each, want %d", n, base+2)
	}

	// The same query inside its own open rows.
	outer, err := conn.QueryContext(ctx, q, 1)
	if err != nil {
		t.Fatal(err)
	}
	var pairs int
	for outer.Next() {
		var x int
		if err := outer.Scan(&x); err != nil {
			t.Fatal(err)
		}
		inner, err := conn.QueryContext(ctx, q, x)
		if err != nil {
			t.Fatal(err)
		}
		got := read(inner)
		inner.Close()
		if len(got) != 4-x || got[0] != x {
			t.Errorf("inner query from %d: %v", x, got)
		}
		pairs += len(got)
	}
	outer.Close()
	if pairs != 3+2+1 {
		t.Errorf("%d rows read by the inner queries, want 6", pairs)
	}
	if n := cached(t, conn); n != base+2 {
		t.Errorf("%d statements kept after the nested queries, want still %d", n, base+2)
	}
}

// BenchmarkQueryRow is a read by primary key, the kind of the send
// path's reads: with kept statements it is not parsed again each time.
func BenchmarkQueryRow(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT); INSERT INTO t VALUES ('a', 'b')`); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		var v string
		if err := s.db.QueryRowContext(ctx, `SELECT v FROM t WHERE k = ?`, "a").Scan(&v); err != nil {
			b.Fatal(err)
		}
	}
}
