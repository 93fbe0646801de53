package store

import "context"

// SharedKeys is implemented by a store that several processes on several
// machines share (PostgreSQL). The server's secret keys live in files of
// each machine's data directory, never in the database; the store keeps a
// fingerprint of each, so that a replica started with another key (a
// forgotten copy, a new machine that made its own) is refused at start
// rather than failing to open sealed secrets, links and sessions later.
type SharedKeys interface {
	// KeyFingerprint stores fp as the fingerprint of the key called name
	// unless one is stored already, and returns the stored one.
	KeyFingerprint(ctx context.Context, name, fp string) (string, error)
}
