package postgres

import (
	"context"
	"errors"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/store"
)

// GetIdentity implements store.Identities.
func (s *Store) GetIdentity(ctx context.Context, k identity.Key) (*identity.Identity, error) {
	return getIdentity(ctx, s.pool, k, "")
}

// getIdentity reads one identity; suffix is appended to the query (FOR
// UPDATE).
const selectIdentity = `SELECT data, next_check FROM identities WHERE account = $1 AND region = $2 AND name = $3`

func getIdentity(ctx context.Context, q queryer, k identity.Key, suffix string) (*identity.Identity, error) {
	var data []byte
	var next *int64
	err := q.QueryRow(ctx, selectIdentity+suffix,
		k.Account, k.Region, k.Name).Scan(&data, &next)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return decode(data, next)
}

// GetIdentities implements store.Identities.
func (s *Store) GetIdentities(ctx context.Context, account, region string, names []string) (map[string]*identity.Identity, error) {
	out := make(map[string]*identity.Identity, len(names))
	if len(names) == 0 {
		return out, nil
	}
	if len(names) == 1 { // the primary key's plan, whatever the statistics
		id, err := s.GetIdentity(ctx, identity.Key{Account: account, Region: region, Name: names[0]})
		if errors.Is(err, store.ErrNotFound) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out[id.Name] = id
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT data, next_check FROM identities WHERE account = $1 AND region = $2 AND name = ANY($3)`,
		account, region, names)
	if err != nil {
		return nil, err
	}
	ids, err := scan(rows)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		out[id.Name] = id
	}
	return out, nil
}

// lockIdentitySQL serialises the read-modify-writes of one identity, which
// may not exist yet: it locks the identity's row FOR UPDATE where there is
// one, and only where there is none takes the identity's advisory lock (a
// row that does not exist cannot be locked). Either way it holds one of
// the two locks every writer of the identity takes before reading it (a
// deletion both), so a read of the identity after it (a statement of its
// own, whose snapshot is taken once the lock is held) reads the last
// committed write and no other transaction writes it until this one ends:
// a row that was there is locked and cannot go; a row that was not is
// created only by a writer holding the advisory lock. A row deleted while
// this waits for its lock is gone when the wait ends, and the advisory lock
// is taken instead. Its arguments are lockArgs.
const lockIdentitySQL = `SELECT pg_advisory_xact_lock($1, $2) WHERE NOT EXISTS
	(SELECT FROM identities WHERE account = $3 AND region = $4 AND name = $5 FOR UPDATE)`

func lockArgs(k identity.Key) []any {
	return []any{classIdentity, lockHash(k.Account, k.Region, k.Name), k.Account, k.Region, k.Name}
}

// UpdateIdentity implements store.Identities in two round trips
// (pipelined): BEGIN, the lock (lockIdentitySQL) and the read FOR UPDATE;
// then the upsert, the notification and COMMIT. The read is FOR UPDATE
// too, so that a row that appeared after the lock took the advisory one
// (Import writes without it) is locked as well.
func (s *Store) UpdateIdentity(ctx context.Context, k identity.Key, fn func(cur *identity.Identity) (*identity.Identity, error)) (*identity.Identity, error) {
	var out *identity.Identity
	err := s.pipelined(ctx, func(p *pipe) (*pgx.Batch, error) {
		// FOR UPDATE keeps a claim (ClaimDue) too from leasing what this
		// transaction is rewriting: it skips the row.
		b := new(pgx.Batch)
		b.Queue(lockIdentitySQL, lockArgs(k)...)
		b.Queue(selectIdentity+" FOR UPDATE", k.Account, k.Region, k.Name)
		cur, err := lockedIdentity(p.send(ctx, b))
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		next, err := fn(cur)
		if err != nil {
			return nil, err
		}
		if next == nil {
			out = cur
			return nil, nil
		}
		next.Key = k
		out = next
		args, err := identityArgs(next)
		if err != nil {
			return nil, err
		}
		payloads, err := identityPayloads([]identity.Key{k})
		if err != nil {
			return nil, err
		}
		b = new(pgx.Batch)
		b.Queue(upsertIdentity, args...)
		for _, pl := range payloads {
			b.Queue(notifySQL, identityChannel, pl)
		}
		return b, nil
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, store.ErrNotFound
	}
	return out, nil
}

// lockedIdentity reads the results of UpdateIdentity's first batch: the
// lock's, then the identity (store.ErrNotFound when there is none).
func lockedIdentity(br pgx.BatchResults) (*identity.Identity, error) {
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, err
	}
	var data []byte
	var next *int64
	err := br.QueryRow().Scan(&data, &next)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := br.Close(); err != nil {
		return nil, err
	}
	return decode(data, next)
}

// Import implements store.Identities. A bulk load is followed by ANALYZE,
// as PostgreSQL's manual advises: until autovacuum gets to it, the planner
// would take the identities of one account and region for one row, and
// read all of them to find one by name (2 ms a lookup among 10,000).
func (s *Store) Import(ctx context.Context, ids []*identity.Identity) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		b := new(pgx.Batch)
		for _, id := range ids {
			if err := queueIdentity(b, id); err != nil {
				return err
			}
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		if len(ids) >= 1000 { // a bulk load: caches start again
			_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, identityChannel, allIdentities)
			return err
		}
		keys := make([]identity.Key, len(ids))
		for i, id := range ids {
			keys[i] = id.Key
		}
		return notifyIdentities(ctx, tx, keys)
	})
	if err != nil || len(ids) < 1000 {
		return err
	}
	_, err = s.pool.Exec(ctx, `ANALYZE identities`)
	return err
}

const upsertIdentity = `INSERT INTO identities (account, region, name, kind, status, next_check, data)
	VALUES ($1, $2, $3, $4, $5, $6, $7)
	ON CONFLICT (account, region, name) DO UPDATE SET
	kind = excluded.kind, status = excluded.status, next_check = excluded.next_check, data = excluded.data`

func identityArgs(id *identity.Identity) ([]any, error) {
	data, err := json.Marshal(id)
	if err != nil {
		return nil, err
	}
	var due *int64
	if !id.Next.IsZero() {
		n := id.Next.UnixNano()
		due = &n
	}
	return []any{id.Account, id.Region, id.Name, int(id.Kind), string(id.Status()), due, data}, nil
}

func queueIdentity(b *pgx.Batch, id *identity.Identity) error {
	args, err := identityArgs(id)
	if err != nil {
		return err
	}
	b.Queue(upsertIdentity, args...)
	return nil
}

// DeleteIdentity implements store.Identities; the identity's checks go
// with it. Its statements are known in advance: BEGIN, the lock, the two
// deletions, the notification and COMMIT go in one round trip.
func (s *Store) DeleteIdentity(ctx context.Context, k identity.Key) (bool, error) {
	var n int64
	err := s.pipelined(ctx, func(p *pipe) (*pgx.Batch, error) {
		payloads, err := identityPayloads([]identity.Key{k})
		if err != nil {
			return nil, err
		}
		b := new(pgx.Batch)
		b.Queue(lockIdentitySQL, lockArgs(k)...)
		b.Queue(`DELETE FROM identities WHERE account = $1 AND region = $2 AND name = $3`, k.Account, k.Region, k.Name).
			Exec(func(tag pgconn.CommandTag) error {
				n = tag.RowsAffected()
				return nil
			})
		b.Queue(`DELETE FROM checks WHERE account = $1 AND region = $2 AND name = $3`, k.Account, k.Region, k.Name)
		for _, pl := range payloads {
			b.Queue(notifySQL, identityChannel, pl)
		}
		return b, nil
	})
	return n > 0, err
}

// ListIdentities implements store.Identities.
func (s *Store) ListIdentities(ctx context.Context, q store.ListQuery) ([]*identity.Identity, error) {
	query := `SELECT data, next_check FROM identities WHERE account = $1 AND region = $2 AND name > $3`
	args := []any{q.Account, q.Region, q.After}
	if q.Kind != 0 {
		query += ` AND kind = $5`
		args = append(args, q.Limit, int(q.Kind))
	} else {
		args = append(args, q.Limit)
	}
	query += ` ORDER BY name LIMIT $4`
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return scan(rows)
}

// CountAccountIdentities implements store.Identities.
func (s *Store) CountAccountIdentities(ctx context.Context, account, region string) (int, error) {
	var n int
	var err error
	if region == "" {
		err = s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM identities WHERE account = $1`, account).Scan(&n)
	} else {
		err = s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM identities WHERE account = $1 AND region = $2`, account, region).Scan(&n)
	}
	return n, err
}

// CountIdentities implements store.Identities.
func (s *Store) CountIdentities(ctx context.Context) ([]store.Count, error) {
	rows, err := s.pool.Query(ctx, `SELECT kind, status, COUNT(*) FROM identities GROUP BY kind, status ORDER BY kind, status`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Count
	for rows.Next() {
		var c store.Count
		var kind int
		var status string
		if err := rows.Scan(&kind, &status, &c.N); err != nil {
			return nil, err
		}
		c.Kind, c.Status = names.Kind(kind), identity.Status(status)
		out = append(out, c)
	}
	return out, rows.Err()
}

// DueIdentities implements store.Identities.
func (s *Store) DueIdentities(ctx context.Context, now time.Time, limit int) ([]*identity.Identity, error) {
	rows, err := s.pool.Query(ctx, `SELECT data, next_check FROM identities WHERE next_check IS NOT NULL AND next_check <= $1
		ORDER BY next_check LIMIT $2`, now.UnixNano(), limit)
	if err != nil {
		return nil, err
	}
	return scan(rows)
}

func scan(rows pgx.Rows) ([]*identity.Identity, error) {
	defer rows.Close()
	var out []*identity.Identity
	for rows.Next() {
		var data []byte
		var next *int64
		if err := rows.Scan(&data, &next); err != nil {
			return nil, err
		}
		id, err := decode(data, next)
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// decode decodes an identity row: data, and next_check, which is the
// identity's Next. The Next in data is the one of the last write of the
// whole row: a claim sets next_check alone (see ClaimDue).
func decode(data []byte, next *int64) (*identity.Identity, error) {
	id := new(identity.Identity)
	if err := json.Unmarshal(data, id); err != nil {
		return nil, err
	}
	setNext(id, next)
	return id, nil
}

// setNext sets id.Next from a next_check value, keeping the decoded one
// (and its location) when it is the same instant.
func setNext(id *identity.Identity, next *int64) {
	if next == nil {
		id.Next = time.Time{}
	} else if id.Next.UnixNano() != *next || id.Next.IsZero() {
		id.Next = time.Unix(0, *next).UTC()
	}
}
