package dnsclient

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/time/rate"
)

// errBudget is a wait the rate limiter cannot fit in the lookup's budget;
// retrying will not help.
var errBudget = fmt.Errorf("lookup budget exhausted: %w", context.DeadlineExceeded)

// limiter returns the rate limiter of one authoritative server address. It
// allows no burst: queries to one server are spaced 1/RateLimit apart, or
// Sharers() times that when several processes share the limit.
func (c *Client) limiter(addr netip.AddrPort) *rate.Limiter {
	limit := c.RateLimit
	if limit <= 0 {
		limit = DefaultRateLimit
	}
	if c.Sharers != nil {
		limit /= float64(max(c.Sharers(), 1))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.limiters == nil {
		c.limiters = make(map[netip.AddrPort]*rate.Limiter)
	}
	l := c.limiters[addr]
	if l == nil {
		l = rate.NewLimiter(rate.Limit(limit), 1)
		c.limiters[addr] = l
	} else if l.Limit() != rate.Limit(limit) {
		l.SetLimit(rate.Limit(limit)) // a replica came or went
	}
	return l
}

// wait blocks until l allows one more query. A wait that would outlast
// the lookup's budget fails at once, as a timeout, rather than spend the
// budget sleeping.
func (c *Client) wait(lk lookup, l *rate.Limiter) error {
	now, sleep := time.Now, sleepCtx
	if c.now != nil {
		now, sleep = c.now, c.sleep
	}
	t := now()
	r := l.ReserveN(t, 1)
	d := r.DelayFrom(t)
	if d == 0 {
		return nil
	}
	if time.Until(lk.deadline) < d {
		r.CancelAt(now())
		return fmt.Errorf("%w: rate limit of %g queries/s would wait %v", errBudget, float64(l.Limit()), d)
	}
	if err := sleep(lk.ctx, d); err != nil {
		r.CancelAt(now())
		return err
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
