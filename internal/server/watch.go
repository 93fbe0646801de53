package server

import (
	"context"
	"sync"

	"github.com/sesame/sesame/internal/store"
)

// watchCache keeps the identity cache right on a store that other
// processes write (store.Watcher: PostgreSQL's LISTEN/NOTIFY): the cache is
// paused, every read going to the store, until the watcher hears changes,
// and it forgets what other replicas write. Close stops it.
func (s *Server) watchCache() {
	w, ok := s.Store.(store.Watcher)
	if !ok || s.Identities.Max == 0 {
		return
	}
	s.Identities.Pause()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { w.Watch(ctx, s.Identities) })
	s.stopWatch = func() {
		cancel()
		wg.Wait()
	}
}
