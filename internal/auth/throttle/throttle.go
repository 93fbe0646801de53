// Package throttle holds guessing of secrets to a crawl: failed sign-ins
// are counted per access key ID and per client address, and past a few
// free ones each further attempt waits, 1 s, then 2, 4... up to 15
// minutes, while a user who mistypes a few times is not troubled. The
// console's sign-in and the SMTP interface's AUTH share it.
package throttle

import (
	"net/netip"
	"sync"
	"time"
)

const (
	// FreeFailures is how many failed sign-ins a key ID has before
	// each further attempt waits.
	FreeFailures = 5
	// FreeFailuresPerAddress is the same for one client address (an
	// IPv4 address, or an IPv6 /64), larger since an office or a NAT puts
	// many users behind one.
	FreeFailuresPerAddress = 20
	// FirstBackoff is the first wait; it doubles with each further
	// failure, up to MaxBackoff.
	FirstBackoff = time.Second
	MaxBackoff   = 15 * time.Minute
)

const (
	// forget is how long a quiet key is remembered after its
	// wait ended: failures spread over a day still add up.
	forget = time.Hour
	// tableMax bounds the table; past it, the keys not in it share one
	// entry, so flooding it with addresses or key IDs throttles the
	// flooder, never grows memory.
	tableMax = 50000
)

// Table counts failed sign-ins per key: "id:" a key ID, "ip:" an
// address.
type Table struct {
	mu    sync.Mutex
	m     map[string]*strikes
	swept time.Time // the last sweep of a full table, at most one a minute
}

type strikes struct {
	fails int
	until time.Time // attempts wait until then
	last  time.Time
}

// Wait is how long the attempt for keys must wait: zero lets it through
// and counts it as failed until succeeded says otherwise (so parallel
// attempts cannot all slip through before the first failure is counted).
func (t *Table) Wait(now time.Time, keys ...Key) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]*strikes{}
	}
	var w time.Duration
	for _, k := range keys {
		if s := t.lookup(k.name); s != nil && now.Before(s.until) {
			w = max(w, s.until.Sub(now))
		}
	}
	if w > 0 {
		return w
	}
	for _, k := range keys {
		s := t.entry(now, k.name)
		s.fails++
		s.last = now
		if s.fails >= k.free {
			s.until = now.Add(backoff(s.fails - k.free))
		}
	}
	return 0
}

// Succeeded undoes the count of an attempt that signed in: its key ID
// starts afresh, its address keeps its other failures.
func (t *Table) Succeeded(keyID, addr Key) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, keyID.name)
	if s := t.m[addr.name]; s != nil {
		s.fails--
		if s.fails < addr.free {
			s.until = time.Time{}
		}
	}
}

// lookup returns the strikes of name, or of the overflow when the table is
// full and name is not in it.
func (t *Table) lookup(name string) *strikes {
	if s := t.m[name]; s != nil || len(t.m) < tableMax {
		return s
	}
	return t.m["overflow"]
}

// entry returns the strikes of name, making room when the table is full.
func (t *Table) entry(now time.Time, name string) *strikes {
	if s := t.m[name]; s != nil {
		return s
	}
	if len(t.m) >= tableMax && now.Sub(t.swept) > time.Minute {
		t.swept = now
		for n, s := range t.m {
			if now.After(s.until) && now.Sub(s.last) > forget {
				delete(t.m, n)
			}
		}
	}
	if len(t.m) >= tableMax {
		name = "overflow"
		if s := t.m[name]; s != nil {
			return s
		}
	}
	s := &strikes{}
	t.m[name] = s
	return s
}

// backoff is the wait after n failures beyond the free ones.
func backoff(n int) time.Duration {
	if n >= 20 {
		return MaxBackoff
	}
	return min(FirstBackoff<<n, MaxBackoff)
}

// Key is what failures are counted by: an access key ID or an address.
type Key struct {
	name string
	free int
}

// KeyID is the key of an access key ID.
func KeyID(id string) Key { return Key{"id:" + id, FreeFailures} }

// Addr is the key of the client's address from RemoteAddr (Client).
func Addr(remote string) Key { return Key{"ip:" + Client(remote), FreeFailuresPerAddress} }

// Client is who a remote address (host:port) stands for: its IP
// address, or for IPv6 its /64, which one host usually has whole. Behind
// a reverse proxy, every client shares the proxy's address;
// X-Forwarded-For is not trusted, since anyone can send it.
func Client(remote string) string {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return remote
	}
	a := ap.Addr().Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
