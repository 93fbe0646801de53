package sqlite

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/sesame/sesame/internal/store"
)

// TestSnapshot: a Snapshot sees the database as at its first read, while
// another process (a second Store on the file, as a running server is)
// commits writes, which it does not wait for.
func TestSnapshot(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	reader, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	writer, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	add := func(id, name string) error {
		return writer.CreateAccount(ctx, store.Account{ID: id, Name: name, Created: time.Now()},
			store.AccessKey{ID: "AKIA" + id, Account: id, SealedSecret: []byte("x"), Created: time.Now()})
	}
	count := func(tx *sql.Tx) int {
		t.Helper()
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM accounts`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := add("111111111111", "a"); err != nil {
		t.Fatal(err)
	}
	err = reader.Snapshot(ctx, func(tx *sql.Tx) error {
		if n := count(tx); n != 1 {
			t.Errorf("first read: %d accounts, want 1", n)
		}
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- add("222222222222", "b") }() // must not wait for the snapshot to end
		select {
		case err := <-done:
			if err != nil {
				return err
			}
		case <-wctx.Done():
			t.Fatal("a write waited for the snapshot")
		}
		if n := count(tx); n != 1 {
			t.Errorf("after another process's write: %d accounts in the snapshot, want 1", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if accts, err := reader.ListAccounts(ctx); err != nil || len(accts) != 2 {
		t.Errorf("after the snapshot: %v %v; want two accounts", accts, err)
	}
}
