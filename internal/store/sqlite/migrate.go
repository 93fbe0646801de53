package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are applied in order; the schema version is PRAGMA
// user_version, the number of migrations applied. Never edit one that has
// shipped: append a new one.
var migrations = []string{
	// 1: identities, accounts and keys.
	`CREATE TABLE identities (
		account    TEXT    NOT NULL,
		region     TEXT    NOT NULL,
		name       TEXT    NOT NULL,
		kind       INTEGER NOT NULL,
		status     TEXT    NOT NULL,
		next_check INTEGER,          -- unix nanoseconds; NULL when nothing is checked
		data       BLOB    NOT NULL, -- the identity as JSON
		PRIMARY KEY (account, region, name)
	) WITHOUT ROWID;
	CREATE INDEX identities_next ON identities(next_check) WHERE next_check IS NOT NULL;
	CREATE INDEX identities_kind ON identities(account, region, kind, name);
	CREATE TABLE accounts (
		id      TEXT PRIMARY KEY,
		name    TEXT NOT NULL UNIQUE,
		created INTEGER NOT NULL
	);
	CREATE TABLE access_keys (
		id      TEXT PRIMARY KEY,
		account TEXT NOT NULL REFERENCES accounts(id),
		sealed  BLOB NOT NULL,
		created INTEGER NOT NULL,
		revoked INTEGER
	);
	CREATE INDEX access_keys_account ON access_keys(account);
	CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
	INSERT INTO meta VALUES ('accounts_generation', 0);`,
}

// SchemaVersion is the version this binary writes.
var SchemaVersion = len(migrations)

func (s *Store) migrate(ctx context.Context) error {
	var v int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	if v > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this binary's %d: upgrade sesame", v, len(migrations))
	}
	for ; v < len(migrations); v++ {
		err := s.write(ctx, func(tx *sql.Tx) error {
			// Another process may have migrated since we looked.
			var cur int
			if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&cur); err != nil || cur > v {
				return err
			}
			if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1))
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %d: %w", v+1, err)
		}
	}
	return nil
}
