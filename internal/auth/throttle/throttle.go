// Package throttle holds guessing of secrets to a crawl: failed sign-ins
// are counted per client address and per key ID from that address, and
// past a few free ones each further attempt waits, 1 s, then 2, 4... up to
// 15 minutes, while a user who mistypes a few times is not troubled.
// Failures for a key ID count only against the address they come from:
// whoever fails a key ID from elsewhere cannot lock its owner out. The
// console's sign-in and the SMTP interface's AUTH share it.
package throttle

import (
	"container/list"
	"sync"
	"time"

	"github.com/sesame/sesame/internal/netlimit"
)

const (
	// FreeFailures is how many failed sign-ins one key ID has from
	// one client address before each further attempt waits.
	FreeFailures = 5
	// FreeFailuresPerAddress is the same for one client address (an
	// IPv4 address, or an IPv6 /64) whatever the key IDs, larger since an
	// office or a NAT puts many users behind one.
	FreeFailuresPerAddress = 20
	// FirstBackoff is the first wait; it doubles with each further
	// failure, up to MaxBackoff.
	FirstBackoff = time.Second
	MaxBackoff   = 15 * time.Minute
)

const (
	// forget is how long a quiet entry is remembered after its
	// last failure and its wait ended: failures spread over a day still
	// add up.
	forget = time.Hour
	// tableMax bounds the table. A full table makes room by forgetting
	// its least recently used quiet entry (one not holding attempts back);
	// an attempt that still finds none counts on one shared overflow
	// entry, so a flood of addresses or key IDs never grows memory.
	tableMax = 50000
	// sweepMax is how many entries, from the least recently used,
	// one attempt looks at to make room: the work of an attempt is bounded
	// even when the whole table is holding attempts back.
	sweepMax = 64
)

// Table counts failed sign-ins per entry: "ip:" an address, "id:" a key
// ID with the address it came from.
type Table struct {
	mu  sync.Mutex
	m   map[string]*list.Element // of *strikes, in lru
	lru list.List                // the most recently used at the front
	// overflow counts the attempts that found no room in a full table.
	// Since it is shared, possibly with an attacker, it never holds an
	// attempt back before its secret is checked: it only turns the
	// failures into refusals (see Ticket.Held).
	overflow strikes
	// Max bounds the table; 0 means 50,000 entries.
	Max int
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
	return s.quiet(now) && now.Sub(s.last) > forget && now.Sub(s.until) > forget
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

// Ticket is what Begin counted for one attempt, for Succeeded to undo.
type Ticket struct {
	keys     []Key // counted in the table
	overflow bool  // counted on the overflow
	// Held is how long the overflow, which this attempt shares, holds
	// failures back: a wrong secret is then refused (429, or SMTP's 454)
	// rather than answered as wrong; a right one still signs in.
	Held time.Duration
}

// Begin decides an attempt before its secret is checked. A positive wait
// refuses it: an entry of its own holds it back. Otherwise the attempt is
// counted as failed at once, until Succeeded says otherwise, so parallel
// attempts cannot all slip through before the first failure is counted.
func (t *Table) Begin(now time.Time, keys ...Key) (time.Duration, Ticket) {
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
		return w, Ticket{}
	}
	if t.overflow.stale(now) {
		t.overflow = strikes{}
	}
	var tk Ticket
	for _, k := range keys {
		if s := t.entry(now, k.name); s != nil {
			s.fail(now, k.free)
			tk.keys = append(tk.keys, k)
			continue
		}
		if !tk.overflow {
			tk.overflow = true
			if !t.overflow.quiet(now) {
				tk.Held = t.overflow.until.Sub(now)
			}
			t.overflow.fail(now, FreeFailuresPerAddress)
		}
	}
	return 0, tk
}

// Succeeded undoes the count of an attempt that signed in: the entry of
// its key ID from its address is forgotten, its address keeps its other
// failures.
func (t *Table) Succeeded(tk Ticket) {
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
		t.overflow.undo(FreeFailuresPerAddress)
	}
}

// entry returns the strikes of name, made if need be, or nil when the
// table is full and no room could be made.
func (t *Table) entry(now time.Time, name string) *strikes {
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

// sweep looks at up to sweepMax entries from the least recently
// used: it forgets stale ones, and in a full table the first quiet one. An
// entry holding attempts back is kept and moved to the front, so the next
// sweep looks further.
func (t *Table) sweep(now time.Time) {
	for range sweepMax {
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

// Len is how many entries the table holds.
func (t *Table) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

func (t *Table) limit() int {
	if t.Max > 0 {
		return t.Max
	}
	return tableMax
}

// backoff is the wait after n failures beyond the free ones.
func backoff(n int) time.Duration {
	if n >= 20 {
		return MaxBackoff
	}
	return min(FirstBackoff<<n, MaxBackoff)
}

// Key is what failures are counted by: a client address, or a key ID from
// one.
type Key struct {
	name string
	free int
	pair bool // a key ID from an address, forgotten on a sign-in
}

// PairKey is one key ID from one client address. Only well-formed key IDs
// get one: any other names no key, and its failures count against the
// address alone.
func PairKey(keyID string, addr Key) Key {
	return Key{name: "id:" + keyID + " " + addr.name, free: FreeFailures, pair: true}
}

// Addr is the key of the client's address from RemoteAddr (Client).
func Addr(remote string) Key { return Key{name: "ip:" + Client(remote), free: FreeFailuresPerAddress} }

// Client is who a remote address (host:port) stands for, as
// netlimit.Client counts clients: its IP address, or for IPv6 its /64,
// which one host usually has whole. Behind a reverse proxy, every client
// shares the proxy's address; X-Forwarded-For is not trusted, since anyone
// can send it.
func Client(remote string) string {
	p := netlimit.Client(remote)
	switch {
	case !p.IsValid():
		return remote
	case p.Addr().Is4():
		return p.Addr().String()
	}
	return p.String()
}
