package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash/maphash"
	"sync/atomic"
)

// cacheSlots bounds the signing-key cache. A signing key is valid for one
// (key, day, region, service), so a deployment needs one slot per active
// access key and region; collisions just cost a re-derivation.
const cacheSlots = 512

var cacheSeed = maphash.MakeSeed()

// keyCache is a direct-mapped, lock-free cache of derived SigV4 signing keys.
// Entries are immutable and swapped atomically, so readers never block and the
// memory used is fixed. The secret is part of the key, so a rotated secret
// misses instead of serving a stale key.
type keyCache struct {
	slots [cacheSlots]atomic.Pointer[cacheEntry]
}

type cacheEntry struct {
	accessKeyID, secret, date, region, service string
	key                                        [32]byte
}

func slotOf(accessKeyID, secret, date, region, service string) uint64 {
	var h maphash.Hash
	h.SetSeed(cacheSeed)
	h.WriteString(accessKeyID)
	h.WriteByte(0)
	h.WriteString(secret)
	h.WriteByte(0)
	h.WriteString(date)
	h.WriteByte(0)
	h.WriteString(region)
	h.WriteByte(0)
	h.WriteString(service)
	return h.Sum64() % cacheSlots
}

// signingKey returns HMAC chain "AWS4"+secret → date → region → service →
// "aws4_request", from the cache when possible.
func (c *keyCache) signingKey(accessKeyID, secret, date, region, service string) [32]byte {
	slot := &c.slots[slotOf(accessKeyID, secret, date, region, service)]
	if e := slot.Load(); e != nil && e.accessKeyID == accessKeyID && e.secret == secret &&
		e.date == date && e.region == region && e.service == service {
		return e.key
	}
	e := &cacheEntry{
		// Clone: the arguments are substrings of request headers, which the
		// cache must not keep alive.
		accessKeyID: clone(accessKeyID),
		secret:      clone(secret),
		date:        clone(date),
		region:      clone(region),
		service:     clone(service),
		key:         deriveKey(secret, date, region, service),
	}
	slot.Store(e)
	return e.key
}

func clone(s string) string { return string([]byte(s)) }

func deriveKey(secret, date, region, service string) [32]byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	k = hmacSHA256(k, "aws4_request")
	var out [32]byte
	copy(out[:], k)
	return out
}

func hmacSHA256(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}
