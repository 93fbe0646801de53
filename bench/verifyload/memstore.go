package main

import (
	"context"
	"sync"
	"time"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/store"
)

// memStore keeps identities in memory, for -store=memory: the verifier's
// own cost without the database's. It implements what the verifier uses;
// other methods panic. Identities come due in the order they were added.
type memStore struct {
	store.Store // nil

	mu     sync.Mutex
	ids    map[identity.Key]*identity.Identity
	due    []identity.Key
	checks int
}

func newMemStore() *memStore { return &memStore{ids: make(map[identity.Key]*identity.Identity)} }

func (s *memStore) Import(_ context.Context, ids []*identity.Identity) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.ids[id.Key] = id.Clone()
		s.due = append(s.due, id.Key)
	}
	return nil
}

func (s *memStore) GetIdentity(_ context.Context, k identity.Key) (*identity.Identity, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.ids[k]
	if id == nil {
		return nil, store.ErrNotFound
	}
	return id.Clone(), nil
}

func (s *memStore) ClaimDue(_ context.Context, now, until time.Time, limit int) ([]*identity.Identity, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*identity.Identity
	for len(s.due) > 0 && len(out) < limit {
		id := s.ids[s.due[0]]
		s.due = s.due[1:]
		if id == nil || id.Next.IsZero() || id.Next.After(now) {
			continue
		}
		id.Next = until
		out = append(out, id.Clone())
	}
	return out, nil
}

func (s *memStore) SaveChecks(_ context.Context, ups []store.CheckUpdate) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range ups {
		var cur *identity.Identity
		if id := s.ids[u.Key]; id != nil {
			cur = id.Clone()
		}
		if next := u.Apply(cur); next != nil {
			s.ids[u.Key] = next
			s.checks += len(u.Checks)
		}
	}
	return nil
}
