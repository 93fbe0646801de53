package api

import (
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
	BodyMemory int64
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

// budget counts the body bytes held across the server. take never waits:
// a request that does not fit is refused at once, so a flood of bodies
// queues nowhere. The bytes of large bodies (beyond Limits.Body) may use
// only three quarters of it: a few template uploads, or a client that
// knows an access key ID and sends large bodies slowly, cannot leave the
// other calls without room.
type budget struct {
	used atomic.Int64
	max  int64
}

func (b *budget) take(n int64, large bool) bool {
	limit := b.max
	if large {
		limit -= b.max / 4
	}
	if b.used.Add(n) > limit {
		b.used.Add(-n)
		return false
	}
	bodyBytes.Add(float64(n))
	return true
}

func (b *budget) give(n int64) {
	b.used.Add(-n)
	bodyBytes.Sub(float64(n))
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
