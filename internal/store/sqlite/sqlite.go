// Package sqlite is the embedded Store: SQLite through a pure-Go driver
// (modernc.org/sqlite), so the sesame binary stays static.
//
// The database runs in WAL mode with synchronous=FULL: a write is on disk
// when its transaction commits, so a kill -9 at any moment loses no write
// that was acknowledged; the queue's leases and outcomes are committed
// without the sync (writeLazy), which a kill -9 does not lose either.
// Writes from this process are serialised by a mutex
// (cheaper than SQLite's busy-wait), and those that wait for it are
// committed together by the next holder (group commit: one sync for all);
// other processes, such as `sesame accounts create` while the server runs,
// wait on the busy timeout.
//
// Rows are JSON written and read with github.com/go-json-experiment/json/v1:
// encoding/json's behaviour and output on the implementation that becomes
// encoding/json/v2 in Go 1.27 (which the module then aliases). It decodes an
// identity in half the time (11 µs against 24), which the verifier pays for
// every identity it claims.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"

	"modernc.org/sqlite"
)

// FileName is the database file inside the data directory.
const FileName = "sesame.db"

// Store is a store.Store on one SQLite file.
type Store struct {
	db *sql.DB
	// lazy is a connection with synchronous=NORMAL, for the writes that
	// may be lost with the machine (not with the process): see
	// writeLazy.
	lazy *sql.Conn
	wmu  sync.Mutex // one writer at a time in this process

	qmu     sync.Mutex
	queued  []*pendingWrite // waiting for a commit: the leader's next batch
	leading bool            // a write leads (commits batches) or is made leader
}

// Open opens (creating if needed) the database in dir and migrates its
// schema to the current version.
func Open(ctx context.Context, dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory %q: %w", dir, err)
	}
	return OpenFile(ctx, filepath.Join(dir, FileName))
}

// OpenFile opens the database at path, creating it mode 0600 (see
// privateFiles).
func OpenFile(ctx context.Context, path string) (*Store, error) {
	if err := privateFiles(path); err != nil {
		return nil, err
	}
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	base, err := sqlite.NewConnector("file:" + path + "?" + q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %q: %w", path, err)
	}
	db := sql.OpenDB(cachingConnector{base}) // see stmtcache.go
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	s := &Store{db: db}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("database %q: %w", path, err)
	}
	if s.lazy, err = db.Conn(ctx); err == nil {
		_, err = s.lazy.ExecContext(ctx, `PRAGMA synchronous=NORMAL`)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("database %q: %w", path, err)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.wmu.Lock()
	s.lazy.Close()
	s.wmu.Unlock()
	return s.db.Close()
}

// lazyConn is the lazy connection, opened again if database/sql has
// discarded it (a bad connection ends a sql.Conn for good); the pool's
// durable connections meanwhile, if it cannot be. Under wmu.
func (s *Store) lazyConn() beginner {
	if err := s.lazy.Raw(func(any) error { return nil }); !errors.Is(err, sql.ErrConnDone) {
		return s.lazy
	}
	ctx := context.Background()
	c, err := s.db.Conn(ctx)
	if err == nil {
		if _, err = c.ExecContext(ctx, `PRAGMA synchronous=NORMAL`); err != nil {
			c.Close()
		}
	}
	if err != nil {
		return s.db
	}
	s.lazy = c
	return c
}

// write runs fn in an immediate transaction, one writer at a time, and
// returns once that transaction is committed (on disk). Writes that arrive
// while another commits are committed together, each fn in a savepoint of
// one transaction (group commit): one sync to disk for all of them, which
// is what bounds concurrent writers (a send call each, say) otherwise. A
// fn that fails is rolled back alone, and its caller gets its error; a
// failed commit fails them all, none of them stored.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.enqueue(&pendingWrite{ctx: ctx, fn: fn, durable: true, done: make(chan error, 1)})
}

// writeLazy is write for what the queue writes about its messages (their
// leases and the outcomes of attempts): committed without a sync to disk
// (synchronous=NORMAL), unless a write that must be durable shares the
// transaction. In WAL mode such a commit survives the process being
// killed at any moment (it is in the operating system's cache); only the
// machine's crash or power loss may take the last of them, and then the
// messages concerned are sent again (at least once, as after a crash
// between a delivery and its record), while the next durable commit
// syncs them too. A sync was a third of the CPU of writing an outcome.
func (s *Store) writeLazy(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.enqueue(&pendingWrite{ctx: ctx, fn: fn, done: make(chan error, 1)})
}

// enqueue queues w and returns once it is committed: by the leader, the
// one write at a time that commits what is queued; w leads when none does,
// or when the last leader hands it the lead. A write that waits is woken
// once, for its outcome or for the lead: not, as when each waited for the
// writer's mutex to find its outcome there, once per write ahead of it in
// the mutex's queue, each handing the mutex to the next (a convoy of
// wake-ups that kept the cores' run queues full, so that the relay's
// connections, whose answers only a core without work polls for, waited
// milliseconds for each: docs/benchmarks.md).
func (s *Store) enqueue(w *pendingWrite) error {
	s.qmu.Lock()
	s.queued = append(s.queued, w)
	lead := !s.leading
	s.leading = true
	s.qmu.Unlock()
	var err error
	if lead {
		err = s.lead(w)
	} else if err = <-w.done; err == errLead {
		err = s.lead(w)
	}
	if p, ok := err.(panicked); ok {
		panic(p.v) // in the goroutine whose fn it was
	}
	return err
}

// errLead, sent to a queued write, makes it the leader.
var errLead = errors.New("sqlite: lead the next commit")

// panicked is the panic of a fn run in another caller's batch.
type panicked struct{ v any }

func (p panicked) Error() string { return fmt.Sprint("panic in a write: ", p.v) }

// run calls fn, turning its panic into a panicked error.
func run(fn func(tx *sql.Tx) error, tx *sql.Tx) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = panicked{v}
		}
	}()
	return fn(tx)
}

// lead commits what is queued, w among it (a leader is still queued), then
// hands the lead to the first write queued meanwhile, or ends it.
func (s *Store) lead(w *pendingWrite) error {
	defer s.handOff()
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.qmu.Lock()
	batch := s.queued
	s.queued = nil
	s.qmu.Unlock()
	committed := false
	defer func() {
		if !committed {
			// commit did not return (a panic outside the fns, which run
			// turns into errors, or a runtime.Goexit in one): the writes
			// of the batch not answered yet must not wait for ever. An
			// answered one has its outcome in done's room already, or has
			// taken it and gone.
			for _, b := range batch {
				select {
				case b.done <- errAbandoned:
				default:
				}
			}
		}
	}()
	s.commit(batch)
	committed = true
	return <-w.done
}

// errAbandoned answers the writes of a batch whose commit never ended.
var errAbandoned = errors.New("sqlite: the write's transaction was abandoned (its batch's commit did not end)")

// handOff passes the lead on, once the leader's batch is committed (or its
// commit panicked: the writes queued must not wait for a leader that
// never comes).
func (s *Store) handOff() {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	if len(s.queued) == 0 {
		s.leading = false
		return
	}
	s.queued[0].done <- errLead // it waits on done, which has room: it has no outcome yet
}

// pendingWrite is a write waiting for its commit.
type pendingWrite struct {
	ctx     context.Context
	fn      func(tx *sql.Tx) error
	durable bool // synced to disk before it returns (write, not writeLazy)
	done    chan error
}

// beginner is where a batch's transaction begins: the pool, or the lazy
// connection.
type beginner interface {
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// on is where the transaction of batch runs: on the lazy connection
// unless one of its writes must be durable.
func (s *Store) on(batch []*pendingWrite) beginner {
	for _, w := range batch {
		if w.durable {
			return s.db
		}
	}
	return s.lazyConn()
}

// maxGroup bounds the writes committed together.
const maxGroup = 64

// commit runs the writes of batch, and tells each its outcome.
func (s *Store) commit(batch []*pendingWrite) {
	for len(batch) > maxGroup {
		s.commit(batch[:maxGroup])
		batch = batch[maxGroup:]
	}
	db := s.on(batch)
	if len(batch) == 1 {
		w := batch[0]
		w.done <- writeOne(w.ctx, db, w.fn)
		return
	}
	// Not one caller's context: its end would roll back the others.
	tx, err := db.BeginTx(context.Background(), nil)
	if err != nil {
		for _, w := range batch {
			w.done <- err
		}
		return
	}
	defer tx.Rollback() // once committed, a no-op; otherwise the write lock is given back
	errs := make([]error, len(batch))
	for i, w := range batch {
		if errs[i] = w.ctx.Err(); errs[i] != nil {
			continue
		}
		if _, err := tx.Exec(`SAVEPOINT w`); err != nil {
			errs[i] = err
			continue
		}
		if errs[i] = run(w.fn, tx); errs[i] != nil {
			if _, err := tx.Exec(`ROLLBACK TO w`); err != nil {
				// The savepoint is gone with its transaction (SQLite
				// rolls back the whole of it on some errors): nothing of
				// the batch can be committed (the deferred Rollback).
				for _, w := range batch {
					w.done <- fmt.Errorf("group commit: %w", err)
				}
				return
			}
		}
		if _, err := tx.Exec(`RELEASE w`); err != nil && errs[i] == nil {
			errs[i] = err
		}
	}
	err = tx.Commit()
	for i, w := range batch {
		if _, ok := errs[i].(panicked); ok || err == nil {
			w.done <- errs[i]
		} else {
			w.done <- err
		}
	}
}

// writeOne runs fn in a transaction of its own.
func writeOne(ctx context.Context, db beginner, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() // a panic or a runtime.Goexit too: the transaction must not stay open
	if err := run(fn, tx); err != nil {
		return err
	}
	return tx.Commit()
}

// Snapshot runs fn in a read-only transaction: every query of fn sees the
// database as it was at the first one, whatever other connections and
// processes (a running server) commit meanwhile, which WAL mode allows
// without blocking them. For reading the whole store at once (storecopy).
func (s *Store) Snapshot(ctx context.Context, fn func(tx *sql.Tx) error) error {
	// ReadOnly: a deferred BEGIN rather than the BEGIN IMMEDIATE of _txlock,
	// which would hold the write lock.
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(tx)
}
