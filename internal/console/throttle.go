package console

import (
	"container/list"
	"net/netip"
	"sync"
	"time"
)

// Sign-in throttling: guessing secrets through the console is held to a
// crawl per client address and per key ID from that address, while a user
// who mistypes a few times is not troubled. Failures for a key ID count
// only against the address they come from: whoever fails a key ID from
// elsewhere cannot lock its owner out.
const (
	// SignInFreeFailures is how many failed sign-ins one key ID has from
	// one client address before each further attempt waits.
	SignInFreeFailures = 5
	// SignInFreeFailuresPerAddress is the same for one client address (an
	// IPv4 address, or an IPv6 /64) whatever the key IDs, larger since an
	// office or a NAT puts many users behind one.
	SignInFreeFailuresPerAddress = 20
	// SignInBackoff is the first wait; it doubles with each further
	// failure, up to SignInMaxBackoff.
	SignInBackoff    = time.Second
	SignInMaxBackoff = 15 * time.Minute
)

const (
	// throttleForget is how long a quiet entry is remembered after its
	// last failure and its wait ended: failures spread over a day still
	// add up.
	throttleForget = time.Hour
	// throttleMax bounds the table. A full table makes room by forgetting
	// its least recently used quiet entry (one not holding attempts back);
	// an attempt that still finds none counts on one shared overflow
	// entry, so a flood of addresses or key IDs never grows memory.
	throttleMax = 50000
	// throttleSweep is how many entries, from the least recently used,
	// one attempt looks at to make room: the work of an attempt is bounded
	// even when the whole table is holding attempts back.
	throttleSweep = 64
)

// throttle counts failed sign-ins per entry: "ip:" an address, "id:" a key
// ID with the address it came from.
type throttle struct {
	mu  sync.Mutex
	m   map[string]*list.Element // of *strikes, in lru
	lru list.List                // the most recently used at the front
	// overflow counts the attempts that found no room in a full table.
	// Since it is shared, possibly with an attacker, it never holds an
	// attempt back before its secret is checked: it only turns the
	// failures into refusals (see ticket.held).
	overflow strikes
	max      int // the bound of m; 0 means throttleMax
}

type strikes struct {
	name  string
	fails int
	until time.Time // attempts wait until then
	last  time.Time // the last failure counted
}

// quiet: not holding attempts back now.
func (s *strikes) quiet(now time.Time) bool { return !now.Before(s.until) }

// stale: quiet, and for long enough to be forgotten.
func (s *strikes) stale(now time.Time) bool {
	return s.quiet(now) && now.Sub(s.last) > throttleForget && now.Sub(s.until) > throttleForget
}

// fail counts one failure; past free, attempts wait.
func (s *strikes) fail(now time.Time, free int) {
	s.fails++
	s.last = now
	if s.fails >= free {
		s.until = now.Add(backoff(s.fails - free))
	}
}

// undo takes back the failure counted for an attempt that signed in.
func (s *strikes) undo(free int) {
	if s.fails > 0 {
		s.fails--
	}
	if s.fails < free {
		s.until = time.Time{}
	}
}

// ticket is what begin counted for one attempt, for succeeded to undo.
type ticket struct {
	keys     []throttleKey // counted in the table
	overflow bool          // counted on the overflow
	// held is how long the overflow, which this attempt shares, holds
	// failures back: a wrong secret is then refused (429) rather than
	// answered 401; a right one still signs in.
	held time.Duration
}

// begin decides an attempt before its secret is checked. A positive wait
// refuses it: an entry of its own holds it back. Otherwise the attempt is
// counted as failed at once, until succeeded says otherwise, so parallel
// attempts cannot all slip through before the first failure is counted.
func (t *throttle) begin(now time.Time, keys ...throttleKey) (time.Duration, ticket) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]*list.Element{}
	}
	var w time.Duration
	for _, k := range keys {
		if e := t.m[k.name]; e != nil {
			if s := e.Value.(*strikes); !s.quiet(now) {
				w = max(w, s.until.Sub(now))
			}
		}
	}
	if w > 0 {
		return w, ticket{}
	}
	if t.overflow.stale(now) {
		t.overflow = strikes{}
	}
	var tk ticket
	for _, k := range keys {
		if s := t.entry(now, k.name); s != nil {
			s.fail(now, k.free)
			tk.keys = append(tk.keys, k)
			continue
		}
		if !tk.overflow {
			tk.overflow = true
			if !t.overflow.quiet(now) {
				tk.held = t.overflow.until.Sub(now)
			}
			t.overflow.fail(now, SignInFreeFailuresPerAddress)
		}
	}
	return 0, tk
}

// succeeded undoes the count of an attempt that signed in: the entry of
// its key ID from its address is forgotten, its address keeps its other
// failures.
func (t *throttle) succeeded(tk ticket) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range tk.keys {
		e := t.m[k.name]
		if e == nil {
			continue // made room for another since
		}
		if k.pair {
			t.lru.Remove(e)
			delete(t.m, k.name)
			continue
		}
		e.Value.(*strikes).undo(k.free)
	}
	if tk.overflow {
		t.overflow.undo(SignInFreeFailuresPerAddress)
	}
}

// entry returns the strikes of name, made if need be, or nil when the
// table is full and no room could be made.
func (t *throttle) entry(now time.Time, name string) *strikes {
	if e := t.m[name]; e != nil {
		t.lru.MoveToFront(e)
		return e.Value.(*strikes)
	}
	t.sweep(now)
	if len(t.m) >= t.limit() {
		return nil
	}
	s := &strikes{name: name}
	t.m[name] = t.lru.PushFront(s)
	return s
}

// sweep looks at up to throttleSweep entries from the least recently
// used: it forgets stale ones, and in a full table the first quiet one. An
// entry holding attempts back is kept and moved to the front, so the next
// sweep looks further.
func (t *throttle) sweep(now time.Time) {
	for range throttleSweep {
		e := t.lru.Back()
		if e == nil {
			return
		}
		s := e.Value.(*strikes)
		full := len(t.m) >= t.limit()
		switch {
		case s.stale(now) || full && s.quiet(now):
			t.lru.Remove(e)
			delete(t.m, s.name)
		case full:
			t.lru.MoveToFront(e)
		default:
			return
		}
	}
}

func (t *throttle) limit() int {
	if t.max > 0 {
		return t.max
	}
	return throttleMax
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
	pair bool // a key ID from an address, forgotten on a sign-in
}

// pairKey is one key ID from one client address. Only well-formed key IDs
// get one: any other names no key, and its failures count against the
// address alone.
func pairKey(keyID string, addr throttleKey) throttleKey {
	return throttleKey{name: "id:" + keyID + " " + addr.name, free: SignInFreeFailures, pair: true}
}

// addrKey is the client's address from RemoteAddr: an IPv6 client counts
// by its /64, which one host usually has whole. Behind a reverse proxy,
// every client shares the proxy's address; X-Forwarded-For is not
// trusted, since anyone can send it.
func addrKey(remote string) throttleKey {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return throttleKey{name: "ip:" + remote, free: SignInFreeFailuresPerAddress}
	}
	a := ap.Addr().Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return throttleKey{name: "ip:" + p.String(), free: SignInFreeFailuresPerAddress}
	}
	return throttleKey{name: "ip:" + a.String(), free: SignInFreeFailuresPerAddress}
}
