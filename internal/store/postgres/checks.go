package postgres

import (
	"context"
	"slices"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/jackc/pgx/v5"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/store"
)

// ClaimDue implements store.Checks. Several replicas claim at once: FOR
// UPDATE SKIP LOCKED gives each the due rows no other transaction holds,
// and the lease (next_check = until) is set in the same statement, so no
// two replicas lease one identity. A replica killed mid-check leaves the
// lease to run out; the identity is then due again and another replica
// takes it. The lease is next_check alone: the row's data keeps the Next of
// its last write, which readers replace with next_check (decode).
func (s *Store) ClaimDue(ctx context.Context, now, until time.Time, limit int) ([]*identity.Identity, error) {
	type claimed struct {
		due int64
		id  *identity.Identity
	}
	var got []claimed
	err := s.write(ctx, func(tx pgx.Tx) error {
		got = got[:0]
		rows, err := tx.Query(ctx, `WITH due AS (
				SELECT account, region, name, next_check FROM identities
				WHERE next_check IS NOT NULL AND next_check <= $1
				ORDER BY next_check LIMIT $2 FOR UPDATE SKIP LOCKED)
			UPDATE identities i SET next_check = $3 FROM due
			WHERE i.account = due.account AND i.region = due.region AND i.name = due.name
			RETURNING due.next_check, i.data`, now.UnixNano(), limit, until.UnixNano())
		if err != nil {
			return err
		}
		defer rows.Close()
		lease := until.UnixNano()
		for rows.Next() {
			var c claimed
			var data []byte
			if err := rows.Scan(&c.due, &data); err != nil {
				return err
			}
			if c.id, err = decode(data, &lease); err != nil {
				return err
			}
			c.id.Next = until
			got = append(got, c)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		keys := make([]identity.Key, len(got))
		for i, c := range got {
			keys[i] = c.id.Key
		}
		return notifyIdentities(ctx, tx, keys)
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(got, func(a, b claimed) int { return int(min(max(a.due-b.due, -1), 1)) })
	out := make([]*identity.Identity, len(got))
	for i, c := range got {
		out[i] = c.id
	}
	return out, nil
}

// SaveChecks implements store.Checks: one transaction for a whole batch,
// and a few round trips for it. The records of one check of an identity are
// one row of checks, a JSON array, oldest first; total numbers the
// identity's records, so keeping the last store.MaxChecks deletes one range
// of the index.
func (s *Store) SaveChecks(ctx context.Context, updates []store.CheckUpdate) error {
	if len(updates) == 0 {
		return nil
	}
	accounts := make([]string, len(updates))
	regions := make([]string, len(updates))
	names := make([]string, len(updates))
	hashes := make([]int32, len(updates))
	for i, u := range updates {
		k := u.Key
		accounts[i], regions[i], names[i] = k.Account, k.Region, k.Name
		hashes[i] = lockHash(k.Account, k.Region, k.Name)
	}
	return s.write(ctx, func(tx pgx.Tx) error {
		if err := lockAll(ctx, tx, classIdentity, hashes); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT i.data, i.next_check,
			(SELECT max(total) FROM checks c WHERE c.account = i.account AND c.region = i.region AND c.name = i.name)
			FROM identities i JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(account, region, name)
			ON i.account = k.account AND i.region = k.region AND i.name = k.name
			FOR UPDATE OF i`, accounts, regions, names)
		if err != nil {
			return err
		}
		cur := make(map[identity.Key]*identity.Identity, len(updates))
		totals := make(map[identity.Key]int64, len(updates))
		for rows.Next() {
			var data []byte
			var next, total *int64
			if err := rows.Scan(&data, &next, &total); err != nil {
				rows.Close()
				return err
			}
			id, err := decode(data, next)
			if err != nil {
				rows.Close()
				return err
			}
			cur[id.Key] = id
			if total != nil {
				totals[id.Key] = *total
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		b := new(pgx.Batch)
		var changed []identity.Key
		for _, u := range updates {
			next := u.Apply(cur[u.Key])
			if next == nil {
				continue
			}
			k := u.Key
			changed = append(changed, k)
			next.Key = k
			if err := queueIdentity(b, next); err != nil {
				return err
			}
			// A key twice in a batch: the second update sees the first.
			cur[k] = next
			if len(u.Checks) == 0 {
				continue
			}
			recs, err := json.Marshal(u.Checks)
			if err != nil {
				return err
			}
			total := totals[k] + int64(len(u.Checks))
			totals[k] = total
			b.Queue(`INSERT INTO checks (account, region, name, at, total, data) VALUES ($1, $2, $3, $4, $5, $6)`,
				k.Account, k.Region, k.Name, u.Checks[0].At.UnixNano(), total, recs)
			if total > store.MaxChecks {
				// The rows holding only older records; the oldest row
				// kept may hold older ones too, which ListChecks leaves
				// out.
				b.Queue(`DELETE FROM checks WHERE account = $1 AND region = $2 AND name = $3 AND total <= $4`,
					k.Account, k.Region, k.Name, total-store.MaxChecks)
			}
		}
		if b.Len() == 0 {
			return nil
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		return notifyIdentities(ctx, tx, changed)
	})
}

// ListChecks implements store.Checks.
func (s *Store) ListChecks(ctx context.Context, k identity.Key, limit int) ([]store.CheckRecord, error) {
	if limit < 0 || limit > store.MaxChecks {
		limit = store.MaxChecks
	}
	if limit == 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT data FROM checks WHERE account = $1 AND region = $2 AND name = $3
		ORDER BY total DESC`, k.Account, k.Region, k.Name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.CheckRecord
	for len(out) < limit && rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		var recs []store.CheckRecord
		if err := json.Unmarshal(data, &recs); err != nil {
			return nil, err
		}
		slices.Reverse(recs) // newest first
		out = append(out, recs[:min(len(recs), limit-len(out))]...)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
