package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Console sessions signed out before their expiry are rows of the meta
// table, as in the SQLite store: keyed by signoutPrefix and the session's
// ID, valued by its expiry (Unix seconds), kept only while the cookie could
// still be valid. Every replica reads them, so a sign-out holds on all.
const (
	signoutPrefix = "console_signout:"
	signoutEnd    = "console_signout;" // the next key after every prefixed one (':' + 1)
)

// RevokeSession implements store.Sessions; expired records are dropped
// here, so they never pile up.
func (s *Store) RevokeSession(ctx context.Context, id string, expires time.Time) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM meta WHERE key >= $1 AND key < $2 AND value < $3`,
			signoutPrefix, signoutEnd, time.Now().Unix()); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
			signoutPrefix+id, expires.Unix())
		return err
	})
}

// SessionRevoked implements store.Sessions.
func (s *Store) SessionRevoked(ctx context.Context, id string) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM meta WHERE key = $1)`, signoutPrefix+id).Scan(&ok)
	return ok, err
}
