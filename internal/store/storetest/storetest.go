// Package storetest is the suite every store.Store implementation passes.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/store"
)

// Run runs the suite; newStore returns an empty store, closed by the test.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("Identities", func(t *testing.T) { testIdentities(t, newStore(t)) })
	t.Run("Import", func(t *testing.T) { testImport(t, newStore(t)) })
	t.Run("List", func(t *testing.T) { testList(t, newStore(t)) })
	t.Run("Due", func(t *testing.T) { testDue(t, newStore(t)) })
	t.Run("ConcurrentUpdates", func(t *testing.T) { testConcurrent(t, newStore(t)) })
	t.Run("ConcurrentCreates", func(t *testing.T) { testConcurrentCreates(t, newStore(t)) })
	t.Run("ConcurrentWriters", func(t *testing.T) { testConcurrentWriters(t, newStore(t)) })
	t.Run("Claim", func(t *testing.T) { testClaim(t, newStore(t)) })
	t.Run("Checks", func(t *testing.T) { testChecks(t, newStore(t)) })
	t.Run("Accounts", func(t *testing.T) { testAccounts(t, newStore(t)) })
	t.Run("Mail", func(t *testing.T) { testMail(t, newStore) })
	t.Run("ClaimMessages", func(t *testing.T) { testClaimMessages(t, newStore(t)) })
	t.Run("Sessions", func(t *testing.T) { testSessions(t, newStore(t)) })
	t.Run("ConfigSets", func(t *testing.T) { testConfigSets(t, newStore(t)) })
	t.Run("IdentitySettings", func(t *testing.T) { testIdentitySettings(t, newStore(t)) })
	t.Run("Sending", func(t *testing.T) { testSending(t, newStore) })
	t.Run("DKIMKeys", func(t *testing.T) { testDKIMKeys(t, newStore(t)) })
}

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func domain(acct, region, name string) *identity.Identity {
	id := &identity.Identity{
		Key:     identity.Key{Account: acct, Region: region, Name: name},
		Kind:    names.KindDomain,
		Created: t0,
		Token:   identity.NewVerificationToken(),
		DKIM:    identity.DKIM{Enabled: true, Tokens: identity.NewDKIMTokens()},
	}
	id.Verification.Start(t0)
	id.DKIM.Check.Start(t0)
	return id
}

func put(t *testing.T, s store.Store, id *identity.Identity) {
	t.Helper()
	if _, err := s.UpdateIdentity(context.Background(), id.Key, func(*identity.Identity) (*identity.Identity, error) { return id, nil }); err != nil {
		t.Fatal(err)
	}
}

func testIdentities(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := domain("111111111111", "us-east-1", "example.com")
	a.Verification.SOA = &identity.SOA{PrimaryNameServer: "ns1.example.com", SerialNumber: 7}
	a.Tags = []identity.Tag{{Key: "team", Value: "ops"}}
	put(t, s, a)
	// The same name in another region and another account is another identity.
	b := domain("111111111111", "eu-west-1", "example.com")
	c := domain("222222222222", "us-east-1", "example.com")
	put(t, s, b)
	put(t, s, c)

	got, err := s.GetIdentity(ctx, a.Key)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(a, got); d != "" {
		t.Errorf("GetIdentity (-want +got):\n%s", d)
	}
	if _, err := s.GetIdentity(ctx, identity.Key{Account: "111111111111", Region: "us-east-2", Name: "example.com"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown identity: err = %v, want ErrNotFound", err)
	}
	m, err := s.GetIdentities(ctx, "111111111111", "us-east-1", []string{"example.com", "nope.example", "x@example.com"})
	if err != nil || len(m) != 1 || m["example.com"].Token != a.Token {
		t.Errorf("GetIdentities = %v, %v", m, err)
	}
	if n, err := s.CountAccountIdentities(ctx, "111111111111", ""); n != 2 || err != nil {
		t.Errorf("CountAccountIdentities in all regions = %d, %v; want 2 (us-east-1 and eu-west-1)", n, err)
	}

	// fn's error aborts, and nothing changes.
	boom := errors.New("boom")
	if _, err := s.UpdateIdentity(ctx, a.Key, func(cur *identity.Identity) (*identity.Identity, error) {
		cur.Token = "changed"
		return cur, boom
	}); !errors.Is(err, boom) {
		t.Errorf("UpdateIdentity error = %v, want boom", err)
	}
	if got, _ := s.GetIdentity(ctx, a.Key); got.Token != a.Token {
		t.Error("a failed update changed the identity")
	}
	// A nil result leaves the store unchanged.
	if got, err := s.UpdateIdentity(ctx, a.Key, func(cur *identity.Identity) (*identity.Identity, error) { return nil, nil }); err != nil || got.Token != a.Token {
		t.Errorf("no-op update = %v, %v", got, err)
	}
	if _, err := s.UpdateIdentity(ctx, identity.Key{Account: "1", Region: "r", Name: "n"}, func(cur *identity.Identity) (*identity.Identity, error) {
		if cur != nil {
			t.Error("cur of a missing identity is not nil")
		}
		return nil, nil
	}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("no-op update of a missing identity: %v", err)
	}

	ok, err := s.DeleteIdentity(ctx, a.Key)
	if !ok || err != nil {
		t.Errorf("DeleteIdentity = %v, %v", ok, err)
	}
	if ok, _ := s.DeleteIdentity(ctx, a.Key); ok {
		t.Error("deleted twice")
	}
	if _, err := s.GetIdentity(ctx, b.Key); err != nil {
		t.Errorf("deleting one region's identity touched another: %v", err)
	}
	if n, err := s.CountAccountIdentities(ctx, "111111111111", "eu-west-1"); n != 1 || err != nil {
		t.Errorf("CountAccountIdentities = %d, %v", n, err)
	}

	counts, err := s.CountIdentities(ctx)
	if err != nil || len(counts) != 1 || counts[0].N != 2 || counts[0].Status != identity.Pending || counts[0].Kind != names.KindDomain {
		t.Errorf("CountIdentities = %+v, %v", counts, err)
	}
}

// testSessions: a signed-out session is revoked, no other one is.
func testSessions(t *testing.T, s store.Store) {
	ctx := context.Background()
	if err := s.RevokeSession(ctx, "gone", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]bool{"gone": true, "live": false, "": false} {
		if got, err := s.SessionRevoked(ctx, id); err != nil || got != want {
			t.Errorf("SessionRevoked(%q) = %v, %v; want %v", id, got, err, want)
		}
	}
}

// testImport: Import adds identities and replaces those with the same key.
func testImport(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := domain("111111111111", "us-east-1", "a.example"), domain("111111111111", "us-east-1", "b.example")
	put(t, s, a)
	if _, err := s.GetIdentity(ctx, a.Key); err != nil { // a cache in front now holds it
		t.Fatal(err)
	}
	a2 := a.Clone()
	a2.Token = "replaced"
	if err := s.Import(ctx, []*identity.Identity{a2, b}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []*identity.Identity{a2, b} {
		got, err := s.GetIdentity(ctx, want.Key)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("after Import, GetIdentity(%s) (-want +got):\n%s", want.Name, d)
		}
	}
	if n, err := s.CountAccountIdentities(ctx, "111111111111", "us-east-1"); n != 2 || err != nil {
		t.Errorf("CountAccountIdentities = %d, %v; want 2", n, err)
	}
}

func testList(t *testing.T, s store.Store) {
	ctx := context.Background()
	var want []string
	for i := range 25 {
		d := domain("111111111111", "us-east-1", fmt.Sprintf("d%02d.example", i))
		put(t, s, d)
		want = append(want, d.Name)
		e := &identity.Identity{Key: identity.Key{Account: "111111111111", Region: "us-east-1", Name: fmt.Sprintf("u%02d@example.com", i)}, Kind: names.KindEmail}
		put(t, s, e)
	}
	put(t, s, domain("222222222222", "us-east-1", "other.example"))
	var got []string
	after := ""
	for {
		page, err := s.ListIdentities(ctx, store.ListQuery{Account: "111111111111", Region: "us-east-1", Kind: names.KindDomain, After: after, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range page {
			got = append(got, id.Name)
		}
		if len(page) < 10 {
			break
		}
		after = page[len(page)-1].Name
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("paged list (-want +got):\n%s", d)
	}
	all, _ := s.ListIdentities(ctx, store.ListQuery{Account: "111111111111", Region: "us-east-1", Limit: 1000})
	if len(all) != 50 {
		t.Errorf("list of every kind: %d identities, want 50", len(all))
	}
}

func testDue(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i, off := range []time.Duration{3 * time.Second, time.Second, 0, 2 * time.Second} {
		d := domain("111111111111", "us-east-1", fmt.Sprintf("d%d.example", i))
		if off != 0 {
			d.Next = t0.Add(off)
		}
		put(t, s, d)
	}
	due, err := s.DueIdentities(ctx, t0.Add(2*time.Second), 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range due {
		got = append(got, d.Name)
	}
	if d := cmp.Diff([]string{"d1.example", "d3.example"}, got); d != "" {
		t.Errorf("due (-want +got):\n%s", d)
	}
}

func testConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	d := domain("111111111111", "us-east-1", "example.com")
	put(t, s, d)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.UpdateIdentity(ctx, d.Key, func(cur *identity.Identity) (*identity.Identity, error) {
				cur.Tags = append(cur.Tags, identity.Tag{Key: "k"})
				return cur, nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, _ := s.GetIdentity(ctx, d.Key)
	if len(got.Tags) != 20 {
		t.Errorf("%d of 20 concurrent updates kept", len(got.Tags))
	}
}

// testConcurrentCreates: updates of identities that do not exist yet,
// started at once, each creating the identity if it finds none and adding
// a tag to it: the first creates it, every other one sees the writes
// before it, none is lost (a store that locks only rows that exist lets
// two of them both find none and the second overwrite the first).
func testConcurrentCreates(t *testing.T, s store.Store) {
	ctx := context.Background()
	const ids, writers = 8, 8
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range ids {
		name := fmt.Sprintf("new%d.example.com", i)
		for w := range writers {
			wg.Go(func() {
				<-start
				_, err := s.UpdateIdentity(ctx, identity.Key{Account: "111111111111", Region: "us-east-1", Name: name},
					func(cur *identity.Identity) (*identity.Identity, error) {
						if cur == nil {
							cur = domain("111111111111", "us-east-1", name)
						}
						cur.Tags = append(cur.Tags, identity.Tag{Key: fmt.Sprint(w)})
						return cur, nil
					})
				if err != nil {
					t.Error(err)
				}
			})
		}
	}
	close(start)
	wg.Wait()
	for i := range ids {
		k := identity.Key{Account: "111111111111", Region: "us-east-1", Name: fmt.Sprintf("new%d.example.com", i)}
		got, err := s.GetIdentity(ctx, k)
		if err != nil {
			t.Fatalf("%s: %v", k.Name, err)
		}
		if len(got.Tags) != writers {
			t.Errorf("%s: %d of %d concurrent creating updates kept", k.Name, len(got.Tags), writers)
		}
	}
}

// testConcurrentWriters: updates that create or change identities,
// deletions and the verifier's batches of checks (several identities in
// one transaction, in an order of their own), all at once on the same few
// identities, some there at the start and some not: every write succeeds
// and what is left reads back. Locks taken in orders that can wait on each
// other in a cycle fail here when the deadlocks outnumber the store's
// retries (on PostgreSQL, SaveChecks without its advisory locks and no
// retries does; the store as it is had none in 8 runs without retries).
func testConcurrentWriters(t *testing.T, s store.Store) {
	ctx := context.Background()
	const n = 6
	keys := make([]identity.Key, n)
	for i := range keys {
		keys[i] = identity.Key{Account: "111111111111", Region: "us-east-1", Name: fmt.Sprintf("w%d.example.com", i)}
		if i%2 == 0 {
			put(t, s, domain(keys[i].Account, keys[i].Region, keys[i].Name))
		}
	}
	touch := func(cur *identity.Identity) *identity.Identity {
		if cur == nil {
			return nil
		}
		cur.Verification.LastChecked = cur.Verification.LastChecked.Add(time.Second)
		return cur
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 { // updaters, creating what is not there
		wg.Go(func() {
			<-start
			for i := range 30 {
				k := keys[(w+i)%n]
				_, err := s.UpdateIdentity(ctx, k, func(cur *identity.Identity) (*identity.Identity, error) {
					if cur == nil {
						cur = domain(k.Account, k.Region, k.Name)
					}
					cur.Tags = append(cur.Tags, identity.Tag{Key: fmt.Sprint(w, i)})
					return cur, nil
				})
				if err != nil {
					t.Errorf("update %s: %v", k.Name, err)
					return
				}
			}
		})
	}
	for w := range 2 { // deleters
		wg.Go(func() {
			<-start
			for i := range 10 {
				if _, err := s.DeleteIdentity(ctx, keys[(3*w+5*i)%n]); err != nil {
					t.Errorf("delete: %v", err)
					return
				}
			}
		})
	}
	for w := range 2 { // the verifier's batches, each in another order
		wg.Go(func() {
			<-start
			for i := range 15 {
				var ups []store.CheckUpdate
				for j := range n {
					k := keys[(j*(2*w+1)+i)%n]
					ups = append(ups, store.CheckUpdate{Key: k, Apply: touch, Checks: []store.CheckRecord{rec(t0.Add(time.Duration(i)*time.Second), "verification", i)}})
				}
				if err := s.SaveChecks(ctx, ups); err != nil {
					t.Errorf("save checks: %v", err)
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	for _, k := range keys {
		id, err := s.GetIdentity(ctx, k)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", k.Name, err)
		}
		if id.Key != k {
			t.Errorf("%s read back as %v", k.Name, id.Key)
		}
		if _, err := s.ListChecks(ctx, k, 5); err != nil {
			t.Errorf("%s: checks: %v", k.Name, err)
		}
	}
}

func testAccounts(t *testing.T, s store.Store) {
	ctx := context.Background()
	g0, err := s.Generation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a := store.Account{ID: "123456789012", Name: "ops", Created: t0}
	k := store.AccessKey{ID: "AKIAAAAAAAAAAAAAAAAA", Account: a.ID, SealedSecret: []byte{1, 2, 3}, Created: t0}
	if err := s.CreateAccount(ctx, a, k); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAccount(ctx, store.Account{ID: "999999999999", Name: "ops", Created: t0}, store.AccessKey{ID: "AKIAB", Account: "999999999999"}); !errors.Is(err, store.ErrExists) {
		t.Errorf("duplicate account name: %v, want ErrExists", err)
	}
	for _, q := range []string{a.ID, a.Name} {
		if got, err := s.GetAccount(ctx, q); err != nil || *got != a {
			t.Errorf("GetAccount(%q) = %+v, %v", q, got, err)
		}
	}
	k2 := store.AccessKey{ID: "AKIABBBBBBBBBBBBBBBB", Account: a.ID, SealedSecret: []byte{4}, Created: t0.Add(time.Second)}
	if err := s.AddKey(ctx, k2); err != nil {
		t.Fatal(err)
	}
	if err := s.AddKey(ctx, store.AccessKey{ID: "AKIAC", Account: "000000000000"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("key for a missing account: %v", err)
	}
	if err := s.RevokeKey(ctx, k.ID, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeKey(ctx, "AKIANOPE", t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoke unknown key: %v", err)
	}
	got, err := s.GetKey(ctx, k.ID)
	if err != nil || !got.Revoked.Equal(t0.Add(time.Hour)) || string(got.SealedSecret) != "\x01\x02\x03" {
		t.Errorf("GetKey = %+v, %v", got, err)
	}
	keys, _ := s.ListKeys(ctx, a.ID)
	if len(keys) != 2 || keys[1].ID != k2.ID || !keys[1].Revoked.IsZero() {
		t.Errorf("ListKeys = %+v", keys)
	}
	if _, err := s.GetKey(ctx, "AKIANOPE"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown key: %v", err)
	}
	accts, _ := s.ListAccounts(ctx)
	if len(accts) != 1 {
		t.Errorf("ListAccounts = %+v", accts)
	}
	if g, _ := s.Generation(ctx); g <= g0 {
		t.Errorf("generation did not move: %d -> %d", g0, g)
	}
}
