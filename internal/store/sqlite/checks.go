package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"slices"
	"sync"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/store"
)

// The verifier claims and saves identities in batches of hundreds, so each
// of these costs a few statements per batch rather than several per
// identity: the keys of a batch go to SQLite as one JSON array, which
// json_each turns into a table.
const keysTable = `SELECT value->>0, value->>1, value->>2 FROM json_each(?)`

// keysJSON is the JSON array of [account, region, name] of keys.
func keysJSON(keys []identity.Key) (string, error) {
	l := make([][3]string, len(keys))
	for i, k := range keys {
		l[i] = [3]string{k.Account, k.Region, k.Name}
	}
	b, err := json.Marshal(l)
	return string(b), err
}

// row is an identity as read for an update, and where it is.
type row struct {
	rowid int64
	id    *identity.Identity
}

// decoded keeps the identities ClaimDue decoded, with the data it stored
// for them: the check that follows saves its results, and SaveChecks, if it
// finds that data unchanged, takes the identity rather than decoding the
// same JSON again. Equal data decode to equal identities, so an entry is
// right whichever Store finds it. An entry serves once.
var decoded struct {
	sync.Mutex
	m     map[int64]decodedEntry // by rowid
	order []int64                // oldest first, to bound m
}

type decodedEntry struct {
	data []byte
	id   *identity.Identity
}

const maxDecoded = 4096

func keepDecoded(rowid int64, data []byte, id *identity.Identity) {
	decoded.Lock()
	defer decoded.Unlock()
	if decoded.m == nil {
		decoded.m = make(map[int64]decodedEntry)
	}
	if _, ok := decoded.m[rowid]; !ok {
		decoded.order = append(decoded.order, rowid)
	}
	decoded.m[rowid] = decodedEntry{data: data, id: id}
	for len(decoded.m) > maxDecoded {
		delete(decoded.m, decoded.order[0])
		decoded.order = decoded.order[1:]
	}
	if len(decoded.order) > 2*maxDecoded { // keys of entries taken since
		decoded.order = slices.DeleteFunc(decoded.order, func(r int64) bool { _, ok := decoded.m[r]; return !ok })
	}
}

// decodeAt decodes data, the identity at rowid.
func decodeAt(rowid int64, data []byte) (*identity.Identity, error) {
	decoded.Lock()
	e, ok := decoded.m[rowid]
	if ok {
		delete(decoded.m, rowid)
	}
	decoded.Unlock()
	if ok && bytes.Equal(e.data, data) {
		return e.id, nil
	}
	id := new(identity.Identity)
	if err := json.Unmarshal(data, id); err != nil {
		return nil, err
	}
	return id, nil
}

// encoder writes JSON as json.Marshal does, into a buffer reused from one
// row to the next (SQLite copies what it is given).
type encoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

func (e *encoder) encode(v any) ([]byte, error) {
	if e.enc == nil {
		e.enc = json.NewEncoder(&e.buf)
	}
	e.buf.Reset()
	if err := e.enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(e.buf.Bytes(), []byte("\n")), nil
}

// ClaimDue implements store.Checks. The lease is next_check alone: the
// row's data keeps the Next of its last write, which readers replace with
// next_check (decode), so a claim neither encodes nor rewrites the JSON of
// the identities it leases, and is one statement for the batch.
func (s *Store) ClaimDue(ctx context.Context, now, until time.Time, limit int) ([]*identity.Identity, error) {
	var out []*identity.Identity
	err := s.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT rowid, data FROM identities WHERE next_check IS NOT NULL AND next_check <= ?
			ORDER BY next_check LIMIT ?`, now.UnixNano(), limit)
		if err != nil {
			return err
		}
		type lease struct {
			rowid int64
			data  []byte
			id    *identity.Identity
		}
		var leases []lease
		rowids := make([]int64, 0, limit)
		for rows.Next() {
			var l lease
			var data sql.RawBytes
			if err := rows.Scan(&l.rowid, &data); err != nil {
				rows.Close()
				return err
			}
			id := new(identity.Identity)
			if err := json.Unmarshal(data, id); err != nil {
				rows.Close()
				return err
			}
			l.data, l.id = bytes.Clone(data), id
			leases = append(leases, l)
			rowids = append(rowids, l.rowid)
		}
		if err := rows.Close(); err != nil || len(leases) == 0 {
			return err
		}
		list, err := json.Marshal(rowids)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE identities SET next_check = ? WHERE rowid IN (SELECT value FROM json_each(?))`,
			until.UnixNano(), string(list)); err != nil {
			return err
		}
		leased := sql.NullInt64{Int64: until.UnixNano(), Valid: true}
		for _, l := range leases {
			setNext(l.id, leased) // as decoding the row now reads it
			keepDecoded(l.rowid, l.data, l.id)
			c := l.id.Clone()
			c.Next = until
			out = append(out, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// upsertIdentity is putIdentity's statement.
const upsertIdentity = `INSERT INTO identities (account, region, name, kind, status, next_check, data)
	VALUES (?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (account, region, name) DO UPDATE SET
	kind = excluded.kind, status = excluded.status, next_check = excluded.next_check, data = excluded.data`

// SaveChecks implements store.Checks: one transaction, so one sync to disk,
// for a whole batch of checks, and a few statements for the batch. The
// records of one check of an identity are one row of checks (migration 4),
// a JSON array, oldest first.
func (s *Store) SaveChecks(ctx context.Context, updates []store.CheckUpdate) error {
	if len(updates) == 0 {
		return nil
	}
	keys := make([]identity.Key, len(updates))
	for i, u := range updates {
		keys[i] = u.Key
	}
	list, err := keysJSON(keys)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		// The identities, and the total of the records of each (its
		// records are numbered on from there).
		rows, err := tx.QueryContext(ctx, `SELECT rowid, data, next_check,
			(SELECT max(total) FROM checks c WHERE c.account = i.account AND c.region = i.region AND c.name = i.name)
			FROM identities i WHERE (account, region, name) IN (`+keysTable+`)`, list)
		if err != nil {
			return err
		}
		cur := make(map[identity.Key]row, len(updates))
		totals := make(map[identity.Key]int64, len(updates))
		for rows.Next() {
			var r row
			var data sql.RawBytes
			var next, total sql.NullInt64
			if err := rows.Scan(&r.rowid, &data, &next, &total); err != nil {
				rows.Close()
				return err
			}
			if r.id, err = decodeAt(r.rowid, data); err != nil {
				rows.Close()
				return err
			}
			setNext(r.id, next)
			cur[r.id.Key] = r
			totals[r.id.Key] = total.Int64
		}
		if err := rows.Close(); err != nil {
			return err
		}
		// kind is left out unless it changes (it does not: it follows
		// from the name): SQLite rewrites the entries of every index on a
		// column the statement sets, whatever the value.
		update, err := tx.PrepareContext(ctx, `UPDATE identities SET status = ?, next_check = ?, data = ? WHERE rowid = ?`)
		if err != nil {
			return err
		}
		defer update.Close()
		insert, err := tx.PrepareContext(ctx, `INSERT INTO checks (account, region, name, at, total, data) VALUES (?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer insert.Close()
		// Keep the last MaxChecks records: delete the rows holding only
		// older ones. The oldest row kept may hold older ones too, which
		// ListChecks leaves out.
		trim, err := tx.PrepareContext(ctx, `DELETE FROM checks WHERE account = ? AND region = ? AND name = ? AND total <= ?`)
		if err != nil {
			return err
		}
		defer trim.Close()
		var e encoder
		var rowBuf []byte
		for _, u := range updates {
			r := cur[u.Key]
			var kind names.Kind // before Apply, which may change r.id
			if r.id != nil {
				kind = r.id.Kind
			}
			next := u.Apply(r.id)
			if next == nil {
				continue
			}
			next.Key = u.Key
			data, err := e.encode(next)
			if err != nil {
				return err
			}
			var due any
			if !next.Next.IsZero() {
				due = next.Next.UnixNano()
			}
			k := u.Key
			if r.id != nil && kind == next.Kind {
				_, err = update.ExecContext(ctx, string(next.Status()), due, data, r.rowid)
			} else { // Apply made one up, or changed its kind
				var res sql.Result
				res, err = tx.ExecContext(ctx, upsertIdentity, k.Account, k.Region, k.Name, int(next.Kind), string(next.Status()), due, data)
				if err == nil && r.id == nil { // an upsert's update leaves LastInsertId
					r.rowid, err = res.LastInsertId()
				}
			}
			if err != nil {
				return err
			}
			// A key twice in a batch: the second update sees the first.
			cur[k] = row{rowid: r.rowid, id: next}
			if len(u.Checks) == 0 {
				continue
			}
			recs, err := newCheckRow(u.Checks).appendJSON(rowBuf[:0])
			if err != nil {
				return err
			}
			rowBuf = recs // SQLite copies it
			total := totals[k] + int64(len(u.Checks))
			totals[k] = total
			if _, err := insert.ExecContext(ctx, k.Account, k.Region, k.Name, u.Checks[0].At.UnixNano(), total, recs); err != nil {
				return err
			}
			if total > store.MaxChecks {
				if _, err := trim.ExecContext(ctx, k.Account, k.Region, k.Name, total-store.MaxChecks); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// checkRow is a row of checks: the records of one check, oldest first,
// with the time they share written once. Records comes first: rows from
// before migration 4 hold one store.CheckRecord, whose JSON starts with At.
type checkRow struct {
	Records []rowRecord
	At      time.Time
}

var checkRowStart = []byte(`{"Records":`)

// rowRecord is a store.CheckRecord in a checkRow; empty strings are left
// out.
type rowRecord struct {
	At       *time.Time `json:",omitempty"` // when not the row's
	Check    string
	Server   string        `json:",omitempty"`
	Query    string        `json:",omitempty"`
	Answer   []string      // null and [] are told apart
	Expected string        `json:",omitempty"`
	Outcome  string        `json:",omitempty"`
	TTL      time.Duration `json:",omitempty"`
	Detail   string        `json:",omitempty"`
}

func newCheckRow(recs []store.CheckRecord) *checkRow {
	row := &checkRow{Records: make([]rowRecord, len(recs)), At: recs[0].At}
	for i, c := range recs {
		r := rowRecord{Check: c.Check, Server: c.Server, Query: c.Query, Answer: c.Answer,
			Expected: c.Expected, Outcome: c.Outcome, TTL: c.TTL, Detail: c.Detail}
		if !c.At.Equal(row.At) || c.At.Location() != row.At.Location() {
			r.At = &recs[i].At
		}
		row.Records[i] = r
	}
	return row
}

// records returns the records of r, newest first.
func (r *checkRow) records() []store.CheckRecord {
	out := make([]store.CheckRecord, len(r.Records))
	for i, c := range r.Records {
		at := r.At
		if c.At != nil {
			at = *c.At
		}
		out[len(out)-1-i] = store.CheckRecord{At: at, Check: c.Check, Server: c.Server, Query: c.Query, Answer: c.Answer,
			Expected: c.Expected, Outcome: c.Outcome, TTL: c.TTL, Detail: c.Detail}
	}
	return out
}

// decodeChecks decodes the data of a row of checks, newest first: one
// record (a JSON object, before migration 4) or a checkRow.
func decodeChecks(data []byte) ([]store.CheckRecord, error) {
	if bytes.HasPrefix(data, checkRowStart) {
		var row checkRow
		if err := json.Unmarshal(data, &row); err != nil {
			return nil, err
		}
		return row.records(), nil
	}
	recs := make([]store.CheckRecord, 1)
	return recs, json.Unmarshal(data, &recs[0])
}

// CheckRecords decodes the data column of a row of checks (this store's
// encoding of one check's records), oldest first, for a copy of the rows
// into another store (storecopy).
func CheckRecords(data []byte) ([]store.CheckRecord, error) {
	recs, err := decodeChecks(data)
	slices.Reverse(recs)
	return recs, err
}

// ListChecks implements store.Checks.
func (s *Store) ListChecks(ctx context.Context, k identity.Key, limit int) ([]store.CheckRecord, error) {
	if limit < 0 || limit > store.MaxChecks { // as SQL's LIMIT -1: all that are kept
		limit = store.MaxChecks
	}
	if limit == 0 {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT data FROM checks WHERE account = ? AND region = ? AND name = ?
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
		recs, err := decodeChecks(data)
		if err != nil {
			return nil, err
		}
		out = append(out, recs[:min(len(recs), limit-len(out))]...)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
