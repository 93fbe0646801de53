package store

import "context"

// Watcher is implemented by a store that several processes write
// (PostgreSQL, with replicas): it tells a Cache which identities the other
// processes change, so that the cache stays correct there too.
type Watcher interface {
	// Watch runs until ctx is done. It calls c.Forget with the identities
	// any process changes, c.ForgetAll when it cannot say which (a bulk
	// import), and keeps c paused (c.Pause: every read goes to the store)
	// while it cannot hear of changes, as when its connection is lost,
	// resuming (c.Resume) once it hears again.
	Watch(ctx context.Context, c *Cache)
	// Replicas is how many processes watch the store now, this one
	// included (at least 1): they share the per-name-server query rate.
	Replicas() int
}
