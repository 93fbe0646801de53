package postgres

import "context"

// KeyFingerprint implements store.SharedKeys (table key_fingerprints,
// migration 2): the first replica to start writes each fingerprint, the
// others read it.
func (s *Store) KeyFingerprint(ctx context.Context, name, fp string) (string, error) {
	if _, err := s.pool.Exec(ctx, `INSERT INTO key_fingerprints (name, fingerprint) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, name, fp); err != nil {
		return "", err
	}
	var stored string
	err := s.pool.QueryRow(ctx, `SELECT fingerprint FROM key_fingerprints WHERE name = $1`, name).Scan(&stored)
	return stored, err
}
