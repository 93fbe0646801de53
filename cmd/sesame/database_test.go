package main

import (
	"strings"
	"testing"

	"github.com/sesame/sesame/internal/pgtest"
)

// TestDatabaseURL: the commands that open the store open the PostgreSQL
// database of --database-url (or SESAME_DATABASE_URL) instead of the data
// directory's SQLite, and refuse a URL of another database.
func TestDatabaseURL(t *testing.T) {
	url := pgtest.Start(t).NewDatabase(t)
	data := t.TempDir()
	if _, errs, code := sesame(t, "", "accounts", "create", "ops", "--data", data, "--database-url", url); code != 0 {
		t.Fatalf("accounts create on PostgreSQL: exit status %d, %s", code, errs)
	}
	t.Setenv("SESAME_DATABASE_URL", url)
	out, errs, code := sesame(t, "", "accounts", "list", "--data", data)
	if code != 0 || !strings.Contains(out, "ops") {
		t.Errorf("accounts list with SESAME_DATABASE_URL: exit status %d, %q %s; want the account ops", code, out, errs)
	}
	if out, _, _ := sesame(t, "", "outbox", "--data", data); !strings.HasPrefix(out, "CREATED") {
		t.Errorf("outbox on PostgreSQL: %q", out)
	}
	// The data directory's SQLite was not used.
	t.Setenv("SESAME_DATABASE_URL", "")
	if out, _, code := sesame(t, "", "accounts", "list", "--data", data, "--database-url", ""); code != 0 || strings.Contains(out, "ops") {
		t.Errorf("accounts list on SQLite: exit status %d, %q; want no account ops", code, out)
	}
	_, errs, code = sesame(t, "", "accounts", "list", "--data", data, "--database-url", "mysql://root@localhost/sesame")
	if code == 0 || !strings.Contains(errs, "postgres://") {
		t.Errorf("a MySQL URL: exit status %d, %s; want a refusal that names postgres://", code, errs)
	}
}
