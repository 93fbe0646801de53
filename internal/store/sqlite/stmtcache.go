package sqlite

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"
	"sync"
)

// The driver prepares (parses and plans) the SQL of every query anew:
// database/sql only reuses a statement made with Prepare, and the store's
// queries are plain strings. Preparing was an eighth of the CPU of a sent
// message (bench/sendload: the gate's reads, the outbox's insert, the
// queue's claims). So each connection keeps the statements it has
// prepared, by their SQL, and runs a query it has seen on its statement
// again (SQLite resets it between uses, and re-prepares it by itself
// after a schema change).

// maxCachedStmts bounds the statements one connection keeps: the store
// has fewer queries than this, and a query beyond it is prepared and
// finalized each time, as without the cache.
const maxCachedStmts = 256

// cachingConnector opens connections that keep their statements.
type cachingConnector struct{ driver.Connector }

func (c cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := dc.(sqliteConn)
	if !ok {
		dc.Close()
		return nil, fmt.Errorf("sqlite: the driver's connection (%T) lacks the context methods the store uses", dc)
	}
	return &cachingConn{sqliteConn: sc, stmts: make(map[string]*cachedStmt)}, nil
}

// sqliteConn is what modernc.org/sqlite's connections implement and
// database/sql looks for: a wrapper must forward each of them (see
// sqlite.NewConnector).
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

type contextStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// cachingConn is a connection with its statements by SQL. database/sql
// uses a connection from one goroutine at a time, but closes a query's
// rows from another when its context ends: hence the mutex.
type cachingConn struct {
	sqliteConn
	mu    sync.Mutex
	stmts map[string]*cachedStmt
}

type cachedStmt struct {
	contextStmt
	busy bool // its rows are open: the same SQL meanwhile gets a statement of its own
}

// Unwrap is the driver's own connection (sqlite.Limit and the like look
// through wrappers with it).
func (c *cachingConn) Unwrap() driver.Conn { return c.sqliteConn }

// stmt is the statement for query, and done, to call once its result is
// read: it frees a kept statement for the next use, and finalizes one
// that is not kept (a script of several statements, one whose kept
// statement is busy, or one past maxCachedStmts).
func (c *cachingConn) stmt(ctx context.Context, query string) (contextStmt, func(), error) {
	c.mu.Lock()
	if s := c.stmts[query]; s != nil && !s.busy {
		s.busy = true
		c.mu.Unlock()
		return s, func() { c.free(s) }, nil
	}
	_, had := c.stmts[query]
	c.mu.Unlock()
	ds, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	st, ok := ds.(contextStmt)
	if !ok {
		ds.Close()
		return nil, nil, fmt.Errorf("sqlite: the driver's statement (%T) lacks the context methods", ds)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !had && len(c.stmts) < maxCachedStmts && !strings.Contains(query, ";") {
		s := &cachedStmt{contextStmt: st, busy: true}
		c.stmts[query] = s
		return s, func() { c.free(s) }, nil
	}
	return st, func() { st.Close() }, nil
}

func (c *cachingConn) free(s *cachedStmt) {
	c.mu.Lock()
	s.busy = false
	c.mu.Unlock()
}

// ExecContext implements driver.ExecerContext on the kept statements.
func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s, done, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	defer done()
	return s.ExecContext(ctx, args)
}

// QueryContext implements driver.QueryerContext on the kept statements.
func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s, done, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := s.QueryContext(ctx, args)
	if err != nil {
		done()
		return nil, err
	}
	return &cachedRows{Rows: rows, done: done}, nil
}

// Close finalizes the kept statements, then closes the connection.
func (c *cachingConn) Close() error {
	c.mu.Lock()
	for q, s := range c.stmts {
		s.Close()
		delete(c.stmts, q)
	}
	c.mu.Unlock()
	return c.sqliteConn.Close()
}

// cachedRows gives its statement back once closed (the driver resets it).
type cachedRows struct {
	driver.Rows
	done func()
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	if r.done != nil {
		r.done()
		r.done = nil
	}
	return err
}
