package verify

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/dnstest"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/store"
)

// running starts v.Run and stops it when the test ends.
func running(t *testing.T, v *Verifier) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- v.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// TestWake: a new identity is checked at once after its creation (the test
// allows 10 s for a loaded machine; the clock is fake, so only a wake can do it),
// through the registry's Changed hook, although Run would not poll for an
// hour; a record published later is seen at the next check of the backoff.
func TestWake(t *testing.T) {
	w := newWorld(t)
	saved := w.store.watch()
	w.reg.Changed = w.v.Wake
	running(t, w.v)

	id := w.domain(us, "example.test")
	wait(t, saved, 1, 10*time.Second)
	got, _ := w.store.GetIdentity(context.Background(), id.Key)
	if got.Verification.Status != identity.Pending || !got.Verification.LastChecked.Equal(t0) || !got.Next.Equal(t0.Add(5*time.Second)) {
		t.Fatalf("after the first check: %s, checked %v, next %v", got.Verification.Status, got.Verification.LastChecked, got.Next)
	}

	w.add(txt(id))
	w.clock.Advance(5 * time.Second)
	w.v.Wake(id.Key)
	wait(t, saved, 1, 10*time.Second)
	got, _ = w.store.GetIdentity(context.Background(), id.Key)
	if got.Verification.Status != identity.Success {
		t.Errorf("at the second check: %s %q", got.Verification.Status, got.Verification.Detail)
	}

	// A wake for an identity that is not due does nothing.
	w.v.Wake(id.Key)
	w.v.Wake(identity.Key{Account: "1", Region: "r", Name: "unknown.test"})
	w.clock.Advance(time.Minute)
	other := w.domain(scope("222222222222", "us-east-1"), "example.test")
	w.v.Wake(other.Key)
	if k := wait(t, saved, 1, 10*time.Second)[0]; k != other.Key {
		t.Errorf("checked %v, want only the due identity %v", k, other.Key)
	}
}

// TestRestart: identities due when the process stopped, or leased by a
// process that died, are checked after a restart; nothing is lost.
func TestRestart(t *testing.T) {
	w := newWorld(t)
	var keys []identity.Key
	for i := range 20 {
		id := w.domain(scope(fmt.Sprintf("%012d", i), "us-east-1"), "example.test")
		keys = append(keys, id.Key)
		w.add(txt(id)) // verified at the first check: not due again for an hour
	}
	// A verifier that claimed five and died: their lease is 2 minutes.
	claimed, err := w.store.ClaimDue(context.Background(), t0, t0.Add(2*time.Minute), 5)
	if err != nil || len(claimed) != 5 {
		t.Fatalf("claim: %d, %v", len(claimed), err)
	}
	w.store.Close()

	st := w.openStore()
	saved := st.watch()
	v := w.verifier(st)
	v.Poll = 10 * time.Millisecond
	running(t, v)
	got := wait(t, saved, 15, 5*time.Second)
	w.clock.Advance(2 * time.Minute)
	got = append(got, wait(t, saved, 5, 5*time.Second)...)

	seen := map[identity.Key]int{}
	for _, k := range got {
		seen[k]++
	}
	for _, k := range keys {
		if seen[k] != 1 {
			t.Errorf("%s checked %d times", k.Account, seen[k])
		}
	}
	for _, c := range claimed {
		id, _ := st.GetIdentity(context.Background(), c.Key)
		if !id.Verification.LastChecked.Equal(t0.Add(2 * time.Minute)) {
			t.Errorf("%s, leased by the dead verifier, checked at %v, want when its lease ran out", c.Account, id.Verification.LastChecked)
		}
	}
}

// TestNoDoubleCheck: two verifiers on one database, as two processes,
// check each due identity once.
func TestNoDoubleCheck(t *testing.T) {
	w := newWorld(t)
	const n = 40
	for i := range n {
		w.domain(scope(fmt.Sprintf("%012d", i), "us-east-1"), "example.test")
	}
	a := w.store
	b := w.openStore() // a second connection pool, as another process has
	sa, sb := a.watch(), b.watch()
	va, vb := w.verifier(a), w.verifier(b)
	va.Poll, vb.Poll = 5*time.Millisecond, 5*time.Millisecond
	va.Concurrency, vb.Concurrency = 4, 4
	running(t, va)
	running(t, vb)

	seen := map[identity.Key]int{}
	timeout := time.After(10 * time.Second)
	for total := 0; total < n; total++ {
		select {
		case k := <-sa:
			seen[k]++
		case k := <-sb:
			seen[k]++
		case <-timeout:
			t.Fatalf("%d of %d identities checked", total, n)
		}
	}
	for k, c := range seen {
		if c != 1 {
			t.Errorf("%s checked %d times", k.Account, c)
		}
	}
	// Each check asks each server once about _amazonses.example.test TXT.
	asked := 0
	for _, q := range w.ns1.Queries() {
		if strings.EqualFold(q.Name, "_amazonses.example.test.") && q.Type == dns.TypeTXT {
			asked++
		}
	}
	if asked != n {
		t.Errorf("ns1 asked %d times about the TXT record, want %d", asked, n)
	}
}

// TestRateLimit: under concurrency, the verifier keeps to the per-server
// query rate. The bound is one-sided: a slow machine can only make the
// count smaller than rate × elapsed, so the test fails only if the limit is
// broken (without it, the queries go out in a few milliseconds).
func TestRateLimit(t *testing.T) {
	w := newWorld(t)
	const rate = 100
	w.v.DNS.RateLimit = rate
	w.v.DNS.Budget = 30 * time.Second
	w.v.Concurrency = 16
	w.v.Poll = 10 * time.Millisecond
	var keys []identity.Key
	for i := range 24 {
		id := w.dkimDomain(scope(fmt.Sprintf("%012d", i), "us-east-1"), "example.test")
		keys = append(keys, id.Key)
	}
	saved := w.store.watch()
	start := time.Now()
	running(t, w.v)
	wait(t, saved, len(keys), 20*time.Second)
	elapsed := time.Since(start)

	for _, s := range []*struct {
		name    string
		queries int
	}{{"ns1", len(w.ns1.Queries())}, {"ns2", len(w.ns2.Queries())}} {
		if limit := 1 + int(rate*elapsed.Seconds()); s.queries > limit {
			t.Errorf("%s got %d queries in %v: more than %d/s", s.name, s.queries, elapsed, rate)
		}
		if s.queries < len(keys)*5 {
			t.Errorf("%s got %d queries, want at least 5 per identity", s.name, s.queries)
		}
	}
	t.Logf("%d queries to ns1 in %v", len(w.ns1.Queries()), elapsed)
}

// TestCheckNowConcurrent: concurrent CheckNow calls on one identity each
// check and save, none lost.
func TestCheckNowConcurrent(t *testing.T) {
	w := newWorld(t)
	id := w.dkimDomain(us, "example.test")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := w.v.CheckNow(context.Background(), id.Key); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// Four checks of 1 TXT (+ apex) and 3 CNAMEs, plus the SOA, each on
	// its own, never merged or lost.
	recs, _ := w.store.ListChecks(context.Background(), id.Key, store.MaxChecks)
	at := map[string]int{}
	for _, r := range recs {
		at[r.Check]++
	}
	if at["verification"] != 4*4 || at["dkim"] != 4*6 {
		t.Errorf("evidence of 4 checks: %v", at)
	}
}

// claimStore tells when Run has claimed identities.
type claimStore struct {
	store.Store
	claimed chan int
}

func (s *claimStore) ClaimDue(ctx context.Context, now, until time.Time, limit int) ([]*identity.Identity, error) {
	ids, err := s.Store.ClaimDue(ctx, now, until, limit)
	if len(ids) > 0 {
		s.claimed <- len(ids)
	}
	return ids, err
}

// TestStopGivesBackLeases: identities claimed but not checked when Run
// stops, queued or cut short, are due again at once, not when their
// leases run out.
func TestStopGivesBackLeases(t *testing.T) {
	w := newWorld(t)
	for i := range 10 {
		w.domain(scope(fmt.Sprintf("%012d", i), "us-east-1"), "example.test")
	}
	w.ns1.SetFault(dnstest.Drop) // checks hang until stopped
	w.ns2.SetFault(dnstest.Drop)
	cs := &claimStore{Store: w.store, claimed: make(chan int, 10)}
	v := w.verifier(cs)
	v.Concurrency = 2
	v.DNS.Timeout, v.DNS.Budget = time.Minute, time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- v.Run(ctx) }()
	if n := <-cs.claimed; n != 8 {
		t.Errorf("claimed %d, want a batch of 4 × Concurrency", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	due, err := w.store.DueIdentities(context.Background(), t0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 10 {
		t.Errorf("%d of 10 identities due after Run stopped, want all", len(due))
	}
	for _, id := range due {
		if !id.Verification.LastChecked.IsZero() {
			t.Errorf("%s: a canceled check was applied", id.Account)
		}
	}
}
