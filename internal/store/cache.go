package store

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sesame/sesame/internal/identity"
)

// Cache keeps identities in memory in front of a Store, so that reads (the
// bulk of API traffic) cost no database round trip. It is write-through and
// is correct only while this process is the one writer of identities, which
// is true of `sesame serve` on SQLite: the other commands change accounts,
// not identities. Where other processes write identities too (replicas on
// PostgreSQL), a Watcher tells the cache what they change (cache_watch.go).
//
// Cache implements every method of Store itself and embeds nothing: a
// method added to Store does not compile here until the cache says whether
// it reads identities (from the cache), writes them (then invalidates), or
// does neither (passes through; cache_passthrough.go). TestCacheMethods
// holds that list to the interface.
type Cache struct {
	s Store
	// Max bounds the entries kept; past it, reads of uncached identities go
	// to the store.
	Max int

	mu     sync.RWMutex
	ids    map[identity.Key]*identity.Identity
	writes uint64 // bumped by every write, so a read that raced one is not cached
	// paused: nothing is served or kept (Pause).
	paused atomic.Bool
}

// NewCache wraps s with a cache of at most max identities.
func NewCache(s Store, max int) *Cache {
	return &Cache{s: s, Max: max, ids: make(map[identity.Key]*identity.Identity)}
}

var _ Store = (*Cache)(nil)

func (c *Cache) lookup(k identity.Key) (*identity.Identity, uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.paused.Load() {
		return nil, c.writes
	}
	return c.ids[k], c.writes
}

// fill caches ids read while the write count was gen.
func (c *Cache) fill(gen uint64, ids ...*identity.Identity) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.writes != gen || c.paused.Load() {
		return
	}
	for _, id := range ids {
		if len(c.ids) >= c.Max {
			return
		}
		c.ids[id.Key] = id.Clone()
	}
}

// GetIdentity implements Identities.
func (c *Cache) GetIdentity(ctx context.Context, k identity.Key) (*identity.Identity, error) {
	id, gen := c.lookup(k)
	if id != nil {
		return id.Clone(), nil
	}
	id, err := c.s.GetIdentity(ctx, k)
	if err != nil {
		return nil, err
	}
	c.fill(gen, id)
	return id, nil
}

// GetIdentities implements Identities.
func (c *Cache) GetIdentities(ctx context.Context, account, region string, names []string) (map[string]*identity.Identity, error) {
	out := make(map[string]*identity.Identity, len(names))
	var missing []string
	c.mu.RLock()
	gen := c.writes
	paused := c.paused.Load()
	for _, n := range names {
		if id := c.ids[identity.Key{Account: account, Region: region, Name: n}]; id != nil && !paused {
			out[n] = id.Clone()
		} else {
			missing = append(missing, n)
		}
	}
	c.mu.RUnlock()
	if len(missing) == 0 {
		return out, nil
	}
	got, err := c.s.GetIdentities(ctx, account, region, missing)
	if err != nil {
		return nil, err
	}
	fill := make([]*identity.Identity, 0, len(got))
	for n, id := range got {
		out[n] = id
		fill = append(fill, id)
	}
	c.fill(gen, fill...)
	return out, nil
}

// UpdateIdentity implements Identities.
func (c *Cache) UpdateIdentity(ctx context.Context, k identity.Key, fn func(cur *identity.Identity) (*identity.Identity, error)) (*identity.Identity, error) {
	_, gen := c.lookup(k)
	id, err := c.s.UpdateIdentity(ctx, k, fn)
	c.mu.Lock()
	// Another write that ended while this one ran may have stored a newer
	// copy than id (the store orders them; their returns race): keep id
	// only when none did.
	alone := c.writes == gen
	c.writes++
	delete(c.ids, k)
	if err == nil && alone && len(c.ids) < c.Max && !c.paused.Load() {
		c.ids[k] = id.Clone()
	}
	c.mu.Unlock()
	return id, err
}

// DeleteIdentity implements Identities.
func (c *Cache) DeleteIdentity(ctx context.Context, k identity.Key) (bool, error) {
	ok, err := c.s.DeleteIdentity(ctx, k)
	c.mu.Lock()
	c.writes++
	delete(c.ids, k)
	c.mu.Unlock()
	return ok, err
}

// DueIdentities implements Identities; it always reads the store, which
// holds the schedule.
func (c *Cache) DueIdentities(ctx context.Context, now time.Time, limit int) ([]*identity.Identity, error) {
	return c.s.DueIdentities(ctx, now, limit)
}

// Import implements Identities; the imported identities are read again
// from the store next time.
func (c *Cache) Import(ctx context.Context, ids []*identity.Identity) error {
	err := c.s.Import(ctx, ids)
	c.forgetIDs(ids)
	return err
}

// forget drops cached identities after a write the cache cannot replay.
func (c *Cache) forget(keys ...identity.Key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes++
	for _, k := range keys {
		delete(c.ids, k)
	}
}

// forgetIDs forgets the identities a write returned or was given.
func (c *Cache) forgetIDs(ids []*identity.Identity) {
	keys := make([]identity.Key, len(ids))
	for i, id := range ids {
		keys[i] = id.Key
	}
	c.forget(keys...)
}

// ClaimDue implements Checks; the leased identities are read again from
// the store next time.
func (c *Cache) ClaimDue(ctx context.Context, now, until time.Time, limit int) ([]*identity.Identity, error) {
	ids, err := c.s.ClaimDue(ctx, now, until, limit)
	c.forgetIDs(ids)
	return ids, err
}

// SaveChecks implements Checks. ListChecks goes to the store as is: the
// timeline is not cached.
func (c *Cache) SaveChecks(ctx context.Context, updates []CheckUpdate) error {
	err := c.s.SaveChecks(ctx, updates)
	keys := make([]identity.Key, len(updates))
	for i, u := range updates {
		keys[i] = u.Key
	}
	c.forget(keys...)
	return err
}
