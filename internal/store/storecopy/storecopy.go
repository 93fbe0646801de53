// Package storecopy copies the SQLite store of a data directory into a
// PostgreSQL store (`sesame database copy`): how an operator who started
// with one server on SQLite moves to replicas on PostgreSQL.
//
// The copy goes row by row, table by table, in one read transaction on
// SQLite (a consistent snapshot, even while a server writes) and one
// transaction on PostgreSQL (a failure leaves the destination as it was).
// The two stores keep the same tables with the same columns, times as unix
// nanoseconds and rows as the same JSON (see package postgres), so a row
// copied as it is reads back as it was written: timestamps, the leases of
// claimed work, the delivery state of queued mail, sealed secrets and DKIM
// keys (still sealed with the data directory's key) included. The store
// interfaces, made for serving, cannot do this: each of their writes is a
// transaction of its own (a failure halfway would leave half a copy), with
// the side effects of serving (limits checked, notifications sent, claimed
// work leased anew), and they list no sign-outs; so this package does not
// go through them. What differs between the two
// schemas is converted here, and only here: the rows of checks (SQLite's
// own encoding of a check's records, sqlite.CheckRecords; PostgreSQL's JSON
// array), SQLite's integers for booleans, its rowid for a serial column,
// and the raw messages, which SQLite keeps in a table of their own
// (mail_raw) and PostgreSQL in mail_messages' raw column.
//
// tables names every table of the SQLite schema and every column of each:
// Copy refuses a source with a table or column it does not name and a
// destination with one it would leave empty, so a migration that adds one
// fails the tests (TestSchemasCovered) until it is handled here.
package storecopy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	json "github.com/go-json-experiment/json/v1"
	"github.com/jackc/pgx/v5"

	"github.com/sesame/sesame/internal/seal"
	"github.com/sesame/sesame/internal/store"
	"github.com/sesame/sesame/internal/store/postgres"
	"github.com/sesame/sesame/internal/store/sqlite"
)

// table is one table copied row by row.
type table struct {
	name string
	// cols are its columns, named alike in both databases.
	cols []string
	// from maps a destination column to the source's expression when they
	// differ ("rowid" for a serial column).
	from map[string]string
	// order is the order rows are read and inserted in; for a serial
	// column, the order of the source's insertions.
	order string
	// serial is a column of the destination whose sequence must continue
	// after the copied values.
	serial string
	// convert rewrites a row read from the source (values in cols' order)
	// for the destination; check refuses one (with Options.Sealer).
	convert func(row []any) error
	check   func(c *copier, row []any) error
}

// tables are copied in this order (access keys after their accounts).
var tables = []table{
	{name: "accounts", cols: []string{"id", "name", "created"}, order: "id"},
	{name: "access_keys", cols: []string{"id", "account", "sealed", "created", "revoked"}, order: "id",
		check: (*copier).checkAccessKey},
	{name: "identities", cols: []string{"account", "region", "name", "kind", "status", "next_check", "data"}, order: "account, region, name"},
	{name: "checks", cols: []string{"seq", "account", "region", "name", "at", "total", "data"}, order: "seq", serial: "seq",
		convert: convertChecks},
	{name: "mail_links", cols: []string{"nonce", "account", "region", "name", "created", "expires", "used", "replaced", "success_url", "failure_url"}, order: "nonce"},
	{name: "mail_messages", cols: []string{"seq", "id", "kind", "account", "region", "identity", "sender", "recipient", "recipients", "subject",
		"link", "link_nonce", "raw", "sent", "created", "status", "attempts", "next_attempt", "last_error", "done", "hidden"},
		from:  map[string]string{"seq": "rowid", "raw": "(SELECT raw FROM mail_raw WHERE mail_raw.id = mail_messages.id)"},
		order: "rowid", serial: "seq"},
	{name: "sent_minutes", cols: []string{"account", "region", "minute", "recipients"}, order: "account, region, minute"},
	{name: "mail_templates", cols: []string{"account", "region", "name", "data"}, order: "account, region, name"},
	{name: "email_templates", cols: []string{"account", "region", "name", "data"}, order: "account, region, name"},
	{name: "config_sets", cols: []string{"account", "region", "name", "data"}, order: "account, region, name"},
	{name: "sending_states", cols: []string{"account", "region", "data"}, order: "account, region"},
	{name: "dkim_keys", cols: []string{"token", "account", "region", "name", "data"}, order: "token",
		check: (*copier).checkDKIMKey},
}

// joined are the SQLite tables read through another's columns (table.from)
// rather than copied as tables: SQLite keeps a message's raw apart from its
// row (sqlite's migration 12), PostgreSQL in it.
var joined = map[string][]string{"mail_raw": {"id", "raw"}}

// MetaTable (key, value) is copied by copyMeta: its counters are the
// destination's own, its other rows are the console's sign-outs, which its
// Count counts.
const MetaTable = "meta"

var (
	// counters are the meta rows that count changes for caches
	// (store.Accounts.Generation, store.DKIMKeys.DKIMGeneration): each
	// database has its own, made by its migrations; the copy bumps the
	// destination's.
	counters = []string{"accounts_generation", "dkim_generation"}
	// signoutPrefix is the key prefix of the rows of store.Sessions, as
	// both stores write them (sqlite/signouts.go, postgres/signouts.go).
	signoutPrefix = "console_signout:"
)

// destOnly are the destination's tables the copy does not fill from the
// source: its schema version, and the fingerprints of the shared key
// files, which SQLite has no need of and Copy writes from Options.Keys.
var destOnly = []string{"schema_version", "key_fingerprints"}

// Options are the choices of a copy.
type Options struct {
	// Replace empties a destination that holds data already, in the same
	// transaction as the copy; without it, Copy refuses one (ErrNotEmpty).
	Replace bool
	// Sealer, when set, must open every sealed secret of the source (the
	// secret access keys and DKIM private keys), which are copied sealed:
	// a copy made with the wrong key file is refused, rather than
	// recording that file's fingerprint for the replicas.
	Sealer *seal.Sealer
	// Keys are the fingerprints of the key files the replicas must share
	// (server.SharedKeys), recorded in the destination (store.SharedKeys)
	// so that a replica started with another file is refused; a
	// destination that has other fingerprints already is refused.
	Keys []Key
}

// Key is the fingerprint of one shared key file.
type Key struct{ Name, Fingerprint string }

// Count is the number of rows copied into one table.
type Count struct {
	Table string
	Rows  int
}

// ErrNotEmpty is returned by Copy for a destination that holds data,
// unless Options.Replace.
var ErrNotEmpty = errors.New("the destination database holds data already")

// Copy copies everything of src into dst, in one transaction of dst; it
// returns the rows copied into each table. src is read in one snapshot
// (sqlite.Store.Snapshot): writes committed to it meanwhile are not copied.
func Copy(ctx context.Context, src *sqlite.Store, dst *postgres.Store, opts Options) ([]Count, error) {
	var counts []Count
	err := src.Snapshot(ctx, func(stx *sql.Tx) error {
		return dst.Transaction(ctx, func(dtx pgx.Tx) error {
			c := &copier{src: stx, dst: dtx, opts: opts}
			var err error
			counts, err = c.run(ctx)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	return counts, nil
}

type copier struct {
	src  *sql.Tx
	dst  pgx.Tx
	opts Options
}

func (c *copier) run(ctx context.Context) ([]Count, error) {
	names := make([]string, 0, len(tables)+1)
	for _, t := range tables {
		names = append(names, t.name)
	}
	names = append(names, MetaTable)
	// Nothing but reads until the copy commits: what is checked below
	// holds for the whole of it.
	if _, err := c.dst.Exec(ctx, `LOCK TABLE `+strings.Join(append(slices.Clone(names), destOnly...), ", ")+` IN EXCLUSIVE MODE`); err != nil {
		return nil, err
	}
	if err := checkSource(ctx, c.src); err != nil {
		return nil, err
	}
	types, err := destColumns(ctx, c.dst)
	if err != nil {
		return nil, err
	}
	if err := c.empty(ctx); err != nil {
		return nil, err
	}
	var counts []Count
	for _, t := range tables {
		n, err := c.copyTable(ctx, t, types[t.name])
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", t.name, err)
		}
		counts = append(counts, Count{t.name, n})
	}
	n, err := c.copyMeta(ctx)
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", MetaTable, err)
	}
	counts = append(counts, Count{MetaTable, n})
	if err := c.recordKeys(ctx); err != nil {
		return nil, err
	}
	// The planner's statistics, as after any bulk load (postgres.Import).
	if _, err := c.dst.Exec(ctx, `ANALYZE `+strings.Join(names, ", ")); err != nil {
		return nil, err
	}
	return counts, nil
}

// checkSource refuses a source with a table, or a column, that tables does
// not name (or one that it names and the source lacks).
func checkSource(ctx context.Context, tx *sql.Tx) error {
	have, err := sourceTables(ctx, tx)
	if err != nil {
		return err
	}
	want := map[string][]string{MetaTable: {"key", "value"}}
	for name, cols := range joined {
		want[name] = cols
	}
	for _, t := range tables {
		var cols []string
		for _, col := range t.cols {
			if _, ok := t.from[col]; !ok {
				cols = append(cols, col)
			}
		}
		want[t.name] = cols
	}
	for name, cols := range have {
		w, ok := want[name]
		if !ok {
			return fmt.Errorf("the SQLite database has a table %s that this copy does not know: nothing is copied (a newer schema? see internal/store/storecopy)", name)
		}
		if err := sameColumns("the SQLite database's", name, cols, w); err != nil {
			return err
		}
	}
	for name := range want {
		if _, ok := have[name]; !ok {
			return fmt.Errorf("the SQLite database has no table %s: nothing is copied", name)
		}
	}
	return nil
}

// sourceTables returns the columns of each table of the SQLite database
// but its own (sqlite_*).
func sourceTables(ctx context.Context, tx *sql.Tx) (map[string][]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT m.name, p.name FROM sqlite_schema AS m, pragma_table_info(m.name) AS p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY m.name, p.cid`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var t, col string
		if err := rows.Scan(&t, &col); err != nil {
			return nil, err
		}
		out[t] = append(out[t], col)
	}
	return out, rows.Err()
}

// destColumns returns the type of each column of each table of the
// destination, by table and column, and refuses a destination with a table
// or a column that the copy would leave empty.
func destColumns(ctx context.Context, tx pgx.Tx) (map[string]map[string]string, error) {
	rows, err := tx.Query(ctx, `SELECT c.table_name, c.column_name, c.data_type
		FROM information_schema.columns AS c JOIN information_schema.tables AS t USING (table_schema, table_name)
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' ORDER BY c.table_name, c.ordinal_position`)
	if err != nil {
		return nil, err
	}
	types := map[string]map[string]string{}
	order := map[string][]string{}
	for rows.Next() {
		var t, col, typ string
		if err := rows.Scan(&t, &col, &typ); err != nil {
			rows.Close()
			return nil, err
		}
		if types[t] == nil {
			types[t] = map[string]string{}
		}
		types[t][col] = typ
		order[t] = append(order[t], col)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	want := map[string][]string{MetaTable: {"key", "value"}}
	for _, t := range tables {
		want[t.name] = t.cols
	}
	for name, cols := range order {
		if slices.Contains(destOnly, name) {
			continue
		}
		w, ok := want[name]
		if !ok {
			return nil, fmt.Errorf("the PostgreSQL database has a table %s that this copy does not fill: nothing is copied (a newer schema? see internal/store/storecopy)", name)
		}
		if err := sameColumns("the PostgreSQL database's", name, cols, w); err != nil {
			return nil, err
		}
	}
	for name := range want {
		if _, ok := order[name]; !ok {
			return nil, fmt.Errorf("the PostgreSQL database has no table %s: nothing is copied", name)
		}
	}
	return types, nil
}

func sameColumns(whose, table string, have, want []string) error {
	for _, col := range have {
		if !slices.Contains(want, col) {
			return fmt.Errorf("%s table %s has a column %s that this copy does not know: nothing is copied (a newer schema? see internal/store/storecopy)", whose, table, col)
		}
	}
	for _, col := range want {
		if !slices.Contains(have, col) {
			return fmt.Errorf("%s table %s has no column %s: nothing is copied", whose, table, col)
		}
	}
	return nil
}

// empty refuses a destination that holds data, or with Options.Replace
// empties it.
func (c *copier) empty(ctx context.Context) error {
	var full []string
	hasRows := func(name, query string, args ...any) error {
		var exists bool
		if err := c.dst.QueryRow(ctx, query, args...).Scan(&exists); err != nil {
			return err
		}
		if exists {
			full = append(full, name)
		}
		return nil
	}
	for _, t := range tables {
		if err := hasRows(t.name, `SELECT EXISTS (SELECT 1 FROM `+t.name+`)`); err != nil {
			return err
		}
	}
	if err := hasRows(MetaTable, `SELECT EXISTS (SELECT 1 FROM meta WHERE key <> ALL ($1))`, counters); err != nil {
		return err
	}
	if len(full) == 0 {
		return nil
	}
	if !c.opts.Replace {
		return fmt.Errorf("%w (rows in %s)", ErrNotEmpty, strings.Join(full, ", "))
	}
	names := []string{"key_fingerprints"}
	for _, t := range tables {
		names = append(names, t.name)
	}
	// RESTART IDENTITY: the serial columns start again, as in a new
	// database.
	if _, err := c.dst.Exec(ctx, `TRUNCATE `+strings.Join(names, ", ")+` RESTART IDENTITY`); err != nil {
		return err
	}
	_, err := c.dst.Exec(ctx, `DELETE FROM meta WHERE key <> ALL ($1)`, counters)
	return err
}

// copyTable copies the rows of t, converted to the destination's column
// types, with COPY.
func (c *copier) copyTable(ctx context.Context, t table, types map[string]string) (int, error) {
	exprs := make([]string, len(t.cols))
	for i, col := range t.cols {
		exprs[i] = col
		if e, ok := t.from[col]; ok {
			exprs[i] = e
		}
	}
	rows, err := c.src.QueryContext(ctx, `SELECT `+strings.Join(exprs, ", ")+` FROM `+t.name+` ORDER BY `+t.order)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	row := make([]any, len(t.cols))
	ptrs := make([]any, len(t.cols))
	for i := range row {
		ptrs[i] = &row[i]
	}
	n := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if !rows.Next() {
			return nil, rows.Err()
		}
		clear(row)
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		if t.convert != nil {
			if err := t.convert(row); err != nil {
				return nil, fmt.Errorf("row %d: %w", n+1, err)
			}
		}
		if t.check != nil && c.opts.Sealer != nil {
			if err := t.check(c, row); err != nil {
				return nil, err
			}
		}
		for i, col := range t.cols {
			v, err := convertValue(row[i], types[col])
			if err != nil {
				return nil, fmt.Errorf("row %d, column %s: %w", n+1, col, err)
			}
			row[i] = v
		}
		n++
		return row, nil
	})
	if _, err := c.dst.CopyFrom(ctx, pgx.Identifier{t.name}, t.cols, src); err != nil {
		return 0, err
	}
	if t.serial != "" {
		// The next value after the largest copied, as the source's rowid
		// would have given.
		if _, err := c.dst.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT max(`+t.serial+`) FROM `+t.name+`), 0) + 1, false)`,
			t.name, t.serial); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// convertValue makes v, as database/sql reads it from SQLite (int64,
// float64, string, []byte or nil), a value of the destination's type typ.
func convertValue(v any, typ string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch typ {
	case "bytea":
		switch v := v.(type) {
		case []byte:
			return v, nil
		case string:
			return []byte(v), nil
		}
	case "text":
		switch v := v.(type) {
		case string:
			return v, nil
		case []byte:
			return string(v), nil
		}
	case "bigint", "integer":
		if v, ok := v.(int64); ok {
			return v, nil
		}
	case "boolean":
		if v, ok := v.(int64); ok {
			return v != 0, nil
		}
	default:
		return nil, fmt.Errorf("a column of type %s, which this copy does not know", typ)
	}
	return nil, fmt.Errorf("a %T for a column of type %s", v, typ)
}

// convertChecks rewrites the data of a row of checks from SQLite's
// encoding to PostgreSQL's: the records as a JSON array, oldest first, as
// postgres.Store.SaveChecks writes them.
func convertChecks(row []any) error {
	data, ok := row[len(row)-1].([]byte)
	if !ok {
		if s, isString := row[len(row)-1].(string); isString {
			data = []byte(s)
		} else {
			return fmt.Errorf("data: a %T", row[len(row)-1])
		}
	}
	recs, err := sqlite.CheckRecords(data)
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	b, err := json.Marshal(recs)
	if err != nil {
		return err
	}
	row[len(row)-1] = b
	return nil
}

// checkAccessKey opens the sealed secret of a row of access_keys.
func (c *copier) checkAccessKey(row []any) error {
	id, _ := row[0].(string)
	sealed, _ := row[2].([]byte)
	if _, err := c.opts.Sealer.Open(sealed, id); err != nil {
		return fmt.Errorf("access key %s: %w: its secret does not open with the sealing key given, so nothing is copied (--key-file)", id, err)
	}
	return nil
}

// checkDKIMKey opens the sealed private key of a row of dkim_keys.
func (c *copier) checkDKIMKey(row []any) error {
	data, _ := row[len(row)-1].([]byte)
	var k store.DKIMKey
	if err := json.Unmarshal(data, &k); err != nil {
		return err
	}
	if _, err := c.opts.Sealer.Open(k.Sealed, k.Token); err != nil {
		return fmt.Errorf("DKIM key %s of %s: %w: it does not open with the sealing key given, so nothing is copied (--key-file)", k.Token, k.Identity.Name, err)
	}
	return nil
}

// copyMeta copies the console's sign-outs and bumps the destination's
// counters, so that any cache of accounts or DKIM keys forgets. Any other
// row is refused.
func (c *copier) copyMeta(ctx context.Context) (int, error) {
	rows, err := c.src.QueryContext(ctx, `SELECT key, value FROM meta ORDER BY key`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var key string
		var value int64
		if err := rows.Scan(&key, &value); err != nil {
			return 0, err
		}
		switch {
		case slices.Contains(counters, key):
		case strings.HasPrefix(key, signoutPrefix):
			if _, err := c.dst.Exec(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2)`, key, value); err != nil {
				return 0, err
			}
			n++
		default:
			return 0, fmt.Errorf("a row %q that this copy does not know: nothing is copied (a newer schema? see internal/store/storecopy)", key)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	tag, err := c.dst.Exec(ctx, `UPDATE meta SET value = value + 1 WHERE key = ANY ($1)`, counters)
	if err != nil {
		return 0, err
	}
	if tag.RowsAffected() != int64(len(counters)) {
		return 0, fmt.Errorf("the PostgreSQL database lacks a counter of %v", counters)
	}
	return n, nil
}

// recordKeys records the fingerprints of Options.Keys, and refuses a
// destination that holds others.
func (c *copier) recordKeys(ctx context.Context) error {
	for _, k := range c.opts.Keys {
		if _, err := c.dst.Exec(ctx, `INSERT INTO key_fingerprints (name, fingerprint) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, k.Name, k.Fingerprint); err != nil {
			return err
		}
		var stored string
		if err := c.dst.QueryRow(ctx, `SELECT fingerprint FROM key_fingerprints WHERE name = $1`, k.Name).Scan(&stored); err != nil {
			return err
		}
		if stored != k.Fingerprint {
			return fmt.Errorf("the servers of the PostgreSQL database use another %s than this data directory's: nothing is copied (--replace starts the database again with this one)", k.Name)
		}
	}
	return nil
}
