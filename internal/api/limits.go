package api

import (
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Limits bound what one request, and all requests together, may cost the
// server before and while they are served. A zero field takes its default
// (DefaultLimits); AccountRate < 0 turns the per-account limit off.
type Limits struct {
	// Body is the largest body of every operation but the custom
	// verification email template ones. Their largest request,
	// GetIdentityVerificationAttributes of 100 long addresses or
	// CreateEmailIdentity with 50 tags, is under 100 KiB.
	Body int64
	// TemplateBody is the largest body of Create- and
	// UpdateCustomVerificationEmailTemplate: a template may hold close to
	// 10 MB of HTML, which grows in transit (v1 percent-encodes <, >, ",
	// = and spaces into three bytes each; a JSON encoder may write a
	// non-ASCII character as a six-byte \uXXXX escape).
	TemplateBody int64
	// BodyMemory bounds the body bytes held at once across the server;
	// a request whose body does not fit gets SES's throttling error.
	// It must hold one largest body and room for small calls beside it
	// (MinBodyMemory).
	BodyMemory int64
	// BodyPerKey and BodyPerClient bound the bytes of small bodies (and
	// of the first Limits.Body bytes of large ones) held at once for one
	// access key and for one client address (an IPv4 address or an IPv6
	// /64): a client that knows a key ID but not its secret, or sends
	// from one address, cannot take the whole budget. Defaults:
	// BodyMemory/16 and BodyMemory/8.
	BodyPerKey    int64
	BodyPerClient int64
	// BodyTimeout and BodyRate give the pace of a body: its byte k must
	// have arrived BodyTimeout plus k/BodyRate seconds after the body was
	// first read. A body that trickles a byte every few seconds is cut off
	// once it falls behind.
	BodyTimeout time.Duration
	BodyRate    int64
	// AccountRate and AccountBurst are each account's token bucket of
	// requests: AccountRate a second on average, AccountBurst at once.
	AccountRate  float64
	AccountBurst int
}

// DefaultLimits are the limits of `sesame serve` unless flags change them.
// The account rate is far above what one account needs and what
// bench/apiload sends from its one account (20,000-24,000 requests/s on
// two cores): it stops a runaway client, not a busy one.
var DefaultLimits = Limits{
	Body:         256 << 10,
	TemplateBody: 32 << 20,
	BodyMemory:   64 << 20,
	BodyTimeout:  10 * time.Second,
	BodyRate:     128 << 10,
	AccountRate:  50000,
	AccountBurst: 50000,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.Body <= 0 {
		l.Body = d.Body
	}
	if l.TemplateBody <= 0 {
		l.TemplateBody = d.TemplateBody
	}
	if l.TemplateBody < l.Body {
		l.TemplateBody = l.Body
	}
	if l.BodyMemory <= 0 {
		l.BodyMemory = d.BodyMemory
	}
	if l.BodyPerKey <= 0 {
		l.BodyPerKey = max(l.Body, l.BodyMemory/16)
	}
	if l.BodyPerClient <= 0 {
		l.BodyPerClient = max(l.Body, l.BodyMemory/8)
	}
	if l.BodyTimeout <= 0 {
		l.BodyTimeout = d.BodyTimeout
	}
	if l.BodyRate <= 0 {
		l.BodyRate = d.BodyRate
	}
	if l.AccountRate == 0 {
		l.AccountRate = d.AccountRate
	}
	if l.AccountBurst <= 0 {
		l.AccountBurst = max(1, int(l.AccountRate))
	}
	return l
}

// budget counts the body bytes held across the server, as they arrive:
// a request is charged for the buffer it has grown to hold the bytes
// received so far (see bodyReader.readUpTo), never for the length it
// announces, so that holding the budget costs a client the bytes it sends.
// take never waits: a request that does not fit is refused at once, so a
// flood of bodies queues nowhere.
//
// The access key ID of a request is known before its body is read, but
// its signature, which covers the body, only after; and key IDs are no
// secret (they are in every request, in logs and ARNs). So whoever knows
// one can send bodies in its name. Three rules keep such a client, or one
// that sends from many keys, from leaving the others without room:
//   - the bytes of large bodies (beyond Limits.Body) may use only three
//     quarters of the budget (and each key has one large body at a time,
//     largeBodies);
//   - the small-body bytes of one access key may use only
//     Limits.BodyPerKey (the head of a large body counts as small until it
//     is known to be large);
//   - those of one client address (netlimit.Client), Limits.BodyPerClient.
type budget struct {
	max, perKey, perClient int64

	mu      sync.Mutex
	used    int64
	keys    map[string]int64       // small-body bytes by access key
	clients map[netip.Prefix]int64 // small-body bytes by client
}

func newBudget(l Limits) *budget {
	return &budget{max: l.BodyMemory, perKey: l.BodyPerKey, perClient: l.BodyPerClient,
		keys: make(map[string]int64), clients: make(map[netip.Prefix]int64)}
}

// take charges n bytes of a body, of a large one's part beyond
// Limits.Body if large; its error is the throttling reply.
func (b *budget) take(n int64, key string, client netip.Prefix, large bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case large && b.used+n > b.max-b.max/4, b.used+n > b.max:
		return errBusy
	case !large && b.keys[key]+n > b.perKey:
		return errKeyBusy
	case !large && b.clients[client]+n > b.perClient:
		return errClientBusy
	}
	b.used += n
	if !large {
		b.keys[key] += n
		b.clients[client] += n
	}
	inFlight.Add(n)
	bodyBytes.Add(float64(n))
	return nil
}

// inFlight is the body bytes held by every budget of the process.
var inFlight atomic.Int64

// BodyBytes is the request body bytes the API holds at this moment, in
// all servers of the process: memory that lives only as long as its
// requests (the garbage collector's tuning leaves it out of the heap it
// lets grow, server.TuneGC).
func BodyBytes() int64 { return inFlight.Load() }

// toLarge moves n bytes charged as small to the large share: the head of
// a body found to be large, which the rule of one large body per key
// bounds from then on.
func (b *budget) toLarge(n int64, key string, client netip.Prefix) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used > b.max-b.max/4 {
		return errBusy
	}
	b.dropSmall(n, key, client)
	return nil
}

func (b *budget) dropSmall(n int64, key string, client netip.Prefix) {
	if n == 0 {
		return
	}
	if b.keys[key] -= n; b.keys[key] <= 0 {
		delete(b.keys, key)
	}
	if b.clients[client] -= n; b.clients[client] <= 0 {
		delete(b.clients, client)
	}
}

// give returns what take charged: small bytes of key and client, and
// large ones.
func (b *budget) give(small, large int64, key string, client netip.Prefix) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= small + large
	b.dropSmall(small, key, client)
	inFlight.Add(-(small + large))
	bodyBytes.Sub(float64(small + large))
}

// MinBodyMemory is the least Limits.BodyMemory that works with l's body
// sizes: large bodies may use three quarters of the budget, which must
// hold one largest body (TemplateBody; a body's buffer never grows past
// its limit), and the quarter left is the room of small calls beside it,
// with 4 MiB more to spare.
func MinBodyMemory(l Limits) int64 {
	l = l.withDefaults()
	return l.TemplateBody*4/3 + 4<<20
}

// CheckBodyMemory says, in terms of --body-memory-mib, why l.BodyMemory
// (as given: zero is too small here, not the default) is too small, if it
// is.
func CheckBodyMemory(l Limits) error {
	min := MinBodyMemory(l)
	if l.BodyMemory >= min {
		return nil
	}
	l = l.withDefaults()
	return fmt.Errorf("want at least %d MiB: the largest request body (a custom verification email template, %d MiB) must fit in the three quarters of the budget that large bodies may use, with the quarter left and 4 MiB more for the small calls beside it (%d MiB * 4/3 + 4 MiB)",
		(min+1<<20-1)>>20, l.TemplateBody>>20, l.TemplateBody>>20)
}

// accountRates are the token buckets of the accounts, made on first use:
// only authenticated accounts get one, so there are at most as many as
// accounts.
type accountRates struct {
	rate    rate.Limit
	burst   int
	buckets sync.Map // account ID -> *rate.Limiter
}

func (a *accountRates) allow(account string) bool {
	if a.rate < 0 {
		return true
	}
	l, ok := a.buckets.Load(account)
	if !ok {
		l, _ = a.buckets.LoadOrStore(account, rate.NewLimiter(a.rate, a.burst))
	}
	return l.(*rate.Limiter).Allow()
}

// largeBodies counts, per access key, the bodies beyond Limits.Body being
// read: one at a time for each key, so that a client that knows one access
// key ID (it is no secret: it is in every request and in logs), without
// its secret, cannot take the whole share of large bodies. The key is
// checked before the body is read, its signature only after.
type largeBodies struct {
	mu sync.Mutex
	n  map[string]int
}

func (l *largeBodies) take(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[key] > 0 {
		return false
	}
	if l.n == nil {
		l.n = make(map[string]int)
	}
	l.n[key]++
	return true
}

func (l *largeBodies) give(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[key]--; l.n[key] <= 0 {
		delete(l.n, key)
	}
}
