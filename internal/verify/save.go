package verify

import (
	"context"
	"sync"
	"time"

	"github.com/sesame/sesame/internal/store"
)

// saver writes the results of checks in batches, one transaction each
// (group commit): a durable store pays one sync to disk per batch rather
// than per identity, and a lone check is written at once. Results queue
// while a batch is written; at most maxQueued wait, so a store slower than
// the DNS holds the checks back rather than filling memory. When results
// came in while a batch was written, so that checks are running, the next
// batch waits up to batchWait for minBatch of them: a transaction has a
// cost of its own, beside its sync, which a few results would not spread.
type saver struct {
	store store.Store

	once    sync.Once
	room    chan struct{} // a token per queued result
	mu      sync.Mutex
	queue   []*saveReq
	writing bool
	waiting bool          // flush waits for minBatch results
	full    chan struct{} // tells a waiting flush they are there
}

type saveReq struct {
	up   store.CheckUpdate
	then func(error)
}

const (
	maxBatch  = 512 // results in one transaction
	maxQueued = 2048
	minBatch  = 64
	batchWait = 10 * time.Millisecond
)

// enqueue queues up and returns; then is called once it is written, from
// the goroutine writing it.
func (s *saver) enqueue(up store.CheckUpdate, then func(error)) {
	s.once.Do(func() {
		s.room = make(chan struct{}, maxQueued)
		s.full = make(chan struct{}, 1)
	})
	s.room <- struct{}{}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, &saveReq{up: up, then: then})
	if s.waiting && len(s.queue) == minBatch {
		s.full <- struct{}{}
	}
	if !s.writing {
		s.writing = true
		go s.flush()
	}
}

// save writes up and returns when it is written.
func (s *saver) save(up store.CheckUpdate) error {
	done := make(chan error, 1)
	s.enqueue(up, func(err error) { done <- err })
	return <-done
}

// flush writes batches until the queue is empty.
func (s *saver) flush() {
	s.mu.Lock()
	for len(s.queue) > 0 {
		n := min(len(s.queue), maxBatch)
		batch := s.queue[:n:n]
		s.queue = s.queue[n:]
		s.mu.Unlock()
		ups := make([]store.CheckUpdate, n)
		for i, r := range batch {
			ups[i] = r.up
		}
		// No caller's context: the batch holds many checks' results.
		err := s.store.SaveChecks(context.Background(), ups)
		for _, r := range batch {
			<-s.room
			r.then(err)
		}
		s.mu.Lock()
		if len(s.queue) > 0 && len(s.queue) < minBatch {
			s.waiting = true
			s.mu.Unlock()
			t := time.NewTimer(batchWait)
			select {
			case <-s.full:
			case <-t.C:
			}
			t.Stop()
			s.mu.Lock()
			s.waiting = false
			select { // sent after the timer fired
			case <-s.full:
			default:
			}
		}
	}
	s.writing = false
	s.mu.Unlock()
}
