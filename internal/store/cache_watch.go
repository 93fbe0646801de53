package store

import "github.com/sesame/sesame/internal/identity"

// The methods below are for a Watcher, which tells the cache of writes
// made by other processes.

// Forget drops the cached copies of keys, written elsewhere. A read that
// was in flight when Forget ran is not cached (as after a write here).
func (c *Cache) Forget(keys ...identity.Key) { c.forget(keys...) }

// ForgetAll empties the cache.
func (c *Cache) ForgetAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes++
	clear(c.ids)
	clear(c.absent)
}

// Pause stops the cache from serving or keeping anything, and empties it:
// while paused, every read goes to the store. It is for the times when
// writes made elsewhere cannot be heard of.
func (c *Cache) Pause() {
	c.paused.Store(true)
	c.ForgetAll()
}

// Resume ends a Pause; the cache fills again from the store.
func (c *Cache) Resume() {
	c.ForgetAll() // writes made while paused were not heard of
	c.paused.Store(false)
}
