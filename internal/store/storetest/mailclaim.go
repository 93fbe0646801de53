package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame/sesame/internal/store"
)

// testClaimMessages: due queued messages are leased earliest first, a
// leased one is not due again until its lease ends, and concurrent
// claimers (replicas) never get one message twice.
func testClaimMessages(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i, off := range []time.Duration{3 * time.Second, time.Second, 0, -time.Second} {
		m := message(fmt.Sprintf("m%d", i), userKey, t0, store.Queued)
		m.NextAttempt = t0.Add(off)
		if err := s.AddMessage(ctx, m, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	local := message("local", userKey, t0, store.Local)
	if err := s.AddMessage(ctx, local, nil, nil); err != nil {
		t.Fatal(err)
	}
	lease := t0.Add(10 * time.Minute)
	got, err := s.ClaimMessages(ctx, t0.Add(time.Second), lease, 2)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range got {
		ids = append(ids, m.ID)
		if !m.NextAttempt.Equal(lease) || m.Status != store.Queued || string(m.Raw) != string(local.Raw) {
			t.Errorf("%s: claimed as %s, NextAttempt %v, raw %q; want queued, the lease end %v, the message", m.ID, m.Status, m.NextAttempt, m.Raw, lease)
		}
	}
	if d := cmp.Diff([]string{"m3", "m2"}, ids); d != "" {
		t.Errorf("claimed, earliest first (-want +got):\n%s", d)
	}
	if stored, _ := s.GetMessage(ctx, "m3"); !stored.NextAttempt.Equal(lease) {
		t.Errorf("stored NextAttempt %v, want the lease end", stored.NextAttempt)
	}
	again, _ := s.ClaimMessages(ctx, t0.Add(time.Second), lease, 10)
	if len(again) != 1 || again[0].ID != "m1" {
		t.Errorf("second claim = %v, want only m1", again)
	}
	if none, _ := s.ClaimMessages(ctx, t0.Add(time.Second), lease, 10); len(none) != 0 {
		t.Errorf("third claim = %d messages, want none", len(none))
	}
	// The lease ends: the messages are due again (the process that held
	// them died), the local one never.
	if late, _ := s.ClaimMessages(ctx, lease, lease.Add(time.Minute), 10); len(late) != 4 {
		t.Errorf("%d messages claimed when the leases end, want 4", len(late))
	}
	// Recorded as sent, a message is claimed no more.
	m := got[0]
	m.Status, m.Attempts, m.NextAttempt, m.Done = store.Sent, 1, time.Time{}, t0
	if err := s.UpdateMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"m0", "m1", "m2"} {
		done, _ := s.GetMessage(ctx, m)
		done.Status, done.NextAttempt = store.Sent, time.Time{}
		if err := s.UpdateMessage(ctx, done); err != nil {
			t.Fatal(err)
		}
	}
	if after, _ := s.ClaimMessages(ctx, lease.Add(time.Hour), lease.Add(2*time.Hour), 10); len(after) != 0 {
		t.Errorf("%d sent messages claimed, want none", len(after))
	}

	// Concurrent claimers never get the same message.
	for i := range 40 {
		m := message(fmt.Sprintf("c%02d", i), userKey, t0, store.Queued)
		m.NextAttempt = t0
		if err := s.AddMessage(ctx, m, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			for {
				ms, err := s.ClaimMessages(ctx, t0, lease, 2)
				if err != nil {
					t.Error(err)
					return
				}
				if len(ms) == 0 {
					return
				}
				mu.Lock()
				for _, m := range ms {
					seen[m.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 40 {
		t.Errorf("%d messages claimed, want 40", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s claimed %d times", id, n)
		}
	}
}
