package console

import (
	"sync"
	"time"

	"github.com/sesame/sesame/internal/netlimit"
)

// Sign-in throttling: guessing secrets through the console is held to a
// crawl, per access key ID and per client address, while a user who
// mistypes a few times is not troubled.
const (
	// SignInFreeFailures is how many failed sign-ins a key ID has before
	// each further attempt waits.
	SignInFreeFailures = 5
	// SignInFreeFailuresPerAddress is the same for one client address (an
	// IPv4 address, or an IPv6 /64), larger since an office or a NAT puts
	// many users behind one.
	SignInFreeFailuresPerAddress = 20
	// SignInBackoff is the first wait; it doubles with each further
	// failure, up to SignInMaxBackoff.
	SignInBackoff    = time.Second
	SignInMaxBackoff = 15 * time.Minute
)

const (
	// throttleForget is how long a quiet key is remembered after its
	// wait ended: failures spread over a day still add up.
	throttleForget = time.Hour
	// throttleMax bounds the table; past it, the keys not in it share one
	// entry, so flooding it with addresses or key IDs throttles the
	// flooder, never grows memory.
	throttleMax = 50000
)

// throttle counts failed sign-ins per key: "id:" a key ID, "ip:" an
// address.
type throttle struct {
	mu    sync.Mutex
	m     map[string]*strikes
	swept time.Time // the last sweep of a full table, at most one a minute
}

type strikes struct {
	fails int
	until time.Time // attempts wait until then
	last  time.Time
}

// wait is how long the attempt for keys must wait: zero lets it through
// and counts it as failed until succeeded says otherwise (so parallel
// attempts cannot all slip through before the first failure is counted).
func (t *throttle) wait(now time.Time, keys ...throttleKey) time.Duration {
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

// succeeded undoes the count of an attempt that signed in: its key ID
// starts afresh, its address keeps its other failures.
func (t *throttle) succeeded(keyID, addr throttleKey) {
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
func (t *throttle) lookup(name string) *strikes {
	if s := t.m[name]; s != nil || len(t.m) < throttleMax {
		return s
	}
	return t.m["overflow"]
}

// entry returns the strikes of name, making room when the table is full.
func (t *throttle) entry(now time.Time, name string) *strikes {
	if s := t.m[name]; s != nil {
		return s
	}
	if len(t.m) >= throttleMax && now.Sub(t.swept) > time.Minute {
		t.swept = now
		for n, s := range t.m {
			if now.After(s.until) && now.Sub(s.last) > throttleForget {
				delete(t.m, n)
			}
		}
	}
	if len(t.m) >= throttleMax {
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
		return SignInMaxBackoff
	}
	return min(SignInBackoff<<n, SignInMaxBackoff)
}

type throttleKey struct {
	name string
	free int
}

func keyIDKey(id string) throttleKey { return throttleKey{"id:" + id, SignInFreeFailures} }

// addrKey is the client's address from RemoteAddr, as netlimit counts
// clients: an IPv6 client counts by its /64, which one host usually has
// whole. Behind a reverse proxy, every client shares the proxy's address;
// X-Forwarded-For is not trusted, since anyone can send it.
func addrKey(remote string) throttleKey {
	p := netlimit.Client(remote)
	if !p.IsValid() {
		return throttleKey{"ip:" + remote, SignInFreeFailuresPerAddress}
	}
	if p.Addr().Is4() {
		return throttleKey{"ip:" + p.Addr().String(), SignInFreeFailuresPerAddress}
	}
	return throttleKey{"ip:" + p.String(), SignInFreeFailuresPerAddress}
}
