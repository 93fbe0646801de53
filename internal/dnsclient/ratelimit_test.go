package dnsclient

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// fakeClock stops the rate limiter's time, so every wait it asks for is
// what the limit alone requires, and records the waits instead of sleeping.
type fakeClock struct {
	waits []time.Duration
}

func (f *fakeClock) install(c *Client) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return t0 }
	c.sleep = func(_ context.Context, d time.Duration) error {
		f.waits = append(f.waits, d)
		return nil
	}
}

func TestRateLimit(t *testing.T) {
	w := newWorld(t)
	w.c.RateLimit = 5
	var clock fakeClock
	clock.install(w.c)

	for range 4 {
		if r := w.c.Query(context.Background(), ns1, "_amazonses.example.test", dns.TypeTXT); r.Outcome != Answer {
			t.Fatalf("outcome %v: %v", r.Outcome, r.Err)
		}
	}
	// The first query goes at once; at 5/s each further one waits 200ms
	// more than the one before, the time does not pass.
	want := []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 600 * time.Millisecond}
	if !slices.Equal(clock.waits, want) {
		t.Errorf("waits %v, want %v", clock.waits, want)
	}

	// Another server has its own limit.
	clock.waits = nil
	w.c.Query(context.Background(), ns2, "_amazonses.example.test", dns.TypeTXT)
	if len(clock.waits) != 0 {
		t.Errorf("first query to ns2 waited %v", clock.waits)
	}
	if n := len(w.c.limiters); n != 2 {
		t.Errorf("%d limiters, want one per server address", n)
	}
}

func TestRateLimitBudget(t *testing.T) {
	w := newWorld(t)
	w.c.RateLimit = 0.1 // one query per 10 s
	w.c.Budget = time.Second
	var clock fakeClock
	clock.install(w.c)

	if r := w.c.Query(context.Background(), ns1, "_amazonses.example.test", dns.TypeTXT); r.Outcome != Answer {
		t.Fatalf("first query: %v: %v", r.Outcome, r.Err)
	}
	r := w.c.Query(context.Background(), ns1, "_amazonses.example.test", dns.TypeTXT)
	if r.Outcome != Timeout || !errors.Is(r.Err, context.DeadlineExceeded) {
		t.Errorf("second query: %v %v, want Timeout", r.Outcome, r.Err)
	}
	if len(clock.waits) != 0 {
		t.Errorf("waited %v for a query that cannot fit in the budget", clock.waits)
	}
	if n := len(w.ns1.Queries()); n != 1 {
		t.Errorf("ns1 asked %d times, want 1", n)
	}
}

// TestRateLimitShared: with two processes sharing the limit, each keeps to
// half of it, and to all of it again when the other goes.
func TestRateLimitShared(t *testing.T) {
	w := newWorld(t)
	w.c.RateLimit = 5
	sharers := 2
	w.c.Sharers = func() int { return sharers }
	var clock fakeClock
	clock.install(w.c)
	for range 3 {
		w.c.Query(context.Background(), ns1, "_amazonses.example.test", dns.TypeTXT)
	}
	if want := []time.Duration{400 * time.Millisecond, 800 * time.Millisecond}; !slices.Equal(clock.waits, want) {
		t.Errorf("two sharers: waits %v, want %v (2.5/s)", clock.waits, want)
	}
	sharers = 1
	clock.waits = nil
	w.c.Query(context.Background(), ns2, "_amazonses.example.test", dns.TypeTXT)
	w.c.Query(context.Background(), ns2, "_amazonses.example.test", dns.TypeTXT)
	if want := []time.Duration{200 * time.Millisecond}; !slices.Equal(clock.waits, want) {
		t.Errorf("alone: waits %v, want %v (5/s)", clock.waits, want)
	}
}
