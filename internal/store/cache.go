package store

import (
	"context"
	"errors"
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

	mu  sync.RWMutex
	ids map[identity.Key]*identity.Identity
	// absent are identities the store did not have when last read: a
	// sender's address under a verified domain is looked up at every
	// message, and is seldom an identity of its own. Bounded apart from
	// ids (maxAbsent), so that lookups of made-up names cannot take the
	// room of real identities.
	absent map[identity.Key]struct{}
	writes uint64 // bumped by every write, so a read that raced one is not cached
	// paused: nothing is served or kept (Pause).
	paused atomic.Bool
}

// NewCache wraps s with a cache of at most max identities.
func NewCache(s Store, max int) *Cache {
	return &Cache{s: s, Max: max, ids: make(map[identity.Key]*identity.Identity), absent: make(map[identity.Key]struct{})}
}

// maxAbsent bounds the identities known to be absent; past it they are
// all forgotten and learnt again.
const maxAbsent = 4096

var _ Store = (*Cache)(nil)

// lookup is the cached copy of k, whether k is known to be absent, and
// the write count to fill with.
func (c *Cache) lookup(k identity.Key) (*identity.Identity, bool, uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.paused.Load() {
		return nil, false, c.writes
	}
	_, absent := c.absent[k]
	return c.ids[k], absent, c.writes
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

// fillAbsent notes keys that the store did not have while the write count
// was gen.
func (c *Cache) fillAbsent(gen uint64, keys ...identity.Key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.writes != gen || c.paused.Load() || c.Max == 0 { // Max 0: no cache, and nothing watches the store
		return
	}
	for _, k := range keys {
		if len(c.absent) >= maxAbsent {
			clear(c.absent)
		}
		c.absent[k] = struct{}{}
	}
}

// GetIdentity implements Identities.
func (c *Cache) GetIdentity(ctx context.Context, k identity.Key) (*identity.Identity, error) {
	id, absent, gen := c.lookup(k)
	switch {
	case id != nil:
		return id.Clone(), nil
	case absent:
		return nil, ErrNotFound
	}
	id, err := c.s.GetIdentity(ctx, k)
	if errors.Is(err, ErrNotFound) {
		c.fillAbsent(gen, k)
	}
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
		k := identity.Key{Account: account, Region: region, Name: n}
		if id := c.ids[k]; id != nil && !paused {
			out[n] = id.Clone()
		} else if _, absent := c.absent[k]; !absent || paused {
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
	var absent []identity.Key
	for _, n := range missing {
		if _, ok := got[n]; !ok {
			absent = append(absent, identity.Key{Account: account, Region: region, Name: n})
		}
	}
	c.fillAbsent(gen, absent...)
	return out, nil
}

// UpdateIdentity implements Identities.
func (c *Cache) UpdateIdentity(ctx context.Context, k identity.Key, fn func(cur *identity.Identity) (*identity.Identity, error)) (*identity.Identity, error) {
	_, _, gen := c.lookup(k)
	id, err := c.s.UpdateIdentity(ctx, k, fn)
	c.mu.Lock()
	// Another write that ended while this one ran may have stored a newer
	// copy than id (the store orders them; their returns race): keep id
	// only when none did.
	alone := c.writes == gen
	c.writes++
	delete(c.ids, k)
	delete(c.absent, k)
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
	delete(c.absent, k) // absent now, but the write may have failed
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
		delete(c.absent, k)
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
