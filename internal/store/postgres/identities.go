package postgres

import (
	"context"
	"errors"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/jackc/pgx/v5"

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

// lockIdentity serialises the read-modify-writes of one identity, which
// may not exist yet (FOR UPDATE locks only rows that do).
func lockIdentity(ctx context.Context, tx pgx.Tx, k identity.Key) error {
	return lock(ctx, tx, classIdentity, k.Account, k.Region, k.Name)
}

// UpdateIdentity implements store.Identities. Its statements go in two
// pipelined batches (the lock and the read; the write and the
// notification): in a transaction they run one after the other as if sent
// one by one, the read after the lock is held, and a write costs the
// database two round trips fewer (a wake-up of its backend each).
func (s *Store) UpdateIdentity(ctx context.Context, k identity.Key, fn func(cur *identity.Identity) (*identity.Identity, error)) (*identity.Identity, error) {
	var out *identity.Identity
	err := s.write(ctx, func(tx pgx.Tx) error {
		// FOR UPDATE too: a claim (ClaimDue) skips the row rather than
		// leasing what this transaction is rewriting.
		b := new(pgx.Batch)
		b.Queue(lockSQL, classIdentity, lockHash(k.Account, k.Region, k.Name)) // lockIdentity's
		b.Queue(selectIdentity+" FOR UPDATE", k.Account, k.Region, k.Name)
		cur, err := lockedIdentity(tx.SendBatch(ctx, b))
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		next, err := fn(cur)
		if err != nil {
			return err
		}
		if next == nil {
			out = cur
			return nil
		}
		next.Key = k
		out = next
		args, err := identityArgs(next)
		if err != nil {
			return err
		}
		payloads, err := identityPayloads([]identity.Key{k})
		if err != nil {
			return err
		}
		b = new(pgx.Batch)
		b.Queue(upsertIdentity, args...)
		for _, p := range payloads {
			b.Queue(notifySQL, identityChannel, p)
		}
		return tx.SendBatch(ctx, b).Close()
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
// with it.
func (s *Store) DeleteIdentity(ctx context.Context, k identity.Key) (bool, error) {
	var n int64
	err := s.write(ctx, func(tx pgx.Tx) error {
		if err := lockIdentity(ctx, tx, k); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM identities WHERE account = $1 AND region = $2 AND name = $3`, k.Account, k.Region, k.Name)
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		if _, err = tx.Exec(ctx, `DELETE FROM checks WHERE account = $1 AND region = $2 AND name = $3`, k.Account, k.Region, k.Name); err != nil {
			return err
		}
		return notifyIdentities(ctx, tx, []identity.Key{k})
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
