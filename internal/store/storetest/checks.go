package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/store"
)

func testClaim(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i, off := range []time.Duration{3 * time.Second, time.Second, 0, 2 * time.Second, -time.Second} {
		d := domain("111111111111", "us-east-1", fmt.Sprintf("d%d.example", i))
		if off != 0 {
			d.Next = t0.Add(off)
		}
		put(t, s, d)
	}
	lease := t0.Add(2 * time.Minute)
	got, err := s.ClaimDue(ctx, t0.Add(2*time.Second), lease, 2)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, id := range got {
		names = append(names, id.Name)
		if !id.Next.Equal(lease) {
			t.Errorf("%s: claimed with Next %v, want the lease end %v", id.Name, id.Next, lease)
		}
	}
	if d := cmp.Diff([]string{"d4.example", "d1.example"}, names); d != "" {
		t.Errorf("claimed, earliest first (-want +got):\n%s", d)
	}
	if stored, _ := s.GetIdentity(ctx, got[0].Key); !stored.Next.Equal(lease) {
		t.Errorf("stored Next %v, want the lease end", stored.Next)
	}
	// A leased identity is not due again until the lease ends.
	again, _ := s.ClaimDue(ctx, t0.Add(2*time.Second), lease, 10)
	if len(again) != 1 || again[0].Name != "d3.example" {
		t.Errorf("second claim = %v, want only d3.example", again)
	}
	if late, _ := s.DueIdentities(ctx, lease, 10); len(late) != 4 {
		t.Errorf("%d identities due when the leases end, want 4", len(late))
	}

	// Concurrent claimers never get the same identity.
	for i := range 50 {
		d := domain("222222222222", "us-east-1", fmt.Sprintf("c%02d.example", i))
		d.Next = t0
		put(t, s, d)
	}
	var mu sync.Mutex
	seen := map[identity.Key]int{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				ids, err := s.ClaimDue(ctx, t0, lease, 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(ids) == 0 {
					return
				}
				mu.Lock()
				for _, id := range ids {
					seen[id.Key]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 50 {
		t.Errorf("%d of 50 identities claimed", len(seen))
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s claimed %d times", k.Name, n)
		}
	}
}

func rec(at time.Time, check string, i int) store.CheckRecord {
	return store.CheckRecord{
		At: at, Check: check, Server: "ns1.example.com. 192.0.2.1",
		Query:    "dig @192.0.2.1 -p 53 +norecurse _amazonses.example.com. TXT",
		Answer:   []string{";; status: NOERROR, flags: qr aa", fmt.Sprintf(`_amazonses.example.com.	300	IN	TXT	"v%d"`, i)},
		Expected: `_amazonses.example.com. TXT "tok"`, Outcome: "mismatch", TTL: 300 * time.Second, Detail: fmt.Sprint(i),
	}
}

func testChecks(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := domain("111111111111", "us-east-1", "example.com")
	b := domain("111111111111", "eu-west-1", "example.com")
	put(t, s, a)
	put(t, s, b)

	touch := func(cur *identity.Identity) *identity.Identity {
		if cur == nil {
			return nil
		}
		cur.Verification.LastChecked = t0.Add(time.Minute)
		return cur
	}
	first := rec(t0, "verification", 0)
	err := s.SaveChecks(ctx, []store.CheckUpdate{
		{Key: a.Key, Apply: touch, Checks: []store.CheckRecord{first, rec(t0, "dkim", 1)}},
		{Key: b.Key, Apply: func(*identity.Identity) *identity.Identity { return nil }, Checks: []store.CheckRecord{rec(t0, "verification", 2)}},
		{Key: identity.Key{Account: "1", Region: "r", Name: "gone.example"}, Apply: touch, Checks: []store.CheckRecord{rec(t0, "verification", 3)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.ListChecks(ctx, a.Key, 10)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]store.CheckRecord{rec(t0, "dkim", 1), first}, got); d != "" {
		t.Errorf("timeline, newest first (-want +got):\n%s", d)
	}
	if id, _ := s.GetIdentity(ctx, a.Key); !id.Verification.LastChecked.Equal(t0.Add(time.Minute)) {
		t.Error("SaveChecks did not store what Apply returned")
	}
	if got, _ := s.ListChecks(ctx, b.Key, 10); len(got) != 0 {
		t.Errorf("Apply returned nil, yet %d records were appended", len(got))
	}
	if got, _ := s.ListChecks(ctx, identity.Key{Account: "1", Region: "r", Name: "gone.example"}, 10); len(got) != 0 {
		t.Errorf("records appended to an identity that does not exist: %v", got)
	}

	// Only the last MaxChecks are kept.
	for i := range store.MaxChecks/10 + 5 {
		var recs []store.CheckRecord
		for j := range 10 {
			recs = append(recs, rec(t0.Add(time.Duration(i)*time.Hour), "verification", 10+i*10+j))
		}
		if err := s.SaveChecks(ctx, []store.CheckUpdate{{Key: a.Key, Apply: touch, Checks: recs}}); err != nil {
			t.Fatal(err)
		}
	}
	all, _ := s.ListChecks(ctx, a.Key, 1000)
	if len(all) != store.MaxChecks {
		t.Errorf("%d records kept, want %d", len(all), store.MaxChecks)
	}
	last := 10 + (store.MaxChecks/10+5)*10 - 1
	if all[0].Detail != fmt.Sprint(last) || all[len(all)-1].Detail != fmt.Sprint(last-store.MaxChecks+1) {
		t.Errorf("kept %s..%s, want the newest %d..%d", all[len(all)-1].Detail, all[0].Detail, last-store.MaxChecks+1, last)
	}
	if got, _ := s.ListChecks(ctx, a.Key, 3); len(got) != 3 {
		t.Errorf("limit 3 gave %d records", len(got))
	}

	// Deleting an identity deletes its timeline; a new identity of the
	// same name starts with none.
	if _, err := s.DeleteIdentity(ctx, a.Key); err != nil {
		t.Fatal(err)
	}
	put(t, s, a)
	if got, _ := s.ListChecks(ctx, a.Key, 10); len(got) != 0 {
		t.Errorf("%d records outlived their identity", len(got))
	}
}
