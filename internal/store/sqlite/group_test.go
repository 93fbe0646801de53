package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/store"
)

// TestGroupCommit: writes made at once are committed together, yet each
// gets its own outcome: a failed one (a duplicate message ID, a limit
// reached) stores nothing and leaves the others stored, on disk once the
// call returns (they survive a reopen).
func TestGroupCommit(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	k := identity.Key{Account: "111111111111", Region: "us-east-1", Name: "example.com"}
	msg := func(id string) *store.Message {
		now := time.Now().UTC()
		return &store.Message{ID: id, Kind: store.SentMail, Key: k, From: "a@example.com", To: "b@example.org", Recipients: []string{"b@example.org"}, Counted: 1,
			Raw: []byte("Subject: x\r\n\r\nbody\r\n"), Created: now, Status: store.Queued, NextAttempt: now}
	}
	if err := s.AddMessage(ctx, msg("dup"), nil, nil); err != nil {
		t.Fatal(err)
	}
	limitErr := errors.New("quota reached")
	const n = 60
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch i % 3 {
			case 0:
				errs[i] = s.AddMessage(ctx, msg(fmt.Sprintf("m%d", i)), nil, nil)
			case 1:
				errs[i] = s.AddMessage(ctx, msg("dup"), nil, nil)
			case 2: // a limit already reached: one message exists
				lim := store.Limit{Kind: store.SentMail, Account: k.Account, Region: k.Region, Max: 1, Err: limitErr}
				errs[i] = s.AddMessage(ctx, msg(fmt.Sprintf("m%d", i)), nil, []store.Limit{lim})
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		switch i % 3 {
		case 0:
			if err != nil {
				t.Errorf("m%d: %v", i, err)
			}
		case 1:
			if !errors.Is(err, store.ErrExists) {
				t.Errorf("duplicate %d: %v, want ErrExists", i, err)
			}
		case 2:
			if !errors.Is(err, limitErr) {
				t.Errorf("m%d over the limit: %v, want its Err", i, err)
			}
		}
	}
	s.Close()
	s, err = Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range n {
		_, err := s.GetMessage(ctx, fmt.Sprintf("m%d", i))
		if want := i%3 == 0; want != (err == nil) {
			t.Errorf("m%d after reopening: %v (stored: want %v)", i, err, want)
		}
	}
}

// TestGroupCommitPanic: a write that panics panics its own caller, even
// when another caller's goroutine ran it, and the others' writes are
// stored.
func TestGroupCommitPanic(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	panics := make([]any, 20)
	errs := make([]error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { panics[i] = recover() }()
			errs[i] = s.write(ctx, func(tx *sql.Tx) error {
				if i%2 == 1 {
					panic(fmt.Sprintf("write %d", i))
				}
				_, err := tx.Exec(`INSERT INTO mail_templates (account, region, name, data) VALUES ('a', 'r', ?, '{}')`, fmt.Sprint(i))
				return err
			})
		}()
	}
	wg.Wait()
	for i := range 20 {
		if i%2 == 1 {
			if panics[i] != fmt.Sprintf("write %d", i) {
				t.Errorf("write %d: recovered %v (err %v), want its own panic", i, panics[i], errs[i])
			}
			continue
		}
		if panics[i] != nil || errs[i] != nil {
			t.Errorf("write %d: %v, %v", i, panics[i], errs[i])
		}
		var n int
		if err := s.db.QueryRow(`SELECT COUNT(*) FROM mail_templates WHERE name = ?`, fmt.Sprint(i)).Scan(&n); err != nil || n != 1 {
			t.Errorf("write %d: %d rows, %v", i, n, err)
		}
	}
}

// TestGroupCommitGoexit: a write whose fn ends its goroutine
// (runtime.Goexit, as t.FailNow does) while it leads a batch leaves no
// other write of the batch waiting for ever, and no transaction open:
// the batch's other write gets an error, and the next writes commit.
func TestGroupCommitGoexit(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	insert := func(name string) func(tx *sql.Tx) error {
		return func(tx *sql.Tx) error {
			_, err := tx.Exec(`INSERT INTO mail_templates (account, region, name, data) VALUES ('a', 'r', ?, '{}')`, name)
			return err
		}
	}
	waitQueued := func(n int) {
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			s.qmu.Lock()
			got := len(s.queued)
			s.qmu.Unlock()
			if got == n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d writes queued after 10s, want %d", got, n)
			}
		}
	}
	// A leader held in its fn, so that the next two queue behind it and
	// form the next batch, led by the first of them, which exits.
	hold, held := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- s.write(ctx, func(tx *sql.Tx) error {
			close(held)
			<-hold
			return insert("first")(tx)
		})
	}()
	<-held
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		s.write(ctx, func(*sql.Tx) error { runtime.Goexit(); return nil })
	}()
	waitQueued(1)
	other := make(chan error, 1)
	go func() { other <- s.write(ctx, insert("other")) }()
	waitQueued(2)
	close(hold)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	<-exited
	select {
	case err := <-other:
		if !errors.Is(err, errAbandoned) {
			t.Errorf("the write batched with the one that exited: %v, want errAbandoned", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the write batched with the one that exited still waits")
	}
	if err := s.write(ctx, insert("after")); err != nil {
		t.Fatalf("a write after the abandoned batch: %v", err)
	}
	var names []string
	rows, err := s.db.Query(`SELECT name FROM mail_templates ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	if fmt.Sprint(names) != "[after first]" {
		t.Errorf("stored %v, want [after first] (the abandoned batch rolled back)", names)
	}
}

// TestLazyWrites: lazy writes commit on the connection without the sync
// (synchronous=NORMAL), durable ones on the pool's (FULL), and a batch
// with both is durable; all of them are stored and seen after a reopen.
func TestLazyWrites(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	level := func(q interface {
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}) (n int) {
		if err := q.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := level(s.lazy); got != 1 {
		t.Errorf("lazy connection: synchronous = %d, want 1 (NORMAL)", got)
	}
	if got := level(s.db); got != 2 {
		t.Errorf("pool: synchronous = %d, want 2 (FULL)", got)
	}
	lazy, durable := &pendingWrite{}, &pendingWrite{durable: true}
	if s.on([]*pendingWrite{lazy, lazy}) != beginner(s.lazy) {
		t.Error("a batch of lazy writes is not committed lazily")
	}
	if s.on([]*pendingWrite{lazy, durable, lazy}) != beginner(s.db) {
		t.Error("a batch with a durable write is not committed durably")
	}
	k := identity.Key{Account: "111111111111", Region: "us-east-1", Name: "example.com"}
	now := time.Now().UTC()
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("m%d", i)
			if err := s.AddMessage(ctx, &store.Message{ID: id, Kind: store.SentMail, Key: k, From: "a@example.com", To: "b@example.org",
				Recipients: []string{"b@example.org"}, Raw: []byte("Subject: x\r\n\r\n"), Created: now, Status: store.Queued, NextAttempt: now}, nil, nil); err != nil {
				t.Error(err)
				return
			}
			m, err := s.GetMessage(ctx, id)
			if err != nil {
				t.Error(err)
				return
			}
			m.Status, m.Attempts, m.NextAttempt, m.Done = store.Sent, 1, time.Time{}, now
			if err := s.UpdateMessages(ctx, []*store.Message{m}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// A lazy connection that database/sql discarded is opened again.
	s.lazy.Close()
	m, err := s.GetMessage(ctx, "m0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateMessages(ctx, []*store.Message{m}); err != nil {
		t.Errorf("a lazy write after the lazy connection was closed: %v", err)
	}
	if got := level(s.lazy); got != 1 {
		t.Errorf("lazy connection opened again: synchronous = %d, want 1 (NORMAL)", got)
	}
	s.Close()
	if s, err = Open(ctx, dir); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 40 {
		if m, err := s.GetMessage(ctx, fmt.Sprintf("m%d", i)); err != nil || m.Status != store.Sent {
			t.Errorf("m%d after a reopen: %+v, %v; want sent", i, m, err)
		}
	}
}
