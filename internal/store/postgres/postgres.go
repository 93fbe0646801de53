// Package postgres is the Store on PostgreSQL (github.com/jackc/pgx/v5), for
// several `sesame serve` replicas on one database. It keeps the SQLite
// store's tables and semantics (internal/store/sqlite): rows are the same
// JSON (github.com/go-json-experiment/json/v1), times the same unix
// nanoseconds, so the two behave alike under storetest.
//
// Transactions run at READ COMMITTED. What SQLite gets from its single
// writer, this store gets from locks taken in the transaction: a row read
// to be rewritten is read FOR UPDATE, and a read-modify-write of something
// that may not exist yet (a sending state) or a count checked against a
// limit (templates, configuration sets, the mail quotas) first takes a
// transaction-level advisory lock on what it reads (lock), so two replicas
// never both decide on the same stale state. An identity's write locks its
// row where there is one and takes the advisory lock only where there is
// none (lockIdentitySQL), and sends its statements pipelined, BEGIN and
// COMMIT with them (pipelined): two round trips a read-modify-write. Verification work and
// the outbox are claimed with FOR UPDATE SKIP LOCKED and a lease (ClaimDue,
// ClaimMessages). Every write of identities notifies their keys on a
// channel, so that each replica's identity cache forgets them (Watch).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store is a store.Store on one PostgreSQL database.
type Store struct {
	pool *pgxpool.Pool
	// listenConfig connects Watch's connection.
	listenConfig *pgx.ConnConfig
	// peers are the heartbeats heard (Watch), by sender, when last heard.
	peersMu sync.Mutex
	peers   map[string]time.Time
}

// IsURL reports whether s names a PostgreSQL database (postgres:// or
// postgresql://), as --database-url takes it.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Open connects to the database at url (a libpq URL or key=value string,
// as pgx takes it) and migrates its schema to the current version.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message quotes the URL, password included.
		return nil, errors.New("database URL: cannot parse it (postgres://user:password@host:5432/database?sslmode=...)")
	}
	if !strings.Contains(url, "pool_max_conns") {
		// pgx's default is max(4, the number of CPUs); the verifier,
		// the mail queue and the API each hold one at times.
		cfg.MaxConns = max(cfg.MaxConns, 8)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", redacted(cfg), err)
	}
	s := &Store{pool: pool, listenConfig: cfg.ConnConfig.Copy()}
	s.listenConfig.DialFunc = keepAliveDialer.DialContext
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("database %s: %w", redacted(cfg), err)
	}
	return s, nil
}

// redacted names the database of cfg without its password.
func redacted(cfg *pgxpool.Config) string {
	c := cfg.ConnConfig
	return fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

// Transaction runs fn in one transaction and commits it when fn returns
// nil; anything else rolls it all back. For loading a whole store at once
// (storecopy), which must leave the database as it was when it fails.
func (s *Store) Transaction(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// Close closes the connections.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// maxAttempts bounds the retries of a transaction that PostgreSQL aborted
// for a deadlock or a serialization failure.
const maxAttempts = 5

// write runs fn in a transaction and commits it; a deadlock or
// serialization failure runs fn again, in a new transaction.
func (s *Store) write(ctx context.Context, fn func(tx pgx.Tx) error) error {
	var err error
	for range maxAttempts {
		err = pgx.BeginFunc(ctx, s.pool, fn)
		if !retryable(err) {
			return err
		}
	}
	return err
}

// pipelined runs a transaction as write does, in fewer round trips: its
// BEGIN goes with the first batch fn sends (pipe.send) and its COMMIT with
// the batch fn returns (nil: nothing more to write), so that a
// read-modify-write costs two round trips (BEGIN and the reads; the writes
// and COMMIT) rather than four, and a write of statements known in advance
// one. Statements of one batch run in order as if sent one by one; an error
// skips the rest of the batch, COMMIT included, and the transaction is
// rolled back.
func (s *Store) pipelined(ctx context.Context, fn func(p *pipe) (*pgx.Batch, error)) error {
	var err error
	for range maxAttempts {
		err = s.pipelinedOnce(ctx, fn)
		if !retryable(err) {
			return err
		}
	}
	return err
}

func (s *Store) pipelinedOnce(ctx context.Context, fn func(p *pipe) (*pgx.Batch, error)) (err error) {
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// A connection left in a transaction, or closed, is not pooled again
	// (pgxpool's Release): a failed ROLLBACK loses no more than it.
	defer c.Release()
	p := &pipe{conn: c.Conn()}
	defer func() {
		if err != nil && p.conn.PgConn().TxStatus() != 'I' && !p.conn.IsClosed() {
			p.conn.Exec(ctx, "rollback")
		}
	}()
	last, err := fn(p)
	if err != nil {
		return err
	}
	if last == nil {
		last = new(pgx.Batch)
	}
	last.Queue("commit").Exec(func(tag pgconn.CommandTag) error {
		if tag.String() == "ROLLBACK" { // the transaction had failed
			return pgx.ErrTxCommitRollback
		}
		return nil
	})
	if err := p.send(ctx, last).Close(); err != nil {
		return err
	}
	if st := p.conn.PgConn().TxStatus(); st != 'I' {
		return fmt.Errorf("transaction status %q after COMMIT", st)
	}
	return nil
}

// pipe is the connection of a pipelined transaction.
type pipe struct {
	conn  *pgx.Conn
	begun bool
}

// send sends b in the transaction, BEGIN before it if it is the first
// batch; the results are b's alone.
func (p *pipe) send(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if p.begun {
		return p.conn.SendBatch(ctx, b)
	}
	p.begun = true
	first := &pgx.Batch{QueuedQueries: append([]*pgx.QueuedQuery{{SQL: "begin"}}, b.QueuedQueries...)}
	br := p.conn.SendBatch(ctx, first)
	br.Exec() // BEGIN's; an error is every later result's too
	return br
}

func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

func isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// Lock classes: the first key of pg_advisory_xact_lock(int, int), so that
// the locks of one kind of thing never wait on another's.
const (
	classMigrate int32 = iota + 1
	classIdentity
	classAccountCounts // templates and configuration sets of one account
	classMail          // the mail quotas of one account
	classSending       // the sending state of one account and region
	classDKIMKeys      // the Easy DKIM keys of one identity
)

// lock takes a transaction-level advisory lock on class and the hash of
// parts; it is released when tx ends. Two different parts may share a
// hash: they then wait on each other, which is slower, never wrong.
func lock(ctx context.Context, tx pgx.Tx, class int32, parts ...string) error {
	_, err := tx.Exec(ctx, lockSQL, class, lockHash(parts...))
	return err
}

const lockSQL = `SELECT pg_advisory_xact_lock($1, $2)`

// lockAll takes the locks of lock for many hashes (lockHash) in one
// statement, in the order of their values, so that two transactions that
// lock overlapping sets never deadlock.
func lockAll(ctx context.Context, tx pgx.Tx, class int32, hashes []int32) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, h) FROM (SELECT DISTINCT h FROM unnest($2::integer[]) AS h ORDER BY h) AS l`,
		class, hashes)
	return err
}

func lockHash(parts ...string) int32 {
	h := fnv.New32a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return int32(h.Sum32())
}

// queryer is a pool or a transaction.
type queryer interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}
