package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// Console sessions signed out before their expiry, so that a copied cookie
// is dead at once and stays dead across a restart. They are rows of the
// meta table, keyed by signoutPrefix and the session's ID, valued by its
// expiry (Unix seconds): a few dozen bytes each, kept only while the cookie
// could still be valid, and no schema change.
const (
	signoutPrefix = "console_signout:"
	signoutEnd    = "console_signout;" // the next key after every prefixed one (':' + 1)
)

// RevokeSession implements store.Sessions: the record goes once expires has
// passed, with the cookie's own validity. Expired records are dropped here,
// so they never pile up.
func (s *Store) RevokeSession(ctx context.Context, id string, expires time.Time) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM meta WHERE key >= ? AND key < ? AND value < ?`,
			signoutPrefix, signoutEnd, time.Now().Unix()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)`, signoutPrefix+id, expires.Unix())
		return err
	})
}

// SessionRevoked implements store.Sessions.
func (s *Store) SessionRevoked(ctx context.Context, id string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM meta WHERE key = ?`, signoutPrefix+id).Scan(&n)
	return n > 0, err
}
